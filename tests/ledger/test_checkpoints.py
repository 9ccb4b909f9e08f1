"""Signed checkpoints of the journal's hash chain (ledger.journal.checkpoints): what they sign,
that verification starts from the latest valid one and still catches tampering after it, that the
full walk catches what lies before it, that the table is append-only, and that an export checked
by the stand-alone verifier (verifier/verify_ledger_segment.py, run as its own process) agrees
with `verify_ledger`."""

import base64
import io
import json
import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from unittest import mock

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, transaction
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from compensation import runs
from core.security import signing
from ledger.journal import chain as chain_module
from ledger.journal.checkpoints import (
    CHECKPOINT_TASK,
    checkpoint_message,
    checkpoint_write,
    signature_holds,
)
from ledger.journal.services import hash_header, hash_posting
from ledger.journal.tasks import write_checkpoint
from ledger.journal.verify import verify_chain
from ledger.models import Checkpoint, JournalTransaction, Posting
from tests.compensation.api_helpers import build_world, computed_run, record_day
from tests.factories import UserFactory
from tests.helpers import acknowledge_all, make_payable
from tests.ledger.conftest_journal import make_actor, run_sql
from tests.ledger.test_verify_ledger import (
    delete_behind_the_back,
    run_broken,
    run_verify,
    triggers_off,
)

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
VERIFIER = ROOT / "verifier" / "verify_ledger_segment.py"
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER_KEY_SETTING = base64.b64encode(bytes(range(32))).decode()
SIGNED_AT = datetime(2026, 3, 1, 12, 30, 15, 250000, tzinfo=UTC)


def tamper_amount(tx: JournalTransaction) -> None:
    posting = Posting.objects.filter(transaction=tx).order_by("id").first()
    assert posting is not None
    with triggers_off("ledger_posting", "UPDATE"):
        run_sql(
            "UPDATE ledger_posting SET amount = %s WHERE id = %s",
            [str(posting.amount + Decimal("0.01")), posting.pk],
        )


def append(n: int = 1) -> list[JournalTransaction]:
    """`n` payables posted after what the journal holds; their transactions."""
    before = JournalTransaction.objects.count()
    actor = make_actor("appender")
    for _ in range(n):
        make_payable(actor=actor)
    appended = list(JournalTransaction.objects.filter(seq__gt=before).order_by("seq"))
    assert len(appended) >= n
    return appended


def checkpoint_at(seq: int) -> Checkpoint:
    """A checkpoint of the chain as it stood at `seq` (written while later transactions existed:
    signed by hand over the message, as checkpoint_write signs the head)."""
    tx = JournalTransaction.objects.get(seq=seq)
    message = checkpoint_message(
        seq=seq, head_hash=tx.hash, created_at=SIGNED_AT, key_id=signing.key_id()
    )
    return Checkpoint.objects.create(
        seq=seq,
        head_hash=tx.hash,
        created_at=SIGNED_AT,
        key_id=signing.key_id(),
        signature=signing.sign(message),
        reason="manual",
    )


def forged_at(seq: int, head_hash: str, *, key=OTHER_KEY) -> Checkpoint:
    key_id = signing.key_id(key.public_key())
    message = checkpoint_message(seq=seq, head_hash=head_hash, created_at=SIGNED_AT, key_id=key_id)
    return Checkpoint.objects.create(
        seq=seq,
        head_hash=head_hash,
        created_at=SIGNED_AT,
        key_id=key_id,
        signature=signing.b64url(key.sign(message)),
        reason="manual",
    )


# --- what a checkpoint signs ------------------------------------------------------------------


def test_the_message_is_canonical_json_of_the_five_fields():
    message = checkpoint_message(
        seq=42, head_hash="ab" * 32, created_at=SIGNED_AT, key_id="0123456789abcdef"
    )
    assert message == (
        b'{"created_at":"2026-03-01T12:30:15.250000+00:00","hash":"' + b"ab" * 32 + b'",'
        b'"key_id":"0123456789abcdef","seq":42,"type":"guild-ledger.checkpoint"}'
    )


def test_a_checkpoint_signs_the_head(chain):
    checkpoint = checkpoint_write(reason="manual")
    assert checkpoint is not None
    head = chain[-1]
    assert (checkpoint.seq, checkpoint.head_hash, checkpoint.key_id, checkpoint.reason) == (
        head.seq,
        head.hash,
        signing.key_id(),
        "manual",
    )
    checkpoint.refresh_from_db()  # as stored: the created_at read back signs the same bytes
    message = checkpoint_message(
        seq=head.seq,
        head_hash=head.hash,
        created_at=checkpoint.created_at,
        key_id=signing.key_id(),
    )
    assert signing.verify(message, checkpoint.signature)
    assert signature_holds(checkpoint)


def test_a_head_already_signed_is_not_signed_again(chain):
    first = checkpoint_write(reason="schedule")
    assert checkpoint_write(reason="approval") == first
    assert Checkpoint.objects.count() == 1
    append()
    second = checkpoint_write(reason="schedule")
    assert second is not None and second.pk != first.pk and second.seq == chain[-1].seq + 1


def test_an_empty_journal_has_nothing_to_sign():
    assert checkpoint_write(reason="schedule") is None
    assert not Checkpoint.objects.exists()


def test_an_unknown_reason_is_refused(chain):
    with pytest.raises(ValueError):
        checkpoint_write(reason="because")
    assert not Checkpoint.objects.exists()


@pytest.mark.parametrize("change", ["hash", "seq", "created_at", "key"])
def test_a_forged_checkpoint_does_not_verify(chain, change):
    checkpoint = checkpoint_write(reason="manual")
    assert checkpoint is not None
    checkpoint.refresh_from_db()
    if change == "hash":
        checkpoint.head_hash = chain[2].hash
    elif change == "seq":
        checkpoint.seq -= 1
    elif change == "created_at":
        checkpoint.created_at = SIGNED_AT
    else:
        other = forged_at(checkpoint.seq, checkpoint.head_hash)
        assert not signature_holds(other)
        # Signed with the other key and claiming the installation's key id: still refused.
        other.key_id = signing.key_id()
        assert not signature_holds(other)
        return
    assert not signature_holds(checkpoint)


def test_a_checkpoint_written_with_another_key_does_not_hold_under_this_one(chain, settings):
    settings.SIGNING_KEY = OTHER_KEY_SETTING
    checkpoint = checkpoint_write(reason="manual")
    assert checkpoint is not None and signature_holds(checkpoint)
    settings.SIGNING_KEY = settings.TEST_SIGNING_KEY
    assert not signature_holds(checkpoint)


# --- incremental and full verification ----------------------------------------------------------


def test_incremental_verification_starts_from_the_latest_valid_checkpoint(chain):
    checkpoint = checkpoint_write(reason="manual")
    appended = append(2)
    report = verify_chain()
    assert report.ok and report.mode == "incremental" and report.checkpoint == checkpoint
    # The checkpoint's own transaction, then what was appended after it.
    assert report.checked == 1 + len(appended)
    assert (report.head_seq, report.head_hash) == (appended[-1].seq, appended[-1].hash)
    out, err = run_verify()
    assert err == ""
    assert (
        f"ledger chain intact: {1 + len(appended)} transactions checked (incremental, "
        f"from checkpoint {checkpoint.pk} at #{checkpoint.seq})" in out
    )
    full = verify_chain(full=True)
    assert full.ok and full.mode == "full" and full.checked == len(chain) + len(appended)
    out, _ = run_verify("--full")
    assert f"{full.checked} transactions checked (full, from genesis)" in out


def test_without_a_checkpoint_incremental_walks_from_genesis(chain):
    report = verify_chain()
    assert report.ok and report.checkpoint is None and report.checked == len(chain)
    out, _ = run_verify()
    assert "(incremental, from genesis (no valid checkpoint))" in out


@pytest.mark.parametrize("full", [False, True])
def test_an_edited_posting_after_the_checkpoint_is_caught(chain, full):
    checkpoint_write(reason="manual")
    appended = append(2)
    target = appended[1]
    tamper_amount(target)
    report = verify_chain(full=full)
    assert not report.ok and report.broken_seq == target.seq
    assert report.reason == "the transaction or its postings changed after they were written"
    _, err = run_broken("--full") if full else run_broken()
    assert f"BROKEN at transaction #{target.seq} ({target.id})" in err


def test_an_edited_posting_before_the_checkpoint_is_caught_by_the_full_walk_only(chain):
    checkpoint_write(reason="manual")
    target = chain[2]
    tamper_amount(target)
    incremental = verify_chain()
    assert incremental.ok and incremental.checkpoint is not None
    full = verify_chain(full=True)
    assert not full.ok and full.broken_seq == target.seq
    _, err = run_broken("--full")
    assert f"BROKEN at transaction #{target.seq}" in err
    assert f"{target.seq - 1} transactions before it verified (full, from genesis)" in err


def test_an_edited_checkpoint_transaction_is_caught_by_both(chain):
    checkpoint = checkpoint_write(reason="manual")
    assert checkpoint is not None
    tamper_amount(chain[-1])
    for full in (False, True):
        report = verify_chain(full=full)
        assert not report.ok and report.broken_seq == checkpoint.seq


def test_a_rewritten_and_rehashed_chain_breaks_at_the_signed_checkpoint(chain):
    """Someone rewrites a transaction before the checkpoint and rehashes every later one: each
    link holds, but the chain no longer carries the hash that was signed."""
    checkpoint = checkpoint_write(reason="manual")
    assert checkpoint is not None
    prev_hash = chain[1].hash
    with triggers_off("ledger_journaltransaction", "UPDATE"):
        for i, tx in enumerate(chain[2:]):
            if i == 0:
                tx.description = "Rewritten"
            postings = [hash_posting(p) for p in Posting.objects.filter(transaction=tx)]
            tx.prev_hash = prev_hash
            tx.hash = chain_module.link_hash(prev_hash, hash_header(tx), postings)
            run_sql(
                "UPDATE ledger_journaltransaction SET description = %s, prev_hash = %s, "
                "hash = %s WHERE seq = %s",
                [tx.description, tx.prev_hash, tx.hash, tx.seq],
            )
            prev_hash = tx.hash
    incremental = verify_chain()
    assert not incremental.ok and incremental.broken_seq == checkpoint.seq
    assert "does not carry the hash checkpoint" in incremental.reason
    full = verify_chain(full=True)
    assert not full.ok and full.broken_seq == checkpoint.seq
    assert "the chain was rewritten" in full.reason


def test_a_forged_checkpoint_is_reported_and_never_a_starting_point(chain, caplog):
    valid = checkpoint_at(chain[2].seq)
    appended = append(1)
    tamper_amount(appended[0])
    # A later checkpoint, signed with another key, would let the walk skip the tampered row.
    forged = forged_at(appended[-1].seq, appended[-1].hash)
    with caplog.at_level("INFO", logger="guild_ledger.security"):
        report = verify_chain()
    assert report.checkpoint == valid
    assert [(b.id, b.seq) for b in report.bad_checkpoints] == [(forged.pk, forged.seq)]
    assert not report.ok and report.broken_seq == appended[0].seq
    actions = [getattr(r, "security_event", {}).get("action") for r in caplog.records]
    assert "ledger.checkpoint_invalid" in actions and "ledger.tamper_detected" in actions
    _, err = run_broken()
    assert f"checkpoint {forged.pk} at #{forged.seq} is INVALID" in err


def test_a_forged_checkpoint_alone_fails_verification(chain):
    valid = checkpoint_at(chain[3].seq)
    forged = forged_at(chain[-1].seq, chain[-1].hash)
    for full in (False, True):
        report = verify_chain(full=full)
        assert report.chain_intact and not report.ok
        assert [b.id for b in report.bad_checkpoints] == [forged.pk]
    assert verify_chain().checkpoint == valid
    out, err = run_broken()
    assert "ledger chain intact" in out and f"checkpoint {forged.pk}" in err


def test_a_checkpoint_past_the_chain_end_is_caught(chain):
    """Transactions removed from the end of the chain: the signed head is gone."""
    last = chain[-1]
    checkpoint_write(reason="manual")
    delete_behind_the_back(last)
    for full in (False, True):
        report = verify_chain(full=full)
        assert not report.ok and report.broken_seq == last.seq


# --- append-only -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    ["UPDATE ledger_checkpoint SET reason = 'manual'", "DELETE FROM ledger_checkpoint"],
)
def test_the_checkpoint_table_refuses_update_and_delete(chain, sql):
    checkpoint = checkpoint_write(reason="schedule")
    assert checkpoint is not None
    with pytest.raises(DatabaseError), transaction.atomic():
        run_sql(sql)
    with pytest.raises(DatabaseError), transaction.atomic():
        if sql.startswith("UPDATE"):
            Checkpoint.objects.filter(pk=checkpoint.pk).update(reason="manual")
        else:
            checkpoint.delete()
    checkpoint.refresh_from_db()
    assert checkpoint.reason == "schedule" and Checkpoint.objects.count() == 1


# --- the task, its schedule and the approval of a run -------------------------------------------


def test_the_task_writes_a_checkpoint(chain):
    result = write_checkpoint.apply(args=("schedule",))
    checkpoint = Checkpoint.objects.get()
    assert result.get() == checkpoint.pk
    assert (checkpoint.seq, checkpoint.reason) == (chain[-1].seq, "schedule")


def test_the_checkpoint_task_is_scheduled_hourly():
    task = PeriodicTask.objects.get(task=CHECKPOINT_TASK)
    assert task.enabled and json.loads(task.kwargs) == {"reason": "schedule"}
    crontab = task.crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_week, crontab.day_of_month) == (
        "0",
        "*",
        "*",
        "*",
    )


def test_approving_a_run_writes_a_checkpoint_once_committed(django_capture_on_commit_callbacks):
    world = build_world()
    record_day(world.ann, world.maya)
    run = computed_run(world.film, world.maya)
    acknowledge_all(run)
    with mock.patch("ledger.journal.checkpoints.outbox.publish", return_value=True) as publish:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            runs.run_approve(actor=world.maya, run=run)
        publish.assert_not_called()  # nothing leaves before the approval commits
        for callback in callbacks:
            callback()
    publish.assert_called_once_with(CHECKPOINT_TASK, args=("approval",))
    # What the published task does with it: sign the head the approval moved.
    write_checkpoint.apply(args=("approval",))
    checkpoint = Checkpoint.objects.get()
    head = JournalTransaction.objects.order_by("-seq").first()
    assert head is not None and (checkpoint.seq, checkpoint.reason) == (head.seq, "approval")


# --- the public key, and the admin ------------------------------------------------------------


def test_the_public_keys_are_served_without_login(client):
    response = client.get("/.well-known/guild-ledger-keys.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body == signing.published_keys()
    (key,) = body["keys"]
    assert key["kid"] == signing.key_id() and key["crv"] == "Ed25519"
    assert client.post("/.well-known/guild-ledger-keys.json").status_code == 405


def test_the_admin_lists_checkpoints_under_the_public_key(client, chain):
    checkpoint = checkpoint_write(reason="manual")
    assert checkpoint is not None
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    page = client.get(reverse("admin:ledger_checkpoint_changelist"))
    assert page.status_code == 200
    html = page.content.decode()
    assert signing.key_id() in html
    assert "BEGIN PUBLIC KEY" in html and checkpoint.head_hash in html
    change = client.get(reverse("admin:ledger_checkpoint_change", args=[checkpoint.pk]))
    assert change.status_code == 200 and "Save" not in change.content.decode()
    assert client.get(reverse("admin:ledger_checkpoint_add")).status_code == 403


# --- export and the stand-alone verifier ----------------------------------------------------------


def export(tmp_path: Path, *args: str) -> Path:
    output = tmp_path / "segment.json"
    out = io.StringIO()
    call_command("export_ledger_segment", *args, "--output", str(output), stdout=out)
    assert out.getvalue().startswith("exported #")
    return output


def key_files(tmp_path: Path) -> tuple[Path, Path]:
    pem = tmp_path / "key.pem"
    pem.write_text(signing.public_key_pem())
    jwks = tmp_path / "keys.json"
    jwks.write_text(json.dumps(signing.published_keys()))
    return pem, jwks


def verifier(segment: Path, key: Path) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, str(VERIFIER), str(segment), "--public-key", str(key)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",  # nothing of the project is importable from there
    )
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done.stdout + done.stderr
    return done.returncode, lines[0]


def test_a_good_export_verifies_with_the_pem_and_the_jwks(chain, tmp_path):
    checkpoint = checkpoint_at(chain[4].seq)
    segment = export(tmp_path, "--from-seq", "2")
    data = json.loads(segment.read_text())
    assert data["checkpoint"]["id"] == checkpoint.pk
    assert data["checkpoint"]["message"]["type"] == "guild-ledger.checkpoint"
    assert data["public_key"] == signing.published_keys()
    assert data["prev_hash"] == chain[0].hash
    assert [t["seq"] for t in data["transactions"]] == [t.seq for t in chain[1:]]
    run_verify()  # verify_ledger agrees: the chain is intact
    for key in key_files(tmp_path):
        code, line = verifier(segment, key)
        assert code == 0 and line.startswith("OK: #2..#7"), line


def test_a_segment_may_start_right_after_its_checkpoint(chain, tmp_path):
    checkpoint_at(chain[2].seq)
    segment = export(tmp_path, "--from-seq", str(chain[3].seq), "--to-seq", str(chain[5].seq))
    assert json.loads(segment.read_text())["prev_hash"] == chain[2].hash
    code, line = verifier(segment, key_files(tmp_path)[0])
    assert code == 0, line


def test_a_segment_must_reach_a_checkpoint(chain, tmp_path):
    checkpoint_at(chain[5].seq)
    with pytest.raises(CommandError, match="no valid signed checkpoint"):
        export(tmp_path, "--from-seq", "1", "--to-seq", "3")
    with pytest.raises(CommandError, match="not within the chain"):
        export(tmp_path, "--from-seq", "3", "--to-seq", "99")


def test_an_edited_amount_in_the_export_fails(chain, tmp_path):
    checkpoint_at(chain[-1].seq)
    segment = export(tmp_path, "--from-seq", "1")
    data = json.loads(segment.read_text())
    leg = data["transactions"][3]["body"]["postings"][0]
    leg[2] = f"{Decimal(leg[2]) + Decimal('1.00'):.2f}"
    segment.write_text(json.dumps(data))
    code, line = verifier(segment, key_files(tmp_path)[0])
    assert code == 1 and line == (
        "FAILED: transaction #4 does not hash to the hash listed: it or the chain before it was "
        "altered"
    )


def test_an_edited_checkpoint_or_another_key_fails(chain, tmp_path):
    checkpoint_at(chain[-1].seq)
    segment = export(tmp_path, "--from-seq", "1")
    pem, _ = key_files(tmp_path)
    data = json.loads(segment.read_text())
    data["checkpoint"]["hash"] = chain[2].hash
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(data))
    code, line = verifier(edited, pem)
    assert code == 1 and "signature of the checkpoint at #7 does not verify" in line
    other = tmp_path / "other.pem"
    other.write_text(_pem(OTHER_KEY))
    code, line = verifier(segment, other)
    assert code == 1 and "the checkpoint names key" in line


def test_a_tampered_row_fails_both_verifiers(chain, tmp_path):
    checkpoint_at(chain[-1].seq)
    tamper_amount(chain[3])
    _, err = run_broken("--full")
    assert f"BROKEN at transaction #{chain[3].seq}" in err
    segment = export(tmp_path, "--from-seq", "1")
    code, line = verifier(segment, key_files(tmp_path)[0])
    assert code == 1 and "transaction #4 does not hash" in line


def test_a_gap_in_the_export_fails(chain, tmp_path):
    checkpoint_at(chain[-1].seq)
    segment = export(tmp_path, "--from-seq", "1")
    data = json.loads(segment.read_text())
    del data["transactions"][2]
    segment.write_text(json.dumps(data))
    code, line = verifier(segment, key_files(tmp_path)[0])
    assert code == 1 and line == "FAILED: expected seq 3, found 4: the seqs have a gap"


def test_the_verifier_refuses_what_is_not_a_segment(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2")
    key = tmp_path / "key.pem"
    key.write_text(signing.public_key_pem())
    code, line = verifier(bad, key)
    assert code == 1 and line.startswith("FAILED: the segment")


def _pem(key: Ed25519PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


# --- the canonical body round-trips ------------------------------------------------------------


TRICKY = 'Café — «quoted» "double" \\ back\tslash \u2028 line, 🎬 and \x7f'


def test_a_body_round_trips_to_the_bytes_hashed():
    header = {
        "id": "5b0e4a56-8c37-4b8f-9a55-0c1f1b9e8a01",
        "seq": 12,
        "kind": "obligation",
        "studio_id": 3,
        "source_type": "compensation_run",
        "source_id": "7:ann",
        "description": TRICKY,
        "effective_date": date(2025, 8, 10),
        "created_at": datetime(2025, 8, 11, 9, 30, 1, 5, tzinfo=UTC),
        "actor_id": 9,
        "reverses_id": None,
    }
    postings = [
        {
            "account_id": 4,
            "payable_id": 2,
            "amount": Decimal("-1204.5"),
            "currency": "USD",
            "effect": "owed",
        },
        {
            "account_id": 1,
            "payable_id": None,
            "amount": Decimal("1204.50"),
            "currency": "USD",
            "effect": "",
        },
    ]
    raw = chain_module.canonical(header, postings)
    again = json.dumps(
        json.loads(raw), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()
    assert again == raw


def test_stored_bodies_round_trip_through_the_export(chain, tmp_path):
    make_payable(actor=make_actor(), description=TRICKY[:100])
    checkpoint_write(reason="manual")
    segment = export(tmp_path, "--from-seq", "1")
    for row in json.loads(segment.read_text())["transactions"]:
        tx = JournalTransaction.objects.get(seq=row["seq"])
        postings = [hash_posting(p) for p in Posting.objects.filter(transaction=tx)]
        stored = chain_module.canonical(hash_header(tx), postings)
        again = json.dumps(
            row["body"], sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
        assert again == stored
    bodies = json.loads(segment.read_text(encoding="utf-8"))["transactions"]
    assert TRICKY[:100] in [row["body"]["description"] for row in bodies]
    assert "Café — «quoted»" in segment.read_text(encoding="utf-8")  # written as is, not escaped
    code, line = verifier(segment, key_files(tmp_path)[1])
    assert code == 0, line
