"""The generation workflow: start a run, move it stage by stage, steer it, cancel, pause.

The database rows are the truth. Huey tasks carry only a job id; every state change is
a conditional UPDATE so two workers (or a worker and the reaper) never both win, and
every change sends a wake-up so open pages re-read the rows.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone

from generation import estimates, notify, webhooks
from generation.models import GenerationJob, GenerationRun, JobStatus, Origin, RunStatus
from generation.planner import NO_AUDIO, NO_IMAGE, NOT_APPROVED, plan
from projects.models import Project, Sentence
from projects.vocabulary import ASSET_STAGE, STAGE_ORDER, Asset, Stage
from work import queue

log = logging.getLogger(__name__)


class RunInProgress(Exception):
    def __init__(self, run: GenerationRun):
        super().__init__(f"Run {run.id} is still in progress for this project.")
        self.run = run


@dataclass
class StartedRun:
    run: GenerationRun | None
    job_counts: dict[str, int]
    quote: estimates.Quote | None = None

    @property
    def total_jobs(self) -> int:
        return sum(self.job_counts.values())


def start_run(
    project: Project,
    stages: Iterable[str],
    skip_clean: bool = True,
    origin: str = Origin.PAGE,
    user: Any = None,
    only: set[tuple[int, str]] | None = None,
    retry_of: GenerationRun | None = None,
    inline: bool = False,
    review_before_clips: bool = False,
    label: str = "",
) -> StartedRun:
    """Plan every job and queue the first stage. Raises RunInProgress, PlanError."""
    stages = list(stages)
    with transaction.atomic():
        active = project.runs.active().first()
        if active is not None:
            raise RunInProgress(active)
        planned = plan(project.sentences.all(), stages, skip_clean, only)
        counts = {stage: 0 for stage in STAGE_ORDER if stage in stages}
        for job in planned:
            counts[job.stage] += 1
        if not planned:
            return StartedRun(None, counts)
        to_make = {stage: 0 for stage in counts}
        for job in planned:
            if not job.skip_reason:
                to_make[job.stage] += 1
        quote = estimates.Estimator(project).quote(to_make, inline=inline)
        try:
            # The partial unique index settles a race the check above can't see.
            with transaction.atomic():
                run = GenerationRun.objects.create(
                    project=project,
                    stages=[s for s in STAGE_ORDER if s in stages],
                    skip_clean=skip_clean,
                    status=RunStatus.RUNNING,
                    origin=origin,
                    started_by=user if getattr(user, "is_authenticated", False) else None,
                    retry_of=retry_of,
                    inline=inline,
                    review_before_clips=review_before_clips
                    and {Stage.IMAGES, Stage.VIDEOS} <= set(stages),
                    label=label,
                    quote_seconds=quote.seconds,
                    quote=quote.as_json(),
                )
        except IntegrityError:
            raise RunInProgress(project.runs.active().get()) from None
        now = timezone.now()
        GenerationJob.objects.bulk_create(
            GenerationJob(
                run=run,
                sentence=job.sentence,
                position=job.sentence.position,
                stage=job.stage,
                status=JobStatus.SKIPPED if job.skip_reason else JobStatus.PENDING,
                error=job.skip_reason,
                finished_at=now if job.skip_reason else None,
            )
            for job in planned
        )
        advance(run.id)
    run.refresh_from_db()
    return StartedRun(run, counts, quote)


def retry_failed(run: GenerationRun, origin: str = Origin.PAGE, user: Any = None) -> StartedRun:
    """A new run of just what failed in `run`, and the clips that were skipped for it.

    A paused run is still active, so no new run could start: retrying it resumes it, with
    every failed job put back, which is what the creator asked for."""
    if run.status == RunStatus.PAUSED:
        counts: dict[str, int] = {}
        for stage in run.jobs.filter(status=JobStatus.FAILED).values_list("stage", flat=True):
            counts[stage] = counts.get(stage, 0) + 1
        if resume_run(run, every_failure=True):
            return StartedRun(run, counts)
    redo = set(
        run.jobs.filter(
            Q(status=JobStatus.FAILED) | Q(status=JobStatus.SKIPPED, stage=Stage.VIDEOS),
            sentence__isnull=False,
        )
        # A clip its creator chose not to make in review is not a failure to retry.
        .exclude(error=NOT_APPROVED)
        .values_list("sentence_id", "stage")
    )
    stages = sorted({stage for _, stage in redo}, key=STAGE_ORDER.index)
    if not stages:
        return StartedRun(None, {})
    return start_run(
        run.project, stages, skip_clean=False, origin=origin, user=user, only=redo, retry_of=run
    )


def advance(run_id: int) -> None:
    """Queue the next stage when the current one is finished; end the run when all are.

    Runs under the run's row lock (and SQLite's single writer), so of all the workers
    finishing jobs at once exactly one moves the run on.
    """
    with transaction.atomic():
        run = GenerationRun.objects.select_for_update().get(id=run_id)
        if not run.is_active or run.status in (RunStatus.PAUSED, RunStatus.REVIEW):
            return
        jobs = run.jobs.all()
        if jobs.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).exists():
            return
        if run.status != RunStatus.CANCELLING:
            for stage in run.stages:
                pending = jobs.filter(stage=stage, status=JobStatus.PENDING)
                if stage == Stage.VIDEOS:
                    skip_videos_without_inputs(run)
                    if run.waits_for_review and pending.exists():
                        stop_for_review(run)
                        return
                # Scenes made "next" first, then in story order.
                job_ids = list(
                    pending.order_by("-priority", "position", "id").values_list("id", flat=True)
                )
                if not job_ids:
                    continue
                jobs.filter(id__in=job_ids, status=JobStatus.PENDING).update(
                    status=JobStatus.QUEUED, updated=timezone.now()
                )
                run.current_stage = stage
                run.save(update_fields=["current_stage"])
                if not run.inline:
                    transaction.on_commit(
                        lambda ids=job_ids, stage=stage: enqueue_jobs(stage, ids)  # type: ignore[misc]
                    )
                notify.run_changed(run)
                return
        finish(run)


def stop_for_review(run: GenerationRun) -> None:
    """Pictures made: wait, before the costly clips, for the creator to look at them."""
    run.status = RunStatus.REVIEW
    run.save(update_fields=["status"])
    notify.run_changed(run)


def skip_videos_without_inputs(run: GenerationRun) -> None:
    """Clips whose picture or narration failed or is missing end skipped, with the reason."""
    waiting = run.jobs.filter(stage=Stage.VIDEOS, status=JobStatus.PENDING)
    now = timezone.now()
    for asset, reason in ((Asset.IMAGE, NO_IMAGE), (Asset.AUDIO, NO_AUDIO)):
        field, stage = f"{asset}_file", ASSET_STAGE[asset]
        # A scene re-rolled in this run has several picture jobs: one that worked is enough.
        made = run.jobs.filter(stage=stage, status=JobStatus.SUCCEEDED).values("sentence")
        failed_here = (
            run.jobs.filter(stage=stage)
            .exclude(status=JobStatus.SUCCEEDED)
            .exclude(sentence__in=made)
        )
        waiting.filter(sentence__in=failed_here.values("sentence")).update(
            status=JobStatus.SKIPPED,
            error=f"Skipped: this scene's {asset} was not made in this run.",
            finished_at=now,
            updated=now,
        )
        waiting.filter(**{f"sentence__{field}": ""}).update(
            status=JobStatus.SKIPPED, error=reason, finished_at=now, updated=now
        )
    waiting.filter(sentence__isnull=True).update(
        status=JobStatus.SKIPPED, error="The scene was deleted.", finished_at=now, updated=now
    )


# What a job cancelled in a run nobody cancelled says: it is a failure to show, not hide.
UNASKED_CANCEL = (
    "This job was stopped though nobody cancelled it (its worker was taken for dead?). Retry it."
)


def finish(run: GenerationRun) -> None:
    """End the run: succeeded only if every job succeeded or was skipped with a reason."""
    if run.status == RunStatus.CANCELLING:
        run.status = RunStatus.CANCELLED
    else:
        run.jobs.filter(status=JobStatus.CANCELLED, cancel_requested=False).update(
            status=JobStatus.FAILED, error=UNASKED_CANCEL, updated=timezone.now()
        )
        done = [JobStatus.SUCCEEDED, JobStatus.SKIPPED]
        # A scene its creator cancelled (cancel_scene) was asked for: it is no failure.
        asked = Q(status=JobStatus.CANCELLED, cancel_requested=True)
        clean = not run.jobs.exclude(status__in=done).exclude(asked).exists()
        run.status = RunStatus.SUCCEEDED if clean else RunStatus.FAILED
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "finished_at"])
    notify.run_changed(run)
    webhooks.run_ended(run)


def enqueue_jobs(stage: str, job_ids: list[int], front: bool = False) -> None:
    """Have these queued jobs' tasks sent, on their stage's queue (generation.tasks sends
    them); `front`: before the stage's other tasks."""
    queue.send(GenerationJob, job_ids, stage=stage, front=front)


def cancel_run(run: GenerationRun) -> bool:
    """Stop the run: no new job starts, the running ones stop at their next step.

    Finished assets stay. Returns False if the run had already ended.
    """
    with transaction.atomic():
        updated = GenerationRun.objects.filter(
            id=run.id,
            status__in=[RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.PAUSED, RunStatus.REVIEW],
        ).update(status=RunStatus.CANCELLING)
        if not updated:
            return False
        now = timezone.now()
        run.jobs.filter(status__in=[JobStatus.PENDING, JobStatus.QUEUED]).update(
            status=JobStatus.CANCELLED, finished_at=now, updated=now
        )
        run.jobs.filter(status=JobStatus.RUNNING).update(cancel_requested=True, updated=now)
        advance(run.id)
    run.refresh_from_db()
    notify.run_changed(run)
    return True


@dataclass
class Steered:
    """What a scoped action did to a run's totals, exactly."""

    cancelled: int = 0
    stopping: int = 0
    moved: int = 0

    def as_json(self) -> dict[str, int]:
        return {"cancelled": self.cancelled, "stopping": self.stopping, "moved": self.moved}

    def stop_message(self) -> str:
        """What "stop after running jobs" did, in words."""
        return (
            f"Stopping after {self.stopping} running job{pluralize(self.stopping)}: "
            f"{self.cancelled} waiting job{pluralize(self.cancelled)} cancelled."
        )


NOTHING_RUNS = "No generation run is in progress for this project."


def pluralize(n: int) -> str:
    return "" if n == 1 else "s"


def stop_after_running(run: GenerationRun) -> Steered | None:
    """Nothing new starts; the jobs running now finish and keep their assets.

    None if the run had already ended."""
    with transaction.atomic():
        updated = GenerationRun.objects.filter(
            id=run.id,
            status__in=[RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.PAUSED, RunStatus.REVIEW],
        ).update(status=RunStatus.CANCELLING, stop_after_running=True)
        if not updated:
            return None
        now = timezone.now()
        cancelled = run.jobs.filter(status__in=[JobStatus.PENDING, JobStatus.QUEUED]).update(
            status=JobStatus.CANCELLED, finished_at=now, updated=now
        )
        running = run.jobs.filter(status=JobStatus.RUNNING).count()
        advance(run.id)
    run.refresh_from_db()
    notify.run_changed(run)
    return Steered(cancelled=cancelled, stopping=running)


def scene_jobs(run: GenerationRun, sentence: Sentence) -> Any:
    return run.jobs.filter(sentence=sentence).unfinished()


def cancel_scene(run: GenerationRun, sentence: Sentence) -> Steered:
    """Cancel one scene's unfinished jobs in the run; every other scene goes on.

    A waiting job ends cancelled at once; a running one stops at its next step (its
    worker finds its writes refused) and the scene keeps its previous asset."""
    with transaction.atomic():
        now = timezone.now()
        jobs = scene_jobs(run, sentence)
        waiting = jobs.filter(status__in=[JobStatus.PENDING, JobStatus.QUEUED]).update(
            status=JobStatus.CANCELLED, cancel_requested=True, finished_at=now, updated=now
        )
        running = jobs.filter(status=JobStatus.RUNNING, cancel_requested=False).update(
            cancel_requested=True, updated=now
        )
        advance(run.id)
    notify.run_changed(run)
    return Steered(cancelled=waiting + running)


def make_next(run: GenerationRun, sentence: Sentence) -> Steered:
    """Put one scene's jobs before the others of their stage: a queued one goes to the
    front of its stage's queue now, a later stage's job is queued first when it starts."""
    with transaction.atomic():
        jobs = scene_jobs(run, sentence).exclude(status=JobStatus.RUNNING)
        top = run.jobs.aggregate(top=models.Max("priority"))["top"] or 0
        moved = jobs.update(priority=top + 1, updated=timezone.now())
        queued = list(jobs.filter(status=JobStatus.QUEUED).values_list("stage", "id"))
        if queued and not run.inline:
            for stage, job_id in queued:
                # The task already in the queue finds the job taken and does nothing.
                transaction.on_commit(
                    lambda stage=stage, job_id=job_id: enqueue_jobs(stage, [job_id], front=True)  # type: ignore[misc]
                )
    notify.run_changed(run)
    return Steered(moved=moved)


def steer_scene(
    sentence: Sentence, cancel: bool
) -> tuple[GenerationRun | None, Steered | None, str]:
    """Cancel or prioritise one scene in its project's active run: (run, effect, message)."""
    run = sentence.project.runs.active().first()
    if run is None:
        return None, None, NOTHING_RUNS
    if cancel:
        steered = cancel_scene(run, sentence)
        n = steered.cancelled
        message = f"Scene {sentence.position}: {n} job{pluralize(n)} cancelled."
    else:
        steered = make_next(run, sentence)
        n = steered.moved
        message = f"Scene {sentence.position} goes next ({n} job{pluralize(n)})."
    if not n:
        return run, None, f"Scene {sentence.position} has nothing left to do in this run."
    return run, steered, message


# Between the pause reason's words and the error it paused for (see pause_error).
PAUSED_FOR = " failed with: "


def pause_if_failing(run_id: int) -> bool:
    """Pause the run when its last few jobs all failed with the same error.

    A missing model or a GPU that is always out of memory would otherwise fail every
    remaining scene, one by one, burying the one reason that matters.
    """
    streak = settings.RUN_PAUSE_AFTER_FAILURES
    if not streak:
        return False
    last = list(
        GenerationJob.objects.filter(run_id=run_id, finished_at__isnull=False)
        .exclude(status__in=[JobStatus.SKIPPED, JobStatus.CANCELLED])
        .order_by("-finished_at", "-id")
        .values_list("status", "error")[:streak]
    )
    errors = {error for status, error in last if status == JobStatus.FAILED}
    if len(last) < streak or len(errors) != 1 or any(s != JobStatus.FAILED for s, _ in last):
        return False
    (error,) = errors
    with transaction.atomic():
        paused = GenerationRun.objects.filter(id=run_id, status=RunStatus.RUNNING).update(
            status=RunStatus.PAUSED,
            pause_reason=f"Paused after {streak} jobs in a row{PAUSED_FOR}{error}",
        )
        if not paused:
            return False
        now = timezone.now()
        # Nothing more starts; the jobs that hit the error get another go on resume.
        GenerationJob.objects.filter(run_id=run_id, status=JobStatus.QUEUED).update(
            status=JobStatus.PENDING, updated=now
        )
        GenerationJob.objects.filter(run_id=run_id, status=JobStatus.FAILED, error=error).update(
            status=JobStatus.PENDING, finished_at=None, updated=now
        )
        notify.project_changed(GenerationRun.objects.get(id=run_id).project_id)
    log.warning("Run %s paused: %s", run_id, error)
    return True


def pause_error(reason: str) -> str:
    """The error a run paused for, from its pause reason (see pause_if_failing)."""
    return reason.partition(PAUSED_FOR)[2]


def resume_run(run: GenerationRun, every_failure: bool = False) -> bool:
    """Go on with a paused run, once its creator has fixed what made it pause.

    Every job that failed with the pause's error gets another go, whenever it failed: also
    one that another worker was running when the run paused and that failed just after.
    With `every_failure` (Retry failed on a paused run), every failed job does."""
    with transaction.atomic():
        paused = GenerationRun.objects.select_for_update().filter(
            id=run.id, status=RunStatus.PAUSED
        )
        reason = paused.values_list("pause_reason", flat=True).first()
        if reason is None:
            run.refresh_from_db()
            return False
        failed = GenerationJob.objects.filter(run_id=run.id, status=JobStatus.FAILED)
        if not every_failure:
            failed = failed.filter(error=pause_error(reason))
        failed.update(status=JobStatus.PENDING, finished_at=None, updated=timezone.now())
        paused.update(status=RunStatus.RUNNING, pause_reason="")
        advance(run.id)
    run.refresh_from_db()
    return True
