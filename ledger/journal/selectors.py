"""Read queries over the journal: payables with what is owed, paid and due, and balances.

Every figure is a sum of postings, computed in the query; nothing is cached, so a balance is by
construction the sum of its postings."""

from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict

from django.db.models import (
    DecimalField,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Round

from core.money import DECIMAL_PLACES, MAX_DIGITS, round_money
from ledger import access
from ledger.models import Account, JournalTransaction, Payable, Payment, Posting

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    class _Amounts(TypedDict):
        owed_amount: Decimal
        paid_amount: Decimal
        due_amount: Decimal

    # A payable with what is owed, paid and due annotated (payables_with_amounts()).
    PayableWithAmounts = WithAnnotations[Payable, _Amounts]

MONEY: "DecimalField[Decimal, Decimal]" = DecimalField(
    max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES
)
ZERO = Value(Decimal("0.00"), output_field=MONEY)


def _effect_sum(effect: str) -> Coalesce:
    sums = (
        Posting.objects.filter(payable_id=OuterRef("pk"), effect=effect)
        .order_by()
        .values("payable_id")
        # SQLite sums decimals as floats: round to the cent, so that a fully paid payable
        # has a due of exactly zero (not 1e-16, which `due_amount__gt=0` would call open).
        .annotate(total=Round(Sum("amount"), DECIMAL_PLACES, output_field=MONEY))
        .values("total")
    )
    return Coalesce(Subquery(sums, output_field=MONEY), ZERO, output_field=MONEY)


def payables_with_amounts(
    qs: QuerySet[Payable] | None = None,
) -> "QuerySet[PayableWithAmounts]":
    qs = Payable.objects.all() if qs is None else qs
    return qs.annotate(
        owed_amount=-_effect_sum("owed"),
        paid_amount=_effect_sum("paid"),
    ).annotate(
        due_amount=Round(F("owed_amount") - F("paid_amount"), DECIMAL_PLACES, output_field=MONEY)
    )


def scoped_payables(scope: access.Scope, qs: QuerySet[Payable] | None = None) -> QuerySet[Payable]:
    qs = Payable.objects.all() if qs is None else qs
    if scope.superuser:
        return qs
    return qs.filter(Q(studio_id__in=scope.studio_ids) | Q(agreement__guild_id__in=scope.guild_ids))


# What the payables list and its CSV export show of the related rows; loading only these (and
# the agreement in the same query, not one per row) keeps 500-row pages cheap.
OPEN_PAYABLE_RELATED = [
    "person__id",
    "person__legal_name",
    "person__professional_name",
    "person__payroll_ref",
    "production__id",
    "production__title",
    "agreement__id",
    "agreement__code",
]


def open_payables(scope: access.Scope) -> "QuerySet[PayableWithAmounts]":
    """Obligations with an amount still due, in the caller's scope, in id order. Every column
    of the payable is loaded; of its person, production and agreement, OPEN_PAYABLE_RELATED."""
    qs = Payable.objects.select_related("person", "production", "agreement").only(
        *(f.name for f in Payable._meta.concrete_fields), *OPEN_PAYABLE_RELATED
    )
    with_due = payables_with_amounts(scoped_payables(scope, qs)).filter(due_amount__gt=Decimal(0))
    return with_due.order_by("id")


def scoped_payments(scope: access.Scope) -> QuerySet[Payment]:
    qs = Payment.objects.select_related("payable__person", "payable__production")
    if scope.superuser:
        return qs
    return qs.filter(
        Q(payable__studio_id__in=scope.studio_ids)
        | Q(payable__agreement__guild_id__in=scope.guild_ids)
    )


def scoped_transactions(scope: access.Scope) -> QuerySet[JournalTransaction]:
    """Studio staff and payroll keys see their studios' transactions; guild staff see none (a
    transaction may touch people outside their guild)."""
    qs = JournalTransaction.objects.all()
    if scope.superuser:
        return qs
    return qs.filter(studio_id__in=scope.studio_ids)


BALANCE_GROUPS = {
    "studio": ["account__studio_id"],
    "production": ["account__studio_id", "account__production_id"],
    "person": ["account__studio_id", "account__person_id"],
    "engagement": ["account__studio_id", "account__engagement_id"],
    "fund": ["account__studio_id", "account__fund"],
}
PAYEE_ACCOUNTS = [Account.Purpose.PERSON_PAYABLE, Account.Purpose.UNION_FUND_PAYABLE]
# The groups of one payee kind: a person's and an engagement's balances are what is owed to the
# person (a fund's contribution on their behalf is the fund's, under group `fund`).
GROUP_PAYEES = {
    "person": [Account.Purpose.PERSON_PAYABLE],
    "engagement": [Account.Purpose.PERSON_PAYABLE],
    "fund": [Account.Purpose.UNION_FUND_PAYABLE],
}
BALANCE_FILTERS = {
    "studio": "account__studio_id",
    "production": "account__production_id",
    "person": "account__person_id",
    "engagement": "account__engagement_id",
    "fund": "account__fund",
}


def balances(scope: access.Scope, *, group: str, filters: dict[str, Any]) -> list[dict[str, Any]]:
    """Owed, paid and due per `group` and currency, summed from the postings of payables: to
    people and to union funds for groups `studio` and `production`; to people only for `person`
    and `engagement`; to funds only for `fund`. Filters narrow the accounts the same way (a
    `person` or `engagement` filter keeps people's payables, a `fund` filter funds')."""
    postings = Posting.objects.filter(
        account__purpose__in=GROUP_PAYEES.get(group, PAYEE_ACCOUNTS), payable__isnull=False
    )
    if not scope.superuser:
        postings = postings.filter(
            Q(account__studio_id__in=scope.studio_ids)
            | Q(payable__agreement__guild_id__in=scope.guild_ids)
        )
    postings = postings.filter(
        **{BALANCE_FILTERS[k]: v for k, v in filters.items() if v is not None}
    )
    keys = BALANCE_GROUPS[group]
    rows = (
        postings.order_by()
        .values(*keys, "currency")
        .annotate(
            owed=Coalesce(-Sum("amount", filter=Q(effect="owed")), ZERO, output_field=MONEY),
            paid=Coalesce(Sum("amount", filter=Q(effect="paid")), ZERO, output_field=MONEY),
        )
        .order_by(*keys, "currency")
    )
    return [
        {
            **{key.removeprefix("account__").removesuffix("_id"): row[key] for key in keys},
            "currency": row["currency"],
            # SQLite sums decimals as floats: round to the cent, as payable_amounts does.
            "owed": round_money(row["owed"]),
            "paid": round_money(row["paid"]),
            "due": round_money(row["owed"] - row["paid"]),
        }
        for row in rows
    ]
