"""Fixtures for the backend tests: tiny random-weight models built once per session."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from generation.backends.base import JobInput
from generation.backends.registry import release_backends
from tests.support.media_files import StepRecorder
from tests.support.tiny_models import build_tiny_sd, build_tiny_svd, build_tiny_vits


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


@pytest.fixture
def steps() -> StepRecorder:
    return StepRecorder()
