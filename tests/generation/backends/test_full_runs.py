"""Whole runs through a real huey worker with the real backends: the draft preset, and
the studio preset on tiny models built here (no weights are downloaded)."""

import wave
from pathlib import Path

import pytest
from PIL import Image

from generation import runs
from generation.models import RunStatus
from media import ffmpeg
from projects.models import Sentence
from tests.conftest import wait_for

pytestmark = pytest.mark.worker

REAL_BACKENDS = "generation.backends.registry.get_backend"


def finished(run):  # type: ignore[no-untyped-def]
    run.refresh_from_db()
    return run if not run.is_active else None


def assert_every_scene_made(project, media_root: Path, width: int, height: int) -> None:  # type: ignore[no-untyped-def]
    for scene in Sentence.objects.filter(project=project):
        assert not (scene.is_audio_dirty or scene.is_image_dirty or scene.is_video_dirty)
        with wave.open(str(media_root / scene.audio_file.name)) as w:
            assert w.getnframes() / w.getframerate() == pytest.approx(
                scene.audio_duration, abs=0.05
            )
        assert Image.open(media_root / scene.image_file.name).size == (width, height)
        info = ffmpeg.probe(media_root / scene.video_file.name)
        assert info.width == width and info.height == height
        assert info.audio_codec == "aac"
        assert info.duration is not None and scene.audio_duration is not None
        assert abs(info.duration - scene.audio_duration) <= 1.5 / project.fps


def test_it_makes_a_watchable_animatic_with_the_draft_preset(worker_factory, make_project, media):
    worker_factory(STORYBOARD_BACKEND_FACTORY=REAL_BACKENDS).start()
    project = make_project(
        ["The lighthouse stood alone.", "A storm rolled in."], width=320, height=180, fps=12
    )
    started = runs.start_run(project, ["audio", "images", "videos"])
    run = wait_for(lambda: finished(started.run), timeout=120)
    assert run.status == RunStatus.SUCCEEDED, list(run.jobs.values_list("error", flat=True))
    assert_every_scene_made(project, media, 320, 180)


def test_it_runs_the_studio_preset_on_tiny_models(
    worker_factory, make_project, media, tiny_sd: Path, tiny_vits: Path
):
    worker_factory(
        STORYBOARD_BACKEND_FACTORY=REAL_BACKENDS,
        STORYBOARD_IMAGE_MODEL=str(tiny_sd),
        STORYBOARD_TTS_MODEL=str(tiny_vits),
        STORYBOARD_IMAGE_STEPS="2",
        STORYBOARD_DEVICE="cpu",
    ).start()
    project = make_project(
        ["A quiet harbour at dawn.", "Gulls circle the mast."],
        preset="studio",
        width=64,
        height=64,
        fps=8,
    )
    started = runs.start_run(project, ["audio", "images", "videos"])
    run = wait_for(lambda: finished(started.run), timeout=240)
    assert run.status == RunStatus.SUCCEEDED, list(run.jobs.values_list("error", flat=True))
    assert_every_scene_made(project, media, 64, 64)
