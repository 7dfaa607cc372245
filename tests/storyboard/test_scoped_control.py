"""Steering a run while a real worker runs it: cancel one scene, stop after the running
jobs, make a scene next."""

from pathlib import Path

import pytest

from generation import runs
from generation.models import GenerationJob, GenerationRun, JobStatus, RunStatus
from tests.conftest import wait_for

pytestmark = pytest.mark.worker


def finished(run: GenerationRun) -> GenerationRun | None:
    run.refresh_from_db()
    return run if not run.is_active else None


def running(run: GenerationRun, position: int, stage: str) -> GenerationJob | None:
    return run.jobs.filter(position=position, stage=stage, status=JobStatus.RUNNING).first()


def test_it_cancels_one_scene_and_the_others_run_to_success(worker, make_project, client, media):
    project = make_project(["One.", "Two is SLOW.", "Three.", "Four."])
    run = runs.start_run(project, ["audio", "images"]).run
    wait_for(lambda: running(run, 2, "audio"), timeout=30)
    scene = project.sentences.get(position=2)
    r = client.post(f"/api/v1/projects/{project.id}/scenes/{scene.id}/cancel-generation")
    assert r.status_code == 202
    body = r.json()
    # Its running narration and its waiting picture: exactly two, and said so.
    assert body["cancelled"] == 2
    assert body["progress"]["total"] == 8
    run = wait_for(lambda: finished(run), timeout=60)
    assert run.status == RunStatus.SUCCEEDED
    assert sorted(run.jobs.filter(status=JobStatus.CANCELLED).values_list("position", "stage")) == [
        (2, "audio"),
        (2, "images"),
    ]
    assert run.jobs.filter(status=JobStatus.SUCCEEDED).count() == 6
    scene.refresh_from_db()
    assert not scene.audio_file and scene.is_audio_dirty
    assert client.get(f"/api/v1/projects/{project.id}/generation").json()["cancelled"] == 2


def test_it_stops_after_the_running_jobs_and_keeps_their_assets(
    worker, make_project, client, media
):
    project = make_project(["One is SLOW.", "Two is SLOW.", "Three is SLOW."])
    run = runs.start_run(project, ["audio"]).run
    wait_for(lambda: running(run, 1, "audio"), timeout=30)
    r = client.post(f"/projects/{project.id}/stop-after-running/", headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert "Stopping after 1 running job: 2 waiting jobs cancelled." in r.content.decode()
    run = wait_for(lambda: finished(run), timeout=30)
    assert run.status == RunStatus.CANCELLED
    first = run.jobs.get(position=1)
    # It ran to its end and its narration is kept.
    assert first.status == JobStatus.SUCCEEDED
    scene = project.sentences.get(position=1)
    assert scene.audio_file and (Path(media) / scene.audio_file.name).is_file()
    assert run.jobs.filter(status=JobStatus.CANCELLED).count() == 2


def test_it_makes_a_scene_next_within_its_stage(worker, make_project, client):
    project = make_project(["One is SLOW.", "Two.", "Three.", "Four.", "Five."])
    run = runs.start_run(project, ["images"]).run
    wait_for(lambda: running(run, 1, "images"), timeout=30)
    scene = project.sentences.get(position=4)
    r = client.post(f"/api/v1/projects/{project.id}/scenes/{scene.id}/make-next")
    assert r.status_code == 202 and r.json()["moved"] == 1
    run = wait_for(lambda: finished(run), timeout=30)
    assert run.status == RunStatus.SUCCEEDED
    order = list(run.jobs.order_by("started_at").values_list("position", flat=True))
    assert order == [1, 4, 2, 3, 5]
    # Each job ran once, though scene 4's was queued twice.
    assert run.jobs.filter(status=JobStatus.SUCCEEDED, attempts=1).count() == 5
