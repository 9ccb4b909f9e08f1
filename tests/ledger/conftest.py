"""Fixtures of the ledger's tests."""

from decimal import Decimal

import pytest

from ledger.journal.services import journal_reverse
from ledger.models import JournalTransaction, Payment
from tests.factories import PersonFactory, ProductionFactory
from tests.helpers import make_payable
from tests.ledger.conftest_journal import make_actor, obligation_of, pay


@pytest.fixture
def chain():
    """Seven transactions: three obligations, two payments, two reversals."""
    actor = make_actor()
    production = ProductionFactory()
    people = [PersonFactory() for _ in range(2)]
    first = make_payable(actor=actor, production=production, person=people[0])
    second = make_payable(
        actor=actor, production=production, person=people[1], amount=Decimal("250.50")
    )
    third = make_payable(actor=actor, production=production, person=people[0])
    pay(first, Decimal("400.00"), actor=actor)
    pay(second, Decimal("250.50"), actor=actor)
    journal_reverse(
        actor=actor, transaction_id=Payment.objects.get(payable=second).transaction_id, reason="x"
    )
    journal_reverse(actor=actor, transaction_id=obligation_of(third).id, reason="cancelled")
    txs = list(JournalTransaction.objects.order_by("seq"))
    assert [t.seq for t in txs] == list(range(1, 8))
    return txs
