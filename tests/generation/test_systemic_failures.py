"""A run that keeps hitting the same error pauses itself instead of failing every scene."""

from pathlib import Path

import pytest

from generation import runs, worker
from generation.models import GenerationRun, JobStatus, RunStatus
from projects.models import Sentence
from tests.conftest import wait_for


def run_queued(run: GenerationRun) -> None:
    for job_id in run.jobs.filter(status=JobStatus.QUEUED).values_list("id", flat=True):
        worker.execute_job(job_id)


def test_it_pauses_after_three_jobs_fail_with_the_same_error(make_project):
    project = make_project([f"Scene {i} NOMODEL." for i in range(1, 9)])
    run = runs.start_run(project, ["images"]).run
    run_queued(run)
    run.refresh_from_db()
    assert run.status == RunStatus.PAUSED
    assert run.pause_reason.startswith("Paused after 3 jobs in a row failed with: Image model")
    assert "STORYBOARD_IMAGE_MODEL" in run.pause_reason
    # The scenes that hit it and those not yet reached wait; none is marked failed.
    assert set(run.jobs.values_list("status", flat=True)) == {JobStatus.PENDING}
    assert run.jobs.filter(attempts=1).count() == 3


def test_it_does_not_pause_for_different_errors(make_project):
    project = make_project([f"Scene {i} will FAIL." for i in range(1, 6)])
    run = runs.start_run(project, ["audio"]).run
    run_queued(run)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.jobs.filter(status=JobStatus.FAILED).count() == 5


def test_it_resumes_once_the_cause_is_fixed(client, make_project):
    project = make_project(["One NOMODEL.", "Two NOMODEL.", "Three NOMODEL.", "Four."])
    run = runs.start_run(project, ["images"]).run
    run_queued(run)
    status = client.get(f"/api/v1/projects/{project.id}/generation").json()
    assert status["status"] == "paused" and "STORYBOARD_IMAGE_MODEL" in status["pauseReason"]
    page = client.get(f"/projects/{project.id}/").content.decode()
    assert "Paused after 3 jobs in a row failed" in page and ">Resume</button>" in page
    # The creator fixes the model setting (here: the scenes' text steers the fake model).
    for s in project.sentences.all():
        s.apply_edit(text=s.text.replace(" NOMODEL", ""))
    r = client.post(f"/api/v1/projects/{project.id}/resume-generation")
    assert r.status_code == 202
    run_queued(run)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert all(s.image_file for s in Sentence.objects.filter(project=project))
    assert client.post(f"/api/v1/projects/{project.id}/resume-generation").status_code == 409


def test_a_paused_run_can_be_cancelled(client, make_project):
    project = make_project([f"Scene {i} NOMODEL." for i in range(1, 5)])
    run = runs.start_run(project, ["images"]).run
    run_queued(run)
    r = client.post(f"/projects/{project.id}/cancel/", HTTP_HX_REQUEST="true")
    assert "Cancelled: 0 of 4 done." in r.content.decode()
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED


@pytest.mark.worker
def test_a_full_disk_fails_the_job_with_a_reason_and_keeps_earlier_assets(
    worker_factory, make_project, media: Path
):
    project = make_project(["A small picture.", "A BIG picture.", "Another small one."])
    second = project.sentences.get(position=2)
    (media / "earlier.png").write_bytes(b"earlier picture")
    Sentence.objects.filter(id=second.id).update(image_file="earlier.png")
    worker_factory(max_file_size=8_000_000).start()
    started = runs.start_run(project, ["images"], skip_clean=False)

    def finished() -> GenerationRun | None:
        started.run.refresh_from_db()
        return started.run if not started.run.is_active else None

    run = wait_for(finished, timeout=60)
    big = run.jobs.get(position=2)
    assert big.status == JobStatus.FAILED
    assert big.error.startswith("Could not write the asset: the file is larger than this worker")
    assert run.jobs.filter(status=JobStatus.SUCCEEDED).count() == 2
    # No partial file anywhere; the scene keeps its earlier picture, untouched.
    assert not [p for p in (media / ".work").rglob("*") if p.is_file()]
    assert Sentence.objects.get(id=second.id).image_file.name == "earlier.png"
    assert (media / "earlier.png").read_bytes() == b"earlier picture"
    assert len(list(media.rglob("image-*"))) == 2, "only the two small pictures were written"


@pytest.mark.worker
def test_a_run_paused_with_failures_on_two_workers_finishes_after_resume(
    worker_factory, client, make_project, media: Path
):
    # One worker is busy with a job that fails slowly while the other fails three in a
    # row: the run pauses, and the slow job fails with the same error a moment later.
    texts = ["One SLOW NOMODEL.", "Two NOMODEL.", "Three NOMODEL.", "Four NOMODEL.", "Five."]
    project = make_project(texts)
    workers = [worker_factory().start(), worker_factory().start()]
    wait_for(lambda: all(w.process and w.process.poll() is None for w in workers))
    run = runs.start_run(project, ["images"]).run

    def slow_failed() -> bool:
        run.refresh_from_db()
        return (
            run.status == RunStatus.PAUSED
            and run.jobs.filter(position=1, status=JobStatus.FAILED).exists()
        )

    wait_for(slow_failed, timeout=30)
    for s in project.sentences.all():
        s.apply_edit(text=s.text.replace(" NOMODEL", ""))
    assert client.post(f"/api/v1/projects/{project.id}/resume-generation").status_code == 202

    def finished() -> GenerationRun | None:
        run.refresh_from_db()
        return run if not run.is_active else None

    run = wait_for(finished, timeout=60)
    assert run.status == RunStatus.SUCCEEDED
    assert set(run.jobs.values_list("status", "error")) == {(JobStatus.SUCCEEDED, "")}
    assert all(s.image_file for s in Sentence.objects.filter(project=project))


def test_retry_failed_on_a_paused_run_resumes_it_with_every_failed_job(client, make_project):
    project = make_project(["One FAIL.", "Two NOMODEL.", "Three NOMODEL.", "Four NOMODEL."])
    run = runs.start_run(project, ["images"]).run
    run_queued(run)
    run.refresh_from_db()
    assert run.status == RunStatus.PAUSED
    assert run.jobs.get(position=1).status == JobStatus.FAILED  # another error: stays failed
    for s in project.sentences.all():
        s.apply_edit(text=s.text.replace(" NOMODEL", "").replace(" FAIL", ""))

    r = client.post(f"/projects/{project.id}/retry-failed/", HTTP_HX_REQUEST="true")

    assert r.status_code == 200
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING and run.pause_reason == ""
    run_queued(run)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    # Every job ends done, the one that failed first without its old error text.
    assert set(run.jobs.values_list("status", "error")) == {(JobStatus.SUCCEEDED, "")}
