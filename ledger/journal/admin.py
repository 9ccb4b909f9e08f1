"""The journal in the staff admin: read-only (no add, change or delete), a reverse action that
calls the service, balances per person, production and union fund, and the chain verification
result. A payable is shown with its payee: the person paid, or the union fund."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from core.admin import display
from core.admin.base import ReadOnlyInline
from core.admin.pagination import InScopeRelatedFilter
from core.errors import DomainError
from ledger import access
from ledger.access.admin import ReadOnlyAdmin
from ledger.journal import selectors as journal_selectors
from ledger.journal import services as journal_services
from ledger.journal.verify import verify_chain
from ledger.models import JournalTransaction, Payable, Payment, Person, Posting, Production

POSTING_FIELDS = ("account", "payable", "effect", "amount", "currency")


class PostingInline(ReadOnlyInline):
    model = Posting
    fields = POSTING_FIELDS
    readonly_fields = POSTING_FIELDS


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


@admin.register(Payable)
class PayableAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "payee",
        "production",
        "rule",
        "description",
        "owed",
        "paid",
        "due",
        "currency",
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
    exclude = ["fringes"]  # shown as a table (fringe_table)
    readonly_fields = [
        "payee",
        *("fringe_table" if f.name == "fringes" else f.name for f in Payable._meta.fields),
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
        return obj.owed_amount

    @admin.display(description="paid", ordering="paid_amount")
    def paid(self, obj):
        return obj.paid_amount

    @admin.display(description="due", ordering="due_amount")
    def due(self, obj):
        return obj.due_amount

    @admin.display(description="fringes")
    def fringe_table(self, obj):
        return display.fringe_table(obj.fringes, obj.currency)


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "payable",
        "amount",
        "currency",
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
    exclude = ["client"]
    readonly_fields = [
        "confirmed_by" if f.name == "client" else f.name for f in Payment._meta.fields
    ]
    scope_queryset = staticmethod(lambda scope, qs: journal_selectors.scoped_payments(scope))

    @admin.display(description="client")
    def confirmed_by(self, obj):
        kind, _, ident = obj.client.partition(":")
        return f"key:{ident.partition('.')[0]}" if kind == "key" else obj.client
