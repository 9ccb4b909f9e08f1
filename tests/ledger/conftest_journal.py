"""Shared helpers for the journal tests: plain functions (not fixtures), so that test modules and
Hypothesis state machines can call them directly.

Not a `conftest.py`: pytest does not load it by itself; import what you need from it."""

import importlib
import itertools
from datetime import UTC, date, datetime
from decimal import Decimal

from django.db import connection

from ledger.journal.services import payable_create, payment_confirm
from ledger.models import JournalTransaction, Posting
from tests.factories import PersonFactory, ProductionFactory, UserFactory

_source_ids = itertools.count(1)
_references = itertools.count(1)

TRIGGERS_MIGRATION = importlib.import_module("ledger.migrations.0006_journal_triggers")


def make_actor(username: str = "journal-actor"):
    return UserFactory(username=username)


def make_payable(
    *,
    actor=None,
    production=None,
    person=None,
    amount: Decimal = Decimal("1000.00"),
    currency: str = "USD",
    fringes=(),
    description: str = "Day rate",
):
    """A payable and its obligation transaction, posted through the service."""
    actor = actor or make_actor()
    production = production or ProductionFactory()
    person = person or PersonFactory()
    return payable_create(
        actor=actor,
        production=production,
        person=person,
        rule="test-rule",
        description=description,
        amount=amount,
        currency=currency,
        period_from=date(2025, 6, 2),
        period_to=date(2025, 6, 6),
        due_date=date(2025, 6, 20),
        source_type="test",
        source_id=f"src-{next(_source_ids)}",
        fringes=list(fringes),
    )


def render_payment(payment) -> dict:
    return {
        "id": payment.pk,
        "amount": f"{payment.amount:.2f}",
        "transaction": str(payment.transaction_id),
    }


def pay(
    payable,
    amount: Decimal,
    *,
    actor=None,
    client: str = "user:test",
    key: str | None = None,
    reference: str | None = None,
    paid_at: datetime = datetime(2025, 6, 21, 12, 0, tzinfo=UTC),
):
    """Confirm a payment through the service; returns its PaymentResult."""
    n = next(_references)
    return payment_confirm(
        actor=actor or make_actor(),
        client=client,
        idempotency_key=key or f"key-{n}",
        payable=payable,
        amount=amount,
        paid_at=paid_at,
        payroll_reference=reference or f"ref-{n}",
        render=render_payment,
    )


def obligation_of(payable) -> JournalTransaction:
    """The obligation transaction that created `payable`."""
    return JournalTransaction.objects.get(
        kind=JournalTransaction.Kind.OBLIGATION,
        postings__payable=payable,
        postings__effect="owed",
    )


def journal_counts() -> tuple[int, int]:
    return JournalTransaction.objects.count(), Posting.objects.count()


def sqlite_trigger_sql(name: str) -> str:
    """The CREATE TRIGGER statement for SQLite trigger `name`, exactly as migration 0006 runs it."""
    (sql,) = [s for s in TRIGGERS_MIGRATION._sqlite_up() if s.startswith(f"CREATE TRIGGER {name} ")]
    return sql


def run_sql(sql: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else None
