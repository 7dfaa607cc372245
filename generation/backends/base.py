"""The small interface every generation backend implements.

The engine hands a backend a `JobInput` (everything the job needs, resolved from the
database before the job starts, so a backend never touches the ORM) and a step callback.
The backend writes its result to a temporary file inside `job.work_dir` and returns it;
the engine renames it into place and records it in the same transaction that clears
the scene's dirty flag. A backend must call `on_step` regularly (per denoising step,
per frame batch): that call raises `JobCancelled` when the run was cancelled, and the
backend lets it propagate so partial output is discarded.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from media.ffmpeg import MediaError

# on_step(done, total): done steps out of total for this job. Raises JobCancelled.
StepCallback = Callable[[int, int], None]


class JobCancelled(Exception):
    """Raised from a step callback when the job's run was cancelled."""


class BackendError(Exception):
    """A failure with a message fit to show the creator as-is (one line)."""


class SystemicBackendError(BackendError):
    """A failure every later job would hit too (model missing, no memory at all)."""


@contextlib.contextmanager
def media_errors_as_backend_errors() -> Iterator[None]:
    """The media package's failures are the creator's to read too: the engine shows a
    BackendError's message as it is, and anything else as a crash."""
    try:
        yield
    except MediaError as error:
        raise BackendError(str(error)) from error


@dataclass(frozen=True)
class JobInput:
    stage: str
    sentence_id: int
    position: int
    text: str
    image_prompt: str
    style_prompt: str
    voice: str
    language: str
    width: int
    height: int
    fps: int
    camera_movement: str
    motion_strength: float
    seed: int
    work_dir: Path
    audio_path: Path | None = None
    audio_duration: float | None = None
    image_path: Path | None = None


@dataclass(frozen=True)
class GeneratedAsset:
    path: Path
    # Seconds, for audio (the scene's clip length follows it) and video.
    duration: float | None = None


class Backend(Protocol):
    def generate(self, job: JobInput, on_step: StepCallback) -> GeneratedAsset: ...


class BatchBackend(Backend, Protocol):
    """A backend that can make several jobs' assets in one model call (images on a GPU).

    The jobs share their size and settings; each keeps its own seed and prompt, so each asset
    is the one `generate` would make for it alone. `on_step` reports the batch's steps."""

    def generate_batch(
        self, jobs: list[JobInput], on_step: StepCallback
    ) -> list[GeneratedAsset]: ...
