"""What every view shares: the owner check, and the API's error contract.

Under `/api/`, every error is JSON `{"error": "..."}` with its status: a view raises
`ApiError` (or Django's Http404 / PermissionDenied), and `ApiErrorMiddleware` turns it, and
any error page Django itself would send (no such URL, wrong method, a body too large, a
failed CSRF check), into that shape. A new API view needs nothing more than
`@api_login_required`, `load_project` and `read_json_object`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.views.csrf import csrf_failure as html_csrf_failure
from django_htmx.middleware import HtmxDetails

from projects.models import Project, Sentence

log = logging.getLogger(__name__)

API_PREFIX = "/api/"
R = TypeVar("R", bound=HttpResponseBase)


class AuthedRequest(HttpRequest):
    """What views behind login_required get, with django-htmx's details, for type checks."""

    user: User
    htmx: HtmxDetails


def load_project(request: AuthedRequest, project_id: int) -> Project:
    """The project, if it belongs to the logged-in user: the one ownership check.

    Anyone else's (or a missing one) is a 404, so ids reveal nothing."""
    return get_object_or_404(Project.objects.owned_by(request.user), id=project_id)


def load_sentence(request: AuthedRequest, project_id: int, sentence_id: int) -> Sentence:
    """One of the owner's scenes (through `load_project`), its project attached."""
    project = load_project(request, project_id)
    sentence = get_object_or_404(project.sentences.all(), id=sentence_id)
    sentence.project = project
    return sentence


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


class ApiError(Exception):
    """Raised by an API view: answered as JSON `{"error": message, **extra}` with status."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


class BadRequest(ApiError):
    """A 400 with its reason (the API's error handling answers it as JSON)."""

    def __init__(self, message: str) -> None:
        super().__init__(400, message)


def json_error(status: int, message: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def api_login_required(view: Callable[..., R]) -> Callable[..., R | JsonResponse]:
    """Like login_required, but answers a script with JSON 401 instead of a login page."""

    @wraps(view)
    def wrapper(request: AuthedRequest, *args: Any, **kwargs: Any) -> R | JsonResponse:
        if not request.user.is_authenticated:
            return json_error(401, "Authentication required: log in first.")
        return view(request, *args, **kwargs)

    return wrapper


def read_json_object(request: HttpRequest) -> dict[str, Any]:
    """The request's JSON object body; an empty body is `{}`. Anything else is a 400."""
    if not request.body.strip():
        return {}
    try:
        body = json.loads(request.body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "The request body is not valid JSON.") from None
    except RecursionError:
        raise ApiError(400, "The request body is nested too deeply.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    return body


# What an API client is told for an error page Django made itself.
MESSAGES = {
    400: "Bad request.",
    401: "Authentication required: log in first.",
    403: "You may not do this.",
    404: "Not found: no such endpoint, or a project that is missing or someone else's.",
    405: "Method not allowed.",
    413: "The request body is too large.",
    429: "Too many requests: try again later.",
}


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: the API answers in JSON, and a visitor who isn't logged in is told
    to authenticate (401) rather than about a token they couldn't have had."""
    if not is_api(request):
        return html_csrf_failure(request, reason)
    if not request.user.is_authenticated:
        return json_error(401, MESSAGES[401])
    return json_error(403, "CSRF check failed: send the X-CSRFToken header (or use an API token).")


class ApiErrorMiddleware:
    """Every error under /api/ is JSON; everywhere else, nothing changes."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_api(request):
            return self.get_response(request)
        length = request.META.get("CONTENT_LENGTH") or "0"
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length.isascii() and length.isdigit() and int(length) > limit:
            return json_error(413, MESSAGES[413])
        response = self.get_response(request)
        content_type = response.get("Content-Type", "")
        if response.status_code < 400 or content_type.startswith("application/json"):
            return response
        message = MESSAGES.get(response.status_code, "Request failed.")
        if response.has_header("Allow"):
            message = f"Method not allowed: use {response['Allow']}."
        json_response = json_error(response.status_code, message)
        if response.has_header("Allow"):
            json_response["Allow"] = response["Allow"]
        return json_response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_api(request):
            return None
        if isinstance(exception, ApiError):
            return json_error(exception.status, exception.message, **exception.extra)
        if isinstance(exception, Http404):
            return json_error(404, MESSAGES[404])
        if isinstance(exception, PermissionDenied):
            return json_error(403, MESSAGES[403])
        if isinstance(exception, RequestDataTooBig):
            return json_error(413, MESSAGES[413])
        if isinstance(exception, SuspiciousOperation):
            return json_error(400, MESSAGES[400])
        log.error("Unhandled error in %s %s", request.method, request.path, exc_info=exception)
        return json_error(500, "Internal server error: it has been logged.")
