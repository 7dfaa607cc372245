"""Progress of a run, computed from its job rows (never from counted events)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from django.db.models import Count, DurationField, F, Q, Sum

from generation.models import GenerationJob, GenerationRun, JobStatus


@dataclass
class StageProgress:
    stage: str
    total: int = 0
    done: int = 0
    failed: int = 0
    skipped: int = 0
    cancelled: int = 0
    running: int = 0
    queued: int = 0
    pending: int = 0
    # Seconds the finished jobs of this stage took, for the time-left estimate.
    seconds: float = 0.0

    @property
    def finished(self) -> int:
        return self.done + self.failed + self.skipped + self.cancelled

    @property
    def percent(self) -> int:
        return round(100 * self.finished / self.total) if self.total else 100

    @property
    def done_percent(self) -> float:
        return 100 * self.done / self.total if self.total else 0

    @property
    def running_percent(self) -> float:
        return 100 * self.running / self.total if self.total else 0

    @property
    def failed_percent(self) -> float:
        return 100 * (self.failed + self.skipped + self.cancelled) / self.total if self.total else 0

    @property
    def mean_seconds(self) -> float | None:
        return self.seconds / self.done if self.done else None


@dataclass
class Progress:
    run_id: int
    status: str
    current_stage: str
    stages: dict[str, StageProgress] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(s.total for s in self.stages.values())

    def _sum(self, name: str) -> int:
        return sum(getattr(s, name) for s in self.stages.values())

    @property
    def done(self) -> int:
        return self._sum("done")

    @property
    def failed(self) -> int:
        return self._sum("failed")

    @property
    def skipped(self) -> int:
        return self._sum("skipped")

    @property
    def cancelled(self) -> int:
        return self._sum("cancelled")

    @property
    def running(self) -> int:
        return self._sum("running")

    @property
    def finished(self) -> int:
        return self._sum("finished")

    @property
    def percent(self) -> int:
        return round(100 * self.finished / self.total) if self.total else 100

    @property
    def current(self) -> StageProgress | None:
        return self.stages.get(self.current_stage)

    @property
    def stage_line(self) -> str:
        """ "Generating images: 15/50 (30%)" """
        current = self.current
        if current is None:
            return ""
        return (
            f"Generating {current.stage}: {current.finished}/{current.total} ({current.percent}%)"
        )

    def as_json(self) -> dict:
        return {
            "runId": self.run_id,
            "status": self.status,
            "currentStage": self.current_stage or None,
            "total": self.total,
            "done": self.done,
            "failed": self.failed,
            "skipped": self.skipped,
            "cancelled": self.cancelled,
            "finished": self.finished,
            "percent": self.percent,
            "stages": {
                name: {k: v for k, v in asdict(s).items() if k not in ("stage", "seconds")}
                for name, s in self.stages.items()
            },
        }


def count(status: str) -> Count:
    return Count("id", filter=Q(status=status))


def run_progress(run: GenerationRun) -> Progress:
    """Overall and per-stage counts in one query."""
    progress = Progress(run.id, run.status, run.current_stage)
    for stage in run.stages:
        progress.stages[stage] = StageProgress(stage)
    rows = (
        GenerationJob.objects.filter(run_id=run.id)
        .values("stage")
        .annotate(
            total=Count("id"),
            done=count(JobStatus.SUCCEEDED),
            failed=count(JobStatus.FAILED),
            skipped=count(JobStatus.SKIPPED),
            cancelled=count(JobStatus.CANCELLED),
            running=count(JobStatus.RUNNING),
            queued=count(JobStatus.QUEUED),
            pending=count(JobStatus.PENDING),
            took=Sum(
                F("finished_at") - F("started_at"),
                filter=Q(status=JobStatus.SUCCEEDED),
                output_field=DurationField(),
            ),
        )
        .order_by()
    )
    for row in rows:
        stage = row.pop("stage")
        took = row.pop("took")
        progress.stages[stage] = StageProgress(
            stage, **row, seconds=took.total_seconds() if took else 0.0
        )
    return progress


def job_errors(run: GenerationRun) -> list[dict]:
    jobs = run.jobs.filter(status__in=[JobStatus.FAILED, JobStatus.SKIPPED]).order_by(
        "position", "id"
    )
    return [
        {
            "jobId": j.id,
            "sceneId": j.sentence_id,
            "position": j.position,
            "stage": j.stage,
            "status": j.status,
            "error": j.error,
        }
        for j in jobs
    ]
