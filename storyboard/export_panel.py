"""The storyboard's export panel: recent exports, the scenes an export would stand in for,
and its export / cancel actions."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from exports import jobs
from exports.jobs import problem_of, start_export
from exports.models import Export, ExportInProgress
from generation.models import JobStatus
from projects.http import (
    AuthedRequest,
    load_project,
)
from projects.models import Project, Sentence
from projects.vocabulary import Asset, Stage

PANEL = "storyboard/export_panel.html#export-panel"
RECENT_EXPORTS = 10
# The panel lists this many scenes without an up-to-date clip, then says how many more.
PROBLEMS_SHOWN = 12


def panel_context(project: Project, sentences: list[Sentence] | None = None) -> dict[str, Any]:
    """The export panel: recent exports (one query) and the scenes export would stand in for.

    On the page, `sentences` come with their jobs of the latest run attached already, so
    the problems cost no query. Elsewhere (a live update during a run, once per clip
    made) only the count and the few the panel lists are read, not every scene.
    """
    exports = list(Export.objects.filter(project=project)[:RECENT_EXPORTS])
    active = exports[0] if exports and exports[0].is_active else None
    if sentences is not None:
        problems = []
        for s in sentences:
            job = getattr(s, "live_jobs", {}).get(Asset.VIDEO)
            why = problem_of(s, failed=bool(job and job.status == JobStatus.FAILED))
            if why:
                problems.append({"position": s.position, "id": s.id, "reason": why})
        count = len(problems)
    else:
        # The scenes problem_of names: a clip missing or out of date.
        stale = project.sentences.dirty_for(Asset.VIDEO)
        shown = list(stale.only("id", "position", "video_file", "is_video_dirty")[:PROBLEMS_SHOWN])
        count = len(shown) if len(shown) < PROBLEMS_SHOWN else stale.count()
        failed = failed_clips(project, [s.id for s in shown])
        problems = [
            {"position": s.position, "id": s.id, "reason": problem_of(s, s.id in failed)}
            for s in shown
        ]
    return {
        "project": project,
        "exports": exports,
        "active_export": active,
        "export_problems": problems[:PROBLEMS_SHOWN],
        "export_problem_count": count,
        "export_problems_more": count - len(problems[:PROBLEMS_SHOWN]),
    }


def failed_clips(project: Project, scene_ids: list[int]) -> set[int]:
    run = project.runs.first()
    if run is None or not scene_ids:
        return set()
    jobs = run.jobs.filter(stage=Stage.VIDEOS, status=JobStatus.FAILED, sentence_id__in=scene_ids)
    return set(jobs.values_list("sentence_id", flat=True))


def panel_response(
    request: AuthedRequest, project: Project, status: int = 200, **extra: Any
) -> HttpResponse:
    if not request.htmx:
        return redirect(project)
    context = {**panel_context(project), **extra}
    return render(request, PANEL, context, status=status)


@login_required
@require_POST
def export(request: AuthedRequest, project_id: int) -> HttpResponse:
    project = load_project(request, project_id)
    options = {
        "captions": request.POST.get("captions") == "on",
        "fades": request.POST.get("fades") == "on",
        "standins": request.POST.get("standins") == "on",
    }
    if not project.sentences.exists():
        return panel_response(request, project, 400, export_error="There are no scenes yet.")
    if not options["standins"] and jobs.not_ready(project):
        return panel_response(
            request,
            project,
            409,
            export_error="Some scenes have no up-to-date clip: generate them first, "
            "or export with stand-ins.",
        )
    try:
        start_export(project, **options)
    except ExportInProgress:
        return panel_response(request, project, 409, export_error="An export is already running.")
    return panel_response(request, project)


@login_required
@require_POST
def cancel_export(request: AuthedRequest, project_id: int, export_id: int) -> HttpResponse:
    project = load_project(request, project_id)
    get_object_or_404(Export.objects.filter(project=project), id=export_id).request_cancel()
    return panel_response(request, project)
