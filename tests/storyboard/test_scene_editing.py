"""Editing scenes on the storyboard: in place with htmx, or with plain forms."""

import html

import pytest

from projects.models import CameraMovement, Project, Sentence

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def scenes(project: Project) -> list[Sentence]:
    """The project's three scenes, all assets present and up to date."""
    project.sentences.update(
        is_audio_dirty=False,
        is_image_dirty=False,
        is_video_dirty=False,
        audio_file="a.wav",
        image_file="i.png",
        video_file="v.mp4",
    )
    return list(project.sentences.all())


def scene_url(scene: Sentence, suffix: str = "") -> str:
    return f"/projects/{scene.project_id}/scenes/{scene.id}/{suffix}"


def form_data(scene: Sentence, **changes: object) -> dict:
    data = {
        "text": scene.text,
        "image_prompt": scene.image_prompt,
        "camera_movement": scene.camera_movement,
        "motion_strength": scene.motion_strength,
    }
    data.update(changes)
    return data


def row_of(scene: Sentence) -> tuple:
    scene.refresh_from_db()
    return (
        scene.position,
        scene.text,
        scene.image_prompt,
        scene.camera_movement,
        scene.motion_strength,
        scene.is_audio_dirty,
        scene.is_image_dirty,
        scene.is_video_dirty,
        scene.revision,
    )


def test_it_opens_just_the_edit_row_in_place(client, scenes):
    scene = scenes[1]
    response = client.get(scene_url(scene, "edit/"), **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith(f'<tr id="scene-{scene.id}" class="scene editing"')
    assert f'hx-post="{scene_url(scene)}"' in body
    assert scene.text in body
    assert "<html" not in body and "<table" not in body
    assert scenes[0].text not in body


def test_it_opens_the_edit_row_inside_the_page_without_htmx(client, scenes):
    scene = scenes[1]
    response = client.get(scene_url(scene, "edit/"), follow=True)
    body = response.content.decode()
    assert response.redirect_chain[-1][0] == f"/projects/{scene.project_id}/?edit={scene.id}"
    assert body.count('class="scene editing"') == 1
    assert f'<tr id="scene-{scene.id}" class="scene editing"' in body
    assert scenes[0].text in body


def test_it_saves_an_edit_in_place_and_returns_the_row_with_its_badges(client, scenes):
    scene = scenes[0]
    response = client.post(
        scene_url(scene), form_data(scene, camera_movement=CameraMovement.PAN_DOWN), **HTMX
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith(f'<tr id="scene-{scene.id}" class="scene">')
    assert "Pan down" in body
    row = body.split('id="toolbar"')[0]
    assert f'id="scene-{scene.id}-video" class="asset video state-stale"' in row
    assert "out of date" in row and row.count("out of date") == 1
    # The toolbar counts come along out of band.
    assert '<section id="toolbar" class="toolbar" hx-swap-oob="true"' in body
    assert "<span>1 video pending</span>" in body
    assert "<html" not in body
    scene.refresh_from_db()
    assert scene.camera_movement == CameraMovement.PAN_DOWN
    assert scene.is_video_dirty and not scene.is_audio_dirty and not scene.is_image_dirty


def test_it_shows_new_text_and_its_dirty_badges_after_a_text_edit(client, scenes):
    scene = scenes[2]
    response = client.post(
        scene_url(scene), form_data(scene, text="  The lamp   went out.  "), **HTMX
    )
    body = response.content.decode()
    row = body.split('id="toolbar"')[0]
    assert '<td class="text">The lamp went out.</td>' in row
    assert f'id="scene-{scene.id}-audio" class="asset audio state-stale"' in row
    assert f'id="scene-{scene.id}-video" class="asset video state-stale"' in row
    assert f'id="scene-{scene.id}-image" class="asset image state-done"' in row
    assert "<span>1 audio pending</span>" in body
    scene.refresh_from_db()
    assert scene.text == "The lamp went out."
    # The image prompt is the user's own: editing the text leaves it alone.
    assert scene.image_prompt == "Scene number 3 happens here."


def test_it_saves_an_edit_without_htmx_and_shows_it_on_the_page(client, scenes):
    scene = scenes[0]
    response = client.post(scene_url(scene), form_data(scene, text="A storm rolled in."))
    assert response.status_code == 302
    assert response["Location"] == f"/projects/{scene.project_id}/#scene-{scene.id}"
    page = client.get(f"/projects/{scene.project_id}/").content.decode()
    assert '<td class="text">A storm rolled in.</td>' in page
    assert "1 audio pending" in page and "1 video pending" in page


def test_it_leaves_a_scene_clean_when_saved_unchanged(client, scenes):
    scene = scenes[0]
    before = row_of(scene)
    body = client.post(scene_url(scene), form_data(scene), **HTMX).content.decode()
    assert row_of(scene) == before
    assert "out of date" not in body.split('id="toolbar"')[0]
    assert "All 3 scenes up to date" in body


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"camera_movement": "barrel_roll"}, "Select a valid choice. barrel_roll is not one"),
        ({"motion_strength": "-0.1"}, "Ensure this value is greater than or equal to 0.0."),
        ({"motion_strength": "1.5"}, "Ensure this value is less than or equal to 1.0."),
        ({"motion_strength": "abc"}, "Enter a number."),
        ({"motion_strength": ""}, "This field is required."),
        ({"text": ""}, "This field is required."),
        ({"text": "   \n  "}, "This field is required."),
        ({"text": "x" * 2001}, "Ensure this value has at most 2000 characters"),
    ],
)
def test_it_refuses_bad_input_in_place_and_saves_nothing(client, scenes, changes, message):
    scene = scenes[0]
    before = row_of(scene)
    # A valid change travels with the bad one: it must not be saved half-way.
    data = form_data(scene, image_prompt="A brand new prompt", **changes)
    response = client.post(scene_url(scene), data, **HTMX)
    body = html.unescape(response.content.decode())
    assert response.status_code == 400
    assert body.lstrip().startswith(f'<tr id="scene-{scene.id}" class="scene editing"')
    assert message in body
    assert "<html" not in body
    assert row_of(scene) == before


def test_it_refuses_bad_input_without_htmx_on_the_whole_page(client, scenes):
    scene = scenes[0]
    before = row_of(scene)
    response = client.post(scene_url(scene), form_data(scene, motion_strength="1.5"))
    body = response.content.decode()
    assert response.status_code == 400
    assert "Ensure this value is less than or equal to 1.0." in body
    assert f'<tr id="scene-{scene.id}" class="scene editing"' in body
    assert scenes[1].text in body
    assert row_of(scene) == before


def test_it_stores_a_script_tag_but_shows_it_escaped(client, scenes):
    scene = scenes[0]
    prompt = "<script>alert(1)</script>"
    response = client.post(scene_url(scene), form_data(scene, image_prompt=prompt), **HTMX)
    assert response.status_code == 200
    scene.refresh_from_db()
    assert scene.image_prompt == prompt
    for body in (
        response.content.decode(),
        client.get(f"/projects/{scene.project_id}/").content.decode(),
        client.get(scene_url(scene, "edit/"), **HTMX).content.decode(),
    ):
        assert "<script>alert(1)</script>" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_it_round_trips_unicode_and_emoji(client, scenes):
    scene = scenes[0]
    text = "Le phare brille 🌊✨ — 灯台守は眠った。"
    response = client.post(scene_url(scene), form_data(scene, text=text, image_prompt=text), **HTMX)
    assert response.status_code == 200
    assert text in response.content.decode()
    scene.refresh_from_db()
    assert scene.text == text and scene.image_prompt == text
    assert text in client.get(f"/projects/{scene.project_id}/").content.decode()


def test_it_adds_a_scene_at_the_end_dirty_for_every_stage(client, project, scenes):
    response = client.post(f"/projects/{project.id}/scenes/add/", {"text": "A  gull   landed."})
    new = project.sentences.last()
    assert new is not None
    assert response.status_code == 302
    assert response["Location"] == f"/projects/{project.id}/#scene-{new.id}"
    assert [s.text for s in project.sentences.all()][-1] == "A gull landed."
    assert new.position == 4
    assert new.image_prompt == "A gull landed."
    assert new.is_audio_dirty and new.is_image_dirty and new.is_video_dirty
    page = client.get(f"/projects/{project.id}/").content.decode()
    assert "1 audio pending" in page and "1 image pending" in page and "1 video pending" in page


def test_it_refuses_an_empty_new_scene(client, project, scenes):
    response = client.post(f"/projects/{project.id}/scenes/add/", {"text": "   "})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert project.sentences.count() == 3


def test_it_deletes_a_scene_in_place(client, project, scenes):
    project.sentences.filter(id=scenes[1].id).update(is_image_dirty=True)
    response = client.post(scene_url(scenes[0], "delete/"), **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert '<section id="toolbar" class="toolbar" hx-swap-oob="true"' in body
    assert "<span>1 image pending</span>" in body
    assert "<tr" not in body
    assert not Sentence.objects.filter(id=scenes[0].id).exists()
    page = client.get(f"/projects/{project.id}/").content.decode()
    assert f'id="scene-{scenes[0].id}"' not in page
    assert page.count('class="scene"') == 2


def test_it_deletes_a_scene_without_htmx(client, project, scenes):
    response = client.post(scene_url(scenes[2], "delete/"))
    assert response.status_code == 302
    assert response["Location"] == f"/projects/{project.id}/"
    assert [s.id for s in project.sentences.all()] == [scenes[0].id, scenes[1].id]


def test_it_moves_scenes_up_and_down(client, project, scenes):
    a, b, c = scenes

    def order() -> list[int]:
        return [s.id for s in project.sentences.all()]

    assert client.post(scene_url(c, "move/"), {"direction": "up"}).status_code == 302
    assert order() == [a.id, c.id, b.id]
    client.post(scene_url(a, "move/"), {"direction": "down"})
    assert order() == [c.id, a.id, b.id]
    # Off either end nothing moves.
    client.post(scene_url(c, "move/"), {"direction": "up"})
    client.post(scene_url(b, "move/"), {"direction": "down"})
    assert order() == [c.id, a.id, b.id]
    assert sorted(project.sentences.values_list("position", flat=True)) == [1, 2, 3]
    page = client.get(f"/projects/{project.id}/").content.decode()
    assert page.index(c.text) < page.index(a.text) < page.index(b.text)


def test_it_moves_past_a_gap_left_by_a_deleted_scene(client, project, scenes):
    a, b, c = scenes
    client.post(scene_url(b, "delete/"))
    client.post(scene_url(c, "move/"), {"direction": "up"})
    assert [s.id for s in project.sentences.all()] == [c.id, a.id]


@pytest.mark.parametrize("direction", ["sideways", "", "UP"])
def test_it_refuses_a_bad_move_direction(client, project, scenes, direction):
    before = [row_of(s) for s in scenes]
    response = client.post(scene_url(scenes[1], "move/"), {"direction": direction})
    assert response.status_code == 400
    assert "Direction must be" in response.content.decode()
    assert [row_of(s) for s in scenes] == before


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("width", "10", "Ensure this value is greater than or equal to 64."),
        ("height", "99999", "Ensure this value is less than or equal to 2048."),
        ("fps", "abc", "Enter a whole number."),
        ("preset", "cinema", "Select a valid choice."),
    ],
)
def test_it_refuses_bad_project_settings_and_changes_nothing(
    client, project, scenes, field, value, message
):
    before_project = (project.name, project.style_prompt, project.width, project.height)
    before_scenes = [row_of(s) for s in scenes]
    data = {
        "name": "Renamed",
        "voice": "",
        "language": "en",
        "style_prompt": "A new style",
        "width": 640,
        "height": 480,
        "fps": 24,
        "preset": "draft",
        field: value,
    }
    response = client.post(f"/projects/{project.id}/settings/", data)
    assert response.status_code == 400
    body = html.unescape(response.content.decode())
    assert message in body
    # The settings panel opens so the message is seen.
    assert '<details class="project-settings" open>' in body
    project.refresh_from_db()
    assert (project.name, project.style_prompt, project.width, project.height) == before_project
    assert [row_of(s) for s in scenes] == before_scenes
