"""The socket's query is the page's, but anyone can send anything: every value connects
and gets the current state, never a failed handshake or a close with 1011."""

from urllib.parse import quote

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from generation import runs
from storyboard_site.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

QUERIES = [
    "run=%C2%B2",
    "run=%C2%B2&active=1",
    "since=2024-02-30T00:00:00",
    "since=2024-02-30T00:00:00%2B00:00",
    "run=99999999999999999999999&active=1",
    "run=9223372036854775807&active=1",
    "since=2024-01-01T00:00:00",
    "since=" + quote("2024-01-01 00:00:00"),
    "since=not-a-time&run=-1&active=yes",
    "run=&active=&since=",
    "%ZZ=%FF&since=%FF%FE",
]


def test_any_query_connects_and_gets_the_page_state(user, make_project):
    project = make_project(2)
    runs.start_run(project, ["audio"])
    session = _session_cookie(user)

    async def scenario() -> None:
        for query in QUERIES:
            socket = WebsocketCommunicator(
                application,
                f"/ws/projects/{project.id}/?{query}",
                headers=[(b"origin", b"http://testserver"), (b"cookie", session)],
            )
            connected, code = await socket.connect(timeout=5)
            assert connected, (query, code)
            message = await socket.receive_from(timeout=5)
            assert 'id="toolbar"' in message, query
            assert await socket.receive_nothing(timeout=0.3), query
            await socket.disconnect()

    async_to_sync(scenario)()


def _session_cookie(user) -> bytes:  # type: ignore[no-untyped-def]
    from django.test import Client

    c = Client()
    c.force_login(user)
    return f"sessionid={c.cookies['sessionid'].value}".encode()
