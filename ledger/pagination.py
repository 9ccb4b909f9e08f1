"""Kept apart from the views: DRF imports it while loading its own generic views."""

from django.core.exceptions import FieldDoesNotExist, ValidationError
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    """Cursor pages in id order: rows added while a client pages cannot shift its pages."""

    ordering = "id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def paginate_queryset(self, queryset, request, view=None):
        # A cursor is client input: its position must be a value of the ordering field, or the
        # queryset filter raises (ValueError, a 500) instead of answering "Invalid cursor".
        cursor = self.decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            name = self.get_ordering(request, queryset, view)[0].lstrip("-")
            try:
                field = queryset.model._meta.get_field(name)
            except FieldDoesNotExist:
                field = None
            if field is not None:
                try:
                    field.get_prep_value(field.to_python(cursor.position))
                except (TypeError, ValueError, ValidationError):
                    raise NotFound(self.invalid_cursor_message) from None
        return super().paginate_queryset(queryset, request, view)
