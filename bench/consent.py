"""Consent-check benchmarks against PostgreSQL: the batch endpoint and the pure rule function,
each against the database's own read of the consent rows they decide on, measured in the same run.

Run with `make bench` (fresh `guild_ledger_bench` database, migrated), or by hand:
`DATABASE_URL=postgres://postgres@127.0.0.1:5432/guild_ledger_bench python -m bench.consent`.
Results are merged into bench/results.json and printed as a table. `BENCH_REPS` (default 5)
sets the repetitions; every figure is the median over them, and each batch is answered by the
service and then read by its reference back to back, so both see the same load. The database is
ANALYZEd after the data is loaded, as autovacuum would keep a live one.

Data: one studio, 20 productions (sag-tvth-2023 attached), 10,000 people (SAG-AFTRA members),
each engaged on one of them as a day performer, with 5 consents each (50,000): replica_creation,
replica_use, digital_alteration and icdr_use, plus synthetic_features or, for every 5th person, a
second replica_use superseding the first. Some are revoked or suspended (ConsentEvent rows), some
are buried in standard terms or not specific, so decisions both allow and refuse. The registry
(studio, productions, attachments, staff user) is built with tests.factories; the people,
memberships, engagements, consents and events with `audited_bulk_create` (history rows
included), as the system user, with a fixed dummy evidence path and hash (no files).

consent_check
    Checks: 10 batches of 1,000, each naming 1,000 different people (all 10,000 are covered),
    use kinds replica_creation, scan, replica_use, icdr_use and digital_alteration, at dates
    inside and outside suspensions and revocations; every 50th check names a production the
    person is not engaged on (a membership decides the category; refused, no consent there).
    Service: `POST /api/v1/consent-checks/batch/` with the Django test client, logged in as the
    studio's staff (full middleware, session auth, scoping, facts_for, check, JSON rendering;
    the JSON body is encoded before timing and the client does not parse the answer).
    All 10 batches per repetition, one request each; the rate is the repetition's checks over the
    requests' summed wall time. Target: >= 2,000 checks/s, reported as the row
    `batch_endpoint_vs_target` against a fixed 2,000 checks/s reference (ratio >= 1).
    Pure: `rules.check()` over the same checks' facts, loaded once with `selectors.facts_for`
    (not timed); only the decisions are timed. Reported only.
    Reference: `SELECT` (psycopg, rows fetched into Python) of the consent columns facts_for reads,
    `WHERE person_id = ANY(batch people) AND production_id = ANY(batch productions)`, for the same
    batch; the reference rate is the batch's checks divided by that read's time (checks/s), so the
    ratio says how close the endpoint comes to merely reading its consent rows. The raw rows/s is
    logged.
"""

import json
import os
import random
import time
from datetime import UTC, date, datetime
from decimal import Decimal

from bench import common
from bench.common import Result, Stopwatch, log, median, scaled, setup_django

REPS = int(os.environ.get("BENCH_REPS", "5"))
BATCH = 1000
PEOPLE = scaled(10_000, BATCH)
PRODUCTIONS = 20
BATCHES = PEOPLE // BATCH  # 10 distinct batches, every person in exactly one
TARGET_CHECKS_PER_SECOND = 2000
AGREEMENT = "sag-tvth-2023"
URL = "/api/v1/consent-checks/batch/"
SHA = "b5" * 32
SIGNED_AT = datetime(2025, 5, 15, 10, tzinfo=UTC)
SPECIFIC = "Digital replica of the performer for the battle scenes of episode 3, for streaming"
GENERIC = "Any and all uses in all media now known or hereafter devised, throughout the universe"
USE_KINDS = ("replica_creation", "scan", "replica_use", "icdr_use", "digital_alteration")
# Inside the term; inside the suspension (2025-06-15 .. 2025-06-30); after the revocations.
INSTANTS = ("2025-07-01T10:00:00Z", "2025-06-20", "2025-09-15T10:00:00Z")
COLUMNS = (
    "id, person_id, production_id, category, kind, description, scenes, media, instrument, "
    "signed_at, signed_by_capacity, term_from, term_to, notice_at, engaged_at, business_reason, "
    "bargained_amount, supersedes_id"
)
REFERENCE_SQL = (
    f"SELECT {COLUMNS} FROM consent_consent WHERE person_id = ANY(%s) AND production_id = ANY(%s)"
)


def _ts(day: int, hour: int = 10) -> datetime:
    return datetime(2025, 6, 1, hour, tzinfo=UTC).replace(day=day)


def build_world(*, people_count: int = PEOPLE, slug: str = "bench-consent-pictures"):
    """The studio, its staff user, and [(person id, production id)] for `people_count` people."""
    from consent.models import Consent, ConsentEvent
    from core.audit import acting_as, audited_bulk_create, system_user
    from ledger.models import Membership
    from tests import factories as f

    system = system_user()
    agreement = f.agreement(AGREEMENT)
    with acting_as(system):
        studio = f.StudioFactory(name=f"Bench {slug}", slug=slug)
        productions = [
            f.ProductionFactory(studio=studio, title=f"Bench {slug} production {n}")
            for n in range(PRODUCTIONS)
        ]
        for production in productions:
            f.ProductionAgreementFactory(production=production, agreement=agreement)
        staff = f.studio_staff(studio, f"{slug}-staff")

    people = common.bulk_people(studio, system, range(people_count), "BC")
    pairs = [(p.pk, productions[i % PRODUCTIONS].pk) for i, p in enumerate(people)]
    sag = f.guild("sag-aftra")
    audited_bulk_create(
        Membership,
        [
            Membership(person_id=person_id, guild=sag, member_number=f"BC-{i:06d}")
            for i, (person_id, _) in enumerate(pairs)
        ],
        actor=system,
        batch_size=2000,
    )
    day_performer = ("day_performer", Decimal("1500.00"), "day")
    common.bulk_engagements(
        system, agreement, date(2025, 6, 2), (pair + day_performer for pair in pairs)
    )

    def consent(i, person_id, production_id, kind, **fields):
        values = dict(
            person_id=person_id,
            production_id=production_id,
            agreement=agreement,
            category="principal",
            kind=kind,
            description=SPECIFIC,
            scenes="Episode 3, scenes 12-14",
            media="streaming, trailers",
            term_from=date(2025, 5, 1),
            term_to=None if i % 3 else date(2026, 12, 31),
            instrument="rider" if i % 2 else "separate_writing",
            signed_at=SIGNED_AT,
            signed_by=f"Bench Performer {i:05d}",
            signed_by_capacity="self",
            evidence=f"evidence/{SHA[:2]}/{SHA}/consent.pdf",
            evidence_name="consent.pdf",
            evidence_sha256=SHA,
            evidence_size=24_576,
            recorded_by=system,
        )
        values.update(fields)
        return Consent(**values)

    first, second = [], []
    for i, (person_id, production_id) in enumerate(pairs):
        first += [
            consent(i, person_id, production_id, "replica_creation", notice_at=_ts(20)),
            consent(
                i,
                person_id,
                production_id,
                "replica_use",
                instrument="standard_terms" if i % 13 == 0 else "rider",
            ),
            consent(
                i,
                person_id,
                production_id,
                "digital_alteration",
                **({"description": GENERIC, "scenes": "", "media": ""} if i % 17 == 0 else {}),
            ),
            consent(i, person_id, production_id, "icdr_use", bargained_amount=Decimal("5000.00")),
        ]
        if i % 5:
            second.append(consent(i, person_id, production_id, "synthetic_features"))
    first = audited_bulk_create(Consent, first, actor=system, batch_size=2000)
    for i in range(0, people_count, 5):  # every 5th person: a new replica_use replaces the first
        old = first[4 * i + 1]
        second.append(
            consent(
                i,
                old.person_id,
                old.production_id,
                "replica_use",
                signed_at=_ts(25),
                media="streaming, trailers, promos",
                supersedes_id=old.pk,
            )
        )
    second = audited_bulk_create(Consent, second, actor=system, batch_size=2000)

    def event(consent_obj, kind, at, reason):
        return ConsentEvent(
            consent_id=consent_obj.pk, kind=kind, effective_at=at, reason=reason, actor=system
        )

    events = []
    for i in range(people_count):
        if i % 7 == 0:  # icdr_use revoked
            events.append(event(first[4 * i + 3], "revoked", _ts(1).replace(month=8), "Revoked."))
        if i % 11 == 0:  # digital_alteration suspended for the second half of June
            events.append(event(first[4 * i + 2], "suspended", _ts(15), "Suspended."))
            events.append(event(first[4 * i + 2], "resumed", _ts(30), "Resumed."))
    audited_bulk_create(ConsentEvent, events, actor=system, batch_size=2000)
    log(
        f"data: {len(pairs)} people (SAG-AFTRA members) and engagements on {PRODUCTIONS} "
        f"productions, {len(first) + len(second)} consents, {len(events)} consent events"
    )
    return staff, pairs


def make_batches(pairs: list) -> list[list[dict]]:
    """BATCHES lists of BATCH checks; each person in exactly one batch."""
    order = list(range(len(pairs)))
    random.Random(20250601).shuffle(order)
    productions = sorted({production_id for _, production_id in pairs})
    batches = []
    for b in range(BATCHES):
        checks = []
        for j, i in enumerate(order[b * BATCH : (b + 1) * BATCH]):
            person_id, production_id = pairs[i]
            if j % 50 == 49:  # a production the person is not engaged on
                production_id = productions[(productions.index(production_id) + 1) % PRODUCTIONS]
            checks.append(
                {
                    "person": person_id,
                    "production": production_id,
                    "use_kind": USE_KINDS[j % len(USE_KINDS)],
                    "on": INSTANTS[(j // len(USE_KINDS)) % len(INSTANTS)],
                }
            )
        batches.append(checks)
    return batches


def post_batch(client, body: bytes) -> tuple[object, float]:
    start = time.perf_counter()
    response = client.post(URL, body, content_type="application/json")
    seconds = time.perf_counter() - start
    assert response.status_code == 200, response.content[:500]
    return response, seconds


def read_batch(checks: list[dict]) -> tuple[int, float]:
    """The reference: the consent rows of the batch's people and productions, fetched."""
    from django.db import connection

    people = sorted({c["person"] for c in checks})
    productions = sorted({c["production"] for c in checks})
    watch = Stopwatch()
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with watch.timing():
            raw.execute(REFERENCE_SQL, (people, productions))
            rows = len(raw.fetchall())
    return rows, watch.seconds


def tally(results: list[dict], into: dict) -> None:
    for r in results:
        key = "error" if "error" in r else ("allowed" if r["allowed"] else "refused")
        into[key] = into.get(key, 0) + 1


def bench_endpoint(staff, batches: list) -> tuple[list[Result], dict]:
    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    client.force_login(staff)
    bodies = [json.dumps({"checks": checks}).encode() for checks in batches]
    post_batch(client, bodies[-1])  # warm-up, not counted
    read_batch(batches[-1])
    api_rates, ref_rates, row_rates, outcomes = [], [], [], {}
    for rep in range(REPS):
        checks = api_seconds = ref_seconds = rows = 0
        for b in range(BATCHES):
            response, seconds = post_batch(client, bodies[b])
            assert len(response.data["results"]) == len(batches[b])
            tally(response.data["results"], outcomes)
            read, read_seconds = read_batch(batches[b])
            checks += len(batches[b])
            api_seconds += seconds
            ref_seconds += read_seconds
            rows += read
        api_rates.append(checks / api_seconds)
        ref_rates.append(checks / ref_seconds)
        row_rates.append(rows / ref_seconds)
        log(
            f"consent_check rep {rep + 1}/{REPS}: endpoint {checks} checks in {api_seconds:.2f}s, "
            f"SELECT {rows} consent rows in {ref_seconds:.3f}s"
        )
    reference = "SELECT the batch's consent rows (psycopg, fetched), as the batch's checks/s"
    results = [
        Result(
            "consent_check",
            f"batch_endpoint_{BATCH}",
            median(api_rates),
            "checks/s",
            reference,
            median(ref_rates),
            None,
            api_rates,
            ref_rates,
        ),
        Result(
            "consent_check",
            "batch_endpoint_vs_target",
            median(api_rates),
            "checks/s",
            f"required: {TARGET_CHECKS_PER_SECOND:,} checks/s",
            TARGET_CHECKS_PER_SECOND,
            1.0,
            api_rates,
            [TARGET_CHECKS_PER_SECOND] * len(api_rates),
        ),
    ]
    return results, {"ref_rates": ref_rates, "row_rates": row_rates, "outcomes": outcomes}


def bench_pure(staff, batches: list, ref_rates: list) -> Result:
    from consent import rules, selectors, whatif
    from core.errors import DomainError
    from ledger.access import scope_for

    scope = scope_for(staff)
    requests = []
    for checks in batches:
        for c in checks:
            requests.append(
                selectors.CheckRequest(
                    person_id=c["person"],
                    production_id=c["production"],
                    kind=c["use_kind"],
                    at=whatif.instant(c["on"], "on"),
                )
            )
    start = time.perf_counter()
    loaded = selectors.facts_for(scope, requests)
    load_seconds = time.perf_counter() - start
    facts = [f.facts for f in loaded if not isinstance(f, DomainError)]
    assert len(facts) == len(requests), "every bench check has facts"
    log(f"facts_for: {len(requests)} checks' facts loaded in {load_seconds:.2f}s (not timed)")
    check = rules.check
    check(facts[0])  # warm-up
    rates = []
    for rep in range(REPS):
        watch = Stopwatch()
        with watch.timing():
            for one in facts:
                check(one)
        rates.append(len(facts) / watch.seconds)
        log(f"rules_check rep {rep + 1}/{REPS}: {len(facts)} decisions in {watch.seconds:.3f}s")
    return Result(
        "consent_check",
        "rules_check_pure",
        median(rates),
        "checks/s",
        "SELECT the batch's consent rows (psycopg, fetched), as the batch's checks/s",
        median(ref_rates),
        None,
        rates,
        ref_rates,
    )


def main():
    started = time.perf_counter()
    name = setup_django()
    log(f"bench.consent on database {name}, {REPS} repetitions")
    staff, pairs = build_world()
    log(f"built in {time.perf_counter() - started:.1f}s")
    common.analyze()
    batches = make_batches(pairs)
    results, extra = bench_endpoint(staff, batches)
    results.append(bench_pure(staff, batches, extra["ref_rates"]))
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(extra["outcomes"].items()))
    log(
        f"endpoint answers: {outcomes}; reference read {median(extra['row_rates']):,.0f} "
        f"consent rows/s (median); total {time.perf_counter() - started:.1f}s"
    )
    common.report(results)


if __name__ == "__main__":
    main()
