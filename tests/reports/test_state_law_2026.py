"""The 2026 facts in what the reports say: the receipt shows a consent's governing law,
representation, initialed terms and performance date (and a consent that states none of them
has the receipt it always had); the compliance report's "State law" section lists what a `law.*`
rule refused or warned about, with the law's consequence, and its "Warnings" section lists every
warning."""

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from consent.services import ai_use_record, union_notice_record
from ledger.access import Scope
from reports import compliance, receipts, render
from reports.models import Report
from reports.services import report_generate
from tests.factories import (
    EngagementFactory,
    PersonFactory,
    ProductionFactory,
    StudioFactory,
    UserFactory,
    agreement,
    grant_consent,
    guild,
)

pytestmark = pytest.mark.django_db

GENERIC = "Any and all uses in all media now known or hereafter devised"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def world():
    studio = StudioFactory(name="Meridian", slug="meridian")
    night = ProductionFactory(studio=studio, title="Night Shift")
    ann = EngagementFactory(
        production=night,
        person=PersonFactory(legal_name="Ann Example", registered_by=studio),
        agreement=agreement("sag-tvth-2026"),
        start_date=date(2026, 7, 6),
    )
    dora = EngagementFactory(
        production=night,
        person=PersonFactory(
            legal_name="Dora Late",
            registered_by=studio,
            is_deceased=True,
            date_of_death=date(2020, 3, 1),
        ),
        agreement=agreement("sag-tvth-2026"),
        start_date=date(2026, 7, 6),
    )
    return {"studio": studio, "night": night, "ann": ann, "dora": dora}


def on(day: int) -> datetime:
    return datetime(2026, 7, day, 12, tzinfo=UTC)


def test_a_receipt_shows_the_state_law_facts(world):
    consent = grant_consent(
        world["ann"],
        kind="replica_use",
        term_from=date(2026, 7, 1),
        term_to=date(2027, 6, 30),
        signed_at=on(1),
        governing_law="US-CA",
        performance_fixed_on=date(2026, 7, 2),
        replaces_in_person_work=True,
        represented_by="counsel",
        terms_initialed=True,
    )
    receipt = receipts.receipt(consent)
    assert receipt["consent"]["state_law"] == {
        "governing_law": "US-CA",
        "performance_fixed_on": "2026-07-02",
        "replaces_in_person_work": True,
        "terms_initialed": True,
    }
    assert receipts.verify(receipt)
    html = receipts.html(receipt)
    for text in ("Governing law", "US-CA", "2026-07-02", "Replica terms initialed", "counsel"):
        assert text in html, text
    summary = receipts.summary_text(receipt)
    assert "Governing law: US-CA." in summary
    assert "Represented by counsel, who negotiated the consent." in summary


def test_a_consent_that_states_no_state_law_fact_has_the_receipt_it_always_had(world):
    consent = grant_consent(world["ann"], term_from=date(2026, 7, 1), signed_at=on(1))
    receipt = receipts.receipt(consent)
    assert "state_law" not in receipt["consent"]
    assert "Governing law" not in receipts.html(receipt)


def report(world) -> dict:
    target = compliance.Target.of(world["night"])
    return {
        s["key"]: s
        for s in compliance.build(target, date(2026, 7, 1), date(2026, 7, 31), on(31))["sections"]
    }


def test_the_state_law_section_names_rule_person_production_and_consequence(world):
    actor = UserFactory(username="recorder")
    unenforceable = grant_consent(
        world["ann"],
        kind="replica_use",
        description=GENERIC,
        term_from=date(2026, 7, 1),
        term_to=date(2027, 6, 30),
        signed_at=on(1),
        governing_law="US-CA",
        performance_fixed_on=date(2026, 7, 2),
        replaces_in_person_work=True,
    )
    estate = grant_consent(
        world["dora"],
        kind="replica_use",
        term_from=date(2026, 7, 1),
        term_to=date(2027, 6, 30),
        signed_at=on(1),
        governing_law="US-CA",
    )
    union_notice_record(
        actor=actor,
        scope=Scope(superuser=True),
        production=world["night"],
        guild=guild("sag-aftra"),
        kind="synthetic_performer",
        given_at=on(2),
        description="Synthetic host",
    )
    ad = ai_use_record(
        actor=actor,
        scope=Scope(superuser=True),
        production=world["night"],
        person=None,
        kind="synthetic_performer",
        starts_at=on(10),
        description="Synthetic host in the spring campaign",
        advertisement=True,
        distributed_in=["US-NY"],
    )
    got = report(world)
    rows = {(r["rule"], r["object"], r["id"]): r for r in got["state_law"]["rows"]}
    assert set(rows) == {
        ("law.ca.lab927", "consent", unenforceable.pk),
        ("law.ca.civ3344_1", "consent", estate.pk),
        ("law.ny.gbl396b", "ai_use", ad.pk),
    }
    assert rows[("law.ca.civ3344_1", "consent", estate.pk)]["person"] == "Dora Late"
    assert (
        "the greater of $10,000 or actual damages"
        in (rows[("law.ca.civ3344_1", "consent", estate.pk)]["detail"])
    )
    assert "$1,000 then $5,000 per violation" in rows[("law.ny.gbl396b", "ai_use", ad.pk)]["detail"]
    assert rows[("law.ca.lab927", "consent", unenforceable.pk)]["production"] == "Night Shift"
    assert got["state_law"]["count"] == 3
    assert got["warnings"]["count"] == 0


def test_the_warnings_section_lists_every_warning_of_uses_and_consents(world):
    open_ended = grant_consent(
        world["ann"], kind="replica_use", term_from=date(2026, 7, 1), signed_at=on(1)
    )
    use = ai_use_record(
        actor=UserFactory(username="recorder"),
        scope=Scope(superuser=True),
        production=world["night"],
        person=world["ann"].person,
        kind="replica_use",
        starts_at=on(20),
        description="Replica in scene 12",
        days=1,
    )
    got = report(world)
    found = {(r["rule"], r["object"], r["id"]) for r in got["warnings"]["rows"]}
    assert found == {
        ("law.us.no_fakes", "consent", open_ended.pk),
        ("law.us.no_fakes", "ai_use", use.pk),
    }
    assert found <= {(r["rule"], r["object"], r["id"]) for r in got["state_law"]["rows"]}


def test_the_rendered_report_reads_the_new_sections(world):
    grant_consent(
        world["dora"],
        kind="replica_use",
        term_from=date(2026, 7, 1),
        term_to=date(2027, 6, 30),
        signed_at=on(1),
        governing_law="US-CA",
    )
    stored, _ = report_generate(
        target=compliance.Target.of(world["night"]),
        period_from=date(2026, 7, 1),
        period_to=date(2026, 7, 31),
        origin=Report.Origin.ON_DEMAND,
        actor=UserFactory(username="officer"),
        as_of=on(31),
    )
    page = render.html(stored)
    state_law = page[page.index('id="state_law"') : page.index('id="held_lines"')]
    assert "law.ca.civ3344_1" in state_law and "Dora Late" in state_law
    assert "the greater of $10,000 or actual damages" in state_law
    assert 'id="warnings"' in page
    assert "law.ca.civ3344_1" in render.csv_text(stored)
