"""The admin lists the workers from their heartbeats, and each run's quote beside what
it took."""

from datetime import timedelta

from django.utils import timezone

from generation import runs
from generation.models import GenerationJob, GenerationRun, JobStatus, RunStatus, Worker


def test_it_lists_live_workers_with_their_stages_and_jobs(admin_client, make_project):
    project = make_project(2)
    run = runs.start_run(project, ["audio"]).run
    job = run.jobs.first()
    GenerationJob.objects.filter(id=job.id).update(status=JobStatus.RUNNING, worker="gpu-1:42")
    Worker.objects.create(name="gpu-1:42", stages=["images", "videos"], last_seen=timezone.now())
    Worker.objects.create(
        name="old:7", stages=["audio"], last_seen=timezone.now() - timedelta(hours=1)
    )
    page = admin_client.get("/admin/generation/worker/").content.decode()
    assert "gpu-1:42" in page and "audio for scene 1" in page
    assert page.count('alt="True"') == 1 and page.count('alt="False"') == 1


def test_it_shows_quote_and_actual_of_each_run(admin_client, make_project):
    project = make_project(2)
    run = runs.start_run(project, ["audio"]).run
    GenerationRun.objects.filter(id=run.id).update(
        status=RunStatus.SUCCEEDED,
        quote_seconds=10.0,
        created=timezone.now() - timedelta(seconds=8),
        finished_at=timezone.now(),
    )
    page = admin_client.get("/admin/generation/generationrun/").content.decode()
    assert "10.0 s" in page and "+25%" in page
