"""The API's scoped views: a viewset sees only the rows of the caller's scope."""

from django.http import Http404
from rest_framework import viewsets

from ledger.access import request_scope


class ScopedViewSet(viewsets.GenericViewSet):
    """A viewset whose queryset is cut to the caller's scope by `scope_queryset`."""

    scope_queryset = None  # a function (scope, queryset) -> queryset, from ledger.access

    @property
    def scope(self):
        return request_scope(self.request)

    def get_queryset(self):
        return type(self).scope_queryset(self.scope, super().get_queryset())

    def get_object(self):
        # No row has a NUL in its id or code; PostgreSQL refuses such a literal (DataError, a
        # 400 on PostgreSQL and a 404 on SQLite), so answer 404 before querying.
        lookup = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field)
        if isinstance(lookup, str) and "\x00" in lookup:
            raise Http404
        return super().get_object()
