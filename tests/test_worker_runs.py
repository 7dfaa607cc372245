"""Whole runs through a real huey consumer process (SqliteHuey)."""

from pathlib import Path

import pytest

from generation import runs
from generation.models import GenerationRun, JobStatus, RunStatus
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
