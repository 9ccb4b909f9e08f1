"""One error shape for the whole API: `{"code", "message", "fields"}` with a 4xx status.

Domain refusals raise `DomainError` (or a subclass) with a stable code; DRF, Django and database
errors are translated here, in one place, so that no input can produce an HTML page or a 500.
"""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

logger = logging.getLogger(__name__)


class DomainError(Exception):
    """A refusal the caller can act on. `code` is stable; `message` is for people."""

    status_code = status.HTTP_400_BAD_REQUEST
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, fields=None, status_code=None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status_code:
            self.status_code = status_code
        self.fields = fields or {}


class Conflict(DomainError):
    status_code = status.HTTP_409_CONFLICT
    code = "conflict"


class NotFound(DomainError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "not_found"


_DRF_CODES = {
    exceptions.ParseError: "malformed_request",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


def error_body(code: str, message: str, fields=None) -> dict:
    return {"code": code, "message": message, "fields": fields or {}}


def _flatten(detail):
    """DRF error detail → plain JSON: lists of strings, nested dicts kept."""
    if isinstance(detail, dict):
        return {str(k): _flatten(v) for k, v in detail.items()}
    if isinstance(detail, list):
        return [_flatten(v) for v in detail]
    return str(detail)


def _first_message(fields) -> str:
    for key, value in fields.items() if isinstance(fields, dict) else []:
        while isinstance(value, (list, dict)) and value:
            value = value[0] if isinstance(value, list) else next(iter(value.values()))
        if isinstance(value, str):
            return value if key == "non_field_errors" else f"{key}: {value}"
    return "The request is invalid."


def _validation_response(fields) -> Response:
    if isinstance(fields, list):
        fields = {"non_field_errors": fields}
    return Response(error_body("invalid", _first_message(fields), fields), status=400)


def api_exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every error becomes the one JSON shape."""
    set_rollback()
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status_code)
    if isinstance(exc, exceptions.ValidationError):
        return _validation_response(_flatten(exc.detail))
    if isinstance(exc, DjangoValidationError):
        fields = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        return _validation_response(fields)
    if isinstance(exc, Http404):
        return Response(error_body("not_found", "Not found."), status=404)
    if isinstance(exc, DjangoPermissionDenied):
        return Response(error_body("permission_denied", "Not allowed."), status=403)
    if isinstance(exc, exceptions.APIException):
        code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error")
        response = Response(error_body(code, str(exc.detail)), status=exc.status_code)
        if getattr(exc, "auth_header", None):
            response["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            response["Retry-After"] = str(int(exc.wait))
        return response
    if isinstance(exc, IntegrityError):
        logger.warning("integrity error turned into 409: %s", exc)
        return Response(
            error_body("conflict", "The change conflicts with existing records."), status=409
        )
    if isinstance(exc, DataError):
        return Response(error_body("invalid", "A value is out of range or malformed."), status=400)
    return None


def _json_for_api(request, status_code, code, message):
    return JsonResponse(error_body(code, message), status=status_code)


def handler400(request, exception=None):
    return _json_for_api(request, 400, "bad_request", "The request could not be understood.")


def handler403(request, exception=None):
    return _json_for_api(request, 403, "permission_denied", "Not allowed.")


def handler404(request, exception=None):
    if request.path.startswith("/api/"):
        return _json_for_api(request, 404, "not_found", "Not found.")
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def handler500(request):
    if request.path.startswith("/api/"):
        return _json_for_api(request, 500, "internal_error", "An unexpected error occurred.")
    from django.views.defaults import server_error

    return server_error(request)
