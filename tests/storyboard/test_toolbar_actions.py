"""The storyboard toolbar's buttons: generate, cancel, retry failed (htmx and plain)."""

import re

from generation import runs, worker
from generation.models import GenerationRun, JobStatus, Origin, RunStatus

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(project, action: str) -> str:  # type: ignore[no-untyped-def]
    return f"/projects/{project.id}/{action}/"


def test_it_starts_a_run_and_turns_the_toolbar_into_the_progress_panel(client, make_project):
    project = make_project(4)
    r = client.post(url(project, "generate"), {"option": "images", "skip_clean": "on"}, **HTMX)
    assert r.status_code == 200
    html = r.content.decode()
    assert html.lstrip().startswith('<section id="toolbar"')
    assert "Generating images: 0/4 (0%)" in html
    assert "Overall: 0/4" in html
    assert 'data-open-dialog="cancel-dialog"' in html
    # The dialog lives outside the toolbar, so live updates of the toolbar don't close it.
    page = client.get(f"/projects/{project.id}/").content.decode()
    assert "Already generated assets will be kept. Remaining jobs will be cancelled." in page
    run = GenerationRun.objects.get()
    assert run.stages == ["images"] and run.origin == Origin.PAGE and run.skip_clean


def test_it_offers_each_option_with_its_count(client, make_project):
    project = make_project(3)
    project.sentences.filter(position=1).update(
        audio_file="a.wav", image_file="i.png", video_file="v.mp4",
        is_audio_dirty=False, is_image_dirty=False, is_video_dirty=False,
    )  # fmt: skip
    html = client.get(f"/projects/{project.id}/").content.decode()
    option = r'name="option" value="(\w+)".*?'
    counts = r'class="count when-skipping">([^<]*)<.*?when-remaking">([^<]*)<'
    found = re.findall(option + counts, html, re.S)
    # The quote follows in a span of its own.
    options = {m[0]: (m[1].removesuffix(" · "), m[2]) for m in found}
    # Skipping what is up to date, and remaking everything (the box unticked).
    assert options == {
        "all": ("6 to make", "9 to make"),
        "audio": ("2 to make", "3 to make"),
        "images": ("2 to make", "3 to make"),
        "videos": ("2 to make", "3 to make"),
    }
    assert "Audio → Images → Videos · " in html
    assert "2 images pending" in html and "2 videos pending" in html


def test_it_regenerates_clean_assets_when_skip_clean_is_off(client, make_project):
    project = make_project(2)
    project.sentences.update(image_file="i.png", is_image_dirty=False)
    client.post(url(project, "generate"), {"option": "images"})
    assert GenerationRun.objects.get().jobs.count() == 2
    assert not GenerationRun.objects.get().skip_clean


def test_it_redirects_without_htmx(client, project):
    r = client.post(url(project, "generate"), {"option": "all", "skip_clean": "on"})
    assert r.status_code == 302 and r["Location"] == f"/projects/{project.id}/"
    page = client.get(r["Location"]).content.decode()
    assert "Generating audio: 0/3 (0%)" in page
    assert '<meta http-equiv="refresh"' in page  # without JavaScript, reloads show progress


def test_it_rejects_an_unknown_option(client, project):
    r = client.post(url(project, "generate"), {"option": "everything"}, **HTMX)
    assert r.status_code == 400
    assert "Choose what to generate." in r.content.decode()
    assert not GenerationRun.objects.exists()


def test_it_shows_the_running_run_on_a_second_click(client, project):
    client.post(url(project, "generate"), {"option": "all", "skip_clean": "on"}, **HTMX)
    r = client.post(url(project, "generate"), {"option": "audio", "skip_clean": "on"}, **HTMX)
    assert r.status_code == 409
    assert "A run is already in progress." in r.content.decode()
    assert "Generating audio: 0/3 (0%)" in r.content.decode()
    assert GenerationRun.objects.count() == 1


def test_it_says_when_there_is_nothing_to_generate(client, project):
    project.sentences.update(audio_file="a.wav", is_audio_dirty=False)
    r = client.post(url(project, "generate"), {"option": "audio", "skip_clean": "on"}, **HTMX)
    assert "Nothing to generate: everything is up to date." in r.content.decode()


def test_it_cancels_and_shows_the_neutral_summary(client, make_project):
    project = make_project(4)
    run = runs.start_run(project, ["audio"]).run
    worker.execute_job(run.jobs.get(position=1).id)
    r = client.post(url(project, "cancel"), **HTMX)
    assert "Cancelled: 1 of 4 done. Finished assets were kept." in r.content.decode()
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED


def test_it_shows_the_error_summary_and_retries_what_failed(client, make_project):
    project = make_project(["Fine.", "Will FAIL.", "Also fine."])
    run = runs.start_run(project, ["audio"]).run
    for job in run.jobs.all():
        worker.execute_job(job.id)
    page = client.get(f"/projects/{project.id}/").content.decode()
    failed = run.jobs.get(status=JobStatus.FAILED)
    assert f'<a href="#scene-{failed.sentence_id}">Scene 2</a>' in page
    assert "The model refused scene 2: it says FAIL." in page
    assert "Retry failed" in page
    r = client.post(url(project, "retry-failed"), **HTMX)
    assert r.status_code == 200
    retry = GenerationRun.objects.exclude(id=run.id).get()
    assert list(retry.jobs.values_list("position", "stage")) == [(2, "audio")]


def test_it_answers_409_when_there_is_nothing_to_retry(client, project):
    r = client.post(url(project, "retry-failed"), **HTMX)
    assert r.status_code == 409
    assert "There is nothing to retry." in r.content.decode()


def test_it_hides_toolbar_actions_of_other_users_projects(client, make_project, other_user):
    theirs = make_project(2, owner=other_user)
    for action in ["generate", "cancel", "retry-failed"]:
        assert client.post(url(theirs, action), {"option": "all"}).status_code == 404
    assert not GenerationRun.objects.exists()
