"""A benchmark backend whose jobs take a fixed time (LIVE_BENCH_JOB_SECONDS, default 0.05 s)
and which records, for every job, the moment its completion was committed.

`record_asset` commits the job's "succeeded" row and the scene's new asset in one
transaction; this module wraps it so that right after that commit the worker appends
"<job id> <epoch seconds>" to LIVE_BENCH_COMMITS. Imported only by the worker that runs
the benchmark (through STORYBOARD_BACKEND_FACTORY).
"""

from __future__ import annotations

import os
import time

from benchmarks.instant_backend import SECONDS, asset_bytes
from generation import worker
from generation.backends.base import GeneratedAsset, JobInput, StepCallback

JOB_SECONDS = float(os.environ.get("LIVE_BENCH_JOB_SECONDS", "0.05"))
COMMITS = os.environ.get("LIVE_BENCH_COMMITS", "")

_record_asset = worker.record_asset


def record_asset_and_log_commit(job, asset):  # type: ignore[no-untyped-def]
    _record_asset(job, asset)  # returns once its transaction has committed
    committed = time.time()
    if COMMITS:
        with open(COMMITS, "a") as f:
            f.write(f"{job.id} {committed:.6f}\n")


worker.record_asset = record_asset_and_log_commit


class TimedBackend:
    def generate(self, job: JobInput, on_step: StepCallback) -> GeneratedAsset:
        on_step(0, 1)
        time.sleep(JOB_SECONDS)
        # Real assets: the engine verifies each before recording it.
        path = job.work_dir / {"audio": "a.wav", "images": "i.png", "videos": "v.mp4"}[job.stage]
        path.write_bytes(asset_bytes(job.stage, job.width, job.height, job.fps))
        on_step(1, 1)
        return GeneratedAsset(path, duration=SECONDS)


def make_backend(stage: str, preset: str) -> TimedBackend:
    return TimedBackend()
