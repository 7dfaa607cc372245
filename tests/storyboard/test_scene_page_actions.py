"""The storyboard page's scene actions (htmx): regenerate, re-roll, takes and restore,
and the review panel in the toolbar."""

from pathlib import Path

from generation import runs
from generation.models import GenerationRun, JobStatus, Take

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(project, action: str) -> str:  # type: ignore[no-untyped-def]
    return f"/projects/{project.id}/{action}/"


def test_it_regenerates_and_rerolls_from_a_row(client, project):
    scene = project.sentences.get(position=2)
    page = client.get(f"/projects/{project.id}/").content.decode()
    assert f"seed {scene.seed}" in page and "Re-roll" in page and "Regenerate ▾" in page

    r = client.post(url(project, f"scenes/{scene.id}/regenerate"), {"asset": "image"}, **HTMX)
    assert r.status_code == 200
    html = r.content.decode()
    assert "Generating images: 0/1 (0%)" in html and "Scene 2: picture" in html
    run = GenerationRun.objects.get()
    assert list(run.jobs.values_list("sentence_id", "stage")) == [(scene.id, "images")]

    # Narration is behind the run now making pictures: said in the toolbar, nothing added.
    r = client.post(url(project, f"scenes/{scene.id}/regenerate"), {"asset": "audio"}, **HTMX)
    assert r.status_code == 409 and "already made its audio" in r.content.decode()
    r = client.post(url(project, f"scenes/{scene.id}/regenerate"), {"asset": "x"}, **HTMX)
    assert r.status_code == 400

    old = scene.seed
    r = client.post(url(project, f"scenes/{scene.id}/reroll"), **HTMX)
    assert r.status_code == 200 and "Already planned in the run in progress" in r.content.decode()
    scene.refresh_from_db()
    assert scene.seed != old and run.jobs.count() == 1


def test_it_browses_and_restores_takes_in_a_row(client, project, media: Path):
    scene = project.sentences.first()
    for name in ("a.png", "b.png"):
        (media / name).write_bytes(name.encode())
    old = Take.objects.create(sentence=scene, asset="image", file="a.png", preset="draft", seed=5)
    new = Take.objects.create(sentence=scene, asset="image", file="b.png", preset="draft", seed=6)
    scene.image_file = "b.png"
    scene.save()

    html = client.get(url(project, f"scenes/{scene.id}/takes"), **HTMX).content.decode()
    assert html.count('class="take take-image') == 2
    assert f'data-take="{new.id}"' in html and "current" in html
    assert f"/takes/{old.id}/restore/" in html and f"/takes/{new.id}/restore/" not in html

    r = client.post(url(project, f"scenes/{scene.id}/takes/{old.id}/restore"), **HTMX)
    assert r.status_code == 200
    row = r.content.decode()
    assert row.lstrip().startswith(f'<tr id="scene-{scene.id}"') and "/media/a.png" in row
    assert "seed 5" in row
    scene.refresh_from_db()
    assert scene.image_file.name == "a.png" and scene.seed == 5


def test_it_shows_the_pictures_to_review_and_continues_from_the_toolbar(client, project):
    r = client.post(url(project, "generate"), {"option": "all", "review": "on"}, **HTMX)
    assert r.status_code == 200
    run = GenerationRun.objects.get()
    assert run.review_before_clips
    project.sentences.update(audio_file="a.wav", image_file="i.png")
    run.jobs.exclude(stage="videos").update(status=JobStatus.SUCCEEDED)
    runs.advance(run.id)
    first, second, _ = project.sentences.all()

    html = client.get(f"/projects/{project.id}/").content.decode()
    assert "Waiting for review: 3 pictures to look at" in html
    assert html.count('class="review-scene') == 3
    assert "Make clips for approved scenes (0)" in html

    r = client.post(url(project, f"scenes/{first.id}/approve"), {"approved": "1"}, **HTMX)
    assert "Make clips for approved scenes (1)" in r.content.decode()
    r = client.post(url(project, f"scenes/{second.id}/reroll"), **HTMX)
    # The re-roll runs inside the run: the toolbar shows it making the picture.
    assert "Generating images: 3/4 (75%)" in r.content.decode()
    assert "Re-rolling" in r.content.decode()
    run.jobs.filter(status=JobStatus.QUEUED).update(status=JobStatus.SUCCEEDED)
    runs.advance(run.id)

    r = client.post(url(project, "review/continue"), **HTMX)
    assert r.status_code == 200 and "Generating videos: 2/3" in r.content.decode()
    assert run.jobs.filter(stage="videos", status=JobStatus.SKIPPED).count() == 2


def test_it_keeps_scene_actions_to_the_owner(client, make_project, other_user):
    theirs = make_project(1, owner=other_user)
    scene = theirs.sentences.get()
    for action in ("regenerate", "reroll", "approve"):
        assert client.post(url(theirs, f"scenes/{scene.id}/{action}"), **HTMX).status_code == 404
    assert client.get(url(theirs, f"scenes/{scene.id}/takes"), **HTMX).status_code == 404
    assert client.post(url(theirs, "review/continue"), **HTMX).status_code == 404
    assert not GenerationRun.objects.exists()
