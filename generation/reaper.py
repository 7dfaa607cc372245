"""The reaper: jobs of dead workers get another go (or fail after too many), and queued jobs
whose task was lost are sent again.

Huey delivers at most once, so without this a job whose worker was killed would stay
"running" for ever. Every worker runs it (generation.tasks).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from generation import claims, runs, worker
from generation.models import GenerationJob, GenerationRun, JobStatus, RunStatus

log = logging.getLogger(__name__)


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
        runs.enqueue_jobs(stage, ids)
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
                runs.enqueue_jobs(job.stage, [job.id])
        if changed:
            # The attempt given up on is over: what it left (a partial clip, a whole one an
            # orphaned encoder finished) can go. A newer attempt works in its own folder.
            claims.remove_work_dir(worker.WORK_KIND, job.id, job.attempts)
            reaped += 1
            runs.advance(job.run_id)
    reaped += requeue_lost_tasks()
    # A run whose last job ended in a process that died before it could move the run on.
    for run_id in (
        GenerationRun.objects.active()
        .exclude(jobs__status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
        .values_list("id", flat=True)
    ):
        runs.advance(run_id)
    return reaped
