"""A job on a worker: claim it, make its asset (alone or in a batch of pictures), verify and
record it atomically, and say how the attempt ended.

Every write an attempt makes is conditional on its attempt number (see work.claims),
so an attempt the reaper gave up on changes nothing; the run is moved on by runs.advance.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import traceback
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone
from django.utils.module_loading import import_string

from generation import notify, runs, takes
from generation.backends.base import (
    Backend,
    BackendError,
    GeneratedAsset,
    JobCancelled,
    JobInput,
)
from generation.backends.verify import verify_asset
from generation.models import GenerationJob, GenerationRun, JobStatus
from projects import dirty
from projects.models import Sentence
from projects.private_media import secret_part
from projects.vocabulary import STAGE_ASSET, Stage, scene_file
from work import claims

log = logging.getLogger(__name__)


class SceneDeleted(Exception):
    pass


def abandon_local_jobs(run: GenerationRun) -> None:
    """Jobs this process was running when it was interrupted end cancelled."""
    now = timezone.now()
    mine = run.jobs.filter(status=JobStatus.RUNNING, worker=claims.WORKER_NAME)
    for job in mine:
        claims.remove_work_dir(GenerationJob.WORK_KIND, job.id, job.attempts)
    mine.update(status=JobStatus.CANCELLED, finished_at=now, updated=now)
    runs.advance(run.id)


# Running a job ---------------------------------------------------------------

# Only the last job of a stage takes the run's lock (see move_on): this check is written out
# in SQL like the rest of a job's own path (work.claims).
STAGE_BUSY_SQL = (
    f"SELECT 1 FROM {GenerationJob._meta.db_table} WHERE run_id = %s AND status IN (%s, %s) LIMIT 1"
)


def claim(job_id: int) -> bool:
    """Take a queued job for this worker; False if someone else has it or it was cancelled."""
    return claims.claim(GenerationJob, job_id)


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
    work_dir = claims.work_dir(GenerationJob.WORK_KIND, job.id, job.attempts)
    claims.heartbeats.add(GenerationJob, job.id, job.attempts)
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
        claims.heartbeats.discard(GenerationJob, job.id)
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
    if failed and runs.pause_if_failing(run_id):
        return
    # Only the last job of a stage needs to take the run's lock. This job's own end is
    # committed before the check, so of two last jobs ending together the later one
    # always sees the other finished.
    if not stage_busy(run_id):
        runs.advance(run_id)


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
        work_dir = claims.work_dir(GenerationJob.WORK_KIND, job.id, job.attempts)
        work_dirs.append(work_dir)
        claims.heartbeats.add(GenerationJob, job.id, job.attempts)
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
            claims.heartbeats.discard(GenerationJob, job.id)
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
    taken over by another attempt after the reaper gave up on this worker (work.claims).
    """

    def __init__(self, job: GenerationJob):
        self.job = job

    def __call__(self, done: int, total: int) -> None:
        if done == 0 or done >= total:
            # Nothing done yet, or all done: the claim just checked, and recording the
            # asset checks again, so a cancel is still noticed within one step.
            return
        if not claims.report(GenerationJob, self.job.id, self.job.attempts, done, total):
            raise JobCancelled()
        notify.job_changed(self.job)


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
        # Success also clears what an earlier attempt's failure wrote (a job put back by a
        # pause).
        if not claims.finish(
            GenerationJob,
            job.id,
            job.attempts,
            status=JobStatus.SUCCEEDED,
            output_file=relative,
            input_revision=job.input_revision,
            finished_at=timezone.now(),
            error="",
            traceback="",
        ):
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
    if status == JobStatus.CANCELLED:
        # Only the run's cancel ends a job cancelled: an attempt told to stop for any
        # other reason (superseded) has nothing to record.
        updated = claims.record_cancel(
            GenerationJob, job.id, job.attempts, now, status=JobStatus.CANCELLED, finished_at=now
        )
    else:
        updated = claims.record_end(
            GenerationJob,
            job.id,
            job.attempts,
            now,
            status=status,
            error=error,
            traceback=tb,
            finished_at=now,
        )
    if updated:
        job.status = status
        notify.job_changed(job)
