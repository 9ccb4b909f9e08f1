"""Payments under real concurrency, on PostgreSQL: 16 threads, each with its own database
connection, send their requests through the whole HTTP stack at the same instant (a barrier).

The data is committed before the threads start (a transactional test: no wrapping atomic block),
and each thread closes its connection when it is done. The flush after a transactional test
removes the guilds and agreements that migrations seed, so the fixture seeds them again (with the
migration's own, idempotent, function) when an earlier transactional test has flushed them."""

import json
import threading
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import connection
from rest_framework.test import APIClient

from ledger.journal.services import payable_amounts
from ledger.journal.verify import verify_chain
from ledger.models import IdempotencyRecord, JournalTransaction, Payment
from tests.factories import (
    EngagementFactory,
    PersonFactory,
    ProductionFactory,
    UserFactory,
    payroll_key,
)
from tests.helpers import make_payable, seed_registry
from tests.ledger.test_payroll_api import payment_body

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

THREADS = 16
PAYMENTS = "/api/v1/payments/"


@dataclass(frozen=True)
class Outcome:
    status: int
    replayed: bool
    content: bytes

    @property
    def code(self):
        return json.loads(self.content).get("code")


def run_together(requests: list[dict], raw_key: str) -> list[Outcome]:
    """POST each body (with its Idempotency-Key) from its own thread, all released at once."""
    barrier = threading.Barrier(len(requests))
    outcomes: list = [None] * len(requests)

    def worker(index: int, request: dict):
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
            barrier.wait(timeout=30)
            response = client.post(
                PAYMENTS,
                request["body"],
                format="json",
                headers={"Idempotency-Key": request["key"]},
            )
            outcomes[index] = Outcome(
                response.status_code,
                response.get("Idempotent-Replayed") == "true",
                response.content,
            )
        except Exception as exc:  # reported by the caller, below
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=worker, args=(i, request), daemon=True)
        for i, request in enumerate(requests)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a request hung (deadlock?)"
    errors = [o for o in outcomes if not isinstance(o, Outcome)]
    assert not errors, f"requests raised instead of answering: {errors!r}"
    assert all(o.status < 500 for o in outcomes), [o.content for o in outcomes if o.status >= 500]
    return outcomes


@pytest.fixture
def payee():
    """A production of one studio, a person engaged on it, and a payroll key for the studio.
    Created outside any atomic block: committed before the threads start."""
    seed_registry()
    production = ProductionFactory(title="Concurrent Feature")
    engagement = EngagementFactory(production=production, person=PersonFactory())
    _key, raw = payroll_key(production.studio, name="payroll-concurrent")
    return {"engagement": engagement, "raw": raw, "actor": UserFactory(username="compensation")}


def payment_transactions() -> int:
    return JournalTransaction.objects.filter(kind=JournalTransaction.Kind.PAYMENT).count()


def test_one_idempotency_key_sent_by_16_clients_at_once_pays_once(payee):
    payable = make_payable(payee["engagement"], "1000.00", actor=payee["actor"])
    assert not connection.in_atomic_block
    for round_ in range(3):
        body = payment_body(payable, "100.00", f"SAME-{round_}")
        outcomes = run_together(
            [{"key": f"same-key-{round_}", "body": body}] * THREADS, payee["raw"]
        )
        assert {o.status for o in outcomes} <= {201, 409}, [o.content for o in outcomes]
        first = [o for o in outcomes if o.status == 201 and not o.replayed]
        assert len(first) == 1, [(o.status, o.replayed) for o in outcomes]
        for outcome in outcomes:
            if outcome.status == 201:
                assert outcome.content == first[0].content  # byte-identical replays
            else:
                assert outcome.code == "duplicate_reference"
        assert Payment.objects.filter(payable=payable).count() == round_ + 1
        assert payment_transactions() == round_ + 1
        assert IdempotencyRecord.objects.filter(key=f"same-key-{round_}").count() == 1
        paid = Decimal("100.00") * (round_ + 1)
        assert payable_amounts(payable.pk)["paid"] == paid
    report = verify_chain()
    assert report.ok, report


def test_16_payments_to_one_persons_16_payables_all_succeed(payee):
    engagement = payee["engagement"]
    payables = [
        make_payable(engagement, f"{500 + n}.{n:02d}", actor=payee["actor"]) for n in range(THREADS)
    ]
    amounts = [Decimal(f"{100 + n}.{n:02d}") for n in range(THREADS)]
    head_before = JournalTransaction.objects.order_by("-seq").first().seq
    outcomes = run_together(
        [
            {"key": f"key-{n}", "body": payment_body(payable, amount, f"REF-{n}")}
            for n, (payable, amount) in enumerate(zip(payables, amounts, strict=True))
        ],
        payee["raw"],
    )
    assert [o.status for o in outcomes] == [201] * THREADS, [o.content for o in outcomes]
    assert not any(o.replayed for o in outcomes)
    assert Payment.objects.count() == THREADS
    assert payment_transactions() == THREADS
    for payable, amount in zip(payables, amounts, strict=True):
        assert payable_amounts(payable.pk)["paid"] == amount

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {payee['raw']}")
    rows = client.get(
        "/api/v1/ledger/balances/", {"group": "person", "person": engagement.person_id}
    ).json()
    assert len(rows) == 1
    assert Decimal(rows[0]["paid"]) == sum(amounts)
    owed = sum(Decimal(f"{500 + n}.{n:02d}") for n in range(THREADS))
    assert Decimal(rows[0]["due"]) == owed - sum(amounts)
    seqs = list(JournalTransaction.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, head_before + THREADS + 1))  # no gap, no repeat
    report = verify_chain()
    assert report.ok, report


def test_16_clients_overpaying_one_payable_at_once_never_pay_more_than_owed(payee):
    payable = make_payable(payee["engagement"], "1000.00", actor=payee["actor"])
    amounts = [Decimal(f"{75 + 10 * n}.{n:02d}") for n in range(THREADS)]
    assert sum(amounts) > Decimal("1000.00") * 2
    outcomes = run_together(
        [
            {"key": f"over-{n}", "body": payment_body(payable, amount, f"OVER-{n}")}
            for n, amount in enumerate(amounts)
        ],
        payee["raw"],
    )
    assert {o.status for o in outcomes} <= {201, 422}, [o.content for o in outcomes]
    accepted = [a for a, o in zip(amounts, outcomes, strict=True) if o.status == 201]
    refused = [a for a, o in zip(amounts, outcomes, strict=True) if o.status == 422]
    assert accepted and refused
    assert all(o.code == "overpayment" for o in outcomes if o.status == 422)

    totals = payable_amounts(payable.pk)
    assert totals["owed"] == Decimal("1000.00")
    assert totals["paid"] == sum(accepted) <= totals["owed"]
    # Each refusal saw a due smaller than its amount, and what is due only ever shrinks.
    assert all(amount > totals["due"] for amount in refused)
    assert Payment.objects.filter(payable=payable).count() == len(accepted)
    assert payment_transactions() == len(accepted)
    assert IdempotencyRecord.objects.count() == len(accepted)
    report = verify_chain()
    assert report.ok, report
