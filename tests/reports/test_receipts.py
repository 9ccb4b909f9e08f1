"""Consent receipts: every field matches the records, the receipt is the same whenever it is asked
for, its hash changes with the record, it names the journal transaction the chain had reached
when the record was made, and it is sent as PDF and JSON to the person (or refused, writing
nothing, when there is nowhere to send it)."""

import hashlib
import io
import json
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.core import mail
from pypdf import PdfReader

from consent.models import Consent
from consent.services import consent_resume, consent_revoke, consent_suspend
from core.errors import DomainError
from ledger.journal import chain
from reports import receipts
from reports.models import ReceiptDelivery
from reports.render import canonical_json
from reports.services import receipt_send
from tests.factories import (
    SPECIFIC,
    EngagementFactory,
    ProductionFactory,
    StudioFactory,
    UserFactory,
    evidence_file,
    grant_consent,
)
from tests.helpers import make_payable

pytestmark = pytest.mark.django_db

EVIDENCE = b"%PDF-1.4 signed replica rider, Ann Actor"
EVIDENCE_SHA256 = hashlib.sha256(EVIDENCE).hexdigest()


def at(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@contextmanager
def clock(moment: datetime):
    """Every timezone.now() inside is `moment` (auto_now_add fields, journal created_at)."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def world():
    studio = StudioFactory(name="Meridian Pictures", slug="meridian")
    production = ProductionFactory(studio=studio, title="The Long Light")
    engagement = EngagementFactory(
        production=production,
        person__legal_name="Ann Q. Actor",
        person__professional_name="Ann Actor",
        person__email="ann@actor.test",
    )
    return {
        "studio": studio,
        "production": production,
        "engagement": engagement,
        "person": engagement.person,
        "recorder": UserFactory(username="recorder"),
    }


def grant(world, **fields) -> Consent:
    values = dict(
        actor=world["recorder"],
        scenes="Episode 3, scenes 12-14",
        media="streaming, trailers",
        territory="worldwide",
        term_to=date(2027, 5, 31),
        bargained_amount=Decimal("2500"),
        bargained_currency="USD",
        named_in_disclosure=True,
        evidence=evidence_file(EVIDENCE, "rider.pdf"),
    )
    values.update(fields)
    with clock(at(2025, 6, 2, 10)):
        return grant_consent(world["engagement"], **values)


def post_journal(world):
    return make_payable(production=world["production"], person=world["person"])


def journal_transaction(payable):
    return payable.postings.get().transaction


# --- the fields -------------------------------------------------------------------------------


def test_the_grant_receipt_says_what_the_records_say(world):
    consent = grant(world)
    r = receipts.receipt(consent)

    assert r["schema"] == receipts.SCHEMA
    assert r["record_id"] == f"consent-{consent.pk}"
    assert r["event"] == "granted"
    assert r["pii_principal"] == {
        "id": world["person"].pk,
        "name": "Ann Actor",
        "category": "principal",
    }
    assert r["controller"] == {
        "studio": "Meridian Pictures",
        "production": {"id": world["production"].pk, "title": "The Long Light"},
    }
    assert r["agreement"] == "sag-tvth-2023"
    assert r["consent"] == {
        "id": consent.pk,
        "kind": "replica_creation",
        "description": SPECIFIC,
        "scenes": "Episode 3, scenes 12-14",
        "media": "streaming, trailers",
        "territory": "worldwide",
        "term": {"from": "2025-06-01", "to": "2027-05-31"},
        "instrument": "separate_writing",
        "signed_by": "Ann Q. Actor",
        "signed_by_capacity": "self",
        "represented_by": "none",
        "signed_at": "2025-06-01T12:00:00+00:00",
        "recorded_at": "2025-06-02T10:00:00+00:00",
        "notice_at": "2025-06-01T12:00:00+00:00",
        "engaged_at": None,
        "business_reason": "",
        "bargained": {"amount": "2500.00", "currency": "USD"},
        "named_in_disclosure": True,
        "supersedes": None,
    }
    assert r["consent_event"] is None
    assert r["evidence"] == {"name": "rider.pdf", "sha256": EVIDENCE_SHA256, "size": len(EVIDENCE)}
    assert r["status"] == "granted"
    assert r["status_as_of"] == "2025-06-02T10:00:00+00:00"
    assert r["ledger_chain_position"] == {"seq": 0, "hash": chain.GENESIS}
    # Plain JSON values only: it survives a round trip unchanged.
    assert json.loads(receipts.json_bytes(r)) == r


def test_no_bargained_amount_is_null(world):
    r = receipts.receipt(grant(world, bargained_amount=None))
    assert r["consent"]["bargained"] is None


def test_a_superseding_consent_names_the_one_it_replaces(world):
    old = grant(world)
    with clock(at(2025, 6, 3, 10)):
        new = grant_consent(
            world["engagement"],
            actor=world["recorder"],
            supersedes=old,
            evidence=evidence_file(b"new scope", "new.pdf"),
        )
    assert receipts.receipt(new)["consent"]["supersedes"] == old.pk
    # The old grant's receipt is what it was: a successor recorded later does not change it.
    assert receipts.receipt(old)["status"] == "granted"


def test_event_receipts_carry_the_event_and_the_status_it_made(world):
    consent = grant(world)
    actor = world["recorder"]
    with clock(at(2025, 6, 10, 9)):
        suspended = consent_suspend(actor=actor, consent=consent, reason="Dispute over scope")
    with clock(at(2025, 6, 20, 9)):
        resumed = consent_resume(actor=actor, consent=consent, reason="Settled")
    with clock(at(2025, 7, 1, 9)):
        revoked = consent_revoke(
            actor=actor, consent=consent, reason="Withdrawn", at=at(2025, 6, 30)
        )

    r = receipts.receipt(consent, suspended)
    assert r["record_id"] == f"consent-{consent.pk}-event-{suspended.pk}"
    assert r["event"] == "suspended"
    assert r["consent_event"] == {
        "id": suspended.pk,
        "kind": "suspended",
        "effective_at": "2025-06-10T09:00:00+00:00",
        "reason": "Dispute over scope",
        "recorded_at": "2025-06-10T09:00:00+00:00",
    }
    assert r["status"] == "suspended"
    assert receipts.receipt(consent, resumed)["status"] == "granted"
    # A revocation recorded after the moment it took effect: its status as of its recording.
    late = receipts.receipt(consent, revoked)
    assert late["event"] == "revoked"
    assert late["consent_event"]["recorded_at"] == "2025-07-01T09:00:00+00:00"
    assert (late["status"], late["status_as_of"]) == ("revoked", "2025-07-01T09:00:00+00:00")
    # And the grant's receipt is still the grant's.
    assert receipts.receipt(consent)["status"] == "granted"

    all_receipts = receipts.receipts_for(consent)
    assert [x["record_id"] for x in all_receipts] == [
        f"consent-{consent.pk}",
        f"consent-{consent.pk}-event-{suspended.pk}",
        f"consent-{consent.pk}-event-{resumed.pk}",
        f"consent-{consent.pk}-event-{revoked.pk}",
    ]
    assert all_receipts[1] == r


def test_an_event_of_another_consent_is_refused(world):
    one, other = grant(world), grant(world, kind="scan", business_reason="Reshoots")
    with clock(at(2025, 6, 10, 9)):
        event = consent_suspend(actor=world["recorder"], consent=other, reason="Dispute")
    with pytest.raises(ValueError):
        receipts.receipt(one, event)


def test_a_grant_recorded_after_its_term_ended_is_expired(world):
    with clock(at(2025, 6, 2, 10)):
        consent = grant_consent(
            world["engagement"],
            actor=world["recorder"],
            term_from=date(2025, 5, 1),
            term_to=date(2025, 5, 31),
            evidence=evidence_file(EVIDENCE, "rider.pdf"),
        )
    assert receipts.receipt(consent)["status"] == "expired"


# --- the chain position -----------------------------------------------------------------------


def test_the_chain_position_is_the_last_transaction_before_the_record(world):
    with clock(at(2025, 6, 1, 8)):
        first = journal_transaction(post_journal(world))
    consent = grant(world)  # recorded 2025-06-02 10:00
    with clock(at(2025, 6, 2, 10)):
        same_instant = journal_transaction(post_journal(world))
    with clock(at(2025, 6, 5, 8)):
        after_grant = journal_transaction(post_journal(world))
    with clock(at(2025, 6, 10, 9)):
        event = consent_suspend(actor=world["recorder"], consent=consent, reason="Dispute")
    with clock(at(2025, 6, 11, 8)):
        journal_transaction(post_journal(world))
    assert (first.seq, same_instant.seq, after_grant.seq) == (1, 2, 3)

    assert receipts.receipt(consent)["ledger_chain_position"] == {
        "seq": same_instant.seq,
        "hash": same_instant.hash,
    }
    assert receipts.receipt(consent, event)["ledger_chain_position"] == {
        "seq": after_grant.seq,
        "hash": after_grant.hash,
    }


def test_a_record_made_before_any_transaction_sits_at_genesis(world):
    consent = grant(world)
    with clock(at(2025, 6, 5, 8)):
        post_journal(world)
    assert receipts.receipt(consent)["ledger_chain_position"] == {"seq": 0, "hash": chain.GENESIS}


# --- the hash ---------------------------------------------------------------------------------


def test_the_receipt_hash_is_over_everything_else_and_is_stable(world):
    consent = grant(world)
    r = receipts.receipt(consent)
    body = {k: v for k, v in r.items() if k != "receipt_sha256"}
    assert r["receipt_sha256"] == hashlib.sha256(canonical_json(body).encode()).hexdigest()
    assert receipts.verify(r)

    # The same records, read again, later, after more happened, give the same receipt.
    with clock(at(2025, 6, 5, 8)):
        post_journal(world)
    with clock(at(2025, 6, 10, 9)):
        consent_suspend(actor=world["recorder"], consent=consent, reason="Dispute")
    again = receipts.receipt(Consent.objects.get(pk=consent.pk))
    assert again == r
    assert receipts.json_bytes(again) == receipts.json_bytes(r)


def test_the_receipt_hash_changes_when_the_record_differs(world):
    one = receipts.receipt(grant(world))
    other = receipts.receipt(grant(world, description=SPECIFIC + ", and the finale"))
    assert one["receipt_sha256"] != other["receipt_sha256"]

    tampered = {**one, "consent": {**one["consent"], "territory": "Canada"}}
    assert not receipts.verify(tampered)


def test_json_bytes_are_canonical(world):
    r = receipts.receipt(grant(world, signed_by="Zoë Actor"))
    data = receipts.json_bytes(r)
    assert data == canonical_json(r).encode("utf-8")
    assert "Zoë".encode() in data  # not escaped
    assert data.startswith(b'{"agreement":"sag-tvth-2023","consent":{')


# --- e-mail text and PDF ----------------------------------------------------------------------


def test_summary_text_says_what_was_agreed_and_where_it_sits(world):
    consent = grant(world)
    with clock(at(2025, 6, 1, 8)):
        tx = journal_transaction(post_journal(world))
    text = receipts.summary_text(receipts.receipt(consent))
    assert "replica creation consent of Ann Actor" in text
    assert "The Long Light (Meridian Pictures)" in text
    assert "2025-06-01 to 2027-05-31" in text
    assert EVIDENCE_SHA256 in text
    assert f"#{tx.seq} {tx.hash}" in text
    assert "Bargained amount: 2,500.00 USD." in text
    assert "Status as of 2 Jun 2025, 10:00 UTC: " in text, "an instant as people read it"
    assert "+00:00" not in text

    with clock(at(2025, 6, 10, 9)):
        event = consent_revoke(actor=world["recorder"], consent=consent, reason="Withdrawn")
    text = receipts.summary_text(receipts.receipt(consent, event))
    assert "This consent was revoked" in text
    assert "Reason: Withdrawn" in text


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def compact(text: str) -> str:
    return "".join(text.split())


def test_the_pdf_shows_the_production_the_kind_and_the_evidence_hash(world):
    consent = grant(world)
    with clock(at(2025, 6, 10, 9)):
        event = consent_revoke(actor=world["recorder"], consent=consent, reason="Withdrawn")
    for r in receipts.receipts_for(consent):
        data = receipts.pdf(r)
        assert data.startswith(b"%PDF")
        text = compact(pdf_text(data))
        assert compact("The Long Light") in text
        assert "replica_creation" in text
        assert EVIDENCE_SHA256 in text
        assert r["receipt_sha256"] in text
    assert "Withdrawn" in pdf_text(receipts.pdf(receipts.receipt(consent, event)))


# --- sending ----------------------------------------------------------------------------------


def attachments(message) -> dict:
    return {name: (content, mimetype) for name, content, mimetype in message.attachments}


def test_receipt_send_mails_pdf_and_json_and_records_the_delivery(world):
    consent = grant(world)
    staff = UserFactory(username="maya")
    delivery = receipt_send(actor=staff, consent=consent)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    record_id = f"consent-{consent.pk}"
    assert message.to == ["ann@actor.test"]
    assert record_id in message.subject
    assert EVIDENCE_SHA256 in message.body
    files = attachments(message)
    assert set(files) == {f"{record_id}.pdf", f"{record_id}.json"}
    pdf, pdf_type = files[f"{record_id}.pdf"]
    assert pdf_type == "application/pdf" and pdf.startswith(b"%PDF")
    sent, json_type = files[f"{record_id}.json"]
    assert json_type == "application/json"
    assert json.loads(sent) == receipts.receipt(consent)

    assert ReceiptDelivery.objects.count() == 1
    assert (delivery.consent, delivery.event, delivery.email, delivery.sent_by) == (
        consent,
        None,
        "ann@actor.test",
        staff,
    )


def test_receipt_send_of_an_event_goes_to_the_address_on_record(world):
    consent = grant(world)
    with clock(at(2025, 6, 10, 9)):
        event = consent_suspend(actor=world["recorder"], consent=consent, reason="Dispute")
    delivery = receipt_send(actor=world["recorder"], consent=consent, event=event)
    (message,) = mail.outbox
    assert message.to == ["ann@actor.test"]
    name = f"consent-{consent.pk}-event-{event.pk}.json"
    assert json.loads(attachments(message)[name][0])["event"] == "suspended"
    assert (delivery.event, delivery.email) == (event, "ann@actor.test")


def test_no_address_is_refused_and_nothing_is_written(world):
    world["person"].email = ""
    world["person"].save()
    consent = grant(world)
    with pytest.raises(DomainError) as excinfo:
        receipt_send(actor=world["recorder"], consent=Consent.objects.get(pk=consent.pk))
    assert excinfo.value.code == "no_email"
    assert "email" in excinfo.value.fields
    assert mail.outbox == []
    assert not ReceiptDelivery.objects.exists()


def test_a_consent_of_another_production_has_its_own_controller(world):
    other_studio = StudioFactory(name="Northgate", slug="northgate")
    other = EngagementFactory(
        person=world["person"], production=ProductionFactory(studio=other_studio, title="Ember")
    )
    with clock(at(2025, 6, 2, 10)):
        consent = grant_consent(other, actor=world["recorder"])
    r = receipts.receipt(consent)
    assert r["controller"]["studio"] == "Northgate"
    assert r["controller"]["production"]["title"] == "Ember"
