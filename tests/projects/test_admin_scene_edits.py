"""Editing scenes and projects in the Django admin goes through the same dirty rules as the page."""

from typing import Any

import pytest
from django.db.models import Model
from django.forms.models import model_to_dict

from projects.models import Project, Sentence


@pytest.fixture
def clean_project(make_project) -> Project:  # type: ignore[no-untyped-def]
    project = make_project(["The fox runs.", "The owl sleeps."])
    project.sentences.update(
        audio_file="a.wav",
        image_file="i.png",
        video_file="v.mp4",
        is_audio_dirty=False,
        is_image_dirty=False,
        is_video_dirty=False,
    )
    return project


def form_data(obj: Model, **changes: Any) -> dict[str, Any]:
    """What the admin's change form posts back for obj, with some fields changed."""
    data = {**model_to_dict(obj), **changes}
    posted: dict[str, Any] = {}
    for name, value in data.items():
        if value is None or value is False or hasattr(value, "url") or name == "id":
            continue  # unticked boxes and untouched files are not posted
        posted[name] = "on" if value is True else value
    return posted


def flags(sentence: Sentence) -> tuple[bool, bool, bool]:
    sentence.refresh_from_db()
    return sentence.is_audio_dirty, sentence.is_image_dirty, sentence.is_video_dirty


def test_it_dirties_audio_and_video_when_the_text_changes(admin_client, clean_project):
    scene = clean_project.sentences.get(position=1)
    answer = admin_client.post(
        f"/admin/projects/sentence/{scene.id}/change/", form_data(scene, text="The fox flies.")
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    assert flags(scene) == (True, False, True)
    assert scene.text == "The fox flies."
    assert scene.audio_file.name == "a.wav"  # the old take stays until a new one is made
    assert flags(clean_project.sentences.get(position=2)) == (False, False, False)


def test_it_dirties_only_the_video_when_the_camera_changes(admin_client, clean_project):
    scene = clean_project.sentences.get(position=1)
    admin_client.post(
        f"/admin/projects/sentence/{scene.id}/change/",
        form_data(scene, camera_movement="pan_left"),
    )
    assert flags(scene) == (False, False, True)


def test_it_applies_the_rules_to_scenes_edited_inline_on_the_project(admin_client, clean_project):
    first, second = clean_project.sentences.all()
    data = form_data(clean_project, owner=clean_project.owner_id)
    data.update(
        {
            "sentences-TOTAL_FORMS": "2",
            "sentences-INITIAL_FORMS": "2",
            "sentences-MIN_NUM_FORMS": "0",
            "sentences-MAX_NUM_FORMS": "1000",
        }
    )
    for i, scene in enumerate([first, second]):
        text = "The owl hunts." if scene == second else scene.text
        data.update(
            {
                f"sentences-{i}-id": scene.id,
                f"sentences-{i}-project": clean_project.id,
                f"sentences-{i}-position": scene.position,
                f"sentences-{i}-text": text,
                f"sentences-{i}-camera_movement": scene.camera_movement,
                f"sentences-{i}-motion_strength": scene.motion_strength,
            }
        )
    answer = admin_client.post(f"/admin/projects/project/{clean_project.id}/change/", data)
    assert answer.status_code == 302, answer.content.decode()[:2000]
    assert flags(first) == (False, False, False)
    assert flags(second) == (True, False, True)


def test_it_dirties_every_picture_when_the_project_style_changes(admin_client, clean_project):
    data = form_data(clean_project, owner=clean_project.owner_id, style_prompt="watercolour")
    data.update({"sentences-TOTAL_FORMS": "0", "sentences-INITIAL_FORMS": "0"})
    answer = admin_client.post(f"/admin/projects/project/{clean_project.id}/change/", data)
    assert answer.status_code == 302, answer.content.decode()[:2000]
    assert [flags(s) for s in clean_project.sentences.all()] == [(False, True, True)] * 2
