"""The API's scoped views: a viewset sees only the rows of the caller's scope."""

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, cast

from django.db.models import QuerySet
from django.http import Http404
from rest_framework import serializers, viewsets
from rest_framework.relations import RelatedField

from ledger.access import Scope, request_scope


class ScopedViewSet(viewsets.GenericViewSet):
    """A viewset whose queryset is cut to the caller's scope by `scope_queryset`."""

    # a function (scope, queryset) -> queryset, from ledger.access
    scope_queryset: Callable[[Scope, QuerySet], QuerySet] | None = None

    @property
    def scope(self) -> Scope:
        return request_scope(self.request)

    def get_queryset(self) -> QuerySet:
        scope_queryset = type(self).scope_queryset
        assert scope_queryset is not None, f"{type(self).__name__} names no scope_queryset"
        return scope_queryset(self.scope, super().get_queryset())

    def get_object(self) -> Any:
        # No row has a NUL in its id or code; PostgreSQL refuses such a literal (DataError, a
        # 400 on PostgreSQL and a 404 on SQLite), so answer 404 before querying.
        lookup = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field)
        if isinstance(lookup, str) and "\x00" in lookup:
            raise Http404
        return super().get_object()


# A serializer whose related fields offer only rows of the caller's scope: `scoped_choices` maps
# a field's name to a function (scope) -> queryset, from ledger.access; without a request in the
# context (the schema, the admin) the fields keep their querysets. No docstring, on purpose: the
# API schema describes a serializer by the first docstring of its classes, which stays the
# serializer's own (or the model serializer's).
class ScopedChoices(serializers.Serializer):
    scoped_choices: ClassVar[Mapping[str, Callable[[Scope], QuerySet]]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is None:
            return
        scope = request_scope(request)
        for name, choices in self.scoped_choices.items():
            cast(RelatedField, self.fields[name]).queryset = choices(scope)
