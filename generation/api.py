"""The generation API: start, follow and steer a project's runs (JSON, under /api/)."""

from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from generation import runs
from generation.models import GenerationRun, Origin
from generation.planner import PlanError
from generation.progress import job_errors, run_progress
from projects.http import (
    AuthedRequest,
    BadRequest,
    api_login_required,
    json_error,
    load_project,
    load_sentence,
    read_json_object,
)
from projects.models import Project
from projects.vocabulary import STAGE_ORDER


def parse_body(request: AuthedRequest, with_stages: bool) -> tuple[list[str] | None, bool]:
    body = read_json_object(request)
    skip_clean = body.get("skipClean", True)
    if not isinstance(skip_clean, bool):
        raise BadRequest("skipClean must be true or false.")
    stages = None
    if with_stages and "stages" in body:
        stages = body["stages"]
        if not isinstance(stages, list) or not all(isinstance(s, str) for s in stages):
            raise BadRequest('stages must be a list of stage names, e.g. ["audio", "images"].')
    return stages, skip_clean


def review_flag(request: AuthedRequest) -> bool:
    """`reviewBeforeClips` of a body parse_body has already found to be a JSON object."""
    review = read_json_object(request).get("reviewBeforeClips", False)
    if not isinstance(review, bool):
        raise BadRequest("reviewBeforeClips must be true or false.")
    return review


def progress_payload(run: GenerationRun) -> dict:
    from generation.scenes import review_json

    return {
        **run_progress(run).as_json(),
        "label": run.label,
        "pauseReason": run.pause_reason,
        "reviewBeforeClips": run.review_before_clips,
        "review": review_json(run) if run.is_active and run.waits_for_review else None,
        "errors": job_errors(run),
        **quote_payload(run),
    }


def quote_payload(run: GenerationRun) -> dict:
    """The quote given before the run, and, once it ended, what it really took."""
    error = run.quote_error
    return {
        "quoteSeconds": run.quote_seconds,
        "quote": run.quote,
        "actualSeconds": run.actual_seconds,
        "quoteError": round(error, 3) if error is not None else None,
    }


def start(
    request: AuthedRequest,
    project: Project,
    stages: list[str],
    skip_clean: bool,
    origin: str,
    review: bool = False,
) -> JsonResponse:
    try:
        started = runs.start_run(
            project,
            stages,
            skip_clean,
            origin=origin,
            user=request.user,
            review_before_clips=review,
        )
    except PlanError as e:
        return json_error(400, str(e))
    except runs.RunInProgress as e:
        return json_error(
            409,
            "A generation run is already in progress for this project.",
            runId=e.run.id,
            progress=run_progress(e.run).as_json(),
        )
    if started.run is None:
        message = "Nothing to generate: every requested asset is up to date."
    else:
        message = "Generation started"
    return JsonResponse(
        {
            "runId": started.run.id if started.run else None,
            "jobCounts": started.job_counts,
            "totalJobs": started.total_jobs,
            "quoteSeconds": started.quote.seconds if started.quote else 0,
            "quote": started.quote.as_json() if started.quote else {},
            "message": message,
        },
        status=202,
    )


@api_login_required
@require_POST
def api_generate_all(request: AuthedRequest, project_id: int) -> HttpResponse:
    project = load_project(request, project_id)
    try:
        stages, skip_clean = parse_body(request, with_stages=True)
        review = review_flag(request)
    except BadRequest as e:
        return json_error(400, str(e))
    return start(
        request, project, STAGE_ORDER if stages is None else stages, skip_clean, Origin.API, review
    )


@api_login_required
@require_POST
def api_generate_stage(request: AuthedRequest, project_id: int, stage: str) -> HttpResponse:
    project = load_project(request, project_id)
    try:
        _, skip_clean = parse_body(request, with_stages=False)
    except BadRequest as e:
        return json_error(400, str(e))
    return start(request, project, [stage], skip_clean, Origin.API)


@api_login_required
@require_POST
def api_cancel(request: AuthedRequest, project_id: int) -> HttpResponse:
    project = load_project(request, project_id)
    run = project.runs.active().first()
    if run is None or not runs.cancel_run(run):
        return json_error(409, "No generation run is in progress for this project.")
    run.refresh_from_db()
    return JsonResponse(
        {"runId": run.id, "status": run.status, "message": "Cancelling: finished assets are kept."},
        status=202,
    )


@api_login_required
@require_POST
def api_resume(request: AuthedRequest, project_id: int) -> HttpResponse:
    project = load_project(request, project_id)
    run = project.runs.active().first()
    if run is None or not runs.resume_run(run):
        return json_error(409, "No paused generation run to resume for this project.")
    return JsonResponse({"runId": run.id, "status": run.status, "message": "Resumed"}, status=202)


def steered_payload(run: GenerationRun, steered: runs.Steered, message: str) -> JsonResponse:
    run.refresh_from_db()
    return JsonResponse(
        {
            "runId": run.id,
            "status": run.status,
            **steered.as_json(),
            "progress": run_progress(run).as_json(),
            "message": message,
        },
        status=202,
    )


@api_login_required
@require_POST
def api_stop_after_running(request: AuthedRequest, project_id: int) -> HttpResponse:
    project = load_project(request, project_id)
    run = project.runs.active().first()
    steered = runs.stop_after_running(run) if run is not None else None
    if run is None or steered is None:
        return json_error(409, runs.NOTHING_RUNS)
    return steered_payload(run, steered, steered.stop_message())


def steer_scene(
    request: AuthedRequest, project_id: int, sentence_id: int, cancel: bool
) -> HttpResponse:
    sentence = load_sentence(request, project_id, sentence_id)
    run, steered, message = runs.steer_scene(sentence, cancel)
    if run is None or steered is None:
        return json_error(409, message)
    return steered_payload(run, steered, message)


@api_login_required
@require_POST
def api_cancel_scene(request: AuthedRequest, project_id: int, sentence_id: int) -> HttpResponse:
    return steer_scene(request, project_id, sentence_id, cancel=True)


@api_login_required
@require_POST
def api_make_next(request: AuthedRequest, project_id: int, sentence_id: int) -> HttpResponse:
    return steer_scene(request, project_id, sentence_id, cancel=False)


@api_login_required
@require_GET
def api_generation(request: AuthedRequest, project_id: int) -> HttpResponse:
    project = load_project(request, project_id)
    run = project.runs.first()
    if run is None:
        return JsonResponse(
            {"runId": None, "status": None, "message": "No generation has run yet."}
        )
    return JsonResponse(progress_payload(run))
