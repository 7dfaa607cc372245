"""The storyboard page and its index: the page itself, project settings, and editing,
adding, moving and deleting scenes row by row."""

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh

from projects.http import AuthedRequest, load_project, load_sentence
from projects.models import Project, Sentence
from storyboard.export_panel import panel_context
from storyboard.forms import (
    MoveForm,
    ProjectCreateForm,
    ProjectSettingsForm,
    SentenceAddForm,
    SentenceForm,
)
from storyboard.rows import SCENE_ROW, attach_jobs, row_context
from storyboard.toolbar import toolbar_context

PAGE = "storyboard/storyboard.html"


def page_context(project: Project) -> dict:
    sentences = list(project.sentences.all())
    context = toolbar_context(project, sentences)
    attach_jobs(sentences, context["run"])
    context["sentences"] = sentences
    return context


def storyboard_context(project: Project, **extra: object) -> dict:
    page = page_context(project)
    context = {
        **page,
        **panel_context(project, page["sentences"]),
        "settings_form": ProjectSettingsForm(instance=project),
        "add_form": SentenceAddForm(),
    }
    context.update(extra)
    return context


@login_required
@require_http_methods(["GET", "POST"])
def index(request: AuthedRequest) -> HttpResponse:
    form = ProjectCreateForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            with transaction.atomic():
                project = Project.objects.create(
                    owner=request.user,
                    name=form.cleaned_data["name"],
                    language=form.cleaned_data["language"],
                )
                project.add_sentences(form.cleaned_data["sentences"])
            return redirect(project)
        status = 400
    else:
        status = 200
    projects = Project.objects.owned_by(request.user)
    return render(
        request, "storyboard/index.html", {"form": form, "projects": projects}, status=status
    )


@login_required
@require_GET
def storyboard(request: AuthedRequest, project_id: int) -> HttpResponse:
    project = load_project(request, project_id)
    editing = request.GET.get("edit", "")
    extra: dict[str, object] = {}
    # isdigit() alone takes "²", which int() refuses; a value that isn't an id is ignored.
    if editing.isascii() and editing.isdigit():
        sentence = get_object_or_404(project.sentences.all(), id=int(editing))
        extra = {"editing_id": sentence.id, "edit_form": SentenceForm(instance=sentence)}
    return render(request, PAGE, storyboard_context(project, **extra))


@login_required
@require_POST
def project_settings(request: AuthedRequest, project_id: int) -> HttpResponse:
    project = load_project(request, project_id)
    form = ProjectSettingsForm(request.POST, instance=Project.objects.get(id=project.id))
    if not form.is_valid():
        context = storyboard_context(project, settings_form=form)
        return render(request, PAGE, context, status=400)
    project.update_settings(**{f: form.cleaned_data[f] for f in form.Meta.fields})
    return redirect(project)


@login_required
@require_GET
def sentence_edit(request: AuthedRequest, project_id: int, sentence_id: int) -> HttpResponse:
    sentence = load_sentence(request, project_id, sentence_id)
    if not request.htmx:
        return redirect(f"{sentence.project.get_absolute_url()}?edit={sentence.id}")
    context = {
        "project": sentence.project,
        "sentence": sentence,
        "edit_form": SentenceForm(instance=sentence),
    }
    return render(request, f"{SCENE_ROW}#scene-row-edit", context)


@login_required
@require_http_methods(["GET", "POST"])
def sentence_detail(request: AuthedRequest, project_id: int, sentence_id: int) -> HttpResponse:
    sentence = load_sentence(request, project_id, sentence_id)
    project = sentence.project
    if request.method == "GET":
        if not request.htmx:
            return redirect(sentence)
        return render(request, f"{SCENE_ROW}#scene-row", row_context(sentence))

    # Validate against a copy so a bad value never touches the instance we save from.
    form = SentenceForm(request.POST, instance=Sentence.objects.get(id=sentence.id))
    if not form.is_valid():
        if request.htmx:
            context = {"project": project, "sentence": sentence, "edit_form": form}
            return render(request, f"{SCENE_ROW}#scene-row-edit", context, status=400)
        context = storyboard_context(project, editing_id=sentence.id, edit_form=form)
        return render(request, PAGE, context, status=400)

    sentence.apply_edit(**{f: form.cleaned_data[f] for f in SentenceForm.Meta.fields})
    if not request.htmx:
        return redirect(sentence)
    # An edit that makes a clip out of date changes the export panel's list too.
    context = {**row_context(sentence), **panel_context(project)}
    return render(request, f"{SCENE_ROW}#scene-row-saved", context)


@login_required
@require_POST
def sentence_add(request: AuthedRequest, project_id: int) -> HttpResponse:
    project = load_project(request, project_id)
    form = SentenceAddForm(request.POST)
    if not form.is_valid():
        context = storyboard_context(project, add_form=form)
        return render(request, PAGE, context, status=400)
    with transaction.atomic():
        (sentence,) = project.add_sentences([form.cleaned_data["text"]])
    return redirect(sentence)


@login_required
@require_POST
def sentence_delete(request: AuthedRequest, project_id: int, sentence_id: int) -> HttpResponse:
    sentence = load_sentence(request, project_id, sentence_id)
    project = sentence.project
    sentence.delete()
    if request.htmx:
        context = {**toolbar_context(project), **panel_context(project), "oob": True}
        return render(request, f"{SCENE_ROW}#scene-deleted", context)
    return redirect(project)


@login_required
@require_POST
def sentence_move(request: AuthedRequest, project_id: int, sentence_id: int) -> HttpResponse:
    sentence = load_sentence(request, project_id, sentence_id)
    form = MoveForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Direction must be “up” or “down”.", status=400)
    sentence.move(form.cleaned_data["direction"])
    if request.htmx:
        # Two rows trade places and their positions change: reload the page's truth.
        return HttpResponseClientRefresh()
    return redirect(sentence)
