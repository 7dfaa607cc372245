"""The scene-level API: regenerate, re-roll, takes, restore, approve, continue. Owner
only, and every refusal a JSON error with a status a script can act on."""

import json
from pathlib import Path

import pytest
from django.test import Client

from generation import runs
from generation.models import GenerationRun, JobStatus, RunStatus, Take
from generation.scenes import NOT_APPROVED


def post(client: Client, url: str, body: object = None, raw: str | None = None):  # type: ignore[no-untyped-def]
    data = raw if raw is not None else json.dumps(body) if body is not None else ""
    return client.post(url, data, content_type="application/json")


def api(project, action: str) -> str:  # type: ignore[no-untyped-def]
    return f"/api/v1/projects/{project.id}/{action}"


def test_it_regenerates_one_asset_and_refuses_a_stage_the_run_has_passed(client, project):
    scene = project.sentences.get(position=2)
    r = post(client, api(project, f"scenes/{scene.id}/regenerate"), {"assets": ["image"]})
    assert r.status_code == 202
    body = r.json()
    run = GenerationRun.objects.get()
    assert (body["runId"], body["jobCounts"], body["totalJobs"], body["joined"]) == (
        run.id,
        {"images": 1},
        1,
        False,
    )
    assert body["progress"]["total"] == 1 and run.label == "Scene 2: picture"
    assert list(run.jobs.values_list("sentence_id", "stage")) == [(scene.id, "images")]

    # The run is making pictures: narration is a stage it has passed.
    r = post(client, api(project, f"scenes/{scene.id}/regenerate"), {"assets": "audio"})
    assert r.status_code == 409
    assert "already made its audio" in r.json()["error"]

    # A re-roll of a picture still queued: the new seed is what that job will read.
    old_seed = scene.seed
    r = post(client, api(project, f"scenes/{scene.id}/reroll"))
    assert r.status_code == 202
    assert r.json()["joined"] and r.json()["totalJobs"] == 0
    scene.refresh_from_db()
    assert r.json()["seed"] == scene.seed != old_seed
    assert run.jobs.count() == 1


@pytest.mark.parametrize(
    "body, message",
    [
        ({"assets": ["picture"]}, "Unknown asset"),
        ({"assets": []}, "assets must be"),
        ({"assets": 3}, "assets must be"),
        ([1, 2], "JSON object"),
    ],
)
def test_it_answers_400_to_bad_regenerate_bodies(client, project, body, message):
    scene = project.sentences.first()
    r = post(client, api(project, f"scenes/{scene.id}/regenerate"), body)
    assert r.status_code == 400 and message in r.json()["error"]
    assert not GenerationRun.objects.exists()


def test_it_refuses_a_clip_without_a_picture(client, project):
    scene = project.sentences.first()
    r = post(client, api(project, f"scenes/{scene.id}/regenerate"), {"assets": ["video"]})
    assert r.status_code == 409 and "No picture" in r.json()["error"]


def make_take(scene, media: Path, name: str, **fields) -> Take:  # type: ignore[no-untyped-def]
    path = media / "takes" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(name.encode())
    return Take.objects.create(sentence=scene, file=f"takes/{name}", **fields)


def test_it_lists_and_restores_takes(client, project, media: Path):
    scene = project.sentences.first()
    project_fields = {"preset": "draft", "style": "", "width": 1280, "height": 720}
    old = make_take(
        scene, media, "a.png", asset="image", seed=7, prompt=scene.image_prompt, **project_fields
    )
    new = make_take(scene, media, "b.png", asset="image", seed=8, prompt="other", preset="draft")
    scene.image_file = new.file
    scene.is_image_dirty = scene.is_video_dirty = False
    scene.save()

    r = client.get(api(project, f"scenes/{scene.id}/takes"))
    assert r.status_code == 200
    body = r.json()
    assert body["current"] == {"audio": None, "image": new.id, "video": None}
    assert [(t["id"], t["current"], t["seed"]) for t in body["takes"]] == [
        (new.id, True, 8),
        (old.id, False, 7),
    ]

    r = post(client, api(project, f"scenes/{scene.id}/takes/{old.id}/restore"))
    assert r.status_code == 200
    # Its inputs are the scene's (with its seed back): an up-to-date picture; no clip
    # was made of it, so the clip is out of date.
    assert r.json() == {
        "restored": old.id,
        "stale": ["video"],
        "sceneId": scene.id,
        "seed": 7,
        "dirty": {"audio": True, "image": False, "video": True},
    }
    scene.refresh_from_db()
    assert scene.image_file.name == "takes/a.png"

    (media / new.file).unlink()
    r = post(client, api(project, f"scenes/{scene.id}/takes/{new.id}/restore"))
    assert r.status_code == 409 and "gone" in r.json()["error"]
    other = project.sentences.last()
    r = post(client, api(project, f"scenes/{other.id}/takes/{old.id}/restore"))
    assert r.status_code == 404 and r.json()["error"]


def test_it_refuses_a_restore_while_the_scene_is_being_generated(client, project, media):
    scene = project.sentences.first()
    take = make_take(scene, media, "c.wav", asset="audio", preset="draft")
    runs.start_run(project, ["audio"])
    r = post(client, api(project, f"scenes/{scene.id}/takes/{take.id}/restore"))
    assert r.status_code == 409 and "being generated" in r.json()["error"]


def test_it_reviews_pictures_then_continues_with_approved_clips(client, project):
    r = post(client, api(project, "generate-all"), {"reviewBeforeClips": "yes"})
    assert r.status_code == 400 and "reviewBeforeClips" in r.json()["error"]
    r = post(client, api(project, "generate-all"), {"reviewBeforeClips": True})
    assert r.status_code == 202 and r.json()["totalJobs"] == 9
    run = GenerationRun.objects.get()
    first, second, third = project.sentences.all()
    r = post(client, api(project, f"scenes/{first.id}/approve"))
    assert r.status_code == 409 and "still being made" in r.json()["error"]

    # Narration and pictures made (as a worker would): the run stops before clips.
    project.sentences.update(audio_file="a.wav", image_file="i.png")
    run.jobs.exclude(stage="videos").update(status=JobStatus.SUCCEEDED)
    runs.advance(run.id)
    body = client.get(api(project, "generation")).json()
    assert body["status"] == "review" and body["reviewBeforeClips"]
    assert [(s["sceneId"], s["approved"]) for s in body["review"]] == [
        (first.id, False),
        (second.id, False),
        (third.id, False),
    ]
    assert body["stages"]["videos"]["pending"] == 3

    assert (
        post(client, api(project, f"scenes/{first.id}/approve"), {"approved": 1}).status_code == 400
    )
    r = post(client, api(project, f"scenes/{first.id}/approve"), {"approved": True})
    assert r.json() == {"runId": run.id, "sceneId": first.id, "approved": True}
    post(client, api(project, f"scenes/{third.id}/approve"))
    post(client, api(project, f"scenes/{third.id}/approve"), {"approved": False})

    r = post(client, api(project, "review/continue"))
    assert r.status_code == 202 and r.json()["progress"]["stages"]["videos"]["skipped"] == 2
    videos = dict(run.jobs.filter(stage="videos").values_list("sentence_id", "status"))
    assert videos == {first.id: "queued", second.id: "skipped", third.id: "skipped"}
    assert run.jobs.get(sentence=second, stage="videos").error == NOT_APPROVED
    assert GenerationRun.objects.get().status == RunStatus.RUNNING
    assert post(client, api(project, "review/continue")).status_code == 409
    assert post(client, api(project, f"scenes/{first.id}/approve")).status_code == 409

    # Retrying the run's failures leaves alone the clips not approved in review.
    run.jobs.filter(sentence=first, stage="videos").update(status=JobStatus.FAILED, error="Boom")
    runs.advance(run.id)
    retry = runs.retry_failed(GenerationRun.objects.get(id=run.id))
    assert retry.job_counts == {"videos": 1}
    assert list(retry.run.jobs.values_list("sentence_id", flat=True)) == [first.id]


def test_it_keeps_every_scene_action_to_the_owner(client, make_project, other_user, media):
    theirs = make_project(2, owner=other_user)
    scene = theirs.sentences.first()
    take = make_take(scene, media, "t.png", asset="image", preset="draft")
    urls = [
        f"scenes/{scene.id}/regenerate",
        f"scenes/{scene.id}/reroll",
        f"scenes/{scene.id}/takes/{take.id}/restore",
        f"scenes/{scene.id}/approve",
        "review/continue",
    ]
    for url in urls:
        r = post(client, api(theirs, url), {})
        assert r.status_code == 404 and r.json()["error"], url
        r = post(Client(), api(theirs, url), {})
        assert r.status_code == 401 and r.json()["error"], url
    r = client.get(api(theirs, f"scenes/{scene.id}/takes"))
    assert r.status_code == 404 and r.json()["error"]
    seed = scene.seed
    scene.refresh_from_db()
    assert scene.seed == seed and not GenerationRun.objects.exists()
