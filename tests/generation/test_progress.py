"""Progress is computed from job rows, overall and per stage, in one query."""

from generation import runs
from generation.models import GenerationJob, JobStatus
from generation.progress import job_errors, run_progress


def set_status(run, stage: str, statuses: list[str]) -> None:  # type: ignore[no-untyped-def]
    jobs = list(run.jobs.filter(stage=stage).order_by("position"))
    for job, status in zip(jobs, statuses, strict=True):
        GenerationJob.objects.filter(id=job.id).update(status=status)


def test_it_counts_each_status_per_stage_and_overall(make_project, django_assert_num_queries):
    project = make_project(4)
    run = runs.start_run(project, ["audio", "images"]).run
    set_status(run, "audio", ["succeeded", "failed", "skipped", "cancelled"])
    set_status(run, "images", ["running", "queued", "pending", "succeeded"])
    run.refresh_from_db()
    with django_assert_num_queries(1):
        progress = run_progress(run)
    audio, images = progress.stages["audio"], progress.stages["images"]
    assert (audio.total, audio.done, audio.failed, audio.skipped, audio.cancelled) == (
        4,
        1,
        1,
        1,
        1,
    )
    assert audio.finished == 4 and audio.percent == 100
    assert (images.running, images.queued, images.pending, images.done) == (1, 1, 1, 1)
    assert images.percent == 25
    assert (progress.total, progress.finished, progress.failed) == (8, 5, 1)
    assert progress.percent == 62


def test_it_writes_the_stage_line_like_the_story(make_project):
    project = make_project(50)
    run = runs.start_run(project, ["images"]).run
    ids = list(run.jobs.order_by("position").values_list("id", flat=True))
    GenerationJob.objects.filter(id__in=ids[:15]).update(status=JobStatus.SUCCEEDED)
    run.refresh_from_db()
    assert run_progress(run).stage_line == "Generating images: 15/50 (30%)"


def test_it_lists_failed_and_skipped_jobs_with_their_reasons(make_project):
    project = make_project(2)
    run = runs.start_run(project, ["audio"]).run
    first = run.jobs.order_by("position").first()
    GenerationJob.objects.filter(id=first.id).update(status=JobStatus.FAILED, error="Boom")
    assert job_errors(run) == [
        {
            "jobId": first.id,
            "sceneId": first.sentence_id,
            "position": 1,
            "stage": "audio",
            "status": "failed",
            "error": "Boom",
        }
    ]


def test_it_reports_an_empty_stage_as_complete(make_project):
    project = make_project(1)
    run = runs.start_run(project, ["audio"]).run
    run.stages = ["audio", "images"]
    progress = run_progress(run)
    assert progress.stages["images"].total == 0
    assert progress.stages["images"].percent == 100
