"""A scene row pushed over the socket is rendered once for every tab, without a CSRF token
of its own: its forms must still work, through the page's X-CSRFToken header."""

import re

from django.test import Client

from generation import live
from projects.models import Project


def page_csrf_token(client: Client, project: Project) -> str:
    page = client.get(f"/projects/{project.id}/").content.decode()
    match = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', page)
    assert match, "the page carries its CSRF token for htmx requests"
    return match[1]


def test_every_form_of_a_pushed_row_posts_through_htmx(project):
    scene = project.sentences.first()
    live.attach_jobs([scene], None)
    row = live.render_row(project, scene)

    forms = re.findall(r"<form [^>]*>", row)
    assert forms
    assert all("hx-post=" in form for form in forms), forms
    assert "csrfmiddlewaretoken" not in row


def test_it_moves_a_scene_from_a_pushed_row_with_csrf_checks_on(user, project):
    a, b, c = project.sentences.all()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    token = page_csrf_token(browser, project)

    response = browser.post(
        f"/projects/{project.id}/scenes/{c.id}/move/",
        {"direction": "up"},
        HTTP_HX_REQUEST="true",
        HTTP_X_CSRFTOKEN=token,
    )

    assert response.status_code == 200
    assert response["HX-Refresh"] == "true"
    assert [s.id for s in project.sentences.all()] == [a.id, c.id, b.id]


def test_it_refuses_a_move_without_the_token(user, project):
    before = list(project.sentences.values_list("id", flat=True))
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)

    response = browser.post(
        f"/projects/{project.id}/scenes/{before[2]}/move/",
        {"direction": "up"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 403
    assert list(project.sentences.values_list("id", flat=True)) == before
