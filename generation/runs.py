"""The generation workflow: start a run, move it stage by stage, run a job, cancel, reap.

The database rows are the truth. Huey tasks carry only a job id; every state change is
a conditional UPDATE so two workers (or a worker and the reaper) never both win, and
every change sends a wake-up so open pages re-read the rows.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import socket
import threading
import time
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from django.utils.module_loading import import_string

from generation import claims, estimates, notify, takes, webhooks
from generation.backends.base import (
    Backend,
    BackendError,
    GeneratedAsset,
    JobCancelled,
    JobInput,
)
from generation.backends.verify import verify_asset
from generation.models import GenerationJob, GenerationRun, JobStatus, Origin, RunStatus
from generation.planner import NO_AUDIO, NO_IMAGE, NOT_APPROVED, plan
from projects import dirty
from projects.models import Project, Sentence
from projects.private_media import secret_part
from projects.vocabulary import STAGE_ASSET, STAGE_ORDER, Stage, scene_file

log = logging.getLogger(__name__)

WORKER_NAME = f"{socket.gethostname()}:{os.getpid()}"


class SceneDeleted(Exception):
    pass


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
    for asset, field, reason in (
        ("image", "image_file", NO_IMAGE),
        ("audio", "audio_file", NO_AUDIO),
    ):
        stage = Stage.IMAGES if asset == "image" else Stage.AUDIO
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
    from generation import tasks

    tasks.enqueue_jobs(stage, job_ids, front=front)


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


def abandon_local_jobs(run: GenerationRun) -> None:
    """Jobs this process was running when it was interrupted end cancelled."""
    now = timezone.now()
    mine = run.jobs.filter(status=JobStatus.RUNNING, worker=WORKER_NAME)
    for job in mine:
        claims.remove_work_dir(WORK_KIND, job.id, job.attempts)
    mine.update(status=JobStatus.CANCELLED, finished_at=now, updated=now)
    advance(run.id)


# Running a job ---------------------------------------------------------------

# A job's attempt keeps its temporary files in MEDIA_ROOT/.work/job-<id>-<attempt>/.
WORK_KIND = "job"


# A job's own path through a worker is three statements written out here: through the ORM,
# building them cost a worker more CPU than PostgreSQL spent running them (~0.4 ms each on
# a shared core, against ~0.07 ms), and with a fast backend that was a third of its time.
JOBS = GenerationJob._meta.db_table
CLAIM_SQL = (
    f"UPDATE {JOBS} SET status = %s, attempts = attempts + 1, worker = %s, heartbeat = %s,"
    " started_at = %s, step = 0, total_steps = 0, updated = %s WHERE id = %s AND status = %s"
)
# Only the attempt that still holds the job may change it: not after a cancel, nor once the
# reaper has handed the job to a newer attempt (claims.held(), written out).
STILL_HELD = "id = %s AND status = %s AND attempts = %s AND NOT cancel_requested"
# Success also clears what an earlier attempt's failure wrote (a job put back by a pause).
SUCCEED_SQL = (
    f"UPDATE {JOBS} SET status = %s, output_file = %s, input_revision = %s, finished_at = %s,"
    f" updated = %s, error = '', traceback = '' WHERE {STILL_HELD}"
)
STAGE_BUSY_SQL = f"SELECT 1 FROM {JOBS} WHERE run_id = %s AND status IN (%s, %s) LIMIT 1"


def db_now() -> Any:
    return connection.ops.adapt_datetimefield_value(timezone.now())


def claim(job_id: int) -> bool:
    """Take a queued job for this worker; False if someone else has it or it was cancelled."""
    now = db_now()
    params = [JobStatus.RUNNING, WORKER_NAME, now, now, now, job_id, JobStatus.QUEUED]
    with connection.cursor() as cursor:
        cursor.execute(CLAIM_SQL, params)
        return cursor.rowcount == 1


def stage_busy(run_id: int) -> bool:
    """Whether any job of the run is still queued or running."""
    with connection.cursor() as cursor:
        cursor.execute(STAGE_BUSY_SQL, [run_id, JobStatus.QUEUED, JobStatus.RUNNING])
        return cursor.fetchone() is not None


def execute_job(job_id: int) -> None:
    """The body of a huey task: claim the job, generate, record the asset, move on.

    An image job on a worker that batches also claims up to N-1 more queued image jobs of
    its run and makes all their pictures in one model call (see execute_batch)."""
    if not claim(job_id):
        return
    job = GenerationJob.objects.select_related("run__project", "sentence").get(id=job_id)
    notify.job_changed(job)
    if mates := claim_batch_mates(job):
        execute_batch([job, *mates])
        return
    work_dir = claims.work_dir(WORK_KIND, job.id, job.attempts)
    heartbeats.add(job.id, job.attempts)
    try:
        if job.sentence is None:
            end_job(job, JobStatus.SKIPPED, "The scene was deleted.")
            return
        job_input = build_input(job, work_dir)
        job.input_revision = job.sentence.revision
        backend = load_backend(job.stage, job.run.project.preset)
        asset = backend.generate(job_input, StepReporter(job))
        verify_asset(job_input, asset)
        record_asset(job, asset)
    except Exception as e:  # noqa: BLE001 - any crash of model code fails just this job
        end_with(job, e)
    finally:
        heartbeats.discard(job.id)
        remove_work_dir(work_dir)
    move_on(job.run_id, failed=job.status == JobStatus.FAILED)


def end_with(job: GenerationJob, error: Exception) -> None:
    """Record how an attempt that raised `error` ended (call it from the except block)."""
    if isinstance(error, JobCancelled):
        end_job(job, JobStatus.CANCELLED, "")
    elif isinstance(error, SceneDeleted):
        end_job(job, JobStatus.SKIPPED, "The scene was deleted while its job ran.")
    elif isinstance(error, BackendError):
        end_job(job, JobStatus.FAILED, str(error), traceback.format_exc())
    elif isinstance(error, OSError):
        end_job(job, JobStatus.FAILED, storage_error(error), traceback.format_exc())
    else:
        log.exception("Job %s failed", job.id)
        message = f"{type(error).__name__}: {error}".splitlines()[0][:500]
        end_job(job, JobStatus.FAILED, message, traceback.format_exc())


def move_on(run_id: int, *, failed: bool) -> None:
    """After a job ended: pause a run that keeps failing, or advance it past a done stage."""
    if failed and pause_if_failing(run_id):
        return
    # Only the last job of a stage needs to take the run's lock. This job's own end is
    # committed before the check, so of two last jobs ending together the later one
    # always sees the other finished.
    if not stage_busy(run_id):
        advance(run_id)


# Batched image jobs ----------------------------------------------------------


def image_batch_size(backend: Backend) -> int:
    """How many image jobs one model call makes: STORYBOARD_IMAGE_BATCH, or with 0 (auto)
    4 on a GPU and 1 on the CPU, where a batch takes as long as its pictures one by one."""
    if not hasattr(backend, "generate_batch"):
        return 1
    size = int(getattr(settings, "STORYBOARD_IMAGE_BATCH", 0))
    if size > 0:
        return size
    return 4 if str(getattr(backend, "device", "cpu")).startswith("cuda") else 1


def claim_batch_mates(job: GenerationJob) -> list[GenerationJob]:
    """Claim up to N-1 more queued image jobs of `job`'s run for one batch with it.

    Each is claimed with the same conditional update as a single job, so a job is in at
    most one batch and its own task, arriving later, finds it taken and does nothing."""
    if job.stage != Stage.IMAGES or job.sentence_id is None:
        return []
    try:
        size = image_batch_size(load_backend(job.stage, job.run.project.preset))
    except Exception:  # noqa: BLE001 - the job alone will meet (and report) the same error
        return []
    if size <= 1:
        return []
    # Scenes made "next" join the batch first.
    queued = GenerationJob.objects.filter(
        run_id=job.run_id, stage=Stage.IMAGES, status=JobStatus.QUEUED
    ).order_by("-priority", "position", "id")
    claimed = [other for other in queued.values_list("id", flat=True)[: size - 1] if claim(other)]
    mates = GenerationJob.objects.select_related("run__project", "sentence").filter(id__in=claimed)
    return list(mates.order_by("position", "id"))


class BatchStepReporter:
    """The batch's on_step: each job reports its own progress (and notices its own cancel);
    the model call stops once no job of the batch is still wanted."""

    def __init__(self, jobs: list[GenerationJob]) -> None:
        self.wanted = [StepReporter(job) for job in jobs]

    def __call__(self, done: int, total: int) -> None:
        for reporter in list(self.wanted):
            try:
                reporter(done, total)
            except JobCancelled:
                # Cancelled or taken over alone: its picture is made but never recorded.
                self.wanted.remove(reporter)
        if not self.wanted:
            raise JobCancelled()


def execute_batch(jobs: list[GenerationJob]) -> None:
    """Claimed image jobs of one run, rendered in one model call; each records its own asset."""
    work_dirs: list[Path] = []
    batch: list[tuple[GenerationJob, JobInput]] = []
    for job in jobs:
        if job is not jobs[0]:
            notify.job_changed(job)
        work_dir = claims.work_dir(WORK_KIND, job.id, job.attempts)
        work_dirs.append(work_dir)
        heartbeats.add(job.id, job.attempts)
        if job.sentence is None:
            end_job(job, JobStatus.SKIPPED, "The scene was deleted.")
            continue
        batch.append((job, build_input(job, work_dir)))
        job.input_revision = job.sentence.revision
    try:
        if batch:
            backend: Any = load_backend(Stage.IMAGES, jobs[0].run.project.preset)
            made = backend.generate_batch(
                [job_input for _, job_input in batch], BatchStepReporter([j for j, _ in batch])
            )
            for (job, job_input), asset in zip(batch, made, strict=True):
                try:
                    verify_asset(job_input, asset)
                    record_asset(job, asset)
                except Exception as e:  # noqa: BLE001 - one job's asset fails only that job
                    end_with(job, e)
    except Exception as e:  # noqa: BLE001 - the model call failed: every job of it did
        for job, _ in batch:
            if job.status == JobStatus.RUNNING:
                end_with(job, e)
    finally:
        for job in jobs:
            heartbeats.discard(job.id)
        for work_dir in work_dirs:
            remove_work_dir(work_dir)
    move_on(jobs[0].run_id, failed=any(job.status == JobStatus.FAILED for job in jobs))


def remove_work_dir(work_dir: Path) -> None:
    try:
        # Empty once the asset was moved into place; rmtree costs a fifth of a fast job.
        work_dir.rmdir()
    except FileNotFoundError:
        pass
    except OSError:
        shutil.rmtree(work_dir, ignore_errors=True)


def storage_error(e: OSError) -> str:
    """One line a creator can act on, for the ways writing an asset fails."""
    reasons = {
        errno.ENOSPC: "the media disk is full",
        errno.EDQUOT: "the media disk quota is used up",
        errno.EFBIG: "the file is larger than this worker may write",
        errno.EROFS: "the media folder is read-only",
        errno.EACCES: "the media folder is not writable",
        errno.EPERM: "the media folder is not writable",
    }
    reason = reasons.get(e.errno or 0)
    if reason is None:
        return f"{type(e).__name__}: {e}".splitlines()[0][:500]
    return f"Could not write the asset: {reason} ({settings.MEDIA_ROOT}). Earlier assets are kept."


def load_backend(stage: str, preset: str) -> Backend:
    factory = import_string(settings.STORYBOARD_BACKEND_FACTORY)
    return factory(stage, preset)


def build_input(job: GenerationJob, work_dir: Path) -> JobInput:
    sentence = job.sentence
    assert sentence is not None
    project = job.run.project
    work_dir.mkdir(parents=True, exist_ok=True)
    media = Path(settings.MEDIA_ROOT)
    return JobInput(
        stage=job.stage,
        sentence_id=sentence.id,
        position=sentence.position,
        text=sentence.text,
        image_prompt=sentence.image_prompt,
        style_prompt=project.style_prompt,
        voice=project.voice,
        language=project.language,
        width=project.width,
        height=project.height,
        fps=project.fps,
        camera_movement=sentence.camera_movement,
        motion_strength=sentence.motion_strength,
        # The scene's own seed: the same seed and inputs give the same picture again.
        seed=sentence.seed,
        work_dir=work_dir,
        audio_path=media / sentence.audio_file.name if sentence.audio_file else None,
        audio_duration=sentence.audio_duration,
        image_path=media / sentence.image_file.name if sentence.image_file else None,
    )


class StepReporter:
    """The backend's on_step: records step progress and is where a cancel is noticed.

    Called for every denoising step or frame batch, so it is one prepared UPDATE that
    both reports progress and finds out whether the job is still wanted: cancelled, or
    taken over by another attempt after the reaper gave up on this worker.
    """

    SQL = (
        f"UPDATE {JOBS} SET step = %s, total_steps = %s, heartbeat = %s, updated = %s"
        f" WHERE {STILL_HELD}"
    )

    def __init__(self, job: GenerationJob):
        self.job = job

    def __call__(self, done: int, total: int) -> None:
        if done == 0 or done >= total:
            # Nothing done yet, or all done: the claim just checked, and recording the
            # asset checks again, so a cancel is still noticed within one step.
            return
        now = db_now()
        params = [done, total, now, now, self.job.id, JobStatus.RUNNING, self.job.attempts]
        with connection.cursor() as cursor:
            cursor.execute(self.SQL, params)
            still_wanted = cursor.rowcount
        if not still_wanted:
            raise JobCancelled()
        notify.job_changed(self.job)


class Heartbeats:
    """One thread per worker process keeps the heartbeat of every job it runs fresh,
    also while the backend is busy between steps (loading a model can take minutes),
    so the reaper only takes jobs whose worker really died."""

    def __init__(self) -> None:
        # job id -> the attempt this process runs: a beat only counts for that attempt.
        self._jobs: dict[int, int] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def add(self, job_id: int, attempt: int) -> None:
        with self._lock:
            self._jobs[job_id] = attempt
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._beat, name="storyboard-heartbeat", daemon=True
                )
                self._thread.start()

    def discard(self, job_id: int) -> None:
        with self._lock:
            self._jobs.pop(job_id, None)

    def _beat(self) -> None:
        from django.db import close_old_connections

        while True:
            time.sleep(settings.JOB_HEARTBEAT_SECONDS)
            with self._lock:
                jobs = dict(self._jobs)
            if not jobs:
                continue
            try:
                claims.beat(GenerationJob, jobs)
            except Exception:  # noqa: BLE001 - try again next beat
                log.warning("Heartbeat failed", exc_info=True)
                close_old_connections()


heartbeats = Heartbeats()


def record_asset(job: GenerationJob, asset: GeneratedAsset) -> None:
    """Move the new file into place and record it in one transaction with the dirty flags.

    If the job was cancelled (or taken over by a newer attempt) meanwhile, the new file
    is thrown away and the scene keeps its previous asset.
    """
    field = STAGE_ASSET[job.stage]
    sentence = job.sentence
    assert sentence is not None
    secret = secret_part("job", job.id, job.attempts)
    name = f"{field}-{job.id}-{job.attempts}-{secret}{asset.path.suffix}"
    relative = scene_file(sentence.project_id, sentence.id, name)
    final = Path(settings.MEDIA_ROOT) / relative
    final.parent.mkdir(parents=True, exist_ok=True)
    flag = dirty.flag_name(field)
    changes: dict[str, Any] = {
        f"{field}_file": relative,
        # Inputs edited while the job ran: keep the new asset, but it is already stale.
        flag: Case(When(revision=job.input_revision, then=Value(False)), default=F(flag)),
        **{dirty.flag_name(d): True for d in dirty.NEW_ASSET_DIRTIES[field]},
    }
    if job.stage == Stage.AUDIO:
        changes["audio_duration"] = asset.duration
    with transaction.atomic():
        now = db_now()
        with connection.cursor() as cursor:
            cursor.execute(
                SUCCEED_SQL,
                [JobStatus.SUCCEEDED, relative, job.input_revision, now, now]
                + [job.id, JobStatus.RUNNING, job.attempts],
            )
            if cursor.rowcount != 1:
                raise JobCancelled()
        if not Sentence.objects.filter(id=sentence.id).update(**changes):
            raise SceneDeleted()
        takes.record(job, relative, asset.duration)
        os.replace(asset.path, final)
    # The asset it replaced stays, as a take; only retention deletes old takes.
    takes.prune(sentence.id, field)
    job.status = JobStatus.SUCCEEDED
    notify.job_changed(job)


def end_job(job: GenerationJob, status: str, error: str, tb: str = "") -> None:
    """Record how this attempt ended, unless someone already decided: the reaper, which
    may have handed the job to a newer attempt (then that one's row is left alone)."""
    now = timezone.now()
    mine = claims.held(GenerationJob, job.id, job.attempts)
    if status == JobStatus.CANCELLED:
        # Only the run's cancel ends a job cancelled: an attempt told to stop for any
        # other reason (superseded) has nothing to record.
        updated = mine.filter(cancel_requested=True).update(
            status=JobStatus.CANCELLED, finished_at=now, updated=now
        )
    else:
        updated = mine.update(
            status=status, error=error, traceback=tb, finished_at=now, updated=now
        )
    if updated:
        job.status = status
        notify.job_changed(job)


# The reaper ------------------------------------------------------------------


def requeue_lost_tasks() -> int:
    """Queued jobs whose task is gone: Redis restarted without persistence, or a queue
    file was lost. Only when the queue is empty can a long-queued job have no task;
    a task sent twice is harmless, since only one claim of a job can succeed."""
    from huey.contrib.djhuey import HUEY

    cutoff = timezone.now() - timedelta(seconds=settings.JOB_STALE_AFTER)
    lost = GenerationJob.objects.filter(
        status=JobStatus.QUEUED, updated__lt=cutoff, run__inline=False
    )
    if not lost.exists() or HUEY.pending_count() > 0:
        return 0
    by_stage: dict[str, list[int]] = {}
    for job_id, stage in lost.order_by("-priority", "position", "id").values_list("id", "stage"):
        by_stage.setdefault(stage, []).append(job_id)
    job_ids = [job_id for ids in by_stage.values() for job_id in ids]
    # Touch them so the next pass doesn't send them again while they wait.
    GenerationJob.objects.filter(id__in=job_ids).update(updated=timezone.now())
    log.warning("Re-sending %d queued jobs whose tasks were lost", len(job_ids))
    for stage, ids in by_stage.items():
        enqueue_jobs(stage, ids)
    return len(job_ids)


def reap_stale_jobs() -> int:
    """Give the jobs of dead workers another go, or fail them after too many tries.

    Huey delivers at most once: a task being run when its worker was killed is gone
    from the queue, so without this its job would stay "running" for ever.
    """
    reaped = 0
    for job in GenerationJob.objects.stale().select_related("run"):
        now = timezone.now()
        still_stale = GenerationJob.objects.stale(now).filter(
            id=job.id, heartbeat=job.heartbeat, attempts=job.attempts
        )
        if job.cancel_requested:
            changed = still_stale.update(status=JobStatus.CANCELLED, finished_at=now, updated=now)
        elif job.attempts >= settings.JOB_MAX_ATTEMPTS:
            changed = still_stale.update(
                status=JobStatus.FAILED,
                error=(
                    f"The worker running this job stopped responding {job.attempts} times "
                    "(killed or out of memory?). Giving up."
                ),
                finished_at=now,
                updated=now,
            )
        elif job.run.status == RunStatus.PAUSED:
            changed = still_stale.update(status=JobStatus.PENDING, worker="", updated=now)
        else:
            changed = still_stale.update(status=JobStatus.QUEUED, worker="", updated=now)
            if changed:
                log.warning("Re-queueing job %s: worker %s stopped responding", job.id, job.worker)
                enqueue_jobs(job.stage, [job.id])
        if changed:
            # The attempt given up on is over: what it left (a partial clip, a whole one an
            # orphaned encoder finished) can go. A newer attempt works in its own folder.
            claims.remove_work_dir(WORK_KIND, job.id, job.attempts)
            reaped += 1
            advance(job.run_id)
    reaped += requeue_lost_tasks()
    # A run whose last job ended in a process that died before it could move the run on.
    for run_id in (
        GenerationRun.objects.active()
        .exclude(jobs__status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
        .values_list("id", flat=True)
    ):
        advance(run_id)
    return reaped
