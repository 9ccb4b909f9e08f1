"""Compensation in the staff admin, scoped like the API.

Rate sheets are loaded from an uploaded file and never edited. Timecards and WGA deliveries are
recorded or corrected through their services, and imported from CSV (the whole file or nothing).
A run is started from a form and approved by an action or its page's "Approve run" button; its
page shows the exceptions and every line, and once approved links to the payables and payments
of its production. A line's page shows its explanation as a breakdown: rule, quantity × rate,
and each parameter value used with its tier and source."""

from collections.abc import Callable
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from consent import selectors as consent_selectors
from consent.admin import badge
from consent.models import AiUse
from core.admin import display
from core.admin.base import (
    NoAddOrChangeMixin,
    ReadOnlyInline,
    ServiceForm,
    ServiceSavedMixin,
    admin_path,
)
from core.errors import DomainError, Forbidden
from ledger import access
from ledger.access.admin import ScopedAdmin
from ledger.models import Engagement

from . import runs, selectors, services
from .models import (
    CompensationLine,
    CompensationRun,
    EngagementTerms,
    EvidenceTier,
    HoldResolution,
    RateSheet,
    RateSheetValue,
    Timecard,
    WgaDelivery,
)

STATUS_COLOURS = {
    "queued": "#b8860b",
    "running": "#b8860b",
    "computed": "#0d6efd",
    "approved": "#1e7e34",
    "payable": "#1e7e34",
    "failed": "#b02a37",
    "held": "#b02a37",
    "superseded": "#6c757d",
    "void": "#6c757d",
}


def _writable_engagements(request):
    qs = Engagement.objects.select_related("person", "production")
    return access.on_writable_productions(access.request_scope(request), qs)


def _plain(number) -> str:
    """A decimal without trailing zeros or an exponent: 1300.000000 -> 1300, 0.210 -> 0.21."""
    return f"{number.normalize():f}"


def _status(value):
    return badge(value, STATUS_COLOURS.get(value))


class InScopeInline(ReadOnlyInline):
    """Read-only rows under a scoped page, each linking to its own page."""

    show_change_link = True

    def has_view_permission(self, request, obj=None):
        return not access.request_scope(request).is_empty  # the parent page is already scoped


# --- rate sheets ----------------------------------------------------------------------------


class RateSheetValueInline(InScopeInline):
    model = RateSheetValue
    fields = ("parameter", "effective_from", "until", "value", "unit", "tier", "source", "rule")
    readonly_fields = fields
    show_change_link = False


class RateSheetAddForm(ServiceForm):
    file = forms.FileField(
        help_text="CSV (parameter,from,until,value,unit,tier,source,rule) or JSON."
    )

    class Meta:
        model = RateSheet
        fields = ["agreement", "name", "source", "tier"]

    def record(self, data):
        upload = data.pop("file")
        guild = data["agreement"].guild  # None: non-union, whose sheet the service refuses
        if guild is not None and not access.request_scope(self.request).can_write_guild(guild.pk):
            raise Forbidden(f"Only {guild.code} staff load its rate sheets.")
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise DomainError(
                "The file is not UTF-8 text.", fields={"file": "Not UTF-8."}
            ) from None
        name = upload.name or "sheet"
        return services.rate_sheet_load(
            actor=self.request.user,
            file_name=name,
            file_format="json" if name.lower().endswith(".json") else "csv",
            content=text,
            **data,
        )


@admin.register(RateSheet)
class RateSheetAdmin(ServiceSavedMixin, ScopedAdmin):
    list_display = ["name", "version", "agreement", "tier", "loaded_by", "loaded_at", "sha256"]
    list_filter = ["agreement"]
    search_fields = ["name", "source", "sha256"]
    list_select_related = ["agreement", "loaded_by"]
    inlines = [RateSheetValueInline]
    scope_queryset = staticmethod(selectors.rate_sheets)
    # Every field of the sheet as loaded, in the model's order, the file's content last.
    readonly_fields = [
        *(f.name for f in RateSheet._meta.fields if f.name not in ("id", "content")),
        "content",
    ]

    def has_add_permission(self, request, obj=None):
        return access.request_scope(request).can_write_any_guild

    def has_change_permission(self, request, obj=None):
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = RateSheetAddForm
            kwargs["fields"] = ["agreement", "name", "source", "tier"]
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return (
            ["agreement", "name", "source", "tier", "file"] if obj is None else self.readonly_fields
        )

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_inlines(self, request, obj):
        return [] if obj is None else self.inlines


# --- work records ---------------------------------------------------------------------------


class ImportForm(forms.Form):
    file = forms.FileField(help_text="A CSV file with a header row.")


class RecordAdmin(ServiceSavedMixin, ScopedAdmin):
    """Records saved through their service; a CSV import page beside the list."""

    import_service: Callable[..., Any] | None = None
    import_columns: tuple[str, ...] = ()
    change_list_template = "admin/change_list_with_import.html"
    list_select_related = ["engagement__person", "engagement__production"]
    raw_id_fields = ["engagement"]

    def writable(self, scope, obj) -> bool:
        return scope.can_write_studio(obj.engagement.production.studio_id)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "engagement":
            kwargs["queryset"] = _writable_engagements(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_urls(self):
        return [admin_path(self, "import/", self.import_view, "import"), *super().get_urls()]

    def import_view(self, request):
        if not access.request_scope(request).can_write_any:
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        errors: list[Any] = []
        if request.method == "POST" and form.is_valid():
            try:
                text = form.cleaned_data["file"].read().decode("utf-8-sig")
                import_service = type(self).import_service
                assert import_service is not None, f"{type(self).__name__} names no service"
                result = import_service(
                    actor=request.user, text=text, engagements=_writable_engagements(request)
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
                return redirect(
                    reverse(
                        f"admin:{self.model._meta.app_label}_{self.model._meta.model_name}_changelist"
                    )
                )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Import {self.model._meta.verbose_name_plural} from CSV",
            "opts": self.model._meta,
            "form": form,
            "errors": errors,
            "columns": self.import_columns,
        }
        return TemplateResponse(request, "admin/compensation/import.html", context)


class TimecardForm(ServiceForm):
    meals_text = forms.CharField(
        required=False,
        label="Meals",
        help_text="One meal per line: 13:00-13:30.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    class Meta:
        model = Timecard
        fields = ["engagement", "date", "first_call", "dismissal", "rest_start", "episode"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["meals_text"].initial = "\n".join(
                f"{a}-{b}" for a, b in self.instance.meals
            )

    def record(self, data):
        meals = [
            line.split("-", 1) for line in data.pop("meals_text", "").splitlines() if line.strip()
        ]
        if any(len(m) != 2 for m in meals):
            raise DomainError(
                "One meal per line: 13:00-13:30.", fields={"meals_text": "13:00-13:30."}
            )
        data.setdefault("rest_start", None)
        data.setdefault("episode", "")
        return services.timecard_save(
            actor=self.request.user,
            instance=self.instance if self.instance.pk else None,
            meals=[[a.strip(), b.strip()] for a, b in meals],
            **data,
        )


@admin.register(Timecard)
class TimecardAdmin(RecordAdmin):
    list_display = [
        "engagement",
        "date",
        "first_call",
        "dismissal",
        "meal_breaks",
        "work_hours",
        "elapsed_hours",
        "episode",
    ]
    list_filter = [("engagement__production", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["engagement__person__legal_name", "engagement__person__professional_name"]
    date_hierarchy = "date"
    scope_queryset = staticmethod(selectors.timecards)
    import_service = staticmethod(services.timecards_import)
    import_columns = services.TIMECARD_COLUMNS
    form = TimecardForm

    @admin.display(description="meals")
    def meal_breaks(self, obj):
        return display.meal_periods(obj.meals)


class DeliveryForm(ServiceForm):
    class Meta:
        model = WgaDelivery
        fields = ["engagement", "work_type", "date", "ai_material_handed_over", "fee"]

    def record(self, data):
        data.setdefault("ai_material_handed_over", False)
        data.setdefault("fee", None)
        return services.delivery_save(
            actor=self.request.user, instance=self.instance if self.instance.pk else None, **data
        )


@admin.register(WgaDelivery)
class DeliveryAdmin(RecordAdmin):
    list_display = ["engagement", "work_type", "date", "ai_material_handed_over", "fee"]
    list_filter = [
        "ai_material_handed_over",
        ("engagement__production", admin.RelatedOnlyFieldListFilter),
    ]
    scope_queryset = staticmethod(selectors.deliveries)
    import_service = staticmethod(services.deliveries_import)
    import_columns = services.DELIVERY_COLUMNS
    form = DeliveryForm


@admin.register(EngagementTerms)
class TermsAdmin(ServiceSavedMixin, ScopedAdmin):
    list_display = ["engagement", "wage_classification", "kit_rental_amount", "kit_rental_per"]
    list_select_related = ["engagement__person", "engagement__production"]
    raw_id_fields = ["engagement"]
    scope_queryset = staticmethod(selectors.terms)

    def writable(self, scope, obj) -> bool:
        return scope.can_write_studio(obj.engagement.production.studio_id)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "engagement":
            kwargs["queryset"] = _writable_engagements(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["engagement"]  # the terms stay with their engagement

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = TermsForm
        return super().get_form(request, obj, change=change, **kwargs)


class TermsForm(ServiceForm):
    class Meta:
        model = EngagementTerms
        fields = ["engagement", "wage_classification", "kit_rental_amount", "kit_rental_per"]

    def record(self, data):
        engagement = data.pop("engagement", None) or self.instance.engagement
        return services.terms_set(actor=self.request.user, engagement=engagement, **data)


# --- runs and lines -------------------------------------------------------------------------


class RunAddForm(ServiceForm):
    class Meta:
        model = CompensationRun
        fields = ["production", "period_from", "period_to", "due_date"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.request is not None:
            scope = access.request_scope(self.request)
            cast(
                forms.ModelChoiceField, self.fields["production"]
            ).queryset = access.writable_productions(scope)

    def record(self, data):
        return runs.run_start(actor=self.request.user, **data)


class LineInline(InScopeInline):
    model = CompensationLine
    fields = (
        "engagement",
        "kind",
        "status_badge",
        "rule",
        "date",
        "quantity",
        "unit",
        "rate",
        "amount",
        "currency",
        "tier",
        "flag_labels",
    )
    readonly_fields = fields
    ordering = ["engagement_id", "date", "id"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("engagement__person", "engagement__production")
        )

    @admin.display(description="status")
    def status_badge(self, obj):
        return _status(obj.status)

    @admin.display(description="flags")
    def flag_labels(self, obj):
        return display.flag_labels(obj.flags)


@admin.register(CompensationRun)
class RunAdmin(ServiceSavedMixin, ScopedAdmin):
    list_display = [
        "id",
        "production",
        "period_from",
        "period_to",
        "status_badge",
        "line_count",
        "exception_count",
        "due_date",
        "started_at",
        "approved_at",
    ]
    list_filter = ["status", ("production", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["production"]
    actions = ["approve_selected"]
    inlines = [LineInline]
    scope_queryset = staticmethod(selectors.runs)
    readonly_fields = [
        "production",
        "period_from",
        "period_to",
        "due_date",
        "status_badge",
        "rules_version",
        "rate_sheets_used",
        "engagements",
        "line_count",
        "exceptions_table",
        "error",
        "started_by",
        "started_at",
        "finished_at",
        "approved_by",
        "approved_at",
        "task_id",
        "dispatched_at",
    ]

    def has_change_permission(self, request, obj=None):
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = RunAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return (
            ["production", "period_from", "period_to", "due_date"]
            if obj is None
            else self.readonly_fields
        )

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_inlines(self, request, obj):
        return [] if obj is None else self.inlines

    @admin.display(description="status")
    def status_badge(self, obj):
        return _status(obj.status)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            obj.exceptions = selectors.visible_exceptions(access.request_scope(request), obj)
        return obj

    @admin.display(description="rate sheets used")
    def rate_sheets_used(self, obj):
        return display.rate_sheet_list(obj.rate_sheets)

    @admin.display(description="exceptions")
    def exception_count(self, obj):
        return len(obj.exceptions)

    @admin.display(description="exceptions")
    def exceptions_table(self, obj):
        if not obj.exceptions:
            return "None"
        return format_html(
            "<table><tr><th>code</th><th>rule</th><th>who</th><th>message</th></tr>{}</table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (e.get("code"), e.get("rule"), e.get("person", ""), e.get("message"))
                    for e in obj.exceptions
                ),
            ),
        )

    @admin.action(description="Approve: post the selected computed runs to the ledger")
    def approve_selected(self, request, queryset):
        for run in queryset:
            self._approve(request, run)

    def _approve(self, request, run) -> bool:
        if not access.request_scope(request).can_write_studio(run.production.studio_id):
            self.message_user(
                request, f"Run #{run.pk}: only its studio's staff approve it.", messages.ERROR
            )
            return False
        try:
            runs.run_approve(actor=request.user, run=run)
        except DomainError as error:
            self.message_user(request, f"Run #{run.pk}: {error.message}", messages.ERROR)
            return False
        self.message_user(request, f"Run #{run.pk} is approved and posted.", messages.SUCCESS)
        return True

    # The run's page: an "Approve run" button while it waits for approval, and once approved,
    # links to the payables and payments of its production.

    def get_urls(self):
        approve = require_POST(self.approve_view)
        return [
            admin_path(self, "<path:object_id>/approve/", approve, "approve"),
            *super().get_urls(),
        ]

    def approve_view(self, request, object_id):
        run = self.get_object(request, object_id)
        if run is None:
            raise Http404
        self._approve(request, run)
        opts = self.model._meta
        return redirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[run.pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        run = self.get_object(request, object_id)
        context = {**(self._run_tools(request, run) if run else {}), **(extra_context or {})}
        return super().change_view(request, object_id, form_url, context)

    def _run_tools(self, request, run) -> dict:
        if run.status == CompensationRun.Status.APPROVED:
            return {
                "payables_url": reverse("admin:ledger_payable_changelist")
                + f"?production__id__exact={run.production_id}",
                "payments_url": reverse("admin:ledger_payment_changelist")
                + f"?payable__production__id__exact={run.production_id}",
            }
        return {
            "can_approve": run.status == CompensationRun.Status.COMPUTED
            and access.request_scope(request).can_write_studio(run.production.studio_id)
        }


class LineTierFilter(admin.SimpleListFilter):
    """The evidence tiers, from the list of tiers rather than from the lines themselves."""

    title = "tier"
    parameter_name = "tier"

    def lookups(self, request, model_admin):
        return EvidenceTier

    def queryset(self, request, queryset):
        return queryset.filter(tier=self.value()) if self.value() else queryset


@admin.register(CompensationLine)
class LineAdmin(NoAddOrChangeMixin, ScopedAdmin):
    list_display = [
        "id",
        "run",
        "engagement",
        "kind",
        "status_badge",
        "rule",
        "date",
        "quantity",
        "rate",
        "amount",
        "currency",
        "tier",
    ]
    # No "rule" filter: its choices would be a SELECT DISTINCT over every line in scope on each
    # page view; a rule id is found with the search box instead.
    list_filter = ["status", "kind", LineTierFilter]
    search_fields = ["engagement__person__legal_name", "rule"]
    list_select_related = ["run__production", "engagement__person", "engagement__production"]
    scope_queryset = staticmethod(selectors.lines)
    fields = ("run", "engagement", "ai_use", "status_badge", "explanation")
    readonly_fields = fields

    @admin.display(description="status")
    def status_badge(self, obj):
        return _status(obj.status)

    @admin.display(description="explanation")
    def explanation(self, obj):
        if obj.kind == CompensationLine.Kind.FRINGE:
            formula = format_html(
                "{} of covered pay {} {} = <b>{} {}</b> to {}",
                obj.rate,
                obj.quantity,
                obj.currency,
                obj.amount,
                obj.currency,
                obj.fund,
            )
        else:
            formula = format_html(
                "{} {} × {} {} = <b>{} {}</b>",
                _plain(obj.quantity),
                obj.unit,
                _plain(obj.rate),
                obj.currency,
                obj.amount,
                obj.currency,
            )
        params = format_html_join(
            "",
            "<tr><td><code>{}</code></td><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    p["parameter"],
                    p["value"],
                    p["unit"],
                    p.get("from") or "start not given",
                    p["tier"],
                    p.get("sheet") or p["source"],
                )
                for p in obj.parameters
            ),
        )
        return format_html(
            "<p><b>{}</b> — {}</p><p>{} on {}{}</p>{}<p>Flags: {}</p>",
            obj.rule,
            obj.description,
            formula,
            obj.date,
            format_html(", episode {}", obj.episode) if obj.episode else "",
            format_html(
                "<table><tr><th>parameter</th><th>value</th><th>in force from</th><th>tier</th>"
                "<th>source</th></tr>{}</table>",
                params,
            )
            if obj.parameters
            else format_html("<p>{}</p>", "No parameter: the negotiated rate decided it."),
            display.flag_labels(obj.flags),
        )


class HoldResolutionForm(ServiceForm):
    class Meta:
        model = HoldResolution
        fields = ["ai_use", "decision", "reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.request is not None:
            scope = access.request_scope(self.request)
            qs = consent_selectors.not_voided(
                AiUse.objects.filter(status=AiUse.Status.VIOLATION, hold_resolution__isnull=True)
            ).select_related("person", "production")
            cast(
                forms.ModelChoiceField, self.fields["ai_use"]
            ).queryset = access.on_writable_productions(scope, qs)

    def record(self, data):
        return runs.hold_resolve_and_rerun(actor=self.request.user, **data)


@admin.register(HoldResolution)
class HoldResolutionAdmin(ServiceSavedMixin, ScopedAdmin):
    list_display = ["ai_use", "decision", "resolved_by", "resolved_at"]
    list_select_related = ["ai_use__person", "ai_use__production", "resolved_by"]
    scope_queryset = staticmethod(selectors.hold_resolutions)
    readonly_fields = ["ai_use", "decision", "reason", "resolved_by", "resolved_at"]

    def has_change_permission(self, request, obj=None):
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = HoldResolutionForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields
