"""A fast backend for engine tests, steered by the scene text so a separate worker
process behaves the same way the test expects:

- "FAIL" in the text: the job fails with a readable reason.
- "SLOW" in the text: ten steps of 0.3 s each (time to cancel or kill mid-job).
- "NOMODEL" in the text: fails with the same systemic error every time.
- "BIG" in the text: writes a 12 MB asset (to hit a worker's file size limit).
- anything else: two instant steps.

Each call appends a line to MEDIA_ROOT/calls.log so tests can count how often a job
really ran to completion.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from django.conf import settings

from generation.backends.base import (
    BackendError,
    GeneratedAsset,
    JobInput,
    StepCallback,
    SystemicBackendError,
)

SUFFIX = {"audio": ".wav", "images": ".png", "videos": ".mp4"}


class FakeBackend:
    def __init__(self, stage: str):
        self.stage = stage

    def generate(self, job: JobInput, on_step: StepCallback) -> GeneratedAsset:
        if "NOMODEL" in job.text:
            raise SystemicBackendError(
                "Image model 'missing/model' could not be loaded: folder not found. "
                "Set STORYBOARD_IMAGE_MODEL to a local folder or hub id."
            )
        steps, delay = (10, 0.3) if "SLOW" in job.text else (2, 0.0)
        path = job.work_dir / f"partial{SUFFIX[self.stage]}"
        with open(path, "wb") as f:
            for step in range(steps):
                on_step(step, steps)
                f.write(f"{self.stage} {job.sentence_id} step {step}\n".encode())
                if delay:
                    time.sleep(delay)
            if "BIG" in job.text:
                f.write(b"\0" * 12_000_000)
            if "FAIL" in job.text:
                raise BackendError(f"The model refused scene {job.position}: it says FAIL.")
            on_step(steps, steps)
        log = Path(settings.MEDIA_ROOT) / "calls.log"
        with open(log, "a") as f:
            f.write(f"{self.stage} {job.sentence_id} {os.getpid()}\n")
        return GeneratedAsset(path, duration=1.5 if self.stage == "audio" else None)


def make_backend(stage: str, preset: str) -> FakeBackend:
    return FakeBackend(stage)
