"""The export holds every kind of record seeded for the person, and nothing of anyone else."""

import json

from privacy.models import ExportRecord
from privacy.selectors import digest, person_export
from privacy.services import person_erase, person_export_take
from tests.privacy import world as w

RECORD_LISTS = (
    "memberships",
    "engagements",
    "consents",
    "consent_events",
    "ai_uses",
    "ai_use_voids",
    "wga_disclosures",
    "compensation_lines",
    "hold_resolutions",
    "payables",
    "payments",
    "journal",
    "receipt_deliveries",
    "reports",
)


def test_every_record_type_seeded_for_the_person_is_exported(world):
    export = json.loads(json.dumps(person_export(world.maggie)))  # JSON-serialisable as is
    assert export["person"]["legal_name"] == w.MAGGIE["legal_name"]
    assert [k for k in RECORD_LISTS if not export[k]] == []
    assert len(export["ai_uses"]) == 3
    assert export["ai_use_voids"][0]["use_id"] == export["ai_uses"][1]["id"]
    assert export["consent_events"][0]["kind"] == "suspended"


def test_evidence_is_described_by_its_hash_not_its_bytes(world):
    (consent,) = person_export(world.maggie)["consents"]
    assert consent["evidence"] == {
        "name": "okonkwo-vance.pdf",
        "sha256": world.maggie_consent.evidence_sha256,
        "size": world.maggie_consent.evidence_size,
        "stored": True,
    }


def test_amounts_travel_with_their_currency(world):
    export = person_export(world.maggie)
    (payable,) = export["payables"]
    assert payable["amounts"] == {
        "owed": "1500.00",
        "paid": "1500.00",
        "due": "0.00",
        "currency": "USD",
    }
    (payment,) = export["payments"]
    assert (payment["amount"], payment["currency"]) == ("1500.00", "USD")
    legs = [leg for tx in export["journal"] for leg in tx["postings"]]
    assert {(leg["amount"], leg["currency"], leg["effect"]) for leg in legs} == {
        ("-1500.00", "USD", "owed"),
        ("1500.00", "USD", "paid"),
    }


def test_history_rows_are_included(world):
    history = person_export(world.maggie)["history"]
    names = [row["professional_name"] for row in history["ledger.person"]]
    assert names == [w.MAGGIE_EARLIER_NAME, w.MAGGIE["professional_name"]]
    assert history["consent.consent"][0]["history_type"] == "+"


def test_report_rows_name_only_the_person(world):
    (report,) = person_export(world.maggie)["reports"]
    assert report["sha256"] == world.report.sha256
    assert {row["person"] for row in report["rows"]} == {w.MAGGIE["professional_name"]}


def test_every_value_of_the_person_and_none_of_another(world):
    text = json.dumps(person_export(world.maggie), ensure_ascii=False)
    assert [v for v in w.MAGGIE_VALUES if v not in text] == []
    assert [v for v in w.THEO_VALUES if v in text] == []


def test_taking_an_export_is_recorded(world):
    export, record = person_export_take(person=world.maggie, actor=world.officer)
    assert ExportRecord.objects.get() == record
    assert (record.person, record.actor) == (world.maggie, world.officer)
    assert record.sha256 == digest(export)
    later = person_export(world.maggie)
    assert [e["sha256"] for e in later["exports"]] == [record.sha256]


def test_after_erasure_the_export_holds_the_pseudonym_and_the_record(world):
    record = person_erase(person=world.maggie, actor=world.officer, reason="Art. 17 request")
    world.maggie.refresh_from_db()
    export = person_export(world.maggie)
    text = json.dumps(export, ensure_ascii=False)
    assert [v for v in w.MAGGIE_VALUES if v in text] == []
    assert export["person"]["legal_name"] == record.pseudonym
    assert export["erasure"]["export_sha256"] == record.export_sha256
