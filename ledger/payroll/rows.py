"""One payable as payroll reads it, the same in the API's pages, its CSV export and the
`payables.created` webhook message."""

import orjson
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast

from ledger.journal import selectors as journal_selectors
from ledger.models import Payable


def payable_values(qs: QuerySet) -> QuerySet:
    """`qs` (payables with amounts) as the `.values()` rows payable_row reads."""
    return qs.annotate(fringes_json=Cast("fringes", TextField())).values(*PAYABLE_VALUES)


PAYABLE_VALUES = [
    "id",
    "fund",
    "person_id",
    "person__legal_name",
    "person__professional_name",
    "person__payroll_ref",
    "production_id",
    "production__title",
    "engagement_id",
    "agreement__code",
    "rule",
    "description",
    "owed_amount",
    "paid_amount",
    "due_amount",
    "currency",
    "fringes_json",
    "period_from",
    "period_to",
    "due_date",
]


def payable_row(v: dict) -> dict:
    """One payable as the API shows it (the shape PayableSerializer documents), built from a
    `.values()` row: payroll pages through thousands of these, and model instances plus
    field-by-field serialization cost several times the query itself. Amounts arrive already
    rounded to the cent by the query (journal_selectors), so formatting them is enough; dates
    are left to the renderer (ISO 8601)."""
    person_id = v["person_id"]
    return {
        "id": v["id"],
        "payee": {
            "kind": "fund" if v["fund"] else "person",
            "person": person_id,
            "fund": v["fund"],
        },
        "person": None
        if person_id is None
        else {
            "id": person_id,
            "name": v["person__professional_name"] or v["person__legal_name"],
            "payroll_ref": v["person__payroll_ref"],
        },
        "production": {"id": v["production_id"], "title": v["production__title"]},
        "engagement": v["engagement_id"],
        "agreement": v["agreement__code"],
        "rule": v["rule"],
        "description": v["description"],
        "amount": f"{v['owed_amount']:.2f}",
        "paid": f"{v['paid_amount']:.2f}",
        "due": f"{v['due_amount']:.2f}",
        "currency": v["currency"],
        # Stored as [{fund, rule, amount: "0.00"}] by payable_create; passed through as JSON text.
        "fringes": orjson.Fragment(v["fringes_json"]),
        "period_from": v["period_from"],
        "period_to": v["period_to"],
        "due_date": v["due_date"],
    }


def payables_message(ids: list[int]) -> list[dict]:
    """The payables `ids` as plain JSON values, in id order: what a `payables.created` message
    carries of each, so that a receiver needs no call to act on it."""
    qs = journal_selectors.payables_with_amounts(Payable.objects.filter(pk__in=ids)).order_by("id")
    return [orjson.loads(orjson.dumps(payable_row(v))) for v in payable_values(qs)]
