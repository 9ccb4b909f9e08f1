"""The journal in the staff admin: read-only (no add, change or delete), a reverse action that
calls the service, balances per person, production and union fund, and the chain verification
result. A payable is shown with its payee: the person paid, or the union fund; its page shows
what is owed, paid and due, where it comes from and its payments, and takes a payment made outside
payroll (a cheque), recorded through the payment service with payroll's own checks."""

import copy
import uuid
import zoneinfo
from decimal import Decimal
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AdminSplitDateTime
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from core.admin import display
from core.admin.base import ReadOnlyInline, admin_path, label_split_inputs
from core.admin.form_fields import StrictDecimalFormField, StrictSplitDateTimeFormField
from core.admin.pagination import InScopeRelatedFilter
from core.errors import DomainError
from core.money import DECIMAL_PLACES, MAX_DIGITS, money_display
from core.security import signing
from ledger import access
from ledger.access.admin import ReadOnlyAdmin
from ledger.journal import selectors as journal_selectors
from ledger.journal import services as journal_services
from ledger.journal.verify import verify_chain
from ledger.models import (
    Checkpoint,
    JournalTransaction,
    Payable,
    Payment,
    Person,
    Posting,
    Production,
)

POSTING_FIELDS = ("account", "payable", "effect", "amount_shown")


class PostingInline(ReadOnlyInline):
    model = Posting
    fields = POSTING_FIELDS
    readonly_fields = POSTING_FIELDS

    amount_shown = display.money_column("amount")


@admin.register(JournalTransaction)
class JournalTransactionAdmin(ReadOnlyAdmin):
    list_display = ["seq", "kind", "studio", "description", "effective_date", "created_at", "actor"]
    list_filter = ["kind", ("studio", InScopeRelatedFilter)]
    search_fields = ["description", "source_id"]
    list_select_related = ["studio", "actor"]
    readonly_fields = [f.name for f in JournalTransaction._meta.fields]
    inlines = [PostingInline]
    actions = ["reverse_selected"]
    scope_queryset = staticmethod(
        lambda scope, qs: journal_selectors.scoped_transactions(scope).select_related(
            "studio", "actor"
        )
    )

    @admin.action(description="Reverse the selected transactions (post corrections)")
    def reverse_selected(self, request, queryset):
        scope = access.request_scope(request)
        for tx in queryset.order_by("seq"):
            if not scope.can_write_studio(tx.studio_id):
                self.message_user(request, f"#{tx.seq}: not yours to reverse.", messages.ERROR)
                continue
            try:
                reversal = journal_services.journal_reverse(
                    actor=request.user,
                    transaction_id=tx.pk,
                    reason=f"reversed in the admin by {request.user.get_username()}",
                )
            except DomainError as error:
                self.message_user(request, f"#{tx.seq}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, f"#{tx.seq} reversed by #{reversal.seq}.")

    def get_urls(self):
        extra = [
            path(
                "verify/",
                self.admin_site.admin_view(self.verify_view),
                name="ledger_journaltransaction_verify",
            ),
            path(
                "balances/",
                self.admin_site.admin_view(self.balances_view),
                name="ledger_journaltransaction_balances",
            ),
        ]
        return extra + super().get_urls()

    def verify_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "report": verify_chain(),
            "title": "Ledger chain verification",
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/ledger/verify.html", context)

    def balances_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        scope = access.request_scope(request)
        groups = []
        for group, model, label in (
            ("person", Person, "name"),
            ("production", Production, "title"),
        ):
            rows = journal_selectors.balances(scope, group=group, filters={})
            names = dict(
                (obj.pk, getattr(obj, label))
                for obj in model.objects.filter(pk__in=[r[group] for r in rows])
            )
            for row in rows:
                row["name"] = names.get(row[group], "—")
            groups.append((f"Per {group}", rows))
        funds = journal_selectors.balances(scope, group="fund", filters={})
        for row in funds:
            row["name"] = journal_services.fund_title(row["fund"])
        groups.append(("Per union fund", funds))
        context = {
            **self.admin_site.each_context(request),
            "groups": groups,
            "title": "Balances: owed, paid and due",
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/ledger/balances.html", context)


class PayeeKindFilter(admin.SimpleListFilter):
    """Payables to people, or to union funds (contributions on a member's behalf)."""

    title = "payee"
    parameter_name = "payee"

    def lookups(self, request, model_admin):
        return [("person", "a person"), ("fund", "a union fund")]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "person":
            return queryset.filter(fund="")
        if value == "fund":
            return queryset.exclude(fund="")
        return queryset


class StandingFilter(admin.SimpleListFilter):
    """Payables by what their postings say: something still due, past due with something still
    due (the compliance report's overdue payables), or something paid."""

    title = "standing"
    parameter_name = "standing"

    def lookups(self, request, model_admin):
        return [("open", "still due"), ("overdue", "overdue"), ("paid", "partly or fully paid")]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "open":
            return queryset.filter(due_amount__gt=0)
        if value == "overdue":
            return queryset.filter(due_amount__gt=0, due_date__lt=timezone.now().date())
        if value == "paid":
            return queryset.filter(paid_amount__gt=0)
        return queryset


# --- payables: their page, and a payment recorded by hand ------------------------------------

# Where a payable came from, by its source: the run's admin page, and the lines behind it. A
# payable's `source_id` begins with its run's id (compensation.runs, compensation.residuals.runs);
# it is read here to build the links and never shown.
RUN_PAGES = {
    "compensation_run": ("admin:compensation_compensationrun_change", "Run"),
    "residual_run": ("admin:compensation_residualrun_change", "Residual run"),
}
TIME_ZONES = sorted(zoneinfo.available_timezones())


def source_run_id(payable: Payable) -> int | None:
    """The id of the run whose approval created the payable, or None for another source."""
    if payable.source_type not in RUN_PAGES:
        return None
    head = payable.source_id.partition(":")[0]
    return int(head) if head.isdigit() else None


class PaymentForm(forms.Form):
    """A payment made outside payroll (a cheque, a wire), recorded against one payable through
    the payment service, with the checks payroll's own payments pass: no more than is due, not
    dated in the future or before the obligation, a reference not recorded twice. The hidden
    `key` is drawn once per page shown: a second submission of the same page (a double click, a
    reload) replays the first payment instead of paying twice."""

    amount = StrictDecimalFormField(
        max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, min_value=Decimal("0.01")
    )
    paid_at = StrictSplitDateTimeFormField(
        label="Paid at",
        widget=AdminSplitDateTime,
        help_text="When the cheque was issued or the transfer made, in the time zone below.",
    )
    time_zone = forms.ChoiceField(
        choices=[(name, name) for name in TIME_ZONES], initial="UTC", label="Time zone"
    )
    payroll_reference = forms.CharField(
        max_length=100, label="Reference", help_text="The cheque number or transfer reference."
    )
    note = forms.CharField(
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Why it was paid outside payroll; kept in the payment's history.",
    )
    key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "payment")
        kwargs.setdefault("initial", {"key": uuid.uuid4(), "time_zone": "UTC"})
        super().__init__(*args, **kwargs)
        label_split_inputs(self)

    def clean(self):
        data = super().clean() or {}
        instant, zone = data.get("paid_at"), data.get("time_zone")
        if instant is not None and zone:
            # The admin's inputs are read in the site's time zone; the cheque's is the one named.
            naive = timezone.make_naive(instant, timezone.get_current_timezone())
            data["paid_at"] = naive.replace(tzinfo=zoneinfo.ZoneInfo(zone))
        return data


# A refusal of the payment service, by its code, on the field it is about.
PAYMENT_ERROR_FIELDS = {
    "overpayment": "amount",
    "paid_at_invalid": "paid_at",
    "duplicate_reference": "payroll_reference",
}


@admin.register(Payable)
class PayableAdmin(ReadOnlyAdmin):
    """A payable's page shows what is owed, paid and due, whom to, the run that created it and
    the lines behind it, and its payments; the production's studio staff record a payment made
    outside payroll there. Where it came from is shown as links, never as source ids."""

    list_display = [
        "id",
        "payee",
        "production",
        "rule",
        "description",
        "owed",
        "paid",
        "due",
        "due_date",
    ]
    list_filter = [
        ("production", InScopeRelatedFilter),
        PayeeKindFilter,
        "currency",
        StandingFilter,
        "rule",
    ]
    search_fields = [
        "person__legal_name",
        "person__professional_name",
        "fund",
        "description",
        "rule",
    ]
    list_select_related = ["person", "production"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "payee",
                    "production",
                    "description",
                    "rule",
                    ("owed_shown", "paid_shown", "due_shown"),
                    "due_date",
                    ("period_from", "period_to"),
                    "engagement",
                    "agreement",
                    "fringe_table",
                    "created_at",
                ]
            },
        ),
        ("Where it comes from", {"fields": ["run_link", "lines_link"]}),
        ("Payments", {"fields": ["payments_list"]}),
    ]
    readonly_fields = [
        "payee",
        "production",
        "description",
        "rule",
        "owed_shown",
        "paid_shown",
        "due_shown",
        "due_date",
        "period_from",
        "period_to",
        "engagement",
        "agreement",
        "fringe_table",
        "created_at",
        "run_link",
        "lines_link",
        "payments_list",
    ]
    scope_queryset = staticmethod(
        lambda scope, qs: journal_selectors.payables_with_amounts(
            journal_selectors.scoped_payables(scope, qs)
        )
    )

    @admin.display(description="payee")
    def payee(self, obj):
        """The person paid, or the union fund (with its code) for a contribution."""
        if obj.fund:
            title = journal_services.fund_title(obj.fund)
            return title if title == obj.fund else f"{title} ({obj.fund})"
        return obj.person

    @admin.display(description="owed", ordering="owed_amount")
    def owed(self, obj):
        return money_display(obj.owed_amount, obj.currency)

    @admin.display(description="paid", ordering="paid_amount")
    def paid(self, obj):
        return money_display(obj.paid_amount, obj.currency)

    @admin.display(description="due", ordering="due_amount")
    def due(self, obj):
        return money_display(obj.due_amount, obj.currency)

    @admin.display(description="owed")
    def owed_shown(self, obj):
        return money_display(obj.owed_amount, obj.currency)

    @admin.display(description="paid")
    def paid_shown(self, obj):
        return money_display(obj.paid_amount, obj.currency)

    @admin.display(description="still due")
    def due_shown(self, obj):
        return money_display(obj.due_amount, obj.currency)

    @admin.display(description="fringes")
    def fringe_table(self, obj):
        return display.fringe_table(obj.fringes, obj.currency)

    @admin.display(description="run")
    def run_link(self, obj):
        run_id = source_run_id(obj)
        if run_id is None:
            return "Not created by a run."
        name, label = RUN_PAGES[obj.source_type]
        return format_html(
            '<a href="{}" id="payable-run">{} #{}</a> ({} – {})',
            reverse(name, args=[run_id]),
            label,
            run_id,
            obj.period_from,
            obj.period_to,
        )

    @admin.display(description="lines")
    def lines_link(self, obj):
        """The run's lines this payable totals: for pay, the engagement's lines of its rule (or,
        for a contribution, its fringe lines); for residuals, the run's residual lines."""
        run_id = source_run_id(obj)
        if run_id is None:
            return "—"
        if obj.source_type == "residual_run":
            url = reverse(RUN_PAGES["residual_run"][0], args=[run_id])
            return format_html(
                '<a href="{}#residual_lines-group" id="payable-lines">{}</a>',
                url,
                "The run's residual lines",
            )
        query: dict[str, object] = {"run": run_id}
        if obj.engagement_id:
            query["engagement"] = obj.engagement_id
        query.update({"fund": obj.fund} if obj.fund else {"rule": obj.rule})
        url = reverse("admin:compensation_compensationline_changelist")
        return format_html(
            '<a href="{}?{}" id="payable-lines">The compensation lines behind it</a>',
            url,
            urlencode(query),
        )

    @admin.display(description="payments")
    def payments_list(self, obj):
        payments = list(obj.payments.order_by("paid_at", "id"))
        if not payments:
            return "None yet."
        return format_html(
            "<table><tr><th>payment</th><th>amount</th><th>paid at</th><th>reference</th>"
            "</tr>{}</table>",
            format_html_join(
                "",
                '<tr><td><a href="{}">#{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>',
                (
                    (
                        reverse("admin:ledger_payment_change", args=[p.pk]),
                        p.pk,
                        money_display(p.amount, p.currency),
                        timezone.localtime(p.paid_at).strftime("%Y-%m-%d %H:%M %Z"),
                        p.payroll_reference,
                    )
                    for p in payments
                ),
            ),
        )

    # --- recording a payment ---------------------------------------------------------------

    def get_urls(self):
        return [
            admin_path(self, "<path:object_id>/payment/", require_POST(self.payment_view), "pay"),
            *super().get_urls(),
        ]

    @staticmethod
    def may_pay(request, payable) -> bool:
        """The production's studio staff (and administrators) record payments, as over the API."""
        return access.request_scope(request).can_write_studio(payable.studio_id)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        context = dict(extra_context or {})
        payable = self.get_object(request, unquote(object_id))
        if payable is not None and self.may_pay(request, payable):
            context.setdefault("payment_form", PaymentForm() if payable.due_amount > 0 else None)
            context["may_pay"] = True
        return super().change_view(request, object_id, form_url, context)

    def payment_view(self, request, object_id):
        payable = self.get_object(request, unquote(object_id))
        if payable is None:
            raise Http404
        if not self.may_pay(request, payable):
            raise PermissionDenied
        form = PaymentForm(request.POST)
        if form.is_valid():
            payment = self._record_payment(request, payable, form)
            if payment is not None:
                return redirect(reverse("admin:ledger_payable_change", args=[payable.pk]))
        # The payable's page again, with the refused form and its errors; nothing was written.
        page = copy.copy(request)
        page.method = "GET"
        return self.change_view(page, object_id, extra_context={"payment_form": form})

    def _record_payment(self, request, payable, form) -> Payment | None:
        data = form.cleaned_data
        note = data["note"].strip()
        try:
            result = journal_services.payment_confirm(
                actor=request.user,
                client=f"user:{request.user.pk}",
                idempotency_key=f"admin:{data['key']}",
                payable=payable,
                amount=data["amount"],
                paid_at=data["paid_at"],
                payroll_reference=data["payroll_reference"].strip(),
                render=lambda payment: {"id": payment.pk, "note": note},
            )
        except DomainError as error:
            field = PAYMENT_ERROR_FIELDS.get(error.code)
            if error.code == "idempotency_key_reused":
                form.add_error(
                    None,
                    "This form was already sent with other values: reload the page to record "
                    "another payment.",
                )
            else:
                form.add_error(field, error.message)
            return None
        payment = Payment.objects.get(pk=result.body["id"])
        if result.replayed:
            messages.info(request, f"Payment #{payment.pk} was already recorded; not paid twice.")
            return payment
        self.log_addition(
            request,
            payment,
            f"Recorded in the admin. Note: {note}" if note else "Recorded in the admin.",
        )
        messages.success(
            request,
            format_html(
                'Payment <a href="{}">#{}</a> of {} is recorded.',
                reverse("admin:ledger_payment_change", args=[payment.pk]),
                payment.pk,
                money_display(payment.amount, payment.currency),
            ),
        )
        return payment


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "payable",
        "amount_shown",
        "paid_at",
        "payroll_reference",
        "confirmed_by",
    ]
    search_fields = ["payroll_reference"]
    # By production: a compensation run's page links to the payments of its production.
    list_filter = [("payable__production", InScopeRelatedFilter)]
    list_select_related = ["payable"]
    # `client` names a payroll key by its primary key, which embeds the key's hash: shown by
    # the key's prefix instead (confirmed_by).
    # The amount is shown with its currency (amount_shown) rather than as two raw fields.
    exclude = ["client", "amount", "currency"]
    readonly_fields = [
        *(
            {"client": "confirmed_by", "amount": "amount_shown"}.get(f.name, f.name)
            for f in Payment._meta.fields
            if f.name != "currency"
        ),
        "note",
    ]
    amount_shown = display.money_column("amount", description="amount")
    scope_queryset = staticmethod(lambda scope, qs: journal_selectors.scoped_payments(scope))

    @admin.display(description="client")
    def confirmed_by(self, obj):
        kind, _, ident = obj.client.partition(":")
        return f"key:{ident.partition('.')[0]}" if kind == "key" else obj.client

    @admin.display(description="note")
    def note(self, obj):
        """A payment recorded in the admin keeps its note in the admin's log of the payment."""
        entry = (
            LogEntry.objects.filter(
                content_type=ContentType.objects.get_for_model(Payment),
                object_id=str(obj.pk),
                action_flag=ADDITION,
            )
            .order_by("pk")
            .first()
        )
        return entry.get_change_message() if entry else "—"


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    """The signed checkpoints of the chain (ledger.journal.checkpoints), newest first, under the
    installation's public key and key id."""

    list_display = ["seq", "created_at", "reason", "key_id", "head_hash"]
    list_filter = ["reason"]
    readonly_fields = [f.name for f in Checkpoint._meta.fields]

    def changelist_view(self, request, extra_context=None):
        context = {
            "signing_key_id": signing.key_id(),
            "signing_key_pem": signing.public_key_pem(),
            "keys_url": reverse("signing-keys"),
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)
