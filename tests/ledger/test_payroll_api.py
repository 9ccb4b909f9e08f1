"""The payroll integration over REST, as a payroll system and studio staff use it: payables (what
is owed and still due), payments under an Idempotency-Key, balances, the journal's transactions
with their reversal, and the CSV exports of the same queries."""

import csv
import io
import json
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from ledger.journal import services as journal_services
from ledger.journal.services import Fringe
from ledger.journal.verify import verify_chain
from ledger.models import IdempotencyRecord, JournalTransaction, Payable, Payment, Posting
from tests.factories import (
    EngagementFactory,
    PersonFactory,
    ProductionFactory,
    StudioFactory,
    agreement,
    guild_staff,
    payroll_key,
    studio_staff,
)
from tests.helpers import csv_text, key_client, make_payable

pytestmark = pytest.mark.django_db

PAYABLES = "/api/v1/payables/"
PAYMENTS = "/api/v1/payments/"
BALANCES = "/api/v1/ledger/balances/"
TRANSACTIONS = "/api/v1/ledger/transactions/"
PAID_AT = "2025-07-01T12:00:00Z"

PAYABLE_FIELDS = {
    "id",
    "payee",
    "person",
    "production",
    "engagement",
    "agreement",
    "rule",
    "description",
    "amount",
    "paid",
    "due",
    "currency",
    "fringes",
    "period_from",
    "period_to",
    "due_date",
}


# --- helpers (also used by test_payment_concurrency) ----------------------------------------


def user_client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def payment_body(payable, amount, ref, paid_at=PAID_AT) -> dict:
    payable_id = payable.pk if isinstance(payable, Payable) else payable
    return {
        "payable": payable_id,
        "amount": str(amount),
        "paid_at": paid_at,
        "payroll_reference": ref,
    }


def pay(client, payable, amount, *, key, ref, paid_at=PAID_AT):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(
        PAYMENTS,
        payment_body(payable, amount, ref, paid_at),
        format="json",
        headers=headers,
    )


def list_all(client, url, params=None) -> list[dict]:
    """Every item of a cursor-paginated list, following `next`."""
    response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    items = list(response.json()["results"])
    while response.json()["next"]:
        response = client.get(response.json()["next"])
        assert response.status_code == 200, response.content
        items.extend(response.json()["results"])
    return items


def error(response, status, code):
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert set(body) == {"code", "message", "fields"}, body
    assert body["code"] == code, body
    return body


def counts() -> dict:
    return {
        "payments": Payment.objects.count(),
        "transactions": JournalTransaction.objects.count(),
        "postings": Posting.objects.count(),
        "idempotency": IdempotencyRecord.objects.count(),
    }


def csv_rows(response) -> list[dict]:
    assert response.status_code == 200, response
    assert response["Content-Type"].startswith("text/csv")
    text = csv_text(response)
    return list(csv.DictReader(io.StringIO(text)))


def money(value) -> Decimal:
    return Decimal(value)


# --- the world ------------------------------------------------------------------------------


@dataclass
class World:
    studio_a: object
    studio_b: object
    pa1: object
    pa2: object
    pb: object
    ann: object
    abe: object
    bob: object
    ann_pa1: object
    ann_pa2: object
    abe_pa1: object
    bob_pb: object
    staff_a: object
    staff_b: object
    sag_staff: object
    raw_a: str
    raw_b: str
    raw_ab: str

    def payable(self, engagement, amount, **kwargs) -> Payable:
        actor = self.staff_a if engagement.production.studio_id == self.studio_a.pk else None
        return make_payable(engagement, amount, actor=actor or self.staff_b, **kwargs)


@pytest.fixture
def world() -> World:
    sag = agreement("sag-tvth-2023")
    studio_a = StudioFactory(name="Alpha Pictures", slug="alpha")
    studio_b = StudioFactory(name="Bravo Studios", slug="bravo")
    pa1 = ProductionFactory(studio=studio_a, title="Alpha One")
    pa2 = ProductionFactory(studio=studio_a, title="Alpha Two")
    pb = ProductionFactory(studio=studio_b, title="Bravo One")
    ann = PersonFactory(legal_name="Ann Actor", payroll_ref="PR-ANN", registered_by=studio_a)
    abe = PersonFactory(legal_name="Abe Actor", payroll_ref="PR-ABE", registered_by=studio_a)
    bob = PersonFactory(legal_name="Bob Actor", payroll_ref="PR-BOB", registered_by=studio_b)
    _key_a, raw_a = payroll_key(studio_a, name="payroll-a")
    _key_b, raw_b = payroll_key(studio_b, name="payroll-b")
    _key_ab, raw_ab = payroll_key(studio_a, studio_b, name="payroll-ab")
    return World(
        studio_a=studio_a,
        studio_b=studio_b,
        pa1=pa1,
        pa2=pa2,
        pb=pb,
        ann=ann,
        abe=abe,
        bob=bob,
        ann_pa1=EngagementFactory(person=ann, production=pa1, agreement=sag),
        ann_pa2=EngagementFactory(person=ann, production=pa2, agreement=sag),
        abe_pa1=EngagementFactory(person=abe, production=pa1, agreement=sag),
        bob_pb=EngagementFactory(person=bob, production=pb, agreement=sag),
        staff_a=studio_staff(studio_a, "staff-a"),
        staff_b=studio_staff(studio_b, "staff-b"),
        sag_staff=guild_staff("sag-aftra", "staff-sag"),
        raw_a=raw_a,
        raw_b=raw_b,
        raw_ab=raw_ab,
    )


def obligation_of(payable) -> JournalTransaction:
    return Posting.objects.get(payable=payable, effect="owed", amount__lt=0).transaction


# --- payables -------------------------------------------------------------------------------


def test_payable_item_has_exactly_the_documented_shape(world):
    payable = world.payable(
        world.ann_pa1,
        "1500.00",
        due_date=date(2025, 7, 10),
        fringes=[
            Fringe(fund="sag-pension", rule="SAG-PH", amount=Decimal("315.00")),
            Fringe(fund="sag-health", rule="SAG-PH", amount=Decimal("45.5")),
        ],
        description="Day performer, week 1",
    )
    items = list_all(key_client(world.raw_a), PAYABLES)
    assert [i["payee"]["kind"] for i in items] == ["person", "fund", "fund"]
    item, pension, health = items
    assert set(item) == set(pension) == PAYABLE_FIELDS
    common = {
        "production": {"id": world.pa1.pk, "title": "Alpha One"},
        "engagement": world.ann_pa1.pk,
        "agreement": "sag-tvth-2023",
        "paid": "0.00",
        "currency": "USD",
        "fringes": [],  # the contributions are payables of their own
        "period_from": "2025-06-02",
        "period_to": "2025-06-06",
        "due_date": "2025-07-10",
    }
    assert item == {
        "id": payable.pk,
        "payee": {"kind": "person", "person": world.ann.pk, "fund": ""},
        "person": {"id": world.ann.pk, "name": "Ann Actor", "payroll_ref": "PR-ANN"},
        "rule": "SAG-TVTH-DAY",
        "description": "Day performer, week 1",
        "amount": "1500.00",
        "due": "1500.00",
        **common,
    }
    assert pension == {
        "id": pension["id"],
        "payee": {"kind": "fund", "person": None, "fund": "sag-pension"},
        "person": None,
        "rule": "SAG-PH",
        "description": f"sag-pension: contribution for person #{world.ann.pk}, Alpha One, "
        "2025-06-02 – 2025-06-06",
        "amount": "315.00",
        "due": "315.00",
        **common,
    }
    assert (health["payee"]["fund"], health["amount"]) == ("sag-health", "45.50")
    for one in items:
        detail = key_client(world.raw_a).get(f"{PAYABLES}{one['id']}/")
        assert detail.status_code == 200
        assert detail.json() == one


def test_payables_list_only_what_is_still_due(world):
    client = key_client(world.raw_a)
    open_one = world.payable(world.ann_pa1, "1000.00")
    partly_paid = world.payable(world.ann_pa2, "800.00")
    fully_paid = world.payable(world.abe_pa1, "600.00")
    reversed_one = world.payable(world.abe_pa1, "400.00")

    assert {i["id"] for i in list_all(client, PAYABLES)} == {
        open_one.pk,
        partly_paid.pk,
        fully_paid.pk,
        reversed_one.pk,
    }

    assert pay(client, partly_paid, "300.00", key="k-1", ref="REF-1").status_code == 201
    assert pay(client, fully_paid, "600.00", key="k-2", ref="REF-2").status_code == 201
    staff = user_client(world.staff_a)
    reversal = staff.post(
        f"{TRANSACTIONS}{obligation_of(reversed_one).pk}/reverse/",
        {"reason": "Entered twice"},
        format="json",
    )
    assert reversal.status_code == 201, reversal.content

    items = {i["id"]: i for i in list_all(client, PAYABLES)}
    assert set(items) == {open_one.pk, partly_paid.pk}
    assert (items[partly_paid.pk]["amount"], items[partly_paid.pk]["paid"]) == ("800.00", "300.00")
    assert items[partly_paid.pk]["due"] == "500.00"
    assert items[open_one.pk]["due"] == "1000.00"
    # Gone from the list, and its detail answers like a missing object.
    assert client.get(f"{PAYABLES}{fully_paid.pk}/").status_code == 404
    assert client.get(f"{PAYABLES}{reversed_one.pk}/").status_code == 404


def test_payables_filters(world):
    client = key_client(world.raw_ab)
    p1 = world.payable(world.ann_pa1, "100.00", due_date=date(2025, 7, 10))
    p2 = world.payable(world.ann_pa2, "200.00", due_date=date(2025, 7, 20))
    p3 = world.payable(world.abe_pa1, "300.00", due_date=date(2025, 7, 31))
    p4 = world.payable(world.bob_pb, "400.00", due_date=date(2025, 7, 1))

    def ids(**params):
        return {i["id"] for i in list_all(client, PAYABLES, params)}

    assert ids() == {p1.pk, p2.pk, p3.pk, p4.pk}
    assert ids(production=world.pa1.pk) == {p1.pk, p3.pk}
    assert ids(production=world.pb.pk) == {p4.pk}
    assert ids(person=world.ann.pk) == {p1.pk, p2.pk}
    assert ids(person=world.bob.pk) == {p4.pk}
    assert ids(studio="alpha") == {p1.pk, p2.pk, p3.pk}
    assert ids(studio="bravo") == {p4.pk}
    assert ids(studio=world.studio_a.pk) == {p1.pk, p2.pk, p3.pk}  # its id or its slug
    refused = error(client.get(PAYABLES, {"studio": "nowhere"}), 400, "invalid")
    assert refused["fields"] == {"studio": ["No studio nowhere that you can see."]}
    assert ids(id=f"{p1.pk},{p4.pk}") == {p1.pk, p4.pk}
    assert ids(id=p2.pk, studio="alpha") == {p2.pk}
    refused = error(client.get(PAYABLES, {"id": ",".join(["1"] * 101)}), 400, "invalid")
    assert refused["fields"] == {"id": ["At most 100 ids."]}
    # A value holding a `%` is named as given (the message is not formatted with it).
    refused = error(client.get(PAYABLES, {"studio": "100%s%(x)s"}), 400, "invalid")
    assert refused["fields"] == {"studio": ["No studio 100%s%(x)s that you can see."]}
    for bad in ("0", f"{p1.pk},-3", "1.5", "one"):
        assert set(error(client.get(PAYABLES, {"id": bad}), 400, "invalid")["fields"]) == {"id"}
    assert ids(due_before="2025-07-20") == {p1.pk, p4.pk}  # strictly before
    assert ids(due_before="2025-07-21") == {p1.pk, p2.pk, p4.pk}
    assert ids(studio="alpha", person=world.ann.pk, due_before="2025-07-15") == {p1.pk}
    # The same filters through a key for studio A alone never reach studio B.
    only_a = key_client(world.raw_a).get(PAYABLES, {"studio": "bravo"})
    assert error(only_a, 400, "invalid")["fields"] == {
        "studio": ["No studio bravo that you can see."]
    }
    assert error(client.get(PAYABLES, {"due_before": "soon"}), 400, "invalid")["fields"]


def test_cursor_pages_neither_repeat_nor_skip_while_payables_are_added(world):
    client = key_client(world.raw_a)
    originals = [world.payable(world.ann_pa1, f"{100 + n}.00") for n in range(7)]
    original_ids = [p.pk for p in originals]

    page1 = client.get(PAYABLES, {"page_size": 3})
    assert page1.status_code == 200
    body1 = page1.json()
    assert [i["id"] for i in body1["results"]] == original_ids[:3]
    assert body1["next"] and body1["previous"] is None

    # While the client pages: new payables arrive, and a row it already saw is paid off.
    added = [world.payable(world.abe_pa1, "50.00") for _ in range(4)]
    assert pay(client, originals[0], "100.00", key="k-off", ref="OFF-1").status_code == 201

    seen = [i["id"] for i in body1["results"]]
    response = client.get(body1["next"])
    assert response.status_code == 200
    page2 = [i["id"] for i in response.json()["results"]]
    assert page2 == original_ids[3:6]
    seen.extend(page2)
    while response.json()["next"]:
        response = client.get(response.json()["next"])
        assert response.status_code == 200
        assert len(response.json()["results"]) <= 3
        seen.extend(i["id"] for i in response.json()["results"])

    assert len(seen) == len(set(seen)), "a row was repeated"
    assert [i for i in seen if i in original_ids] == original_ids, "an original was skipped"
    assert seen == original_ids + [p.pk for p in added]


# --- payments -------------------------------------------------------------------------------


def test_payment_without_idempotency_key_is_refused_and_writes_nothing(world):
    payable = world.payable(world.ann_pa1, "1000.00")
    client = key_client(world.raw_a)
    before = counts()
    error(pay(client, payable, "100.00", key=None, ref="R-1"), 400, "idempotency_key_required")
    error(pay(client, payable, "100.00", key="   ", ref="R-1"), 400, "idempotency_key_required")
    error(pay(client, payable, "100.00", key="k" * 256, ref="R-1"), 400, "idempotency_key_invalid")
    assert counts() == before


def test_payment_is_recorded_once_and_posted(world):
    payable = world.payable(world.ann_pa1, "1000.00")
    client = key_client(world.raw_a)
    before = counts()
    response = pay(client, payable, "250.00", key="k-1", ref="PAY-001")
    assert response.status_code == 201, response.content
    assert "Idempotent-Replayed" not in response
    body = response.json()
    assert set(body) == {
        "id",
        "payable",
        "amount",
        "currency",
        "paid_at",
        "payroll_reference",
        "transaction",
        "created_at",
    }
    payment = Payment.objects.get()
    assert body["id"] == payment.pk
    assert body["payable"] == payable.pk
    assert (body["amount"], body["currency"]) == ("250.00", "USD")
    assert body["payroll_reference"] == "PAY-001"
    assert body["transaction"] == str(payment.transaction_id)
    assert payment.client.startswith("key:")
    tx = JournalTransaction.objects.get(pk=payment.transaction_id)
    assert tx.kind == "payment"
    assert counts() == {
        "payments": before["payments"] + 1,
        "transactions": before["transactions"] + 1,
        "postings": before["postings"] + 2,
        "idempotency": before["idempotency"] + 1,
    }
    postings = list(tx.postings.all())
    assert sorted(p.amount for p in postings) == [Decimal("-250.00"), Decimal("250.00")]
    assert journal_services.payable_amounts(payable.pk)["due"] == Decimal("750.00")
    assert verify_chain().ok


def test_retry_with_same_key_and_body_replays_the_first_response_byte_for_byte(world):
    payable = world.payable(world.ann_pa1, "1000.00")
    client = key_client(world.raw_a)
    first = pay(client, payable, "250.00", key="retry-1", ref="PAY-001")
    assert first.status_code == 201
    after_first = counts()
    for _ in range(2):
        again = pay(client, payable, "250.00", key="retry-1", ref="PAY-001")
        assert again.status_code == first.status_code
        assert again["Idempotent-Replayed"] == "true"
        assert again.content == first.content
    assert counts() == after_first
    assert Payment.objects.filter(payable=payable).count() == 1
    assert JournalTransaction.objects.filter(kind="payment").count() == 1
    # The same body in another spelling of the same instant is the same request.
    same_instant = pay(
        client, payable, "250.00", key="retry-1", ref="PAY-001", paid_at="2025-07-01T12:00:00+00:00"
    )
    assert same_instant.status_code == 201 and same_instant.content == first.content
    assert journal_services.payable_amounts(payable.pk)["due"] == Decimal("750.00")


def test_same_key_with_another_body_is_refused(world):
    payable = world.payable(world.ann_pa1, "1000.00")
    other = world.payable(world.ann_pa2, "1000.00")
    client = key_client(world.raw_a)
    assert pay(client, payable, "250.00", key="k-1", ref="PAY-001").status_code == 201
    before = counts()
    error(pay(client, payable, "300.00", key="k-1", ref="PAY-001"), 422, "idempotency_key_reused")
    error(pay(client, payable, "250.00", key="k-1", ref="PAY-002"), 422, "idempotency_key_reused")
    error(pay(client, other, "250.00", key="k-1", ref="PAY-001"), 422, "idempotency_key_reused")
    error(
        pay(client, payable, "250.00", key="k-1", ref="PAY-001", paid_at="2025-07-02T12:00:00Z"),
        422,
        "idempotency_key_reused",
    )
    assert counts() == before


def test_idempotency_keys_belong_to_their_client(world):
    """Another caller using the same key string makes its own payment, not a replay."""
    payable = world.payable(world.ann_pa1, "1000.00")
    first = pay(key_client(world.raw_a), payable, "100.00", key="shared", ref="PAY-001")
    second = pay(key_client(world.raw_ab), payable, "100.00", key="shared", ref="PAY-001")
    assert first.status_code == second.status_code == 201
    assert "Idempotent-Replayed" not in second
    assert first.json()["id"] != second.json()["id"]
    assert journal_services.payable_amounts(payable.pk)["paid"] == Decimal("200.00")


def test_overpayment_is_refused(world):
    payable = world.payable(world.ann_pa1, "1000.00")
    client = key_client(world.raw_a)
    before = counts()
    body = error(pay(client, payable, "1000.01", key="k-1", ref="PAY-001"), 422, "overpayment")
    assert "1000.00" in body["message"]
    assert counts() == before
    assert pay(client, payable, "600.00", key="k-2", ref="PAY-002").status_code == 201
    error(pay(client, payable, "400.01", key="k-3", ref="PAY-003"), 422, "overpayment")
    assert pay(client, payable, "400.00", key="k-4", ref="PAY-004").status_code == 201
    error(pay(client, payable, "0.01", key="k-5", ref="PAY-005"), 422, "overpayment")
    assert journal_services.payable_amounts(payable.pk) == {
        "owed": Decimal("1000.00"),
        "paid": Decimal("1000.00"),
        "due": Decimal("0.00"),
    }
    # The refusal was not remembered: the key is free for a valid request... on another payable.
    other = world.payable(world.ann_pa2, "10.00")
    assert pay(client, other, "0.01", key="k-5", ref="PAY-005").status_code == 201


def test_reference_already_used_under_another_key_is_a_conflict(world):
    payable = world.payable(world.ann_pa1, "1000.00")
    other = world.payable(world.ann_pa2, "1000.00")
    client = key_client(world.raw_a)
    assert pay(client, payable, "100.00", key="k-1", ref="PAY-001").status_code == 201
    before = counts()
    error(pay(client, payable, "100.00", key="k-2", ref="PAY-001"), 409, "duplicate_reference")
    error(pay(client, other, "50.00", key="k-3", ref="PAY-001"), 409, "duplicate_reference")
    assert counts() == before
    # Another client may use the same reference.
    assert (
        pay(key_client(world.raw_ab), other, "50.00", key="k-3", ref="PAY-001").status_code == 201
    )


def test_partial_payments_reduce_what_is_due(world):
    payable = world.payable(world.ann_pa1, "1000.00")
    client = key_client(world.raw_a)
    for n, (amount, due) in enumerate(
        [("100.00", "900.00"), ("0.01", "899.99"), ("399.99", "500.00"), ("500.00", None)]
    ):
        response = pay(client, payable, amount, key=f"k-{n}", ref=f"PAY-{n}")
        assert response.status_code == 201, response.content
        listed = {i["id"]: i for i in list_all(client, PAYABLES)}
        if due is None:
            assert payable.pk not in listed
        else:
            assert listed[payable.pk]["due"] == due
            assert money(listed[payable.pk]["paid"]) == Decimal("1000.00") - money(due)
    payments = list_all(client, PAYMENTS, {"payable": payable.pk})
    assert [p["amount"] for p in payments] == ["100.00", "0.01", "399.99", "500.00"]
    assert verify_chain().ok


@pytest.mark.parametrize("amount", ["0", "-5.00", "0.001", "abc", "1e400"])
def test_bad_amounts_are_field_errors(world, amount):
    payable = world.payable(world.ann_pa1, "1000.00")
    before = counts()
    body = error(
        pay(key_client(world.raw_a), payable, amount, key="k-1", ref="PAY-1"), 400, "invalid"
    )
    assert "amount" in body["fields"]
    assert counts() == before


@pytest.mark.parametrize("caller", ["payroll_b", "staff_b"])
def test_paying_another_studios_payable_is_a_field_error_and_writes_nothing(world, caller):
    payable = world.payable(world.ann_pa1, "1000.00")
    client = key_client(world.raw_b) if caller == "payroll_b" else user_client(world.staff_b)
    before = counts()
    body = error(pay(client, payable, "100.00", key="k-1", ref="PAY-001"), 400, "invalid")
    assert "payable" in body["fields"]
    assert counts() == before
    assert journal_services.payable_amounts(payable.pk)["paid"] == Decimal("0")
    # The failed attempt did not take the key: the caller may use it for its own payable.
    own = world.payable(world.bob_pb, "500.00")
    assert pay(client, own, "100.00", key="k-1", ref="PAY-001").status_code == 201


def test_studio_staff_may_record_a_payment_for_their_studio(world):
    payable = world.payable(world.ann_pa1, "1000.00")
    response = pay(user_client(world.staff_a), payable, "100.00", key="k-1", ref="PAY-001")
    assert response.status_code == 201, response.content
    assert Payment.objects.get().client == f"user:{world.staff_a.pk}"


def test_guild_staff_cannot_record_payments(world):
    payable = world.payable(world.ann_pa1, "1000.00")
    client = user_client(world.sag_staff)
    before = counts()
    error(pay(client, payable, "100.00", key="k-1", ref="PAY-001"), 403, "permission_denied")
    assert counts() == before


def test_unauthenticated_callers_get_nothing(world):
    payable = world.payable(world.ann_pa1, "1000.00")
    anonymous = APIClient()
    assert anonymous.get(PAYABLES).status_code in (401, 403)
    assert pay(anonymous, payable, "100.00", key="k-1", ref="PAY-1").status_code in (401, 403)
    error(
        pay(key_client("not-a-key"), payable, "1.00", key="k", ref="R"),
        401,
        "authentication_failed",
    )
    assert Payment.objects.count() == 0


def test_payroll_key_of_another_studio_sees_and_pays_nothing_of_studio_a(world):
    a_payable = world.payable(world.ann_pa1, "1000.00")
    b_payable = world.payable(world.bob_pb, "700.00")
    client_a, client_b = key_client(world.raw_a), key_client(world.raw_b)
    assert pay(client_a, a_payable, "100.00", key="k-a", ref="PAY-A").status_code == 201
    a_payment = Payment.objects.get(payable=a_payable)

    assert [i["id"] for i in list_all(client_b, PAYABLES)] == [b_payable.pk]
    # Studio A's studio and person read to B's key as ones that do not exist.
    for name, value in {"studio": "alpha", "person": world.ann.pk}.items():
        refused = error(client_b.get(PAYABLES, {name: value}), 400, "invalid")
        assert refused["fields"] == {name: [f"No {name} {value} that you can see."]}
    error(client_b.get(f"{PAYABLES}{a_payable.pk}/"), 404, "not_found")
    assert list_all(client_b, PAYMENTS) == []
    error(client_b.get(f"{PAYMENTS}{a_payment.pk}/"), 404, "not_found")
    b_transactions = list_all(client_b, TRANSACTIONS)
    assert [(t["studio"], t["kind"]) for t in b_transactions] == [("bravo", "obligation")]
    error(client_b.get(f"{TRANSACTIONS}{a_payment.transaction_id}/"), 404, "not_found")
    assert [r["person"] for r in client_b.get(BALANCES, {"group": "person"}).json()] == [
        world.bob.pk
    ]
    assert [int(r["payable_id"]) for r in csv_rows(client_b.get(f"{PAYABLES}export/"))] == [
        b_payable.pk
    ]
    error(client_b.get(f"{PAYABLES}export/", {"studio": "alpha"}), 400, "invalid")
    assert csv_rows(client_b.get(f"{PAYMENTS}export/")) == []

    before = counts()
    body = error(pay(client_b, a_payable, "100.00", key="k-b", ref="PAY-B"), 400, "invalid")
    assert "payable" in body["fields"]
    # Replaying A's exact request under B's key is not a replay of A's payment either.
    body = error(pay(client_b, a_payable, "100.00", key="k-a", ref="PAY-A"), 400, "invalid")
    assert "payable" in body["fields"]
    assert counts() == before


# --- balances -------------------------------------------------------------------------------


def _sums(items, key) -> dict:
    sums = defaultdict(lambda: {"owed": Decimal(0), "paid": Decimal(0), "due": Decimal(0)})
    for item in items:
        row = sums[key(item)]
        row["owed"] += money(item["amount"])
        row["paid"] += money(item["paid"])
        row["due"] += money(item["due"])
    return dict(sums)


@pytest.fixture
def ledger_with_payments(world):
    """Open payables in both studios, some partly paid, one without an engagement."""
    client = key_client(world.raw_ab)
    p = [
        world.payable(world.ann_pa1, "1000.00"),
        world.payable(world.ann_pa1, "250.50"),
        world.payable(world.ann_pa2, "800.00"),
        world.payable(world.abe_pa1, "640.25"),
        world.payable(world.abe_pa1, "99.99", with_engagement=False),
        world.payable(world.bob_pb, "1200.00"),
    ]
    for n, (payable, amount) in enumerate(
        [(p[0], "300.00"), (p[0], "200.00"), (p[2], "0.01"), (p[3], "640.00"), (p[5], "1.50")]
    ):
        assert pay(client, payable, amount, key=f"seed-{n}", ref=f"SEED-{n}").status_code == 201
    return p


def _balance_key(group, world):
    studio_of = {world.pa1.pk: world.studio_a.pk, world.pa2.pk: world.studio_a.pk}
    studio_of[world.pb.pk] = world.studio_b.pk

    def key(item):
        studio = studio_of[item["production"]["id"]]
        if group == "studio":
            return (studio,)
        if group == "production":
            return (studio, item["production"]["id"])
        if group == "person":
            return (studio, item["person"]["id"])
        return (studio, item["engagement"])

    return key


def _balances(client, group, **filters) -> dict:
    response = client.get(BALANCES, {"group": group, **filters})
    assert response.status_code == 200, response.content
    rows = {}
    for row in response.json():
        assert row["currency"] == "USD"
        dims = {"production", "person", "engagement", "fund"}
        assert set(row) == {"studio", "currency", "owed", "paid", "due"} | dims, row
        assert all(row[d] is None for d in dims - {group}), row  # only the grouped key is set
        for name in ("owed", "paid", "due"):
            assert isinstance(row[name], str) and row[name] == f"{money(row[name]):.2f}"
        key = (row["studio"],) if group == "studio" else (row["studio"], row[group])
        rows[key] = {name: money(row[name]) for name in ("owed", "paid", "due")}
    return rows


@pytest.mark.parametrize("group", ["studio", "production", "person", "engagement"])
def test_balances_equal_the_sums_of_the_payables_list(world, ledger_with_payments, group):
    client = key_client(world.raw_ab)
    key = _balance_key(group, world)
    items = list_all(client, PAYABLES)
    assert len(items) == 6  # all open: the list holds every obligation
    assert _balances(client, group) == _sums(items, key)

    cases = [
        ({"production": world.pa1.pk}, {"production": world.pa1.pk}, lambda i: True),
        ({"person": world.ann.pk}, {"person": world.ann.pk}, lambda i: True),
        ({"studio": world.studio_b.pk}, {"studio": "bravo"}, lambda i: True),
        (
            {"engagement": world.abe_pa1.pk},
            {},
            lambda i: i["engagement"] == world.abe_pa1.pk,
        ),
    ]
    for balance_filters, list_filters, keep in cases:
        listed = [i for i in list_all(client, PAYABLES, list_filters) if keep(i)]
        assert listed, balance_filters
        assert _balances(client, group, **balance_filters) == _sums(listed, key), balance_filters


def test_balances_after_a_payable_is_paid_off(world, ledger_with_payments):
    client = key_client(world.raw_ab)
    paid_off = ledger_with_payments[3]  # 640.25, 640.00 paid
    assert pay(client, paid_off, "0.25", key="last", ref="LAST").status_code == 201
    items = list_all(client, PAYABLES)
    assert paid_off.pk not in {i["id"] for i in items}
    key = _balance_key("person", world)
    expected = _sums(items, key)
    # The paid-off payable leaves the list; it still counts as owed and paid, and is not due.
    expected[(world.studio_a.pk, world.abe.pk)]["owed"] += Decimal("640.25")
    expected[(world.studio_a.pk, world.abe.pk)]["paid"] += Decimal("640.25")
    assert _balances(client, "person") == expected
    studio_rows = _balances(client, "studio", studio=world.studio_a.pk)
    assert studio_rows[(world.studio_a.pk,)]["due"] == sum(
        money(i["due"]) for i in list_all(client, PAYABLES, {"studio": "alpha"})
    )


def test_balances_are_scoped_and_validated(world, ledger_with_payments):
    rows_b = _balances(key_client(world.raw_b), "studio")
    assert list(rows_b) == [(world.studio_b.pk,)]
    for raw, person in ((world.raw_b, world.ann), (world.raw_a, world.bob)):
        refused = error(key_client(raw).get(BALANCES, {"person": person.pk}), 400, "invalid")
        assert refused["fields"] == {"person": [f"No person {person.pk} that you can see."]}
    by_id = _balances(key_client(world.raw_b), "studio", studio=world.studio_b.pk)
    assert by_id == _balances(key_client(world.raw_b), "studio", studio=world.studio_b.slug)
    assert list(by_id) == [(world.studio_b.pk,)]
    staff_a = _balances(user_client(world.staff_a), "studio")
    assert list(staff_a) == [(world.studio_a.pk,)]
    client = key_client(world.raw_a)
    error(client.get(BALANCES, {"group": "planet"}), 400, "invalid")
    error(client.get(BALANCES, {"person": "ann"}), 400, "invalid")
    assert client.post(BALANCES, {}, format="json").status_code in (403, 405)


# --- transactions ---------------------------------------------------------------------------


def test_transactions_are_read_only_with_postings_and_scoped(world):
    a_payable = world.payable(
        world.ann_pa1,
        "1000.00",
        fringes=[Fringe(fund="sag-pension", rule="SAG-PH", amount=Decimal("210.00"))],
    )
    b_payable = world.payable(world.bob_pb, "500.00")
    response = pay(key_client(world.raw_a), a_payable, "400.00", key="k-1", ref="PAY-1")
    assert response.status_code == 201
    payment_tx = response.json()["transaction"]

    for client in (key_client(world.raw_a), user_client(world.staff_a)):
        items = list_all(client, TRANSACTIONS)
        assert [t["kind"] for t in items] == ["obligation", "payment"]
        assert [t["seq"] for t in items] == sorted(t["seq"] for t in items)
        assert {t["studio"] for t in items} == {"alpha"}
        obligation, payment = items
        assert obligation["reverses"] is None
        assert len(obligation["postings"]) == 4
        assert sum(money(p["amount"]) for p in obligation["postings"]) == 0
        owed = [p for p in obligation["postings"] if p["effect"] == "owed"]
        pension = Payable.objects.get(fund="sag-pension")
        assert [(p["payable"], p["amount"], p["purpose"]) for p in owed] == [
            (a_payable.pk, "-1000.00", "person_payable"),
            (pension.pk, "-210.00", "union_fund_payable"),
        ]
        assert payment["id"] == payment_tx
        assert sorted(money(p["amount"]) for p in payment["postings"]) == [-400, 400]
        previous = JournalTransaction.objects.get(seq=payment["seq"] - 1)
        assert payment["prev_hash"] == previous.hash  # the chain runs across studios
        assert set(payment) >= {"id", "seq", "kind", "actor", "hash", "postings", "created_at"}

    b_items = list_all(key_client(world.raw_b), TRANSACTIONS)
    assert [(t["studio"], t["kind"]) for t in b_items] == [("bravo", "obligation")]
    assert [p["payable"] for p in b_items[0]["postings"] if p["effect"]] == [b_payable.pk]
    assert list_all(user_client(world.sag_staff), TRANSACTIONS) == []
    assert list_all(key_client(world.raw_ab), TRANSACTIONS, {"studio": "bravo"}) == b_items
    assert [
        t["kind"] for t in list_all(key_client(world.raw_a), TRANSACTIONS, {"kind": "payment"})
    ] == ["payment"]

    before = counts()
    staff = user_client(world.staff_a)
    assert staff.post(TRANSACTIONS, {}, format="json").status_code == 405
    for method in ("put", "patch", "delete"):
        assert getattr(staff, method)(f"{TRANSACTIONS}{payment_tx}/").status_code == 405
    assert key_client(world.raw_a).delete(f"{TRANSACTIONS}{payment_tx}/").status_code == 403
    assert counts() == before


def test_studio_staff_reverse_a_payment_once(world):
    payable = world.payable(world.ann_pa1, "1000.00")
    response = pay(key_client(world.raw_a), payable, "400.00", key="k-1", ref="PAY-1")
    payment_tx = response.json()["transaction"]
    staff = user_client(world.staff_a)
    url = f"{TRANSACTIONS}{payment_tx}/reverse/"

    before = counts()
    reversal = staff.post(url, {"reason": "Paid to the wrong account"}, format="json")
    assert reversal.status_code == 201, reversal.content
    body = reversal.json()
    assert body["kind"] == "reversal"
    assert body["reverses"] == payment_tx
    assert body["actor"] == "staff-a"
    assert "Paid to the wrong account" in body["description"]
    original = staff.get(f"{TRANSACTIONS}{payment_tx}/").json()
    mirrored = sorted((p["account"], money(p["amount"])) for p in original["postings"])
    assert sorted((p["account"], -money(p["amount"])) for p in body["postings"]) == mirrored
    assert counts()["transactions"] == before["transactions"] + 1
    # What was paid is undone: the payable is fully due again.
    listed = {i["id"]: i for i in list_all(key_client(world.raw_a), PAYABLES)}
    assert (listed[payable.pk]["paid"], listed[payable.pk]["due"]) == ("0.00", "1000.00")

    after = counts()
    error(staff.post(url, {"reason": "again"}, format="json"), 409, "already_reversed")
    error(
        staff.post(f"{TRANSACTIONS}{body['id']}/reverse/", {"reason": "x"}, format="json"),
        409,
        "cannot_reverse_reversal",
    )
    assert counts() == after
    assert verify_chain().ok


def test_reverse_is_refused_to_payroll_keys_other_studios_and_bad_input(world):
    payable = world.payable(world.ann_pa1, "1000.00")
    response = pay(key_client(world.raw_a), payable, "400.00", key="k-1", ref="PAY-1")
    url = f"{TRANSACTIONS}{response.json()['transaction']}/reverse/"
    obligation_url = f"{TRANSACTIONS}{obligation_of(payable).pk}/reverse/"
    before = counts()
    error(
        key_client(world.raw_a).post(url, {"reason": "x"}, format="json"), 403, "permission_denied"
    )
    error(
        user_client(world.sag_staff).post(url, {"reason": "x"}, format="json"),
        403,
        "permission_denied",
    )
    error(user_client(world.staff_b).post(url, {"reason": "x"}, format="json"), 404, "not_found")
    staff = user_client(world.staff_a)
    assert "reason" in error(staff.post(url, {}, format="json"), 400, "invalid")["fields"]
    for not_text in (0, True, ["x"]):  # the schema says a string: a number is not taken as one
        refused = error(staff.post(url, {"reason": not_text}, format="json"), 400, "invalid")
        assert "reason" in refused["fields"]
    # An obligation with a payment against it is reversed only after the payment is.
    error(staff.post(obligation_url, {"reason": "x"}, format="json"), 409, "payable_has_payments")
    error(
        staff.post(f"{TRANSACTIONS}{uuid.uuid4()}/reverse/", {"reason": "x"}, format="json"),
        404,
        "not_found",
    )
    assert counts() == before


# --- CSV exports ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"studio": "alpha"},
        {"studio": "bravo"},
        {"production": "PA1"},
        {"person": "ANN"},
        {"due_before": "2025-07-20"},
        {"studio": "alpha", "person": "ABE"},
    ],
)
def test_payables_export_matches_the_list(world, ledger_with_payments, filters):
    client = key_client(world.raw_ab)
    world.payable(world.ann_pa2, "10.00", due_date=date(2025, 7, 25))
    aliases = {"PA1": world.pa1.pk, "ANN": world.ann.pk, "ABE": world.abe.pk}
    filters = {k: aliases.get(v, v) for k, v in filters.items()}
    listed = list_all(client, PAYABLES, filters)
    rows = csv_rows(client.get(f"{PAYABLES}export/", filters))
    assert listed
    assert [int(r["payable_id"]) for r in rows] == [i["id"] for i in listed]
    for row, item in zip(rows, listed, strict=True):
        assert (row["amount"], row["paid"], row["due"]) == (
            item["amount"],
            item["paid"],
            item["due"],
        )
        assert row["person"] == item["person"]["name"]
        assert row["payroll_ref"] == item["person"]["payroll_ref"]
        assert row["production"] == item["production"]["title"]
        assert int(row["person_id"]) == item["person"]["id"]
        assert int(row["production_id"]) == item["production"]["id"]
        for name in ("rule", "description", "currency", "period_from", "period_to", "due_date"):
            assert row[name] == item[name], name
        assert (row["engagement_id"], row["agreement"]) == (
            str(item["engagement"] or ""),
            item["agreement"] or "",
        )
        fringes = "; ".join(f"{f['fund']} {f['rule']} {f['amount']}" for f in item["fringes"])
        assert row["fringes"] == fringes
        total = sum((money(f["amount"]) for f in item["fringes"]), Decimal(0))
        assert row["fringes_total"] == (f"{total:.2f}" if item["fringes"] else "")
    assert sum(money(r["due"]) for r in rows) == sum(money(i["due"]) for i in listed)
    assert sum(money(r["amount"]) for r in rows) == sum(money(i["amount"]) for i in listed)


def test_the_payables_export_puts_each_contribution_on_a_row_with_its_payee(world):
    client = key_client(world.raw_a)
    fringes = [
        Fringe("sag-aftra-ph", "sag.ph", Decimal("210.00")),
        Fringe("wga-health", "wga.health", Decimal("12.50")),
    ]
    payable = world.payable(world.ann_pa1, "1000.00", fringes=fringes)
    rows = csv_rows(client.get(f"{PAYABLES}export/", {"production": world.pa1.pk}))
    payees = {(r["payee_kind"], r["fund"], r["amount"], r["person_id"]) for r in rows}
    assert payees == {
        ("person", "", "1000.00", str(world.ann.pk)),
        ("fund", "sag-aftra-ph", "210.00", ""),
        ("fund", "wga-health", "12.50", ""),
    }
    assert {r["engagement_id"] for r in rows} == {str(world.ann_pa1.pk)}
    [person_row] = [r for r in rows if r["payable_id"] == str(payable.pk)]
    assert (person_row["fringes"], person_row["fringes_total"]) == ("", "")


def test_csv_downloads_start_with_a_byte_order_mark_unless_asked_not_to(world):
    """Without the mark a spreadsheet on a Western Windows setup reads "Zoë" as "ZoÃ«"."""
    world.ann.professional_name = "Zoë – Ann"
    world.ann.save()
    world.payable(world.ann_pa1, "100.00")
    client = key_client(world.raw_a)
    for url in (f"{PAYABLES}export/", f"{PAYMENTS}export/"):
        body = b"".join(client.get(url).streaming_content)
        assert body.startswith(b"\xef\xbb\xbf"), url
        plain = b"".join(client.get(url, {"bom": "false"}).streaming_content)
        assert plain == body[3:], url
    text = b"".join(client.get(f"{PAYABLES}export/").streaming_content).decode("utf-8-sig")
    assert "Zoë – Ann" in text
    for value in ("no", "0", "🇺🇸"):
        refused = error(client.get(f"{PAYABLES}export/", {"bom": value}), 400, "invalid")
        assert refused["fields"] == {"bom": ["Must be true or false."]}


@pytest.mark.parametrize(
    "accept, status",
    [
        ("text/csv", 200),
        ("text/*", 200),
        ("*/*", 200),
        ("application/json, text/csv;q=0.5", 200),
        ("", 200),
        ("application/json", 406),
        ("text/html", 406),
        ("text/csv;q=0", 406),
    ],
)
def test_an_export_follows_accept_or_answers_406_in_json(world, accept, status):
    world.payable(world.ann_pa1, "100.00")
    client = key_client(world.raw_a)
    for url in (f"{PAYABLES}export/", f"{PAYMENTS}export/"):
        response = client.get(url, headers={"Accept": accept} if accept else {})
        assert response.status_code == status, (url, accept)
        if status == 406:
            body = error(response, 406, "not_acceptable")
            assert "text/csv" in body["message"]
        else:
            assert response["Content-Type"] == "text/csv; charset=utf-8"
    # A bad filter of an export is a JSON error whatever Accept said.
    refused = client.get(
        f"{PAYABLES}export/", {"due_before": "soon"}, headers={"Accept": "text/csv"}
    )
    assert error(refused, 400, "invalid")["fields"]


@pytest.mark.parametrize(
    "filters", [{}, {"person": "ANN"}, {"production": "PA1"}, {"payable": "P0"}]
)
def test_payments_export_matches_the_list(world, ledger_with_payments, filters):
    client = key_client(world.raw_ab)
    aliases = {"PA1": world.pa1.pk, "ANN": world.ann.pk, "P0": ledger_with_payments[0].pk}
    filters = {k: aliases.get(v, v) for k, v in filters.items()}
    listed = list_all(client, PAYMENTS, filters)
    rows = csv_rows(client.get(f"{PAYMENTS}export/", filters))
    assert listed
    assert [int(r["payment_id"]) for r in rows] == [p["id"] for p in listed]
    for row, item in zip(rows, listed, strict=True):
        assert row["amount"] == item["amount"]
        assert row["payroll_reference"] == item["payroll_reference"]
        assert row["transaction_id"] == item["transaction"]
        assert int(row["payable_id"]) == item["payable"]
        assert row["currency"] == item["currency"]
        assert datetime.fromisoformat(row["paid_at"]) == datetime.fromisoformat(item["paid_at"])
    assert sum(money(r["amount"]) for r in rows) == sum(money(p["amount"]) for p in listed)


def test_exports_are_scoped_and_need_a_caller(world, ledger_with_payments):
    rows_a = csv_rows(key_client(world.raw_a).get(f"{PAYABLES}export/"))
    assert rows_a and {r["production"] for r in rows_a} <= {"Alpha One", "Alpha Two"}
    rows_b = csv_rows(key_client(world.raw_b).get(f"{PAYMENTS}export/"))
    assert {int(r["person_id"]) for r in rows_b} == {world.bob.pk}
    assert APIClient().get(f"{PAYABLES}export/").status_code in (401, 403)
    assert json.loads(APIClient().get(f"{PAYMENTS}export/").content)["code"] in (
        "not_authenticated",
        "authentication_failed",
        "permission_denied",
    )


def test_an_instant_without_its_offset_is_refused_not_read_as_utc(world):
    """`2025-07-01T10:00:00` names no moment until its offset is given: a payment dated so, or a
    list filtered by one, is refused with the field named, and nothing is written."""
    client = key_client(world.raw_a)
    payable = world.payable(world.ann_pa1, "100.00")
    body = error(
        pay(client, payable, "10.00", key="k-naive", ref="R", paid_at="2025-07-01T10:00:00"),
        400,
        "invalid",
    )
    assert set(body["fields"]) == {"paid_at"}
    assert not Payment.objects.exists()
    for name in ("paid_after", "paid_before"):
        refused = error(client.get(PAYMENTS, {name: "2025-07-01T10:00:00"}), 400, "invalid")
        assert set(refused["fields"]) == {name}
        assert client.get(PAYMENTS, {name: "2025-07-01T10:00:00+02:00"}).status_code == 200
