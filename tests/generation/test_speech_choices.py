"""A project's voice and language reach the speech backend (a draft voice as an espeak-ng
argument), so only what the project's preset offers here is accepted: anything else is a
400 that names the field, and the project is unchanged."""

import pytest

from generation.backends import espeak
from projects.models import Project


def settings_of(project: Project, **changes: str) -> dict:
    return {
        "name": project.name,
        "voice": project.voice,
        "language": project.language,
        "style_prompt": project.style_prompt,
        "width": project.width,
        "height": project.height,
        "fps": project.fps,
        "preset": project.preset,
        **changes,
    }


@pytest.fixture
def esperanto_only(monkeypatch):  # type: ignore[no-untyped-def]
    """An espeak-ng with one voice installed: what the draft preset offers follows it."""
    monkeypatch.setattr(espeak, "espeak_voices", lambda: [("eo", "esperanto")])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("voice", "--help"),
        ("voice", "-w /tmp/x"),
        ("voice", "p225"),
        ("voice", "de"),
        ("language", "xx"),
        ("language", "en; rm -rf /"),
        ("language", "--version"),
    ],
)
def test_it_refuses_a_voice_or_language_the_preset_does_not_offer(
    client, project: Project, esperanto_only, field: str, value: str
):
    before = Project.objects.filter(id=project.id).values().get()
    r = client.post(f"/projects/{project.id}/settings/", settings_of(project, **{field: value}))
    assert r.status_code == 400
    assert "preset" in r.context["settings_form"].errors[field][0]
    assert Project.objects.filter(id=project.id).values().get() == before


@pytest.mark.parametrize(
    ("field", "value"),
    [("voice", "eo"), ("voice", ""), ("language", "eo"), ("language", "de"), ("language", "EN")],
)
def test_it_accepts_what_the_preset_offers(
    client, project: Project, esperanto_only, field: str, value: str
):
    r = client.post(f"/projects/{project.id}/settings/", settings_of(project, **{field: value}))
    assert r.status_code == 302
    assert getattr(Project.objects.get(id=project.id), field) == value


def test_the_studio_preset_takes_a_speaker_its_model_names_only_once_loaded(
    client, project: Project
):
    # The default speech model is named by hub id: its speakers are unknown until the job
    # loads it (which refuses an unknown one), but only a plain name gets that far.
    url = f"/projects/{project.id}/settings/"
    assert client.post(url, settings_of(project, preset="studio", voice="p225")).status_code == 302
    assert Project.objects.get(id=project.id).voice == "p225"
    r = client.post(url, settings_of(project, preset="studio", voice="--speaker_idx=1"))
    assert r.status_code == 400


def test_a_new_project_needs_a_language_the_preset_offers(client, esperanto_only):
    r = client.post("/", {"name": "Film", "script": "One. Two.", "language": "klingon"})
    assert r.status_code == 400 and "language" in r.context["form"].errors
    assert not Project.objects.exists()
    assert (
        client.post("/", {"name": "Film", "script": "One. Two.", "language": "eo"}).status_code
        == 302
    )
