from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

from accounts.models import ApiToken


class BearerTokenMiddleware:
    """Authenticates `Authorization: Bearer <key>` requests as the key's user.

    Such a request carries no cookie, so it can't be forged by another site: CSRF
    checks are for session requests only. A bad key is refused outright rather than
    falling back to the session.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        header = request.headers.get("Authorization", "")
        if header[:7].lower() == "bearer ":
            token = ApiToken.objects.for_key(header[7:].strip())
            if token is None:
                return JsonResponse({"error": "Invalid or revoked API token."}, status=401)
            token.touch()
            request.user = token.user
            request._dont_enforce_csrf_checks = True  # type: ignore[attr-defined]
        return self.get_response(request)
