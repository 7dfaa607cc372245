"""Cancelling an export stops ffmpeg and leaves no file behind, partial or whole."""

import threading
from pathlib import Path

import pytest

from exports import jobs, render
from exports.jobs import start_export
from exports.models import Export, ExportStatus
from tests.conftest import wait_for
from tests.support.exports import FPS, HEIGHT, WIDTH, ready_project


def leftovers(media: Path) -> list[Path]:
    """Every file under media except the scenes' own assets."""
    return [p for p in media.rglob("*") if p.is_file() and "/scenes/" not in str(p)]


def test_a_cancel_between_scenes_leaves_no_partial_file(db, make_project, media: Path):
    project = ready_project(make_project, media, [1.0, 1.0, 1.0], clips=[False, False, False])
    scenes = jobs.build_scenes(project)
    calls = []

    def progress(done: int, total: int) -> None:
        calls.append(done)
        if done >= 1:  # after the first stand-in
            raise render.ExportCancelled()

    output = media / "exports" / "film.mp4"
    with pytest.raises(render.ExportCancelled):
        render.render_export(
            scenes, width=WIDTH, height=HEIGHT, fps=FPS, options=render.Options(),
            output=output, work_dir=media / ".work" / "export", progress=progress,
        )  # fmt: skip
    assert leftovers(media) == []


def test_a_cancel_during_the_stream_copy_leaves_no_partial_file(db, make_project, media: Path):
    project = ready_project(make_project, media, [1.0, 1.0, 1.0])
    scenes = jobs.build_scenes(project)
    joining = []

    def progress(done: int, total: int) -> None:
        # No stand-ins: reading the clips is step 1 of 2; the copy checks in before each clip.
        if (done, total) == (1, 2):
            joining.append(done)
            if len(joining) == 3:  # the first clip is copied, the second about to be
                raise render.ExportCancelled()

    with pytest.raises(render.ExportCancelled):
        render.render_export(
            scenes, width=WIDTH, height=HEIGHT, fps=FPS, options=render.Options(),
            output=media / "exports" / "film.mp4", work_dir=media / ".work" / "x",
            progress=progress,
        )  # fmt: skip
    assert leftovers(media) == []


def test_a_cancel_while_ffmpeg_encodes_kills_it_and_leaves_no_partial_file(
    db, make_project, media: Path
):
    project = ready_project(make_project, media, [3.0, 3.0])
    scenes = jobs.build_scenes(project)
    # No stand-ins: inspecting is step 1 of 2, the join the rest, reported in frames.
    frames = 6 * FPS

    def progress(done: int, total: int) -> None:
        # Cancel once ffmpeg itself reports encoded frames.
        if total == 2 * frames and done > frames:
            raise render.ExportCancelled()

    with pytest.raises(render.ExportCancelled):
        render.render_export(
            scenes, width=WIDTH, height=HEIGHT, fps=FPS, options=render.Options(captions=True),
            output=media / "exports" / "film.mp4", work_dir=media / ".work" / "x",
            progress=progress,
        )  # fmt: skip
    assert leftovers(media) == []


def test_cancelling_a_running_export_ends_it_cancelled_with_no_file(
    transactional_db, make_project, media: Path
):
    project = ready_project(make_project, media, [1.5] * 6, clips=[False] * 6)
    export = start_export(project, inline=True)
    worker = threading.Thread(target=jobs.execute_export, args=(export.id,))
    worker.start()
    try:
        wait_for(lambda: Export.objects.get(id=export.id).step >= 1, timeout=30, interval=0.01)
        assert export.request_cancel()
        assert export.status == ExportStatus.CANCELLING
    finally:
        worker.join(30)
    export.refresh_from_db()
    assert export.status == ExportStatus.CANCELLED and export.file == ""
    assert export.finished_at is not None
    assert leftovers(media) == []


def test_a_queued_export_is_cancelled_at_once_and_never_starts(db, make_project, media: Path):
    project = ready_project(make_project, media, [1.0])
    export = start_export(project, inline=True)
    assert export.request_cancel()
    assert export.status == ExportStatus.CANCELLED
    jobs.execute_export(export.id)  # a task that was already queued does nothing
    export.refresh_from_db()
    assert export.status == ExportStatus.CANCELLED and export.attempts == 0
    assert not export.request_cancel()  # already ended
