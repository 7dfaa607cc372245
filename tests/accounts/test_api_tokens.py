"""Scripts use the API with a per-user bearer token instead of a session."""

from django.core.management import call_command
from django.test import Client

from accounts.models import ApiToken
from generation.models import GenerationRun


def make_key(user, name: str = "script") -> str:  # type: ignore[no-untyped-def]
    token = ApiToken(user=user, name=name)
    key = token.new_key()
    token.save()
    return key


def test_it_starts_a_run_with_a_bearer_token_and_no_csrf(user, project):
    key = make_key(user)
    c = Client(enforce_csrf_checks=True)
    r = c.post(
        f"/api/v1/projects/{project.id}/generate-all",
        '{"stages": ["audio"]}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert r.status_code == 202
    assert GenerationRun.objects.get().started_by == user
    assert ApiToken.objects.get().last_used is not None


def test_it_refuses_a_wrong_key_even_with_a_session(client, project):
    r = client.get(
        f"/api/v1/projects/{project.id}/generation", HTTP_AUTHORIZATION="Bearer sb_not-a-key"
    )
    assert r.status_code == 401
    assert r.json() == {"error": "Invalid or revoked API token."}


def test_a_token_only_reaches_its_users_projects(make_project, other_user):
    theirs = make_project(2, owner=other_user)
    from django.contrib.auth.models import User

    me = User.objects.create_user("carol", password="password-carol")
    key = make_key(me)
    r = Client().get(f"/api/v1/projects/{theirs.id}/generation", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert r.status_code == 404


def test_a_deactivated_users_token_stops_working(user, project):
    key = make_key(user)
    user.is_active = False
    user.save()
    r = Client().get(
        f"/api/v1/projects/{project.id}/generation", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert r.status_code == 401


def test_only_a_hash_is_stored_and_the_command_prints_the_key_once(user, capsys):
    call_command("create_api_token", "alice", "--name", "farm")
    key = capsys.readouterr().out.strip()
    token = ApiToken.objects.get(name="farm")
    assert key.startswith("sb_") and key not in token.key_hash
    assert ApiToken.objects.for_key(key) == token
