"""Running an export: claim the row, resolve the scenes, render, record the file.

Like generation jobs, an export is driven by its row: the huey task carries only its id,
state changes are conditional UPDATEs, and every change sends a wake-up to open pages.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from exports import render
from exports.models import Export, ExportInProgress, ExportStatus
from generation import notify
from generation.models import JobStatus
from media.ffmpeg import MediaError
from projects.models import Project, Sentence
from projects.private_media import secret_part
from projects.vocabulary import Stage, export_file
from work import claims, queue

log = logging.getLogger(__name__)


def start_export(
    project: Project,
    *,
    captions: bool = False,
    fades: bool = False,
    standins: bool = True,
    inline: bool = False,
) -> Export:
    """Queue an export. Raises ExportInProgress while another one of the project runs."""
    # Also where no worker runs a reaper: a dead `export --inline` must not block for ever.
    reap_stale_exports(project)
    try:
        # The partial unique index settles the race a check-then-insert can't.
        with transaction.atomic():
            export = Export.objects.create(
                project=project,
                captions=captions,
                fades=fades,
                standins=standins,
                inline=inline,
            )
    except IntegrityError:
        raise ExportInProgress(Export.objects.filter(project=project).active().get()) from None
    notify.project_changed(project.id)
    if not inline:
        queue.send_on_commit(Export, [export.id])
    return export


def scene_problems(project: Project, sentences: list[Sentence] | None = None) -> dict[int, str]:
    """Scenes without an up-to-date clip, by sentence id, with why: what export would
    replace with a stand-in. Failed means the latest generation run's video job failed."""
    if sentences is None:
        sentences = list(project.sentences.all())
    failed: set[int] = set()
    run = project.runs.first()
    if run is not None:
        failed = set(
            run.jobs.filter(stage=Stage.VIDEOS, status=JobStatus.FAILED).values_list(
                "sentence_id", flat=True
            )
        )
    return {s.id: why for s in sentences if (why := problem_of(s, s.id in failed))}


def not_ready(project: Project) -> list[dict[str, Any]]:
    """The scenes an export would replace with a stand-in, as the API and the page list them."""
    by_id = scene_problems(project)
    return [
        {"position": s.position, "sceneId": s.id, "reason": by_id[s.id]}
        for s in project.sentences.filter(id__in=by_id)
    ]


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


def output_path(export: Export, attempt: int | None = None) -> tuple[Path, str]:
    # A retry renders under its own name: an earlier attempt that only looked dead can then
    # neither overwrite nor delete its film.
    attempt = export.attempts if attempt is None else attempt
    suffix = f"-{attempt}" if attempt > 1 else ""
    secret = secret_part("export", export.id, attempt)
    relative = export_file(export.project_id, f"export-{export.id}{suffix}-{secret}.mp4")
    return Path(settings.MEDIA_ROOT) / relative, relative


def work_dir_of(export: Export, attempt: int) -> Path:
    # An export's attempt renders in MEDIA_ROOT/.work/export-<id>-<attempt>/.
    return claims.work_dir(Export.WORK_KIND, export.id, attempt)


def execute_export(export_id: int) -> None:
    """The body of the huey task (and of `manage.py export --inline`)."""
    export = Export.objects.select_related("project").filter(id=export_id).first()
    # Deleted with its project while queued, or already taken or cancelled: nothing to do.
    if export is None or not export.claim():
        return
    project = export.project
    final, relative = output_path(export)
    work_dir = work_dir_of(export, export.attempts)

    def progress(step: int, total: int) -> None:
        if not export.report(step, total):
            raise render.ExportCancelled()

    try:
        with claims.heartbeats.keeping(Export, export.id, export.attempts):
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
    except (render.ExportError, MediaError) as e:
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
    if export.file != relative:  # cancelled meanwhile, or the reaper gave up on this attempt
        final.unlink(missing_ok=True)
        result.manifest_path.unlink(missing_ok=True)


# The reaper ------------------------------------------------------------------


def reap_stale_exports(project: Project | None = None) -> int:
    """Exports of dead workers: another try, or failed with the reason (Export.given_up);
    then queued exports whose task was lost. Every worker runs it (work.claims.reap_all).

    Huey delivers at most once: the task of an export whose worker was killed is gone, so
    without this the page would say "Rendering" for ever.
    """
    rows = Export.objects.all() if project is None else Export.objects.filter(project=project)
    reaped = 0
    for export, _ in claims.reap(rows):
        attempt = export.attempts
        export.refresh_from_db()
        notify.project_changed(export.project_id)
        if export.status == ExportStatus.QUEUED:
            queue.send_on_commit(Export, [export.id])
        else:
            export.ended()
        log.warning("Export %s: its worker stopped responding (%s)", export.id, export.status)
        remove_attempt(export, attempt)
        reaped += 1
    if project is None:
        reaped += requeue_lost_exports()
    return reaped


def remove_attempt(export: Export, attempt: int) -> None:
    """What a killed attempt left beside its work folder (work.claims.reap removes that):
    the dot-named temporaries render writes beside the film, and the film itself if it was
    renamed into place but never recorded."""
    final, _ = output_path(export, attempt)
    for path in [final, final.with_suffix(".json"), *final.parent.glob(f".{final.stem}.*")]:
        path.unlink(missing_ok=True)


def requeue_lost_exports() -> int:
    """Queued exports whose task is gone (Redis restarted without persistence): see
    work.claims.lost. A queued export's heartbeat is when it was last sent."""
    lost = claims.lost(Export.objects.lost(), touch="heartbeat")
    if lost:
        log.warning("Re-sending %d queued exports whose tasks were lost", len(lost))
        queue.send(Export, [export.id for export in lost])
    return len(lost)
