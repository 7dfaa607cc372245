"""Image to video with Stable Video Diffusion (GPU), loaded once per worker.

SVD makes a couple of seconds of motion (14 or 25 frames); the scene's clip must last as long as
its narration, so the frames are played at SVD's own pace, blended in between for the clip's fps,
and ping-ponged when the narration is longer. Encoding shares `media.clip_output_args` with the
camera backend so the exporter can join any mix of clips without re-encoding.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

from media.camera import clip_seconds, fit_image
from media.ffmpeg import (
    check_video_size,
    clip_frame_count,
    encode_frames,
    new_temp_path,
    removed_on_error,
)

from .base import (
    BackendError,
    GeneratedAsset,
    JobInput,
    StepCallback,
    media_errors_as_backend_errors,
)
from .devices import (
    LOAD_COUNTS,
    model_load_error,
    model_source,
    out_of_memory_as_job_error,
    resolve_device,
    torch_dtype,
)

logger = logging.getLogger(__name__)

SETTING = "STORYBOARD_SVD_MODEL"
# SVD is conditioned on, and looks natural at, about 7 frames per second of source motion.
SOURCE_FPS = 7
# SVD-XT is trained at 1024x576; larger costs memory for no gain.
MAX_SIDE = 1024
SIZE_MULTIPLE = 64


def generation_size(width: int, height: int, max_side: int = MAX_SIDE) -> tuple[int, int]:
    """The project's aspect at a size SVD handles: longest side <= max_side, multiples of 64."""
    scale = min(1.0, max_side / max(width, height))

    def snap(value: float) -> int:
        return max(SIZE_MULTIPLE, round(value * scale / SIZE_MULTIPLE) * SIZE_MULTIPLE)

    return snap(width), snap(height)


def motion_bucket(strength: float) -> int:
    """motion_strength 0..1 onto SVD's motion_bucket_id 1..255 (127 is the model's default)."""
    return 1 + round(min(max(strength, 0.0), 1.0) * 254)


def source_positions(count: int, fps: int, source_frames: int) -> Iterator[float]:
    """For each output frame, the (fractional) source frame to show, ping-ponging at the end."""
    last = source_frames - 1
    for index in range(count):
        position = index * SOURCE_FPS / fps
        if last == 0:
            yield 0.0
            continue
        position %= 2 * last
        yield position if position <= last else 2 * last - position


def retimed_frames(frames: np.ndarray, count: int, fps: int) -> Iterator[bytes]:
    """`count` RGB frames at `fps`, blending neighbouring source frames so motion stays smooth."""
    for position in source_positions(count, fps, len(frames)):
        low = int(position)
        high = min(low + 1, len(frames) - 1)
        weight = position - low
        frame = frames[low] * (1.0 - weight) + frames[high] * weight
        yield np.clip(frame * 255.0 + 0.5, 0, 255).astype(np.uint8).tobytes()


class StableVideoBackend:
    def __init__(
        self,
        model: str,
        *,
        steps: int = 25,
        device: str = "auto",
        offline: bool = True,
        max_side: int = MAX_SIDE,
    ) -> None:
        self.model = model
        self.steps = max(1, int(steps))
        self.device = resolve_device(device)
        self.offline = offline
        self.max_side = max_side
        self.pipeline: Any = None
        self._lock = threading.RLock()

    def load(self) -> None:
        with self._lock:
            if self.pipeline is None:
                self.pipeline = self._load()
                LOAD_COUNTS["svd"] += 1

    def _load(self) -> Any:
        from diffusers import StableVideoDiffusionPipeline

        source = model_source("Video", self.model, SETTING, offline=self.offline)
        try:
            pipeline = StableVideoDiffusionPipeline.from_pretrained(
                source, dtype=torch_dtype(self.device), local_files_only=self.offline
            )
            pipeline.to(self.device)
        except Exception as error:
            raise model_load_error(
                "Video", self.model, SETTING, error, offline=self.offline
            ) from error
        pipeline.set_progress_bar_config(disable=True)
        logger.info("Loaded video model %s on %s.", self.model, self.device)
        return pipeline

    def unload(self) -> None:
        with self._lock:
            self.pipeline = None

    def generate(self, job: JobInput, on_step: StepCallback) -> GeneratedAsset:
        import torch

        if job.image_path is None:
            raise BackendError("This scene has no image yet.")
        with media_errors_as_backend_errors():
            check_video_size(job.width, job.height)
            count = clip_frame_count(clip_seconds(job.audio_path, job.audio_duration), job.fps)
            gen_w, gen_h = generation_size(job.width, job.height, self.max_side)
            image = fit_image(job.image_path, gen_w, gen_h)
        # Encoding counts as one last step, so progress never runs backwards.
        total = self.steps + 1

        def step_end(pipe: Any, step: int, timestep: Any, tensors: dict[str, Any]) -> Any:
            # SVD has no interrupt flag: raising here (JobCancelled) is what stops it.
            on_step(step + 1, total)
            return tensors

        self.load()
        with self._lock:
            pipeline = self.pipeline
            on_step(0, total)
            with out_of_memory_as_job_error("the video clip"):
                result = pipeline(
                    image,
                    width=gen_w,
                    height=gen_h,
                    num_frames=pipeline.unet.config.num_frames,
                    num_inference_steps=self.steps,
                    motion_bucket_id=motion_bucket(job.motion_strength),
                    fps=SOURCE_FPS,
                    decode_chunk_size=4,
                    generator=torch.Generator(device="cpu").manual_seed(job.seed),
                    output_type="np",
                    callback_on_step_end=step_end,
                )
        frames = np.asarray(result.frames[0], dtype=np.float32)
        output = new_temp_path(job.work_dir, "video-", ".mp4")
        with removed_on_error(output), media_errors_as_backend_errors():
            encode_frames(
                retimed_frames(frames, count, job.fps),
                frame_size=(frames.shape[2], frames.shape[1]),
                count=count,
                fps=job.fps,
                width=job.width,
                height=job.height,
                audio_path=job.audio_path,
                output=output,
                on_step=lambda done, of: on_step(self.steps + (done == of), total),
            )
        return GeneratedAsset(path=output, duration=count / job.fps)
