"""The toolbar: what it shows of the latest run (or, between runs, what each Generate
option would make and how long it would take), and its actions: generate, cancel, resume,
retry, stop after the running jobs, and a scene's cancel / go-next. Each action answers with
the toolbar, as the page shows it. Its template is storyboard/toolbar.html."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from generation import estimates, runs, workers
from generation.models import Origin, RunStatus
from generation.planner import plan
from generation.progress import job_errors, run_progress
from generation.scenes import review_scenes
from projects.http import AuthedRequest, load_project, load_sentence
from projects.models import Project, Sentence
from projects.vocabulary import STAGE_ORDER, Stage

TOOLBAR = "storyboard/toolbar.html"


# The Generate dropdown's options: every stage, or one.
OPTIONS = {"all": STAGE_ORDER, **{stage: [stage] for stage in STAGE_ORDER}}


def option_plans(
    sentences: list[Sentence], estimator: estimates.Estimator
) -> tuple[dict[str, int], dict[str, estimates.Quote]]:
    """Jobs each dropdown option would plan now (skipping up-to-date assets), and how
    long they would take."""
    counts: dict[str, int] = {}
    quotes: dict[str, estimates.Quote] = {}
    for option, stages in OPTIONS.items():
        planned = plan(sentences, stages)
        counts[option] = len(planned)
        to_make = dict.fromkeys(stages, 0)
        for job in planned:
            if not job.skip_reason:
                to_make[job.stage] += 1
        quotes[option] = estimator.quote(to_make)
    return counts, quotes


OPTION_LABELS = [
    ("all", "Generate All", "Audio → Images → Videos"),
    (Stage.AUDIO.value, "Generate Audio Only", ""),
    (Stage.IMAGES.value, "Generate Images Only", ""),
    (Stage.VIDEOS.value, "Generate Videos Only", ""),
]


def generate_options(
    sentences: list[Sentence], stale: dict[str, int], quotes: dict[str, estimates.Quote]
) -> list[dict]:
    """The dropdown's options, each with what it would make both ways the "Skip
    up-to-date" box can be: the page shows the count the box asks for as it changes. The
    quote is for what the box asks by default (skipping)."""
    every = {option: len(plan(sentences, stages, False)) for option, stages in OPTIONS.items()}
    return [
        {
            "value": value,
            "label": label,
            "detail": detail,
            "stale": stale[value],
            "every": every[value],
            "quote": quotes.get(value),
        }
        for value, label, detail in OPTION_LABELS
    ]


def toolbar_context(
    project: Project, sentences: list[Sentence] | None = None, counts: dict | None = None
) -> dict:
    run = project.runs.first()
    progress = run_progress(run) if run else None
    active = bool(run and run.is_active)
    failed = bool(run and not active and progress and (progress.failed or progress.skipped))
    # The dropdown, and so its counts (a plan over every scene), only shows between runs:
    # live updates during a run, one per open tab, skip them.
    if not active and sentences is None:
        sentences = list(project.sentences.all())
    review_jobs = review_scenes(run) if run and active and run.waits_for_review else []
    live = workers.live_workers()
    capacity = estimates.live_capacity((w.stages, w.threads) for w in live)
    option_totals: dict[str, int] = {}
    quotes: dict[str, estimates.Quote] = {}
    if sentences is not None and not active:
        option_totals, quotes = option_plans(sentences, estimates.Estimator(project, capacity))
    waiting = ""
    time_left = None
    if active and run is not None and progress is not None:
        current = progress.current
        if run.status == RunStatus.RUNNING and not run.inline and current and current.queued:
            waiting = workers.waiting_for(current.stage, capacity)
        time_left = estimates.seconds_left(run, progress, capacity)
    return {
        "project": project,
        "run": run,
        "progress": progress,
        "review_jobs": review_jobs,
        "review_approved": sum(1 for j in review_jobs if j.approved),
        "run_is_active": active,
        "counts": project.pending_counts() if counts is None else counts,
        "option_counts": option_totals,
        "option_quotes": quotes,
        "time_left": time_left,
        "waiting_for_worker": waiting,
        "live_workers": live,
        "generate_options": (
            generate_options(sentences, option_totals, quotes)
            if sentences is not None and option_totals
            else []
        ),
        "errors": job_errors(run) if failed and run else [],
        **rendered_now(),
    }


def rendered_now() -> dict:
    # The page keeps the newest toolbar it was sent: a Generate response that lands after
    # the socket already showed the run finished must not put the older state back.
    now = timezone.now()
    return {"rendered_at": now.isoformat(), "rendered_us": int(now.timestamp() * 1_000_000)}


def toolbar_response(
    request: AuthedRequest, project: Project, status: int = 200, **extra: Any
) -> HttpResponse:
    if not request.htmx:
        return redirect(project)
    context = {**toolbar_context(project), **extra}
    return render(request, f"{TOOLBAR}#toolbar", context, status=status)


@login_required
@require_POST
def generate(request: AuthedRequest, project_id: int) -> HttpResponse:
    project = load_project(request, project_id)
    stages = OPTIONS.get(request.POST.get("option", ""))
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
        return toolbar_response(request, project, status=409, toolbar_error=runs.NOTHING_RUNS)
    return toolbar_response(request, project, toolbar_notice=steered.stop_message())


def page_scene_action(
    request: AuthedRequest, project_id: int, sentence_id: int, cancel: bool
) -> HttpResponse:
    sentence = load_sentence(request, project_id, sentence_id)
    run, steered, message = runs.steer_scene(sentence, cancel)
    if steered is None:
        return toolbar_response(request, sentence.project, status=409, toolbar_error=message)
    return toolbar_response(request, sentence.project, toolbar_notice=message)


@login_required
@require_POST
def cancel_scene(request: AuthedRequest, project_id: int, sentence_id: int) -> HttpResponse:
    return page_scene_action(request, project_id, sentence_id, cancel=True)


@login_required
@require_POST
def make_next(request: AuthedRequest, project_id: int, sentence_id: int) -> HttpResponse:
    return page_scene_action(request, project_id, sentence_id, cancel=False)
