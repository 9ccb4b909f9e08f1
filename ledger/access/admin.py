"""The admin's scoped pages: what a page lists, and whether its user may add, change or delete,
follow the user's scope (ledger.access), never Django's model permissions."""

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from simple_history.admin import SimpleHistoryAdmin

from core.admin.base import ReadOnlyAdminMixin, SafeAdminMixin
from core.append_only import is_append_only
from ledger.access import Scope, request_scope


class ScopedAdminMixin(SafeAdminMixin):
    """Scope-based permissions in place of Django's model permissions."""

    scope_queryset: Callable[[Scope, QuerySet], QuerySet] | None = None  # from ledger.access

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        scope_queryset = type(self).scope_queryset
        if scope_queryset is not None:
            qs = scope_queryset(request_scope(request), qs)
        if qs.query.select_related and isinstance(self.list_select_related, list | tuple):
            # The changelist skips list_select_related when the queryset already follows some
            # relations (as several scope selectors do): join what the columns name here, or
            # every row costs a query.
            qs = qs.select_related(*self.list_select_related)
        return qs

    def has_module_permission(self, request):
        return (
            request.user.is_active and request.user.is_staff and not request_scope(request).is_empty
        )

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request, obj=None):
        return request_scope(request).can_write_any

    def has_change_permission(self, request, obj=None):
        scope = request_scope(request)
        if obj is None:
            return scope.can_write_any
        return self.writable(scope, obj)

    def has_delete_permission(self, request, obj=None):
        # Rows the database keeps for good (append-only tables) are never offered for deletion,
        # to anyone: the trigger would refuse it (a correction is a new row instead).
        return request_scope(request).superuser and not is_append_only(self.model)

    def writable(self, scope, obj) -> bool:
        return scope.superuser

    def get_form(self, request, obj=None, change=False, **kwargs):
        # The form knows its request: a ServiceForm records through a service as its user, with
        # its scope (ledger.access.request_scope).
        form: Any = super().get_form(request, obj, change=change, **kwargs)
        form.request = request
        return form


class ScopedAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    list_per_page = 50
    show_full_result_count = False

    def _scoped_object_or_404(self, request, object_id):
        obj = self.get_object(request, unquote(object_id))  # None if out of scope or malformed
        if obj is None:
            raise Http404
        return obj

    def history_view(self, request, object_id, extra_context=None):
        # simple-history falls back to history rows for objects the queryset does not show;
        # outside the caller's scope an object must not exist, history included.
        self._scoped_object_or_404(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # simple-history reads the version from the unscoped history table and, on POST, saves
        # it after checking only view permission: scope it, and keep it read-only unless
        # reverting is enabled and the caller may change the object.
        obj = self._scoped_object_or_404(request, object_id)
        if request.method not in ("GET", "HEAD") and (
            self.revert_disabled(request, obj) or not self.has_change_permission(request, obj)
        ):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


class SuperuserOnlyMixin:
    """A page only administrators see, whatever their scope."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)


class SuperuserOnlyAdmin(SuperuserOnlyMixin, ScopedAdmin):
    def has_add_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request)


class ReadOnlyAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    """A scoped page of rows nobody adds, changes or deletes here (the journal, deliveries)."""

    list_per_page = 100
    show_full_result_count = False


class ReadOnlyHistoryAdmin(ReadOnlyAdminMixin, ScopedAdmin):
    """A scoped page of rows nobody adds, changes or deletes here, with their history (reports)."""
