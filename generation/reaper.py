"""The reaper: jobs of dead workers get another go (or fail after too many), and queued jobs
whose task was lost are sent again (work.claims, the same for exports).

Huey delivers at most once, so without this a job whose worker was killed would stay
"running" for ever. Every worker runs it (work.claims.reap_all).
"""

from __future__ import annotations

import logging

from generation import runs
from generation.models import GenerationJob, GenerationRun, JobStatus
from work import claims

log = logging.getLogger(__name__)


def requeue_lost_tasks() -> int:
    """Queued jobs whose task is gone (see work.claims.lost), sent again per stage."""
    lost = claims.lost(
        GenerationJob.objects.lost().order_by("-priority", "position", "id"), touch="updated"
    )
    if not lost:
        return 0
    by_stage: dict[str, list[int]] = {}
    for job in lost:
        by_stage.setdefault(job.stage, []).append(job.id)
    log.warning("Re-sending %d queued jobs whose tasks were lost", len(lost))
    for stage, ids in by_stage.items():
        runs.enqueue_jobs(stage, ids)
    return len(lost)


def reap_stale_jobs() -> int:
    """Give the jobs of dead workers another go, or fail them after too many tries
    (GenerationJob.given_up)."""
    reaped = 0
    for job, changes in claims.reap(GenerationJob.objects.select_related("run")):
        if changes["status"] == JobStatus.QUEUED:
            log.warning("Re-queueing job %s: worker %s stopped responding", job.id, job.worker)
            runs.enqueue_jobs(job.stage, [job.id])
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
