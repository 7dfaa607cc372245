"""What the socket pushes of a row is rendered once for every tab, with no CSRF token of
its own, so it must hold no form; the row's own forms post through htmx with the page's
X-CSRFToken header."""

import re

from django.test import Client

from generation import runs, worker
from projects.models import Project
from storyboard import live


def page_csrf_token(client: Client, project: Project) -> str:
    page = client.get(f"/projects/{project.id}/").content.decode()
    match = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', page)
    assert match, "the page carries its CSRF token for htmx requests"
    return match[1]


def test_a_pushed_update_holds_no_form_that_would_need_a_token(project):
    run = runs.start_run(project, ["audio"]).run
    worker.execute_job(run.jobs.get(position=1).id)

    html, _ = live.render_update(project.id, live.LiveState(run_id=run.id, run_active=True))

    assert "<audio controls" in html
    scene_cells = re.findall(r'<td id="scene-\d+-\w+".*?</td>', html, flags=re.S)
    assert len(scene_cells) == 3
    assert not any("<form" in cell for cell in scene_cells)


def test_every_form_of_a_row_posts_through_htmx(client, project):
    page = client.get(f"/projects/{project.id}/").content.decode()
    rows = re.findall(r'<tr id="scene-\d+" class="scene">.*?</tr>', page, flags=re.S)
    forms = [f for row in rows for f in re.findall(r"<form [^>]*>", row)]

    assert rows and forms
    assert all("hx-post=" in form for form in forms), forms


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
