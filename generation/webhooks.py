"""A project's webhook: a signed JSON summary when a run or an export ends.

The body is signed with the project's secret: `X-Storyboard-Signature: sha256=<hex of
HMAC-SHA256(secret, body)>`, so a receiver can check it came from here. Delivery is a huey
task; a refused or failed call is tried again with back-off (WEBHOOK_RETRY_SECONDS,
doubling, WEBHOOK_MAX_ATTEMPTS tries). Every try is logged on its WebhookDelivery row.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

from django.conf import settings

from generation.models import DeliveryStatus, GenerationRun, WebhookDelivery
from projects.models import Project
from work import queue

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Storyboard-Signature"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def announce(project: Project, event: str, payload: dict[str, Any]) -> WebhookDelivery | None:
    """Record a delivery and send it once the change that caused it is committed."""
    if not project.webhook_url:
        return None
    body = {"event": event, "projectId": project.id, "project": project.name, **payload}
    delivery = WebhookDelivery.objects.create(
        project=project, event=event, url=project.webhook_url, payload=body
    )
    queue.send_on_commit(WebhookDelivery, [delivery.id])
    return delivery


def send_later(delivery_id: int, delay: float = 0) -> None:
    """Have the delivery tried (generation.tasks sends its task), after `delay` seconds."""
    queue.send(WebhookDelivery, [delivery_id], delay=delay)


def run_ended(run: GenerationRun) -> None:
    from generation.progress import run_progress

    progress = run_progress(run).as_json()
    announce(
        run.project,
        "run.ended",
        {
            "runId": run.id,
            "status": run.status,
            "stages": run.stages,
            "total": progress["total"],
            "done": progress["done"],
            "failed": progress["failed"],
            "skipped": progress["skipped"],
            "cancelled": progress["cancelled"],
            "quoteSeconds": run.quote_seconds,
            "actualSeconds": run.actual_seconds,
        },
    )


def export_ended(export: Any) -> None:
    announce(
        export.project,
        "export.ended",
        {
            "exportId": export.id,
            "status": export.status,
            "error": export.error,
            "seconds": export.elapsed.total_seconds(),
        },
    )


def deliver(delivery_id: int) -> None:
    """One try; on failure, the next one is scheduled while tries remain."""
    delivery = WebhookDelivery.objects.select_related("project").filter(id=delivery_id).first()
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return
    body = json.dumps(delivery.payload, sort_keys=True).encode()
    request = Request(
        delivery.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Storyboard-Webhook/1",
            "X-Storyboard-Event": delivery.event,
            "X-Storyboard-Delivery": str(delivery.id),
            SIGNATURE_HEADER: sign(delivery.project.webhook_secret, body),
        },
    )
    status: int | None = None
    error = ""
    try:
        with urlopen(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:
            status = response.status
    except HTTPError as e:
        status, error = e.code, f"HTTP {e.code}"
    except (URLError, OSError, ValueError) as e:
        error = f"{type(e).__name__}: {getattr(e, 'reason', e)}"[:500]
    ok = status is not None and 200 <= status < 300
    final = delivery.attempts + 1 >= settings.WEBHOOK_MAX_ATTEMPTS
    delivery.record_try(ok, status, error, final)
    if not ok and not final:
        delay = settings.WEBHOOK_RETRY_SECONDS * 2 ** (delivery.attempts - 1)
        log.warning("Webhook %s failed (%s); again in %.1f s", delivery.id, error, delay)
        send_later(delivery.id, delay)
