"""A scene's page actions: regenerate, re-roll, its takes and restore, review before clips."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST

from generation import scenes, takes
from generation.models import GenerationRun, Origin, Take
from generation.scene_api import started_message
from generation.scenes import SceneActionRefused, SceneRun
from projects.http import AuthedRequest, load_project, load_sentence
from projects.models import Sentence
from storyboard.rows import SCENE_ROW, row_context
from storyboard.toolbar import toolbar_response


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
    return render(request, f"{SCENE_ROW}#scene-takes", context)


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
    return render(request, f"{SCENE_ROW}#scene-row-saved", row_context(sentence))


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
