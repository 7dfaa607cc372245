"""Project settings accept only what the backends can make: even sizes (the video encoder
halves them for colour), 64 to 2048 pixels, 1 to 60 frames per second. A refused value
is said beside its field, and nothing is saved or made out of date."""

import html
import re

import pytest
from django.core.exceptions import ValidationError

from projects.models import Project


def settings_form(project: Project, **changes: object) -> dict:
    values = {
        f: getattr(project, f)
        for f in ("name", "voice", "language", "style_prompt", "width", "height", "fps")
    }
    return {**values, "preset": project.preset, **changes}


def field_block(page: str, name: str) -> str:
    """The settings form's block for one field: its label, input and message."""
    match = re.search(rf'<div class="field[^"]*">\s*<label for="id_{name}">.*?</div>', page, re.S)
    assert match, f"no field block for {name}"
    return match.group(0)


ODD = "Must be even (the video encoder halves it for colour): try"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"width": 1281}, "width", f"{ODD} 1280 or 1282."),
        ({"height": 721}, "height", f"{ODD} 720 or 722."),
        ({"width": 4096}, "width", "Ensure this value is less than or equal to 2048."),
        ({"height": 32}, "height", "Ensure this value is greater than or equal to 64."),
        ({"fps": 0}, "fps", "Ensure this value is greater than or equal to 1."),
        ({"fps": 120}, "fps", "Ensure this value is less than or equal to 60."),
    ],
)  # fmt: skip
def test_it_refuses_a_size_or_rate_the_backends_refuse_beside_the_field(
    client, project: Project, changes: dict, field: str, message: str
):
    project.sentences.update(is_video_dirty=False)
    before = (project.width, project.height, project.fps)
    response = client.post(f"/projects/{project.id}/settings/", settings_form(project, **changes))
    assert response.status_code == 400
    block = field_block(response.content.decode(), field)
    assert 'class="field invalid"' in block and message in html.unescape(block)
    project.refresh_from_db()
    assert (project.width, project.height, project.fps) == before
    assert not project.sentences.filter(is_video_dirty=True).exists()


def test_it_saves_an_even_size_and_says_the_limits_beside_the_fields(client, project: Project):
    response = client.post(
        f"/projects/{project.id}/settings/", settings_form(project, width=1920, height=1080)
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.width, project.height) == (1920, 1080)
    page = client.get(f"/projects/{project.id}/").content.decode()
    assert "Pixels, even, 64 to 2048" in field_block(page, "width")


def test_the_model_itself_refuses_an_odd_size(project: Project):
    project.width = 1281
    with pytest.raises(ValidationError) as e:
        project.full_clean()
    assert e.value.message_dict == {"width": [f"{ODD} 1280 or 1282."]}
