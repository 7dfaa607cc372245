from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from generation.backends.base import SystemicBackendError
from generation.backends.camera import CameraMoveBackend
from generation.backends.devices import resolve_device
from generation.backends.registry import get_backend, load_count, release_backends
from projects.vocabulary import Stage


def test_backends_are_cached_per_settings(studio) -> None:
    first = get_backend(Stage.IMAGES, "studio")
    assert get_backend(Stage.IMAGES, "studio") is first
    studio.STORYBOARD_IMAGE_STEPS = 3
    assert get_backend(Stage.IMAGES, "studio") is not first


def test_studio_video_is_the_camera_by_default(studio) -> None:
    assert isinstance(get_backend(Stage.VIDEOS, "studio"), CameraMoveBackend)


def test_freeing_models_between_stages(studio, make_job, steps) -> None:
    studio.STORYBOARD_FREE_MODELS_BETWEEN_STAGES = True
    images = get_backend(Stage.IMAGES, "studio")
    images.generate(make_job(stage=Stage.IMAGES), steps)
    get_backend(Stage.AUDIO, "studio")  # next stage: the image model is let go
    assert images.pipeline is None  # type: ignore[attr-defined]
    before = load_count("images")
    get_backend(Stage.IMAGES, "studio").generate(make_job(stage=Stage.IMAGES), steps)
    assert load_count("images") == before + 1


def test_release_backends_keeps_one_stage(studio) -> None:
    audio = get_backend(Stage.AUDIO, "studio")
    get_backend(Stage.IMAGES, "studio")
    assert release_backends(except_stage=Stage.AUDIO) == 1
    assert get_backend(Stage.AUDIO, "studio") is audio


def test_unknown_preset_is_systemic() -> None:
    with pytest.raises(SystemicBackendError, match="STORYBOARD_PRESET"):
        get_backend(Stage.IMAGES, "cinema")


def test_auto_device_is_the_cpu_without_a_gpu() -> None:
    import torch

    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")


def test_check_models_draft(capsys) -> None:
    call_command("check_models", preset="draft")
    assert "ok   ffmpeg" in capsys.readouterr().out


def test_check_models_studio_loads_each_model(studio, capsys) -> None:
    studio.STORYBOARD_VIDEO_BACKEND = "svd"
    call_command("check_models", preset="studio")
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 4 and all(line.startswith("ok") for line in lines)


def test_check_models_reports_a_missing_model(studio, tmp_path, capsys) -> None:
    studio.STORYBOARD_IMAGE_MODEL = str(tmp_path / "gone")
    with pytest.raises(CommandError) as caught:
        call_command("check_models", preset="studio")
    assert caught.value.returncode == 1
    out = capsys.readouterr().out
    assert "FAIL image model" in out and "STORYBOARD_IMAGE_MODEL" in out


def test_download_models_reports_a_missing_folder(studio, tmp_path, capsys) -> None:
    studio.STORYBOARD_IMAGE_MODEL = str(tmp_path / "gone")
    with pytest.raises(CommandError):
        call_command("download_models")
    out = capsys.readouterr().out
    assert "folder not found" in out and "ok   " in out  # the TTS folder is there
