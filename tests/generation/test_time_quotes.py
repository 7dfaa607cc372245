"""Each Generate option is quoted before the click; the quote is kept on the run and
set beside what the run really took; the time left follows each stage's own speed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from generation import estimates, runs
from generation.models import GenerationJob, GenerationRun, JobStatus, RunStatus, Worker
from generation.progress import run_progress
from storyboard.toolbar import toolbar_context


def finish_jobs(run: GenerationRun, stage: str, seconds: list[float]) -> None:
    """Mark the first jobs of a stage done, each having taken the given seconds."""
    start = timezone.now() - timedelta(minutes=5)
    jobs = list(run.jobs.filter(stage=stage).order_by("position"))
    for job, took in zip(jobs, seconds, strict=False):
        GenerationJob.objects.filter(id=job.id).update(
            status=JobStatus.SUCCEEDED,
            started_at=start,
            finished_at=start + timedelta(seconds=took),
        )


def end(run: GenerationRun) -> None:
    run.jobs.unfinished().update(status=JobStatus.CANCELLED)
    GenerationRun.objects.filter(id=run.id).update(
        status=RunStatus.SUCCEEDED, finished_at=timezone.now()
    )


def test_it_quotes_each_option_from_the_preset_defaults_before_any_run(client, make_project):
    project = make_project(4)
    page = client.get(f"/projects/{project.id}/").content.decode()
    # Draft defaults: 4 × (0.5 + 0.3 + 2.0) s of jobs plus the engine's 30 ms each.
    every = '<span class="count when-skipping">12 to make · <span class="quote">about 12 s</span>'
    assert f"Audio → Images → Videos · {every}" in page
    assert '4 to make · <span class="quote">about 2 s</span>' in page  # audio alone
    started = runs.start_run(project, ["audio", "images", "videos"])
    run = started.run
    assert run.quote_seconds == pytest.approx(11.56)
    assert {s: q["basis"] for s, q in run.quote.items()} == dict.fromkeys(
        ["audio", "images", "videos"], "default"
    )


def test_it_quotes_from_the_median_of_earlier_runs_of_the_same_preset_and_size(make_project):
    project = make_project(5)
    first = runs.start_run(project, ["images"]).run
    finish_jobs(first, "images", [2, 4, 3, 100, 3])
    end(first)
    # Another size says nothing about this one.
    other = make_project(3, name="Small", width=512, height=288)
    wide = runs.start_run(other, ["images"]).run
    finish_jobs(wide, "images", [50, 50, 50])
    end(wide)

    quote = estimates.Estimator(project).quote({"images": 10})
    (images,) = quote.stages
    assert (images.per_job, images.basis) == (3, estimates.HISTORY)
    assert quote.seconds == 10 * 3.03
    assert quote.label == "10 jobs · about 30 s"
    # No history for audio at this size: the documented default.
    assert estimates.Estimator(project).quote({"audio": 2}).stages[0].basis == estimates.DEFAULT


def test_it_divides_a_stage_across_the_live_workers_that_serve_it(make_project):
    project = make_project(2)
    now = timezone.now()
    Worker.objects.create(name="gpu-a:1", stages=["images", "videos"], threads=1, last_seen=now)
    Worker.objects.create(name="gpu-b:1", stages=["images", "videos"], threads=2, last_seen=now)
    Worker.objects.create(name="cpu:1", stages=["audio"], threads=1, last_seen=now)
    # Silent too long: gone, not counted.
    Worker.objects.create(
        name="dead:1", stages=["audio"], threads=4, last_seen=now - timedelta(minutes=5)
    )
    quote = estimates.Estimator(project).quote({"audio": 6, "images": 6})
    audio, images = quote.stages
    assert (audio.workers, images.workers) == (1, 3)
    assert audio.seconds == 6 * (0.5 + 0.03)
    assert images.seconds == 2 * (0.3 + 0.03)


def test_it_shows_the_quote_beside_what_the_run_took(client, make_project):
    project = make_project(3)
    run = runs.start_run(project, ["audio"]).run
    finish_jobs(run, "audio", [1, 1, 1])
    GenerationRun.objects.filter(id=run.id).update(
        status=RunStatus.SUCCEEDED,
        created=timezone.now() - timedelta(seconds=40),
        finished_at=timezone.now(),
    )
    body = client.get(f"/api/v1/projects/{project.id}/generation").json()
    assert body["quoteSeconds"] == 1.59
    assert round(body["actualSeconds"]) == 40
    assert body["quoteError"] == round((1.59 - body["actualSeconds"]) / body["actualSeconds"], 3)
    page = client.get(f"/projects/{project.id}/").content.decode()
    assert "Took 40 s · quoted about 2 s" in page


def with_narration(project) -> None:  # type: ignore[no-untyped-def]
    project.sentences.update(audio_file="a.wav", is_audio_dirty=False)


def test_it_counts_down_each_stage_at_its_own_speed_and_not_while_paused(client, make_project):
    project = make_project(4)
    with_narration(project)
    run = runs.start_run(project, ["images", "videos"]).run
    # Nothing measured for images at this preset and size: no made-up countdown.
    context = toolbar_context(project)
    assert context["time_left"] is None
    assert "estimating…" in client.get(f"/projects/{project.id}/").content.decode()

    finish_jobs(run, "images", [1, 1])
    context = toolbar_context(project)
    # 2 images left at 1 s each; the clips are not measured yet, so they take the draft
    # default (2 s), not the images' speed.
    assert context["time_left"] == 2 * 1.03 + 4 * 2.03

    GenerationRun.objects.filter(id=run.id).update(status=RunStatus.PAUSED)
    project.refresh_from_db()
    page = client.get(f"/projects/{project.id}/").content.decode()
    assert toolbar_context(project)["time_left"] is None
    assert "left</span>" not in page and "estimating…" not in page


def test_it_takes_a_stage_time_left_from_earlier_runs_until_this_run_has_its_own(make_project):
    project = make_project(4)
    with_narration(project)
    project.sentences.update(image_file="i.png", is_image_dirty=False)
    first = runs.start_run(project, ["videos"], skip_clean=False).run
    finish_jobs(first, "videos", [10, 10, 10, 10])
    end(first)
    run = runs.start_run(project, ["videos"], skip_clean=False).run
    assert run.quote["videos"]["basis"] == "history"
    progress = run_progress(run)
    assert estimates.seconds_left(run, progress, {"videos": 1}) == 4 * 10.03
    finish_jobs(run, "videos", [4])
    assert estimates.seconds_left(run, run_progress(run), {"videos": 1}) == 3 * 4.03
