"""The dirty rules, one by one: which edit makes which asset out of date."""

import pytest

from projects.models import CameraMovement, Project, Sentence

AUDIO, IMAGE, VIDEO = "audio", "image", "video"


def clean(project: Project) -> list[Sentence]:
    """Every scene of the project has all three assets, up to date."""
    project.sentences.update(
        is_audio_dirty=False,
        is_image_dirty=False,
        is_video_dirty=False,
        audio_file="a.wav",
        image_file="i.png",
        video_file="v.mp4",
    )
    return list(project.sentences.all())


def dirty_assets(sentence: Sentence) -> set[str]:
    sentence.refresh_from_db()
    return {a for a in (AUDIO, IMAGE, VIDEO) if getattr(sentence, f"is_{a}_dirty")}


@pytest.fixture
def scene(project: Project) -> Sentence:
    return clean(project)[0]


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("text", "The tide came in at dawn.", {AUDIO, VIDEO}),
        ("image_prompt", "a lighthouse at dawn, oil painting", {IMAGE, VIDEO}),
        ("camera_movement", CameraMovement.PAN_LEFT, {VIDEO}),
        ("motion_strength", 0.9, {VIDEO}),
    ],
)
def test_it_dirties_only_what_a_scene_edit_affects(scene: Sentence, field, value, expected):
    revision = scene.revision
    assert scene.apply_edit(**{field: value}) == expected
    assert dirty_assets(scene) == expected
    assert getattr(scene, field) == value
    assert scene.revision == revision + 1


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("style_prompt", "watercolour, soft light", {IMAGE, VIDEO}),
        ("width", 640, {IMAGE, VIDEO}),
        ("height", 480, {IMAGE, VIDEO}),
        ("voice", "p225", {AUDIO, VIDEO}),
        ("language", "de", {AUDIO, VIDEO}),
        ("fps", 12, {VIDEO}),
        ("preset", "studio", {AUDIO, IMAGE, VIDEO}),
    ],
)
def test_it_dirties_every_scene_a_project_setting_affects(project: Project, field, value, expected):
    scenes = clean(project)
    assert project.update_settings(**{field: value}) == {field}
    for scene in scenes:
        assert dirty_assets(scene) == expected
        assert scene.revision == 1
    project.refresh_from_db()
    assert getattr(project, field) == value


def test_it_dirties_nothing_when_a_project_name_changes(project: Project):
    scenes = clean(project)
    assert project.update_settings(name="A new title") == {"name"}
    for scene in scenes:
        assert dirty_assets(scene) == set()
        assert scene.revision == 0


def test_it_dirties_nothing_when_a_scene_field_keeps_its_value(scene: Sentence):
    same = {
        "text": scene.text,
        "image_prompt": scene.image_prompt,
        "camera_movement": scene.camera_movement,
        "motion_strength": scene.motion_strength,
    }
    assert scene.apply_edit(**same) == set()
    assert dirty_assets(scene) == set()
    assert scene.revision == 0


def test_it_dirties_nothing_when_a_project_setting_keeps_its_value(project: Project):
    scenes = clean(project)
    same = {
        f: getattr(project, f)
        for f in ("voice", "language", "style_prompt", "width", "height", "fps", "preset")
    }
    assert project.update_settings(**same) == set()
    for scene in scenes:
        assert dirty_assets(scene) == set()
        assert scene.revision == 0


def test_it_makes_a_new_scene_dirty_for_every_stage(project: Project):
    clean(project)
    (new,) = project.add_sentences(["A gull landed on the rail."])
    assert dirty_assets(new) == {AUDIO, IMAGE, VIDEO}
    assert project.pending_counts() == {"audio": 1, "image": 1, "video": 1, "scenes": 4}


def test_it_bumps_the_revision_only_when_something_got_dirty(scene: Sentence):
    scene.apply_edit(text="One.")
    assert scene.revision == 1
    scene.apply_edit(text="One.")
    assert scene.revision == 1
    scene.apply_edit(text="Two.", camera_movement=CameraMovement.STATIC)
    scene.refresh_from_db()
    assert scene.revision == 2


def test_it_keeps_other_flags_dirty_when_an_edit_dirties_something_else(scene: Sentence):
    Sentence.objects.filter(id=scene.id).update(is_audio_dirty=True)
    scene.refresh_from_db()
    scene.apply_edit(camera_movement=CameraMovement.PAN_UP)
    assert dirty_assets(scene) == {AUDIO, VIDEO}


def test_it_applies_the_rules_when_a_user_edits_a_scene_on_the_page(client, project: Project):
    first, second, _ = clean(project)
    response = client.post(
        f"/projects/{project.id}/scenes/{first.id}/",
        {
            "text": first.text,
            "image_prompt": first.image_prompt,
            "camera_movement": CameraMovement.PAN_RIGHT,
            "motion_strength": first.motion_strength,
        },
    )
    assert response.status_code == 302
    assert dirty_assets(first) == {VIDEO}
    assert dirty_assets(second) == set()
    page = client.get(f"/projects/{project.id}/").content.decode()
    assert "1 video pending" in page
    assert "audio pending" not in page and "image pending" not in page


def test_it_applies_the_rules_when_a_user_changes_project_settings(client, project: Project):
    scenes = clean(project)
    response = client.post(
        f"/projects/{project.id}/settings/",
        {
            "name": project.name,
            "voice": project.voice,
            "language": project.language,
            "style_prompt": "charcoal sketch",
            "width": project.width,
            "height": project.height,
            "fps": project.fps,
            "preset": project.preset,
        },
    )
    assert response.status_code == 302
    for scene in scenes:
        assert dirty_assets(scene) == {IMAGE, VIDEO}
    page = client.get(f"/projects/{project.id}/").content.decode()
    assert "3 images pending" in page and "3 videos pending" in page
    assert "audio pending" not in page
