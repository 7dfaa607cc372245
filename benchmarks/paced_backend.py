"""A benchmark backend whose jobs take a set time per stage, with some spread
(QUOTE_BENCH_SECONDS, e.g. "audio=0.04,images=0.08,videos=0.15"; ±30% per scene, fixed
by the scene id), so a quote has something real to be right or wrong about."""

from __future__ import annotations

import os
import random
import time

from benchmarks.instant_backend import SECONDS as SECOND
from benchmarks.instant_backend import asset_bytes
from generation.backends.base import GeneratedAsset, JobInput, StepCallback

SECONDS = {
    stage: float(value)
    for stage, value in (
        part.split("=")
        for part in os.environ.get(
            "QUOTE_BENCH_SECONDS", "audio=0.04,images=0.08,videos=0.15"
        ).split(",")
    )
}


class PacedBackend:
    def __init__(self, stage: str):
        self.stage = stage

    def generate(self, job: JobInput, on_step: StepCallback) -> GeneratedAsset:
        spread = random.Random(job.sentence_id * 7 + len(self.stage)).uniform(0.7, 1.3)
        on_step(0, 2)
        time.sleep(SECONDS[self.stage] * spread / 2)
        on_step(1, 2)
        time.sleep(SECONDS[self.stage] * spread / 2)
        path = job.work_dir / {"audio": "a.wav", "images": "i.png", "videos": "v.mp4"}[self.stage]
        # Real media (the engine verifies each asset), made once per kind and size.
        path.write_bytes(asset_bytes(self.stage, job.width, job.height, job.fps))
        on_step(2, 2)
        return GeneratedAsset(path, duration=SECOND)


def make_backend(stage: str, preset: str) -> PacedBackend:
    return PacedBackend(stage)
