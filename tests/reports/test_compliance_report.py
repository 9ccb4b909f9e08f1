"""The compliance report over one scenario that has a case for every section (RULES.md §2, §3
and the ledger chain), next to decoys that must not be found: records of another studio,
records dated outside the period, and records that look alike but are in order.

Meridian's film `The Long Light` works under SAG-AFTRA 2026, WGA 2026 and IATSE 2024; its
`Night Shift` (Meridian too) gave its notices in time and owes pay not yet due; Northgate's
`Harbor Nights` has violations of its own. The report covers August 2026 and is made on
2026-09-02 at 12:00 UTC.

What each section must find, and the look-alikes it must leave out:

- violations: Ann's use after the revocation, Wes's AI material with no disclosure, Cy's use
  before the AI-impact notice, the synthetic performer with no notice, Bo counted toward the
  background headcount. Not Hal's in July or on 1 September, not Northgate's Bob and Zed.
- planned uses not covered: Ann on 15 September (allowed when recorded, the consent revoked
  since) and Hal on 10 September (recorded as a violation). Not Eve's, still covered.
- consents expiring: Eve's, in 18 days. Not Bo's (40 days), not Ann's (revoked).
- uses after withdrawal: Ann on 20 August (a violation), Ann on 12 August (allowed, then revoked
  from the 11th), Eve on 14 August (allowed, then a one-day strike recorded). Not Ann on 5
  August, before the revocation took effect.
- missing WGA disclosures: Wes's AI use and his AI-material delivery. Not Wyn's (disclosed),
  not Wes's plain delivery.
- missing union notices: the synthetic performer and Cy. Not Night Shift's (notified before).
- held lines: the lines of Ann's and Bo's violating uses.
- overdue payables: Ann's, Bea's and Cy's, due 1 September, and the SAG-AFTRA P&H fund's
  payables of Ann's and Bea's contributions. Not Eve's (her pay and her contribution paid in
  full), not Dan's (due 30 September).
- needs confirmation: Bea's day pay at the D-tier 2026 minimum, and every P&H contribution of the
  month (the extra 1% of 2026 is disputed: tier T from 2026-07-01), Night Shift's included.
- rate_missing: Wes and Wyn (no WGA schedule of minimums), Cy (no IATSE scale loaded for his
  classification). Not Cal's input_missing.
- below scale: Bea, at 1,000 under the 1,283 minimum.
- background headcount: Bo.
- ledger chain: nothing, the chain is intact (broken on purpose in the PostgreSQL test).
"""

import csv
import hashlib
import io
import json
import re
from collections import Counter
from datetime import UTC, date, datetime, time
from decimal import Decimal
from types import SimpleNamespace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import DatabaseError, connection, transaction

from compensation import runs, selectors, services
from compensation.models import CompensationLine, CompensationRun
from consent.services import (
    ai_use_record,
    consent_revoke,
    strike_period_record,
    union_notice_record,
    wga_disclosure_record,
)
from core.security import signing
from ledger.access import SYSTEM_SCOPE, Scope
from ledger.journal.checkpoints import checkpoint_message, checkpoint_write
from ledger.journal.services import chain_head, payment_confirm
from ledger.models import Checkpoint, JournalTransaction, Payable
from reports import compliance, render
from reports.models import Report
from reports.services import report_generate
from tests.factories import (
    EngagementFactory,
    PersonFactory,
    ProductionAgreementFactory,
    ProductionFactory,
    StudioFactory,
    UserFactory,
    agreement,
    grant_consent,
    guild,
)
from tests.helpers import acknowledge_all, make_payable

pytestmark = pytest.mark.django_db

PERIOD_FROM, PERIOD_TO = date(2026, 8, 1), date(2026, 8, 31)
AS_OF = datetime(2026, 9, 2, 12, tzinfo=UTC)


def at(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.fixture(autouse=True)
def isolated(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    selectors._parameters_cache.clear()
    yield
    selectors._parameters_cache.clear()


@pytest.fixture
def s():
    return build_scenario()


def build_scenario() -> SimpleNamespace:
    s = SimpleNamespace()
    s.clerk = UserFactory(username="clerk")
    s.meridian = StudioFactory(name="Meridian", slug="meridian")
    s.northgate = StudioFactory(name="Northgate", slug="northgate")
    s.film = ProductionFactory(
        studio=s.meridian, title="The Long Light", start_date=date(2026, 6, 1)
    )
    s.night = ProductionFactory(studio=s.meridian, title="Night Shift", start_date=date(2026, 6, 1))
    s.harbor = ProductionFactory(
        studio=s.northgate, title="Harbor Nights", start_date=date(2026, 6, 1)
    )
    sag, wga, iatse = (agreement(c) for c in ("sag-tvth-2026", "wga-mba-2026", "iatse-basic-2024"))

    def engage(
        production, name, *, on=sag, classification="day_performer", rate="1500.00", unit="day"
    ):
        return EngagementFactory(
            production=production,
            person=PersonFactory(legal_name=name, registered_by=production.studio),
            agreement=on,
            classification=classification,
            rate_amount=Decimal(rate),
            rate_unit=unit,
            start_date=date(2026, 6, 1),
        )

    def consent(engagement, kind="replica_use", *, term_to=None):
        return grant_consent(
            engagement,
            actor=s.clerk,
            kind=kind,
            signed_at=at(2026, 7, 1, 9),
            notice_at=at(2026, 7, 1, 9),
            term_from=date(2026, 7, 1),
            term_to=term_to,
        )

    def use(engagement_or_production, kind="replica_use", *, on, **fields):
        if hasattr(engagement_or_production, "person"):
            production, person = (
                engagement_or_production.production,
                engagement_or_production.person,
            )
        else:
            production, person = engagement_or_production, None
        if kind == "replica_use":
            fields.setdefault("days", Decimal("1"))
        return ai_use_record(
            actor=s.clerk,
            scope=Scope(superuser=True),
            production=production,
            person=person,
            kind=kind,
            starts_at=on,
            description=f"{kind} in the harbour scenes",
            **fields,
        )

    # --- The Long Light (Meridian): SAG-AFTRA 2026, WGA 2026, IATSE 2024 -----------------------
    s.ann = engage(s.film, "Ann Actor")
    s.bea = engage(s.film, "Bea Belowscale", rate="1000.00")
    s.eve = engage(s.film, "Eve Expiring")
    s.hal = engage(s.film, "Hal Noconsent")
    s.bo = engage(s.film, "Bo Background", classification="background_actor", rate="250.00")
    s.wes = engage(
        s.film, "Wes Writer", on=wga, classification="writer", rate="5000.00", unit="week"
    )
    s.wyn = engage(
        s.film, "Wyn Writer", on=wga, classification="writer", rate="5000.00", unit="week"
    )
    s.cy = engage(
        s.film, "Cy Grip", on=iatse, classification="crew_hourly", rate="50.00", unit="hour"
    )
    services.terms_set(actor=s.clerk, engagement=s.cy, wage_classification="grip")

    # Ann's replica consent, revoked from 2026-08-11 after uses were recorded on it.
    s.ann_consent = consent(s.ann, term_to=date(2026, 9, 20))
    s.ann_covered = use(s.ann, on=at(2026, 8, 5, 10))
    s.ann_taken_away = use(s.ann, on=at(2026, 8, 12, 10))
    s.ann_planned = use(s.ann, on=at(2026, 9, 15, 10))
    consent_revoke(
        actor=s.clerk, consent=s.ann_consent, reason="Withdrawn by letter.", at=at(2026, 8, 11)
    )
    s.ann_after_revocation = use(s.ann, on=at(2026, 8, 20, 10))

    # Eve's consent runs out on 2026-09-20; a strike recorded later falls on her use's day.
    s.eve_consent = consent(s.eve, term_to=date(2026, 9, 20))
    s.eve_struck = use(s.eve, on=at(2026, 8, 14, 10))
    s.eve_planned = use(s.eve, on=at(2026, 9, 12, 10))
    s.strike = strike_period_record(
        actor=s.clerk,
        scope=SYSTEM_SCOPE,
        guild=guild("sag-aftra"),
        starts_on=date(2026, 8, 14),
        ends_on=date(2026, 8, 14),
        description="One-day strike",
    )

    # Hal has no consent: violations before and after the period (but before the report is
    # made), and a planned one.
    s.hal_last_month = use(s.hal, on=at(2026, 7, 20, 10))
    s.hal_after_period = use(s.hal, on=at(2026, 9, 1, 10))
    s.hal_planned = use(s.hal, on=at(2026, 9, 10, 10))

    # Bo, a background actor, consented, but his replica was counted toward the headcount.
    s.bo_consent = consent(s.bo, term_to=date(2026, 10, 12))
    s.bo_counted = use(s.bo, on=at(2026, 8, 17, 10), counted_toward_headcount=True)

    # A synthetic performer with no notice to the union.
    s.synthetic = use(s.film, "synthetic_performer", on=at(2026, 8, 13, 10))

    # Writers: Wes was handed AI material without a disclosure, Wyn with one.
    s.wes_handed = use(s.wes, "writer_ai_use", on=at(2026, 8, 6, 10), material_handed_over=True)
    s.wes_delivery = services.delivery_save(
        actor=s.clerk,
        engagement=s.wes,
        work_type="screenplay",
        date=date(2026, 8, 7),
        ai_material_handed_over=True,
    )
    s.wes_plain_delivery = services.delivery_save(
        actor=s.clerk, engagement=s.wes, work_type="screenplay", date=date(2026, 8, 20)
    )
    wga_disclosure_record(
        actor=s.clerk,
        scope=SYSTEM_SCOPE,
        production=s.film,
        writer=s.wyn.person,
        material="AI-generated outline",
        handed_over_on=date(2026, 8, 8),
        disclosed_at=at(2026, 8, 1, 9),
    )
    s.wyn_handed = use(s.wyn, "writer_ai_use", on=at(2026, 8, 8, 10), material_handed_over=True)
    s.wyn_delivery = services.delivery_save(
        actor=s.clerk,
        engagement=s.wyn,
        work_type="screenplay",
        date=date(2026, 8, 9),
        ai_material_handed_over=True,
    )

    # Cy's AI use came before the production's AI-impact notice.
    s.cy_altered = use(s.cy, "digital_alteration", on=at(2026, 8, 10, 10))
    union_notice_record(
        actor=s.clerk,
        scope=SYSTEM_SCOPE,
        production=s.film,
        guild=guild("iatse"),
        kind="ai_impact",
        given_at=at(2026, 8, 25, 9),
        description="AI upscaling in the grading suite",
    )

    for engagement, day in ((s.bea, 3), (s.cy, 10)):
        services.timecard_save(
            actor=s.clerk,
            engagement=engagement,
            date=date(2026, 8, day),
            first_call=time(7),
            dismissal=time(15, 30),
            meals=[["13:00", "13:30"]],
        )
    s.film_run = approved_run(s, s.film, due_date=date(2026, 9, 1))
    s.eve_payable = Payable.objects.get(engagement=s.eve, rule="sag.pay.ebdr_use")
    s.eve_ph = Payable.objects.get(engagement=s.eve, fund="sag-aftra-ph")
    for n, payable in enumerate((s.eve_payable, s.eve_ph), start=1):
        payment_confirm(
            actor=s.clerk,
            client="user:clerk",
            idempotency_key=f"pay-eve-{n}",
            payable=payable,
            amount=payable.amount,
            paid_at=at(2026, 8, 31, 12),
            payroll_reference=f"PAY-EVE-{n}",
            render=lambda payment: {"id": payment.pk},
        )

    # --- Night Shift (Meridian): notices given before its uses; pay not yet due --------------
    ProductionAgreementFactory(production=s.night, agreement=sag)
    s.dan = engage(s.night, "Dan Daily")
    s.cal = engage(
        s.night, "Cal Crew", on=iatse, classification="crew_hourly", rate="50.00", unit="hour"
    )
    for kind, code in (("synthetic_performer", "sag-aftra"), ("ai_impact", "iatse")):
        union_notice_record(
            actor=s.clerk,
            scope=SYSTEM_SCOPE,
            production=s.night,
            guild=guild(code),
            kind=kind,
            given_at=at(2026, 7, 15, 9),
            description=f"{kind} notice",
        )
    s.night_synthetic = use(s.night, "synthetic_performer", on=at(2026, 8, 18, 10))
    consent(s.cal, "scan")
    s.cal_scanned = use(s.cal, "scan", on=at(2026, 8, 18, 10))
    services.timecard_save(
        actor=s.clerk,
        engagement=s.dan,
        date=date(2026, 8, 4),
        first_call=time(7),
        dismissal=time(15, 30),
        meals=[["13:00", "13:30"]],
    )
    s.night_run = approved_run(s, s.night, due_date=date(2026, 9, 30))

    # --- Harbor Nights (Northgate): another studio's violations ------------------------------
    ProductionAgreementFactory(production=s.harbor, agreement=wga)
    s.bob = engage(s.harbor, "Bob Other")
    s.zed = engage(
        s.harbor, "Zed Writer", on=wga, classification="writer", rate="5000.00", unit="week"
    )
    s.bob_consent = consent(s.bob, "replica_creation", term_to=date(2026, 9, 10))
    s.bob_violation = use(s.bob, on=at(2026, 8, 5, 10))
    s.bob_planned = use(s.bob, on=at(2026, 9, 20, 10))
    s.zed_handed = use(s.zed, "writer_ai_use", on=at(2026, 8, 6, 10), material_handed_over=True)
    return s


def approved_run(s, production, *, due_date):
    run = runs.run_start(
        actor=s.clerk,
        production=production,
        period_from=PERIOD_FROM,
        period_to=PERIOD_TO,
        due_date=due_date,
    )
    runs.run_compute(run.pk)
    run.refresh_from_db()
    assert run.status == "computed", (run.status, run.error)
    acknowledge_all(run)
    return runs.run_approve(actor=s.clerk, run=run)


def generate(target, *, origin=Report.Origin.ON_DEMAND, as_of=AS_OF):
    report, _ = report_generate(
        target=compliance.Target.of(target),
        period_from=PERIOD_FROM,
        period_to=PERIOD_TO,
        origin=origin,
        actor=UserFactory(username="compliance-officer"),
        as_of=as_of,
    )
    return report


def sections(report) -> dict:
    return {section["key"]: section for section in json.loads(report.content)["sections"]}


def found(section) -> set:
    """What a section found: (rule, object, id) of each row."""
    return {(row["rule"], row["object"], row["id"]) for row in section["rows"]}


def records(section) -> set:
    return {(row["object"], row["id"]) for row in section["rows"]}


def use_row(rule, use):
    return (rule, "ai_use", use.pk)


def payable_of(engagement, rule) -> Payable:
    return Payable.objects.get(engagement=engagement, rule=rule)


def held_lines(s) -> set:
    return {
        (line.rule, "compensation_line", line.pk)
        for line in CompensationLine.objects.filter(run=s.film_run, status="held")
    }


def run_sql(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


RULE_IDS = re.compile(r"^[a-z]+(\.[a-z0-9_]+)+( [a-z]+(\.[a-z0-9_]+)+)*$")


@pytest.fixture
def report(s):
    return generate(s.meridian)


# --- the studio report finds each case and nothing else --------------------------------------


def test_each_section_finds_exactly_its_cases(s, report):
    got = sections(report)
    assert [key for key, _title, _rules in compliance.SECTIONS] == list(got)
    assert found(got["violations"]) == {
        use_row("consent.revoked", s.ann_after_revocation),
        use_row("wga.disclosure", s.wes_handed),
        use_row("iatse.ai_impact_notice", s.cy_altered),
        use_row("sag.consent.synthetic", s.synthetic),
        use_row("sag.consent.background", s.bo_counted),
    }
    assert found(got["planned_uses_not_covered"]) == {
        use_row("consent.revoked", s.ann_planned),
        use_row("sag.consent.ebdr_use", s.hal_planned),
    }
    assert found(got["consents_expiring"]) == {("consent.term", "consent", s.eve_consent.pk)}
    assert found(got["uses_after_withdrawal"]) == {
        use_row("consent.revoked", s.ann_after_revocation),
        use_row("consent.revoked", s.ann_taken_away),
        use_row("sag.consent.strike", s.eve_struck),
    }
    assert found(got["missing_wga_disclosures"]) == {
        use_row("wga.disclosure", s.wes_handed),
        ("wga.disclosure", "wga_delivery", s.wes_delivery.pk),
    }
    assert found(got["missing_union_notices"]) == {
        use_row("sag.consent.synthetic", s.synthetic),
        use_row("iatse.ai_impact_notice", s.cy_altered),
    }
    # The crew scan relies on an open-ended consent: the NO FAKES advisory, which refuses nothing.
    advisory = {use_row("law.us.no_fakes", s.cal_scanned)}
    assert found(got["state_law"]) == found(got["warnings"]) == advisory
    held = held_lines(s)
    assert found(got["held_lines"]) == held
    assert {rule for rule, _, _ in held} == {"sag.pay.ebdr_use", "sag.ph"}
    assert set(
        CompensationLine.objects.filter(run=s.film_run, status="held").values_list(
            "ai_use_id", flat=True
        )
    ) == {s.ann_after_revocation.pk, s.bo_counted.pk}
    assert found(got["overdue_payables"]) == {
        ("sag.pay.ebdr_use", "payable", payable_of(s.ann, "sag.pay.ebdr_use").pk),
        ("sag.pay.day", "payable", payable_of(s.bea, "sag.pay.day").pk),
        ("iatse.pay.hourly", "payable", payable_of(s.cy, "iatse.pay.hourly").pk),
        ("sag.ph", "payable", payable_of(s.ann, "sag.ph").pk),
        ("sag.ph", "payable", payable_of(s.bea, "sag.ph").pk),
    }
    confirm = {(r["rule"], r["production"]): r for r in got["needs_confirmation"]["rows"]}
    assert {key: row["count"] for key, row in confirm.items()} == {
        ("sag.pay.day", "The Long Light"): 1,
        ("sag.ph", "The Long Light"): 3,
        ("sag.ph", "Night Shift"): 1,
    }
    assert "tier D" in confirm["sag.pay.day", "The Long Light"]["detail"]
    assert "tier T" in confirm["sag.ph", "Night Shift"]["detail"]
    assert {r["object"] for r in got["rate_missing"]["rows"]} == {"compensation_run"}
    assert {r["id"] for r in got["rate_missing"]["rows"]} == {s.film_run.pk}
    assert Counter((r["rule"], r["person"]) for r in got["rate_missing"]["rows"]) == Counter(
        {
            ("wga.pay.first_writer", "Wes Writer"): 1,  # the AI-material delivery
            ("wga.pay.minimum", "Wes Writer"): 1,  # the plain delivery
            ("wga.pay.first_writer", "Wyn Writer"): 1,
            ("iatse.pay.hourly", "Cy Grip"): 2,  # no scale, no overtime bands for grips
        }
    )
    assert found(got["below_scale"]) == {("sag.pay.day", "engagement", s.bea.pk)}
    assert found(got["background_headcount"]) == {use_row("sag.consent.background", s.bo_counted)}
    assert found(got["ledger_chain"]) == set()


def test_counts_are_the_rows_found(report):
    expected = {
        "violations": 5,
        "planned_uses_not_covered": 2,
        "consents_expiring": 1,
        "uses_after_withdrawal": 3,
        "missing_wga_disclosures": 2,
        "missing_union_notices": 2,
        "state_law": 1,
        "held_lines": 4,
        "overdue_payables": 5,
        "needs_confirmation": 5,
        "warnings": 1,
        "rate_missing": 5,
        "below_scale": 1,
        "background_headcount": 1,
        "flagged_for_follow_up": 0,
        "ledger_chain": 0,
        "voided_uses": 0,
    }
    got = sections(report)
    assert {key: section["count"] for key, section in got.items()} == expected
    assert report.counts == expected
    for section in got.values():
        assert section["count"] == sum(row["count"] for row in section["rows"])


def test_every_row_names_its_rules_and_has_one_shape(report):
    columns = {
        "rule",
        "object",
        "id",
        "production",
        "person",
        "date",
        "detail",
        "count",
        "amount",
        "currency",
    }
    for key, section in sections(report).items():
        for row in section["rows"]:
            assert set(row) == columns, (key, row)
            assert RULE_IDS.match(row["rule"]), (key, row["rule"])
            assert row["detail"], (key, row)


def test_amounts_and_totals(s, report):
    got = sections(report)
    overdue = {row["id"]: row for row in got["overdue_payables"]["rows"]}
    bea = overdue[payable_of(s.bea, "sag.pay.day").pk]
    assert (bea["amount"], bea["currency"], bea["date"]) == ("1283.00", "USD", "2026-09-01")
    # The P&H fund's payables: 0.21 × 3,000 for Ann, 0.21 × 1,283 for Bea; named as the fund's.
    ph = [overdue[payable_of(e, "sag.ph").pk] for e in (s.ann, s.bea)]
    assert [(r["amount"], r["person"]) for r in ph] == [
        ("630.00", "SAG-AFTRA Pension and Health"),
        ("269.43", "SAG-AFTRA Pension and Health"),
    ]
    # 3,000 + 1,283 + 400 owed to people, 630.00 + 269.43 to the fund
    assert got["overdue_payables"]["totals"] == {"USD": "5582.43"}
    assert got["below_scale"]["totals"] == {"USD": "1283.00"}
    # Ann's held replica day at her 1,500 rate and its P&H; Bo's at his 250 and background P&H.
    assert got["held_lines"]["totals"] == {"USD": "2116.25"}  # 1,500 + 315 + 250 + 51.25


def test_decoys_outside_the_scope_the_period_or_in_order_are_left_out(s, report):
    # The advisory sections list uses in order too (the crew scan's NO FAKES warning).
    advisory = ("state_law", "warnings")
    everything = set().union(
        *(records(section) for key, section in sections(report).items() if key not in advisory)
    )
    decoys = {
        "ai_use": [
            s.hal_last_month,  # before the period
            s.hal_after_period,  # after the period, before the report
            s.ann_covered,  # before the revocation took effect
            s.eve_planned,  # still covered
            s.wyn_handed,  # disclosed
            s.night_synthetic,  # notified before
            s.cal_scanned,  # notified before, consented
            s.bob_violation,  # another studio
            s.bob_planned,
            s.zed_handed,
        ],
        "consent": [s.ann_consent, s.bo_consent, s.bob_consent],
        "wga_delivery": [s.wes_plain_delivery, s.wyn_delivery],
        "payable": [s.eve_payable, s.eve_ph, payable_of(s.dan, "sag.pay.day")],
    }
    for obj, items in decoys.items():
        for item in items:
            assert (obj, item.pk) not in everything, (obj, item)
    rows = [
        (key, row)
        for key, section in sections(report).items()
        if key not in advisory
        for row in section["rows"]
    ]
    assert {row["production"] for _key, row in rows} == {"The Long Light", "Night Shift"}
    # Night Shift is in order: only its P&H asks for confirmation, as every P&H of 2026 does.
    assert {(key, row["rule"]) for key, row in rows if row["production"] == "Night Shift"} == {
        ("needs_confirmation", "sag.ph")
    }


def test_ledger_chain_intact_names_the_head(report):
    content = json.loads(report.content)
    seq, head = chain_head()
    assert seq == JournalTransaction.objects.count() > 0
    assert content["ledger"] == {
        "intact": True,
        "mode": "incremental",
        "checked": seq,
        "head_seq": seq,
        "head_hash": head,
        "checkpoint": None,
    }
    assert sections(report)["ledger_chain"]["count"] == 0


def test_the_ledger_section_carries_the_checkpoint_and_verifies_only_what_followed(s):
    checkpoint = checkpoint_write(reason="manual")
    assert checkpoint is not None
    checkpoint.refresh_from_db()
    make_payable(actor=UserFactory(username="later-clerk"))
    seq, head = chain_head()
    assert seq == checkpoint.seq + 1
    report = generate(s.meridian)
    ledger = json.loads(report.content)["ledger"]
    assert ledger == {
        "intact": True,
        "mode": "incremental",
        "checked": 2,  # the checkpoint's transaction, and the one after it
        "head_seq": seq,
        "head_hash": head,
        "checkpoint": {
            "seq": checkpoint.seq,
            "hash": checkpoint.head_hash,
            "created_at": checkpoint.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
            "key_id": signing.key_id(),
            "signature": checkpoint.signature,
        },
    }
    # What the report carries is enough to check the signature with the public key alone.
    message = checkpoint_message(
        seq=ledger["checkpoint"]["seq"],
        head_hash=ledger["checkpoint"]["hash"],
        created_at=datetime.fromisoformat(ledger["checkpoint"]["created_at"]),
        key_id=ledger["checkpoint"]["key_id"],
    )
    assert signing.verify(message, ledger["checkpoint"]["signature"])
    assert sections(report)["ledger_chain"]["count"] == 0


def test_a_forged_checkpoint_is_a_row_of_the_ledger_section_and_never_the_start(s):
    valid = checkpoint_write(reason="manual")
    assert valid is not None
    make_payable(actor=UserFactory(username="later-clerk"))
    seq, head = chain_head()
    other = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    signed_at = datetime(2026, 1, 1, tzinfo=UTC)
    forged = Checkpoint.objects.create(
        seq=seq,
        head_hash=head,
        created_at=signed_at,
        key_id=signing.key_id(),  # claims the installation's key; signed with another
        signature=signing.b64url(
            other.sign(
                checkpoint_message(
                    seq=seq, head_hash=head, created_at=signed_at, key_id=signing.key_id()
                )
            )
        ),
        reason="manual",
    )
    report = generate(s.meridian)
    ledger = json.loads(report.content)["ledger"]
    assert ledger["intact"] is False and "broken_seq" not in ledger
    assert ledger["checkpoint"]["seq"] == valid.seq and ledger["checked"] == 2
    (row,) = sections(report)["ledger_chain"]["rows"]
    assert (row["rule"], row["object"], row["id"]) == (
        "ledger.journal.chain",
        "checkpoint",
        str(forged.pk),
    )
    assert "signature does not verify" in row["detail"]


# --- the stored report --------------------------------------------------------------------


def test_stored_once_with_the_hash_of_its_content_and_never_changed(s, report):
    assert report.sha256 == hashlib.sha256(report.content.encode()).hexdigest()
    content = json.loads(report.content)
    assert content["generated_at"] == "2026-09-02T12:00:00+00:00"
    assert content["period"] == {"from": "2026-08-01", "to": "2026-08-31"}
    assert content["scope"]["key"] == f"studio:{s.meridian.pk}"
    with pytest.raises(DatabaseError), transaction.atomic():
        Report.objects.filter(pk=report.pk).update(content="{}")
    with pytest.raises(DatabaseError), transaction.atomic():
        Report.objects.filter(pk=report.pk).delete()
    stored = Report.objects.get(pk=report.pk)
    assert (stored.content, stored.sha256) == (report.content, report.sha256)


def test_a_scheduled_report_is_made_once_per_scope_and_period(s):
    target = compliance.Target.of(s.meridian)
    actor = UserFactory(username="scheduler")
    first, created = report_generate(
        target=target,
        period_from=PERIOD_FROM,
        period_to=PERIOD_TO,
        origin=Report.Origin.SCHEDULED,
        actor=actor,
        as_of=AS_OF,
    )
    again, created_again = report_generate(
        target=target,
        period_from=PERIOD_FROM,
        period_to=PERIOD_TO,
        origin=Report.Origin.SCHEDULED,
        actor=actor,
        as_of=datetime(2026, 9, 3, 8, tzinfo=UTC),
    )
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk and again.sha256 == first.sha256
    assert again.generated_at == AS_OF
    assert Report.objects.filter(scope_key=target.key, origin="scheduled").count() == 1


# --- the same facts seen from a guild and from the other studio -------------------------------


def test_the_sag_aftra_report_has_sag_rows_of_every_studio_and_no_wga_or_iatse_rows(s):
    got = sections(generate(guild("sag-aftra")))
    expected = {
        "violations": {
            ("ai_use", u.pk)
            for u in (s.ann_after_revocation, s.synthetic, s.bo_counted, s.bob_violation)
        },
        "planned_uses_not_covered": {
            ("ai_use", u.pk) for u in (s.ann_planned, s.hal_planned, s.bob_planned)
        },
        "consents_expiring": {("consent", s.eve_consent.pk), ("consent", s.bob_consent.pk)},
        "uses_after_withdrawal": {
            ("ai_use", u.pk) for u in (s.ann_after_revocation, s.ann_taken_away, s.eve_struck)
        },
        "missing_wga_disclosures": set(),
        "missing_union_notices": {("ai_use", s.synthetic.pk)},
        "state_law": set(),
        "held_lines": {(obj, pk) for _rule, obj, pk in held_lines(s)},
        "overdue_payables": {
            ("payable", payable_of(s.ann, "sag.pay.ebdr_use").pk),
            ("payable", payable_of(s.bea, "sag.pay.day").pk),
            ("payable", payable_of(s.ann, "sag.ph").pk),
            ("payable", payable_of(s.bea, "sag.ph").pk),
        },
        "needs_confirmation": {("compensation_lines", None)},
        "warnings": set(),
        "rate_missing": set(),
        "below_scale": {("engagement", s.bea.pk)},
        "background_headcount": {("ai_use", s.bo_counted.pk)},
        "flagged_for_follow_up": set(),
        "ledger_chain": set(),
        "voided_uses": set(),
    }
    assert {key: records(section) for key, section in got.items()} == expected
    rules = {
        rule for section in got.values() for row in section["rows"] for rule in row["rule"].split()
    }
    assert not {r for r in rules if r.startswith(("wga.", "iatse."))}, rules
    productions = {row["production"] for section in got.values() for row in section["rows"]}
    assert productions == {"The Long Light", "Harbor Nights", "Night Shift"}


def test_the_other_studio_sees_only_its_own_rows(s):
    got = sections(generate(s.northgate))
    expected = {key: set() for key, _title, _rules in compliance.SECTIONS}
    expected.update(
        violations={
            use_row("sag.consent.ebdr_use", s.bob_violation),
            use_row("wga.disclosure", s.zed_handed),
        },
        planned_uses_not_covered={use_row("sag.consent.ebdr_use", s.bob_planned)},
        consents_expiring={("consent.term", "consent", s.bob_consent.pk)},
        missing_wga_disclosures={use_row("wga.disclosure", s.zed_handed)},
    )
    assert {key: found(section) for key, section in got.items()} == expected


# --- formats ----------------------------------------------------------------------------------


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_the_pdf_shows_every_section_and_the_report_hash(s, report):
    from pypdf import PdfReader

    data = render.pdf(report)
    assert data.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    flat = squeeze(text)
    for _key, title, _rules in compliance.SECTIONS:
        assert squeeze(title) in flat, title
    assert report.sha256 in flat
    for name in ("Hal Noconsent", "Bo Background", "Bea Belowscale", "Wes Writer"):
        assert squeeze(name) in flat, name
    assert "Harbor" not in text and "Northgate" not in text


def test_the_csv_has_one_line_per_row_under_its_section_key(report):
    got = sections(report)
    lines = list(csv.reader(io.StringIO(render.csv_text(report))))
    assert lines[0] == list(render.CSV_COLUMNS)
    body = lines[1:]
    assert len(body) == sum(len(section["rows"]) for section in got.values())
    assert Counter(line[0] for line in body) == Counter(
        {key: len(section["rows"]) for key, section in got.items() if section["rows"]}
    )
    order = [key for key, _title, _rules in compliance.SECTIONS]
    keys = [line[0] for line in body]
    assert keys == sorted(keys, key=order.index)
    assert all(RULE_IDS.match(line[1]) for line in body)


# --- a broken chain ---------------------------------------------------------------------------


@pytest.mark.postgres
def test_a_tampered_transaction_is_the_one_row_of_the_ledger_section(s):
    target = JournalTransaction.objects.order_by("seq")[1]
    run_sql("SET guild_ledger.maintenance = 'on'")
    with pytest.raises(DatabaseError), transaction.atomic():
        run_sql(
            "UPDATE ledger_journaltransaction SET description = 'tampered' WHERE id = %s",
            [target.id],
        )
    # What a superuser can do behind the application's back: turn the trigger off.
    run_sql("SET CONSTRAINTS ALL IMMEDIATE")
    run_sql(
        "ALTER TABLE ledger_journaltransaction "
        "DISABLE TRIGGER ledger_journaltransaction_append_only"
    )
    try:
        run_sql(
            "UPDATE ledger_journaltransaction SET description = 'tampered' WHERE id = %s",
            [target.id],
        )
    finally:
        run_sql(
            "ALTER TABLE ledger_journaltransaction "
            "ENABLE ALWAYS TRIGGER ledger_journaltransaction_append_only"
        )

    report = generate(s.meridian)
    section = sections(report)["ledger_chain"]
    assert section["count"] == 1 and report.counts["ledger_chain"] == 1
    (row,) = section["rows"]
    assert (row["rule"], row["object"], row["id"]) == (
        "ledger.journal.chain",
        "journal_transaction",
        str(target.id),
    )
    assert f"#{target.seq}" in row["detail"]
    assert "changed after they were written" in row["detail"]
    chain = json.loads(report.content)["ledger"]
    assert (chain["intact"], chain["broken_seq"], chain["checked"]) == (False, target.seq, 1)


# --- fixed defects -----------------------------------------------------------------------------


def test_an_allowed_iatse_use_is_recorded():
    actor = UserFactory(username="clerk")
    production = ProductionFactory(title="Quiet Hours", start_date=date(2026, 6, 1))
    crew = EngagementFactory(
        production=production,
        agreement=agreement("iatse-basic-2024"),
        classification="crew_hourly",
        rate_amount=Decimal("50.00"),
        rate_unit="hour",
        start_date=date(2026, 6, 1),
    )
    union_notice_record(
        actor=actor,
        scope=SYSTEM_SCOPE,
        production=production,
        guild=guild("iatse"),
        kind="ai_impact",
        given_at=at(2026, 7, 15, 9),
        description="AI upscaling in the grading suite",
    )
    use = ai_use_record(
        actor=actor,
        scope=Scope(superuser=True),
        production=production,
        person=crew.person,
        kind="digital_alteration",
        starts_at=at(2026, 8, 18, 10),
        description="Upscaled plates",
    )
    assert use.status == "allowed"


def test_a_rerun_after_a_released_hold_replaces_the_earlier_runs_lines(s):
    resolution = runs.hold_resolve_and_rerun(
        actor=s.clerk, ai_use=s.bo_counted, decision="release", reason="Counted by mistake."
    )
    runs.run_compute(resolution.rerun_id)
    rerun = CompensationRun.objects.get(pk=resolution.rerun_id)
    acknowledge_all(rerun)
    rerun = runs.run_approve(actor=s.clerk, run=rerun)
    s.film_run.refresh_from_db()
    assert s.film_run.status == CompensationRun.Status.APPROVED  # not superseded
    got = sections(generate(s.meridian))
    still_held = CompensationLine.objects.filter(run=rerun, status="held")
    assert set(still_held.values_list("ai_use_id", flat=True)) == {s.ann_after_revocation.pk}
    assert found(got["held_lines"]) == {
        (line.rule, "compensation_line", line.pk) for line in still_held
    }
    assert [row["rule"] for row in got["needs_confirmation"]["rows"]].count("sag.pay.day") == 1
    assert got["below_scale"]["count"] == 1
    assert {row["id"] for row in got["rate_missing"]["rows"]} == {rerun.pk}


def test_needs_confirmation_keeps_same_titled_productions_of_two_studios_apart(s):
    namesake = ProductionFactory(
        studio=s.northgate, title="The Long Light", start_date=date(2026, 6, 1)
    )
    low = EngagementFactory(
        production=namesake,
        person=PersonFactory(legal_name="Lou Low", registered_by=s.northgate),
        agreement=agreement("sag-tvth-2026"),
        rate_amount=Decimal("900.00"),
        start_date=date(2026, 6, 1),
    )
    services.timecard_save(
        actor=s.clerk,
        engagement=low,
        date=date(2026, 8, 3),
        first_call=time(7),
        dismissal=time(15, 30),
        meals=[["13:00", "13:30"]],
    )
    approved_run(s, namesake, due_date=date(2026, 9, 30))
    rows = sections(generate(guild("sag-aftra")))["needs_confirmation"]["rows"]
    day_rows = [(row["rule"], row["count"]) for row in rows if row["rule"] == "sag.pay.day"]
    assert day_rows == [("sag.pay.day", 1)] * 2
