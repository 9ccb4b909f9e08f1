"""Residual schedules in the staff admin: the list of schedules as loaded (every staff user reads
them), a schedule's page with its figures as tables (work type, minutes and base; tier and
factor; exhibition year, territory and percentage; market, territory and percentage) and a link
to the file as loaded, and the "Load a residual schedule" page: the form, checked whole by
compensation.residuals.schedules (every faulty row listed), and the CSV template to start from.
Rows are never changed or deleted: a correction is a new version."""

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from compensation.api import MAX_UPLOAD_BYTES
from compensation.models import ResidualSchedule
from compensation.residuals import schedules, selectors
from compensation.rules.residuals.schedule import Schedule
from core import csv_safe
from core.admin import display
from core.admin.base import ServiceForm, ServiceSavedMixin, admin_path
from core.errors import DomainError
from ledger.access import request_scope
from ledger.access.admin import ScopedAdminMixin

FORM_FIELDS = ["agreement", "name", "effective_from", "source", "tier", "currency", "due_rule"]
FIGURES = ["bases", "subscriber_factors", "exhibition_years", "gross_receipts"]
FILE_FIELDS = ["file_name", "file_format", "sha256", "file_as_loaded"]


class ResidualScheduleLoadForm(ServiceForm):
    file = forms.FileField(
        help_text="CSV with the header kind,key,value (see the template), or JSON: {bases, "
        "subscriber_factors, exhibition_year_percent, gross_receipts_percent}. Every figure is a "
        "decimal string."
    )
    file_format = forms.ChoiceField(
        choices=[
            ("", "By the file's name (.json: JSON, else CSV)"),
            *ResidualSchedule.Format.choices,
        ],
        required=False,
    )

    class Meta:
        model = ResidualSchedule
        fields = FORM_FIELDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.request is not None and "agreement" in self.fields:
            field: Any = self.fields["agreement"]
            field.queryset = schedules.loadable_agreements(request_scope(self.request))

    def record(self, data: dict[str, Any]) -> ResidualSchedule:
        upload = data.pop("file")
        file_format = data.pop("file_format", None)
        schedules.check_may_load(request_scope(self.request), data["agreement"])
        if upload.size > MAX_UPLOAD_BYTES:
            raise DomainError(f"At most {MAX_UPLOAD_BYTES} bytes.", fields={"file": "Too large."})
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise DomainError(
                "The file is not UTF-8 text.", fields={"file": "Not UTF-8."}
            ) from None
        name = upload.name or "schedule"
        try:
            return schedules.schedule_load(
                actor=self.request.user,
                file_name=name,
                file_format=file_format or ("json" if name.lower().endswith(".json") else "csv"),
                content=text,
                **data,
            )
        except DomainError as error:
            problems = error.fields.get("file")
            if not isinstance(problems, list):
                raise
            # Every faulty row under the file, one message each (not the list as one text).
            self.add_error("file", problems)
            raise DomainError("The residual schedule was not loaded.", code=error.code) from error


def _table(headings: tuple[str, ...], rows: list[tuple[Any, ...]]) -> SafeString | str:
    if not rows:
        return display.NONE
    cells = "".join("<td>{}</td>" for _ in headings)
    return format_html(
        "<table><tr>{}</tr>{}</table>",
        format_html_join("", "<th>{}</th>", ((h,) for h in headings)),
        format_html_join("", f"<tr>{cells}</tr>", rows),
    )


def _number(value: Any) -> str:
    return f"{value:f}"


@admin.register(ResidualSchedule)
class ResidualScheduleAdmin(ServiceSavedMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "version",
        "agreement",
        "effective_from",
        "tier",
        "currency",
        "loaded_by",
        "loaded_at",
    ]
    list_filter = ["agreement"]
    search_fields = ["name", "source", "sha256"]
    list_select_related = ["agreement", "loaded_by"]
    list_per_page = 50
    show_full_result_count = False
    scope_queryset = staticmethod(selectors.schedules)
    detail_fields = [
        "agreement",
        "name",
        "version",
        "effective_from",
        "source",
        "tier",
        "currency",
        "due_rule_label",
        "loaded_by",
        "loaded_at",
    ]

    def has_add_permission(self, request, obj=None):
        return schedules.can_load_any(request_scope(request))

    def has_change_permission(self, request, obj=None):
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ResidualScheduleLoadForm
            kwargs["fields"] = FORM_FIELDS
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": [*FORM_FIELDS, "file", "file_format"]})]
        return [
            (None, {"fields": self.detail_fields}),
            ("Figures", {"fields": FIGURES}),
            ("File as loaded", {"fields": FILE_FIELDS}),
        ]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else [*self.detail_fields, *FIGURES, *FILE_FIELDS]

    def get_urls(self):
        return [
            admin_path(self, "template/", self.template_view, "template"),
            admin_path(self, "<path:object_id>/file/", self.file_view, "file"),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        context = {
            "title": "Load a residual schedule",
            "template_url": reverse("admin:compensation_residualschedule_template"),
            **(extra_context or {}),
        }
        return super().add_view(request, form_url, context)

    def template_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return csv_safe.download(schedules.SCHEDULE_TEMPLATE_CSV, schedules.TEMPLATE_FILE_NAME)

    def file_view(self, request, object_id):
        """The file exactly as it was loaded (its SHA-256 is on the schedule's page)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        row = self.get_object(request, unquote(object_id))
        if row is None:
            raise Http404
        kind = "application/json" if row.file_format == "json" else "text/csv"
        response = HttpResponse(row.content, content_type=f"{kind}; charset=utf-8")
        safe_name = "".join(c for c in row.file_name if c.isalnum() or c in "._-") or "schedule"
        response["Content-Disposition"] = f'attachment; filename="{safe_name}"'
        return response

    # --- the figures, as tables --------------------------------------------------------------

    def _engine(self, obj: ResidualSchedule) -> Schedule:
        return schedules.to_engine(obj)

    @admin.display(description="due dates of the HBSVOD residual")
    def due_rule_label(self, obj: ResidualSchedule) -> str:
        if not obj.due_rule:
            return "as supplemental markets (no due rule given)"
        return f"as {display.words(obj.due_rule)}"

    @admin.display(description="residual bases")
    def bases(self, obj: ResidualSchedule) -> SafeString | str:
        schedule = self._engine(obj)
        rows = [
            (work_type, f"up to {minutes}", _number(amount), schedule.currency)
            for (work_type, minutes), amount in sorted(schedule.bases.items())
        ]
        return _table(("work type", "running minutes", "base", "currency"), rows)

    @admin.display(description="subscriber factors")
    def subscriber_factors(self, obj: ResidualSchedule) -> SafeString | str:
        rows = [
            (display.words(tier), _number(factor))
            for tier, factor in sorted(self._engine(obj).subscriber_factors.items())
        ]
        return _table(("subscriber tier", "factor"), rows)

    @admin.display(description="exhibition-year percentages")
    def exhibition_years(self, obj: ResidualSchedule) -> SafeString | str:
        rows = [
            (year, territory, f"{_number(percent)} %")
            for (year, territory), percent in sorted(
                self._engine(obj).exhibition_year_percent.items()
            )
        ]
        return _table(("exhibition year", "territory", "percentage"), rows)

    @admin.display(description="gross-receipts percentages")
    def gross_receipts(self, obj: ResidualSchedule) -> SafeString | str:
        rows = [
            (display.words(market), territory, f"{_number(percent)} %")
            for (market, territory), percent in sorted(
                self._engine(obj).gross_receipts_percent.items()
            )
        ]
        return _table(("market", "territory", "percentage"), rows)

    @admin.display(description="file")
    def file_as_loaded(self, obj: ResidualSchedule) -> SafeString:
        url = reverse("admin:compensation_residualschedule_file", args=[obj.pk])
        return format_html('<a href="{}" id="schedule-file">Download {}</a>', url, obj.file_name)
