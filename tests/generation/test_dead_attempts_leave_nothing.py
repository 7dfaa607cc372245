"""What a killed worker leaves behind is cleaned up: the reaper removes the work folder of
an attempt it gives up on, and a worker starting up sweeps folders that belong to no live
attempt."""

from pathlib import Path

import pytest

from exports.models import Export, ExportStatus
from generation import runs, worker
from generation.models import GenerationJob, GenerationRun, RunStatus
from tests.conftest import wait_for
from work import claims

pytestmark = pytest.mark.worker


def finished(run: GenerationRun) -> GenerationRun | None:
    run.refresh_from_db()
    return run if not run.is_active else None


def work_folders(media: Path) -> list[str]:
    root = media / ".work"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_a_killed_workers_work_folder_is_gone_once_its_job_is_done(
    worker_factory, make_project, media: Path
):
    project = make_project(["One.", "Two is SLOW.", "Three."])
    first = worker_factory().start()
    run = runs.start_run(project, ["audio"]).run
    slow = run.jobs.get(position=2)
    wait_for(lambda: GenerationJob.objects.filter(id=slow.id, step__gte=2).exists())
    assert f"job-{slow.id}-1" in work_folders(media)
    first.kill()

    worker_factory().start()
    run = wait_for(lambda: finished(run), timeout=60)

    assert run.status == RunStatus.SUCCEEDED
    assert run.jobs.get(id=slow.id).attempts == 2
    assert work_folders(media) == []


def test_a_worker_starting_up_sweeps_folders_of_no_live_attempt(
    worker_factory, make_project, media: Path
):
    project = make_project(["One.", "Two."])
    run = runs.start_run(project, ["audio"]).run
    done, running = run.jobs.order_by("position")
    worker.execute_job(done.id)  # attempt 1, finished
    assert worker.claim(running.id)  # attempt 1, live: another worker is running it
    export = Export.objects.create(project=project, status=ExportStatus.FAILED, attempts=2)
    leftovers = [f"job-{done.id}-1", f"job-{running.id}-0", "job-999999-1", f"export-{export.id}-2"]
    for name in [*leftovers, f"job-{running.id}-1"]:
        (media / ".work" / name).mkdir(parents=True)
        (media / ".work" / name / "partial.mp4").write_bytes(b"what an orphaned encoder wrote")

    # Only the start-up sweep is under test: the reaper must not take the job claimed above
    # (no heartbeat keeps it fresh) on a machine slow enough to start a worker in 2 s.
    worker_factory(JOB_STALE_AFTER="60").start()

    wait_for(lambda: work_folders(media) == [f"job-{running.id}-1"], timeout=20)
    assert claims.sweep_work_dirs({"job": GenerationJob}) == []
