"""The API's scoped views: a viewset sees only the rows of the caller's scope."""

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from rest_framework import viewsets

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
