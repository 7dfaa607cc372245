"""How long a run will take: the quote before the click and the time left during it.

One model for both. A stage's time per job is, in order of preference:
1. this run's own finished jobs of that stage (time left only),
2. the median of recent jobs of that stage in earlier runs of projects with the same
   preset and size (measured on the workers that served that stage),
3. the preset's documented default below (quotes only: the time left says
   "estimating…" rather than count down from a guess).
Jobs of a stage run side by side on the live workers that serve it, so a stage takes
ceil(jobs / worker threads) rounds of (time per job + the engine's own overhead).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F

from generation.models import GenerationJob, GenerationRun, JobStatus, RunStatus, Worker
from projects.models import Project
from projects.vocabulary import STAGE_ORDER, Preset, Stage

# Seconds per job with no history, per preset and stage. Draft: an espeak-ng line, a
# drawn card, a camera-move clip on one CPU core. Studio: coqui-tts, an SD image and a
# camera-move clip on one mid-range GPU. Replaced by real figures after the first run.
DEFAULT_JOB_SECONDS: dict[str, dict[str, float]] = {
    Preset.DRAFT: {Stage.AUDIO: 0.5, Stage.IMAGES: 0.3, Stage.VIDEOS: 2.0},
    Preset.STUDIO: {Stage.AUDIO: 4.0, Stage.IMAGES: 15.0, Stage.VIDEOS: 8.0},
}
# Claiming a job, recording its asset and waking the page: measured at about 20-40 ms
# per job on the embedded default (docs/benchmarks.md).
JOB_OVERHEAD_SECONDS = 0.03
# How many recent jobs of a stage the median is taken over.
HISTORY_JOBS = 50

THIS_RUN, HISTORY, DEFAULT = "this run", "history", "default"


@dataclass
class StageQuote:
    stage: str
    jobs: int
    per_job: float
    workers: int
    basis: str

    @property
    def seconds(self) -> float:
        if not self.jobs:
            return 0.0
        return math.ceil(self.jobs / max(self.workers, 1)) * (self.per_job + JOB_OVERHEAD_SECONDS)

    def as_json(self) -> dict[str, Any]:
        return {
            "jobs": self.jobs,
            "seconds": round(self.seconds, 2),
            "perJob": round(self.per_job, 3),
            "workers": self.workers,
            "basis": self.basis,
        }


@dataclass
class Quote:
    stages: list[StageQuote] = field(default_factory=list)

    @property
    def jobs(self) -> int:
        return sum(s.jobs for s in self.stages)

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.stages)

    @property
    def label(self) -> str:
        """ "30 jobs · about 4 min" """
        if not self.jobs:
            return "nothing to make"
        return f"{self.jobs} job{'s' if self.jobs != 1 else ''} · {about(self.seconds)}"

    def as_json(self) -> dict[str, Any]:
        return {s.stage: s.as_json() for s in self.stages}


def about(seconds: float) -> str:
    """Rounded the way people say it."""
    if seconds < 1:
        return "under a second"
    if seconds < 60:
        return f"about {max(1, round(seconds))} s"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"about {minutes} min"
    return f"about {seconds / 3600:.1f} h"


def default_seconds(preset: str, stage: str) -> float:
    return DEFAULT_JOB_SECONDS.get(preset, DEFAULT_JOB_SECONDS[Preset.DRAFT])[stage]


def live_capacity(found: Iterable[tuple[list[str], int]] | None = None) -> dict[str, int]:
    """Worker threads that can run each stage's jobs right now, from (stages, threads)
    of the live workers (read here unless given)."""
    capacity = dict.fromkeys(STAGE_ORDER, 0)
    if found is None:
        found = Worker.objects.live().values_list("stages", "threads")
    for stages, threads in found:
        for stage in stages:
            if stage in capacity:
                capacity[stage] += threads
    return capacity


def median_job_seconds(project: Project, stage: str, before_run: int | None = None) -> float | None:
    """The median time of recent jobs of `stage` for projects of this preset and size."""
    jobs = GenerationJob.objects.filter(
        stage=stage,
        status=JobStatus.SUCCEEDED,
        started_at__isnull=False,
        finished_at__isnull=False,
        run__project__preset=project.preset,
        run__project__width=project.width,
        run__project__height=project.height,
    )
    if before_run is not None:
        jobs = jobs.filter(run_id__lt=before_run)
    took = (
        jobs.order_by("-finished_at")
        .annotate(took=F("finished_at") - F("started_at"))
        .values_list("took", flat=True)[:HISTORY_JOBS]
    )
    seconds = [t.total_seconds() for t in took if t is not None]
    return statistics.median(seconds) if seconds else None


class Estimator:
    """Quotes for one project, reading history and workers once however many options."""

    def __init__(self, project: Project, capacity: dict[str, int] | None = None):
        self.project = project
        self.capacity = live_capacity() if capacity is None else capacity
        self._per_job: dict[str, tuple[float, str]] = {}

    def per_job(self, stage: str) -> tuple[float, str]:
        if stage not in self._per_job:
            median = median_job_seconds(self.project, stage)
            if median is not None:
                self._per_job[stage] = (median, HISTORY)
            else:
                self._per_job[stage] = (default_seconds(self.project.preset, stage), DEFAULT)
        return self._per_job[stage]

    def quote(self, job_counts: dict[str, int], inline: bool = False) -> Quote:
        stages = []
        for stage in STAGE_ORDER:
            if stage not in job_counts:
                continue
            per_job, basis = self.per_job(stage)
            # With no live worker yet the run waits for one: quote for one.
            workers = 1 if inline else max(self.capacity.get(stage, 0), 1)
            stages.append(StageQuote(stage, job_counts[stage], per_job, workers, basis))
        return Quote(stages)


def seconds_left(run: GenerationRun, progress: Any, capacity: dict[str, int]) -> float | None:
    """What is left of an active run, stage by stage; None while it can't honestly say
    (paused, or no job time known for the stage now running)."""
    if run.status != RunStatus.RUNNING:
        return None
    left = 0.0
    for name, stage in progress.stages.items():
        remaining = stage.pending + stage.queued + 0.5 * stage.running
        if not remaining:
            continue
        if stage.done:
            per_job = stage.seconds / stage.done
        else:
            quoted = (run.quote or {}).get(name) or {}
            if quoted.get("basis") != HISTORY:
                if name == progress.current_stage:
                    return None
                # A later stage with nothing measured yet: the preset default, rather than
                # borrowing another stage's speed.
                per_job = default_seconds(run.project.preset, name)
            else:
                per_job = float(quoted["perJob"])
        workers = 1 if run.inline else max(capacity.get(name, 0), 1)
        left += remaining / workers * (per_job + JOB_OVERHEAD_SECONDS)
    return left
