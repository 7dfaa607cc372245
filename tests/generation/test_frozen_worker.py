"""A worker frozen past JOB_STALE_AFTER (SIGSTOP: a VM pause, swap, a long database outage)
and then resumed finds every write of its superseded attempt refused: the newer attempt
finishes the job, and the run says what really happened."""

import os
import signal
from pathlib import Path

import pytest

from generation import runs
from generation.models import GenerationJob, GenerationRun, JobStatus, RunStatus
from tests.conftest import wait_for

pytestmark = pytest.mark.worker


def finished(run: GenerationRun) -> GenerationRun | None:
    run.refresh_from_db()
    return run if not run.is_active else None


def test_it_lets_the_newer_attempt_finish_after_a_frozen_worker_wakes_up(
    worker_factory, make_project, media: Path
):
    project = make_project(["One.", "Two is SLOW.", "Three."])
    workers = [worker_factory().start(), worker_factory().start()]
    run = runs.start_run(project, ["audio"]).run
    slow = run.jobs.get(position=2)
    held = wait_for(lambda: GenerationJob.objects.filter(id=slow.id, step__gte=2).first())
    frozen = next(w for w in workers if held.worker.endswith(f":{w.process.pid}"))
    os.kill(frozen.process.pid, signal.SIGSTOP)
    try:
        # The other worker's reaper takes the silent job back and runs it again.
        wait_for(
            lambda: GenerationJob.objects.filter(
                id=slow.id, attempts=2, status=JobStatus.RUNNING
            ).exists(),
            timeout=20,
        )
    finally:
        os.kill(frozen.process.pid, signal.SIGCONT)

    run = wait_for(lambda: finished(run), timeout=30)

    slow.refresh_from_db()
    assert (slow.status, slow.attempts, slow.error) == (JobStatus.SUCCEEDED, 2, "")
    assert run.status == RunStatus.SUCCEEDED
    scene = project.sentences.get(position=2)
    assert scene.audio_file.name == slow.output_file
    assert (media / scene.audio_file.name).is_file() and not scene.is_audio_dirty
    # The frozen attempt's file never made it in: only the newer attempt's completion counts.
    done = [line for line in (media / "calls.log").read_text().splitlines()]
    assert [line.rsplit(" ", 1)[0] for line in done].count(f"audio {scene.id}") == 1
    assert f"audio {scene.id} {frozen.process.pid}" not in done
