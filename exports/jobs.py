"""Running an export: claim the row, resolve the scenes, render, record the file.

Like generation jobs, an export is driven by its row: the huey task carries only its id,
state changes are conditional UPDATEs, and every change sends a wake-up to open pages.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from django.conf import settings

from exports import render
from exports.models import Export, ExportStatus
from generation.backends.base import BackendError
from generation.models import JobStatus
from projects.models import Project, Sentence

log = logging.getLogger(__name__)


def scene_problems(project: Project, sentences: list[Sentence] | None = None) -> dict[int, str]:
    """Scenes without an up-to-date clip, by sentence id, with why: what export would
    replace with a stand-in. Failed means the latest generation run's video job failed."""
    if sentences is None:
        sentences = list(project.sentences.all())
    failed: set[int] = set()
    run = project.runs.first()
    if run is not None:
        failed = set(
            run.jobs.filter(stage="videos", status=JobStatus.FAILED).values_list(
                "sentence_id", flat=True
            )
        )
    return {s.id: why for s in sentences if (why := problem_of(s, s.id in failed))}


def problem_of(sentence: Sentence, failed: bool = False) -> str:
    if failed and (sentence.is_video_dirty or not sentence.video_file):
        return "failed"
    if not sentence.video_file:
        return "missing"
    if sentence.is_video_dirty:
        return "dirty"
    return ""


def build_scenes(project: Project) -> list[render.Scene]:
    media = Path(settings.MEDIA_ROOT)
    sentences = list(project.sentences.all())
    problems = scene_problems(project, sentences)
    scenes = []
    for s in sentences:
        reason = problems.get(s.id, "")
        clip = media / s.video_file.name if s.video_file and not reason else None
        if clip is not None and not clip.is_file():
            clip, reason = None, "missing file"
        scenes.append(
            render.Scene(
                position=s.position,
                text=s.text,
                clip=clip,
                reason=reason,
                image=media / s.image_file.name if s.image_file else None,
                audio=media / s.audio_file.name if s.audio_file else None,
                audio_duration=s.audio_duration,
                image_prompt=s.image_prompt,
                camera_movement=s.camera_movement,
                motion_strength=s.motion_strength,
                sentence_id=s.id,
            )
        )
    return scenes


def output_path(export: Export) -> tuple[Path, str]:
    relative = f"projects/{export.project_id}/exports/export-{export.id}.mp4"
    return Path(settings.MEDIA_ROOT) / relative, relative


def execute_export(export_id: int) -> None:
    """The body of the huey task (and of `manage.py export --inline`)."""
    export = Export.objects.select_related("project").filter(id=export_id).first()
    # Deleted with its project while queued, or already taken or cancelled: nothing to do.
    if export is None or not export.claim():
        return
    project = export.project
    final, relative = output_path(export)
    work_dir = Path(settings.MEDIA_ROOT) / ".work" / f"export-{export.id}-{export.attempts}"

    def progress(step: int, total: int) -> None:
        if not export.report(step, total):
            raise render.ExportCancelled()

    try:
        result = render.render_export(
            build_scenes(project),
            width=project.width,
            height=project.height,
            fps=project.fps,
            options=render.Options(export.captions, export.fades, export.standins),
            output=final,
            work_dir=work_dir,
            progress=progress,
            extra_manifest={"exportId": export.id, "projectId": project.id},
        )
    except render.ExportCancelled:
        export.finish(ExportStatus.CANCELLED)
        return
    except (render.ExportError, BackendError) as e:
        export.finish(ExportStatus.FAILED, error=str(e))
        return
    except Exception as e:  # noqa: BLE001 - any crash fails this export, not the worker
        log.exception("Export %s failed", export.id)
        export.finish(ExportStatus.FAILED, error=f"{type(e).__name__}: {e}".splitlines()[0][:500])
        return
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    export.finish(
        ExportStatus.SUCCEEDED,
        file=relative,
        duration=result.duration,
        size=result.size,
        method=result.method,
        manifest=result.manifest,
        step=export.total_steps,
    )
    if export.status == ExportStatus.CANCELLED:
        final.unlink(missing_ok=True)
        result.manifest_path.unlink(missing_ok=True)
