"""A project's webhook reaches a real HTTP server, signed, and is tried again with
back-off when the server first fails."""

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from generation import runs
from generation.models import DeliveryStatus, GenerationRun, WebhookDelivery
from tests.conftest import wait_for


class Receiver:
    """A local HTTP server that answers the given statuses in turn, then 200."""

    def __init__(self, statuses: list[int]):
        self.statuses = list(statuses)
        self.calls: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls.append((dict(self.headers), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver([500])
    yield r
    r.close()


def valid(secret: str, headers: dict[str, str], body: bytes) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers["X-Storyboard-Signature"], expected)


@pytest.mark.worker
def test_it_calls_the_webhook_signed_and_tries_again_after_a_500(
    worker_factory, make_project, receiver, client
):
    worker_factory(WEBHOOK_RETRY_SECONDS="0.3").start()
    project = make_project(2)
    r = client.post(
        f"/projects/{project.id}/settings/",
        {
            "name": project.name,
            "language": "en",
            "width": 1280,
            "height": 720,
            "fps": 24,
            "preset": "draft",
            "webhook_url": receiver.url,
        },
    )
    assert r.status_code == 302
    project.refresh_from_db()
    assert len(project.webhook_secret) == 64
    run = runs.start_run(project, ["audio"]).run
    wait_for(lambda: len(receiver.calls) == 2, timeout=60)
    delivery = wait_for(
        lambda: WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).first(),
        timeout=10,
    )
    first, second = receiver.calls
    for headers, body in (first, second):
        assert valid(project.webhook_secret, headers, body)
        assert headers["X-Storyboard-Event"] == "run.ended"
    assert first[1] == second[1]
    payload = json.loads(second[1])
    run = GenerationRun.objects.get(id=run.id)
    assert payload["runId"] == run.id and payload["status"] == "succeeded"
    assert (payload["total"], payload["done"]) == (2, 2)
    assert payload["quoteSeconds"] == run.quote_seconds
    assert (delivery.attempts, delivery.response_status) == (2, 200)
    assert "try 1: HTTP 500" in delivery.log and "try 2: HTTP 200" in delivery.log
    # The settings page shows the owner the key to check signatures with.
    page = client.get(f"/projects/{project.id}/").content.decode()
    assert project.webhook_secret in page


def test_it_gives_up_after_the_last_try_and_sends_nothing_without_a_url(
    make_project, settings, receiver
):
    from generation import webhooks

    settings.WEBHOOK_MAX_ATTEMPTS = 1
    project = make_project(1)
    assert webhooks.announce(project, "run.ended", {}) is None
    project.update_settings(webhook_url=receiver.url)
    receiver.statuses = [503]
    delivery = WebhookDelivery.objects.create(
        project=project, event="run.ended", url=receiver.url, payload={"x": 1}
    )
    webhooks.deliver(delivery.id)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("failed", 1, 503)
    assert len(receiver.calls) == 1
