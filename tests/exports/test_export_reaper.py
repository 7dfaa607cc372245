"""An export whose worker died is tried again or failed with the reason by the reaper, and
no attempt given up on leaves a film, partial or whole, behind."""

import re
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from exports import jobs, render, tasks
from exports.jobs import start_export
from exports.models import WORKER_DIED, Export, ExportStatus
from storyboard import live
from tests.support.exports import ready_project
from tests.support.scaled import kill, wait_until


def age(export: Export, **fields: object) -> None:
    """As if its worker was killed five minutes ago."""
    Export.objects.filter(id=export.id).update(
        heartbeat=timezone.now() - timedelta(minutes=5), **fields
    )


def leftovers(media: Path) -> list[str]:
    """Every file under media except the scenes' own assets."""
    return sorted(
        str(p.relative_to(media))
        for p in media.rglob("*")
        if p.is_file() and "/scenes/" not in str(p)
    )


def test_it_requeues_a_running_export_whose_worker_stopped_beating(
    db, make_project, media: Path, django_capture_on_commit_callbacks, monkeypatch
):
    project = ready_project(make_project, media, [1.0, 1.0])
    export = start_export(project)
    assert Export.objects.get(id=export.id).claim()
    # What the killed attempt had written so far.
    (media / ".work" / f"export-{export.id}-1").mkdir(parents=True)
    (media / ".work" / f"export-{export.id}-1" / "card-1.png").write_bytes(b"png")
    exports = media / f"projects/{project.id}/exports"
    exports.mkdir(parents=True)
    film, _ = jobs.output_path(export, 1)
    (exports / f".{film.stem}.partial.mp4").write_bytes(b"half a film")
    age(export, step=1, total_steps=2)

    sent: list[int] = []
    monkeypatch.setattr(tasks, "run_export", sent.append)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.reap_stale_exports() == 1
    export.refresh_from_db()
    assert (export.status, export.attempts, export.step, export.error) == ("queued", 1, 0, "")
    assert sent == [export.id], "its task is sent again"
    assert leftovers(media) == []

    jobs.execute_export(export.id)
    export.refresh_from_db()
    assert export.status == ExportStatus.SUCCEEDED, export.error
    assert export.attempts == 2
    _, second = jobs.output_path(export, 2)
    assert re.fullmatch(rf"projects/{project.id}/exports/export-{export.id}-2-\w+\.mp4", second)
    assert leftovers(media) == [second.replace(".mp4", ".json"), second]
    assert export.file == second


def test_it_leaves_an_export_with_a_fresh_heartbeat_alone(db, make_project):
    project = make_project(2)
    export = start_export(project)
    assert export.claim()
    assert jobs.reap_stale_exports() == 0
    assert Export.objects.get(id=export.id).status == ExportStatus.RUNNING


def test_it_fails_an_export_after_the_last_attempt_and_the_page_says_why(
    db, make_project, settings
):
    settings.JOB_MAX_ATTEMPTS = 2
    project = make_project(2)
    export = start_export(project)
    assert export.claim() and export.report(1, 3)
    _, seen = live.render_update(project.id, live.LiveState())
    age(export, attempts=2)

    assert jobs.reap_stale_exports() == 1
    export.refresh_from_db()
    assert export.status == ExportStatus.FAILED and export.finished_at is not None
    assert export.error == WORKER_DIED
    html, _ = live.render_update(project.id, seen)
    assert "Failed: The worker exporting this film stopped responding; try again." in html
    assert "Rendering the film" not in html
    assert start_export(project).status == ExportStatus.QUEUED, "a new export can start"


def test_a_dead_inline_export_is_failed_when_the_next_one_starts(db, make_project):
    # `manage.py export --inline` killed: its process was the only one that would render it.
    project = make_project(2)
    export = start_export(project, inline=True)
    assert export.claim()
    age(export)

    again = start_export(project, inline=True)

    export.refresh_from_db()
    assert (export.status, export.error) == (ExportStatus.FAILED, WORKER_DIED)
    assert again.status == ExportStatus.QUEUED


def test_it_ends_the_cancel_of_an_export_whose_worker_died(db, make_project):
    project = make_project(2)
    export = start_export(project)
    assert export.claim() and export.request_cancel()
    age(export)

    assert jobs.reap_stale_exports() == 1
    export.refresh_from_db()
    assert export.status == ExportStatus.CANCELLED and export.error == ""


def test_an_attempt_given_up_on_cannot_finish_and_leaves_no_film(
    db, make_project, media: Path, monkeypatch
):
    project = ready_project(make_project, media, [1.0])
    export = start_export(project)
    real = render.render_export

    def taken_over_then_render(*args, **kwargs):  # type: ignore[no-untyped-def]
        # After this attempt's last report the reaper takes its worker for dead and another
        # worker claims the export; this one, only slow, renders its film all the same.
        age(export)
        assert jobs.reap_stale_exports(project) == 1
        assert Export.objects.get(id=export.id).claim()
        return real(*args, **{**kwargs, "progress": lambda done, total: None})

    monkeypatch.setattr(render, "render_export", taken_over_then_render)
    jobs.execute_export(export.id)

    export.refresh_from_db()
    assert (export.status, export.attempts, export.file) == (ExportStatus.RUNNING, 2, "")
    assert leftovers(media) == []


def test_it_resends_a_queued_export_whose_task_was_lost(db, make_project):
    HUEY.flush()
    lost = start_export(make_project(1))
    Export.objects.filter(id=lost.id).update(created=timezone.now() - timedelta(minutes=5))
    start_export(make_project(1))  # queued just now: its task is surely still coming
    try:
        assert jobs.reap_stale_exports() == 1
        assert HUEY.pending_count() == 1
        assert jobs.reap_stale_exports() == 0, "not sent again while the queue holds it"
        HUEY.flush()
        assert jobs.reap_stale_exports() == 0, "nor before JOB_STALE_AFTER has passed again"
    finally:
        HUEY.flush()


READY_PROJECT = """
from pathlib import Path
from django.conf import settings
from django.contrib.auth.models import User
from projects.models import Project
from tests.support.exports import ready_project
owner, _ = User.objects.get_or_create(username="alice")
def make(texts, **fields):
    project = Project.objects.create(owner=owner, name="Scaled", **fields)
    project.add_sentences(texts)
    return project
project = ready_project(make, Path(settings.MEDIA_ROOT), [5.0] * 24, clips=[False] * 24)
print(project.id)
"""


START = """
from exports.jobs import start_export
from projects.models import Project
print(start_export(Project.objects.get(id={project})).id)
"""
RENDERING = "select 1 from exports_export where id = %s and status = 'running' and step >= 2"
ENDED = (
    "select status, attempts, file, error from exports_export"
    " where id = %s and status not in ('queued', 'running')"
)


def has_children(pid: int) -> bool:
    """Whether the process has a child: a worker's is the ffmpeg making a stand-in."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid:
            return True
    return False


@pytest.mark.worker
def test_it_finishes_an_export_whose_worker_is_killed_mid_film(stack):
    # Every scene a stand-in: each takes the worker a moment, time to kill it mid-film.
    project = int(stack.python(READY_PROJECT).splitlines()[-1])
    workers = [stack.worker(), stack.worker()]
    export = int(stack.python(START.format(project=project)))
    wait_until(lambda: stack.sql(RENDERING, export), timeout=60)
    victim = wait_until(lambda: next((w for w in workers if has_children(w.pid)), None))
    kill(victim)

    # Well within a minute: the survivor's reaper thread, not its once-a-minute periodic
    # task (which ran as it started, before the export), has to notice.
    ((status, attempts, file, error),) = wait_until(lambda: stack.sql(ENDED, export), timeout=40)

    assert (status, attempts) == ("succeeded", 2), error
    assert re.fullmatch(rf"projects/{project}/exports/export-{export}-2-\w+\.mp4", file)
    assert leftovers(stack.media) == [file.replace(".mp4", ".json"), file]


@pytest.mark.django_db(transaction=True)
def test_it_keeps_beating_through_a_long_silent_step(
    make_project, media: Path, settings, monkeypatch
):
    # Beats every 0.1 s, dead after 1.2 s of silence: a margin a loaded machine keeps.
    settings.JOB_HEARTBEAT_SECONDS = 0.1
    settings.JOB_STALE_AFTER = 1.2
    project = ready_project(make_project, media, [1.0, 1.0])
    export = start_export(project)
    real_render = render.render_export

    def silent_then_render(*args, **kwargs):  # type: ignore[no-untyped-def]
        # ffmpeg opening hundreds of clips: well past JOB_STALE_AFTER without a progress line.
        time.sleep(3.0)
        return real_render(*args, **kwargs)

    monkeypatch.setattr(render, "render_export", silent_then_render)
    worker = threading.Thread(target=jobs.execute_export, args=(export.id,))
    worker.start()
    wait_until(lambda: Export.objects.get(id=export.id).status == ExportStatus.RUNNING)
    time.sleep(2.0)
    reaped = jobs.reap_stale_exports()
    worker.join(30)

    assert reaped == 0
    export.refresh_from_db()
    assert (export.status, export.attempts) == (ExportStatus.SUCCEEDED, 1), export.error
