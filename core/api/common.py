"""What every API view shares: cursor pagination, the error schema, scoped viewsets."""

import copy
import re
from datetime import UTC

import django_filters
from django import forms
from django.db import models
from django.utils.dateparse import parse_datetime
from django_filters.fields import IsoDateTimeField
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers
from rest_framework.routers import DefaultRouter

from core.api.schema import API_VERSION, NOUN_ACTIONS, operation_summary, singular
from core.api.scopes import required_scope

MAX_ID = 2**63 - 1
WHOLE_NUMBER = re.compile(r"[-+]?[0-9]+")


class _WholeNumberField(forms.IntegerField):
    """An id as written in a URL: ASCII digits with an optional sign. Django's integer field also
    takes "7.0" as 7, and int() reads other scripts' digits ("١٢" as 12)."""

    def to_python(self, value):
        if isinstance(value, str) and value.strip() and not WHOLE_NUMBER.fullmatch(value.strip()):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


@extend_schema_field(
    {"type": "integer", "format": "int64", "minimum": -MAX_ID - 1, "maximum": MAX_ID}
)
class IdFilter(django_filters.NumberFilter):
    """An id: a whole number in the database's 64-bit range. Foreign-key lookups have no overflow
    guard, so a larger value would reach the driver (OverflowError on SQLite, DataError on
    PostgreSQL); it is refused as invalid input instead. (The schema says so: a NumberFilter
    would otherwise be documented as any number, and "1.5" is refused.)"""

    field_class = _WholeNumberField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", -MAX_ID - 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class TextFilter(django_filters.CharFilter):
    """A text filter no longer than the column it searches, and the schema says how long."""

    def __init__(self, *args, max_length: int, **kwargs):
        super().__init__(*args, max_length=max_length, **kwargs)
        extend_schema_field({"type": "string", "maxLength": max_length})(self)


class _TrueOrFalseField(forms.NullBooleanField):
    """`true` or `false` (any case), or nothing; the stock field's select widget reads any other
    text as "not given" and so filtered nothing."""

    widget = forms.TextInput

    def to_python(self, value):
        if value in (None, ""):
            return None
        if str(value).lower() in ("true", "false"):
            return str(value).lower() == "true"
        raise forms.ValidationError("Enter true or false.", code="invalid")

    def validate(self, value):
        pass


class BooleanFilter(django_filters.BooleanFilter):
    """A yes/no filter that refuses what is neither, as the schema's `boolean` says."""

    field_class = _TrueOrFalseField


class _UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 instant with its offset, turned to UTC before it reaches the database:
    PostgreSQL refuses a zone offset beyond ±15:59, which ISO 8601 and Python allow (up to
    ±23:59). Without an offset it is refused, not read in the server's zone."""

    def to_python(self, value):
        # The stock field reads an instant without an offset in the server's zone.
        given = parse_datetime(value.strip()) if isinstance(value, str) else None
        if given is not None and given.tzinfo is None:
            raise forms.ValidationError(
                "Give the offset too, e.g. 2025-06-21T12:00:00Z: which moment is meant?"
            )
        instant = super().to_python(value)
        if instant is None or instant.tzinfo is None:
            return instant
        try:
            return instant.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError("The instant is outside years 1-9999 in UTC.") from None


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = _UtcDateTimeField


class ApiRouter(DefaultRouter):
    """Every app's API router. A row's id in a URL is ASCII: the stock pattern, `[^/.]+`, lets
    other scripts' digits through, and int() reads "١٢" as row 12 (uuid.UUID reads them too). A
    viewset that looks rows up by another field (a guild's code) keeps the stock pattern."""

    include_root_view = False

    def get_lookup_regex(self, viewset, lookup_prefix=""):
        pattern = self._id_pattern(viewset)
        if pattern is None:
            return super().get_lookup_regex(viewset, lookup_prefix)
        kwarg = getattr(viewset, "lookup_url_kwarg", None) or "pk"
        return f"(?P<{lookup_prefix}{kwarg}>{pattern})"

    @staticmethod
    def _id_pattern(viewset) -> str | None:
        queryset = getattr(viewset, "queryset", None)
        if getattr(viewset, "lookup_field", "pk") != "pk" or queryset is None:
            return None
        if hasattr(viewset, "lookup_value_regex"):
            return None
        pk = queryset.model._meta.pk
        if isinstance(pk, models.UUIDField):
            return "[0-9a-fA-F-]{32,36}"
        if isinstance(pk, models.IntegerField | models.AutoField):
            return "[0-9]+"
        return None


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable reason.")
    message = serializers.CharField(help_text="For people.")
    # DRF's metaclass takes declared fields off the class, so this does not replace the
    # Serializer.fields property the stubs see.
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.JSONField(), help_text="Per-field messages, when a field is at fault."
    )


_ERRORS = {
    400: "Invalid input; nothing was written.",
    401: "Not authenticated.",
    403: "Authenticated, but this caller may not do this.",
    404: "Not found, or outside the caller's scope.",
    405: "Method not allowed.",
    409: "Conflicts with existing records.",
    415: "Unsupported media type.",
    429: "Too many bad API keys from this address (`throttled`); retry after `Retry-After`.",
    503: "The database is unavailable for a moment; nothing was written. Retry after the "
    "`Retry-After` seconds (a payment with the same Idempotency-Key).",
}


# The answers that tell a client when to try again (core.errors sets the header on both).
RETRY_AFTER_STATUSES = (429, 503)
RETRY_AFTER = {
    "schema": {"type": "integer", "minimum": 0},
    "description": "Seconds to wait before retrying.",
}


# drf-spectacular documents a webhook's message as an operation of a receiver it mocks at this
# path: what the receiver answers is the receiver's, not this API's errors.
WEBHOOK_RECEIVER_PATH = "/"


class ErrorAwareAutoSchema(AutoSchema):
    """Documents the JSON error shape on every operation."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if self.path == WEBHOOK_RECEIVER_PATH:
            return responses
        error_codes = [401, 403, 404, 405, 415, 429, 503]
        if self.method in ("POST", "PUT", "PATCH"):
            error_codes += [400, 409]
        elif self.method == "GET":
            error_codes += [400]
        for status_code in error_codes:
            responses.setdefault(
                str(status_code),
                self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=_ERRORS[status_code]),
                    str(status_code),
                ),
            )
        for status_code in RETRY_AFTER_STATUSES:
            if str(status_code) in responses:
                headers = responses[str(status_code)].setdefault("headers", {})
                headers["Retry-After"] = copy.deepcopy(RETRY_AFTER)
        return responses

    def _get_parameters(self):
        # An optional query parameter sent empty (`?status=`) is read as not sent, by
        # django-filter and by DRF's serializers of query strings alike; OpenAPI says so with
        # `allowEmptyValue`.
        parameters = super()._get_parameters()
        for parameter in parameters:
            if parameter["in"] == "query" and not parameter.get("required"):
                parameter["allowEmptyValue"] = True
        return parameters

    def _payroll_scope(self) -> str | None:
        return required_scope(self.view, self.method)

    # drf-spectacular's AutoSchema.get_description takes no arguments, unlike DRF's inspector.
    def get_description(self):  # type: ignore[override]
        """The view's own text, plus the API-key scope a payroll key needs here, if any."""
        description = super().get_description() or ""
        needed = self._payroll_scope()
        if needed is None:
            return description
        return f"{description}\n\nPayroll API keys need the scope `{needed}`.".strip()

    def get_extensions(self):
        needed = self._payroll_scope()
        return {"x-api-key-scope": needed} if needed else {}

    def _tokenize_path(self):
        # The version belongs to every path alike: it names no operation and groups none, so
        # operation ids read `payables_list`, not `v1_payables_list`, and tags `payables`.
        tokens = super()._tokenize_path()
        return tokens[1:] if tokens and API_VERSION.fullmatch(tokens[0]) else tokens

    def get_summary(self):
        """A short title per operation ("List payables", "Approve compensation run"), which
        documentation shows in its index and generated clients as a function's first line."""
        action = getattr(self.view, "action", None)
        tokens = self._tokenize_path()
        if action is None and tokens and tokens[-1] in NOUN_ACTIONS:
            action = tokens.pop()
        elif action is None and self.method == "GET" and self._is_list_view():
            action = "list"
        return operation_summary(
            action=action,
            method=self.method,
            names=self._resource_names([token for token in tokens if token != action]),
        )

    def _resource_names(self, tokens: list[str]) -> tuple[str, str]:
        """The resource's name, singular and plural: the model's, unless the route's name says
        otherwise (residual runs are stored as compensation runs); else the path's last noun."""
        path_noun = tokens[-1].replace("-", " ") if tokens else "API"
        model = getattr(getattr(self.view, "queryset", None), "model", None)
        base = (getattr(self.view, "basename", None) or "").replace("-", " ")
        if model is not None:
            name = str(model._meta.verbose_name)
            plural = str(model._meta.verbose_name_plural)
            if not base or base == name.lower() or (" " not in base and name.endswith(base)):
                return name, plural
        if " " in base:
            return base, " ".join([*base.split()[:-1], path_noun.split()[-1]])
        return singular(path_noun), path_noun
