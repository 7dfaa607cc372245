"""Whole runs through a real huey consumer process (SqliteHuey)."""

from pathlib import Path

import pytest

from generation import runs
from generation.models import GenerationJob, GenerationRun, JobStatus, RunStatus
from projects.models import Sentence
from tests.conftest import wait_for

pytestmark = pytest.mark.worker


def finished(run: GenerationRun) -> GenerationRun | None:
    run.refresh_from_db()
    return run if not run.is_active else None


def test_it_makes_every_asset_of_20_scenes_in_three_stages(worker, make_project, media: Path):
    project = make_project(20)
    started = runs.start_run(project, ["audio", "images", "videos"])
    assert started.job_counts == {"audio": 20, "images": 20, "videos": 20}
    run = wait_for(lambda: finished(started.run), timeout=60)
    assert run.status == RunStatus.SUCCEEDED
    assert run.jobs.filter(status=JobStatus.SUCCEEDED).count() == 60
    for s in Sentence.objects.filter(project=project):
        assert not (s.is_audio_dirty or s.is_image_dirty or s.is_video_dirty)
        for f in (s.audio_file, s.image_file, s.video_file):
            assert (media / f.name).is_file()
    assert s.audio_duration == 1.5
    # Nothing left half-written in the work area.
    assert not any((media / ".work").rglob("*.*"))
    again = runs.start_run(project, ["audio", "images", "videos"])
    assert again.run is None and again.total_jobs == 0


def calls(media: Path) -> list[str]:
    log = media / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def test_it_plans_one_image_and_one_clip_after_one_prompt_edit(worker, make_project):
    project = make_project(5)
    first = runs.start_run(project, ["audio", "images", "videos"]).run
    wait_for(lambda: finished(first), timeout=60)
    scene = project.sentences.get(position=3)
    scene.apply_edit(image_prompt="A red kite over the dunes")
    started = runs.start_run(project, ["audio", "images", "videos"])
    assert started.job_counts == {"audio": 0, "images": 1, "videos": 1}
    run = wait_for(lambda: finished(started.run), timeout=30)
    assert run.status == RunStatus.SUCCEEDED
    scene.refresh_from_db()
    assert not scene.is_image_dirty and not scene.is_video_dirty


def test_it_fails_two_scenes_skips_their_clips_and_finishes_the_rest(worker, make_project, media):
    texts = [f"Scene {i} is calm." for i in range(1, 7)]
    texts[1] = "Scene 2 will FAIL."
    texts[4] = "Scene 5 will FAIL."
    project = make_project(texts)
    project.sentences.update(audio_file="narration.wav", is_audio_dirty=False)
    started = runs.start_run(project, ["images", "videos"])
    run = wait_for(lambda: finished(started.run), timeout=60)
    assert run.status == RunStatus.FAILED
    failed = run.jobs.filter(status=JobStatus.FAILED)
    assert sorted(failed.values_list("position", "stage")) == [(2, "images"), (5, "images")]
    skipped = run.jobs.filter(status=JobStatus.SKIPPED)
    assert sorted(skipped.values_list("position", flat=True)) == [2, 5]
    assert all("image was not made" in e for e in skipped.values_list("error", flat=True))
    assert run.jobs.filter(status=JobStatus.SUCCEEDED).count() == 8

    # Retrying what failed regenerates exactly those pictures and their clips.
    retry = runs.retry_failed(run)
    assert retry.job_counts == {"images": 2, "videos": 2}


def test_it_cancels_mid_run_keeping_finished_assets_and_no_partial_file(
    worker, make_project, media
):
    project = make_project(["Quick one.", "A SLOW one.", "Another SLOW one.", "Last."])
    started = runs.start_run(project, ["audio", "images"])
    run = started.run
    slow = run.jobs.get(stage="audio", position=2)
    wait_for(lambda: GenerationJob.objects.filter(id=slow.id, step__gte=2).exists())
    runs.cancel_run(run)
    run = wait_for(lambda: finished(run), timeout=10)
    assert run.status == RunStatus.CANCELLED
    statuses = dict(run.jobs.filter(stage="audio").values_list("position", "status"))
    assert statuses == {1: "succeeded", 2: "cancelled", 3: "cancelled", 4: "cancelled"}
    assert not run.jobs.filter(status=JobStatus.RUNNING).exists()
    quick = project.sentences.get(position=1)
    assert (media / quick.audio_file.name).is_file()
    assert not project.sentences.get(position=2).audio_file
    assert not [p for p in (media / ".work").rglob("*") if p.is_file()]
    # The slow job stopped within a step of the cancel, not after its ten steps.
    assert GenerationJob.objects.get(id=slow.id).step < 10


def test_it_finishes_a_run_exactly_once_after_its_worker_is_killed(
    worker_factory, make_project, media
):
    project = make_project(["One.", "Two is SLOW.", "Three.", "Four."])
    first = worker_factory().start()
    started = runs.start_run(project, ["audio", "images"])
    run = started.run
    slow = run.jobs.get(stage="audio", position=2)
    wait_for(lambda: GenerationJob.objects.filter(id=slow.id, step__gte=2).exists())
    first.kill()

    worker_factory().start()
    run = wait_for(lambda: finished(run), timeout=60)

    assert run.status == RunStatus.SUCCEEDED
    assert run.jobs.get(id=slow.id).attempts == 2
    # Every job completed once, whichever worker ran it: none twice, none missing.
    done = [line.rsplit(" ", 1)[0] for line in calls(media)]
    assert len(done) == len(set(done)) == 8
    assert len({line.rsplit(" ", 1)[1] for line in calls(media)}) == 2
    for s in project.sentences.all():
        assert (media / s.audio_file.name).is_file() and (media / s.image_file.name).is_file()
