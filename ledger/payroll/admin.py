"""Payroll API keys in the admin, addressed by their public prefix, never by their hash.

A key's primary key is `<prefix>.<hash of the key>` (djangorestframework-api-key): a URL, a link
or a form value carrying it would put the hash in browser history, server logs and Referer
headers. The admin's pages of a key (change, history, one version, delete) take its prefix
instead, through a URL converter whose `to_url` turns a primary key into its prefix, so that every
link the admin builds names the prefix: the list, the change page's tools, the history, a
read-only field of another model that points at a key, "recent actions". The pop-up pages and the
autocomplete, which answer with primary keys, are not offered for keys (no form picks a key).
"""

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.urls import URLPattern, path, register_converter
from rest_framework_api_key.admin import APIKeyModelAdmin

from core.api import scopes as api_scopes
from ledger.access.admin import SuperuserOnlyAdmin
from ledger.models import PayrollKey
from ledger.payroll import keys as api_keys

if TYPE_CHECKING:
    # The mixin joins a history admin: its views are simple-history's (an untyped package).
    from simple_history.admin import SimpleHistoryAdmin as _KeyAdminBase
else:
    _KeyAdminBase = object

CONVERTER = "payroll_key_prefix"


class KeyPrefixConverter:
    """A key's prefix in a URL; given a primary key (`prefix.hash`), writes only the prefix."""

    regex = "[0-9A-Za-z]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value) -> str:
        return str(value).partition(".")[0]


register_converter(KeyPrefixConverter, CONVERTER)


class KeyByPrefixAdminMixin(_KeyAdminBase):
    actions: Sequence[Any] | None = None  # no action checkboxes, whose values would be primary keys

    def get_urls(self):
        urls = []
        for pattern in super().get_urls():
            route = str(pattern.pattern)
            if isinstance(pattern, URLPattern) and (pattern.name or "").endswith("_simple_history"):
                route = f"<{CONVERTER}:object_id>/history/<str:version_id>/"
            elif "<path:object_id>" in route:
                route = route.replace("<path:object_id>", f"<{CONVERTER}:object_id>")
            else:
                urls.append(pattern)
                continue
            urls.append(path(route, pattern.callback, pattern.default_args, name=pattern.name))
        return urls

    def get_object(self, request, object_id, from_field=None):
        # By prefix; a primary key given by the admin's own code is reduced to its prefix.
        prefix = str(object_id).partition(".")[0]
        return self.get_queryset(request).filter(prefix=prefix).first() if prefix else None

    def _key_or_404(self, request, object_id):
        obj = self.get_object(request, object_id)
        if obj is None:
            raise Http404
        return obj

    def history_view(self, request, object_id, extra_context=None):
        obj = self._key_or_404(request, object_id)
        return super().history_view(request, quote(obj.pk), extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        obj = self._key_or_404(request, object_id)
        return super().history_form_view(request, obj.pk, version_id, extra_context)

    def changelist_view(self, request, extra_context=None):
        self._refuse_popup(request)
        return super().changelist_view(request, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        self._refuse_popup(request)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_search_results(self, request, queryset, search_term):
        match = getattr(request, "resolver_match", None)
        if match is not None and match.url_name == "autocomplete":
            return queryset.none(), False  # its answer would name each key by primary key
        return super().get_search_results(request, queryset, search_term)

    @staticmethod
    def _refuse_popup(request):
        if IS_POPUP_VAR in request.GET or IS_POPUP_VAR in request.POST:
            raise PermissionDenied  # a pop-up answers its opener with the primary key


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
    (KeyByPrefixAdminMixin)."""

    form = PayrollKeyForm
    # The library's list_display is typed as its own six-column tuple.
    list_display = [*APIKeyModelAdmin.list_display, "owner", "scope_list"]  # type: ignore[assignment]
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

    # APIKeyModelAdmin types obj by the abstract key model; this admin's rows are PayrollKeys.
    def save_model(  # type: ignore[override]
        self, request: HttpRequest, obj: PayrollKey, form: Any, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        if change:
            api_keys.key_changed(actor=request.user, key=obj, changed=list(form.changed_data))

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not change:  # after its studios are set, so the event describes the whole key
            api_keys.key_created(actor=request.user, key=form.instance)
