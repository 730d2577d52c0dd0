"""One JSON error shape for the whole API, and its description for the OpenAPI schema.

Every refusal reads::

    {"error": {"code": "invalid", "message": "…", "fields": {"title": ["…"]}}}

`code` is stable and meant for programs (DRF's codes: `invalid`, `parse_error`,
`not_authenticated`, `authentication_failed`, `permission_denied`, `not_found`,
`method_not_allowed`, `unsupported_media_type`, `throttled`...; ours: `request_too_large`,
`locked_out`, `server_error`); `message` is for people;
`fields` maps a field (nested fields joined with dots, list items by index: `skills.0`) to its
messages, and is empty when the error is not about particular fields.
"""

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

INVALID_MESSAGE = "Some fields are not valid; see `fields`."


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as {"a.b.0": ["message", ...]}."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {prefix: [str(item) for item in detail]} if detail else {}
        flat = {}
        for index, value in enumerate(detail):
            flat.update(_flatten(value, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    return {prefix: [str(detail)]}


def _validation_body(detail: Any) -> dict[str, Any]:
    fields = _flatten(detail)
    non_field = fields.pop(api_settings.NON_FIELD_ERRORS_KEY, None) or fields.pop("", None)
    if non_field and not fields:
        message = " ".join(non_field)
    elif non_field:
        message = " ".join(non_field)
        fields[api_settings.NON_FIELD_ERRORS_KEY] = non_field
    else:
        message = INVALID_MESSAGE
    return {"code": "invalid", "message": message, "fields": fields}


def error_body(exc: exceptions.APIException) -> dict[str, Any]:
    if isinstance(exc, exceptions.ValidationError):
        return {"error": _validation_body(exc.detail)}
    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else exc.default_code
    return {"error": {"code": code, "message": str(exc.detail), "fields": {}}}


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's handler (status, WWW-Authenticate, Retry-After), with our body."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    response.data = error_body(exc)
    return response


def json_error(*, status: int, code: str, message: str) -> JsonResponse:
    """The error shape for answers given outside DRF's views (middleware, Django's handlers)."""
    return JsonResponse({"error": {"code": code, "message": message, "fields": {}}}, status=status)


# Exempt: a POST to a path that names no endpoint is a 404 whoever sends it, and the CSRF
# check would answer it first with Django's HTML 403 page instead of the API's JSON error.
@csrf_exempt
def api_not_found(request: HttpRequest, unmatched: str = "") -> JsonResponse:
    """Any path under /api/ that names no endpoint: the JSON error instead of an HTML page.

    Without it a POST to a path missing its trailing slash would reach CommonMiddleware's
    APPEND_SLASH, which cannot redirect a POST and raises (a 500 while DEBUG is on).
    """
    message = "No API endpoint at this path."
    if not request.path.endswith("/"):
        try:
            resolve(request.path + "/")
        except Resolver404:
            pass
        else:
            message += f" Did you mean {request.path}/ ? Every API path ends with a slash."
    body = {"error": {"code": "not_found", "message": message, "fields": {}}}
    return JsonResponse(body, status=404)


# The schema's description of the shape above --------------------------------------------------


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable error code.")
    message = serializers.CharField(help_text="What went wrong, for people.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per field (`a.b`, `items.0`); empty when no field is at fault.",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


_ERROR_DESCRIPTIONS = {
    400: "Invalid input (malformed JSON, wrong types, missing or unknown values); see `fields`.",
    401: "No credentials, or invalid ones (`Authorization: Token <key>` or a session cookie).",
    403: "Authenticated but not allowed (staff only, or a session request without CSRF token).",
    404: "No such object (or not yours).",
    405: "Method not allowed on this path.",
    413: "Request body larger than the API accepts (`API_MAX_BODY_BYTES`, 1 MiB by default).",
    415: "Unsupported media type: send `application/json`.",
    429: "Too many requests; retry after the number of seconds in `Retry-After`.",
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """`extend_schema(responses=...)` entries for the given error statuses."""
    return {
        status: OpenApiResponse(response=ErrorSerializer, description=_ERROR_DESCRIPTIONS[status])
        for status in statuses
    }


def login_lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: dict | None = None
) -> HttpResponse:
    """django-axes' lockout answer: the API's JSON error under /api/, the lockout page elsewhere.

    Same status (429) and the same facts either way: how many failures locked it and how long
    it stays locked.
    """
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    if request.path.startswith("/api/"):
        return JsonResponse(
            {
                "error": {
                    "code": "locked_out",
                    "message": (
                        f"Too many failed login attempts: logging in is locked for {minutes} "
                        "minutes, and until then even the right password is refused."
                    ),
                    "fields": {},
                }
            },
            status=429,
        )
    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "username": (credentials or {}).get("username", ""),
        "cooloff_timedelta": settings.AXES_COOLOFF_TIME,
    }
    return render(request, settings.AXES_LOCKOUT_TEMPLATE, context, status=429)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: the API keeps its JSON error shape even when the failure is outside a view
    (a database outage during middleware, say); the site shows its friendly page."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {
                "error": {
                    "code": "server_error",
                    "message": "The server could not complete this request; try again shortly.",
                    "fields": {},
                }
            },
            status=500,
        )
    return defaults.server_error(request)
