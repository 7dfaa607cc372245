"""The HTTP API of the story: start, cancel and follow a run."""

import json

import pytest
from django.test import Client

from generation import runs, worker
from generation.models import GenerationRun, JobStatus, Origin, RunStatus
from projects.models import Sentence


def post(client: Client, url: str, body: object = None, raw: str | None = None):  # type: ignore[no-untyped-def]
    data = raw if raw is not None else json.dumps(body) if body is not None else ""
    return client.post(url, data, content_type="application/json")


def api(project, action: str) -> str:  # type: ignore[no-untyped-def]
    return f"/api/v1/projects/{project.id}/{action}"


def test_it_starts_a_run_and_answers_with_the_story_contract(client, make_project):
    project = make_project(4)
    r = post(
        client,
        api(project, "generate-all"),
        {"stages": ["audio", "images", "videos"], "skipClean": True},
    )
    assert r.status_code == 202
    body = r.json()
    run = GenerationRun.objects.get()
    quote = body.pop("quote")
    assert body == {
        "runId": run.id,
        "jobCounts": {"audio": 4, "images": 4, "videos": 4},
        "totalJobs": 12,
        "quoteSeconds": run.quote_seconds,
        "message": "Generation started",
    }
    # No history yet: the draft preset's documented defaults, one worker assumed.
    assert quote["videos"] == {
        "jobs": 4,
        "seconds": 8.12,
        "perJob": 2.0,
        "workers": 1,
        "basis": "default",
    }
    assert run.quote == quote
    assert run.origin == Origin.API
    assert run.jobs.count() == 12


def test_it_counts_jobs_by_the_requested_stage_names(client, make_project):
    project = make_project(2)
    r = post(client, api(project, "generate-all"), {"stages": ["videos", "images"]})
    # Clips of scenes whose first picture this run makes are counted (and skipped
    # here only for lack of narration, with a reason).
    assert r.json()["jobCounts"] == {"images": 2, "videos": 2}
    assert r.json()["totalJobs"] == 4


@pytest.mark.parametrize("stage", ["audio", "images", "videos"])
def test_it_starts_a_single_stage(client, project, stage):
    r = post(client, api(project, f"generate-{stage}"), {"skipClean": False})
    assert r.status_code == 202
    assert r.json()["jobCounts"] == {stage: 3}
    assert GenerationRun.objects.get().stages == [stage]


def test_it_says_when_there_is_nothing_to_do(client, project):
    project.sentences.update(
        audio_file="a.wav", image_file="i.png", video_file="v.mp4",
        is_audio_dirty=False, is_image_dirty=False, is_video_dirty=False,
    )  # fmt: skip
    r = post(client, api(project, "generate-all"), {})
    assert r.status_code == 202
    assert r.json()["totalJobs"] == 0
    assert r.json()["runId"] is None
    assert "Nothing to generate" in r.json()["message"]
    assert not GenerationRun.objects.exists()


@pytest.mark.parametrize(
    "body, message",
    [
        ('{"stages": ["sound"]}', "Unknown stage 'sound'"),
        ('{"stages": []}', "at least one stage"),
        ('{"stages": "audio"}', "stages must be a list"),
        ('{"stages": [1]}', "stages must be a list"),
        ('{"skipClean": "yes"}', "skipClean must be true or false"),
        ("[1, 2]", "must be a JSON object"),
        ("{not json", "not valid JSON"),
    ],
)
def test_it_rejects_bad_bodies_with_a_message(client, project, body, message):
    r = post(client, api(project, "generate-all"), raw=body)
    assert r.status_code == 400
    assert message in r.json()["error"]
    assert not GenerationRun.objects.exists()


def test_it_answers_409_with_the_running_runs_progress(client, project):
    first = post(client, api(project, "generate-all"), {}).json()
    r = post(client, api(project, "generate-images"), {})
    assert r.status_code == 409
    assert r.json()["runId"] == first["runId"]
    assert r.json()["progress"]["total"] == 9
    assert GenerationRun.objects.count() == 1


def test_it_hides_other_users_projects(client, make_project, other_user):
    theirs = make_project(2, owner=other_user)
    for action in ["generate-all", "generate-audio", "cancel-generation"]:
        assert post(client, api(theirs, action), {}).status_code == 404
    assert client.get(api(theirs, "generation")).status_code == 404
    assert post(client, "/api/v1/projects/999999/generate-all", {}).status_code == 404
    assert not GenerationRun.objects.exists()


def test_it_needs_a_login(project):
    r = post(Client(), api(project, "generate-all"), {})
    assert r.status_code == 401
    assert "log in" in r.json()["error"]


def test_it_needs_a_csrf_token_for_session_posts(user, project):
    c = Client(enforce_csrf_checks=True)
    c.force_login(user)
    assert post(c, api(project, "generate-all"), {}).status_code == 403
    assert not GenerationRun.objects.exists()


def test_it_cancels_the_running_run(client, project):
    run_id = post(client, api(project, "generate-all"), {}).json()["runId"]
    r = post(client, api(project, "cancel-generation"))
    assert r.status_code == 202
    assert r.json()["runId"] == run_id
    assert r.json()["status"] == RunStatus.CANCELLED
    assert set(GenerationRun.objects.get().jobs.values_list("status", flat=True)) == {
        JobStatus.CANCELLED
    }
    # Nothing left to cancel.
    assert post(client, api(project, "cancel-generation")).status_code == 409


def test_it_reports_progress_and_each_jobs_error(client, make_project):
    project = make_project(["Fine.", "This one will FAIL."])
    project.sentences.update(audio_file="a.wav")
    run = runs.start_run(project, ["images", "videos"]).run
    for job in run.jobs.filter(stage="images"):
        worker.execute_job(job.id)
    body = client.get(api(project, "generation")).json()
    assert body["runId"] == run.id
    assert body["status"] == "running"
    assert body["currentStage"] == "videos"
    assert body["stages"]["images"] == {
        "total": 2, "done": 1, "failed": 1, "skipped": 0, "cancelled": 0,
        "running": 0, "queued": 0, "pending": 0,
    }  # fmt: skip
    assert [(e["position"], e["stage"], e["status"]) for e in body["errors"]] == [
        (2, "images", "failed"),
        (2, "videos", "skipped"),
    ]
    assert body["errors"][0]["error"] == "The model refused scene 2: it says FAIL."


def test_it_reports_no_run_yet(client, project):
    assert client.get(api(project, "generation")).json()["runId"] is None


def test_it_rejects_the_wrong_method(client, project):
    assert client.get(api(project, "generate-all")).status_code == 405
    assert post(client, api(project, "generation")).status_code == 405


def test_it_keeps_scene_assets_when_a_run_is_cancelled_via_the_api(client, project, media):
    run_id = post(client, api(project, "generate-audio"), {}).json()["runId"]
    first = GenerationRun.objects.get(id=run_id).jobs.order_by("position").first()
    worker.execute_job(first.id)
    post(client, api(project, "cancel-generation"))
    assert Sentence.objects.get(id=first.sentence_id).audio_file
