"""JSON read from callers, with a bounded nesting depth: the API's body parser and the admin's
JSON form field.

Python's JSON decoder recurses once per level of `[` or `{`: a body nested 100,000 levels deep
ends in a RecursionError, and one nested a few hundred levels parses but breaks whatever walks
it next (the renderer stops at 255 levels). No document the API or the admin takes is nested
more than a few levels, so anything deeper than MAX_JSON_DEPTH is refused as malformed, with a
400 in the error shape (`malformed_request`), before any of it is used.
"""

from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from core.parse import MAX_JSON_DEPTH  # the same bound as every other JSON the product reads

TOO_DEEP = f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep."


def json_depth_exceeded(value, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether decoded JSON holds arrays or objects nested more than `limit` deep (walked
    without recursion, stopping at the first level past the limit)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children: Iterable[Any]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def loads_bounded(load, *args, **kwargs):
    """`load(*args, **kwargs)` (a JSON decoder call), raising ValueError(TOO_DEEP) for input
    nested past MAX_JSON_DEPTH, however deep, instead of a RecursionError."""
    try:
        data = load(*args, **kwargs)
    except RecursionError:
        raise ValueError(TOO_DEEP) from None
    if json_depth_exceeded(data):
        raise ValueError(TOO_DEEP)
    return data


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing a body nested deeper than MAX_JSON_DEPTH (400,
    `malformed_request`)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return loads_bounded(super().parse, stream, media_type, parser_context)
        except ValueError as error:
            raise ParseError(str(error)) from None


class JSONFormField(forms.JSONField):
    """Django's JSON form field, refusing input nested deeper than MAX_JSON_DEPTH with a form
    error (the admin's JSON inputs)."""

    def to_python(self, value):
        try:
            return loads_bounded(super().to_python, value)
        except ValueError as error:
            raise ValidationError(str(error), code="invalid") from None

    def bound_data(self, data, initial):
        # Re-displaying the refused input decodes it again.
        try:
            return super().bound_data(data, initial)
        except RecursionError:
            return forms.fields.InvalidJSONInput(data)
