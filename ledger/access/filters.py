"""Filters of the API's lists that name a row: the value must name a row the caller can see.

A list filtered by a studio, production or person that does not exist, or that the caller may
not see (which reads the same, so that existence does not leak), is refused with 400 `invalid`
naming the filter, never answered with an empty page a client would read as "nothing there". A
studio is named by its id or its slug, either one, everywhere."""

from collections.abc import Callable
from typing import Any, ClassVar

import django_filters
from django import forms
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError

from core.api.common import MAX_ID, IdFilter, TextFilter
from ledger import access
from ledger.access import Scope, request_scope

STUDIO_HELP = "The studio's id or its slug."


def _is_id(value: str) -> bool:
    return value.isascii() and value.isdigit()


class StudioFilter(TextFilter):
    """A studio by its id or its slug; `via` is the path from a row to its studio."""

    def __init__(self, *, via: str = "studio", **kwargs: Any):
        self.via = via
        kwargs.setdefault("help_text", STUDIO_HELP)
        super().__init__(max_length=60, **kwargs)

    def filter(self, qs: QuerySet, value: Any) -> QuerySet:
        if value in (None, ""):
            return qs
        if _is_id(value):
            return qs.filter(**{f"{self.via}_id": int(value)})
        return qs.filter(**{f"{self.via}__slug": value})


class IdsFilter(django_filters.BaseInFilter, IdFilter):
    """Ids, comma-separated, at most MAX of them (IDS_PARAMETER documents it)."""

    MAX = 100

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("min_value", 1)
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet, value: Any) -> QuerySet:
        if value and len(value) > self.MAX:
            raise ValidationError({self.field_name: [f"At most {self.MAX} ids."]})
        return super().filter(qs, value)


def ids_parameter(noun: str, note: str = "") -> OpenApiParameter:
    """The schema of an `id` filter (IdsFilter): how many ids, and that each is a whole number;
    a generator sends them comma-separated."""
    return OpenApiParameter(
        "id",
        {
            "type": "array",
            "items": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
            "maxItems": IdsFilter.MAX,
        },
        OpenApiParameter.QUERY,
        style="form",
        explode=False,
        description=f"{noun} by id, comma-separated, at most {IdsFilter.MAX}{note}.",
    )


def visible_studio_id(scope: Scope, value: str) -> int | None:
    """The id of the studio `value` names (its id or slug), if the caller can see it."""
    studios = access.studios(scope)
    studios = studios.filter(pk=int(value)) if _is_id(value) else studios.filter(slug=value)
    return studios.values_list("pk", flat=True).first()


def studio_visible(scope: Scope, value: str) -> bool:
    return visible_studio_id(scope, value) is not None


def production_visible(scope: Scope, value: int) -> bool:
    return access.productions(scope).filter(pk=value).exists()


def person_visible(scope: Scope, value: int) -> bool:
    return access.people(scope).filter(pk=value).exists()


def engagement_visible(scope: Scope, value: int) -> bool:
    return access.engagements(scope).filter(pk=value).exists()


# What each filter of these names must name, in every list that has one.
KNOWN: dict[str, Callable[[Scope, Any], bool]] = {
    "studio": studio_visible,
    "production": production_visible,
    "person": person_visible,
    "engagement": engagement_visible,
}


class KnownValuesFilterSet(django_filters.FilterSet):
    """A filter set whose filters named in `known` (KNOWN unless a list says more) must name
    something the caller can see: `known` maps a filter's name to a test (scope, cleaned value)
    -> bool."""

    known: ClassVar[dict[str, Callable[[Scope, Any], bool]]] = KNOWN

    def is_valid(self) -> bool:
        if not super().is_valid():
            return False
        scope = request_scope(self.request)
        for name, visible in self.known.items():
            value = self.form.cleaned_data.get(name)
            if name not in self.filters or value in (None, "") or visible(scope, value):
                continue
            self.form.add_error(
                name,
                # Parameters, not text: a value may hold a `%` (the message is %-formatted).
                forms.ValidationError(
                    "No %(name)s %(value)s that you can see.",
                    code="unknown",
                    params={"name": name, "value": value},
                ),
            )
        return not self.form.errors
