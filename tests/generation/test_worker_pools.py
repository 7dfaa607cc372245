"""Workers told which stages they take: each job runs on a worker of its stage, and a
run whose stage no live worker takes says so instead of sitting silently."""

import pytest

from generation import runs
from generation.models import GenerationRun, JobStatus, RunStatus, Worker
from storyboard.toolbar import toolbar_context
from tests.conftest import wait_for

pytestmark = pytest.mark.worker


def finished(run: GenerationRun) -> GenerationRun | None:
    run.refresh_from_db()
    return run if not run.is_active else None


def test_it_runs_each_job_on_a_worker_of_its_stage(worker_factory, make_project, client):
    narration = worker_factory(STORYBOARD_WORKER_STAGES="audio").start()
    pictures = worker_factory(STORYBOARD_WORKER_STAGES="images,videos").start()
    wait_for(lambda: Worker.objects.live().count() == 2, timeout=30)
    page = client.get(f"/projects/{make_project(1).id}/").content.decode()
    assert f"<code>{narration.name}</code> makes narration · idle" in page
    assert f"<code>{pictures.name}</code> makes pictures, clips · idle" in page

    project = make_project(6)
    run = runs.start_run(project, ["audio", "images", "videos"]).run
    run = wait_for(lambda: finished(run), timeout=90)
    assert run.status == RunStatus.SUCCEEDED
    ran_by = {
        stage: set(run.jobs.filter(stage=stage).values_list("worker", flat=True))
        for stage in ("audio", "images", "videos")
    }
    print("jobs by worker:", ran_by)
    assert ran_by == {
        "audio": {narration.name},
        "images": {pictures.name},
        "videos": {pictures.name},
    }
    assert run.jobs.filter(status=JobStatus.SUCCEEDED).count() == 18


def test_it_says_which_worker_a_run_waits_for(worker_factory, make_project, client):
    worker_factory(STORYBOARD_WORKER_STAGES="audio").start()
    project = make_project(3)
    run = runs.start_run(project, ["audio", "images"]).run
    wait_for(lambda: GenerationRun.objects.get(id=run.id).current_stage == "images", timeout=60)
    assert toolbar_context(project)["waiting_for_worker"] == (
        "Waiting for a worker that makes pictures"
    )
    page = client.get(f"/projects/{project.id}/").content.decode()
    assert "Waiting for a worker that makes pictures…" in page
    assert run.jobs.filter(stage="images", status=JobStatus.QUEUED).count() == 3

    # A worker that makes pictures turns up: the queued jobs were waiting for it.
    worker_factory(STORYBOARD_WORKER_STAGES="images").start()
    run = wait_for(lambda: finished(run), timeout=60)
    assert run.status == RunStatus.SUCCEEDED
    assert "Waiting for a worker" not in client.get(f"/projects/{project.id}/").content.decode()
