"""Pages forbid inline script: the policy says so, and no page relies on any."""

import re

from django.contrib.auth.models import User
from django.test import Client

from generation import runs
from generation.models import Origin

INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=", re.IGNORECASE)


def policy(response) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    header = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part.strip())
    }


def test_it_forbids_inline_script_on_every_page(client, make_project):
    project = make_project(2)
    runs.start_run(project, ["audio"], True, origin=Origin.PAGE)
    assert policy(client.get(f"/projects/{project.id}/"))["script-src"] == ["'self'"]
    client.force_login(User.objects.create_superuser("root", password="password-root-1"))
    for url in ["/", "/admin/"]:
        response = client.get(url)
        assert response.status_code == 200, url
        directives = policy(response)
        assert directives["script-src"] == ["'self'"], url
        assert "'unsafe-inline'" not in directives["default-src"], url
        assert directives["object-src"] == directives["frame-ancestors"] == ["'none'"]
    login = Client().get("/login/")
    assert policy(login)["script-src"] == ["'self'"]


def test_no_page_has_inline_script_or_handlers(client, make_project):
    project = make_project(2)
    run = runs.start_run(project, ["audio"], True, origin=Origin.PAGE).run
    pages = [client.get("/"), client.get(f"/projects/{project.id}/"), Client().get("/login/")]
    # The finished states too: the error summary and the toasts have dismiss buttons.
    runs.cancel_run(run)
    pages.append(client.get(f"/projects/{project.id}/"))
    for response in pages:
        html = response.content.decode()
        assert not INLINE.search(html), INLINE.search(html)
    page = pages[1].content.decode()
    assert '<script src="/static/storyboard.js" defer></script>' in page
    assert 'data-open-dialog="cancel-dialog"' in page
