"""Residual runs in the admin: started, read and approved as pay runs are (the pay runs' admin,
with the residual lines under each run)."""

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from compensation import runs
from compensation.admin import InScopeInline, RunAddForm, RunAdmin
from compensation.models import Exhibition, ResidualLine, ResidualRun
from core.admin import display
from core.money import money_display
from ledger import access
from ledger.journal.services import fund_title

from .. import selectors
from ..api.runs import visible_exceptions


class ResidualRunAddForm(RunAddForm):
    class Meta(RunAddForm.Meta):
        model = ResidualRun
        fields = ["production", "period_from", "period_to"]

    def record(self, data):
        return runs.residual_run_start(actor=self.request.user, **data)


class ResidualLineInline(InScopeInline):
    model = ResidualLine
    fk_name = "run"
    fields = (
        "payee",
        "exhibition",
        "rule",
        "territory",
        "amount_shown",
        "due_date",
        "tier",
        "flag_labels",
        "description",
    )
    readonly_fields = fields
    ordering = ["exhibition_id", "id"]

    def get_queryset(self, request):
        scope = access.request_scope(request)
        return selectors.lines(scope, super().get_queryset(request)).select_related(
            "exhibition__production"
        )

    @admin.display(description="payee")
    def payee(self, obj):
        if obj.fund:
            member = f" (for {obj.engagement.person})" if obj.engagement_id else ""
            return f"{fund_title(obj.fund)}{member}"
        return str(obj.engagement.person)

    @admin.display(description="amount")
    def amount_shown(self, obj):
        return money_display(obj.amount, obj.currency)

    @admin.display(description="flags")
    def flag_labels(self, obj):
        return display.flag_labels(obj.flags)


@admin.register(ResidualRun)
class ResidualRunAdmin(RunAdmin):
    list_display = [
        "id",
        "production",
        "period_from",
        "period_to",
        "status_badge",
        "line_count",
        "exception_count",
        "started_at",
        "approved_at",
    ]
    inlines = [ResidualLineInline]
    scope_queryset = staticmethod(selectors.runs)
    readonly_fields = [
        "production",
        "period_from",
        "period_to",
        "status_badge",
        "rules_version",
        "schedules_used",
        "engagements",
        "line_count",
        "exceptions_table",
        "error",
        "started_by",
        "started_at",
        "finished_at",
        "approved_by",
        "approved_at",
    ]
    change_form_template = "admin/compensation/compensationrun/change_form.html"

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ResidualRunAddForm
        return super(RunAdmin, self).get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return ["production", "period_from", "period_to"] if obj is None else self.readonly_fields

    def get_object(self, request, object_id, from_field=None):
        obj = super(RunAdmin, self).get_object(request, object_id, from_field)
        if obj is not None:
            obj.exceptions = visible_exceptions(access.request_scope(request), obj)
        return obj

    @admin.display(description="exceptions")
    def exceptions_table(self, obj):
        if not obj.exceptions:
            return "None"
        exhibitions = {
            e.pk: str(e) for e in Exhibition.objects.filter(production_id=obj.production_id)
        }
        return format_html(
            "<table><tr><th>code</th><th>rule</th><th>agreement</th><th>exhibition</th>"
            "<th>message</th></tr>{}</table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (
                        e.get("code"),
                        e.get("rule"),
                        e.get("agreement", ""),
                        exhibitions.get(e.get("exhibition"), ""),
                        e.get("message"),
                    )
                    for e in obj.exceptions
                ),
            ),
        )

    @admin.display(description="residual schedules used")
    def schedules_used(self, obj):
        labels = [s.get("label", "") for s in obj.rate_sheets or []]
        return ", ".join(labels) or "None"
