"""Read queries over the journal: payables with what is owed, paid and due, and balances.

Every figure is a sum of postings, computed in the query; nothing is cached, so a balance is by
construction the sum of its postings."""

from decimal import Decimal

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
from django.db.models.functions import Coalesce

from . import access
from .journal import Account, JournalTransaction, Payable, Payment, Posting
from .money import DECIMAL_PLACES, MAX_DIGITS

MONEY = DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES)
ZERO = Value(Decimal("0.00"), output_field=MONEY)


def _effect_sum(effect: str):
    sums = (
        Posting.objects.filter(payable_id=OuterRef("pk"), effect=effect)
        .order_by()
        .values("payable_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(Subquery(sums, output_field=MONEY), ZERO, output_field=MONEY)


def payables_with_amounts(qs: QuerySet | None = None) -> QuerySet:
    qs = Payable.objects.all() if qs is None else qs
    return qs.annotate(
        owed_amount=-_effect_sum("owed"),
        paid_amount=_effect_sum("paid"),
    ).annotate(due_amount=F("owed_amount") - F("paid_amount"))


def scoped_payables(scope: access.Scope, qs: QuerySet | None = None) -> QuerySet:
    qs = Payable.objects.all() if qs is None else qs
    if scope.superuser:
        return qs
    return qs.filter(Q(studio_id__in=scope.studio_ids) | Q(agreement__guild_id__in=scope.guild_ids))


def open_payables(scope: access.Scope) -> QuerySet:
    """Obligations with an amount still due, in the caller's scope, in id order."""
    qs = scoped_payables(scope, Payable.objects.select_related("person", "production"))
    return payables_with_amounts(qs).filter(due_amount__gt=0).order_by("id")


def scoped_payments(scope: access.Scope) -> QuerySet:
    qs = Payment.objects.select_related("payable__person", "payable__production")
    if scope.superuser:
        return qs
    return qs.filter(
        Q(payable__studio_id__in=scope.studio_ids)
        | Q(payable__agreement__guild_id__in=scope.guild_ids)
    )


def scoped_transactions(scope: access.Scope) -> QuerySet:
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
}


def balances(scope: access.Scope, *, group: str, filters: dict) -> list[dict]:
    """Owed, paid and due per `group` and currency, summed from person-payable postings."""
    postings = Posting.objects.filter(
        account__purpose=Account.Purpose.PERSON_PAYABLE, payable__isnull=False
    )
    if not scope.superuser:
        postings = postings.filter(
            Q(account__studio_id__in=scope.studio_ids)
            | Q(payable__agreement__guild_id__in=scope.guild_ids)
        )
    lookups = {
        "studio": "account__studio_id",
        "production": "account__production_id",
        "person": "account__person_id",
        "engagement": "account__engagement_id",
    }
    postings = postings.filter(**{lookups[k]: v for k, v in filters.items() if v is not None})
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
            "owed": row["owed"],
            "paid": row["paid"],
            "due": row["owed"] - row["paid"],
        }
        for row in rows
    ]
