"""The staff admin for the registry, scoped exactly like the API (ledger.access).

Every page, filter, choice list and history view shows only what the signed-in user's scope
allows; an object outside it is a 404. Changes are saved through the model form (full_clean and
the database constraints) and recorded in history with the signed-in user.
"""

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework_api_key.admin import APIKeyModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from . import access
from .errors import DomainError
from .models import (
    Agreement,
    Engagement,
    Guild,
    GuildStaff,
    Membership,
    PayrollKey,
    Person,
    Production,
    ProductionAgreement,
    Studio,
    StudioStaff,
)

admin.site.site_header = "Guild Ledger"
admin.site.site_title = "Guild Ledger"
admin.site.index_title = "Consent, compensation and payment records"


def _scope(request):
    return access.request_scope(request)


class ScopedAdminMixin:
    """Scope-based permissions in place of Django's model permissions."""

    scope_queryset = None  # (scope, queryset) -> queryset

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if self.scope_queryset is None:
            return qs
        return type(self).scope_queryset(_scope(request), qs)

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff and not _scope(request).is_empty

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request, obj=None):
        return _scope(request).can_write_any

    def has_change_permission(self, request, obj=None):
        scope = _scope(request)
        if obj is None:
            return scope.can_write_any
        return self.writable(scope, obj)

    def has_delete_permission(self, request, obj=None):
        return _scope(request).superuser

    def writable(self, scope, obj) -> bool:
        return scope.superuser

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Django redirects the change, delete and history pages of a missing object to the
        # index; outside the caller's scope (as for a missing object) the admin answers 404.
        raise Http404


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


class SuperuserOnlyAdmin(ScopedAdmin):
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request)


class ReferenceDataAdmin(ScopedAdmin):
    """Guilds and agreements: every staff user reads them; administrators change them."""

    def has_add_permission(self, request, obj=None):
        return _scope(request).superuser

    def has_change_permission(self, request, obj=None):
        return _scope(request).superuser


@admin.register(Guild)
class GuildAdmin(ReferenceDataAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Agreement)
class AgreementAdmin(ReferenceDataAdmin):
    list_display = ["code", "name", "guild", "effective_from", "effective_to", "tier"]
    list_filter = ["guild", "tier"]
    search_fields = ["code", "name"]
    list_select_related = ["guild"]


@admin.register(Studio)
class StudioAdmin(ScopedAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    scope_queryset = staticmethod(access.studios)

    def has_add_permission(self, request, obj=None):
        return _scope(request).superuser


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = []

    def has_add_permission(self, request, obj=None):
        return obj is None or access.person_writable(_scope(request), obj)

    def has_change_permission(self, request, obj=None):
        return obj is None or access.person_writable(_scope(request), obj)

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)

    def has_view_permission(self, request, obj=None):
        return True


@admin.register(Person)
class PersonAdmin(ScopedAdmin):
    list_display = [
        "legal_name",
        "professional_name",
        "payroll_ref",
        "registered_by",
        "is_deceased",
    ]
    list_filter = [("registered_by", admin.RelatedOnlyFieldListFilter), "is_deceased"]
    search_fields = ["legal_name", "professional_name", "payroll_ref", "memberships__member_number"]
    list_select_related = ["registered_by"]
    inlines = [MembershipInline]
    scope_queryset = staticmethod(lambda scope, qs: access.people(scope, qs).distinct())

    def writable(self, scope, obj):
        return access.person_writable(scope, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "registered_by" and not _scope(request).superuser:
            kwargs["queryset"] = Studio.objects.filter(id__in=_scope(request).studio_ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class AttachmentFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        for form in self.deleted_forms:
            attachment = form.instance
            if (
                attachment.pk
                and Engagement.objects.filter(
                    production_id=attachment.production_id, agreement_id=attachment.agreement_id
                ).exists()
            ):
                raise forms.ValidationError(
                    f"{attachment.agreement} cannot be detached: engagements are under it."
                )


class AttachmentInline(admin.TabularInline):
    model = ProductionAgreement
    formset = AttachmentFormSet
    extra = 0
    fields = ["agreement", "attached_at"]
    readonly_fields = ["attached_at"]

    def _writable(self, request, obj):
        return obj is None or _scope(request).can_write_studio(obj.studio_id)

    def has_add_permission(self, request, obj=None):
        return self._writable(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._writable(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._writable(request, obj)

    def has_view_permission(self, request, obj=None):
        return True


@admin.register(Production)
class ProductionAdmin(ScopedAdmin):
    list_display = ["title", "studio", "kind", "status", "start_date", "end_date"]
    list_filter = [("studio", admin.RelatedOnlyFieldListFilter), "kind", "status"]
    search_fields = ["title"]
    list_select_related = ["studio"]
    date_hierarchy = None
    inlines = [AttachmentInline]
    scope_queryset = staticmethod(lambda scope, qs: access.productions(scope, qs).distinct())

    def writable(self, scope, obj):
        return scope.can_write_studio(obj.studio_id)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "studio" and not _scope(request).superuser:
            kwargs["queryset"] = Studio.objects.filter(id__in=_scope(request).studio_ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Engagement)
class EngagementAdmin(ScopedAdmin):
    list_display = [
        "person",
        "production",
        "agreement",
        "classification",
        "rate_amount",
        "rate_unit",
        "rate_currency",
        "start_date",
    ]
    list_filter = [
        ("production", admin.RelatedOnlyFieldListFilter),
        "agreement",
        "classification",
        "rate_unit",
    ]
    search_fields = ["person__legal_name", "person__professional_name", "production__title"]
    list_select_related = ["person", "production", "agreement"]
    scope_queryset = staticmethod(access.engagements)

    def writable(self, scope, obj):
        return scope.can_write_studio(obj.production.studio_id)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        scope = _scope(request)
        if not scope.superuser:
            if db_field.name == "production":
                kwargs["queryset"] = Production.objects.filter(studio_id__in=scope.studio_ids)
            elif db_field.name == "person":
                kwargs["queryset"] = access.people(scope)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(StudioStaff)
class StudioStaffAdmin(SuperuserOnlyAdmin):
    list_display = ["user", "studio"]
    list_filter = ["studio"]
    search_fields = ["user__username", "user__email"]


@admin.register(GuildStaff)
class GuildStaffAdmin(SuperuserOnlyAdmin):
    list_display = ["user", "guild"]
    list_filter = ["guild"]
    search_fields = ["user__username", "user__email"]


@admin.register(PayrollKey)
class PayrollKeyAdmin(APIKeyModelAdmin, SuperuserOnlyAdmin):
    """Keys are shown once, on creation (the admin prints it in a message)."""

    list_display = [*APIKeyModelAdmin.list_display, "owner"]
    filter_horizontal = ["studios"]


class ServiceForm(forms.ModelForm):
    """An add form whose clean() records the object through its service, so that a refusal
    becomes a form error and nothing is written. `request` is set by the admin's get_form."""

    request = None

    def record(self, data):
        raise NotImplementedError

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        values = {k: v for k, v in data.items() if v not in (None, "")}
        try:
            self.instance = self.record(values)
        except DomainError as error:
            for field, message in (error.fields or {}).items():
                if field in self.fields:
                    self.add_error(field, str(message))
            raise forms.ValidationError(error.message) from error
        return data

    def _post_clean(self):
        pass  # the service validated and saved the instance

    def save(self, commit=True):
        return self.instance


from . import journal_admin  # noqa: E402,F401  (registers the journal's admin pages)
