"""Shared helpers for the journal tests: plain functions (not fixtures), so that test modules and
Hypothesis state machines can call them directly.

Not a `conftest.py`: pytest does not load it by itself; import what you need from it."""

import importlib
import itertools
from datetime import UTC, datetime
from decimal import Decimal

from django.db import connection

from ledger.journal.services import payment_confirm
from ledger.models import JournalTransaction, Posting
from tests.factories import UserFactory

_references = itertools.count(1)

TRIGGERS_MIGRATION = importlib.import_module("ledger.migrations.0006_journal_triggers")


def make_actor(username: str = "journal-actor"):
    return UserFactory(username=username)


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
