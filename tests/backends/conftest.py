"""Fixtures for the backend tests: tiny random-weight models built once per session."""

from __future__ import annotations

import math
import wave
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw

from generation.backends.base import JobCancelled, JobInput
from generation.backends.registry import release_backends

from .tiny_models import build_tiny_sd, build_tiny_svd, build_tiny_vits


@pytest.fixture(scope="session", autouse=True)
def _few_threads() -> None:
    import torch

    # Tiny models gain nothing from threads, and the test machine is shared.
    torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _fresh_registry() -> Iterator[None]:
    release_backends()
    yield
    release_backends()


@pytest.fixture(scope="session")
def tiny_sd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_sd(tmp_path_factory.mktemp("models") / "sd")


@pytest.fixture(scope="session")
def tiny_svd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_svd(tmp_path_factory.mktemp("models") / "svd")


@pytest.fixture(scope="session")
def tiny_vits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_vits(tmp_path_factory.mktemp("models") / "vits")


@pytest.fixture(scope="session")
def tiny_vits_speakers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_vits(
        tmp_path_factory.mktemp("models") / "vits-speakers", speakers=["alice", "bob"]
    )


@pytest.fixture
def studio(settings: Any, tiny_sd: Path, tiny_vits: Path, tiny_svd: Path) -> Any:
    """Settings pointing the studio preset at the tiny models, on the CPU."""
    settings.STORYBOARD_TTS_MODEL = str(tiny_vits)
    settings.STORYBOARD_IMAGE_MODEL = str(tiny_sd)
    settings.STORYBOARD_IMAGE_STEPS = 2
    settings.STORYBOARD_IMAGE_GUIDANCE = 0.0
    settings.STORYBOARD_SVD_MODEL = str(tiny_svd)
    settings.STORYBOARD_SVD_STEPS = 2
    settings.STORYBOARD_VIDEO_BACKEND = "camera"
    settings.STORYBOARD_DEVICE = "cpu"
    settings.STORYBOARD_FREE_MODELS_BETWEEN_STAGES = False
    settings.STORYBOARD_HUB_OFFLINE = True
    return settings


def write_tone(path: Path, seconds: float, sample_rate: int = 22050) -> Path:
    t = np.arange(round(seconds * sample_rate)) / sample_rate
    samples = (np.sin(2 * math.pi * 440 * t) * 0.3 * 32767).astype("<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(samples.tobytes())
    return path


def write_test_image(path: Path, width: int, height: int) -> Path:
    """A grid with a red disc in the middle: moves are easy to see and to measure."""
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    step = max(4, width // 16)
    for x in range(0, width, step):
        draw.line([(x, 0), (x, height)], fill=(128, 128, 128))
    for y in range(0, height, step):
        draw.line([(0, y), (width, y)], fill=(128, 128, 128))
    r = min(width, height) // 6
    draw.ellipse([width // 2 - r, height // 2 - r, width // 2 + r, height // 2 + r], fill="red")
    image.save(path)
    return path


@pytest.fixture
def make_job(tmp_path: Path) -> Callable[..., JobInput]:
    work_dir = tmp_path / "work"
    work_dir.mkdir()

    def make(**changes: Any) -> JobInput:
        job = JobInput(
            stage="videos",
            sentence_id=1,
            position=3,
            text="The keeper climbed the stairs one last time.",
            image_prompt="a lighthouse on a cliff at dusk",
            style_prompt="watercolor",
            voice="",
            language="en",
            width=64,
            height=64,
            fps=24,
            camera_movement="zoom_in",
            motion_strength=1.0,
            seed=42,
            work_dir=work_dir,
        )
        return replace(job, **changes)

    return make


class StepRecorder:
    """An on_step that records calls and, like the engine's, can raise JobCancelled."""

    def __init__(self, *, cancel_at_done: int | None = None, cancel_at_call: int | None = None):
        self.calls: list[tuple[int, int]] = []
        self.cancel_at_done = cancel_at_done
        self.cancel_at_call = cancel_at_call

    def __call__(self, done: int, total: int) -> None:
        self.calls.append((done, total))
        if self.cancel_at_done is not None and done >= self.cancel_at_done:
            raise JobCancelled()
        if self.cancel_at_call is not None and len(self.calls) >= self.cancel_at_call:
            raise JobCancelled()


@pytest.fixture
def steps() -> StepRecorder:
    return StepRecorder()
