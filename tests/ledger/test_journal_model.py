"""The journal against a model: a Hypothesis state machine creates payables, pays them (with fresh
idempotency keys, replays, reused keys, duplicate references and overpayments) and reverses
transactions at random, and after every step checks the database against a plain Python model of
what each payable owes, has paid and has due.

Each example runs in its own savepoint, rolled back in `teardown`, so every example starts from
an empty journal."""

import itertools
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Count, Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from core.errors import Conflict, DomainError
from ledger.access import Scope
from ledger.journal.selectors import balances, open_payables, payables_with_amounts
from ledger.journal.services import journal_reverse, payable_amounts, payment_confirm
from ledger.journal.verify import verify_chain
from ledger.models import IdempotencyRecord, JournalTransaction, Payable, Payment, Posting
from tests.factories import PersonFactory, ProductionFactory
from tests.helpers import make_payable
from tests.ledger.conftest_journal import make_actor, pay, render_payment

pytestmark = pytest.mark.django_db

CENT = Decimal("0.01")
CLIENT = "user:model"
PAID_AT = [datetime(2025, 6, 21, 12, 0, tzinfo=UTC), datetime(2025, 7, 1, 9, 30, tzinfo=UTC)]


@dataclass
class PayableState:
    id: int
    person_id: int
    owed: Decimal
    paid: Decimal = Decimal("0.00")

    @property
    def due(self) -> Decimal:
        return self.owed - self.paid


@dataclass
class TxState:
    id: object
    kind: str
    payable_id: int
    amount: Decimal  # what it moves: owed for an obligation, paid for a payment
    reverses: object = None
    reversed: bool = False


@dataclass(frozen=True)
class Request:
    """A payment request as the client sent it: replaying it must give the same answer."""

    key: str
    payable_id: int
    amount: Decimal
    paid_at: datetime
    reference: str
    body: dict


class JournalMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self._savepoint = transaction.atomic()
        self._savepoint.__enter__()
        self.actor = make_actor("model-actor")
        self.production = ProductionFactory()
        self.people = [PersonFactory() for _ in range(3)]
        self.payables: dict[int, PayableState] = {}
        self.txs: list[TxState] = []
        self.requests: list[Request] = []  # the successful ones
        self.counter = itertools.count(1)

    def teardown(self):
        transaction.set_rollback(True)
        self._savepoint.__exit__(None, None, None)

    # --- helpers ---------------------------------------------------------------------------------

    def _payable(self, index: int):
        ids = sorted(self.payables)
        return self.payables[ids[index % len(ids)]]

    def _confirm(self, *, key, payable_id, amount, paid_at, reference):
        return payment_confirm(
            actor=self.actor,
            client=CLIENT,
            idempotency_key=key,
            payable=Payable.objects.get(pk=payable_id),
            amount=amount,
            paid_at=paid_at,
            payroll_reference=reference,
            render=render_payment,
        )

    # --- rules -----------------------------------------------------------------------------------

    @rule(person=st.integers(0, 2), cents=st.integers(1, 250_000))
    def create_payable(self, person, cents):
        amount = Decimal(cents) * CENT
        payable = make_payable(
            actor=self.actor, production=self.production, person=self.people[person], amount=amount
        )
        tx = JournalTransaction.objects.get(
            kind=JournalTransaction.Kind.OBLIGATION, postings__payable=payable
        )
        self.payables[payable.pk] = PayableState(payable.pk, self.people[person].pk, amount)
        self.txs.append(TxState(tx.id, "obligation", payable.pk, amount))

    @precondition(lambda self: self.payables)
    @rule(
        index=st.integers(0, 50),
        mode=st.sampled_from(["part", "exact", "over"]),
        cents=st.integers(1, 100_000),
        paid_at=st.sampled_from(PAID_AT),
    )
    def pay(self, index, mode, cents, paid_at):
        """Any payable, any amount: over what is due (or on a settled payable) is refused."""
        state = self._payable(index)
        extra = Decimal(cents) * CENT
        if mode == "part":
            amount = min(extra, state.due) if state.due > 0 else extra
        elif mode == "exact":
            amount = state.due if state.due > 0 else extra
        else:
            amount = state.due + extra
        self._pay(state, amount, paid_at)

    @precondition(lambda self: any(s.due > 0 for s in self.payables.values()))
    @rule(index=st.integers(0, 50), cents=st.integers(1, 100_000), paid_at=st.sampled_from(PAID_AT))
    def pay_some_of_what_is_due(self, index, cents, paid_at):
        """A payable with something due, paid in part or in full: always accepted."""
        open_ = [s for _, s in sorted(self.payables.items()) if s.due > 0]
        state = open_[index % len(open_)]
        self._pay(state, min(Decimal(cents) * CENT, state.due), paid_at)

    def _pay(self, state, amount, paid_at):
        n = next(self.counter)
        key, reference = f"key-{n}", f"ref-{n}"
        request = {
            "key": key,
            "payable_id": state.id,
            "amount": amount,
            "paid_at": paid_at,
            "reference": reference,
        }
        if amount > state.due:
            with pytest.raises(DomainError) as excinfo:
                self._confirm(**request)
            assert excinfo.value.code == "overpayment"
            assert not IdempotencyRecord.objects.filter(client=CLIENT, key=key).exists()
            return
        result = self._confirm(**request)
        assert result.status == 201 and not result.replayed
        payment = Payment.objects.get(client=CLIENT, payroll_reference=reference)
        assert payment.amount == amount
        assert result.body == render_payment(payment)
        state.paid += amount
        self.requests.append(Request(**request, body=result.body))
        self.txs.append(TxState(payment.transaction_id, "payment", state.id, amount))

    @precondition(lambda self: self.requests)
    @rule(index=st.integers(0, 50))
    def replay(self, index):
        """A retry with the same key and body: the stored answer, nothing posted."""
        request = self.requests[index % len(self.requests)]
        result = self._confirm(
            key=request.key,
            payable_id=request.payable_id,
            amount=request.amount,
            paid_at=request.paid_at,
            reference=request.reference,
        )
        assert result.replayed
        assert (result.status, result.body) == (201, request.body)

    @precondition(lambda self: self.requests)
    @rule(index=st.integers(0, 50), change=st.sampled_from(["amount", "paid_at", "reference"]))
    def reuse_key_with_another_body(self, index, change):
        request = self.requests[index % len(self.requests)]
        args = {
            "key": request.key,
            "payable_id": request.payable_id,
            "amount": request.amount,
            "paid_at": request.paid_at,
            "reference": request.reference,
        }
        if change == "amount":
            args["amount"] = request.amount + CENT
        elif change == "paid_at":
            args["paid_at"] = PAID_AT[1] if request.paid_at == PAID_AT[0] else PAID_AT[0]
        else:
            args["reference"] = request.reference + "-other"
        with pytest.raises(DomainError) as excinfo:
            self._confirm(**args)
        assert excinfo.value.code == "idempotency_key_reused"

    @precondition(lambda self: self.requests)
    @rule(index=st.integers(0, 50))
    def reuse_reference_with_a_new_key(self, index):
        request = self.requests[index % len(self.requests)]
        with pytest.raises(Conflict) as excinfo:
            self._confirm(
                key=f"key-{next(self.counter)}",
                payable_id=request.payable_id,
                amount=CENT,
                paid_at=request.paid_at,
                reference=request.reference,
            )
        assert excinfo.value.code == "duplicate_reference"

    @precondition(lambda self: self.txs)
    @rule(index=st.integers(0, 100))
    def reverse(self, index):
        tx = self.txs[index % len(self.txs)]
        state = self.payables[tx.payable_id]
        if tx.kind == "reversal":
            expected = "cannot_reverse_reversal"
        elif tx.reversed:
            expected = "already_reversed"
        elif tx.kind == "obligation" and state.paid > 0:
            expected = "payable_has_payments"
        else:
            expected = None
        if expected:
            with pytest.raises(Conflict) as excinfo:
                journal_reverse(actor=self.actor, transaction_id=tx.id, reason="model")
            assert excinfo.value.code == expected
            return
        reversal = journal_reverse(actor=self.actor, transaction_id=tx.id, reason="model")
        assert reversal.reverses_id == tx.id
        tx.reversed = True
        if tx.kind == "obligation":
            state.owed -= tx.amount
        else:
            state.paid -= tx.amount
        self.txs.append(TxState(reversal.id, "reversal", tx.payable_id, tx.amount, tx.id))

    # --- invariants ------------------------------------------------------------------------------

    @invariant()
    def every_transaction_balances_per_currency(self):
        sums = Posting.objects.values("transaction_id", "currency").annotate(total=Sum("amount"))
        assert all(row["total"] == 0 for row in sums), list(sums)
        legs = JournalTransaction.objects.annotate(n=Count("postings")).values_list("n", flat=True)
        assert all(n >= 2 for n in legs)
        assert JournalTransaction.objects.count() == len(self.txs)

    @invariant()
    def payables_match_the_model(self):
        for state in self.payables.values():
            assert payable_amounts(state.id) == {
                "owed": state.owed,
                "paid": state.paid,
                "due": state.due,
            }, state

    @invariant()
    def person_balances_match_the_model(self):
        expected = defaultdict(lambda: [Decimal("0.00")] * 3)
        for state in self.payables.values():
            row = expected[state.person_id]
            row[0] += state.owed
            row[1] += state.paid
            row[2] += state.due
        rows = balances(Scope(superuser=True), group="person", filters={})
        actual = {}
        for row in rows:
            assert row["studio"] == self.production.studio_id
            assert row["currency"] == "USD"
            actual[row["person"]] = [row["owed"], row["paid"], row["due"]]
        assert actual == dict(expected)

    @invariant()
    def open_payables_match_the_model(self):
        rows = open_payables(Scope(superuser=True))
        actual = {p.pk: (p.owed_amount, p.paid_amount, p.due_amount) for p in rows}
        expected = {s.id: (s.owed, s.paid, s.due) for s in self.payables.values() if s.due > 0}
        assert actual == expected

    @invariant()
    def each_key_posts_once(self):
        assert Payment.objects.count() == len(self.requests)
        assert IdempotencyRecord.objects.count() == len(self.requests)
        assert JournalTransaction.objects.filter(kind="payment").count() == len(self.requests)

    @invariant()
    def chain_verifies(self):
        report = verify_chain()
        assert report.ok, report
        assert report.checked == report.head_seq == len(self.txs)


def test_journal_matches_its_model():
    run_state_machine_as_test(
        JournalMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=20,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


# --- regressions the machine found (SQLite sums decimals as floats) ------------------------------


def test_person_balance_is_exact_after_a_reversal():
    """0.01 + 2.00 - 2.00 summed as floats is 0.00999999999999979, not 0.01."""
    actor = make_actor()
    production, person = ProductionFactory(), PersonFactory()
    make_payable(actor=actor, production=production, person=person, amount=Decimal("0.01"))
    second = make_payable(actor=actor, production=production, person=person, amount=Decimal("2"))
    obligation = JournalTransaction.objects.get(kind="obligation", postings__payable=second)
    journal_reverse(actor=actor, transaction_id=obligation.id, reason="cancelled")
    (row,) = balances(Scope(superuser=True), group="person", filters={})
    assert (row["owed"], row["paid"], row["due"]) == (CENT, 0, CENT)
    assert str(row["owed"]) == "0.01"


def test_a_fully_paid_payable_is_not_open():
    """0.70 + 0.10 summed as floats is 0.7999999999999999: the payable must not stay open with a
    due of 1e-16."""
    payable = make_payable(amount=Decimal("0.80"))
    for amount in ("0.70", "0.10"):
        assert pay(payable, Decimal(amount)).status == 201
    assert payable_amounts(payable.pk)["due"] == 0
    (row,) = payables_with_amounts(Payable.objects.filter(pk=payable.pk))
    assert (row.owed_amount, row.paid_amount, row.due_amount) == (
        Decimal("0.80"),
        Decimal("0.80"),
        0,
    )
    assert list(open_payables(Scope(superuser=True))) == []


def test_what_is_due_on_a_payable_is_exact_to_the_cent():
    """163.11 - 153.38 computed as floats is 9.73000000000002."""
    payable = make_payable(amount=Decimal("163.11"))
    assert pay(payable, Decimal("153.38")).status == 201
    (row,) = open_payables(Scope(superuser=True))
    assert (row.owed_amount, row.paid_amount, row.due_amount) == (
        Decimal("163.11"),
        Decimal("153.38"),
        Decimal("9.73"),
    )
