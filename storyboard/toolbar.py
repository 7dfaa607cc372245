"""The toolbar's actions: generate, cancel, resume, retry, stop after the running jobs,
and a scene's cancel / go-next. Each answers with the toolbar, as the page shows it."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from generation import runs
from generation.api import NOTHING_RUNS, scene_action, stop_message
from generation.models import Origin
from projects.http import AuthedRequest, load_project
from projects.models import Project
from projects.vocabulary import STAGE_ORDER
from storyboard.live import toolbar_context

PAGE_OPTIONS = {
    "all": STAGE_ORDER,
    "audio": ["audio"],
    "images": ["images"],
    "videos": ["videos"],
}


def toolbar_response(
    request: AuthedRequest, project: Project, status: int = 200, **extra: Any
) -> HttpResponse:
    if not request.htmx:
        return redirect(project)
    context = {**toolbar_context(project), **extra}
    return render(request, "projects/storyboard.html#toolbar", context, status=status)


@login_required
@require_POST
def generate(request: AuthedRequest, project_id: int) -> HttpResponse:
    project = load_project(request, project_id)
    stages = PAGE_OPTIONS.get(request.POST.get("option", ""))
    if stages is None:
        return toolbar_response(
            request, project, status=400, toolbar_error="Choose what to generate."
        )
    skip_clean = request.POST.get("skip_clean") == "on"
    review = request.POST.get("review") == "on"
    try:
        started = runs.start_run(
            project,
            stages,
            skip_clean,
            origin=Origin.PAGE,
            user=request.user,
            review_before_clips=review,
        )
    except runs.RunInProgress:
        return toolbar_response(
            request, project, 409, toolbar_error="A run is already in progress."
        )
    extra: dict[str, str] = {}
    if started.run is None:
        extra["toolbar_notice"] = "Nothing to generate: everything is up to date."
    return toolbar_response(request, project, status=200, **extra)


@login_required
@require_POST
def cancel(request: AuthedRequest, project_id: int) -> HttpResponse:
    project = load_project(request, project_id)
    run = project.runs.active().first()
    if run is not None:
        runs.cancel_run(run)
    return toolbar_response(request, project)


@login_required
@require_POST
def resume(request: AuthedRequest, project_id: int) -> HttpResponse:
    project = load_project(request, project_id)
    run = project.runs.active().first()
    if run is None or not runs.resume_run(run):
        return toolbar_response(request, project, status=409, toolbar_error="Nothing to resume.")
    return toolbar_response(request, project)


@login_required
@require_POST
def retry_failed(request: AuthedRequest, project_id: int) -> HttpResponse:
    project = load_project(request, project_id)
    run = project.runs.first()
    if run is None:
        return toolbar_response(
            request, project, status=409, toolbar_error="There is nothing to retry."
        )
    try:
        runs.retry_failed(run, origin=Origin.PAGE, user=request.user)
    except runs.RunInProgress:
        return toolbar_response(
            request, project, 409, toolbar_error="A run is already in progress."
        )
    return toolbar_response(request, project)


@login_required
@require_POST
def stop_after_running(request: AuthedRequest, project_id: int) -> HttpResponse:
    project = load_project(request, project_id)
    run = project.runs.active().first()
    steered = runs.stop_after_running(run) if run is not None else None
    if steered is None:
        return toolbar_response(request, project, status=409, toolbar_error=NOTHING_RUNS)
    return toolbar_response(request, project, toolbar_notice=stop_message(steered))


def page_scene_action(
    request: AuthedRequest, project_id: int, sentence_id: int, cancel: bool
) -> HttpResponse:
    project = load_project(request, project_id)
    run, steered, message = scene_action(request, project, sentence_id, cancel)
    if steered is None:
        return toolbar_response(request, project, status=409, toolbar_error=message)
    return toolbar_response(request, project, toolbar_notice=message)


@login_required
@require_POST
def cancel_scene(request: AuthedRequest, project_id: int, sentence_id: int) -> HttpResponse:
    return page_scene_action(request, project_id, sentence_id, cancel=True)


@login_required
@require_POST
def make_next(request: AuthedRequest, project_id: int, sentence_id: int) -> HttpResponse:
    return page_scene_action(request, project_id, sentence_id, cancel=False)
