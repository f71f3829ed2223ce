"""One error shape for the whole API: {"error": {"code", "message", "fields"}}.

`fields` maps each offending field (dotted for nested input, e.g. "languages.1")
to its messages; `message` repeats the first of them with the field's name, so
a human reading only the message still knows what to fix.
"""

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from outreach.errors import AmaniError, InvalidInput, NotAllowed, NotFound

logger = logging.getLogger(__name__)

_STATUS_OF_AMANI_ERROR = {InvalidInput: 400, NotAllowed: 403, NotFound: 404}


def exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every error leaves the API in the one shape."""
    if isinstance(exc, AmaniError):
        exc = _as_drf_error(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # an unexpected error: Django's handler500 answers and logs it
    response.data = error_body(response.data, code=_code_of(exc), status_code=response.status_code)
    return response


class ErrorDetailSerializer(serializers.Serializer):
    """What went wrong: the inside of every error body (documentation only)."""

    def get_fields(self) -> dict[str, serializers.Field]:  # "fields" would shadow Serializer.fields
        return {
            "code": serializers.CharField(
                help_text="For programs: e.g. invalid, parse_error, not_authenticated, "
                "permission_denied, not_found, throttled."
            ),
            "message": serializers.CharField(
                help_text="For people; a 400's names its first offending field."
            ),
            "fields": serializers.DictField(
                child=serializers.ListField(child=serializers.CharField()),
                help_text='Each offending field (dotted when nested, e.g. "languages.1") and its '
                "messages; empty when no field is to blame.",
            ),
        }


class ErrorSerializer(serializers.Serializer):
    """The one error body of the API: {"error": {"code", "message", "fields"}}."""

    error = ErrorDetailSerializer()


def error_body(detail: Any, *, code: str, status_code: int) -> dict[str, Any]:
    fields: dict[str, list[str]] = {}
    if isinstance(detail, Mapping) and not _is_plain_detail(detail):
        _flatten(detail, "", fields)
        fields = {("non_field_errors" if k == "" else k): v for k, v in fields.items()}
        first_field, first_messages = next(iter(fields.items()), ("", [""]))
        prefix = "" if first_field == "non_field_errors" else f"{first_field}: "
        message = f"{prefix}{first_messages[0]}"
    elif isinstance(detail, Mapping):
        message = str(detail["detail"])
    elif isinstance(detail, list):
        message = " ".join(str(item) for item in detail)
    else:
        message = str(detail)
    return {
        "error": {
            "code": code,
            "message": message or _default_message(status_code),
            "fields": fields,
        }
    }


def json_error(request: HttpRequest, status_code: int, code: str, message: str) -> HttpResponse:
    return JsonResponse(
        {"error": {"code": code, "message": message, "fields": {}}}, status=status_code
    )


# Django's own handlers, for errors raised outside DRF (unknown URL, oversized body, crash).
def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _api_or_html(request, 400, "bad_request", "The request could not be understood.")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _api_or_html(request, 403, "permission_denied", "You may not do this.")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/console/"):  # a person reading the console: its own page
        return render(request, "console/not_found.html", status=404)
    return _api_or_html(request, 404, "not_found", f"Nothing is found at {request.path}.")


def server_error(request: HttpRequest) -> HttpResponse:
    return _api_or_html(
        request, 500, "server_error", "Something went wrong on our side; it has been logged."
    )


def _api_or_html(request: HttpRequest, status_code: int, code: str, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return json_error(request, status_code, code, message)
    from django.views import defaults

    handler = {
        400: defaults.bad_request,
        403: defaults.permission_denied,
        404: defaults.page_not_found,
    }.get(status_code)
    if handler is None:
        return defaults.server_error(request)
    return handler(request, Exception(message))


def _as_drf_error(exc: AmaniError) -> exceptions.APIException:
    status_code = next(
        (code for kind, code in _STATUS_OF_AMANI_ERROR.items() if isinstance(exc, kind)), 400
    )
    if status_code == status.HTTP_400_BAD_REQUEST:
        detail: Any = {exc.field: [exc.message]} if exc.field else [exc.message]
        error = exceptions.ValidationError(detail)
    elif status_code == status.HTTP_403_FORBIDDEN:
        error = exceptions.PermissionDenied(exc.message)
    else:
        error = exceptions.NotFound(exc.message)
    error.amani_code = exc.code  # type: ignore[attr-defined]
    return error


def _code_of(exc: Exception) -> str:
    if hasattr(exc, "amani_code"):
        return exc.amani_code
    if isinstance(exc, exceptions.ValidationError):
        return "invalid"
    if isinstance(exc, exceptions.APIException):
        return exc.default_code
    return "error"


def _is_plain_detail(detail: Mapping[str, Any]) -> bool:
    return set(detail) == {"detail"}


def _flatten(detail: Any, path: str, into: dict[str, list[str]]) -> None:
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            _flatten(value, f"{path}.{key}" if path else str(key), into)
    elif isinstance(detail, Sequence) and not isinstance(detail, str):
        if all(isinstance(item, str) for item in detail):
            into.setdefault(path, []).extend(str(item) for item in detail)
        else:
            for index, item in enumerate(detail):
                if item:
                    _flatten(item, f"{path}.{index}" if path else str(index), into)
    else:
        into.setdefault(path, []).append(str(detail))


def _default_message(status_code: int) -> str:
    return {400: "Invalid input.", 401: "Authentication needed.", 403: "Not allowed."}.get(
        status_code, "Error."
    )
