"""Jobs of a dead worker are re-queued, or failed after too many tries."""

from datetime import timedelta

from django.utils import timezone

from generation import reaper, runs, worker
from generation.models import GenerationJob, JobStatus, RunStatus


def orphan(job: GenerationJob, attempts: int = 1, **fields: object) -> None:
    GenerationJob.objects.filter(id=job.id).update(
        status=JobStatus.RUNNING,
        attempts=attempts,
        worker="dead-host:1",
        heartbeat=timezone.now() - timedelta(minutes=5),
        **fields,
    )


def test_it_requeues_a_job_whose_worker_stopped_beating(
    project, django_capture_on_commit_callbacks
):
    run = runs.start_run(project, ["audio"]).run
    job = run.jobs.get(position=1)
    orphan(job)
    assert reaper.reap_stale_jobs() == 1
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED and job.worker == ""
    worker.execute_job(job.id)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.attempts == 2


def test_it_leaves_jobs_with_a_fresh_heartbeat_alone(project):
    run = runs.start_run(project, ["audio"]).run
    job = run.jobs.get(position=1)
    worker.claim(job.id)
    assert reaper.reap_stale_jobs() == 0
    assert GenerationJob.objects.get(id=job.id).status == JobStatus.RUNNING


def test_it_fails_a_job_after_the_retry_limit(make_project, settings):
    settings.JOB_MAX_ATTEMPTS = 3
    project = make_project(1)
    run = runs.start_run(project, ["audio"]).run
    job = run.jobs.get()
    orphan(job, attempts=3)
    reaper.reap_stale_jobs()
    job.refresh_from_db()
    run.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "stopped responding 3 times" in job.error
    assert run.status == RunStatus.FAILED


def test_it_finishes_cancelling_a_job_whose_worker_died(make_project):
    project = make_project(1)
    run = runs.start_run(project, ["audio"]).run
    job = run.jobs.get()
    orphan(job)
    runs.cancel_run(run)
    reaper.reap_stale_jobs()
    run.refresh_from_db()
    assert run.jobs.get().status == JobStatus.CANCELLED
    assert run.status == RunStatus.CANCELLED


def test_it_moves_on_a_run_whose_last_job_ended_without_advancing(make_project):
    project = make_project(1)
    run = runs.start_run(project, ["audio"]).run
    GenerationJob.objects.filter(run=run).update(status=JobStatus.SUCCEEDED)
    reaper.reap_stale_jobs()
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
