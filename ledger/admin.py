"""The staff admin for the registry, scoped exactly like the API (ledger.access).

Every page, filter, choice list and history view shows only what the signed-in user's scope
allows; an object outside it is a 404. Changes are saved through the model form (full_clean and
the database constraints) and recorded in history with the signed-in user. A production's
agreements and the engagement CSV import are guided pages of their own (admin_workflows).
"""

from django import forms
from django.contrib import admin
from django.contrib.admin.options import IS_POPUP_VAR, TO_FIELD_VAR, IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import (
    ALL_VAR,
    ERROR_FLAG,
    IS_FACETS_VAR,
    ORDER_VAR,
    PAGE_VAR,
    SEARCH_VAR,
)
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, models, transaction
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from rest_framework_api_key.admin import APIKeyModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from . import access, admin_workflows, api_keys, services
from . import scopes as api_scopes
from .admin_keys import KeyByPrefixAdminMixin
from .admin_pagination import CappedCountPaginator
from .append_only import is_append_only
from .errors import DomainError
from .form_fields import StrictDateFormField, StrictDecimalFormField, StrictSplitDateTimeFormField
from .models import (
    Agreement,
    Engagement,
    Guild,
    GuildStaff,
    Membership,
    PayrollKey,
    Person,
    Production,
    Studio,
    StudioStaff,
)
from .parsers import JSONFormField

admin.site.site_header = "Guild Ledger"
admin.site.site_title = "Guild Ledger"
admin.site.index_title = "Consent, compensation and payment records"


# The changelist's own query parameters (page, order, search, popup…): a list asked for with only
# these runs no lookup the caller wrote.
CHANGELIST_PARAMS = {ALL_VAR, ERROR_FLAG, IS_FACETS_VAR, IS_POPUP_VAR, ORDER_VAR, PAGE_VAR}
CHANGELIST_PARAMS |= {SEARCH_VAR, TO_FIELD_VAR}


def _scope(request):
    return access.request_scope(request)


class SafeLookupsMixin:
    """A list or autocomplete search whatever the query string holds: a clean page, or Django's
    own "?e=1" page for lookups the database cannot take (a NUL byte, a year past 9999, an
    invalid pattern, a number out of range), never a 500. Every admin page has it: ours through
    ScopedAdminMixin, the others' through harden_registered_admins()."""

    def get_search_results(self, request, queryset, search_term):
        # No text column holds a NUL byte (PostgreSQL refuses one in a query): nothing matches.
        if "\x00" in search_term:
            return queryset.none(), False
        return super().get_search_results(request, queryset, search_term)

    def get_changelist_instance(self, request):
        if any("\x00" in value for _, values in request.GET.lists() for value in values):
            raise IncorrectLookupParameters("A NUL byte in the query string.")
        if set(request.GET) <= CHANGELIST_PARAMS:
            return super().get_changelist_instance(request)
        try:
            with transaction.atomic():  # a refused query must not end the request's transaction
                return super().get_changelist_instance(request)
        except (DatabaseError, ValueError, OverflowError) as error:
            raise IncorrectLookupParameters(error) from error


def harden_registered_admins(site=admin.site) -> None:
    """Give SafeLookupsMixin to the admin pages other packages registered (users, groups,
    schedules, API keys): registered again as a subclass that has it."""
    for model, model_admin in list(site._registry.items()):
        cls = type(model_admin)
        if not isinstance(model_admin, SafeLookupsMixin):
            site.unregister(model)
            site.register(model, type(cls.__name__, (SafeLookupsMixin, cls), {}))


class ScopedAdminMixin(SafeLookupsMixin):
    """Scope-based permissions in place of Django's model permissions."""

    scope_queryset = None  # (scope, queryset) -> queryset
    paginator = CappedCountPaginator  # no page counts a whole big table
    # Amounts, dates and instants read as the API reads them (ledger.form_fields).
    formfield_overrides = {
        models.DecimalField: {"form_class": StrictDecimalFormField},
        models.DateField: {"form_class": StrictDateFormField},
        models.DateTimeField: {"form_class": StrictSplitDateTimeFormField},
    }

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if self.scope_queryset is not None:
            qs = type(self).scope_queryset(_scope(request), qs)
        if qs.query.select_related and isinstance(self.list_select_related, list | tuple):
            # The changelist skips list_select_related when the queryset already follows some
            # relations (as several scope selectors do): join what the columns name here, or
            # every row costs a query.
            qs = qs.select_related(*self.list_select_related)
        return qs

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
        # Rows the database keeps for good (append-only tables) are never offered for deletion,
        # to anyone: the trigger would refuse it (a correction is a new row instead).
        return _scope(request).superuser and not is_append_only(self.model)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.JSONField):
            kwargs.setdefault("form_class", JSONFormField)  # bounded nesting, no RecursionError
        return super().formfield_for_dbfield(db_field, request, **kwargs)

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


class RegistryServiceAdmin(ScopedAdmin):
    """A registry admin that writes through the same services as the API (`create_service`,
    `update_service`: names in ledger.services), so the same rules hold; the fields the API
    fixes after creation (`fixed_after_create`) are read-only on the change form. A refusal is
    a form error."""

    create_service = ""
    update_service = ""
    instance_kwarg = ""
    fixed_after_create: tuple[str, ...] = ()

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields += [name for name in self.fixed_after_create if name not in fields]
        return fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = RegistryServiceForm
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request = request
        form.model_admin = self
        return form

    def save_model(self, request, obj, form, change):
        pass  # written by the form's clean() through the service

    def save_related(self, request, form, formsets, change):
        pass


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
class StudioAdmin(RegistryServiceAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    scope_queryset = staticmethod(access.studios)
    create_service = "studio_create"
    update_service = "studio_update"
    instance_kwarg = "studio"

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

    def save_model(self, request, obj, form, change):
        # Through the services, as the API; the form has validated the person already, and
        # the memberships are the inline's (saved next, against the same row).
        if change:
            saved = services.person_update(actor=request.user, person=obj, **form.cleaned_data)
        else:
            saved = services.person_create(actor=request.user, **form.cleaned_data)
        obj.pk, obj._state.adding = saved.pk, False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "registered_by" and not _scope(request).superuser:
            kwargs["queryset"] = Studio.objects.filter(id__in=_scope(request).studio_ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Production)
class ProductionAdmin(RegistryServiceAdmin):
    list_display = ["title", "studio", "kind", "status", "start_date", "end_date"]
    list_filter = [("studio", admin.RelatedOnlyFieldListFilter), "kind", "status"]
    search_fields = ["title"]
    list_select_related = ["studio"]
    date_hierarchy = None
    scope_queryset = staticmethod(lambda scope, qs: access.productions(scope, qs).distinct())
    create_service = "production_create"
    update_service = "production_update"
    instance_kwarg = "production"
    fixed_after_create = services.PRODUCTION_FIXED

    def writable(self, scope, obj):
        return scope.can_write_studio(obj.studio_id)

    # Agreements are attached and detached in the change page's Agreements section, through
    # production_attach / production_detach (admin_workflows), not edited as inline rows.
    def get_urls(self):
        return [*admin_workflows.production_agreement_urls(self), *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        context = {
            **admin_workflows.agreements_context(self, request, object_id),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, context)

    def response_add(self, request, obj, post_url_continue=None):
        # A new production needs its agreements next: open its page, where they are attached.
        if "_addanother" in request.POST or IS_POPUP_VAR in request.POST:
            return super().response_add(request, obj, post_url_continue)
        self.message_user(request, f"{obj} was added. Attach its agreements below.")
        return redirect(reverse("admin:ledger_production_change", args=[obj.pk]) + "#agreements")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "studio" and not _scope(request).superuser:
            kwargs["queryset"] = Studio.objects.filter(id__in=_scope(request).studio_ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Engagement)
class EngagementAdmin(RegistryServiceAdmin):
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
    create_service = "engagement_create"
    update_service = "engagement_update"
    instance_kwarg = "engagement"
    fixed_after_create = services.ENGAGEMENT_FIXED

    def writable(self, scope, obj):
        return scope.can_write_studio(obj.production.studio_id)

    def get_urls(self):
        return [*admin_workflows.engagement_import_urls(self), *super().get_urls()]

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


class PayrollKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=api_scopes.CHOICES,
        widget=forms.CheckboxSelectMultiple,
        help_text="Only what the vendor needs: a key that reads payables need not pay them.",
    )

    class Meta:
        model = PayrollKey
        fields = ["name", "owner", "studios", "scopes", "expiry_date", "revoked"]

    def clean_scopes(self):
        chosen = set(self.cleaned_data["scopes"])
        return [name for name in api_scopes.ALL_SCOPES if name in chosen]


@admin.register(PayrollKey)
class PayrollKeyAdmin(KeyByPrefixAdminMixin, APIKeyModelAdmin, SuperuserOnlyAdmin):
    """Keys are shown once, on creation (the admin prints it in a message). Creating, changing
    and revoking one is a security event; a key is revoked, never deleted, so that what it did
    stays attributable. Its pages are addressed by the key's prefix, never its hash
    (admin_keys)."""

    form = PayrollKeyForm
    list_display = [*APIKeyModelAdmin.list_display, "owner", "scope_list"]
    filter_horizontal = ["studios"]

    @admin.display(description="scopes")
    def scope_list(self, obj):
        return " ".join(obj.scopes)

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and obj.revoked:
            fields += ("owner", "studios", "scopes")
        return fields

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change:
            api_keys.key_changed(actor=request.user, key=obj, changed=list(form.changed_data))

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not change:  # after its studios are set, so the event describes the whole key
            api_keys.key_created(actor=request.user, key=form.instance)


def label_split_inputs(form):
    """Name each input of a split field (the admin's date and time of a datetime), which the
    field's one <label> cannot point at, so that screen readers and browser tests find it."""
    for field in form.fields.values():
        parts = getattr(field.widget, "widgets", None)
        if not parts:
            continue
        names = ("date", "time") if len(parts) == 2 else range(1, len(parts) + 1)
        for widget, name in zip(parts, names, strict=False):
            widget.attrs.setdefault("aria-label", f"{field.label} ({name})")


class ServiceForm(forms.ModelForm):
    """An add form whose clean() records the object through its service, so that a refusal
    becomes a form error and nothing is written. `request` is set by the admin's get_form."""

    request = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        label_split_inputs(self)

    def record(self, data):
        raise NotImplementedError

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        # Adding, an empty field means "the service's default"; changing, it clears the value.
        values = (
            dict(data)
            if self.instance.pk
            else {k: v for k, v in data.items() if v not in (None, "")}
        )
        try:
            self.instance = self.record(values)
        except DomainError as error:
            for field, message in (error.fields or {}).items():
                if field in self.fields:
                    self.add_error(field, str(message))
            raise forms.ValidationError(error.message) from error
        except DjangoValidationError as error:
            # The service's full_clean: messages of fields not on this form (fixed ones, shown
            # read-only) become form-wide errors instead of failing the page.
            for field, messages in getattr(error, "message_dict", {"": error.messages}).items():
                self.add_error(field if field in self.fields else None, messages)
            raise forms.ValidationError("Please correct the errors below.") from error
        return data

    def _post_clean(self):
        pass  # the service validated and saved the instance

    def save(self, commit=True):
        return self.instance


class RegistryServiceForm(ServiceForm):
    """The form of a RegistryServiceAdmin: adds with its `create_service`, changes with its
    `update_service` (set by the admin's get_form, with `request`)."""

    model_admin = None

    def record(self, data):
        admin_ = self.model_admin
        if self.instance.pk:
            return getattr(services, admin_.update_service)(
                actor=self.request.user, **{admin_.instance_kwarg: self.instance}, **data
            )
        return getattr(services, admin_.create_service)(actor=self.request.user, **data)


# The admin pages of the packages installed before this app are registered by now.
harden_registered_admins()

from . import journal_admin  # noqa: E402,F401  (registers the journal's admin pages)
