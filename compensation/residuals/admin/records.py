"""Exhibitions and writing credits in the staff admin, scoped like the API: listed by production,
market and period; recorded and corrected through their services (so a form refuses exactly what
the API refuses); imported from CSV (the whole file or nothing, every faulty row listed)."""

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from compensation.admin import ImportForm, RecordAdmin
from compensation.models import Exhibition, WritingCredit
from core.admin.base import ServiceForm, ServiceSavedMixin, admin_path
from core.errors import DomainError
from ledger import access
from ledger.access.admin import ScopedAdmin

from .. import exhibitions, selectors

# --- exhibitions ----------------------------------------------------------------------------


class ExhibitionForm(ServiceForm):
    class Meta:
        model = Exhibition
        fields = list(exhibitions.EXHIBITION_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "territory" in self.fields:
            self.fields["territory"].required = False  # high-budget SVOD: worldwide

    def record(self, data):
        return exhibitions.exhibition_save(
            actor=self.request.user,
            exhibition=self.instance if self.instance.pk else None,
            **data,
        )


@admin.register(Exhibition)
class ExhibitionAdmin(ServiceSavedMixin, ScopedAdmin):
    """Exhibitions by production, market and period, with a CSV import page beside the list."""

    list_display = [
        "production",
        "episode",
        "market",
        "territory",
        "period_from",
        "period_to",
        "service",
        "exhibition_year",
        "gross_receipts",
    ]
    list_filter = ["market", ("production", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["production__title", "episode", "service"]
    date_hierarchy = "period_from"
    list_select_related = ["production"]
    raw_id_fields = ["production"]
    scope_queryset = staticmethod(selectors.exhibitions)
    change_list_template = "admin/change_list_with_import.html"
    form = ExhibitionForm
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "production",
                    "episode",
                    "work_type",
                    "running_minutes",
                    "market",
                    "territory",
                    "period_from",
                    "period_to",
                ]
            },
        ),
        (
            "High-budget SVOD",
            {
                "fields": [
                    "service",
                    "subscriber_tier",
                    "exhibition_year",
                    "views_first_90_days",
                    "hours_streamed_first_90_days",
                    "domestic_subscribers",
                ],
                "description": "For the success bonus: views or hours streamed in the first 90 "
                "days (one of them), with the service's domestic subscribers as of July 1.",
            },
        ),
        (
            "Revenue markets",
            {
                "fields": ["gross_receipts", "broadcast_on", "first_period"],
                "description": "Network TV needs its broadcast date; the first period applies to "
                "supplemental markets only.",
            },
        ),
    ]

    def writable(self, scope, obj) -> bool:
        return scope.can_write_studio(obj.production.studio_id)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "production":
            kwargs["queryset"] = access.writable_productions(access.request_scope(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["production"]  # an exhibition stays with its production

    def get_urls(self):
        return [admin_path(self, "import/", self.import_view, "import"), *super().get_urls()]

    def import_view(self, request):
        scope = access.request_scope(request)
        if not scope.can_write_any:
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        errors: list[Any] = []
        if request.method == "POST" and form.is_valid():
            try:
                text = form.cleaned_data["file"].read().decode("utf-8-sig")
                result = exhibitions.exhibitions_import(
                    actor=request.user, text=text, productions=access.writable_productions(scope)
                )
            except UnicodeDecodeError:
                form.add_error("file", "The file is not UTF-8 text.")
            except DomainError as error:
                form.add_error(None, error.message)
                errors = error.fields.get("rows", []) or [
                    {"row": "", "message": m} for m in error.fields.get("file", [])
                ]
            else:
                self.message_user(
                    request,
                    f"Imported: {result.created} new, {result.updated} corrected.",
                    messages.SUCCESS,
                )
                return redirect(reverse("admin:compensation_exhibition_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Import exhibitions from CSV",
            "opts": self.model._meta,
            "form": form,
            "errors": errors,
            "columns": exhibitions.EXHIBITION_COLUMNS,
        }
        return TemplateResponse(request, "admin/compensation/import.html", context)


# --- writing credits ------------------------------------------------------------------------


class WritingCreditForm(ServiceForm):
    class Meta:
        model = WritingCredit
        fields = ["engagement", "episode", "credit"]

    def record(self, data):
        instance = self.instance if self.instance.pk else None
        return exhibitions.credit_save(
            actor=self.request.user,
            credit=instance,
            engagement=data.get("engagement") or self.instance.engagement,
            episode=data.get("episode") or "",
            credit_kind=data.get("credit") or "",
        )


@admin.register(WritingCredit)
class WritingCreditAdmin(RecordAdmin):
    """Writers' credits on a production's works, recorded through the service (a WGA engagement,
    one credit per work), with a CSV import page beside the list."""

    list_display = ["engagement", "episode", "credit"]
    list_filter = ["credit", ("engagement__production", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["engagement__person__legal_name", "engagement__person__professional_name"]
    scope_queryset = staticmethod(selectors.credits)
    import_service = staticmethod(exhibitions.credits_import)
    import_columns = exhibitions.CREDIT_COLUMNS
    form = WritingCreditForm

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["engagement"]  # a credit stays with its writer
