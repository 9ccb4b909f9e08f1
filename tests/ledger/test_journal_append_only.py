"""The journal is append-only and balanced in the database itself (migration 0006), whatever path
the write takes: raw SQL, the ORM or the services."""

import uuid
from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from core.errors import Conflict, DomainError
from ledger.journal.services import (
    Entry,
    Fringe,
    Leg,
    Unbalanced,
    account_for,
    journal_post,
    journal_post_many,
    journal_reverse,
    payable_amounts,
)
from ledger.models import (
    Account,
    IdempotencyRecord,
    JournalTransaction,
    Payable,
    Payment,
    Posting,
)
from tests.factories import PersonFactory, ProductionFactory
from tests.helpers import make_payable
from tests.ledger.conftest_journal import (
    journal_counts,
    make_actor,
    obligation_of,
    pay,
    run_sql,
)

pytestmark = pytest.mark.django_db

APPEND_ONLY_TABLES = [
    "ledger_posting",
    "ledger_journaltransaction",
    "ledger_account",
    "ledger_payable",
    "ledger_payment",
    "ledger_idempotencyrecord",
]
MODELS = {
    "ledger_posting": Posting,
    "ledger_journaltransaction": JournalTransaction,
    "ledger_account": Account,
    "ledger_payable": Payable,
    "ledger_payment": Payment,
    "ledger_idempotencyrecord": IdempotencyRecord,
}
# A column each table has, to "change" to itself: the trigger refuses any UPDATE.
SOME_COLUMN = {
    "ledger_posting": "amount",
    "ledger_journaltransaction": "description",
    "ledger_account": "key",
    "ledger_payable": "description",
    "ledger_payment": "payroll_reference",
    "ledger_idempotencyrecord": "key",
}


@pytest.fixture
def journal():
    """One row, at least, in every journal table: a payable with fringes, a payment (with its
    idempotency record) and the accounts they post to."""
    actor = make_actor()
    payable = make_payable(actor=actor, amount=Decimal("1200.00"))
    result = pay(payable, Decimal("200.00"), actor=actor)
    assert result.status == 201 and not result.replayed
    for model in MODELS.values():
        assert model.objects.exists(), model
    return payable


def refused(sql: str, params=None) -> str:
    """Run `sql` in a savepoint; assert the database refuses it; return the error message."""
    with pytest.raises(DatabaseError) as excinfo, transaction.atomic():
        run_sql(sql, params)
    return str(excinfo.value)


def snapshot(table: str):
    column = SOME_COLUMN[table]
    return sorted(map(tuple, run_sql(f"SELECT id, {column} FROM {table}")))


# --- raw SQL, both engines ----------------------------------------------------------------------


@pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
def test_raw_update_is_refused(journal, table):
    column = SOME_COLUMN[table]
    before = snapshot(table)
    message = refused(f"UPDATE {table} SET {column} = {column}")
    assert "append_only" in message
    assert snapshot(table) == before


@pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
def test_raw_update_of_one_row_is_refused(journal, table):
    (row_id,) = run_sql(f"SELECT id FROM {table} ORDER BY id LIMIT 1")[0]
    column = SOME_COLUMN[table]
    value = "1.00" if column == "amount" else "tampered"
    before = snapshot(table)
    refused(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, row_id])
    assert snapshot(table) == before


@pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
def test_raw_delete_is_refused(journal, table):
    count = MODELS[table].objects.count()
    assert count > 0
    message = refused(f"DELETE FROM {table}")
    assert "append_only" in message
    assert MODELS[table].objects.count() == count


def test_raw_sql_refusals_are_integrity_errors(journal):
    """The trigger's error is a constraint violation (SQLSTATE 23514 / SQLite ABORT), so the API
    turns it into a 409 like any other integrity error."""
    with pytest.raises(IntegrityError), transaction.atomic():
        run_sql("DELETE FROM ledger_posting")


# --- PostgreSQL only ----------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
def test_truncate_is_refused_on_postgres(journal, table):
    run_sql("SET guild_ledger.maintenance = 'off'")
    try:
        count = MODELS[table].objects.count()
        run_sql("SET CONSTRAINTS ALL IMMEDIATE")  # else: "has pending trigger events"
        # CASCADE, so that a foreign key from another journal table is not what stops it.
        message = refused(f"TRUNCATE {table} CASCADE")
        assert "append_only: TRUNCATE" in message
        assert MODELS[table].objects.count() == count
    finally:
        run_sql("SET guild_ledger.maintenance = 'on'")


@pytest.mark.postgres
def test_truncate_refused_without_maintenance_even_for_a_superuser(journal):
    assert run_sql("SELECT rolsuper FROM pg_roles WHERE rolname = session_user") == [(True,)]
    run_sql("SET guild_ledger.maintenance = 'off'")
    try:
        refused("TRUNCATE ledger_idempotencyrecord")
        assert IdempotencyRecord.objects.count() == 1
    finally:
        run_sql("SET guild_ledger.maintenance = 'on'")


@pytest.mark.postgres
@pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
def test_update_and_delete_refused_under_replica_role(journal, table):
    """ENABLE ALWAYS: the triggers fire even where replication turns ordinary triggers off."""
    run_sql("SET session_replication_role = replica")
    try:
        column = SOME_COLUMN[table]
        before = snapshot(table)
        assert "append_only" in refused(f"UPDATE {table} SET {column} = {column}")
        assert "append_only" in refused(f"DELETE FROM {table}")
        assert snapshot(table) == before
    finally:
        run_sql("SET session_replication_role = origin")


@pytest.mark.postgres
def test_protect_triggers_are_enabled_always():
    rows = run_sql(
        "SELECT c.relname, t.tgname, t.tgenabled FROM pg_trigger t "
        "JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE NOT t.tgisinternal AND c.relname LIKE 'ledger\\_%%'"
    )
    enabled = {(table, name): state for table, name, state in rows}
    expected = [(t, f"{t}_append_only") for t in APPEND_ONLY_TABLES]
    expected += [(t, f"{t}_no_truncate") for t in APPEND_ONLY_TABLES]
    expected += [
        ("ledger_posting", "ledger_posting_sealed"),
        ("ledger_posting", "ledger_posting_balanced"),
        ("ledger_journaltransaction", "ledger_transaction_balanced"),
    ]
    for key in expected:
        assert enabled.get(key) == "A", (key, enabled.get(key))


@pytest.mark.postgres
def test_balance_is_checked_again_at_commit_on_postgres(journal):
    """The deferred constraint trigger is the backstop: with the sealing trigger out of the way
    (a superuser can do that), an extra posting on a written transaction still cannot be
    committed (SET CONSTRAINTS ALL IMMEDIATE stands in for the commit)."""
    tx = obligation_of(journal)
    expense, _ = _accounts(journal)
    run_sql("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE needs no pending trigger events
    run_sql("ALTER TABLE ledger_posting DISABLE TRIGGER ledger_posting_sealed")
    try:
        with pytest.raises(DatabaseError) as excinfo, transaction.atomic():
            Posting.objects.create(transaction=tx, account=expense, amount=Decimal("5.00"))
            run_sql("SET CONSTRAINTS ALL IMMEDIATE")
        assert "journal_unbalanced" in str(excinfo.value)
    finally:
        run_sql("ALTER TABLE ledger_posting ENABLE ALWAYS TRIGGER ledger_posting_sealed")
        run_sql("SET CONSTRAINTS ALL DEFERRED")


# --- the ORM ------------------------------------------------------------------------------------


def test_orm_save_of_an_existing_posting_is_refused(journal):
    posting = Posting.objects.filter(payable=journal, effect="owed").get()
    original = posting.amount
    posting.amount = Decimal("-1.00")
    with pytest.raises(DatabaseError), transaction.atomic():
        posting.save()
    assert Posting.objects.get(pk=posting.pk).amount == original


def test_orm_save_of_an_unchanged_posting_is_refused(journal):
    posting = Posting.objects.first()
    with pytest.raises(DatabaseError), transaction.atomic():
        posting.save()


@pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
def test_orm_delete_is_refused(journal, table):
    model = MODELS[table]
    obj = model.objects.order_by("pk").first()
    count = model.objects.count()
    with pytest.raises(DatabaseError), transaction.atomic():
        # Django's collector would stop at PROTECT first; delete the row itself.
        model.objects.filter(pk=obj.pk)._raw_delete(connection.alias)
    assert model.objects.count() == count


def test_orm_delete_of_a_posting_is_refused(journal):
    posting = Posting.objects.filter(payable=journal, effect="paid").get()
    count = Posting.objects.count()
    with pytest.raises(DatabaseError), transaction.atomic():
        posting.delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        Posting.objects.filter(transaction_id=posting.transaction_id).delete()
    assert Posting.objects.count() == count


def test_orm_instance_delete_is_refused(journal):
    record = IdempotencyRecord.objects.get()  # nothing protects it: the trigger is what refuses
    with pytest.raises(DatabaseError), transaction.atomic():
        record.delete()
    assert IdempotencyRecord.objects.filter(pk=record.pk).exists()


def test_orm_save_and_queryset_update_of_a_transaction_are_refused(journal):
    tx = obligation_of(journal)
    tx.description = "rewritten"
    with pytest.raises(DatabaseError), transaction.atomic():
        tx.save()
    with pytest.raises(DatabaseError), transaction.atomic():
        JournalTransaction.objects.filter(pk=tx.pk).update(description="rewritten")
    assert JournalTransaction.objects.get(pk=tx.pk).description == "Day rate"


def test_orm_save_of_a_payable_is_refused(journal):
    journal.amount = Decimal("1.00")
    with pytest.raises(DatabaseError), transaction.atomic():
        journal.save()
    assert Payable.objects.get(pk=journal.pk).amount == Decimal("1200.00")


# --- balance, in the database -------------------------------------------------------------------


def _accounts(payable):
    own = {
        "studio_id": payable.studio_id,
        "currency": "USD",
        "production_id": payable.production_id,
    }
    expense = account_for(purpose=Account.Purpose.COMPENSATION_EXPENSE, **own)
    clearing = account_for(purpose=Account.Purpose.PAYROLL_CLEARING, **own)
    return expense, clearing


def _header_fields(tx_id, seq, actor, studio_id):
    return {
        "id": tx_id,
        "seq": seq,
        "kind": JournalTransaction.Kind.OBLIGATION,
        "studio_id": studio_id,
        "source_type": "raw",
        "source_id": "raw",
        "description": "written behind the service's back",
        "effective_date": timezone.localdate(),
        "created_at": timezone.now(),
        "actor": actor,
        "prev_hash": "0" * 64,
        "hash": uuid.uuid4().hex * 2,
    }


def _write_directly(payable, amounts, currencies=None):
    expense, clearing = _accounts(payable)
    actor = make_actor()
    tx_id = uuid.uuid4()
    currencies = currencies or ["USD"] * len(amounts)
    for i, (amount, currency) in enumerate(zip(amounts, currencies, strict=True)):
        Posting.objects.create(
            transaction_id=tx_id,
            account=expense if i % 2 == 0 else clearing,
            amount=amount,
            currency=currency,
        )
    seq = JournalTransaction.objects.count() + 1
    JournalTransaction.objects.create(**_header_fields(tx_id, seq, actor, payable.studio_id))
    return tx_id


def test_a_balanced_transaction_written_directly_is_accepted(journal):
    """The control for the refusals below: the same path, balanced, is accepted."""
    tx_id = _write_directly(journal, [Decimal("10.00"), Decimal("-10.00")])
    assert JournalTransaction.objects.filter(pk=tx_id).exists()
    assert Posting.objects.filter(transaction_id=tx_id).count() == 2


@pytest.mark.parametrize(
    "amounts",
    [
        [Decimal("10.00"), Decimal("-9.99")],
        [Decimal("10.00"), Decimal("10.00")],
        [Decimal("0.01"), Decimal("0.02"), Decimal("-0.02")],
    ],
    ids=["off-by-a-cent", "all-debits", "three-legs"],
)
def test_an_unbalanced_transaction_is_refused(journal, amounts):
    before = journal_counts()
    with pytest.raises(DatabaseError) as excinfo, transaction.atomic():
        _write_directly(journal, amounts)
    assert "journal_unbalanced" in str(excinfo.value)
    assert journal_counts() == before


def test_a_transaction_balanced_overall_but_not_per_currency_is_refused(journal):
    with pytest.raises(DatabaseError) as excinfo, transaction.atomic():
        _write_directly(
            journal,
            [Decimal("10.00"), Decimal("-10.00"), Decimal("5.00"), Decimal("-5.00")],
            currencies=["USD", "CAD", "CAD", "USD"],
        )
    assert "journal_unbalanced" in str(excinfo.value)


def test_a_transaction_with_one_posting_or_none_is_refused(journal):
    for amounts in ([Decimal("10.00")], []):
        with pytest.raises(DatabaseError) as excinfo, transaction.atomic():
            _write_directly(journal, amounts)
        assert "journal_unbalanced" in str(excinfo.value)


def test_a_posting_for_an_already_written_transaction_is_refused(journal):
    tx = obligation_of(journal)
    expense, clearing = _accounts(journal)
    postings = tx.postings.count()
    with pytest.raises(DatabaseError) as excinfo, transaction.atomic():
        # Even a balanced pair: a written transaction is sealed.
        Posting.objects.create(transaction=tx, account=expense, amount=Decimal("1.00"))
        Posting.objects.create(transaction=tx, account=clearing, amount=Decimal("-1.00"))
    assert "journal_sealed" in str(excinfo.value)
    assert tx.postings.count() == postings


def test_journal_post_many_with_unbalanced_legs_writes_nothing(journal):
    expense, clearing = _accounts(journal)
    actor = make_actor()
    before = journal_counts()

    def entry(legs):
        return Entry(
            kind=JournalTransaction.Kind.OBLIGATION,
            studio_id=journal.studio_id,
            source_type="test",
            source_id="x",
            description="test",
            effective_date=timezone.localdate(),
            legs=legs,
        )

    good = entry([Leg(expense, Decimal("5.00")), Leg(clearing, Decimal("-5.00"))])
    bad = entry([Leg(expense, Decimal("5.00")), Leg(clearing, Decimal("-4.00"))])
    for entries in ([bad], [good, bad], [bad, good]):
        with pytest.raises(Unbalanced) as excinfo:
            journal_post_many(actor=actor, entries=entries)
        assert excinfo.value.code == "journal_unbalanced"
        assert journal_counts() == before
    for legs in (
        [Leg(expense, Decimal("5.00"))],
        [Leg(expense, Decimal("5.001")), Leg(clearing, Decimal("-5.001"))],
        [Leg(expense, Decimal("0.00")), Leg(clearing, Decimal("0.00"))],
    ):
        with pytest.raises(Unbalanced):
            journal_post_many(actor=actor, entries=[entry(legs)])
        assert journal_counts() == before
    # The control: the balanced entry alone is written.
    journal_post_many(actor=actor, entries=[good])
    assert journal_counts() == (before[0] + 1, before[1] + 2)


# --- reversal -----------------------------------------------------------------------------------


def _legs(tx):
    return sorted(
        (p.account_id, p.payable_id, p.effect, p.amount, p.currency) for p in tx.postings.all()
    )


def test_reversal_posts_the_mirror(journal):
    actor = make_actor()
    payment_tx = Payment.objects.get().transaction
    reversal = journal_reverse(actor=actor, transaction_id=payment_tx.id, reason="wrong amount")
    assert reversal.kind == JournalTransaction.Kind.REVERSAL
    assert reversal.reverses_id == payment_tx.id
    assert reversal.seq == payment_tx.seq + 1
    mirrored = sorted((a, p, e, -x, c) for a, p, e, x, c in _legs(payment_tx))
    assert _legs(reversal) == mirrored
    assert f"#{payment_tx.seq}" in reversal.description
    assert payable_amounts(journal.pk) == {
        "owed": Decimal("1200.00"),
        "paid": Decimal("0.00"),
        "due": Decimal("1200.00"),
    }


def test_a_second_reversal_is_refused(journal):
    actor = make_actor()
    tx = Payment.objects.get().transaction
    journal_reverse(actor=actor, transaction_id=tx.id, reason="first")
    before = journal_counts()
    with pytest.raises(Conflict) as excinfo:
        journal_reverse(actor=actor, transaction_id=tx.id, reason="second")
    assert excinfo.value.code == "already_reversed"
    assert journal_counts() == before


def test_a_second_reversal_is_refused_by_the_database_too(journal):
    """Past the service's check, `reverses` is unique: posting a second mirror directly fails."""
    actor = make_actor()
    tx = Payment.objects.get().transaction
    journal_reverse(actor=actor, transaction_id=tx.id, reason="first")
    legs = [Leg(p.account, -p.amount, p.payable, p.effect) for p in tx.postings.all()]
    before = journal_counts()
    with pytest.raises(IntegrityError), transaction.atomic():
        journal_post(
            actor=actor,
            entry=Entry(
                kind=JournalTransaction.Kind.REVERSAL,
                studio_id=tx.studio_id,
                source_type="reversal",
                source_id=str(tx.id),
                description="again",
                effective_date=timezone.localdate(),
                reverses_id=tx.id,
                legs=legs,
            ),
        )
    assert journal_counts() == before


def test_reversing_a_reversal_is_refused(journal):
    actor = make_actor()
    tx = Payment.objects.get().transaction
    reversal = journal_reverse(actor=actor, transaction_id=tx.id, reason="first")
    before = journal_counts()
    with pytest.raises(Conflict) as excinfo:
        journal_reverse(actor=actor, transaction_id=reversal.id, reason="undo")
    assert excinfo.value.code == "cannot_reverse_reversal"
    assert journal_counts() == before


def test_reversing_an_obligation_with_payments_waits_for_the_payments(journal):
    actor = make_actor()
    obligation = obligation_of(journal)
    payment_tx = Payment.objects.get().transaction
    before = journal_counts()
    with pytest.raises(Conflict) as excinfo:
        journal_reverse(actor=actor, transaction_id=obligation.id, reason="cancelled")
    assert excinfo.value.code == "payable_has_payments"
    assert journal_counts() == before

    journal_reverse(actor=actor, transaction_id=payment_tx.id, reason="bounced")
    reversal = journal_reverse(actor=actor, transaction_id=obligation.id, reason="cancelled")
    assert reversal.reverses_id == obligation.id
    assert _legs(reversal) == sorted((a, p, e, -x, c) for a, p, e, x, c in _legs(obligation))
    assert payable_amounts(journal.pk) == {
        "owed": Decimal("0.00"),
        "paid": Decimal("0.00"),
        "due": Decimal("0.00"),
    }


def test_reversing_an_obligation_reverses_its_fringes_too():
    actor = make_actor()
    payable = make_payable(
        actor=actor,
        production=ProductionFactory(),
        person=PersonFactory(),
        amount=Decimal("500.00"),
        fringes=[Fringe(fund="pension", rule="p-1", amount=Decimal("85.50"))],
    )
    obligation = obligation_of(payable)
    assert obligation.postings.count() == 4
    reversal = journal_reverse(actor=actor, transaction_id=obligation.id, reason="cancelled")
    totals = {}
    for p in Posting.objects.filter(transaction__in=[obligation, reversal]):
        totals[p.account_id] = totals.get(p.account_id, Decimal("0")) + p.amount
    assert set(totals.values()) == {Decimal("0.00")}
    pension = Payable.objects.get(fund="pension")  # the fund's own payable, owed nothing now
    nothing = {"owed": Decimal("0.00"), "paid": Decimal("0.00"), "due": Decimal("0.00")}
    assert payable_amounts(pension.pk) == payable_amounts(payable.pk) == nothing


def test_reversing_an_unknown_transaction_is_not_found():
    with pytest.raises(DomainError) as excinfo:
        journal_reverse(actor=make_actor(), transaction_id=uuid.uuid4(), reason="?")
    assert excinfo.value.code == "not_found"
