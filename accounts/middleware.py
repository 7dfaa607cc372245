from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from accounts.models import ApiToken
from projects.http import is_api, json_error

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class BearerTokenMiddleware:
    """Authenticates `Authorization: Bearer <key>` requests to the API as the key's user.

    Keys open `/api/` and nothing else: pages, partials, the admin and the socket need a
    session, so a leaked script key can't reach the admin or mint more keys. Elsewhere the
    header is ignored.

    Such a request carries no cookie, so it can't be forged by another site: CSRF
    checks are for session requests only. A bad key is refused outright rather than
    falling back to the session.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        header = request.headers.get("Authorization", "")
        if is_api(request) and header[:7].lower() == "bearer ":
            token = ApiToken.objects.for_key(header[7:].strip())
            if token is None:
                return json_error(401, "Invalid or revoked API token.")
            if token.read_only and request.method not in SAFE_METHODS:
                return json_error(403, "This API token is read-only: it can't change anything.")
            token.touch()
            request.user = token.user
            request._dont_enforce_csrf_checks = True  # type: ignore[attr-defined]
        return self.get_response(request)
