"""Scene-level actions: regenerate, re-roll, takes, restore, review (API and page)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST

from generation import scenes, takes
from generation.models import GenerationRun, Origin, Take
from generation.progress import run_progress
from generation.scenes import SceneActionRefused, SceneRun
from generation.views import toolbar_response
from projects.http import (
    AuthedRequest,
    BadRequest,
    api_login_required,
    json_error,
    load_project,
    load_sentence,
    read_json_object,
)
from projects.models import Sentence
from projects.views import row_context


def json_object(request: AuthedRequest) -> dict[str, Any]:
    """The request's JSON object body; an empty body is an empty object."""
    return read_json_object(request)


def scene_run_json(result: SceneRun, message: str, **extra: Any) -> JsonResponse:
    run = result.run
    return JsonResponse(
        {
            "runId": run.id if run else None,
            "jobCounts": result.job_counts,
            "totalJobs": result.total_jobs,
            "joined": result.joined,
            "message": message,
            "progress": run_progress(run).as_json() if run else None,
            **extra,
        },
        status=202,
    )


def started_message(result: SceneRun) -> str:
    if result.joined and not result.total_jobs:
        return "Already planned in the run in progress: it uses the scene's current inputs."
    if result.joined:
        return "Added to the run in progress."
    return "Generation started"


@api_login_required
@require_POST
def api_regenerate(request: AuthedRequest, project_id: int, sentence_id: int) -> HttpResponse:
    sentence = load_sentence(request, project_id, sentence_id)
    try:
        assets = scenes.parse_assets(json_object(request).get("assets"))
    except (BadRequest, ValueError) as e:
        return json_error(400, str(e))
    try:
        result = scenes.regenerate(sentence, assets, Origin.API, request.user)
    except SceneActionRefused as e:
        return json_error(409, str(e))
    return scene_run_json(result, started_message(result))


@api_login_required
@require_POST
def api_reroll(request: AuthedRequest, project_id: int, sentence_id: int) -> HttpResponse:
    sentence = load_sentence(request, project_id, sentence_id)
    try:
        result = scenes.reroll(sentence, Origin.API, request.user)
    except SceneActionRefused as e:
        return json_error(409, str(e))
    return scene_run_json(result, started_message(result), seed=sentence.seed)


@api_login_required
@require_GET
def api_takes(request: AuthedRequest, project_id: int, sentence_id: int) -> HttpResponse:
    sentence = load_sentence(request, project_id, sentence_id)
    return JsonResponse(takes.takes_json(sentence))


def scene_state(sentence: Sentence) -> dict[str, Any]:
    sentence.refresh_from_db()
    return {
        "sceneId": sentence.id,
        "seed": sentence.seed,
        "dirty": {
            "audio": sentence.is_audio_dirty,
            "image": sentence.is_image_dirty,
            "video": sentence.is_video_dirty,
        },
    }


@api_login_required
@require_POST
def api_restore(
    request: AuthedRequest, project_id: int, sentence_id: int, take_id: int
) -> HttpResponse:
    sentence = load_sentence(request, project_id, sentence_id)
    take = get_object_or_404(Take, id=take_id, sentence=sentence)
    try:
        stale = takes.restore(take)
    except takes.RestoreRefused as e:
        return json_error(409, str(e))
    return JsonResponse({"restored": take.id, "stale": sorted(stale), **scene_state(sentence)})


@api_login_required
@require_POST
def api_approve(request: AuthedRequest, project_id: int, sentence_id: int) -> HttpResponse:
    sentence = load_sentence(request, project_id, sentence_id)
    try:
        approved = json_object(request).get("approved", True)
        if not isinstance(approved, bool):
            raise BadRequest("approved must be true or false.")
    except BadRequest as e:
        return json_error(400, str(e))
    try:
        run = scenes.waiting_run(sentence)
        scenes.approve(run, sentence, approved)
    except SceneActionRefused as e:
        return json_error(409, str(e))
    return JsonResponse({"runId": run.id, "sceneId": sentence.id, "approved": approved})


@api_login_required
@require_POST
def api_continue(request: AuthedRequest, project_id: int) -> HttpResponse:
    project = load_project(request, project_id)
    run = project.runs.active().first()
    try:
        if run is None:
            raise SceneActionRefused("No run is waiting for review of its pictures.")
        scenes.continue_review(run)
    except SceneActionRefused as e:
        return json_error(409, str(e))
    run.refresh_from_db()
    return JsonResponse(
        {
            "runId": run.id,
            "status": run.status,
            "message": "Making clips for the approved scenes.",
            "progress": run_progress(run).as_json(),
        },
        status=202,
    )


# The storyboard page -----------------------------------------------------------


def refused(request: AuthedRequest, sentence: Sentence, message: str) -> HttpResponse:
    return toolbar_response(request, sentence.project, 409, toolbar_error=message)


@login_required
@require_POST
def regenerate(request: AuthedRequest, project_id: int, sentence_id: int) -> HttpResponse:
    sentence = load_sentence(request, project_id, sentence_id)
    try:
        assets = scenes.parse_assets(request.POST.get("asset", "all"))
    except ValueError as e:
        return toolbar_response(request, sentence.project, 400, toolbar_error=str(e))
    try:
        result = scenes.regenerate(sentence, assets, Origin.PAGE, request.user)
    except SceneActionRefused as e:
        return refused(request, sentence, str(e))
    return toolbar_response(request, sentence.project, toolbar_notice=page_notice(result))


@login_required
@require_POST
def reroll(request: AuthedRequest, project_id: int, sentence_id: int) -> HttpResponse:
    sentence = load_sentence(request, project_id, sentence_id)
    try:
        result = scenes.reroll(sentence, Origin.PAGE, request.user)
    except SceneActionRefused as e:
        return refused(request, sentence, str(e))
    return toolbar_response(request, sentence.project, toolbar_notice=page_notice(result))


def page_notice(result: SceneRun) -> str:
    if result.joined:
        return started_message(result)
    return ""


@login_required
@require_GET
def take_list(request: AuthedRequest, project_id: int, sentence_id: int) -> HttpResponse:
    sentence = load_sentence(request, project_id, sentence_id)
    scene_takes = list(Take.objects.filter(sentence=sentence))
    for take in scene_takes:
        take.sentence = sentence
    context = {"project": sentence.project, "sentence": sentence, "takes": scene_takes}
    return render(request, "projects/storyboard.html#scene-takes", context)


@login_required
@require_POST
def restore(
    request: AuthedRequest, project_id: int, sentence_id: int, take_id: int
) -> HttpResponse:
    sentence = load_sentence(request, project_id, sentence_id)
    take = get_object_or_404(Take, id=take_id, sentence=sentence)
    project = sentence.project
    try:
        takes.restore(take)
    except takes.RestoreRefused as e:
        return refused(request, sentence, str(e))
    sentence.refresh_from_db()
    sentence.project = project
    if not request.htmx:
        return toolbar_response(request, project)
    return render(request, "projects/storyboard.html#scene-row-saved", row_context(sentence))


@login_required
@require_POST
def approve(request: AuthedRequest, project_id: int, sentence_id: int) -> HttpResponse:
    sentence = load_sentence(request, project_id, sentence_id)
    try:
        scenes.approve(scenes.waiting_run(sentence), sentence, request.POST.get("approved") != "0")
    except SceneActionRefused as e:
        return refused(request, sentence, str(e))
    return toolbar_response(request, sentence.project)


@login_required
@require_POST
def continue_review(request: AuthedRequest, project_id: int) -> HttpResponse:
    project = load_project(request, project_id)
    run: GenerationRun | None = project.runs.active().first()
    try:
        if run is None:
            raise SceneActionRefused("No run is waiting for review of its pictures.")
        scenes.continue_review(run)
    except SceneActionRefused as e:
        return toolbar_response(request, project, 409, toolbar_error=str(e))
    return toolbar_response(request, project)
