"""The payroll API's list filters (see ledger.access.filters: a filter naming a row must name
one the caller can see)."""

import django_filters

from core.api.common import IdFilter, TextFilter, UtcDateTimeFilter
from ledger.access import Scope
from ledger.access.filters import (
    KNOWN,
    IdsFilter,
    KnownValuesFilterSet,
    StudioFilter,
)
from ledger.journal import selectors as journal_selectors
from ledger.journal.services import FUND_TITLES
from ledger.models import JournalTransaction, Payable, Payment


def payable_visible(scope: Scope, value: int) -> bool:
    return journal_selectors.scoped_payables(scope).filter(pk=value).exists()


def fund_known(scope: Scope, value: str) -> bool:
    return value in FUND_TITLES or Payable.objects.filter(fund=value).exists()


PAYEE_KINDS = ["person", "fund"]


class PayableFilter(KnownValuesFilterSet):
    id = IdsFilter(field_name="id")  # documented by the views (ids_parameter)
    production = IdFilter(field_name="production_id")
    person = IdFilter(field_name="person_id")
    payee_kind = django_filters.ChoiceFilter(
        choices=[(kind, kind) for kind in PAYEE_KINDS], method="filter_payee_kind"
    )
    fund = TextFilter(field_name="fund", max_length=60)
    studio = StudioFilter()
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lt")

    known = {**KNOWN, "fund": fund_known}

    def filter_payee_kind(self, queryset, name, value):
        return queryset.filter(fund="") if value == "person" else queryset.exclude(fund="")

    class Meta:
        model = Payable
        fields = ["currency"]


class PaymentFilter(KnownValuesFilterSet):
    payable = IdFilter(field_name="payable_id")
    person = IdFilter(field_name="payable__person_id")
    production = IdFilter(field_name="payable__production_id")
    paid_after = UtcDateTimeFilter(field_name="paid_at", lookup_expr="gte")
    paid_before = UtcDateTimeFilter(field_name="paid_at", lookup_expr="lt")

    known = {**KNOWN, "payable": payable_visible}

    class Meta:
        model = Payment
        fields = ["payroll_reference"]


class TransactionFilter(KnownValuesFilterSet):
    studio = StudioFilter()
    after_seq = IdFilter(field_name="seq", lookup_expr="gt")

    class Meta:
        model = JournalTransaction
        fields = ["kind"]
