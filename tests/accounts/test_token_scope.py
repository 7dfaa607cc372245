"""API tokens open the API only: pages, partials, the admin and the socket need a session.
A read-only token reads and changes nothing."""

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

from accounts.models import ApiToken
from generation.models import GenerationRun
from storyboard_site.asgi import application


def make_key(user: User, read_only: bool = False) -> str:
    token = ApiToken(user=user, name="script", read_only=read_only)
    key = token.new_key()
    token.save()
    return key


@pytest.fixture
def staff_key(db) -> str:
    return make_key(User.objects.create_superuser("root", password="password-root-1"))


def test_a_staff_token_does_not_open_the_admin(staff_key: str, user):
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {staff_key}"}
    c = Client()
    r = c.get("/admin/", **bearer)
    assert r.status_code == 302 and r["Location"].startswith("/admin/login/")
    r = c.post("/admin/accounts/apitoken/add/", {"user": user.id, "name": "stolen"}, **bearer)
    assert r.status_code in (302, 403)
    assert not ApiToken.objects.filter(name="stolen").exists()
    assert ApiToken.objects.count() == 1


def test_a_token_does_not_open_pages_or_partials(user, project):
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {make_key(user)}"}
    scene = project.sentences.first()
    c = Client()
    for url, headers in [
        ("/", {}),
        (f"/projects/{project.id}/", {}),
        (f"/projects/{project.id}/scenes/{scene.id}/edit/", {"HTTP_HX_REQUEST": "true"}),
    ]:
        r = c.get(url, **bearer, **headers)
        assert r.status_code == 302 and r["Location"].startswith("/login/"), url
    r = c.post(f"/projects/{project.id}/generate/", {"option": "all"}, **bearer)
    assert r.status_code in (302, 403)
    assert not GenerationRun.objects.exists()
    # The same key does open the API.
    assert c.get(f"/api/v1/projects/{project.id}/generation", **bearer).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_token_does_not_open_the_socket(user, make_project):
    project = make_project(1)
    key = make_key(user)

    async def connect() -> tuple[bool, int | None]:
        socket = WebsocketCommunicator(
            application,
            f"/ws/projects/{project.id}/",
            headers=[
                (b"origin", b"http://testserver"),
                (b"authorization", f"Bearer {key}".encode()),
            ],
        )
        connected, code = await socket.connect()
        if connected:
            await socket.disconnect()
        return connected, code

    connected, code = async_to_sync(connect)()
    assert not connected and code == 4403


def test_a_read_only_token_reads_but_changes_nothing(user, project, capsys):
    call_command("create_api_token", "alice", "--name", "dashboard", "--read-only")
    key = capsys.readouterr().out.strip()
    assert ApiToken.objects.get(name="dashboard").read_only
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    base = f"/api/v1/projects/{project.id}"
    assert Client().get(f"{base}/generation", **bearer).status_code == 200
    assert Client().get(f"{base}/exports", **bearer).status_code == 200
    for action in ["generate-all", "generate-audio", "cancel-generation", "export"]:
        r = Client().post(f"{base}/{action}", "{}", content_type="application/json", **bearer)
        assert r.status_code == 403, action
        assert r.json() == {"error": "This API token is read-only: it can't change anything."}
    assert not GenerationRun.objects.exists() and not project.exports.exists()
    # A full token of the same user may.
    r = Client().post(f"{base}/generate-all", "{}", content_type="application/json",
                      HTTP_AUTHORIZATION=f"Bearer {make_key(user)}")  # fmt: skip
    assert r.status_code == 202
