"""One error shape for the whole API: `{"code", "message", "fields"}` with a 4xx status.

Domain refusals raise `DomainError` (or a subclass) with a stable code; DRF, Django and database
errors are translated here, in one place, so that no input can produce an HTML page or a 500.
"""

import logging
import sys
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError, InterfaceError, OperationalError
from django.http import Http404, HttpResponse, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from core.parse import ParseError, ParseErrors
from core.security import events as security

logger = logging.getLogger(__name__)


class DomainError(Exception):
    """A refusal the caller can act on. `code` is stable; `message` is for people."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    code: str = "invalid"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        fields: dict[str, Any] | None = None,
        status_code: int | None = None,
    ):
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


class Forbidden(DomainError):
    """403 `permission_denied`: the caller sees the record but may not do this to it."""

    status_code = status.HTTP_403_FORBIDDEN
    code = "permission_denied"


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
    """DRF's EXCEPTION_HANDLER: every error becomes the one JSON shape. A refusal of who the
    caller is or of what it may do (401, 403, 429) is also a security event."""
    response = _error_response(exc, context)
    if response is not None and response.status_code in security.REFUSAL_STATUSES:
        security.api_refusal(context.get("request"), exc, response)
    return response


def _error_response(exc, context):
    set_rollback()
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status_code)
    if isinstance(exc, exceptions.ValidationError):
        return _validation_response(_flatten(exc.detail))
    if isinstance(exc, ParseErrors):
        return _validation_response(exc.by_field())
    if isinstance(exc, ParseError):
        # The same answer as a serializer field's refusal of the same text.
        return _validation_response({exc.field: [exc.message]})
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
        code = getattr(exc, "stable_code", None) or next(
            (c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error"
        )
        response = Response(error_body(code, str(exc.detail)), status=exc.status_code)
        auth_header = getattr(exc, "auth_header", None)
        if auth_header:
            response["WWW-Authenticate"] = auth_header
        wait = getattr(exc, "wait", None)
        if wait:
            response["Retry-After"] = str(int(wait))
        return response
    if isinstance(exc, IntegrityError):
        logger.warning("integrity error turned into 409: %s", exc)
        return Response(
            error_body("conflict", "The change conflicts with existing records."), status=409
        )
    if isinstance(exc, DataError):
        return Response(error_body("invalid", "A value is out of range or malformed."), status=400)
    if isinstance(exc, DATABASE_UNAVAILABLE):
        return _database_unavailable(exc, Response)
    return None


# The database is unreachable or the connection broke (a restart, a failover, a network cut).
# Nothing was written: every use case is one transaction, rolled back with the connection. The
# answer is a 503 that tells clients to retry; a payment retried with its Idempotency-Key is
# recorded once whether or not the first attempt committed.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5


def _database_unavailable(exc, response_class):
    logger.warning("database unavailable, answered 503: %s", exc)
    response = response_class(
        error_body(
            "database_unavailable",
            "The database is unavailable for a moment; nothing was changed. Retry shortly.",
        ),
        status=503,
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _database_unavailable_page(exc):
    logger.warning("database unavailable, answered 503: %s", exc)
    response = HttpResponse(
        "The service is unavailable for a moment. Please retry shortly.",
        status=503,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


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
    # Django calls this inside its `except` block, wherever the exception came from (a view, a
    # middleware, the session's save): a database outage is a 503 to retry, not a 500.
    exc = sys.exc_info()[1]
    if isinstance(exc, DATABASE_UNAVAILABLE):
        if request.path.startswith("/api/"):
            return _database_unavailable(exc, JsonResponse)
        return _database_unavailable_page(exc)
    if request.path.startswith("/api/"):
        return _json_for_api(request, 500, "internal_error", "An unexpected error occurred.")
    from django.views.defaults import server_error

    return server_error(request)
