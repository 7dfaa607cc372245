"""The export API: start, list and cancel exports, and fetch a finished film (JSON, under /api/)."""

from django.http import HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET, require_POST

from exports import jobs
from exports.jobs import start_export
from exports.models import Export, ExportInProgress
from projects import private_media
from projects.http import (
    ApiError,
    AuthedRequest,
    api_login_required,
    json_error,
    load_project,
    read_json_object,
)

OPTIONS = {"captions": False, "fades": False, "standins": True}


def parse_options(request: AuthedRequest) -> dict[str, bool]:
    data = read_json_object(request)
    unknown = set(data) - set(OPTIONS)
    if unknown:
        raise ApiError(400, f"Unknown option(s): {', '.join(sorted(unknown))}.")
    options = dict(OPTIONS)
    for name in options:
        if name in data:
            if not isinstance(data[name], bool):
                raise ApiError(400, f"{name} must be true or false.")
            options[name] = data[name]
    return options


@api_login_required
@require_POST
def api_export(request: AuthedRequest, project_id: int) -> HttpResponse:
    project = load_project(request, project_id)
    options = parse_options(request)
    if not project.sentences.exists():
        return json_error(400, "This project has no scenes to export.")
    if not options["standins"] and (scenes := jobs.not_ready(project)):
        return json_error(
            409,
            "Some scenes have no up-to-date clip: generate them first, or export with stand-ins.",
            scenes=scenes,
        )
    try:
        export = start_export(project, **options)
    except ExportInProgress as e:
        return json_error(
            409,
            "An export is already in progress for this project.",
            exportId=e.export.id,
            export=e.export.as_json(),
        )
    return JsonResponse({**export.as_json(), "message": "Export started"}, status=202)


@api_login_required
@require_GET
def api_exports(request: AuthedRequest, project_id: int) -> HttpResponse:
    project = load_project(request, project_id)
    return JsonResponse({"exports": [e.as_json() for e in Export.objects.filter(project=project)]})


@api_login_required
@require_POST
def api_cancel_export(request: AuthedRequest, project_id: int, export_id: int) -> HttpResponse:
    project = load_project(request, project_id)
    export = get_object_or_404(Export.objects.filter(project=project), id=export_id)
    if not export.request_cancel():
        return json_error(409, "This export has already ended.", export=export.as_json())
    return JsonResponse(export.as_json(), status=202)


@api_login_required
@require_GET
def api_export_file(request: AuthedRequest, project_id: int, export_id: int) -> HttpResponseBase:
    """The finished film, for a script with an API token (media URLs need a session)."""
    project = load_project(request, project_id)
    export = get_object_or_404(Export.objects.filter(project=project), id=export_id)
    if not export.file:
        raise ApiError(404, "This export has no film: it hasn't finished, or it failed.")
    return private_media.serve(request, export.file)
