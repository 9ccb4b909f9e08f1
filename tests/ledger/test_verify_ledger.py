"""`manage.py verify_ledger`: passes on an intact chain, and catches rows altered or removed behind
the application's back (here: by a superuser who turns the append-only triggers off first)."""

from contextlib import contextmanager
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from ledger.journal.chain import link_hash
from ledger.journal.services import hash_header, hash_posting
from ledger.journal.verify import verify_chain
from ledger.models import JournalTransaction, Payment, Posting
from tests.helpers import make_payable
from tests.ledger.conftest_journal import (
    make_actor,
    obligation_of,
    run_sql,
    sqlite_trigger_sql,
)

pytestmark = pytest.mark.django_db


def run_verify(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("verify_ledger", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_broken(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    with pytest.raises(SystemExit) as excinfo:
        call_command("verify_ledger", *args, stdout=out, stderr=err)
    assert excinfo.value.code == 1
    return out.getvalue(), err.getvalue()


@contextmanager
def triggers_off(table: str, op: str):
    """Turn off the append-only trigger for `op` on `table` and back on afterwards — what a
    superuser (PostgreSQL) or anyone with the file (SQLite) can do."""
    if connection.vendor == "postgresql":
        trigger = f"{table}_append_only"
        # ALTER TABLE refuses while the transaction has pending deferred trigger events.
        run_sql("SET CONSTRAINTS ALL IMMEDIATE")
        run_sql(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
        try:
            yield
        finally:
            run_sql(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {trigger}")
        (state,) = run_sql("SELECT tgenabled FROM pg_trigger WHERE tgname = %s", [trigger])[0]
        assert state == "A"
    else:
        trigger = f"{table}_no_{op.lower()}"
        create_sql = sqlite_trigger_sql(trigger)
        run_sql(f"DROP TRIGGER {trigger}")
        try:
            yield
        finally:
            run_sql(create_sql)
        assert run_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name = %s", [trigger]
        )


def delete_behind_the_back(tx: JournalTransaction) -> list:
    """Delete a transaction and its postings with the append-only triggers off, as someone with
    the database's keys could; returns the ids of the postings deleted."""
    posting_ids = list(Posting.objects.filter(transaction=tx).values_list("id", flat=True))
    with (
        triggers_off("ledger_posting", "DELETE"),
        triggers_off("ledger_journaltransaction", "DELETE"),
    ):
        for posting_id in posting_ids:
            run_sql("DELETE FROM ledger_posting WHERE id = %s", [posting_id])
        run_sql("DELETE FROM ledger_journaltransaction WHERE seq = %s", [tx.seq])
    return posting_ids


def assert_still_refused(table: str, op: str):
    """The trigger is back: the same change is refused again."""
    sql = f"DELETE FROM {table}" if op == "DELETE" else f"UPDATE {table} SET id = id"
    with pytest.raises(DatabaseError), transaction.atomic():
        run_sql(sql)


def test_intact_chain_verifies(chain):
    out, err = run_verify()
    head = chain[-1]
    assert err == ""
    assert f"ledger chain intact: {len(chain)} transactions" in out
    assert f"head #{head.seq} {head.hash}" in out
    report = verify_chain()
    assert (report.ok, report.checked, report.head_seq, report.head_hash) == (
        True,
        7,
        7,
        head.hash,
    )


def test_head_prints_seq_and_hash(chain):
    out, err = run_verify("--head")
    assert out.strip() == f"{chain[-1].seq} {chain[-1].hash}"
    assert err == ""


def test_empty_journal_verifies_with_genesis_head():
    out, _ = run_verify("--head")
    assert out.strip() == f"0 {'0' * 64}"


def test_chain_links_each_transaction_to_the_previous(chain):
    assert chain[0].prev_hash == "0" * 64
    for previous, tx in zip(chain, chain[1:], strict=False):
        assert tx.prev_hash == previous.hash


def test_altered_posting_amount_is_caught(chain):
    target = chain[3]  # the first payment
    posting = Posting.objects.filter(transaction=target).order_by("id").first()
    with triggers_off("ledger_posting", "UPDATE"):
        run_sql(
            "UPDATE ledger_posting SET amount = %s WHERE id = %s",
            [str(posting.amount + Decimal("0.01")), posting.pk],
        )
    assert_still_refused("ledger_posting", "UPDATE")
    out, err = run_broken()
    assert f"BROKEN at transaction #{target.seq} ({target.id})" in err
    assert "changed after they were written" in err
    assert f"{target.seq - 1} transactions before it verified" in err
    assert "intact" not in out


def test_altered_posting_is_caught_with_head_too(chain):
    target = chain[1]
    posting = Posting.objects.filter(transaction=target).order_by("id").first()
    with triggers_off("ledger_posting", "UPDATE"):
        run_sql(
            "UPDATE ledger_posting SET currency = 'CAD' WHERE id = %s",
            [posting.pk],
        )
    out, err = run_broken("--head")
    # The head printed is the last transaction that verified.
    assert out.strip() == f"{chain[0].seq} {chain[0].hash}"
    assert f"#{target.seq}" in err


def test_altered_description_is_caught(chain):
    target = chain[4]
    with triggers_off("ledger_journaltransaction", "UPDATE"):
        run_sql(
            "UPDATE ledger_journaltransaction SET description = %s WHERE seq = %s",
            ["Payment of something else", target.seq],
        )
    assert_still_refused("ledger_journaltransaction", "UPDATE")
    _, err = run_broken()
    assert f"BROKEN at transaction #{target.seq} ({target.id})" in err
    assert "changed after they were written" in err


def test_altered_and_rehashed_transaction_breaks_the_next_link(chain):
    """Someone who alters a row and recomputes its own hash still breaks the link after it."""
    target, following = chain[2], chain[3]
    target.description = "Rewritten, and rehashed to match"
    postings = [hash_posting(p) for p in Posting.objects.filter(transaction=target)]
    rehashed = link_hash(target.prev_hash, hash_header(target), postings)
    with triggers_off("ledger_journaltransaction", "UPDATE"):
        run_sql(
            "UPDATE ledger_journaltransaction SET description = %s, hash = %s WHERE seq = %s",
            [target.description, rehashed, target.seq],
        )
    _, err = run_broken()
    assert f"BROKEN at transaction #{following.seq} ({following.id})" in err
    assert "prev_hash is not the previous transaction's hash" in err


def test_deleted_transaction_is_caught_as_a_gap(chain):
    target = chain[1]  # the second obligation: no payment is on it, nothing reverses it
    assert not JournalTransaction.objects.filter(reverses=target).exists()
    assert not Payment.objects.filter(transaction=target).exists()
    posting_ids = delete_behind_the_back(target)
    assert not JournalTransaction.objects.filter(seq=target.seq).exists()
    assert not Posting.objects.filter(id__in=posting_ids).exists()
    assert_still_refused("ledger_journaltransaction", "DELETE")
    assert_still_refused("ledger_posting", "DELETE")
    following = chain[2]
    _, err = run_broken()
    assert f"BROKEN at transaction #{following.seq} ({following.id})" in err
    assert f"expected seq {target.seq}, found {following.seq}" in err
    assert "1 transactions before it verified" in err


def test_deleted_first_transaction_is_caught():
    actor = make_actor()
    make_payable(actor=actor)
    second = obligation_of(make_payable(actor=actor))
    first = JournalTransaction.objects.get(seq=1)
    delete_behind_the_back(first)
    _, err = run_broken()
    assert f"BROKEN at transaction #{second.seq} ({second.id})" in err
    assert "expected seq 1, found 2" in err
