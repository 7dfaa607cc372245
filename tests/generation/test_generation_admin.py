"""Runs and jobs in the Django admin: inspect, filter, retry, cancel."""

import pytest

from generation import runs, worker
from generation.models import GenerationRun, JobStatus, Origin, RunStatus


@pytest.fixture
def failed_run(make_project):  # type: ignore[no-untyped-def]
    project = make_project(["Fine.", "This will FAIL."])
    run = runs.start_run(project, ["audio"]).run
    for job in run.jobs.all():
        worker.execute_job(job.id)
    run.refresh_from_db()
    return run


def test_it_shows_a_run_with_its_jobs(admin_client, failed_run):
    page = admin_client.get(f"/admin/generation/generationrun/{failed_run.id}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Finished with errors" in html
    assert "The model refused scene 2: it says FAIL." in html
    assert "2/2 (100%), 1 failed" in html


def test_it_shows_runs_and_jobs_read_only_with_the_traceback_as_written(admin_client, failed_run):
    run_page = admin_client.get(f"/admin/generation/generationrun/{failed_run.id}/change/")
    job = failed_run.jobs.get(status=JobStatus.FAILED)
    job_page = admin_client.get(f"/admin/generation/generationjob/{job.id}/change/")
    for page in (run_page, job_page):
        assert page.status_code == 200
        assert 'name="_save"' not in page.content.decode()
        assert 'name="_continue"' not in page.content.decode()
    html = job_page.content.decode()
    block = html.split('<pre class="traceback" style="white-space: pre-wrap; margin: 0">')[1]
    block = block.split("</pre>")[0].replace("&quot;", '"')
    assert "Traceback (most recent call last):" in block
    # Indentation kept, line by line, as Python printed it.
    assert '\n  File "' in block and "\n    " in block
    assert "<br>" not in block


def test_it_lists_and_filters_jobs(admin_client, failed_run):
    listing = admin_client.get("/admin/generation/generationjob/", {"status__exact": "failed"})
    html = listing.content.decode()
    assert listing.status_code == 200
    assert "The model refused scene 2" in html
    assert "1 generation job" in html
    by_stage = admin_client.get("/admin/generation/generationjob/", {"stage__exact": "videos"})
    assert "0 generation jobs" in by_stage.content.decode()


def test_it_searches_jobs_by_error_text(admin_client, failed_run):
    html = admin_client.get("/admin/generation/generationjob/", {"q": "refused"}).content.decode()
    assert "1 generation job" in html


def test_it_retries_failed_jobs_of_a_run(admin_client, failed_run):
    r = admin_client.post(
        "/admin/generation/generationrun/",
        {"action": "retry_failed_jobs", "_selected_action": [failed_run.id]},
        follow=True,
    )
    assert "retries 1 job(s)" in r.content.decode()
    retry = GenerationRun.objects.exclude(id=failed_run.id).get()
    assert retry.origin == Origin.ADMIN and retry.retry_of == failed_run
    assert list(retry.jobs.values_list("position", "stage")) == [(2, "audio")]


def test_it_retries_selected_failed_jobs(admin_client, failed_run):
    failed = failed_run.jobs.get(status=JobStatus.FAILED)
    admin_client.post(
        "/admin/generation/generationjob/",
        {"action": "retry_failed", "_selected_action": [failed.id]},
    )
    retry = GenerationRun.objects.exclude(id=failed_run.id).get()
    assert list(retry.jobs.values_list("position", "stage")) == [(2, "audio")]


def test_it_cancels_a_run(admin_client, project):
    run = runs.start_run(project, ["audio"]).run
    admin_client.post(
        "/admin/generation/generationrun/",
        {"action": "cancel_runs", "_selected_action": [run.id]},
    )
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED


def test_it_is_for_staff_only(client, failed_run):
    r = client.get("/admin/generation/generationjob/")
    assert r.status_code == 302
    assert "/admin/login/" in r["Location"]


def test_it_shows_a_scenes_takes_with_what_made_them(admin_client, make_project):
    project = make_project(["A harbour at dawn."])
    run = runs.start_run(project, ["images"]).run
    for job in run.jobs.all():
        worker.execute_job(job.id)
    scene = project.sentences.get()
    take = scene.takes.get()
    page = admin_client.get(f"/admin/projects/sentence/{scene.id}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Takes (newest first" in html and take.file in html and str(scene.seed) in html
    listing = admin_client.get("/admin/generation/take/", {"asset__exact": "image"})
    assert f"/admin/generation/take/{take.id}/change/" in listing.content.decode()
