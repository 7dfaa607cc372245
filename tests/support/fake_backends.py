"""A fast backend for engine tests, steered by the scene text so a separate worker
process behaves the same way the test expects:

- "FAIL" in the text: the job fails with a readable reason.
- "SLOW" in the text: ten steps of 0.3 s each (time to cancel or kill mid-job).
- "NOMODEL" in the text: fails with the same systemic error every time (after its ten
  steps if also "SLOW").
- "BIG" in the text: writes a 12 MB asset (to hit a worker's file size limit).
- anything else: two instant steps (FAKE_JOB_SECONDS in the worker's environment makes
  them take that long in all, for the time quotes).

Each call appends a line to MEDIA_ROOT/calls.log so tests can count how often a job
really ran to completion. What it makes is real media of the job's size and length (the
engine verifies every asset before recording it): 1.5 s of silence, a plain picture, and a
clip as long as the narration, encoded once per process and copied.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
import time
import wave
from pathlib import Path

from django.conf import settings
from PIL import Image

from generation.backends.base import (
    BackendError,
    GeneratedAsset,
    JobInput,
    StepCallback,
    SystemicBackendError,
)
from media.ffmpeg import DEFAULT_CLIP_SECONDS, clip_output_args, ffmpeg_exe

SUFFIX = {"audio": ".wav", "images": ".png", "videos": ".mp4"}


class FakeBackend:
    def __init__(self, stage: str):
        self.stage = stage

    def generate(self, job: JobInput, on_step: StepCallback) -> GeneratedAsset:
        if "NOMODEL" in job.text and "SLOW" not in job.text:
            raise no_model()
        pace = float(os.environ.get("FAKE_JOB_SECONDS", "0"))
        steps, delay = (10, 0.3) if "SLOW" in job.text else (2, pace / 2)
        path = job.work_dir / f"partial{SUFFIX[self.stage]}"
        with open(path, "wb") as f:
            for step in range(steps):
                on_step(step, steps)
                f.write(f"{self.stage} {job.sentence_id} step {step}\n".encode())
                if delay:
                    time.sleep(delay)
            if "BIG" in job.text:
                f.write(b"\0" * 12_000_000)
            if "NOMODEL" in job.text:  # slowly: it fails while other jobs run
                raise no_model()
            if "FAIL" in job.text:
                raise BackendError(f"The model refused scene {job.position}: it says FAIL.")
            on_step(steps, steps)
        write_real(self.stage, job, path)
        log = Path(settings.MEDIA_ROOT) / "calls.log"
        with open(log, "a") as f:
            f.write(f"{self.stage} {job.sentence_id} {os.getpid()}\n")
        return GeneratedAsset(path, duration=1.5 if self.stage == "audio" else None)


def no_model() -> SystemicBackendError:
    return SystemicBackendError(
        "Image model 'missing/model' could not be loaded: folder not found. "
        "Set STORYBOARD_IMAGE_MODEL to a local folder or hub id."
    )


def make_backend(stage: str, preset: str) -> FakeBackend:
    return FakeBackend(stage)


AUDIO_SECONDS = 1.5


def write_real(stage: str, job: JobInput, path: Path) -> None:
    if stage == "audio":
        with wave.open(str(path), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(8000)
            wav.writeframes(b"\0\0" * int(AUDIO_SECONDS * 8000))
    elif stage == "images":
        Image.new("RGB", (job.width, job.height), (90, 120, 160)).save(path, format="PNG")
    else:
        seconds = job.audio_duration or DEFAULT_CLIP_SECONDS
        shutil.copyfile(clip(job.width, job.height, job.fps, seconds), path)


@functools.cache
def clip(width: int, height: int, fps: int, seconds: float) -> Path:
    """A real scene clip of this size and length, made once per process."""
    path = Path(tempfile.mkdtemp(prefix="fake-clip-")) / "clip.mp4"
    frames = max(1, round(seconds * fps))
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
         "-f", "lavfi", "-i", f"color=c=gray:s={width}x{height}:r={fps}",
         "-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo",
         "-frames:v", str(frames), "-t", f"{frames / fps:.6f}",
         *clip_output_args(width, height, fps), str(path)],
        check=True,
    )  # fmt: skip
    return path
