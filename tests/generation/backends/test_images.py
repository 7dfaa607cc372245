from __future__ import annotations

import logging

import numpy as np
import pytest
from PIL import Image

from generation.backends.base import JobCancelled, SystemicBackendError
from generation.backends.registry import get_backend, load_count
from projects.vocabulary import Stage
from tests.support.media_files import StepRecorder


def pixels(path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def test_png_of_the_project_size(studio, make_job, steps) -> None:
    # 72x40 is not a multiple of the model's 16 pixels: generated larger, cropped exactly.
    asset = get_backend(Stage.IMAGES, "studio").generate(
        make_job(stage=Stage.IMAGES, width=72, height=40), steps
    )
    with Image.open(asset.path) as image:
        assert image.format == "PNG" and image.size == (72, 40)
    assert asset.path.parent == make_job().work_dir
    assert steps.calls == [(0, 2), (1, 2), (2, 2)]


def test_same_seed_same_image(studio, make_job, steps) -> None:
    backend = get_backend(Stage.IMAGES, "studio")
    first = pixels(backend.generate(make_job(stage=Stage.IMAGES, seed=7), steps).path)
    again = pixels(backend.generate(make_job(stage=Stage.IMAGES, seed=7), steps).path)
    other = pixels(backend.generate(make_job(stage=Stage.IMAGES, seed=8), steps).path)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_model_loads_once_per_worker(studio, make_job, steps) -> None:
    before = load_count("images")
    get_backend(Stage.IMAGES, "studio").generate(make_job(stage=Stage.IMAGES), steps)
    get_backend(Stage.IMAGES, "studio").generate(make_job(stage=Stage.IMAGES, seed=2), steps)
    assert load_count("images") == before + 1


def test_cancel_stops_within_one_step(studio, make_job) -> None:
    studio.STORYBOARD_IMAGE_STEPS = 5
    job = make_job(stage=Stage.IMAGES)
    recorder = StepRecorder(cancel_at_done=2)
    with pytest.raises(JobCancelled):
        get_backend(Stage.IMAGES, "studio").generate(job, recorder)
    assert recorder.calls == [(0, 5), (1, 5), (2, 5)]
    assert list(job.work_dir.iterdir()) == []


def test_long_prompt_is_truncated_with_a_warning(studio, make_job, steps, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="generation.backends.images"):
        asset = get_backend(Stage.IMAGES, "studio").generate(
            make_job(stage=Stage.IMAGES, image_prompt="lighthouse " * 40), steps
        )
    assert asset.path.exists()
    assert any("over the model's" in record.getMessage() for record in caplog.records)


def test_missing_model_folder_names_the_setting(studio, make_job, steps, tmp_path) -> None:
    studio.STORYBOARD_IMAGE_MODEL = str(tmp_path / "no-such-model")
    with pytest.raises(SystemicBackendError) as caught:
        get_backend(Stage.IMAGES, "studio").generate(make_job(stage=Stage.IMAGES), steps)
    message = str(caught.value)
    assert "folder not found" in message and "STORYBOARD_IMAGE_MODEL" in message
    assert "\n" not in message


def test_uncached_hub_model_offline_is_systemic(studio, make_job, steps) -> None:
    studio.STORYBOARD_IMAGE_MODEL = "storyboard-tests/not-a-real-model"
    with pytest.raises(SystemicBackendError, match="STORYBOARD_IMAGE_MODEL") as caught:
        get_backend(Stage.IMAGES, "studio").generate(make_job(stage=Stage.IMAGES), steps)
    assert "download_models" in str(caught.value)
