"""Kept apart from the views: DRF imports it while loading its own generic views."""

from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    """Cursor pages in id order: rows added while a client pages cannot shift its pages."""

    ordering = "id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
