"""The admin's base pieces that know nothing of scope: lookups that never fail, strict form
fields, a capped paginator, read-only pages and inlines, an admin's own named pages, and the form
that saves through a service."""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from django import forms
from django.contrib import admin
from django.contrib.admin.options import IS_POPUP_VAR, TO_FIELD_VAR, IncorrectLookupParameters
from django.contrib.admin.views.main import (  # type: ignore[attr-defined]
    ALL_VAR,
    ERROR_FLAG,
    IS_FACETS_VAR,  # Django 5.0's, missing from django-stubs (hence the ignore)
    ORDER_VAR,
    PAGE_VAR,
    SEARCH_VAR,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, models, transaction
from django.http import Http404
from django.urls import URLPattern, path

from core.admin.form_fields import (
    StrictDateFormField,
    StrictDecimalFormField,
    StrictSplitDateTimeFormField,
)
from core.admin.pagination import CappedCountPaginator, cap_counts
from core.api.parsers import JSONFormField
from core.errors import DomainError

# The changelist's own query parameters (page, order, search, popup…): a list asked for with only
# these runs no lookup the caller wrote.
CHANGELIST_PARAMS = {ALL_VAR, ERROR_FLAG, IS_FACETS_VAR, IS_POPUP_VAR, ORDER_VAR, PAGE_VAR}
CHANGELIST_PARAMS |= {SEARCH_VAR, TO_FIELD_VAR}

if TYPE_CHECKING:
    # The mixins below only ever join a ModelAdmin; the type checker reads them as one.
    _AdminBase = admin.ModelAdmin[Any]
else:
    _AdminBase = object


class SafeLookupsMixin(_AdminBase):
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


class SafeAdminMixin(SafeLookupsMixin):
    """What every admin page of ours has, whoever may see it: lookups that cannot fail, a
    paginator that never counts a whole table, form fields that read text as the API does, and a
    404 (not a redirect) for an object that is not there."""

    paginator: ClassVar[type] = CappedCountPaginator  # no page counts a whole big table
    # Amounts, dates and instants read as the API reads them (core.admin.form_fields).
    formfield_overrides: ClassVar[Mapping[type[models.Field], Mapping[str, Any]]] = {
        models.DecimalField: {"form_class": StrictDecimalFormField},
        models.DateField: {"form_class": StrictDateFormField},
        models.DateTimeField: {"form_class": StrictSplitDateTimeFormField},
    }

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.JSONField):
            kwargs.setdefault("form_class", JSONFormField)  # bounded nesting, no RecursionError
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Django redirects the change, delete and history pages of a missing object to the
        # index; outside the caller's scope (as for a missing object) the admin answers 404.
        raise Http404


class NoAddOrChangeMixin:
    """Rows a page shows but never adds or changes (a service records them, or nobody does)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyAdminMixin(NoAddOrChangeMixin):
    """A page of rows nobody adds, changes or deletes there."""

    def has_delete_permission(self, request, obj=None):
        return False


class ServiceSavedMixin:
    """An admin whose form records the object through its service (ServiceForm.clean): the
    admin's own save has nothing left to write."""

    def save_model(self, request, obj, form, change):
        pass

    def save_related(self, request, form, formsets, change):
        pass


class ReadOnlyInline(NoAddOrChangeMixin, admin.TabularInline):
    """Rows shown under their parent, never added, changed or deleted there."""

    extra = 0
    can_delete = False


def admin_path(model_admin: "admin.ModelAdmin[Any]", route: str, view, action: str) -> URLPattern:
    """One of an admin's own pages, behind the admin's login, named as Django names its own:
    `<app>_<model>_<action>` (reversed as "admin:<app>_<model>_<action>")."""
    opts = model_admin.model._meta
    return path(
        route,
        model_admin.admin_site.admin_view(view),
        name=f"{opts.app_label}_{opts.model_name}_{action}",
    )


def site_ready(site=admin.site) -> None:
    """Once every app's admin is registered (config/urls.py, after the schedules' own pages,
    core.admin.beat): the other packages' pages (users, groups, schedules, API keys) get safe
    lookups and the capped paginator too."""
    harden_registered_admins(site)
    cap_counts(site)


def harden_registered_admins(site=admin.site) -> None:
    """Give SafeLookupsMixin to the admin pages other packages registered (users, groups,
    schedules, API keys): registered again as a subclass that has it."""
    for model, model_admin in list(site._registry.items()):
        cls = type(model_admin)
        if not isinstance(model_admin, SafeLookupsMixin):
            site.unregister(model)
            site.register(model, type(cls.__name__, (SafeLookupsMixin, cls), {}))


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


def add_field_errors(form: forms.BaseForm, error: DomainError) -> None:
    """A service's refusal on a form: each field's message on that field, where the form has it."""
    for field, message in (error.fields or {}).items():
        if field in form.fields:
            form.add_error(field, str(message))


class ServiceForm(forms.ModelForm):
    """An add form whose clean() records the object through its service, so that a refusal
    becomes a form error and nothing is written. `request` is set by the admin's get_form."""

    request: Any = None  # the admin's HttpRequest

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        label_split_inputs(self)

    def record(self, data):
        raise NotImplementedError

    def clean(self):
        data = super().clean()
        if data is None or self.errors:
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
            add_field_errors(self, error)
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
