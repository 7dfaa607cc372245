"""Every file a project makes (narration, picture, clip, film, manifest) is served to its
owner only: anonymous visitors and other users get the same 404 as for a missing file."""

import re
from pathlib import Path

import pytest
from django.test import Client

from accounts.models import ApiToken
from exports.models import Export, ExportStatus
from generation import runs, worker
from projects.models import Project
from tests.support.exports import inline_export, ready_project


@pytest.fixture
def filmed(make_project, media: Path) -> tuple[Project, Export]:
    project = ready_project(make_project, media, [1.0])
    return project, inline_export(project)


def urls_of(project: Project, export: Export) -> list[str]:
    scene = project.sentences.get()
    manifest = export.url.removesuffix(".mp4") + ".json"
    return [scene.audio_file.url, scene.image_file.url, scene.video_file.url, export.url, manifest]


def test_it_serves_every_file_to_its_owner_and_to_nobody_else(
    client, filmed, other_user, media: Path
):
    project, export = filmed
    bob = Client()
    bob.force_login(other_user)
    page = client.get(f"/projects/{project.id}/").content.decode()
    for url in urls_of(project, export):
        assert url.startswith("/media/projects/")
        own = client.get(url)
        assert own.status_code == 200, url
        assert b"".join(own.streaming_content) == (media / url.removeprefix("/media/")).read_bytes()
        assert own["Cache-Control"].startswith("private")
        assert Client().get(url).status_code == 404, url
        assert bob.get(url).status_code == 404, url
        if not url.endswith(".json"):
            assert url in page, "the storyboard links through the checked view"


def test_it_answers_range_requests_so_video_seeks(client, filmed, media: Path):
    _, export = filmed
    whole = (media / export.file).read_bytes()
    size = len(whole)
    head = client.get(export.url, HTTP_RANGE="bytes=0-99")
    assert head.status_code == 206
    assert head["Content-Range"] == f"bytes 0-99/{size}" and head["Content-Length"] == "100"
    assert b"".join(head.streaming_content) == whole[:100]
    middle = client.get(export.url, HTTP_RANGE=f"bytes=1000-{size + 50}")
    assert middle["Content-Range"] == f"bytes 1000-{size - 1}/{size}"
    assert b"".join(middle.streaming_content) == whole[1000:]
    tail = client.get(export.url, HTTP_RANGE="bytes=-16")
    assert b"".join(tail.streaming_content) == whole[-16:]
    assert client.get(export.url, HTTP_RANGE=f"bytes={size}-").status_code == 416
    full = client.get(export.url)
    assert full.status_code == 200 and full["Accept-Ranges"] == "bytes"
    assert full["Content-Type"] == "video/mp4"


def test_new_file_names_cannot_be_guessed(client, project, filmed, media: Path):
    film_project, export = filmed
    assert re.fullmatch(
        rf"projects/{film_project.id}/exports/export-{export.id}-[0-9a-f]{{20}}\.mp4", export.file
    )
    # The sequential name of before answers 404, even to the owner.
    assert (
        client.get(f"/media/projects/{film_project.id}/exports/export-{export.id}.mp4").status_code
        == 404
    )
    run = runs.start_run(project, ["audio"]).run
    job = run.jobs.first()
    worker.execute_job(job.id)
    job.refresh_from_db()
    assert re.fullmatch(
        rf"projects/{project.id}/scenes/{job.sentence_id}/audio-{job.id}-1-[0-9a-f]{{20}}\.wav",
        job.output_file,
    )
    assert client.get(f"/media/{job.output_file}").status_code == 200


def test_files_named_before_still_work(client, project, media: Path):
    old = media / f"projects/{project.id}/exports/export-1.mp4"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"an old film")
    Export.objects.create(
        project=project,
        status=ExportStatus.SUCCEEDED,
        file=f"projects/{project.id}/exports/export-1.mp4",
    )
    page = client.get(f"/projects/{project.id}/").content.decode()
    assert f'href="/media/projects/{project.id}/exports/export-1.mp4" download' in page
    assert (
        b"".join(client.get(f"/media/projects/{project.id}/exports/export-1.mp4").streaming_content)
        == b"an old film"
    )


@pytest.mark.parametrize(
    "path",
    [
        "projects/{mine}/../{theirs}/exports/film.mp4",
        "projects/{mine}/%2e%2e/{theirs}/exports/film.mp4",
        "projects/{mine}/.work/film.mp4",
        "projects/{mine}/exports/.film.mp4.partial",
        ".work/job-1-1/film.mp4",
        "projects/{mine}",
        "projects/abc/film.mp4",
        "projects/99999999999999999999999/film.mp4",
        "film.mp4",
    ],
)
def test_it_refuses_paths_outside_the_owners_project(
    client, make_project, other_user, media: Path, path: str
):
    mine, theirs = make_project(1), make_project(1, owner=other_user)
    for project, folder in [
        (mine, "exports"),
        (theirs, "exports"),
        (mine, ".work"),
        (None, ".work/job-1-1"),
    ]:
        where = media / (f"projects/{project.id}/{folder}" if project else folder)
        where.mkdir(parents=True, exist_ok=True)
        (where / "film.mp4").write_bytes(b"secret")
    (media / f"projects/{mine.id}/exports/.film.mp4.partial").write_bytes(b"half")
    (media / "film.mp4").write_bytes(b"secret")
    url = "/media/" + path.format(mine=mine.id, theirs=theirs.id)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("serving", "header", "value"),
    [
        ("accel", "X-Accel-Redirect", "/protected-media/{file}"),
        ("sendfile", "X-Sendfile", "{media}/{file}"),
    ],
)
def test_behind_a_proxy_it_checks_the_owner_and_lets_the_proxy_send_the_bytes(
    client, filmed, other_user, settings, media: Path, serving: str, header: str, value: str
):
    settings.MEDIA_SERVING = serving
    _, export = filmed
    r = client.get(export.url)
    assert r.status_code == 200 and r.content == b""
    assert r[header] == value.format(file=export.file, media=media.resolve())
    assert r["Content-Type"] == "video/mp4"
    bob = Client()
    bob.force_login(other_user)
    refused = bob.get(export.url)
    assert refused.status_code == 404 and not refused.has_header(header)


def test_a_script_downloads_its_film_with_a_token(user, filmed, other_user, media: Path):
    project, export = filmed
    token = ApiToken(user=user, name="farm")
    key = token.new_key()
    token.save()
    listed = Client().get(
        f"/api/v1/projects/{project.id}/exports", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    download = listed.json()["exports"][0]["download"]
    assert download == f"/api/v1/projects/{project.id}/exports/{export.id}/file"
    r = Client().get(download, HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_RANGE="bytes=0-9")
    assert r.status_code == 206
    assert r.getvalue() == (media / export.file).read_bytes()[:10]
    # The token opens the API only, not the media URL.
    assert Client().get(export.url, HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 404
    bob = ApiToken(user=other_user, name="bob")
    bob_key = bob.new_key()
    bob.save()
    r = Client().get(download, HTTP_AUTHORIZATION=f"Bearer {bob_key}")
    assert r.status_code == 404 and r.json()["error"]
