"""Erasure: nothing that identifies the person is left anywhere in the database, while amounts,
balances and the journal's hash chain are exactly what they were; the erasure is recorded, once,
in an append-only record; refusals write nothing."""

import hashlib
import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from consent.models import AiUseVoid
from core.errors import DomainError
from ledger.journal.services import journal_reverse, payable_amounts, payable_create
from ledger.models import JournalTransaction, Posting
from privacy.models import ErasureGate, ErasureRecord
from privacy.services import person_erase
from reports.models import Report
from tests.privacy import world as w
from tests.privacy.scanning import places_holding, snapshot

REASON = "Art. 17 request received 2025-07-02, ticket DP-114"


def erase(world, person=None, reason=REASON):
    return person_erase(person=person or world.maggie, actor=world.officer, reason=reason)


@pytest.fixture
def erased(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        world.record = erase(world)
    return world


def test_the_world_holds_maggie_in_every_kind_of_place(world):
    """Guards the tests below: the scan finds her before the erasure, in many tables."""
    tables = {place.split(".")[0] for place in places_holding(w.MAGGIE_VALUES)}
    assert {
        "ledger_person",
        "ledger_historicalperson",
        "ledger_membership",
        "ledger_engagement",
        "consent_consent",
        "consent_historicalconsent",
        "consent_consentevent",
        "consent_aiuse",
        "consent_aiusevoid",
        "consent_wgadisclosure",
        "consent_unionnotice",
        "compensation_compensationline",
        "compensation_holdresolution",
        "reports_receiptdelivery",
        "reports_report",
        "django_admin_log",
    } <= tables


def test_no_personal_value_of_the_person_remains_anywhere(
    world, django_capture_on_commit_callbacks
):
    theo_before = places_holding(w.THEO_VALUES)
    with django_capture_on_commit_callbacks(execute=True):
        erase(world)
    assert places_holding(w.MAGGIE_VALUES) == {}
    assert places_holding(w.THEO_VALUES) == theo_before


def test_the_person_is_a_pseudonym_now(erased):
    maggie = erased.maggie
    maggie.refresh_from_db()
    token = erased.record.pseudonym
    assert token.startswith("erased-") and len(token) == len("erased-") + 12
    assert (maggie.legal_name, maggie.professional_name, maggie.email, maggie.payroll_ref) == (
        token,
        "",
        "",
        "",
    )
    assert maggie.memberships.get().member_number == f"{token}-{maggie.memberships.get().pk}"
    latest = maggie.history.first()
    assert latest.history_user == erased.officer
    assert latest.history_change_reason == f"erasure {erased.record.id}"


def test_evidence_files_are_deleted_and_their_hash_kept(world, django_capture_on_commit_callbacks):
    consent, theirs = world.maggie_consent, world.theo_consent
    storage, path = consent.evidence.storage, consent.evidence.name
    assert storage.exists(path)
    with django_capture_on_commit_callbacks(execute=True):
        record = erase(world)
    assert not storage.exists(path)
    assert storage.exists(theirs.evidence.name)
    consent.refresh_from_db()
    assert consent.evidence.name == ""
    assert (consent.evidence_sha256, consent.evidence_size) == (
        hashlib.sha256(b"%PDF-1.4 signed by Marguerite").hexdigest(),
        len(b"%PDF-1.4 signed by Marguerite"),
    )
    assert record.evidence_files_deleted == 1
    call_command("verify_evidence")  # the other documents still match; no exit 1


def test_a_rolled_back_erasure_keeps_the_evidence_file(world):
    path = world.maggie_consent.evidence.name
    with pytest.raises(RuntimeError), transaction.atomic():
        erase(world)
        raise RuntimeError("the request failed after the erasure")
    assert world.maggie_consent.evidence.storage.exists(path)
    assert not ErasureRecord.objects.exists()


def _ledger_state(world):
    postings = list(
        Posting.objects.order_by("pk").values_list(
            "pk", "transaction_id", "account_id", "payable_id", "effect", "amount", "currency"
        )
    )
    journal = list(JournalTransaction.objects.order_by("seq").values_list("seq", "hash"))
    amounts = [payable_amounts(p.pk) for p in (world.maggie_payable, world.theo_payable)]
    return postings, journal, amounts


def test_amounts_balances_and_the_chain_are_unchanged(world, django_capture_on_commit_callbacks):
    before = _ledger_state(world)
    with django_capture_on_commit_callbacks(execute=True):
        erase(world)
    assert _ledger_state(world) == before
    assert before[2][0] == {"owed": Decimal("1500.00"), "paid": Decimal("1500.00"), "due": 0}
    call_command("verify_ledger")  # exits 1 (SystemExit) on a broken chain


def test_the_erasure_is_recorded_without_personal_data(erased):
    record = ErasureRecord.objects.get(person=erased.maggie)
    assert record.actor == erased.officer
    assert record.reason == REASON
    assert len(record.export_sha256) == 64
    assert record.changed["ledger.person"] == {
        "rows": 1,
        "fields": ["email", "legal_name", "payroll_ref", "professional_name"],
    }
    assert record.changed["consent.consent"]["fields"] == [
        "description",
        "evidence",
        "evidence_name",
        "signed_by",
    ]
    assert record.history_changed["ledger.person"]["rows"] == 2  # both earlier versions
    assert record.retained == {}
    text = json.dumps([record.changed, record.history_changed, record.reports_rewritten])
    assert not any(value.lower() in text.lower() for value in w.MAGGIE_VALUES)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE privacy_erasurerecord SET reason = 'changed'",
        "DELETE FROM privacy_erasurerecord",
    ],
)
def test_the_erasure_record_is_append_only(erased, sql):
    with pytest.raises(DatabaseError) as refused, transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql)
    assert "append_only" in str(refused.value)


def test_stored_reports_are_rewritten_rehashed_and_recorded(
    world, django_capture_on_commit_callbacks
):
    original = world.report.sha256
    with django_capture_on_commit_callbacks(execute=True):
        record = erase(world)
    report = Report.objects.get(pk=world.report.pk)
    assert report.sha256 == hashlib.sha256(report.content.encode()).hexdigest() != original
    assert record.reports_rewritten == [
        {"report": report.pk, "sha256_before": original, "sha256_after": report.sha256}
    ]
    assert record.pseudonym in report.content
    assert w.THEO["professional_name"] in report.content


def test_a_second_erasure_is_refused(erased):
    with pytest.raises(DomainError) as refused:
        erase(erased)
    assert (refused.value.code, refused.value.status_code) == ("already_erased", 409)
    assert ErasureRecord.objects.count() == 1


@pytest.mark.parametrize(
    ("who", "reason", "code"),
    [
        ("maggie", "", "invalid"),
        ("maggie", "   ", "invalid"),
        ("maggie", "x" * 2001, "invalid"),
        ("maggie", None, "invalid"),
        ("maggie", "Request from maggie.vance@example.org", "reason_names_person"),
        ("maggie", "Marguerite Okonkwo-Vance asked by letter", "reason_names_person"),
        ("theo", REASON, "payables_due"),
    ],
)
def test_a_refused_erasure_writes_nothing(world, who, reason, code):
    before = snapshot()
    with pytest.raises(DomainError) as refused:
        erase(world, getattr(world, who), reason=reason)
    assert refused.value.code == code
    assert snapshot() == before


def test_money_still_due_names_the_payables(world):
    with pytest.raises(DomainError) as refused:
        erase(world, world.theo)
    assert refused.value.fields == {"payables": [world.theo_payable.pk]}


def test_a_name_in_an_old_journal_description_is_retained_and_counted(
    world, django_capture_on_commit_callbacks
):
    """Before names were kept out of journal descriptions, a payable's description (hashed into
    its transaction) could name the person. The hash chain cannot change: the erasure leaves
    those rows, says how many, and the chain still verifies."""
    engagement = world.maggie.engagements.get()
    old = payable_create(
        actor=world.clerk,
        production=world.production,
        person=world.maggie,
        engagement=engagement,
        rule="sag.pay.day",
        description="Day pay 2025-06-03: Maggie Vance",
        amount=Decimal("10.00"),
        currency="USD",
        period_from=date(2025, 6, 3),
        period_to=date(2025, 6, 3),
        due_date=date(2025, 6, 20),
        source_type="test",
        source_id="legacy",
    )
    obligation = old.postings.first().transaction_id
    journal_reverse(actor=world.clerk, transaction_id=obligation, reason="entered twice")
    with django_capture_on_commit_callbacks(execute=True):
        record = erase(world)
    assert record.retained == {"ledger_journaltransaction.description": 1}
    assert places_holding(w.MAGGIE_VALUES) == {"ledger_journaltransaction.description": 1}
    old.refresh_from_db()
    assert "Maggie Vance" not in old.description
    call_command("verify_ledger")


# --- the gate: the only way personal columns of append-only rows change -----------------------


def _update(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _open_gate(person, *, setting=True):
    ErasureGate.objects.create(person=person, opened_at=timezone.now())
    if setting and connection.vendor == "postgresql":
        _update("SELECT set_config('guild_ledger.erasure', 'on', true)")


def test_personal_columns_are_append_only_outside_an_erasure(world):
    with pytest.raises(DatabaseError) as refused, transaction.atomic():
        _update(
            "UPDATE consent_consent SET description = 'x' WHERE id = %s", [world.maggie_consent.pk]
        )
    assert "append_only" in str(refused.value)


def test_the_open_gate_lets_personal_columns_change_and_nothing_else(world):
    consent = world.maggie_consent.pk
    with transaction.atomic():
        _open_gate(world.maggie)
        _update("UPDATE consent_consent SET description = 'changed' WHERE id = %s", [consent])
        transaction.set_rollback(True)
    for sql in (
        "UPDATE consent_consent SET kind = 'replica_use' WHERE id = %s",
        "UPDATE consent_consent SET instrument = 'other', description = 'y' WHERE id = %s",
        "DELETE FROM consent_consent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError) as refused, transaction.atomic():
            _open_gate(world.maggie)
            _update(sql, [consent])
        assert "append_only" in str(refused.value)


def test_the_open_gate_lets_a_voids_reason_change_and_nothing_else(world):
    void = AiUseVoid.objects.get(use__person=world.maggie).pk
    with transaction.atomic():
        _open_gate(world.maggie)
        _update("UPDATE consent_aiusevoid SET reason = 'changed' WHERE id = %s", [void])
        transaction.set_rollback(True)
    for sql in (
        "UPDATE consent_aiusevoid SET reason = 'y', voided_at = '2000-01-01' WHERE id = %s",
        "DELETE FROM consent_aiusevoid WHERE id = %s",
    ):
        with pytest.raises(DatabaseError) as refused, transaction.atomic():
            _open_gate(world.maggie)
            _update(sql, [void])
        assert "append_only" in str(refused.value)


@pytest.mark.postgres
def test_on_postgres_the_gate_also_needs_the_transaction_setting(world):
    if connection.vendor != "postgresql":
        pytest.fail("runs on PostgreSQL only (deselected on the SQLite pass)")
    with pytest.raises(DatabaseError) as refused, transaction.atomic():
        _open_gate(world.maggie, setting=False)
        _update(
            "UPDATE consent_consent SET description = 'x' WHERE id = %s", [world.maggie_consent.pk]
        )
    assert "append_only" in str(refused.value)


def test_the_gate_is_closed_after_an_erasure(erased):
    assert not ErasureGate.objects.exists()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('guild_ledger.erasure', true)")
            assert cursor.fetchone()[0] in (None, "", "off")
