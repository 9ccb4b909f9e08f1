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

    def get_schema_operation_parameters(self, view):
        # DRF reads `page_size` leniently: a larger value is cut to 500, and one that is not a
        # positive whole number is ignored (the page has 50 rows). The schema says just that,
        # rather than promising an integer the server would never hold a client to.
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "string"}
                parameter["description"] = (
                    f"Rows per page, up to {self.max_page_size} (larger values are cut to it). "
                    f"Any value but a positive whole number is ignored ({self.page_size} rows)."
                )
        return parameters

    def get_paginated_response_schema(self, schema):
        # DRF's example of `next` ends in a stray quote: not a URL a client could follow.
        response_schema = super().get_paginated_response_schema(schema)
        for name, cursor in (("next", "cD00ODY%3D"), ("previous", "cj0xJnA9NDg3")):
            response_schema["properties"][name]["example"] = (
                f"https://ledger.example.org/api/v1/payables/?{self.cursor_query_param}={cursor}"
            )
        return response_schema

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
