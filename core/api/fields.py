"""The API's input fields: a value is taken only as the OpenAPI schema types it.

DRF's stock fields are lenient in ways the schema does not promise: a decimal field takes a JSON
number, a boolean field takes 1 and "yes", an integer field takes 7.0 and "7", and a primary-key
field looks up 7.9 as row 7. Callers written against the schema never send those; a caller that
does has a bug worth hearing about, and money must not pass through a binary float. Only the
file uploads take a form body (multipart: the CSV imports, a consent with its evidence); it
carries only text, so there numbers come as ASCII digits and booleans as the words `true` and
`false`.
"""

import datetime
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import models
from django.http import QueryDict
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers
from rest_framework.fields import empty

from core import parse
from core.api.common import WHOLE_NUMBER


def _from_form(field: serializers.Field) -> bool:
    return isinstance(getattr(field.root, "initial_data", None), QueryDict)


def _whole_number(field: serializers.Field, data) -> int | None:
    """`data` as an int if the schema's `integer` allows it, else None."""
    if isinstance(data, int) and not isinstance(data, bool):
        return data
    if isinstance(data, str) and _from_form(field) and WHOLE_NUMBER.fullmatch(data.strip()):
        return int(data)
    return None


class DecimalStringField(serializers.DecimalField):
    """A decimal written as a JSON string ("1250.00"). A JSON number reaches Python as a binary
    float, which may not be the figure the caller wrote (12.345678901234567890 arrives as
    12.345678901234567), so money never travels as one. The text must match the schema's
    pattern (`core.parse.decimal_pattern`, published by `DecimalStringSchema`): DRF's own
    parser also takes "1_000", "1e2", "+1", " 1", ".5" and other scripts' digits. A leading
    `-` is allowed only when the field has no minimum at or above zero."""

    default_error_messages = {"not_a_string": 'Send the number as a string, e.g. "1250.00".'}

    @property
    def allow_negative(self) -> bool:
        return self.min_value is None or self.min_value < 0

    @property
    def pattern(self) -> str:
        return parse.decimal_pattern(
            allow_negative=self.allow_negative,
            max_digits=self.max_digits,
            decimal_places=self.decimal_places,
        )

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        _parsed(
            self,
            parse.parse_decimal,
            data,
            allow_negative=self.allow_negative,
            max_digits=self.max_digits,
            decimal_places=self.decimal_places,
        )
        return super().to_internal_value(data)


_T = TypeVar("_T")


def _parsed(field: serializers.Field, parser: Callable[..., _T], value: Any, **options: Any) -> _T:
    """`parser` (core.parse) on a field's value; its ParseError is the field's 400, in its words."""
    try:
        return parser(value, field=field.field_name or "", **options)
    except parse.ParseError as error:
        raise serializers.ValidationError(error.message, code="invalid") from None


class DecimalStringSchema(OpenApiSerializerFieldExtension):
    """The schema's pattern for a DecimalStringField is the one its parser matches."""

    target_class = DecimalStringField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "string", "format": "decimal", "pattern": self.target.pattern}


class StrictDateField(serializers.DateField):
    """A calendar date, YYYY-MM-DD in ASCII digits, in years 1900 to 2200 (`core.parse`)."""

    def to_internal_value(self, value):
        if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
            value = value.isoformat()
        return _parsed(self, parse.parse_date, value)


class FilterDateField(serializers.DateField):
    """A date a query filters by, YYYY-MM-DD in ASCII digits, of any year: it holds no record, so
    no year is refused (and the schema's `format: date` says all there is to say)."""

    def to_internal_value(self, value):
        return _parsed(self, parse.parse_date, value, any_year=True)


class StrictInstantField(serializers.DateTimeField):
    """An instant with its date, time and offset (2025-06-21T12:00:00Z), in years 1900 to 2200,
    stored in UTC. DRF's field also takes a bare date (as local midnight) and years 1 and 9999."""

    def to_internal_value(self, value):
        if isinstance(value, datetime.datetime):
            value = value.isoformat()
        return _parsed(self, parse.parse_instant, value)


class StrictBooleanField(serializers.BooleanField):
    """JSON `true` or `false` (in a form body, those words in any case).

    DRF reads a boolean left out of a form body as `false` (an unticked HTML checkbox sends
    nothing). An API form body is not a checkbox: a key left out means the field's default, or
    "required", exactly as in JSON."""

    default_error_messages = {"invalid": "Must be true or false."}
    default_empty_html = empty

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        if isinstance(data, str) and _from_form(self) and data.lower() in ("true", "false"):
            return data.lower() == "true"
        self.fail("invalid")


class StrictCharField(serializers.CharField):
    """JSON text: not 7, not true (DRF's CharField turns a number into its digits)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer: not 7.0, not "7", not true."""

    def to_internal_value(self, data):
        number = _whole_number(self, data)
        if number is None:
            self.fail("invalid")
        return super().to_internal_value(number)


class StrictPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A row named by its id; an integer id as a JSON integer (7.9 is not row 7)."""

    def to_internal_value(self, data):
        queryset = self.get_queryset()
        if queryset is not None and isinstance(queryset.model._meta.pk, models.UUIDField):
            return super().to_internal_value(data)
        number = _whole_number(self, data)
        if number is None:
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(number)


class ModelSerializer(serializers.ModelSerializer):
    """The project's model serializer: model fields map to the strict fields above, and the
    fields named in `fixed_after_create` may be repeated by an update (PUT sends the whole body)
    but not changed: a production stays with its studio, an engagement with its person."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.DecimalField: DecimalStringField,
        models.DateField: StrictDateField,
        models.DateTimeField: StrictInstantField,
        models.BooleanField: StrictBooleanField,
        models.IntegerField: StrictIntegerField,
        models.BigIntegerField: StrictIntegerField,
        models.SmallIntegerField: StrictIntegerField,
        models.PositiveIntegerField: StrictIntegerField,
        models.PositiveSmallIntegerField: StrictIntegerField,
        models.PositiveBigIntegerField: StrictIntegerField,
    }
    serializer_related_field = StrictPrimaryKeyRelatedField
    fixed_after_create: tuple[str, ...] = ()

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if self.instance is None or isinstance(self.instance, list):
            return attrs
        changed = {
            name: ["Fixed when the record was made: an update may repeat it, not change it."]
            for name in self.fixed_after_create
            if name in attrs and attrs[name] != getattr(self.instance, name)
        }
        if changed:
            raise serializers.ValidationError(changed)
        return {k: v for k, v in attrs.items() if k not in self.fixed_after_create}
