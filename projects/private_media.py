"""Private media: every file a project makes is served to its owner only.

Files live under `MEDIA_ROOT/projects/<project id>/`, so the path says whose a file is;
the view checks that before anything else, and answers 404 to everyone else (anonymous
included) exactly as for a file that doesn't exist. Names carry a part derived from the
secret key, so even a proxy that served the folder by mistake wouldn't make them
enumerable; names made before that still work, since only the path is checked.

The bytes go out in one of three ways (MEDIA_SERVING): Django streams them itself, with
Range requests for video seeking (the embedded default); or the view only answers with
`X-Accel-Redirect` (nginx, Caddy) or `X-Sendfile` (Apache) and the proxy sends the file.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.crypto import salted_hmac
from django.utils.http import http_date
from django.views.decorators.http import require_safe

from projects.models import Project

OWNED_PATH = re.compile(r"projects/(?P<project_id>[0-9]{1,18})/(?!\.)[^\x00]+")
RANGE = re.compile(r"bytes=(?P<start>[0-9]*)-(?P<end>[0-9]*)")
CHUNK = 256 * 1024


def secret_part(*parts: object) -> str:
    """A name part nobody can guess without the secret key, the same each time it's asked
    for the same parts (a retry's clean-up finds the file its attempt would have made)."""
    value = "-".join(str(p) for p in parts)
    return salted_hmac("storyboard.media", value, algorithm="sha256").hexdigest()[:20]


def owned_file(request: HttpRequest, path: str) -> Path:
    """The file at `path`, if the logged-in user owns the project it belongs to."""
    match = OWNED_PATH.fullmatch(path)
    if match is None or not request.user.is_authenticated:
        raise Http404
    owned = Project.objects.owned_by(request.user).filter(id=int(match["project_id"]))
    if not owned.exists():
        raise Http404
    root = Path(settings.MEDIA_ROOT).resolve()
    file = (root / path).resolve()
    # No way out of the project's folder (.., links), and no dot-named temporaries.
    project_dir = root / "projects" / match["project_id"]
    if not file.is_relative_to(project_dir):
        raise Http404
    if any(part.startswith(".") for part in file.relative_to(project_dir).parts):
        raise Http404
    if not file.is_file():
        raise Http404
    return file


@require_safe
def serve(request: HttpRequest, path: str) -> HttpResponseBase:
    file = owned_file(request, path)
    content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    mode = settings.MEDIA_SERVING
    response: HttpResponseBase
    if mode != "django":
        response = HttpResponse(content_type=content_type)
        relative = file.relative_to(Path(settings.MEDIA_ROOT).resolve()).as_posix()
        if mode == "accel":
            response["X-Accel-Redirect"] = settings.MEDIA_ACCEL_PREFIX + relative
        else:
            response["X-Sendfile"] = str(file)
    else:
        response = stream(request, file, content_type)
    # Only the owner's own browser may keep it: names never change once made.
    response["Cache-Control"] = "private, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def stream(request: HttpRequest, file: Path, content_type: str) -> HttpResponseBase:
    stat = file.stat()
    size = stat.st_size
    response: HttpResponseBase
    try:
        wanted = byte_range(request.headers.get("Range", ""), size)
    except Unsatisfiable:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    if wanted is None and request.method == "HEAD":
        response = HttpResponse(content_type=content_type)
        response["Content-Length"] = str(size)
    elif wanted is None:
        response = FileResponse(file.open("rb"), content_type=content_type)
    else:
        start, end = wanted
        body = iter(()) if request.method == "HEAD" else read_range(file, start, end)
        response = StreamingHttpResponse(body, status=206, content_type=content_type)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
    response["Accept-Ranges"] = "bytes"
    response["Last-Modified"] = http_date(stat.st_mtime)
    return response


class Unsatisfiable(ValueError):
    pass


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The one range a `Range: bytes=...` header asks for, or None for the whole file (no
    header, or one we don't read, such as several ranges)."""
    match = RANGE.fullmatch(header.strip())
    if match is None or (not match["start"] and not match["end"]):
        return None
    if not match["start"]:  # the last N bytes
        length = int(match["end"])
        if length == 0 or size == 0:
            raise Unsatisfiable
        return max(0, size - length), size - 1
    start = int(match["start"])
    end = int(match["end"]) if match["end"] else size - 1
    if start >= size:
        raise Unsatisfiable
    if end < start:
        return None
    return start, min(end, size - 1)


def read_range(file: Path, start: int, end: int) -> Iterator[bytes]:
    with file.open("rb") as f:
        f.seek(start)
        left = end - start + 1
        while left > 0:
            chunk = f.read(min(CHUNK, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk
