"""A size limit on request bodies under /api/, checked before anything reads or parses them.

Django's own guard, DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MiB), only trips while DRF parses the
body, so a 50 MiB JSON body to the public token endpoint was read and then refused as a 400
with a traceback in the log. Here a body over `settings.API_MAX_BODY_BYTES` gets `413` in the
API's error shape before any view, parser or authentication runs:

- with a `Content-Length`, by that number alone (nothing is read);
- without one (`Transfer-Encoding: chunked`), by reading at most limit + 1 bytes from the
  stream. A body within the limit is then handed on, already read, with its length set, so the
  view parses it as usual. Under WSGI that stream is the server's `wsgi.input` when the server
  marks it terminated (gunicorn does); otherwise Django reads nothing of a body without a
  length, and neither does this.

The site's own pages (HTML forms, the admin) keep Django's limits.
"""

import io
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from core.api_errors import json_error

API_PREFIX = "/api/"


def _declared_length(request: HttpRequest) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None


def _unsized_stream(request: HttpRequest):
    """The stream holding a body sent without a length, or None when there is none to read."""
    if "HTTP_TRANSFER_ENCODING" not in request.META:
        return None
    if request.META.get("wsgi.input_terminated"):
        return request.META["wsgi.input"]
    if "wsgi.input" not in request.META:  # ASGI: Django has spooled the body already
        return request._stream
    return None


def _read_at_most(stream, limit: int) -> bytes:
    chunks, size = [], 0
    while size < limit:
        chunk = stream.read(min(64 * 1024, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def too_large(limit: int) -> HttpResponse:
    return json_error(
        status=413,
        code="request_too_large",
        message=f"The request body is larger than the API accepts ({limit} bytes).",
    )


class ApiBodyLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(API_PREFIX):
            limit = settings.API_MAX_BODY_BYTES
            declared = _declared_length(request)
            if declared is not None and declared > limit:
                return too_large(limit)
            if not declared:
                stream = _unsized_stream(request)
                if stream is not None:
                    body = _read_at_most(stream, limit + 1)
                    if len(body) > limit:
                        return too_large(limit)
                    request._stream = io.BytesIO(body)
                    request.META["CONTENT_LENGTH"] = str(len(body))
        return self.get_response(request)
