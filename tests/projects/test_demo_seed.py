"""`manage.py seed_demo` gives a new user something to look at, once."""

from io import StringIO

from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

from projects.models import Project
from projects.vocabulary import Preset


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_it_seeds_a_demo_user_and_project_a_new_user_can_open(db):
    output = seed()
    project = Project.objects.get(name="The Lighthouse Keeper")
    assert project.owner.username == "demo"
    assert project.preset == Preset.DRAFT
    assert project.style_prompt
    scenes = list(project.sentences.all())
    assert len(scenes) == 10
    assert [s.position for s in scenes] == list(range(1, 11))
    # The splitter keeps "Mr. Alder" inside its sentence.
    assert scenes[1].text == "Mr. Alder had kept its lamp burning for forty years."
    assert all(s.image_prompt == s.text for s in scenes)
    assert len({s.camera_movement for s in scenes}) >= 5
    assert all(0 <= s.motion_strength <= 1 for s in scenes)
    assert all(s.is_audio_dirty and s.is_image_dirty and s.is_video_dirty for s in scenes)

    assert output.count("\n") == 1
    assert "'demo'" in output and "'storyboard'" in output
    assert f"/projects/{project.id}/" in output

    browser = Client()
    assert browser.login(username="demo", password="storyboard")
    page = browser.get(f"/projects/{project.id}/").content.decode()
    assert "The Lighthouse Keeper" in page
    assert page.count('<tr id="scene-') == 10
    assert "10 audio pending" in page


def test_it_does_not_duplicate_anything_on_a_second_run(db):
    seed()
    project = Project.objects.get()
    scenes = list(project.sentences.values_list("id", "text", "camera_movement"))
    output = seed()
    assert User.objects.filter(username="demo").count() == 1
    assert Project.objects.get() == project
    assert list(project.sentences.values_list("id", "text", "camera_movement")) == scenes
    assert "Kept" in output and f"/projects/{project.id}/" in output
    assert Client().login(username="demo", password="storyboard")


def test_it_uses_the_given_username_and_password(db):
    output = seed("--username", "carol", "--password", "s3cret-pass")
    assert Project.objects.get().owner.username == "carol"
    assert Client().login(username="carol", password="s3cret-pass")
    assert "'carol'" in output and "'s3cret-pass'" in output


def test_it_leaves_an_existing_users_password_and_projects_alone(user):
    Project.objects.create(owner=user, name="Alice's own film")
    output = seed("--username", "alice", "--password", "ignored")
    assert Client().login(username="alice", password="password-alice")
    assert sorted(user.projects.values_list("name", flat=True)) == [
        "Alice's own film",
        "The Lighthouse Keeper",
    ]
    assert "password unchanged" in output
