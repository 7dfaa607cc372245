"""The totals each scoped action changes, from the API, the page and the CLI, without a
worker (the jobs wait); and what an outsider or a finished run gets."""

import json

import pytest
from django.core.management import CommandError, call_command

from generation import runs
from generation.models import JobStatus, RunStatus


def test_it_cancels_one_scene_with_exact_totals(client, make_project):
    project = make_project(3)
    run = runs.start_run(project, ["audio", "images", "videos"]).run
    scene = project.sentences.get(position=2)
    r = client.post(f"/api/v1/projects/{project.id}/scenes/{scene.id}/cancel-generation")
    assert r.status_code == 202
    body = r.json()
    progress = body["progress"]
    assert (body["cancelled"], progress["cancelled"], progress["total"]) == (3, 3, 9)
    assert body["message"] == "Scene 2: 3 jobs cancelled."
    assert set(run.jobs.filter(sentence=scene).values_list("status", flat=True)) == {"cancelled"}
    assert run.jobs.exclude(sentence=scene).filter(status=JobStatus.CANCELLED).count() == 0
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING
    # Nothing left to cancel for that scene now.
    again = client.post(f"/api/v1/projects/{project.id}/scenes/{scene.id}/cancel-generation")
    assert again.status_code == 409
    assert again.json() == {"error": "Scene 2 has nothing left to do in this run."}


def test_it_makes_a_scene_next_on_the_page(client, make_project):
    project = make_project(3)
    run = runs.start_run(project, ["audio", "images"]).run
    scene = project.sentences.get(position=3)
    page = client.get(f"/projects/{project.id}/").content.decode()
    assert f"/projects/{project.id}/scenes/{scene.id}/make-next/" in page
    r = client.post(
        f"/projects/{project.id}/scenes/{scene.id}/make-next/", headers={"HX-Request": "true"}
    )
    assert r.status_code == 200
    assert "Scene 3 goes next (2 jobs)." in r.content.decode()
    top = run.jobs.order_by("-priority", "position")[0]
    assert (top.position, top.priority) == (3, 1)


def test_it_stops_after_running_from_the_api_and_the_run_ends(client, make_project):
    project = make_project(2)
    run = runs.start_run(project, ["audio"]).run
    r = client.post(f"/api/v1/projects/{project.id}/stop-after-running")
    assert r.status_code == 202
    assert (r.json()["cancelled"], r.json()["stopping"]) == (2, 0)
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED and run.stop_after_running
    assert client.post(f"/api/v1/projects/{project.id}/stop-after-running").status_code == 409


def test_it_steers_from_the_command_line(make_project, capsys):
    project = make_project(3)
    run = runs.start_run(project, ["audio", "images"]).run
    call_command("steer_run", str(project.id), "--next-scene", "3")
    assert "Scene 3: 2 job(s) moved to the front." in capsys.readouterr().out
    call_command("steer_run", str(project.id), "--cancel-scene", "1", "--json")
    out = json.loads(capsys.readouterr().out)
    assert (out["cancelled"], out["progress"]["cancelled"]) == (2, 2)
    call_command("steer_run", str(project.id), "--stop-after-running")
    assert "4 waiting job(s) cancelled" in capsys.readouterr().out
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    with pytest.raises(CommandError) as error:
        call_command("steer_run", str(project.id), "--stop-after-running")
    assert error.value.returncode == 3


def test_it_hides_another_users_run(client, make_project, other_user):
    theirs = make_project(2, owner=other_user)
    runs.start_run(theirs, ["audio"])
    scene = theirs.sentences.first()
    for url in (
        f"/api/v1/projects/{theirs.id}/scenes/{scene.id}/cancel-generation",
        f"/api/v1/projects/{theirs.id}/scenes/{scene.id}/make-next",
        f"/api/v1/projects/{theirs.id}/stop-after-running",
    ):
        assert client.post(url).status_code == 404
    mine = make_project(1)
    # Their scene is not in my project either.
    r = client.post(f"/api/v1/projects/{mine.id}/scenes/{scene.id}/make-next")
    assert r.status_code == 404
