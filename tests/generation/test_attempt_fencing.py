"""Every write an attempt makes is fenced on its attempt number: once the reaper has handed
the job to a newer attempt, nothing the old one says lands, and a run never hides a job
that was stopped without anyone asking."""

from pathlib import Path

import pytest

from generation import runs, worker
from generation.backends.base import GeneratedAsset, JobCancelled
from generation.models import GenerationJob, JobStatus, RunStatus
from projects.models import Sentence
from work import claims


def superseded(job_id: int) -> GenerationJob:
    """Attempt 1 of the job, as its worker still sees it after the reaper gave it to attempt 2."""
    assert worker.claim(job_id)
    old = GenerationJob.objects.get(id=job_id)
    GenerationJob.objects.filter(id=job_id).update(status=JobStatus.QUEUED)
    assert worker.claim(job_id)
    return old


def test_a_superseded_attempt_can_change_nothing(project, media: Path):
    run = runs.start_run(project, ["audio"]).run
    job = run.jobs.get(position=1)
    old = superseded(job.id)
    before = GenerationJob.objects.filter(id=job.id).values().get()

    with pytest.raises(JobCancelled):
        worker.StepReporter(old)(1, 4)
    assert claims.beat(GenerationJob, {job.id: old.attempts}) == 0
    worker.end_job(old, JobStatus.CANCELLED, "")
    worker.end_job(old, JobStatus.FAILED, "boom")
    work = media / "w"
    work.mkdir()
    (work / "a.wav").write_bytes(b"stale narration")
    old.input_revision = 1
    with pytest.raises(JobCancelled):
        worker.record_asset(old, GeneratedAsset(work / "a.wav", duration=1.0))

    assert GenerationJob.objects.filter(id=job.id).values().get() == before
    assert not Sentence.objects.get(id=job.sentence_id).audio_file
    # The newer attempt goes on as if nothing happened.
    assert claims.beat(GenerationJob, {job.id: 2}) == 1
    worker.StepReporter(GenerationJob.objects.get(id=job.id))(1, 4)


def test_a_run_with_a_job_stopped_unasked_finishes_with_errors(project):
    run = runs.start_run(project, ["audio"]).run
    jobs = list(run.jobs.order_by("position"))
    for job in jobs[1:]:
        worker.execute_job(job.id)
    # What the unfenced cancel of a stale attempt used to leave behind.
    GenerationJob.objects.filter(id=jobs[0].id).update(status=JobStatus.CANCELLED)
    runs.advance(run.id)

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    stopped = run.jobs.get(id=jobs[0].id)
    assert stopped.status == JobStatus.FAILED and "nobody cancelled it" in stopped.error
    assert runs.retry_failed(run).job_counts == {"audio": 1}
