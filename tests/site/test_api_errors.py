"""Under /api/, every error is JSON {"error": ...} with the right status, whatever made it:
the view, the URL resolver, the method check, the body size limit or the CSRF check."""

import pytest
from django.test import Client

from generation.models import GenerationRun

POST_ENDPOINTS = [
    "generate-all",
    "generate-audio",
    "generate-images",
    "generate-videos",
    "cancel-generation",
    "resume-generation",
    "export",
]


def assert_json_error(response, status: int) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.content[:200]
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert isinstance(error, str) and error
    return error


def test_an_unknown_endpoint_or_someone_elses_project_is_a_json_404(
    client, make_project, other_user
):
    theirs = make_project(1, owner=other_user)
    assert_json_error(client.get("/api/v1/nothing-here"), 404)
    assert_json_error(client.get("/api/v1/projects/abc/generation"), 404)
    assert_json_error(client.get(f"/api/v1/projects/{theirs.id}/generation"), 404)
    assert_json_error(client.get(f"/api/v1/projects/{theirs.id}/exports/1/file"), 404)
    assert_json_error(client.post(f"/api/v1/projects/{theirs.id}/exports/1/cancel"), 404)
    # Pages keep their HTML 404.
    page = client.get("/projects/999999/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


def test_a_wrong_method_is_a_json_405_that_says_which(client, project):
    r = client.get(f"/api/v1/projects/{project.id}/generate-all")
    assert "POST" in assert_json_error(r, 405)
    assert r["Allow"] == "POST"
    r = client.put(f"/api/v1/projects/{project.id}/generation")
    assert_json_error(r, 405)


def test_a_body_too_large_is_a_json_413(client, project, settings):
    body = "[" + "0," * settings.DATA_UPLOAD_MAX_MEMORY_SIZE + "0]"
    r = client.post(
        f"/api/v1/projects/{project.id}/generate-all", body, content_type="application/json"
    )
    assert_json_error(r, 413)
    assert not GenerationRun.objects.exists()


def test_an_anonymous_post_without_csrf_is_a_json_401(project):
    anonymous = Client(enforce_csrf_checks=True)
    for action in POST_ENDPOINTS:
        r = anonymous.post(f"/api/v1/projects/{project.id}/{action}", "{}", "application/json")
        assert_json_error(r, 401)


def test_a_session_post_without_csrf_is_a_json_403(user, project):
    c = Client(enforce_csrf_checks=True)
    c.force_login(user)
    r = c.post(f"/api/v1/projects/{project.id}/generate-all", "{}", "application/json")
    assert "CSRF" in assert_json_error(r, 403)
    assert not GenerationRun.objects.exists()


@pytest.mark.parametrize("action", POST_ENDPOINTS)
def test_a_body_nested_too_deeply_is_a_400(client, project, action: str):
    deep = "[" * 100_000 + "]" * 100_000
    r = client.post(f"/api/v1/projects/{project.id}/{action}", deep, "application/json")
    if action in ("cancel-generation", "resume-generation"):
        # These take no body at all: nothing is read, nothing runs.
        assert_json_error(r, 409)
    else:
        assert "nested" in assert_json_error(r, 400)
    deep_object = '{"a":' * 100_000 + "1" + "}" * 100_000
    r = client.post(f"/api/v1/projects/{project.id}/{action}", deep_object, "application/json")
    assert r.status_code in (400, 409)
