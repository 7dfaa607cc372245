"""Running one job: claim, generate, record the asset atomically, move the run on."""

import wave
from pathlib import Path

from generation import runs, worker
from generation.backends.base import GeneratedAsset, JobInput
from generation.models import GenerationJob, JobStatus, RunStatus, Take
from projects.models import Sentence


def queued_job(run, stage: str = "audio", position: int = 1) -> GenerationJob:  # type: ignore[no-untyped-def]
    return run.jobs.get(stage=stage, position=position)


def test_it_records_the_asset_and_clears_the_dirty_flag(project, media: Path):
    run = runs.start_run(project, ["audio"]).run
    job = queued_job(run)
    assert job.status == JobStatus.QUEUED
    worker.execute_job(job.id)
    job.refresh_from_db()
    scene = Sentence.objects.get(id=job.sentence_id)
    assert job.status == JobStatus.SUCCEEDED and job.attempts == 1
    assert scene.audio_file.name == job.output_file
    with wave.open(str(media / job.output_file)) as wav:
        assert wav.getnframes() / wav.getframerate() == 1.5
    assert scene.audio_duration == 1.5
    assert not scene.is_audio_dirty
    # A new narration makes the clip out of date.
    assert scene.is_video_dirty
    assert not (media / ".work" / f"job-{job.id}-1").exists()


def test_it_never_runs_a_job_twice(project):
    run = runs.start_run(project, ["audio"]).run
    job = queued_job(run)
    assert worker.claim(job.id)
    assert not worker.claim(job.id)


def test_it_keeps_the_previous_asset_as_a_take_once_the_new_one_is_recorded(
    project, media: Path, django_capture_on_commit_callbacks
):
    run = runs.start_run(project, ["images"]).run
    job = queued_job(run, "images")
    old = media / "old.png"
    old.write_text("old picture")
    Sentence.objects.filter(id=job.sentence_id).update(image_file="old.png")
    with django_capture_on_commit_callbacks(execute=True):
        worker.execute_job(job.id)
    scene = Sentence.objects.get(id=job.sentence_id)
    assert scene.image_file.name.startswith(f"projects/{project.id}/scenes/{scene.id}/image-")
    # Takes, not overwrites: the picture it replaced stays, restorable.
    assert old.read_text() == "old picture"
    takes = Take.objects.filter(sentence=scene, asset="image")
    assert [t.file for t in takes] == [scene.image_file.name, "old.png"]
    assert takes[0].job_id == job.id and takes[0].seed == scene.seed


def test_it_keeps_the_asset_but_leaves_the_scene_dirty_if_edited_meanwhile(project, monkeypatch):
    run = runs.start_run(project, ["images"]).run
    job = queued_job(run, "images")
    real_record = worker.record_asset

    def edit_then_record(job: GenerationJob, asset: GeneratedAsset) -> None:
        Sentence.objects.get(id=job.sentence_id).apply_edit(image_prompt="A different castle")
        real_record(job, asset)

    monkeypatch.setattr(worker, "record_asset", edit_then_record)
    worker.execute_job(job.id)
    scene = Sentence.objects.get(id=job.sentence_id)
    assert scene.image_file
    assert scene.is_image_dirty


def test_it_fails_the_job_with_the_backends_reason(make_project):
    project = make_project(["It says FAIL here."])
    run = runs.start_run(project, ["audio"]).run
    job = queued_job(run)
    worker.execute_job(job.id)
    job.refresh_from_db()
    run.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error == "The model refused scene 1: it says FAIL."
    assert "BackendError" in job.traceback
    assert run.status == RunStatus.FAILED
    assert not Sentence.objects.get(id=job.sentence_id).audio_file


def test_it_fails_a_crashing_backend_with_one_readable_line(project, settings):
    settings.STORYBOARD_BACKEND_FACTORY = "tests.generation.test_job_execution.crashing_backend"
    run = runs.start_run(project, ["audio"]).run
    job = queued_job(run)
    worker.execute_job(job.id)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error == "ZeroDivisionError: division by zero"


class Crashing:
    def generate(self, job: JobInput, on_step):  # type: ignore[no-untyped-def]
        return 1 / 0


def crashing_backend(stage: str, preset: str) -> Crashing:
    return Crashing()


def test_it_moves_to_the_next_stage_when_the_last_job_of_a_stage_ends(make_project):
    project = make_project(1)
    run = runs.start_run(project, ["audio", "images", "videos"]).run
    assert run.current_stage == "audio"
    assert run.jobs.get(stage="images").status == JobStatus.PENDING
    worker.execute_job(queued_job(run).id)
    run.refresh_from_db()
    assert run.current_stage == "images"
    assert run.jobs.get(stage="images").status == JobStatus.QUEUED
    worker.execute_job(queued_job(run, "images").id)
    worker.execute_job(queued_job(run, "videos").id)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and run.finished_at


def test_it_skips_the_clip_of_a_scene_whose_picture_failed(make_project):
    project = make_project(["A calm sea.", "A storm, FAIL."])
    project.sentences.update(audio_file="narration.wav")
    run = runs.start_run(project, ["images", "videos"]).run
    for job in run.jobs.filter(stage="images"):
        worker.execute_job(job.id)
    calm, storm = run.jobs.filter(stage="videos").order_by("position")
    assert calm.status == JobStatus.QUEUED
    assert storm.status == JobStatus.SKIPPED
    assert storm.error == "Skipped: this scene's image was not made in this run."


def test_it_skips_the_job_of_a_deleted_scene(project):
    run = runs.start_run(project, ["audio"]).run
    job = queued_job(run)
    Sentence.objects.filter(id=job.sentence_id).delete()
    worker.execute_job(job.id)
    job.refresh_from_db()
    assert job.status == JobStatus.SKIPPED
    assert job.error == "The scene was deleted."


def test_it_gives_up_a_finished_asset_if_cancelled_before_it_is_recorded(
    project, media, monkeypatch
):
    run = runs.start_run(project, ["audio"]).run
    job = queued_job(run)
    real_record = worker.record_asset

    def cancel_then_record(job: GenerationJob, asset: GeneratedAsset) -> None:
        runs.cancel_run(job.run)
        real_record(job, asset)

    monkeypatch.setattr(worker, "record_asset", cancel_then_record)
    worker.execute_job(job.id)
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    assert not Sentence.objects.get(id=job.sentence_id).audio_file
    assert not list(media.rglob("*.wav"))
