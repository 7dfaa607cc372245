"""Every project page needs a login, and another user's project does not exist for you."""

import pytest
from django.test import Client

from projects.models import Project, Sentence


def urls(project: Project, scene: Sentence) -> list[tuple[str, str, dict]]:
    base = f"/projects/{project.id}"
    return [
        ("get", f"{base}/", {}),
        ("get", f"{base}/?edit={scene.id}", {}),
        ("post", f"{base}/settings/", {"name": "Stolen", "width": 640, "height": 480}),
        ("get", f"{base}/scenes/{scene.id}/", {}),
        ("post", f"{base}/scenes/{scene.id}/", {"text": "Hacked.", "motion_strength": 0.1}),
        ("get", f"{base}/scenes/{scene.id}/edit/", {}),
        ("post", f"{base}/scenes/add/", {"text": "An intruder scene."}),
        ("post", f"{base}/scenes/{scene.id}/delete/", {}),
        ("post", f"{base}/scenes/{scene.id}/move/", {"direction": "down"}),
    ]


def snapshot(project: Project) -> tuple:
    project.refresh_from_db()
    scenes = tuple(
        project.sentences.values_list(
            "id", "position", "text", "image_prompt", "camera_movement", "motion_strength"
        )
    )
    return (project.name, project.width, project.height, project.updated, scenes)


def test_it_sends_an_anonymous_visitor_to_the_login_page(project: Project):
    anonymous = Client()
    scene = project.sentences.first()
    assert scene is not None
    for method, url, data in [("get", "/", {}), *urls(project, scene)]:
        response = getattr(anonymous, method)(url, data)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login/?next="), url
    assert anonymous.post("/", {"name": "x", "script": "Hello there."}).status_code == 302
    assert Project.objects.count() == 1


def test_it_shows_the_login_page_and_logs_a_user_in(user):
    anonymous = Client()
    assert "password" in anonymous.get("/login/").content.decode()
    response = anonymous.post("/login/", {"username": "alice", "password": "password-alice"})
    assert response.status_code == 302
    assert anonymous.get("/").status_code == 200


@pytest.mark.parametrize("htmx", [False, True])
def test_it_answers_404_for_another_users_project_and_changes_nothing(
    client, make_project, other_user, htmx: bool
):
    theirs = make_project(["Bob's secret scene.", "Bob's second scene."], owner=other_user)
    scene = theirs.sentences.first()
    assert scene is not None
    before = snapshot(theirs)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    for method, url, data in urls(theirs, scene):
        response = getattr(client, method)(url, data, **headers)
        assert response.status_code == 404, url
        assert "Bob's secret scene." not in response.content.decode()
    assert snapshot(theirs) == before


def test_it_does_not_list_another_users_projects(client, make_project, other_user):
    Project.objects.filter(id=make_project(1, owner=other_user).id).update(name="Bob's film")
    mine = make_project(1)
    page = client.get("/").content.decode()
    assert "Bob&#x27;s film" not in page and "Bob's film" not in page
    assert mine.get_absolute_url() in page


def test_it_answers_404_for_a_scene_of_another_project(client, make_project, other_user):
    mine = make_project(1)
    theirs = make_project(["Not yours."], owner=other_user)
    their_scene = theirs.sentences.get()
    base = f"/projects/{mine.id}/scenes/{their_scene.id}"
    assert client.get(f"{base}/edit/", HTTP_HX_REQUEST="true").status_code == 404
    assert client.post(f"{base}/", {"text": "Mine now."}).status_code == 404
    assert client.post(f"{base}/delete/").status_code == 404
    assert client.get(f"/projects/{mine.id}/?edit={their_scene.id}").status_code == 404
    assert Sentence.objects.filter(id=their_scene.id, text="Not yours.").exists()


@pytest.mark.parametrize(
    "url",
    [
        "/projects/abc/",
        "/projects/1.5/",
        "/projects/-1/",
        "/projects/999999/",
        "/projects/abc/settings/",
        "/projects/{p}/scenes/abc/",
        "/projects/{p}/scenes/abc/edit/",
        "/projects/{p}/scenes/999999/edit/",
        "/projects/{p}/?edit=999999",
    ],
)
def test_it_answers_404_for_ids_that_are_not_a_project_or_scene_of_yours(
    client, project: Project, url: str
):
    assert client.get(url.format(p=project.id), HTTP_HX_REQUEST="true").status_code == 404


@pytest.mark.parametrize("value", ["abc", "%C2%B2", "%D9%A3", "-1", "1.5", ""])
def test_it_ignores_a_non_numeric_edit_parameter(client, project: Project, value: str):
    # "²" is a digit to str.isdigit() but not to int(); only ASCII digits make an id.
    response = client.get(f"/projects/{project.id}/?edit={value}")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="scene editing"' not in page
    assert page.count('class="scene"') == 3
