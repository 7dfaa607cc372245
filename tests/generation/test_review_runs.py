"""A run that stops before clips for the creator to review the pictures, through a real
worker: approve, re-roll inside the run, continue with clips only for approved scenes."""

from pathlib import Path

import pytest

from generation import runs, scenes
from generation.models import GenerationRun, JobStatus, RunStatus
from generation.progress import run_progress
from tests.conftest import wait_for

pytestmark = pytest.mark.worker


def status(run: GenerationRun, wanted: str) -> GenerationRun | None:
    run.refresh_from_db()
    return run if run.status == wanted else None


def test_it_waits_for_review_rerolls_inside_the_run_and_makes_only_approved_clips(
    worker, make_project, media: Path
):
    project = make_project(3)
    one, two, three = project.sentences.all()
    started = runs.start_run(project, ["audio", "images", "videos"], review_before_clips=True)
    run = wait_for(lambda: status(started.run, RunStatus.REVIEW))

    # Stopped at the barrier: pictures made, no clip started, nothing failed or cancelled.
    progress = run_progress(run)
    assert (progress.total, progress.done) == (9, 6)
    assert progress.stages["videos"].pending == 3
    assert [j.sentence_id for j in scenes.review_scenes(run)] == [one.id, two.id, three.id]
    assert not (media / "calls.log").read_text().count("videos")

    scenes.approve(run, one)
    scenes.approve(run, two)
    old_picture, old_seed = two.image_file.name, two.seed
    result = scenes.reroll(two)

    # The re-roll runs inside the same run; the totals show it at once.
    assert result.joined and result.run.id == run.id and result.job_counts == {"images": 1}
    assert run_progress(run).stages["images"].total == 4
    run = wait_for(lambda: status(run, RunStatus.REVIEW))
    two.refresh_from_db()
    assert two.seed != old_seed and two.image_file.name != old_picture
    # A new picture needs a new look: its approval was withdrawn.
    assert {j.sentence_id: j.approved for j in scenes.review_scenes(run)} == {
        one.id: True,
        two.id: False,
        three.id: False,
    }
    scenes.approve(run, two)

    scenes.continue_review(run)
    run = wait_for(lambda: status(run, RunStatus.SUCCEEDED))

    clips = dict(run.jobs.filter(stage="videos").values_list("sentence_id", "status"))
    assert clips == {one.id: JobStatus.SUCCEEDED, two.id: JobStatus.SUCCEEDED, three.id: "skipped"}
    assert run.jobs.get(sentence=three, stage="videos").error == scenes.NOT_APPROVED
    progress = run_progress(run)
    assert (progress.total, progress.done, progress.skipped) == (10, 9, 1)
    three.refresh_from_db()
    assert three.is_video_dirty and not three.video_file
    assert (media / "calls.log").read_text().count("videos") == 2
