"""Regenerating one asset or one scene, through a real worker: a run of its own with
exact totals, or jobs added to the run in progress when their stage is still ahead."""

from pathlib import Path

import pytest

from generation import runs, scenes
from generation.models import GenerationRun, JobStatus, RunStatus, Take
from generation.progress import run_progress
from projects.models import Sentence
from tests.conftest import wait_for

pytestmark = pytest.mark.worker


def finished(run: GenerationRun) -> GenerationRun | None:
    run.refresh_from_db()
    return run if not run.is_active else None


def files(project) -> dict[int, tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    return {
        s.id: (s.audio_file.name, s.image_file.name, s.video_file.name)
        for s in Sentence.objects.filter(project=project)
    }


def test_it_regenerates_one_picture_with_one_job_and_leaves_other_scenes_alone(
    worker, make_project, media: Path
):
    project = make_project(3)
    first = runs.start_run(project, ["audio", "images", "videos"]).run
    wait_for(lambda: finished(first))
    before = files(project)
    scene = project.sentences.get(position=2)

    result = scenes.regenerate(scene, ["image"])

    assert result.job_counts == {"images": 1} and not result.joined
    run = wait_for(lambda: finished(result.run))
    assert run.status == RunStatus.SUCCEEDED
    assert run.label == "Scene 2: picture"
    assert list(run.jobs.values_list("sentence_id", "stage", "status")) == [
        (scene.id, "images", JobStatus.SUCCEEDED)
    ]
    after = files(project)
    assert {k: v for k, v in after.items() if k != scene.id} == {
        k: v for k, v in before.items() if k != scene.id
    }
    assert after[scene.id][1] != before[scene.id][1]
    assert after[scene.id][0] == before[scene.id][0]
    scene.refresh_from_db()
    # Its clip follows by the dirty rules: out of date, made by the next Generate All.
    assert not scene.is_image_dirty and scene.is_video_dirty
    # The picture it replaced is kept as a take.
    images = Take.objects.filter(sentence=scene, asset="image")
    assert [t.file for t in images] == [after[scene.id][1], before[scene.id][1]]
    assert all((media / t.file).is_file() for t in images)

    whole = scenes.regenerate(scene, scenes.WHOLE_SCENE)
    assert whole.job_counts == {"audio": 1, "images": 1, "videos": 1}
    run = wait_for(lambda: finished(whole.run))
    assert run.status == RunStatus.SUCCEEDED
    assert list(run.jobs.order_by("id").values_list("stage", flat=True)) == [
        "audio",
        "images",
        "videos",
    ]
    scene.refresh_from_db()
    assert not (scene.is_audio_dirty or scene.is_image_dirty or scene.is_video_dirty)


def test_it_joins_the_run_in_progress_when_the_stage_is_ahead_and_refuses_when_past(
    worker, make_project
):
    project = make_project(["A SLOW one.", "Two.", "Three."])
    project.sentences.update(image_file="old.png", is_image_dirty=False)
    run = runs.start_run(project, ["audio"]).run
    assert run_progress(run).total == 3
    two = project.sentences.get(position=2)

    joined = scenes.regenerate(two, ["image"])

    # The audio stage is still running: the picture is added to this run, as a stage ahead.
    assert joined.joined and joined.run.id == run.id and joined.job_counts == {"images": 1}
    run.refresh_from_db()
    assert run.stages == ["audio", "images"]
    progress = run_progress(run)
    assert (progress.total, progress.stages["images"].total) == (4, 1)
    # Asked twice, it is planned once.
    again = scenes.regenerate(two, ["image"])
    assert again.joined and again.total_jobs == 0

    wait_for(lambda: GenerationRun.objects.get(id=run.id).current_stage == "images", timeout=30)
    with pytest.raises(scenes.SceneActionRefused, match="already made its audio"):
        scenes.regenerate(two, ["audio"])
    run = wait_for(lambda: finished(run))
    assert run.status == RunStatus.SUCCEEDED
    assert run.jobs.count() == 4
    two.refresh_from_db()
    assert two.image_file.name != "old.png" and not two.is_image_dirty
