"""The privacy desk in the admin: export and erase actions on people (administrators only, as
over the API), and the read-only records of every export and erasure."""

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.http import HttpResponse
from django.template.response import TemplateResponse

from core.admin import display
from core.admin.base import ReadOnlyAdminMixin, SafeLookupsMixin
from core.errors import DomainError
from ledger.models import Person
from ledger.registry.admin import PersonAdmin

from .models import ErasureRecord, ExportRecord
from .services import REASON_MAX, person_erase, person_export_take


class EraseForm(forms.Form):
    reason = forms.CharField(
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="The request and its legal basis. Kept on the record: name no one.",
    )


def _is_officer(request) -> bool:
    return request.user.is_active and request.user.is_superuser


class PrivacyPersonAdmin(PersonAdmin):
    # The stubs declare ModelAdmin.actions per instance; here it is the parent's class list.
    actions = [*(PersonAdmin.actions or []), "export_personal_data", "erase_personal_data"]  # type: ignore[misc]

    def has_dpo_permission(self, request):
        return _is_officer(request)

    def _one(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one person.", messages.ERROR)
            return None
        return queryset.get()

    @admin.action(description="Export personal data (JSON)", permissions=["dpo"])
    def export_personal_data(self, request, queryset):
        person = self._one(request, queryset)
        if person is None:
            return None
        export, record = person_export_take(person=person, actor=request.user)
        body = json.dumps(export, indent=2, sort_keys=True, ensure_ascii=False)
        response = HttpResponse(body, content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="person-{person.pk}-export.json"'
        response["X-Export-SHA256"] = record.sha256
        return response

    @admin.action(description="Erase personal data…", permissions=["dpo"])
    def erase_personal_data(self, request, queryset):
        person = self._one(request, queryset)
        if person is None:
            return None
        form = EraseForm(request.POST if "confirm" in request.POST else None)
        if form.is_valid():
            try:
                record = person_erase(
                    person=person, actor=request.user, reason=form.cleaned_data["reason"]
                )
            except DomainError as refusal:
                self.message_user(request, f"{refusal.code}: {refusal.message}", messages.ERROR)
                return None
            self.message_user(
                request, f"Person #{person.pk} erased; they are now {record.pseudonym}."
            )
            return None
        return TemplateResponse(
            request,
            "admin/privacy/erase_confirm.html",
            {
                **self.admin_site.each_context(request),
                "title": "Erase personal data",
                "person": person,
                "form": form,
                "opts": self.model._meta,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )


admin.site.unregister(Person)
admin.site.register(Person, PrivacyPersonAdmin)


class PrivacyRecordAdmin(ReadOnlyAdminMixin, SafeLookupsMixin, admin.ModelAdmin):
    """Records are written by the services only and never changed."""

    def has_module_permission(self, request):
        return _is_officer(request)

    def has_view_permission(self, request, obj=None):
        return _is_officer(request)


ERASURE_JSON = {"changed", "history_changed", "reports_rewritten", "retained"}


@admin.register(ErasureRecord)
class ErasureRecordAdmin(PrivacyRecordAdmin):
    list_display = ["erased_at", "person", "actor", "evidence_files_deleted", "export_sha256"]
    exclude = sorted(ERASURE_JSON)  # shown in words (the *_shown methods)
    readonly_fields = [
        f"{f.name}_shown" if f.name in ERASURE_JSON else f.name for f in ErasureRecord._meta.fields
    ]

    @admin.display(description="changed")
    def changed_shown(self, obj):
        return display.structured(obj.changed)

    @admin.display(description="history changed")
    def history_changed_shown(self, obj):
        return display.structured(obj.history_changed)

    @admin.display(description="reports rewritten")
    def reports_rewritten_shown(self, obj):
        return display.structured(obj.reports_rewritten)

    @admin.display(description="retained")
    def retained_shown(self, obj):
        return display.structured(obj.retained)


@admin.register(ExportRecord)
class ExportRecordAdmin(PrivacyRecordAdmin):
    list_display = ["exported_at", "person", "actor", "sha256"]
    readonly_fields = [f.name for f in ExportRecord._meta.fields]
