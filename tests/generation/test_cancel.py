"""Cancel: nothing new starts, the running job stops at its next step, finished work stays."""

from pathlib import Path

import pytest

from generation import runs, worker
from generation.backends.base import JobCancelled
from generation.models import GenerationJob, JobStatus, RunStatus
from projects.models import Sentence


def test_it_cancels_waiting_jobs_at_once_and_keeps_finished_ones(make_project, media: Path):
    project = make_project(3)
    run = runs.start_run(project, ["audio", "images"]).run
    first = run.jobs.get(stage="audio", position=1)
    worker.execute_job(first.id)

    assert runs.cancel_run(run)

    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    statuses = dict(run.jobs.values_list("id", "status"))
    assert statuses.pop(first.id) == JobStatus.SUCCEEDED
    assert set(statuses.values()) == {JobStatus.CANCELLED}
    scene = Sentence.objects.get(id=first.sentence_id)
    assert (media / scene.audio_file.name).is_file()


def test_it_waits_for_the_running_job_to_stop_before_the_run_is_cancelled(project):
    run = runs.start_run(project, ["audio"]).run
    running = run.jobs.get(position=1)
    assert worker.claim(running.id)

    runs.cancel_run(run)

    run.refresh_from_db()
    running.refresh_from_db()
    assert run.status == RunStatus.CANCELLING
    assert running.status == JobStatus.RUNNING and running.cancel_requested
    # The backend's next step notices, and the job ends cancelled, not failed.
    with pytest.raises(JobCancelled):
        worker.StepReporter(running)(3, 10)
    worker.end_job(running, JobStatus.CANCELLED, "")
    runs.advance(run.id)
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert run.jobs.get(id=running.id).error == ""


def test_it_stops_a_multi_step_job_at_its_next_step(make_project, settings, media: Path):
    settings.STORYBOARD_BACKEND_FACTORY = "tests.generation.test_cancel.cancelling_backend"
    project = make_project(["A SLOW scene."])
    run = runs.start_run(project, ["images"]).run
    job = run.jobs.get()
    worker.execute_job(job.id)
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    # Step 2 is where the cancel came; it raised there, so no later step ran.
    assert job.step == 1
    assert not Sentence.objects.get(id=job.sentence_id).image_file
    assert not any(media.rglob("*.png")), "the partial picture is gone"
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED


class CancelsAtStepTwo:
    """Cancels its own run from inside step 2, as a click would during generation."""

    def generate(self, job, on_step):  # type: ignore[no-untyped-def]
        partial = job.work_dir / "partial.png"
        partial.write_text("half a picture")
        for step in range(5):
            if step == 2:
                runs.cancel_run(GenerationJob.objects.get(sentence_id=job.sentence_id).run)
            on_step(step, 5)
        raise AssertionError("should have stopped at step 2")


def cancelling_backend(stage: str, preset: str) -> CancelsAtStepTwo:
    return CancelsAtStepTwo()


def test_it_refuses_to_cancel_a_finished_run(project):
    run = runs.start_run(project, ["audio"]).run
    for job in run.jobs.all():
        worker.execute_job(job.id)
    assert not runs.cancel_run(run)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED


def test_it_cancels_the_jobs_an_interrupted_inline_run_was_running(project):
    run = runs.start_run(project, ["audio"], inline=True).run
    job = run.jobs.get(position=1)
    worker.claim(job.id)
    runs.cancel_run(run)
    worker.abandon_local_jobs(run)
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert run.jobs.get(id=job.id).status == JobStatus.CANCELLED
