"""Compliance-report benchmark against PostgreSQL: a studio's report built, stored and printed,
against the raw SQL its sections need, measured in the same run.

Run with `make bench` (fresh `guild_ledger_bench` database, migrated), or by hand:
`DATABASE_URL=postgres://postgres@127.0.0.1:5432/guild_ledger_bench python -m bench.reports`
(`python bench/reports.py` works too). Results are merged into bench/results.json and printed as
a table. `BENCH_REPS` (default 5) sets the repetitions; every figure is the median over them,
and each repetition times every measurement back to back, so all see the same load. The database
is ANALYZEd after the data is loaded, as autovacuum would keep a live one.

Data: one studio ("Bench Reports Pictures") with 20 productions (every 4th a television series),
each with sag-tvth-2023, wga-mba-2023 and iatse-basic-2024 attached, and 100,000 people, each
engaged once (blocks of 100 per production: 60 day performers, 8 weekly performers, 25
background actors, 3 writers, 4 IATSE hourly crew). Each person has one consent for their
production (replica_use, writer_ai_use or scan); 2% expire within 30 days of the report; 1% are
flawed (standard terms, a catch-all description, or a term that ended on 10 June), so every use
made on them is a violation. Consent events: 300 revocations (20 June), 200 suspensions (10 to 17
June) and 50 suspensions from 1 July, not resumed.
500,000 AI uses in June 2025 (5 per person: replica uses, some digital alterations under an
exception, writers' AI use with material handed over, crew scans), 100 synthetic performers, and
300 planned uses dated 25 July to 28 August (after the report's as-of). Each use carries the
decision `consent.rules.check` makes on the facts known when it was recorded (status, consent,
rules and reasons, as `ai_use_record` writes them): about 1.1% are violations; after a revocation
or suspension, half the uses are recorded as violations and half were recorded beforehand as
allowed (the report finds those by checking again). Union notices (AI impact and synthetic
performer) per production, one of each given late or never; WGA disclosures for 95% of writers;
one delivery per writer, half with AI material.
One approved compensation run per production for June (for the first production a superseded
earlier run too, for the fourth an approved earlier run its approved rerun replaces; the report
counts the latest), 2.4 lines per engagement (~240,000: pay at tier S, overtime, meal penalties at
tier T, WGA first-writer lines at tier D, P&H fringes; 500 lines flagged below_scale, 100
below_day_minimum; held lines for one in ten SAG violations), rate_missing exceptions for the crew
of two productions. One payable per engagement due 10 July and, for each engagement with P&H, a
payable of its own to the P&H fund (as a run's approval writes them), posted with one obligation
transaction per engagement; paid in full except 2% unpaid and 1% half paid, the fund's payable as
the person's (journal transactions on one valid hash chain, computed with
`ledger.journal.chain.link_hash` as `journal_post_many` does, COPYed postings first). A second
studio of 2 productions and 2,000 engagements with the same mix is noise.
The productions, runs and their attachments go through factories and `save()` (history
included); everything else is written with psycopg COPY (no history rows; the report reads none).

compliance_report (period 2025-06-01 .. 2025-06-30, as of 2025-07-20 12:00 UTC, studio scope)
    build: `reports.compliance.build(Target.of(studio), ...)`, the report's content.
    build_sections: the same with `verify_chain` answered from a stored result, i.e. the 12
    sections that read the studio's data.
    generate: `reports.services.report_generate(origin="on_demand")`: build, canonical JSON,
    SHA-256 and the insert.
    generate_and_pdf: generate, then `reports.render.pdf(report)` (what a report job delivers).
    pdf: `reports.render.pdf(report)`, against WeasyPrint's `write_pdf` of the same HTML rendered
    beforehand (the template's share). Reported only.
    chain_verify: `ledger.journal.verify.verify_chain()` over the whole journal, transactions/s,
    against a SELECT of the journal's transactions and postings (fetched). Reported only.
    Reference, "SQL": one cursor, plain SQL strings, rows fetched: every section's rows and
    counts (violations in the period; planned uses and the allowed uses a revocation or
    suspension may take away, with the consents and events their re-check reads; consents
    expiring within 30 days that are neither superseded nor revoked; deliveries and uses with no
    disclosure or notice (NOT EXISTS); held lines, tier T/D and below-scale lines grouped with
    COUNT/SUM, and rate_missing exceptions, of the latest computed or approved run of each
    production and period (NOT EXISTS a later one); overdue payables with owed and paid summed
    from postings; uses counted toward headcount). The hash chain cannot be recomputed in SQL:
    "chain" is `verify_chain()` timed on its own.
    Targets: build <= 3 x (SQL + chain); build_sections <= 3 x SQL; generate and generate_and_pdf
    <= 3 x (SQL + chain) + pdf. Rows with a target record it as "<= x": the ratio must not exceed
    it.

chain_step (`python -m bench.chain` or `python -m bench.reports chain_step`, on a fresh database;
    `make bench` runs it as bench/chain.py; see the section at the end)
    the report's chain step, incremental from the latest signed checkpoint, at 200,000 and
    1,000,000 transactions (BENCH_CHAIN_SMALL, BENCH_CHAIN_BIG) with the same 2,000 appended
    after the checkpoint, against the full walk at each size. Target: incremental(big) <= 1.3 x
    incremental(small).
"""

import json
import os
import sys
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from unittest import mock

if __package__ in (None, ""):
    # Run as a file (`python bench/reports.py`): make the project importable, as `-m` does.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402
from bench.common import Result, log, median, scaled, setup_django  # noqa: E402

REPS = int(os.environ.get("BENCH_REPS", "5"))
SCENARIO = "compliance_report"
TARGET = 3.0

PERIOD_FROM, PERIOD_TO = date(2025, 6, 1), date(2025, 6, 30)
DUE_DATE, PAID_ON = date(2025, 7, 10), date(2025, 7, 9)
AS_OF = datetime(2025, 7, 20, 12, tzinfo=UTC)
ENGAGED_AT = datetime(2025, 5, 10, 9, tzinfo=UTC)
SIGNED_AT = datetime(2025, 5, 12, 10, tzinfo=UTC)
NOTICE_AT = datetime(2025, 5, 1, 9, tzinfo=UTC)
LATE_NOTICE_AT = datetime(2025, 6, 15, 9, tzinfo=UTC)
DISCLOSED_AT = datetime(2025, 6, 1, 9, tzinfo=UTC)
REVOKED_AT = datetime(2025, 6, 20, 10, tzinfo=UTC)
SUSPENDED = (datetime(2025, 6, 10, 10, tzinfo=UTC), datetime(2025, 6, 17, 10, tzinfo=UTC))
OPEN_SUSPENSION_AT = datetime(2025, 7, 1, 10, tzinfo=UTC)
RECORDED_AHEAD = datetime(2025, 5, 31, 12, tzinfo=UTC)  # uses entered before any event
PLANNED_RECORDED = datetime(2025, 6, 25, 12, tzinfo=UTC)
SHA = "c7" * 32
CENT = Decimal("0.01")

AGREEMENTS = {"sag": "sag-tvth-2023", "wga": "wga-mba-2023", "iatse": "iatse-basic-2024"}
SPECIFIC = "Digital replica of the performer for the battle scenes of episode 3, for streaming"
GENERIC = "Any and all uses in all media now known or hereafter devised, throughout the universe"
DAY_RATES = ("1204.00", "1250.00", "1500.00", "1800.00")
WEEK_RATES = ("4180.00", "4500.00", "5200.00")
BACKGROUND_RATES = ("216.00", "230.00", "250.00")
PH_RATE = Decimal("0.215")
FUND = "sag-aftra-ph"
RATE_MISSING_PRODUCTIONS = (3, 4)  # productions whose crew have no loaded scale
RERUN_PRODUCTION = 3  # its June run was approved, then rerun and the rerun approved
LATE_AI_IMPACT_PRODUCTION = 3  # its AI-impact notice came on 15 June
NO_SYNTHETIC_NOTICE_PRODUCTION = 5  # never gave a synthetic-performer notice


@dataclass(frozen=True)
class Spec:
    name: str
    slug: str
    prefix: str
    productions: int
    people: int
    planned: int


MAIN = Spec("Bench Reports Pictures", "bench-reports", "BR", 20, scaled(100_000, 2000), 300)
NOISE = Spec("Bench Reports Noise Studio", "bench-reports-noise", "BN", 2, 2_000, 10)


def casting(i: int) -> tuple[str, str]:
    """(classification, guild key) of person `i`: blocks of 100 with the studio's mix."""
    slot = i % 100
    if slot < 60:
        return "day_performer", "sag"
    if slot < 68:
        return "weekly_performer", "sag"
    if slot < 93:
        return "background_actor", "sag"
    if slot < 96:
        return "writer", "wga"
    return "crew_hourly", "iatse"


CATEGORY = {
    "day_performer": "principal",
    "weekly_performer": "principal",
    "background_actor": "background",
    "writer": "writer",
    "crew_hourly": "crew",
}
CONSENT_KIND = {"sag": "replica_use", "wga": "writer_ai_use", "iatse": "scan"}


def flaw(i: int) -> str:
    """What is wrong with person i's consent ("" for nothing): 1% of day performers."""
    if i % 100 != 37:
        return ""
    return ("standard_terms", "generic", "ended")[(i // 100) % 3]


def events_of(i: int) -> list[tuple[str, datetime]]:
    """Person i's consent events: (kind, effective_at)."""
    if flaw(i):
        return []
    if i % 333 == 5:
        return [("revoked", REVOKED_AT)]
    if i % 500 == 250:
        return [("suspended", SUSPENDED[0]), ("resumed", SUSPENDED[1])]
    if i % 2000 == 999:
        return [("suspended", OPEN_SUSPENSION_AT)]
    return []


def expiring_term(i: int) -> date | None:
    """2% of consents end within 30 days of the report's as-of date."""
    if i % 50 == 21:
        return AS_OF.date() + timedelta(days=1 + (i // 50) % 29)
    if flaw(i) == "ended":
        return date(2025, 6, 10)
    return None


def production_of(i: int, spec: Spec) -> int:
    return (i // 100) % spec.productions


# --- writing fast ---------------------------------------------------------------------------


def reserve_ids(raw, table: str, n: int) -> list[int]:
    """`n` ids from the table's own sequence, so rows can be COPYed with their keys known."""
    raw.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, n]
    )
    return [row[0] for row in raw.fetchall()]


def copy_into(raw, table: str, columns: str, rows) -> int:
    n = 0
    with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# --- the world ------------------------------------------------------------------------------


@dataclass
class Person:
    i: int
    person_id: int
    engagement_id: int
    production: object
    classification: str
    guild: str
    rate: Decimal
    name: str
    agreement_id: int
    consent_id: int = 0
    violations: list = field(default_factory=list)  # ids of SAG violation uses in June


@dataclass
class Built:
    studio: object
    productions: list
    people: list
    counts: dict


def seed_studio(spec: Spec, system) -> Built:
    """One studio of `spec`: registry, consents, events, AI uses, notices, disclosures,
    deliveries, runs and lines, payables and the journal."""
    from django.db import connection, transaction

    from core.audit import acting_as
    from ledger.models import Studio
    from tests import factories as f

    taken = Studio.objects.filter(name__startswith=spec.name).count()
    suffix = f" {taken + 1}" if taken else ""  # a rerun on the same database: a new studio
    with acting_as(system):
        studio = f.StudioFactory(
            name=spec.name + suffix, slug=spec.slug + suffix.strip().replace(" ", "-")
        )
        productions = []
        for n in range(spec.productions):
            tv = n % 4 == 1
            production = f.ProductionFactory(
                studio=studio,
                title=f"{spec.name}{suffix}: Production {n + 1:02d}",
                kind="television" if tv else "theatrical",
                episode_minutes=60 if tv else None,
                status="post_production",
                start_date=date(2025, 5, 1),
            )
            for code in AGREEMENTS.values():
                f.ProductionAgreementFactory(production=production, agreement=f.agreement(code))
            productions.append(production)
    agreements = {key: f.agreement(code) for key, code in AGREEMENTS.items()}
    guilds = {g: f.guild(g) for g in ("sag-aftra", "iatse")}
    counts = {}
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor
        people = _registry(raw, spec, studio, productions, agreements, counts)
        facts = _consents(raw, people, agreements, system, counts)
        notices, disclosed = _notices(raw, people, productions, guilds, system, counts)
        _uses(raw, spec, people, productions, agreements, facts, notices, disclosed, system, counts)
        _deliveries(raw, people, counts)
    runs = _runs(productions, people, system)
    with transaction.atomic(), connection.cursor() as cursor:
        payables = _lines_and_payables(cursor.cursor, studio, people, runs, counts)
    counts.update(_journal(spec, studio, payables, system))
    return Built(studio, productions, people, counts)


def _registry(raw, spec, studio, productions, agreements, counts) -> list[Person]:
    n = spec.people
    person_ids = reserve_ids(raw, "ledger_person", n)
    engagement_ids = reserve_ids(raw, "ledger_engagement", n)
    people = []
    for i in range(n):
        classification, guild = casting(i)
        rates = {
            "day_performer": DAY_RATES,
            "weekly_performer": WEEK_RATES,
            "background_actor": BACKGROUND_RATES,
        }.get(classification)
        rate = Decimal(rates[(i // 100) % len(rates)]) if rates else None
        if classification == "writer":
            rate = Decimal("25000.00")
        elif classification == "crew_hourly":
            rate = Decimal("45.00")
        people.append(
            Person(
                i=i,
                person_id=person_ids[i],
                engagement_id=engagement_ids[i],
                production=productions[production_of(i, spec)],
                classification=classification,
                guild=guild,
                rate=rate,
                name=f"{spec.prefix} Person {i:06d}",
                agreement_id=agreements[guild].pk,
            )
        )
    counts["people"] = copy_into(
        raw,
        "ledger_person",
        "id, legal_name, professional_name, email, payroll_ref, is_deceased, date_of_death, "
        "authorized_representative, representative_email, created_at, registered_by_id",
        (
            (
                p.person_id,
                p.name,
                f"{spec.prefix} Star {p.i:06d}" if p.i % 10 == 0 else "",
                "",
                f"{spec.prefix}-{p.i:06d}",
                False,
                None,
                "",
                "",
                ENGAGED_AT,
                studio.pk,
            )
            for p in people
        ),
    )
    unit = {"weekly_performer": "week", "writer": "flat", "crew_hourly": "hour"}
    counts["engagements"] = copy_into(
        raw,
        "ledger_engagement",
        "id, classification, role, rate_amount, rate_unit, rate_currency, start_date, end_date, "
        "created_at, agreement_id, person_id, production_id",
        (
            (
                p.engagement_id,
                p.classification,
                "",
                p.rate,
                unit.get(p.classification, "day"),
                "USD",
                date(2025, 5, 15),
                None,
                ENGAGED_AT,
                agreements[p.guild].pk,
                p.person_id,
                p.production.pk,
            )
            for p in people
        ),
    )
    return people


def _consents(raw, people, agreements, system, counts) -> dict:
    """One consent per person, and its events. Returns {person index: (facts, events)}, the
    ConsentFacts the check reads and the events as (kind, effective_at)."""
    from consent import rules

    ids = reserve_ids(raw, "consent_consent", len(people))
    rows, facts = [], {}
    for p, consent_id in zip(people, ids, strict=True):
        p.consent_id = consent_id
        problem = flaw(p.i)
        generic = problem == "generic"
        instrument = "standard_terms" if problem == "standard_terms" else "rider"
        if p.guild == "iatse":
            instrument = "separate_writing"
        values = dict(
            kind=CONSENT_KIND[p.guild],
            description=GENERIC if generic else SPECIFIC,
            scenes="" if generic else "Episode 3, scenes 12-14",
            media="" if generic else "streaming, trailers",
            term_from=date(2025, 5, 1),
            term_to=expiring_term(p.i),
            instrument=instrument,
            signed_at=SIGNED_AT,
        )
        rows.append(
            (
                consent_id,
                CATEGORY[p.classification],
                values["kind"],
                values["description"],
                values["scenes"],
                values["media"],
                "",
                values["term_from"],
                values["term_to"],
                instrument,
                SIGNED_AT,
                p.name,
                "self",
                "none",
                None,
                None,
                "",
                None,
                "USD",
                f"evidence/{SHA[:2]}/{SHA}/consent-{consent_id}.pdf",
                "consent.pdf",
                SHA,
                24_576,
                SIGNED_AT,
                agreements[p.guild].pk,
                p.person_id,
                p.production.pk,
                system.pk,
                None,
                p.i % 3 == 0,
                "",  # governing_law: none stated
                None,  # performance_fixed_on
                False,  # replaces_in_person_work
                False,  # terms_initialed
            )
        )
        facts[p.i] = (
            rules.ConsentFacts(
                id=consent_id,
                production=str(p.production.pk),
                signed_by_capacity="self",
                **values,
            ),
            events_of(p.i),
        )
    counts["consents"] = copy_into(
        raw,
        "consent_consent",
        "id, category, kind, description, scenes, media, territory, term_from, term_to, "
        "instrument, signed_at, signed_by, signed_by_capacity, represented_by, notice_at, "
        "engaged_at, business_reason, bargained_amount, bargained_currency, evidence, "
        "evidence_name, evidence_sha256, evidence_size, created_at, agreement_id, person_id, "
        "production_id, recorded_by_id, supersedes_id, named_in_disclosure, governing_law, "
        "performance_fixed_on, replaces_in_person_work, terms_initialed",
        rows,
    )
    reasons = {
        "revoked": "The performer withdrew consent.",
        "suspended": "Suspended while the scope is renegotiated.",
        "resumed": "Scope agreed; consent resumed.",
    }
    counts["consent_events"] = copy_into(
        raw,
        "consent_consentevent",
        "kind, effective_at, reason, recorded_at, actor_id, consent_id",
        (
            (kind, at, reasons[kind], at, system.pk, p.consent_id)
            for p in people
            for kind, at in facts[p.i][1]
        ),
    )
    return facts


def _notices(raw, people, productions, guilds, system, counts):
    """Union notices per production and WGA disclosures per writer; returns the facts the
    check reads: {production id: [UnionNoticeFacts]}, {writer person id: [DisclosureFacts]}."""
    from consent import rules

    notices, rows = defaultdict(list), []
    for n, production in enumerate(productions):
        given = {
            "ai_impact": LATE_NOTICE_AT if n == LATE_AI_IMPACT_PRODUCTION else NOTICE_AT,
            "synthetic_performer": None if n == NO_SYNTHETIC_NOTICE_PRODUCTION else NOTICE_AT,
        }
        for kind, at in given.items():
            if at is None:
                continue
            guild = guilds["iatse" if kind == "ai_impact" else "sag-aftra"]
            description = f"{kind.replace('_', ' ')} notice for {production.title}"
            rows.append((kind, at, description, "", at, guild.pk, production.pk, system.pk))
            notices[production.pk].append(
                rules.UnionNoticeFacts(kind=kind, production=str(production.pk), given_at=at)
            )
    counts["union_notices"] = copy_into(
        raw,
        "consent_unionnotice",
        "kind, given_at, description, recipient, created_at, guild_id, production_id, "
        "recorded_by_id",
        rows,
    )
    disclosed = {}
    writers = [p for p in people if p.guild == "wga" and (p.i // 100) % 20 != 8]
    for p in writers:
        disclosed[p.person_id] = [
            rules.DisclosureFacts(production=str(p.production.pk), given_at=DISCLOSED_AT)
        ]
    counts["wga_disclosures"] = copy_into(
        raw,
        "consent_wgadisclosure",
        "material, handed_over_on, disclosed_at, created_at, production_id, recorded_by_id, "
        "writer_id",
        (
            (
                "AI-generated outline of act two",
                DISCLOSED_AT.date(),
                DISCLOSED_AT,
                DISCLOSED_AT,
                p.production.pk,
                system.pk,
                p.person_id,
            )
            for p in writers
        ),
    )
    return notices, disclosed


@dataclass(frozen=True)
class Event:
    kind: str
    effective_at: datetime


def _known(events, recorded_at) -> tuple:
    """revoked_at and suspensions of the events known when a use was recorded."""
    from consent import selectors

    known = [Event(kind, at) for kind, at in events if at <= recorded_at]
    return selectors.revoked_at(known), tuple(selectors.suspensions(known))


def _uses(raw, spec, people, productions, agreements, facts, notices, disclosed, system, counts):
    """Five uses per person in June, synthetic performers and planned uses, each with the
    decision the check makes on the facts known when it was recorded."""
    from dataclasses import replace

    from consent import rules

    persons = {
        c: rules.PersonFacts(category=c, engaged_at=ENGAGED_AT) for c in set(CATEGORY.values())
    }
    uses = []  # (person or None, production, kind, at, recorded_at, flags, alteration exception)
    for p in people:
        for j in range(5):
            at = datetime(2025, 6, 1 + (p.i * 7 + j * 6) % 30, 8 + (p.i + 3 * j) % 10, tzinfo=UTC)
            flags, exception = {}, ""
            if p.guild == "sag":
                kind = "replica_use"
                if j == 4 and p.i % 4 == 0:
                    kind, exception = "digital_alteration", "cosmetics"
                if p.classification == "background_actor" and p.i % 2000 == 70 and j == 0:
                    flags["counted_toward_headcount"] = True
            elif p.guild == "wga":
                kind = "writer_ai_use"
                flags["material_handed_over"] = j == 0
            else:
                kind = "scan"
            recorded_at = at
            if facts[p.i][1] and j % 2 == 1:
                recorded_at = RECORDED_AHEAD  # entered in the register before any event
            uses.append((p, p.production, kind, at, recorded_at, flags, exception))
    for production in productions:
        for k in range(5):
            at = datetime(2025, 6, 5 + 5 * k, 11, tzinfo=UTC)
            uses.append((None, production, "synthetic_performer", at, at, {}, ""))
    withdrawn = [p for p in people if p.guild == "sag" and facts[p.i][1]]
    ordinary = [p for p in people if p.guild == "sag" and not facts[p.i][1]]
    for k in range(spec.planned):
        pool = withdrawn if k % 6 == 0 and withdrawn else ordinary
        p = pool[(k * 337 + 11) % len(pool)]
        at = datetime(2025, 7, 25, 10, tzinfo=UTC) + timedelta(days=k % 35)
        uses.append((p, p.production, "replica_use", at, PLANNED_RECORDED, {}, ""))

    ids = reserve_ids(raw, "consent_aiuse", len(uses))
    rows, statuses = [], defaultdict(int)
    cache = {}
    for use_id, (p, production, kind, at, recorded_at, flags, exception) in zip(
        ids, uses, strict=True
    ):
        if p is None:
            person, consents, disclosures, guild = None, [], [], "sag"
        else:
            base, events = facts[p.i]
            key = (p.i, recorded_at if events else None)
            if key not in cache:
                revoked, suspensions = _known(events, recorded_at) if events else (None, ())
                cache[key] = replace(base, revoked_at=revoked, suspensions=suspensions)
            person = persons[CATEGORY[p.classification]]
            consents, disclosures, guild = [cache[key]], disclosed.get(p.person_id, []), p.guild
        decision = rules.check(
            rules.Facts(
                agreement=AGREEMENTS[guild],
                person=person,
                use=rules.UseFacts(
                    kind=kind,
                    production=str(production.pk),
                    at=at,
                    alteration_exception=exception or None,
                    flags=rules.UseFlags(**flags),
                ),
                consents=tuple(consents),
                union_notices=tuple(notices.get(production.pk, [])),
                disclosures=tuple(disclosures),
            )
        )
        status = "allowed" if decision.allowed else "violation"
        statuses[status] += 1
        if status == "violation" and p is not None and p.guild == "sag" and at.month == 6:
            p.violations.append(use_id)
        rows.append(
            (
                use_id,
                kind,
                at,
                None,
                None,
                f"{kind.replace('_', ' ')} in scene {1 + use_id % 40}",
                "",
                exception,
                False,
                False,
                False,
                False,
                flags.get("material_handed_over", False),
                status,
                json.dumps(list(decision.rules)),
                json.dumps(list(decision.reasons)),
                recorded_at,
                agreements[guild].pk,
                p.person_id if p else None,
                production.pk,
                system.pk,
                decision.consent,
                flags.get("counted_toward_headcount", False),
                False,  # human_role
                "",  # synthetic_justification
                False,  # advertisement
                "[]",  # distributed_in
                False,  # disclosure_given
                "",  # ad_exemption
                json.dumps([w.as_dict() for w in decision.warnings]),
            )
        )
    counts["ai_uses"] = copy_into(
        raw,
        "consent_aiuse",
        "id, kind, starts_at, ends_at, days, description, scenes, alteration_exception, "
        "synthetic_source_person, company_required, displacing_prompts, "
        "condition_of_employment, material_handed_over, status, rules, reasons, created_at, "
        "agreement_id, person_id, production_id, recorded_by_id, consent_id, "
        "counted_toward_headcount, human_role, synthetic_justification, advertisement, "
        "distributed_in, disclosure_given, ad_exemption, warnings",
        rows,
    )
    counts["ai_uses_planned"] = spec.planned
    counts["ai_uses_violation"] = statuses["violation"]


def _deliveries(raw, people, counts):
    writers = [p for p in people if p.guild == "wga"]
    counts["wga_deliveries"] = copy_into(
        raw,
        "compensation_wgadelivery",
        "work_type, date, ai_material_handed_over, fee, engagement_id",
        (
            (
                "screenplay",
                date(2025, 6, 3 + p.i % 25),
                (p.i // 100) % 2 == 0,
                None,
                p.engagement_id,
            )
            for p in writers
        ),
    )


def _runs(productions, people, system) -> dict:
    """An approved June run per production (with the crew's rate_missing exceptions where no
    scale is loaded), a superseded earlier run of the first production and an approved earlier
    run of RERUN_PRODUCTION: {production id: [(run, latest)]}; the latest run's lines are the
    ones payables were posted for."""
    from django.utils import timezone

    from compensation.models import CompensationRun

    crew = defaultdict(list)
    for p in people:
        if p.guild == "iatse":
            crew[p.production.pk].append(p)
    runs = defaultdict(list)
    for n, production in enumerate(productions):
        statuses = [CompensationRun.Status.APPROVED]
        if n == 0:  # a run superseded before it was approved
            statuses.insert(0, CompensationRun.Status.SUPERSEDED)
        if n == RERUN_PRODUCTION:  # approved, rerun and approved again: the rerun counts
            statuses.insert(0, CompensationRun.Status.APPROVED)
        for k, status in enumerate(statuses):
            exceptions = []
            if n in RATE_MISSING_PRODUCTIONS:
                exceptions = [
                    {
                        "code": "rate_missing",
                        "rule": "iatse.pay.hourly",
                        "message": "No iatse.scale.crew_hourly in force on 2025-06-30. The "
                        f"negotiated rate {p.rate} is used, not compared with scale.",
                        "parameter": "iatse.scale.crew_hourly",
                        "date": "2025-06-30",
                        "engagement": p.engagement_id,
                        "person": p.name,
                    }
                    for p in crew[production.pk]
                ]
            approved, now = status == CompensationRun.Status.APPROVED, timezone.now()
            run = common.saved_run(
                production,
                system,
                status,
                (PERIOD_FROM, PERIOD_TO, DUE_DATE),
                started_at=now,
                rules_version="b" * 64,
                exceptions=exceptions,
                engagements=sum(1 for p in people if p.production.pk == production.pk),
                finished_at=now,
                approved_by=system if approved else None,
                approved_at=now if approved else None,
            )
            runs[production.pk].append((run, k == len(statuses) - 1))
    return runs


PARAMETERS = json.dumps(
    [
        {
            "parameter": "sag.minimum.day_performer",
            "value": "1204",
            "unit": "USD/day",
            "from": "2025-06-30",
            "tier": "S",
            "source": "RULES.md §3; evidence.md: SAG-AFTRA 2023 TV/Theatrical rate sheet",
        }
    ]
)


@dataclass(frozen=True)
class Line:
    rule: str
    description: str
    quantity: Decimal
    unit: str
    rate: Decimal
    tier: str
    flags: tuple = ()
    kind: str = "pay"
    status: str = "payable"
    fund: str = ""
    ai_use_id: int | None = None

    @property
    def amount(self) -> Decimal:
        return money(self.quantity * self.rate)


def person_lines(p: Person, production_index: int) -> list[Line]:
    """Person p's lines in a run of their production."""
    pay = []
    if p.classification in ("day_performer", "background_actor"):
        days = Decimal(3 + p.i % 10)
        flags = ("below_scale",) if p.i % 200 == 3 else ()
        pay.append(Line("sag.pay.day", f"{days} days at {p.rate}", days, "day", p.rate, "S", flags))
        if p.i % 3 == 0:
            overtime = money(p.rate / 8 * Decimal("1.5"))
            pay.append(
                Line("sag.pay.overtime", "2 hours at 1.5x", Decimal(2), "hour", overtime, "S")
            )
        if p.i % 10 == 1:
            pay.append(
                Line("sag.pay.meal_penalty", "Meal late", Decimal(1), "each", Decimal(25), "T")
            )
    elif p.classification == "weekly_performer":
        weeks = Decimal(1 + p.i % 4)
        flags = ("below_day_minimum",) if p.i % 1000 == 65 else ()
        pay.append(Line("sag.pay.weekly", f"{weeks} weeks", weeks, "week", p.rate, "S", flags))
    elif p.classification == "writer":
        rule, tier = ("wga.pay.first_writer", "D") if p.i % 3 == 0 else ("wga.pay.minimum", "P")
        pay.append(Line(rule, "Screenplay delivered", Decimal(1), "delivery", p.rate, tier))
    else:
        tier = "" if production_index in RATE_MISSING_PRODUCTIONS else "P"
        pay.append(Line("iatse.pay.hourly", "50 hours", Decimal(50), "hour", p.rate, tier))
    lines = list(pay)
    if p.guild == "sag":
        base = sum(line.amount for line in pay)
        lines.append(
            Line("sag.ph", f"sag.ph to {FUND}", base, "USD", PH_RATE, "S", kind="fringe", fund=FUND)
        )
    for use_id in p.violations:
        if use_id % 10 == 0:  # the others were resolved (released) before the run
            lines.append(
                Line(
                    "sag.pay.ebdr_use",
                    "Employment-based digital replica use",
                    Decimal(1),
                    "day",
                    p.rate,
                    "S",
                    status="held",
                    ai_use_id=use_id,
                )
            )
    return lines


@dataclass(frozen=True)
class Owed:
    person: Person
    payable_id: int
    pay: Decimal
    fringe: Decimal
    run_id: int
    fund_payable_id: int | None  # the P&H fund's payable of the engagement (with a fringe)


def _lines_and_payables(raw, studio, people, runs, counts) -> list[Owed]:
    """Every run's lines (COPY) and one payable per engagement of the approved runs."""
    index = {production_id: n for n, production_id in enumerate(runs)}
    line_rows, owed = [], []
    for p in people:
        lines = person_lines(p, index[p.production.pk])
        on = date(2025, 6, 2 + p.i % 27)
        for run, approved in runs[p.production.pk]:
            for line in lines:
                line_rows.append(
                    (
                        line.kind,
                        line.status,
                        line.rule,
                        line.description,
                        on,
                        "",
                        line.quantity,
                        line.unit,
                        line.rate,
                        line.amount,
                        "USD",
                        line.fund,
                        line.tier,
                        json.dumps(list(line.flags)),
                        PARAMETERS,
                        line.kind == "pay",
                        line.ai_use_id,
                        p.engagement_id,
                        run.pk,
                    )
                )
            if approved:
                pay = [x for x in lines if x.kind == "pay" and x.status == "payable"]
                fringe = sum((x.amount for x in lines if x.kind == "fringe"), Decimal(0))
                owed.append((p, run, pay, fringe))
    counts["compensation_lines"] = copy_into(
        raw,
        "compensation_compensationline",
        "kind, status, rule, description, date, episode, quantity, unit, rate, amount, "
        "currency, fund, tier, flags, parameters, covered, ai_use_id, engagement_id, run_id",
        line_rows,
    )
    ids = iter(reserve_ids(raw, "ledger_payable", len(owed) + sum(1 for o in owed if o[3])))
    rows, out = [], []
    created = datetime(2025, 7, 2, 9, tzinfo=UTC)
    for p, run, pay, fringe in owed:
        amount, rule = sum(x.amount for x in pay), pay[0].rule
        payable_id = next(ids)
        common = (PERIOD_FROM, PERIOD_TO, DUE_DATE, "compensation_run")
        rows.append(
            (
                payable_id,
                rule,
                f"{rule}: {p.production.title}, {PERIOD_FROM} – {PERIOD_TO}",
                amount,
                "USD",
                "[]",
                *common,
                f"{run.pk}:{p.engagement_id}:{rule}:USD",
                created,
                p.agreement_id,
                p.engagement_id,
                p.person_id,
                "",
                p.production.pk,
                studio.pk,
            )
        )
        fund_payable_id = next(ids) if fringe else None
        if fund_payable_id is not None:
            rows.append(
                (
                    fund_payable_id,
                    "sag.ph",
                    f"SAG-AFTRA Pension and Health: contribution for person #{p.person_id}, "
                    f"{p.production.title}, {PERIOD_FROM} – {PERIOD_TO}",
                    fringe,
                    "USD",
                    "[]",
                    *common,
                    f"{run.pk}:{p.engagement_id}:fund:{FUND}:USD",
                    created,
                    p.agreement_id,
                    p.engagement_id,
                    None,
                    FUND,
                    p.production.pk,
                    studio.pk,
                )
            )
        out.append(Owed(p, payable_id, amount, fringe, run.pk, fund_payable_id))
    counts["payables"] = copy_into(
        raw,
        "ledger_payable",
        "id, rule, description, amount, currency, fringes, period_from, period_to, due_date, "
        "source_type, source_id, created_at, agreement_id, engagement_id, person_id, fund, "
        "production_id, studio_id",
        rows,
    )
    return out


# --- the journal ----------------------------------------------------------------------------

JOURNAL_CHUNK = 5000
POSTING_COPY = "transaction_id, account_id, payable_id, effect, amount, currency"
HEADER_COPY = (
    "id, seq, kind, studio_id, source_type, source_id, description, effective_date, created_at, "
    "actor_id, reverses_id, prev_hash, hash"
)
PAYMENT_COPY = (
    "amount, currency, paid_at, payroll_reference, client, created_at, payable_id, transaction_id"
)


@dataclass(frozen=True)
class Entry:
    """A transaction to append: legs are (account index, payable id, amount, effect); a
    payment also writes (payable id, amount, payroll reference) to ledger_payment."""

    kind: str
    source_type: str
    source_id: str
    description: str
    effective_date: date
    legs: list
    payment: tuple | None = None


def paid_part(o: Owed, amount: Decimal) -> Decimal:
    """What payroll paid of `amount` (the pay, or the fund's contribution): everything, except
    2% nothing and 1% half."""
    if o.person.i % 50 == 7:
        return Decimal(0)
    if o.person.i % 100 == 11:
        return money(amount / 2)
    return amount


def _journal(spec, studio, owed: list[Owed], system) -> dict:
    """The accounts, one obligation per payable and one payment per paid payable, appended to
    the hash chain in chunks (postings, then headers, then payments, one database transaction
    per chunk, holding the chain lock as journal_post_many does)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from ledger.journal import chain
    from ledger.journal.services import CHAIN_LOCK_KEY, chain_head
    from ledger.models import Account

    purposes = Account.Purpose
    accounts, rows = {}, []

    def account(purpose, production, person=None, fund=""):
        owner = dict(
            studio_id=studio.pk,
            production_id=production.pk,
            person_id=person.person_id if person else None,
            engagement_id=person.engagement_id if person else None,
            fund=fund,
        )
        key = Account.key_for(purpose=purpose, currency="USD", **owner)
        if key not in accounts:
            accounts[key] = len(rows)
            engagement_id, person_id = owner["engagement_id"], owner["person_id"]
            row = [None, key, purpose, fund, "USD", engagement_id, person_id, production.pk]
            rows.append([*row, studio.pk])
        return accounts[key]

    entries = []
    for o in owed:
        production = o.person.production
        legs = [
            (account(purposes.COMPENSATION_EXPENSE, production), None, o.pay, ""),
            (account(purposes.PERSON_PAYABLE, production, o.person), o.payable_id, -o.pay, "owed"),
        ]
        if o.fund_payable_id is not None:
            fund = account(purposes.UNION_FUND_PAYABLE, production, fund=FUND)
            legs += [
                (account(purposes.FRINGE_EXPENSE, production), None, o.fringe, ""),
                (fund, o.fund_payable_id, -o.fringe, "owed"),
            ]
        description = (
            f"Compensation run #{o.run_id}: {production.title}, {PERIOD_FROM} – {PERIOD_TO}"
        )
        source = f"{o.run_id}:{o.person.engagement_id}"
        entries.append(
            Entry("obligation", "compensation_run", source, description, PERIOD_TO, legs)
        )
    for o in owed:
        production = o.person.production
        payees = [(o.payable_id, o.pay, account(purposes.PERSON_PAYABLE, production, o.person))]
        if o.fund_payable_id is not None:
            fund = account(purposes.UNION_FUND_PAYABLE, production, fund=FUND)
            payees.append((o.fund_payable_id, o.fringe, fund))
        for payable_id, amount, payee in payees:
            paid = paid_part(o, amount)
            if not paid:
                continue
            reference = f"{spec.prefix}-PAY-{payable_id}"
            legs = [
                (payee, payable_id, paid, "paid"),
                (account(purposes.PAYROLL_CLEARING, production), None, -paid, ""),
            ]
            payment = (payable_id, paid, reference)
            entries.append(
                Entry(
                    "payment", "payment", reference, f"Payment {reference}", PAID_ON, legs, payment
                )
            )

    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor
        ids = reserve_ids(raw, "ledger_account", len(rows))
        for row, account_id in zip(rows, ids, strict=True):
            row[0] = account_id
        copy_into(
            raw,
            "ledger_account",
            "id, key, purpose, fund, currency, engagement_id, person_id, production_id, studio_id",
            rows,
        )
    account_ids = ids
    postings = payments = 0
    paid_at = datetime.combine(PAID_ON, datetime.min.time(), tzinfo=UTC).replace(hour=15)
    for start in range(0, len(entries), JOURNAL_CHUNK):
        chunk = entries[start : start + JOURNAL_CHUNK]
        with transaction.atomic(), connection.cursor() as cursor:
            raw = cursor.cursor
            raw.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
            seq, prev_hash = chain_head()
            now = timezone.now()
            posting_rows, header_rows, payment_rows = [], [], []
            for entry in chunk:
                tid, seq = uuid.uuid4(), seq + 1
                hashed = [
                    {
                        "account_id": account_ids[a],
                        "payable_id": payable_id,
                        "amount": amount,
                        "currency": "USD",
                        "effect": effect,
                    }
                    for a, payable_id, amount, effect in entry.legs
                ]
                header = {
                    "id": tid,
                    "seq": seq,
                    "kind": entry.kind,
                    "studio_id": studio.pk,
                    "source_type": entry.source_type,
                    "source_id": entry.source_id,
                    "description": entry.description,
                    "effective_date": entry.effective_date,
                    "created_at": now,
                    "actor_id": system.pk,
                    "reverses_id": None,
                }
                digest = chain.link_hash(prev_hash, header, hashed)
                posting_rows += [
                    (tid, h["account_id"], h["payable_id"], h["effect"], h["amount"], "USD")
                    for h in hashed
                ]
                header_rows.append((*header.values(), prev_hash, digest))
                prev_hash = digest
                if entry.payment:
                    payable_id, amount, reference = entry.payment
                    payment_rows.append(
                        (amount, "USD", paid_at, reference, "bench:payroll", now, payable_id, tid)
                    )
            postings += copy_into(raw, "ledger_posting", POSTING_COPY, posting_rows)
            copy_into(raw, "ledger_journaltransaction", HEADER_COPY, header_rows)
            payments += copy_into(raw, "ledger_payment", PAYMENT_COPY, payment_rows)
    return {
        "accounts": len(rows),
        "journal_transactions": len(entries),
        "postings": postings,
        "payments": payments,
    }


def build_world():
    from core.audit import system_user

    system = system_user()
    start = time.perf_counter()
    noise = seed_studio(NOISE, system)
    log(f"noise studio seeded in {time.perf_counter() - start:.1f}s: {noise.counts}")
    started = time.perf_counter()
    main = seed_studio(MAIN, system)
    log(f"studio seeded in {time.perf_counter() - started:.1f}s: {main.counts}")
    return system, main, noise, time.perf_counter() - start


# --- the reference: the sections' rows in plain SQL -----------------------------------------

WITHDRAWN_RULES = ("consent.revoked", "sag.consent.strike")
USE_COLUMNS = (
    "u.id, u.kind, u.starts_at, u.rules, u.reasons, pr.title, pe.professional_name, pe.legal_name"
)
USES = (
    "FROM consent_aiuse u JOIN ledger_production pr ON pr.id = u.production_id "
    "LEFT JOIN ledger_person pe ON pe.id = u.person_id"
)
IN_PERIOD = "pr.studio_id = %(studio)s AND u.starts_at >= %(start)s AND u.starts_at < %(end)s"
# What the consent check reads again for a use: its engagement, the consents of its person and
# production, and their events.
RECHECK_FACTS = """
SELECT c.*, en.classification, co.id, co.kind, co.description, co.scenes, co.media,
       co.instrument, co.signed_at, co.term_from, co.term_to, co.supersedes_id,
       ev.kind, ev.effective_at
FROM candidates c
LEFT JOIN ledger_engagement en ON en.person_id = c.person_id AND en.production_id = c.production_id
LEFT JOIN consent_consent co ON co.person_id = c.person_id AND co.production_id = c.production_id
LEFT JOIN consent_consentevent ev ON ev.consent_id = co.id
ORDER BY c.starts_at, c.id
"""
CANDIDATE_COLUMNS = (
    "u.id, u.person_id, u.production_id, u.kind, u.starts_at, u.ends_at, "
    "u.alteration_exception, u.synthetic_source_person, u.company_required, "
    "u.displacing_prompts, u.condition_of_employment, u.material_handed_over, "
    "u.counted_toward_headcount, pr.title, pe.professional_name, pe.legal_name"
)
LINES = (
    "FROM compensation_compensationline l "
    "JOIN compensation_compensationrun r ON r.id = l.run_id "
    "JOIN ledger_production pr ON pr.id = r.production_id "
    "JOIN ledger_engagement en ON en.id = l.engagement_id "
    "JOIN ledger_person pe ON pe.id = en.person_id"
)
# A computed or approved run with no later computed or approved run of its production and period.
CURRENT_RUN = (
    "r.status IN ('computed', 'approved') AND NOT EXISTS (SELECT 1 FROM "
    "compensation_compensationrun later WHERE later.production_id = r.production_id "
    "AND later.period_from = r.period_from AND later.period_to = r.period_to "
    "AND later.status IN ('computed', 'approved') AND later.id > r.id)"
)
CURRENT_LINES = (
    f"pr.studio_id = %(studio)s AND {CURRENT_RUN} "
    "AND l.date >= %(period_from)s AND l.date <= %(period_to)s"
)


def below_scale_sql(flag: str) -> str:
    return (
        "SELECT l.engagement_id, pe.professional_name, pe.legal_name, pr.title, l.rule, "
        f"l.currency, COUNT(*), SUM(l.amount) {LINES} "
        f"WHERE {CURRENT_LINES} AND l.flags @> '[\"{flag}\"]' "
        "GROUP BY l.engagement_id, pe.professional_name, pe.legal_name, pr.title, l.rule, "
        "l.currency ORDER BY pr.title, l.engagement_id, l.rule"
    )


# (section, statement): run in this order on one cursor, every row fetched.
REFERENCE = (
    (
        "violations",
        f"SELECT {USE_COLUMNS} {USES} WHERE {IN_PERIOD} AND u.status = 'violation' "
        "ORDER BY u.starts_at",
    ),
    (
        "planned_uses_not_covered",
        f"WITH candidates AS (SELECT {CANDIDATE_COLUMNS} {USES} "
        f"WHERE pr.studio_id = %(studio)s AND u.starts_at > %(as_of)s) {RECHECK_FACTS}",
    ),
    (
        "consents_expiring",
        """
SELECT c.id, c.kind, c.term_to, pr.title, pe.professional_name, pe.legal_name,
  EXISTS (SELECT 1 FROM consent_consentevent s
          WHERE s.consent_id = c.id AND s.kind = 'suspended' AND s.effective_at <= %(as_of)s
            AND NOT EXISTS (SELECT 1 FROM consent_consentevent r
                            WHERE r.consent_id = c.id AND r.kind = 'resumed'
                              AND r.effective_at > s.effective_at
                              AND r.effective_at <= %(as_of)s)) AS suspended
FROM consent_consent c
JOIN ledger_production pr ON pr.id = c.production_id
JOIN ledger_person pe ON pe.id = c.person_id
WHERE pr.studio_id = %(studio)s AND c.term_to >= %(today)s AND c.term_to <= %(window_end)s
  AND NOT EXISTS (SELECT 1 FROM consent_consent s WHERE s.supersedes_id = c.id)
  AND NOT EXISTS (SELECT 1 FROM consent_consentevent e
                  WHERE e.consent_id = c.id AND e.kind = 'revoked'
                    AND e.effective_at <= %(as_of)s)
ORDER BY c.term_to, c.id
""",
    ),
    (
        "uses_after_withdrawal",
        "SELECT sp.starts_on, sp.ends_on FROM consent_strikeperiod sp "
        "JOIN ledger_guild g ON g.id = sp.guild_id WHERE g.code = 'sag-aftra'",
    ),
    (
        "uses_after_withdrawal",
        f"WITH candidates AS (SELECT {CANDIDATE_COLUMNS} {USES} "
        f"WHERE {IN_PERIOD} AND u.status = 'allowed' AND EXISTS ("
        "SELECT 1 FROM consent_consentevent e WHERE e.consent_id = u.consent_id "
        f"AND e.kind IN ('revoked', 'suspended'))) {RECHECK_FACTS}",
    ),
    (
        "missing_wga_disclosures",
        """
SELECT d.id, d.work_type, d.date, pr.title, pe.professional_name, pe.legal_name
FROM compensation_wgadelivery d
JOIN ledger_engagement en ON en.id = d.engagement_id
JOIN ledger_production pr ON pr.id = en.production_id
JOIN ledger_person pe ON pe.id = en.person_id
WHERE pr.studio_id = %(studio)s AND d.ai_material_handed_over
  AND d.date >= %(period_from)s AND d.date <= %(period_to)s
  AND NOT EXISTS (SELECT 1 FROM consent_wgadisclosure w
                  WHERE w.production_id = en.production_id AND w.writer_id = en.person_id
                    AND (w.disclosed_at AT TIME ZONE 'UTC')::date <= d.date)
""",
    ),
    (
        "missing_union_notices",
        f"SELECT {USE_COLUMNS} {USES} WHERE {IN_PERIOD} AND u.kind = 'synthetic_performer' "
        "AND NOT EXISTS (SELECT 1 FROM consent_unionnotice n WHERE n.production_id = "
        "u.production_id AND n.kind = 'synthetic_performer' AND n.given_at <= u.starts_at) "
        "ORDER BY u.starts_at",
    ),
    (
        "missing_union_notices",
        f"SELECT {USE_COLUMNS} {USES} JOIN ledger_agreement a ON a.id = u.agreement_id "
        f"JOIN ledger_guild g ON g.id = a.guild_id WHERE {IN_PERIOD} AND g.code = 'iatse' "
        "AND NOT EXISTS (SELECT 1 FROM consent_unionnotice n WHERE n.production_id = "
        "u.production_id AND n.kind = 'ai_impact' AND n.given_at <= u.starts_at) "
        "ORDER BY u.starts_at",
    ),
    (
        "held_lines",
        "SELECT l.id, l.rule, l.date, l.description, l.ai_use_id, l.amount, l.currency, "
        f"pr.title, pe.professional_name, pe.legal_name {LINES} "
        f"WHERE {CURRENT_LINES} AND l.status = 'held' ORDER BY l.date, l.id",
    ),
    (
        "overdue_payables",
        """
SELECT p.id, p.rule, p.description, p.due_date, p.currency, pr.title, p.fund,
       pe.professional_name, pe.legal_name, s.owed, s.paid, s.owed - s.paid AS due
FROM ledger_payable p
JOIN (SELECT po.payable_id,
             -COALESCE(SUM(po.amount) FILTER (WHERE po.effect = 'owed'), 0) AS owed,
             COALESCE(SUM(po.amount) FILTER (WHERE po.effect = 'paid'), 0) AS paid
      FROM ledger_posting po JOIN ledger_payable pp ON pp.id = po.payable_id
      WHERE pp.studio_id = %(studio)s AND pp.due_date < %(today)s
      GROUP BY po.payable_id) s ON s.payable_id = p.id
JOIN ledger_production pr ON pr.id = p.production_id
LEFT JOIN ledger_person pe ON pe.id = p.person_id
WHERE s.owed - s.paid > 0
ORDER BY p.due_date, p.id
""",
    ),
    (
        "needs_confirmation",
        "SELECT pr.id, pr.title, l.rule, l.tier, l.currency, COUNT(*), "
        f"COUNT(DISTINCT en.person_id), SUM(l.amount) {LINES} WHERE {CURRENT_LINES} "
        "AND l.status = 'payable' AND l.tier IN ('T', 'D') "
        "GROUP BY pr.id, pr.title, l.rule, l.tier, l.currency ORDER BY 2, 1, 3, 4, 5",
    ),
    (
        "rate_missing",
        "SELECT r.id, r.period_from, r.period_to, pr.title, x.problem "
        "FROM compensation_compensationrun r JOIN ledger_production pr ON pr.id = r.production_id "
        "CROSS JOIN LATERAL jsonb_array_elements(r.exceptions) AS x(problem) "
        f"WHERE pr.studio_id = %(studio)s AND {CURRENT_RUN} "
        "AND r.period_from <= %(period_to)s AND r.period_to >= %(period_from)s "
        "AND x.problem->>'code' = 'rate_missing' ORDER BY r.period_from, r.id",
    ),
    ("below_scale", below_scale_sql("below_scale")),
    ("below_scale", below_scale_sql("below_day_minimum")),
    (
        "background_headcount",
        f"SELECT {USE_COLUMNS} {USES} WHERE {IN_PERIOD} AND u.counted_toward_headcount "
        "ORDER BY u.starts_at, u.id",
    ),
)
# Sections whose rows the SQL lists exactly; the other two list the candidates the report
# checks again with the rule function (its decision is not SQL).
EXACT = {
    "violations",
    "consents_expiring",
    "missing_wga_disclosures",
    "missing_union_notices",
    "held_lines",
    "overdue_payables",
    "needs_confirmation",
    "rate_missing",
    "below_scale",
    "background_headcount",
}
GROUPED = {"needs_confirmation": 5, "below_scale": 6}  # the COUNT(*) column of grouped rows


def reference_params(studio_id: int) -> dict:
    return {
        "studio": studio_id,
        "start": datetime.combine(PERIOD_FROM, datetime.min.time(), tzinfo=UTC),
        "end": datetime.combine(PERIOD_TO + timedelta(days=1), datetime.min.time(), tzinfo=UTC),
        "period_from": PERIOD_FROM,
        "period_to": PERIOD_TO,
        "as_of": AS_OF,
        "today": AS_OF.date(),
        "window_end": AS_OF.date() + timedelta(days=30),
    }


def sql_reference(studio_id: int) -> tuple[dict, float]:
    """Every section's rows in plain SQL on one cursor, fetched; ({section: (rows, count)},
    seconds). The violations' rows also give the revoked/struck and undisclosed violations, as
    the report takes them from the same list."""
    from django.db import connection

    params = reference_params(studio_id)
    fetched = defaultdict(list)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        start = time.perf_counter()
        for section, statement in REFERENCE:
            raw.execute(statement, params)
            fetched[section].append(raw.fetchall())
        seconds = time.perf_counter() - start
    out = {}
    for section, results in fetched.items():
        rows = [row for result in results for row in result]
        if section in ("planned_uses_not_covered", "uses_after_withdrawal"):
            rows = list({row[0]: row for row in rows if isinstance(row[0], int)}.values())
        count = sum(r[GROUPED[section]] for r in rows) if section in GROUPED else len(rows)
        out[section] = (len(rows), count)
    violations = fetched["violations"][0]
    withdrawn = [r for r in violations if set(r[3]) & set(WITHDRAWN_RULES)]
    undisclosed = [r for r in violations if "wga.disclosure" in r[3]]
    rows, count = out["uses_after_withdrawal"]
    out["uses_after_withdrawal"] = (rows + len(withdrawn), count + len(withdrawn))
    rows, count = out["missing_wga_disclosures"]
    out["missing_wga_disclosures"] = (rows + len(undisclosed), count + len(undisclosed))
    return out, seconds


def chain_read() -> tuple[int, float]:
    """SELECT the whole journal (transactions in seq order, then postings), fetched."""
    from django.db import connection

    with connection.cursor() as cursor:
        raw = cursor.cursor
        start = time.perf_counter()
        raw.execute(f"SELECT {HEADER_COPY} FROM ledger_journaltransaction ORDER BY seq")
        transactions = len(raw.fetchall())
        raw.execute(f"SELECT {POSTING_COPY} FROM ledger_posting")
        raw.fetchall()
        return transactions, time.perf_counter() - start


# --- the measurements -----------------------------------------------------------------------


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    return value, time.perf_counter() - start


def repetition(target, system) -> dict:
    """Every measurement once, back to back, in a fixed order."""
    from weasyprint import HTML

    from ledger.journal.verify import verify_chain
    from reports import compliance, render, services

    r = {}
    chain, r["chain"] = timed(verify_chain)
    assert chain.ok, chain
    r["chain_checked"] = chain.checked
    r["content"], r["build"] = timed(compliance.build, target, PERIOD_FROM, PERIOD_TO, AS_OF)
    # The reference right after a build and right before the sections alone: both find the
    # studio's rows in the same cache state (the chain walks evict them from shared buffers).
    r["sections_sql"], r["sql"] = sql_reference(target.studio.pk)
    with mock.patch.object(compliance, "verify_chain", lambda: chain):
        _, r["build_sections"] = timed(compliance.build, target, PERIOD_FROM, PERIOD_TO, AS_OF)
    (report, created), r["generate"] = timed(
        services.report_generate,
        target=target,
        period_from=PERIOD_FROM,
        period_to=PERIOD_TO,
        origin="on_demand",
        actor=system,
        as_of=AS_OF,
    )
    assert created
    r["report"] = report
    r["pdf_bytes"], r["pdf"] = timed(render.pdf, report)
    html = render.html(report)
    _, r["weasyprint"] = timed(HTML(string=html).write_pdf)
    r["journal"], r["chain_read"] = chain_read()
    return r


def section_profile(target) -> list[tuple]:
    """One build with each section timed, and the time its queries spent in the database
    (execute and transfer): [(section, seconds, query seconds, queries, rows)]."""
    from django.db import connection

    from reports import compliance

    spent = defaultdict(lambda: [0.0, 0])
    current = {"key": None}

    def wrapper(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            entry = spent[current["key"]]
            entry[0] += time.perf_counter() - start
            entry[1] += 1

    times, rows = {}, {}

    def timing(key, builder):
        def run(ctx):
            current["key"] = key
            start = time.perf_counter()
            out = builder(ctx)
            times[key] = time.perf_counter() - start
            rows[key] = len(out)
            return out

        return run

    patched = {key: timing(key, fn) for key, fn in compliance.BUILDERS.items()}
    with mock.patch.dict(compliance.BUILDERS, patched), connection.execute_wrapper(wrapper):
        compliance.build(target, PERIOD_FROM, PERIOD_TO, AS_OF)
    return [(k, times[k], spent[k][0], spent[k][1], rows[k]) for k in compliance.BUILDERS]


def bench(target, system) -> tuple[list[Result], dict]:
    repetition(target, system)  # warm-up (not counted): templates, Pango, plans, caches
    reps = []
    for n in range(REPS):
        r = repetition(target, system)
        reps.append(r)
        log(
            f"{SCENARIO} rep {n + 1}/{REPS}: SQL {r['sql']:.3f}s, chain {r['chain']:.2f}s, "
            f"build {r['build']:.2f}s, sections {r['build_sections']:.2f}s, "
            f"generate {r['generate']:.2f}s, pdf {r['pdf']:.2f}s "
            f"(WeasyPrint {r['weasyprint']:.2f}s), journal SELECT {r['chain_read']:.2f}s"
        )

    def ms(key):
        return [1000 * r[key] for r in reps]

    sql, chain, pdf = ms("sql"), ms("chain"), ms("pdf")
    sql_chain = [a + b for a, b in zip(sql, chain, strict=True)]
    budget = [3 * a + b for a, b in zip(sql_chain, pdf, strict=True)]
    job = [a + b for a, b in zip(ms("generate"), pdf, strict=True)]
    checked = reps[-1]["chain_checked"]
    verify_rates = [checked / r["chain"] for r in reps]
    read_rates = [r["journal"] / r["chain_read"] for r in reps]
    budget_name = "3 x (raw SQL of every section + verify_chain() alone) + render.pdf"

    def row(metric, samples, unit, reference, reference_samples, target=None, cls=Result):
        return cls(
            SCENARIO,
            metric,
            median(samples),
            unit,
            reference,
            median(reference_samples),
            target,
            samples,
            reference_samples,
        )

    sql_and_chain = "raw SQL of every section + verify_chain() alone"
    results = [
        row("build", ms("build"), "ms", sql_and_chain, sql_chain, TARGET, common.Ceiling),
        row(
            "build_sections",
            ms("build_sections"),
            "ms",
            "raw SQL of every section",
            sql,
            TARGET,
            common.Ceiling,
        ),
        row("generate", ms("generate"), "ms", budget_name, budget, 1.0, common.Ceiling),
        row("generate_and_pdf", job, "ms", budget_name, budget, 1.0, common.Ceiling),
        row(
            "pdf",
            pdf,
            "ms",
            "WeasyPrint write_pdf of the same HTML, rendered beforehand",
            ms("weasyprint"),
        ),
        row(
            "chain_verify",
            verify_rates,
            "transactions/s",
            "SELECT the journal's transactions and postings, fetched",
            read_rates,
        ),
    ]
    report = reps[-1]["report"]
    content = json.loads(report.content)
    app_rows = sum(len(s["rows"]) for s in content["sections"])
    sql_rows = sum(rows for rows, _ in reps[-1]["sections_sql"].values())
    content_bytes, pdf_bytes = len(report.content.encode()), len(reps[-1]["pdf_bytes"])
    results += [
        row(
            "report_rows",
            [app_rows],
            "rows",
            "rows the raw SQL lists (re-checked sections: their candidates)",
            [sql_rows],
        ),
        row("content_bytes", [content_bytes], "bytes", "the PDF's size", [pdf_bytes]),
    ]
    extra = {
        "reps": reps,
        "content": content,
        "sql_ms": median(sql),
        "chain_ms": median(chain),
        "pdf_ms": median(pdf),
        "checked": checked,
        "build_ms": ms("build"),
        "generate_ms": ms("generate"),
    }
    return results, extra


# --- output ---------------------------------------------------------------------------------


PRINTED_TABLES = (
    "ledger_person",
    "ledger_engagement",
    "consent_consent",
    "consent_consentevent",
    "consent_aiuse",
    "compensation_compensationline",
    "ledger_payable",
    "ledger_journaltransaction",
    "ledger_posting",
)


def main():
    name = setup_django()
    from reports.compliance import Target

    log(f"bench.reports on database {name}, {REPS} repetitions")
    system, main_studio, noise, seconds = build_world()
    start = time.perf_counter()
    common.analyze()
    analyze_seconds = time.perf_counter() - start
    target = Target.of(main_studio.studio)
    results, extra = bench(target, system)
    profile = section_profile(target)
    common.report(results)

    counts, sizes = main_studio.counts, common.table_rows(PRINTED_TABLES)
    sections_sql = extra["reps"][-1]["sections_sql"]
    print()
    print(
        f"data: studio {main_studio.studio.name!r}: {len(main_studio.productions)} productions, "
        f"{counts['engagements']:,} people and engagements, {counts['consents']:,} consents, "
        f"{counts['consent_events']:,} consent events, {counts['ai_uses']:,} AI uses "
        f"({counts['ai_uses_planned']:,} planned, {counts['ai_uses_violation']:,} violations), "
        f"{counts['union_notices']} union notices, {counts['wga_disclosures']:,} WGA "
        f"disclosures, {counts['wga_deliveries']:,} deliveries, "
        f"{counts['compensation_lines']:,} lines, {counts['payables']:,} payables, "
        f"{counts['journal_transactions']:,} journal transactions ({counts['postings']:,} "
        f"postings); noise studio {noise.counts['engagements']:,} engagements, "
        f"{noise.counts['ai_uses']:,} uses"
    )
    print(f"database tables: {', '.join(f'{t} {n:,}' for t, n in sizes.items())}")
    print(f"generated in {seconds:.1f}s (+ ANALYZE {analyze_seconds:.1f}s)")
    print(
        f"medians of {REPS}: raw SQL {extra['sql_ms']:,.0f} ms, verify_chain "
        f"{extra['chain_ms']:,.0f} ms ({extra['checked']:,} transactions), "
        f"render.pdf {extra['pdf_ms']:,.0f} ms"
    )
    print("the build's target reference is raw SQL + verify_chain() timed alone: the chain's")
    print("hashes cannot be recomputed in SQL; build_sections is compared with raw SQL alone.")
    build, generate = median(extra["build_ms"]), median(extra["generate_ms"])
    sql_budget = 3 * extra["sql_ms"] + extra["pdf_ms"]
    print(
        f"with the chain left out of the reference: build = {build / extra['sql_ms']:.1f} x SQL; "
        f"generate = {generate / sql_budget:.2f} x (3 x SQL + pdf), generate_and_pdf = "
        f"{(generate + extra['pdf_ms']) / sql_budget:.2f} x"
    )
    print("\nsections (one instrumented build; query = time inside cursor.execute):")
    print(f"  {'section':26} {'ms':>9} {'query ms':>9} {'queries':>8} {'rows':>7} {'SQL rows':>9}")
    by_key = {s["key"]: s for s in extra["content"]["sections"]}
    for key, secs, query, queries, rows in profile:
        sql_rows, _ = sections_sql.get(key, (None, None))
        mark = ""
        if key in EXACT and sql_rows != len(by_key[key]["rows"]):
            mark = "  MISMATCH with the report's stored rows"
        shown = "-" if sql_rows is None else f"{sql_rows:,}"
        if key not in EXACT and sql_rows is not None:
            shown += " cand."
        print(
            f"  {key:26} {1000 * secs:9,.0f} {1000 * query:9,.0f} {queries:8,} {rows:7,} "
            f"{shown:>9}{mark}"
        )


# --- the chain step: incremental against full verification ----------------------------------
#
# `python -m bench.reports chain_step` (a fresh database; nothing else of this module's world is
# built): a journal of CHAIN_SMALL transactions whose latest signed checkpoint is CHAIN_TAIL
# transactions behind the head, then grown to CHAIN_BIG with a new checkpoint the same
# CHAIN_TAIL behind the head. At each size, the report's chain step (`verify_chain()`, as
# `reports.compliance` calls it: incremental) and the full walk (`verify_chain(full=True)`) are
# timed, CHAIN_REPS times each, medians kept. The incremental step walks the same tail at both
# sizes, so its time must not grow with the history: incremental(big) / incremental(small)
# <= CHAIN_TARGET. The transactions are COPYed with their hashes computed by `link_hash`, one
# obligation of two postings each, as `_journal` writes them.

CHAIN_SMALL = scaled(int(os.environ.get("BENCH_CHAIN_SMALL", "200000")), 1000)
CHAIN_BIG = scaled(int(os.environ.get("BENCH_CHAIN_BIG", "1000000")), 1000)
CHAIN_TAIL = 2000
CHAIN_REPS = int(os.environ.get("BENCH_CHAIN_REPS", "3"))
CHAIN_TARGET = 1.3
CHAIN_SCENARIO = "chain_step"


def _chain_accounts(system) -> tuple[int, int, int]:
    """(studio id, expense account id, clearing account id) of a studio of its own."""
    from core.audit import acting_as
    from ledger.journal.services import account_for
    from ledger.models import Account
    from tests import factories as f

    with acting_as(system):
        studio = f.StudioFactory(name="Bench Chain Pictures", slug="bench-chain")
    expense = account_for(
        purpose=Account.Purpose.COMPENSATION_EXPENSE, studio_id=studio.pk, currency="USD"
    )
    clearing = account_for(
        purpose=Account.Purpose.PAYROLL_CLEARING, studio_id=studio.pk, currency="USD"
    )
    return studio.pk, expense.pk, clearing.pk


def _chain_append(n: int, studio_id: int, accounts: tuple[int, int], system) -> None:
    """Append `n` balanced transactions to the chain (COPY, postings first, chain lock held)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from ledger.journal import chain
    from ledger.journal.services import CHAIN_LOCK_KEY, chain_head

    expense, clearing = accounts
    for start in range(0, n, JOURNAL_CHUNK):
        size = min(JOURNAL_CHUNK, n - start)
        with transaction.atomic(), connection.cursor() as cursor:
            raw = cursor.cursor
            raw.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
            seq, prev_hash = chain_head()
            now = timezone.now()
            posting_rows, header_rows = [], []
            for _ in range(size):
                tid, seq = uuid.uuid4(), seq + 1
                amount = Decimal(100 + seq % 900) + Decimal(seq % 100) / 100
                hashed = [
                    {
                        "account_id": account,
                        "payable_id": None,
                        "amount": value,
                        "currency": "USD",
                        "effect": "",
                    }
                    for account, value in ((expense, amount), (clearing, -amount))
                ]
                header = {
                    "id": tid,
                    "seq": seq,
                    "kind": "obligation",
                    "studio_id": studio_id,
                    "source_type": "bench",
                    "source_id": str(seq),
                    "description": f"Bench obligation {seq}",
                    "effective_date": PERIOD_TO,
                    "created_at": now,
                    "actor_id": system.pk,
                    "reverses_id": None,
                }
                digest = chain.link_hash(prev_hash, header, hashed)
                posting_rows += [
                    (tid, h["account_id"], None, "", h["amount"], "USD") for h in hashed
                ]
                header_rows.append((*header.values(), prev_hash, digest))
                prev_hash = digest
            copy_into(raw, "ledger_posting", POSTING_COPY, posting_rows)
            copy_into(raw, "ledger_journaltransaction", HEADER_COPY, header_rows)


def _chain_grow_to(total: int, studio_id: int, accounts, system) -> dict:
    """Grow the journal to `total - CHAIN_TAIL`, sign a checkpoint, append CHAIN_TAIL more."""
    from ledger.journal.checkpoints import checkpoint_write
    from ledger.journal.services import chain_head

    seq, _ = chain_head()
    start = time.perf_counter()
    _chain_append(total - CHAIN_TAIL - seq, studio_id, accounts, system)
    checkpoint = checkpoint_write(reason="manual")
    _chain_append(CHAIN_TAIL, studio_id, accounts, system)
    common.analyze()
    log(
        f"{CHAIN_SCENARIO}: journal grown to {total:,} transactions in "
        f"{time.perf_counter() - start:.1f}s; checkpoint at #{checkpoint.seq}"
    )
    return {"checkpoint": checkpoint.seq}


def _chain_measure(total: int) -> dict:
    from ledger.journal.verify import verify_chain

    verify_chain()  # warm-up, not counted
    incremental, full = [], []
    for rep in range(CHAIN_REPS):
        report, seconds = timed(verify_chain)
        assert report.ok and report.checked == CHAIN_TAIL + 1, report
        incremental.append(1000 * seconds)
        report, seconds = timed(verify_chain, full=True)
        assert report.ok and report.checked == total, report
        full.append(1000 * seconds)
        log(
            f"{CHAIN_SCENARIO} {total:,} rep {rep + 1}/{CHAIN_REPS}: incremental "
            f"{incremental[-1]:,.0f} ms, full {full[-1]:,.0f} ms"
        )
    return {"incremental": incremental, "full": full}


def chain_step_main():
    name = setup_django()
    from core.audit import system_user

    log(
        f"bench.reports {CHAIN_SCENARIO} on database {name}: {CHAIN_SMALL:,} and {CHAIN_BIG:,} "
        f"transactions, {CHAIN_TAIL:,} after the checkpoint, {CHAIN_REPS} repetitions"
    )
    system = system_user()
    studio_id, *accounts = _chain_accounts(system)
    _chain_grow_to(CHAIN_SMALL, studio_id, accounts, system)
    small = _chain_measure(CHAIN_SMALL)
    _chain_grow_to(CHAIN_BIG, studio_id, accounts, system)
    big = _chain_measure(CHAIN_BIG)

    def row(metric, samples, reference, reference_samples, target=None):
        return common.Ceiling(
            CHAIN_SCENARIO,
            metric,
            median(samples),
            "ms",
            reference,
            median(reference_samples),
            target,
            samples,
            reference_samples,
        )

    tail = f"{CHAIN_TAIL:,} transactions after the latest checkpoint"
    small_label, big_label = f"{CHAIN_SMALL // 1000}k", f"{CHAIN_BIG // 1000}k"
    results = [
        row(
            f"incremental_verify_{big_label}_vs_{small_label}",
            big["incremental"],
            f"incremental verify_chain() at {CHAIN_SMALL:,} transactions ({tail})",
            small["incremental"],
            CHAIN_TARGET,
        ),
        row(
            f"incremental_verify_{small_label}_vs_full_{small_label}",
            small["incremental"],
            f"verify_chain(full=True) at {CHAIN_SMALL:,} transactions",
            small["full"],
        ),
        row(
            f"incremental_verify_{big_label}_vs_full_{big_label}",
            big["incremental"],
            f"verify_chain(full=True) at {CHAIN_BIG:,} transactions",
            big["full"],
        ),
        row(
            f"full_verify_{big_label}_vs_{small_label}",
            big["full"],
            f"verify_chain(full=True) at {CHAIN_SMALL:,} transactions",
            small["full"],
        ),
    ]
    common.report(results)
    print(
        f"\nmedians of {CHAIN_REPS}: incremental {median(small['incremental']):,.0f} ms at "
        f"{CHAIN_SMALL:,}, {median(big['incremental']):,.0f} ms at {CHAIN_BIG:,}; full "
        f"{median(small['full']):,.0f} ms at {CHAIN_SMALL:,}, {median(big['full']):,.0f} ms at "
        f"{CHAIN_BIG:,} ({tail})"
    )


if __name__ == "__main__":
    if sys.argv[1:] == [CHAIN_SCENARIO]:
        chain_step_main()
    else:
        main()
