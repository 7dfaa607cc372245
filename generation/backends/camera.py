"""The default video backend: the camera move over the still (`media.camera`), no model, a few
seconds of CPU per clip."""

from __future__ import annotations

from pathlib import Path

from media.camera import render_clip
from projects.vocabulary import Stage

from .base import (
    BackendError,
    GeneratedAsset,
    JobInput,
    StepCallback,
    media_errors_as_backend_errors,
)


def clip_job(
    image: Path | None,
    audio: Path | None,
    seconds: float,
    *,
    width: int,
    height: int,
    fps: int,
    work_dir: Path,
    camera_movement: str = "zoom_in",
    motion_strength: float = 0.5,
    **scene: object,
) -> JobInput:
    """A videos-stage job for a clip made outside a run (benchmarks, tests)."""
    fields: dict[str, object] = {
        "sentence_id": 1,
        "position": 1,
        "text": "",
        "image_prompt": "",
        "seed": 1,
        **scene,
    }
    return JobInput(
        stage=Stage.VIDEOS,
        style_prompt="",
        voice="",
        language="en",
        width=width,
        height=height,
        fps=fps,
        camera_movement=camera_movement,
        motion_strength=motion_strength,
        work_dir=work_dir,
        audio_path=audio,
        audio_duration=seconds,
        image_path=image,
        **fields,  # type: ignore[arg-type]
    )


class CameraMoveBackend:
    """The default video backend: no model, a few seconds of CPU per clip."""

    def generate(self, job: JobInput, on_step: StepCallback) -> GeneratedAsset:
        if job.image_path is None:
            raise BackendError("This scene has no image yet.")
        with media_errors_as_backend_errors():
            output, seconds = render_clip(
                job.image_path,
                job.audio_path,
                audio_seconds=job.audio_duration,
                width=job.width,
                height=job.height,
                fps=job.fps,
                camera_movement=job.camera_movement,
                motion_strength=job.motion_strength,
                work_dir=job.work_dir,
                on_step=on_step,
            )
        return GeneratedAsset(path=output, duration=seconds)
