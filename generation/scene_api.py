"""The scene API: regenerate, re-roll, takes, restore, review (JSON, under /api/)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET, require_POST

from generation import scenes, takes
from generation.models import Origin, Take
from generation.progress import run_progress
from generation.scenes import SceneActionRefused, SceneRun
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
from projects.vocabulary import Asset


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
            Asset.AUDIO: sentence.is_audio_dirty,
            Asset.IMAGE: sentence.is_image_dirty,
            Asset.VIDEO: sentence.is_video_dirty,
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
