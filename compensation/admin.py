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
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from consent import selectors as consent_selectors
from consent.models import AiUse
from core import csv_safe
from core.admin import display
from core.admin.base import (
    NoAddOrChangeMixin,
    ReadOnlyInline,
    ServiceForm,
    ServiceSavedMixin,
    admin_path,
)
from core.admin.display import badge
from core.errors import DomainError, Forbidden
from core.money import money_display, number_display
from ledger import access
from ledger.access.admin import ScopedAdmin
from ledger.models import Agreement, Engagement

from . import review as reviews
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
from .rules.params import shipped
from .rules.sheet import CSV_COLUMNS

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


def _status(value):
    return badge(value, STATUS_COLOURS.get(value))


class InScopeInline(ReadOnlyInline):
    """Read-only rows under a scoped page, each linking to its own page."""

    show_change_link = True

    def has_view_permission(self, request, obj=None):
        return not access.request_scope(request).is_empty  # the parent page is already scoped


# --- rate sheets ----------------------------------------------------------------------------


def offered_agreements(scope) -> "QuerySet[Agreement]":
    """The agreements a staff member loads rate sheets for: their guilds' (every one for an
    administrator)."""
    qs = Agreement.objects.select_related("guild").order_by("code")
    return qs if scope.superuser else qs.filter(guild_id__in=scope.guild_ids)


def problem_in_words(problem: object) -> str:
    """A sheet's problem as a sentence: "row 3: `from` is required" -> "On row 3: from is
    required"."""
    text = str(problem).replace("`", "")
    if text.startswith("row "):
        return f"On {text}"
    return text[:1].upper() + text[1:]


def sheet_template_rows(guild_code: str) -> list[list[str]]:
    """One row per parameter the guild's shipped parameter files name, with its unit and every
    other cell empty, in the columns a sheet is loaded with."""
    prefix = services.GUILD_PREFIX[guild_code]
    blank = dict.fromkeys(CSV_COLUMNS, "")
    return [
        list({**blank, "parameter": name, "unit": series.unit}.values())
        for name, series in sorted(shipped().series.items())
        if name.startswith(prefix)
    ]


class RateSheetValueInline(InScopeInline):
    model = RateSheetValue
    fields = ("parameter", "effective_from", "until", "value", "unit", "tier", "source", "rule")
    readonly_fields = fields
    show_change_link = False


class RateSheetAddForm(ServiceForm):
    file = forms.FileField(
        help_text="CSV (parameter,from,until,value,unit,tier,source,rule) or JSON. Download the "
        "template above for the agreement's parameter names and units."
    )

    class Meta:
        model = RateSheet
        fields = ["agreement", "name", "source", "tier"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.request is not None:
            cast(forms.ModelChoiceField, self.fields["agreement"]).queryset = offered_agreements(
                access.request_scope(self.request)
            )

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
        try:
            return services.rate_sheet_load(
                actor=self.request.user,
                file_name=name,
                file_format="json" if name.lower().endswith(".json") else "csv",
                content=text,
                **data,
            )
        except DomainError as error:
            problems = (error.fields or {}).get("file")
            if not isinstance(problems, list):
                raise
            # Every problem of the file on its own line, with its row, under the file.
            for problem in problems:
                self.add_error("file", problem_in_words(problem))
            raise DomainError(
                f"The rate sheet was not loaded: {len(problems)} problem(s), listed under the "
                "file. Nothing was saved.",
                code=error.code,
            ) from None


@admin.register(RateSheet)
class RateSheetAdmin(ServiceSavedMixin, ScopedAdmin):
    """Guild staff load their guild's sheets (a CSV template lists every parameter name of the
    guild). A sheet's page lists the runs computed or approved before it was loaded that cover a
    date it gives a value for, each with a "Rerun" button for the production's studio staff."""

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

    def get_urls(self):
        return [
            admin_path(self, "template/", self.template_view, "template"),
            admin_path(self, "<path:object_id>/rerun/", require_POST(self.rerun_view), "rerun"),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        context = {
            "template_agreements": offered_agreements(access.request_scope(request)).exclude(
                guild=None
            ),
            **(extra_context or {}),
        }
        return super().add_view(request, form_url, context)

    def response_add(self, request, obj, post_url_continue=None):
        # The sheet's own page: what it loaded, and the runs it may have changed.
        found = self._runs_to_recompute(request, obj)
        waiting = sum(1 for item in found if item["rerun"] is None)
        self.message_user(
            request,
            f"{obj.label} is loaded."
            + (f" {waiting} run(s) used figures it changes: rerun them below." if waiting else ""),
            messages.SUCCESS,
        )
        url = reverse("admin:compensation_ratesheet_change", args=[obj.pk])
        return redirect(f"{url}#runs-to-recompute" if found else url)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        sheet = self.get_object(request, unquote(object_id))
        context = dict(extra_context or {})
        if sheet is not None:
            context["runs_to_recompute"] = self._runs_to_recompute(request, sheet)
        return super().change_view(request, object_id, form_url, context)

    def _runs_to_recompute(self, request, sheet) -> list[dict[str, Any]]:
        scope = access.request_scope(request)
        visible = CompensationRun.objects.filter(production__in=access.productions(scope))
        return [
            {
                "run": item.run,
                "url": _run_page(item.run),
                "rerun": item.rerun,
                "rerun_url": _run_page(item.rerun) if item.rerun else None,
                "can_rerun": item.rerun is None
                and scope.can_write_studio(item.run.production.studio_id),
            }
            for item in services.rate_sheet_runs_to_recompute(sheet, visible)
        ]

    def template_view(self, request):
        """The CSV template of the chosen agreement's guild: every parameter name with its
        unit, the values to fill in."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        choice = request.GET.get("agreement", "")
        if not (choice.isdigit() and len(choice) < 10):
            raise Http404
        agreement = (
            offered_agreements(access.request_scope(request))
            .exclude(guild=None)
            .filter(pk=int(choice))
            .first()
        )
        if agreement is None or agreement.guild is None:
            raise Http404
        rows = sheet_template_rows(agreement.guild.code)
        text = csv_safe.text(list(CSV_COLUMNS), rows)
        return csv_safe.download(text, f"{agreement.code}-rate-sheet-template.csv")

    def rerun_view(self, request, object_id):
        """Run again, for the same period, a run the sheet may have changed (a pay run due when
        the earlier one was)."""
        sheet = self.get_object(request, unquote(object_id))
        if sheet is None:
            raise Http404
        choice = request.POST.get("run", "")
        listed = {str(item["run"].pk): item for item in self._runs_to_recompute(request, sheet)}
        item = listed.get(choice)
        if item is None:
            raise Http404
        run = item["run"]
        if not item["can_rerun"]:
            self.message_user(
                request,
                f"Run #{run.pk}: only its studio's staff run it again, once.",
                messages.ERROR,
            )
        else:
            try:
                with transaction.atomic():
                    rerun = _rerun(request.user, run)
            except DomainError as error:
                self.message_user(request, f"Run #{run.pk}: {error.message}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    format_html(
                        'Run #{} is running again as <a href="{}">run #{}</a>.',
                        run.pk,
                        _run_page(rerun),
                        rerun.pk,
                    ),
                    messages.SUCCESS,
                )
        url = reverse("admin:compensation_ratesheet_change", args=[sheet.pk])
        return redirect(f"{url}#runs-to-recompute")


def _run_page(run: CompensationRun) -> str:
    name = "residualrun" if run.kind == CompensationRun.Kind.RESIDUALS else "compensationrun"
    return reverse(f"admin:compensation_{name}_change", args=[run.pk])


def _rerun(actor, run: CompensationRun) -> CompensationRun:
    if run.kind == CompensationRun.Kind.RESIDUALS:
        return runs.residual_run_start(
            actor=actor,
            production=run.production,
            period_from=run.period_from,
            period_to=run.period_to,
        )
    return runs.run_start(
        actor=actor,
        production=run.production,
        period_from=run.period_from,
        period_to=run.period_to,
        due_date=run.due_date,
    )


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
    list_display = ["engagement", "work_type", "date", "ai_material_handed_over", "fee_shown"]
    list_filter = [
        "ai_material_handed_over",
        ("engagement__production", admin.RelatedOnlyFieldListFilter),
    ]
    scope_queryset = staticmethod(selectors.deliveries)
    import_service = staticmethod(services.deliveries_import)
    import_columns = services.DELIVERY_COLUMNS
    form = DeliveryForm
    # A delivery's fee is in its engagement's currency.
    fee_shown = display.money_column("fee", currency="engagement.rate_currency")


@admin.register(EngagementTerms)
class TermsAdmin(ServiceSavedMixin, ScopedAdmin):
    list_display = ["engagement", "wage_classification", "kit_rental_shown", "kit_rental_per"]
    list_select_related = ["engagement__person", "engagement__production"]
    raw_id_fields = ["engagement"]
    scope_queryset = staticmethod(selectors.terms)
    # The kit rental is in the engagement's currency.
    kit_rental_shown = display.money_column(
        "kit_rental_amount", currency="engagement.rate_currency", description="kit rental"
    )

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
        "quantity_shown",
        "unit",
        "rate_shown",
        "amount_shown",
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

    quantity_shown = display.number_column("quantity")
    rate_shown = display.number_column("rate")
    amount_shown = display.money_column("amount")

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
        acknowledge = require_POST(self.acknowledge_view)
        return [
            admin_path(self, "<path:object_id>/approve/", approve, "approve"),
            admin_path(self, "<path:object_id>/review/", self.review_view, "review"),
            admin_path(self, "<path:object_id>/acknowledge/", acknowledge, "acknowledge"),
            *super().get_urls(),
        ]

    def _url(self, action: str, run) -> str:
        opts = self.model._meta
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_{action}", args=[run.pk])

    # The run's review (compensation/review.py): totals per person and per fund, the differences
    # from the last approved run of the period, and the items to acknowledge, each with a note,
    # before "Approve run" is offered.

    def review_view(self, request, object_id):
        run = self.get_object(request, object_id)
        if run is None:
            raise Http404
        scope = access.request_scope(request)
        review = reviews.review(run, scope)
        may_write = scope.can_write_studio(run.production.studio_id)
        awaiting = run.status == CompensationRun.Status.COMPUTED
        context = {
            **self.admin_site.each_context(request),
            "title": f"Review of {run}",
            "opts": self.model._meta,
            "original": run,
            "review": review,
            "people": [_total_row(t) for t in review.people],
            "funds": [_total_row(t) for t in review.funds],
            "differences": [_difference_row(d) for d in review.differences],
            "can_acknowledge": awaiting and may_write,
            **self._approval(request, run, review),
            "run_url": self._url("change", run),
            "acknowledge_url": self._url("acknowledge", run),
            "approve_url": self._url("approve", run),
            "note_max": reviews.MAX_NOTE,
        }
        return TemplateResponse(request, "admin/compensation/compensationrun/review.html", context)

    def acknowledge_view(self, request, object_id):
        run = self.get_object(request, object_id)
        if run is None:
            raise Http404
        key = request.POST.get("key", "")
        try:
            reviews.acknowledge(
                actor=request.user,
                run=run,
                key=key,
                note=request.POST.get("note", ""),
                scope=access.request_scope(request),
            )
        except DomainError as error:
            problems = "; ".join(str(v) for v in error.fields.values() if isinstance(v, str))
            text = f"{error.message} ({problems})" if problems else error.message
            self.message_user(request, f"{key}: {text}", messages.ERROR)
        else:
            self.message_user(request, f"{key}: acknowledged.", messages.SUCCESS)
        return redirect(self._url("review", run))

    def _approval(self, request, run, review=None) -> dict:
        """Whether "Approve run" is offered, and when it is held back, why."""
        if run.status != CompensationRun.Status.COMPUTED or not access.request_scope(
            request
        ).can_write_studio(run.production.studio_id):
            return {"can_approve": False, "approve_blocked": ""}
        missing = review.missing if review is not None else reviews.missing(run)
        if missing:
            n = len(missing)
            return {
                "can_approve": False,
                "approve_blocked": f"{n} item{'s' if n != 1 else ''} of the review "
                f"need{'s' if n == 1 else ''} an acknowledgement before approval.",
            }
        if getattr(settings, "RUN_TWO_PERSON_APPROVAL", False) and (
            run.started_by_id == request.user.pk
        ):
            return {
                "can_approve": False,
                "approve_blocked": "Two-person approval: someone other than who started the run "
                "approves it.",
            }
        return {"can_approve": True, "approve_blocked": ""}

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
                "review_url": self._url("review", run),
                "payables_url": reverse("admin:ledger_payable_changelist")
                + f"?production__id__exact={run.production_id}",
                "payments_url": reverse("admin:ledger_payment_changelist")
                + f"?payable__production__id__exact={run.production_id}",
            }
        return {**self._approval(request, run), "review_url": self._url("review", run)}


def _total_row(total: reviews.Total) -> dict:
    return {
        "payee": total.payee,
        "payee_id": total.payee_id,
        "amount": money_display(total.amount, total.currency),
        "lines": total.lines,
    }


def _difference_row(d: reviews.Difference) -> dict:
    def shown(amount):
        return "—" if amount is None else money_display(amount, d.currency)

    return {
        "change": d.change,
        "payee": d.payee,
        "rule": d.rule,
        "when": d.on.isoformat() if d.on else f"exhibition #{d.exhibition}",
        "detail": d.detail,
        "before": shown(d.before),
        "after": shown(d.after),
        "delta": money_display(d.delta, d.currency),
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
        "quantity_shown",
        "rate_shown",
        "amount_shown",
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
    quantity_shown = display.number_column("quantity")
    rate_shown = display.number_column("rate")
    amount_shown = display.money_column("amount")

    @admin.display(description="status")
    def status_badge(self, obj):
        return _status(obj.status)

    @admin.display(description="explanation")
    def explanation(self, obj):
        if obj.kind == CompensationLine.Kind.FRINGE:
            formula = format_html(
                "{} of covered pay {} = <b>{}</b> to {}",
                number_display(obj.rate),
                money_display(obj.quantity, obj.currency),
                money_display(obj.amount, obj.currency),
                obj.fund,
            )
        else:
            formula = format_html(
                "{} {} × {} {} = <b>{}</b>",
                number_display(obj.quantity),
                obj.unit,
                number_display(obj.rate),
                obj.currency,
                money_display(obj.amount, obj.currency),
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
