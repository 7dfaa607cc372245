"""The quote of a second run of the same project is close to what that run takes."""

import pytest

from generation import runs
from generation.models import GenerationRun, RunStatus
from tests.conftest import wait_for

pytestmark = pytest.mark.worker


def finished(run: GenerationRun) -> GenerationRun | None:
    run.refresh_from_db()
    return run if not run.is_active else None


def test_it_quotes_a_second_run_within_a_quarter_of_its_actual_time(worker_factory, make_project):
    worker_factory(FAKE_JOB_SECONDS="0.15").start()
    project = make_project(5)
    stages = ["audio", "images", "videos"]
    first = runs.start_run(project, stages).run
    assert wait_for(lambda: finished(first), timeout=90).status == RunStatus.SUCCEEDED
    # The first run knew nothing of this project's speed: the draft defaults.
    assert first.quote["images"]["basis"] == "default"

    second = runs.start_run(project, stages, skip_clean=False).run
    assert {q["basis"] for q in second.quote.values()} == {"history"}
    second = wait_for(lambda: finished(second), timeout=90)
    assert second.status == RunStatus.SUCCEEDED
    error = second.quote_error
    print(
        f"quote {second.quote_seconds:.2f} s, actual {second.actual_seconds:.2f} s, "
        f"error {100 * error:+.1f}%"
    )
    assert abs(error) <= 0.25
