"""Residual-run benchmarks against PostgreSQL: computing a residual run's lines and writing them
with the run's own write path, against psycopg COPY of the same line rows into the same table
and into a bare table of the same columns (the physical limit), measured in the same run.

Run with `make bench` (fresh `guild_ledger_bench` database, migrated), or by hand:
`DATABASE_URL=postgres://postgres@127.0.0.1:5432/guild_ledger_bench python -m bench.residuals`.
Results are merged into bench/results.json and printed as a table. `BENCH_REPS` (default 3) sets
the repetitions; every figure is the median over them. The database is ANALYZEd after the data is
loaded, as autovacuum would keep a live one.

Data: one studio, one television production (60-minute episodes) with sag-tvth-2026 and
wga-mba-2026 attached, and 10,000 people engaged on it:
- 9,000 performers under sag-tvth-2026 (day performers at 1,250.00 a day), with 1 to 5 timecards
  each (8-hour days from 6 July 2026) on episode "101": 27,000 days, so the performers' shares by
  residual days differ; every tenth performer also has a day on episode "102", which episode
  "101"'s exhibitions must not count;
- 1,000 writers under wga-mba-2026 (flat 40,000.00), with a writing credit each: of every 20,
  5 "written by" episode "101", 5 "teleplay by" it, 5 "story by" it, 4 "written by" the whole
  work (no episode) and 1 "written by" episode "102" only (no share in episode "101").
People and engagements are written with `audited_bulk_create` (history rows included), the
timecards with one COPY and the writing credits and exhibitions with `audited_bulk_create`; the
two residual schedules are created directly, as the loader stores them. A warm-up production of
50 performers and 10 writers of the same mix, with the same exhibitions, runs every path once
first (not counted).

The schedules hold bench figures, not agreement rates (the same for both agreements, in force
from 2026-07-01): base 20,000.00 for an episode of up to 60 minutes; subscriber factor 0.5
(tier_1) and 1 (tier_2); exhibition-year percentages 10 / 5 (year 1, domestic / foreign) and
8 / 4 (year 2); 2% of gross receipts in every gross-receipts market and territory. The WGA
schedule's HBSVOD due rule is basic cable, the SAG-AFTRA one has none (supplemental markets). The
pension and health rates are the shipped parameters.

Twelve monthly exhibitions of episode "101", July 2027 to June 2028, each ending inside the
run's period (2027-07-01 .. 2028-06-30), so both engine paths run:
- July, September, ... May: high-budget SVOD, worldwide (a domestic and a foreign line), tier_2
  and tier_1 services in turn, exhibition year 1 in 2027 and 2 in 2028; July's and January's
  report views above the success-bonus threshold (the bonus lines and the SAG-AFTRA fund's
  quarter);
- August, October, ... June: gross receipts of supplemental markets (August's the first
  period), basic cable, syndication and network TV (with a broadcast date), domestic and
  foreign.
Every fringe rate the lines need is in force on those dates (the shipped WGA Health Fund rate
has no value from 2026-05-02 to 2027-05-01), so the run has no exceptions (checked).
About 330,000 lines per run at full size: each person's share of each exhibition, the success
bonuses and the pension and health contributions on them.

residual_run
    Each repetition computes the period anew under a new run row (the lines table is append-only:
    nothing is deleted between repetitions; the previous repetition's run is superseded first,
    as `run_start` does).
    compute: `compensation.residuals.runs.compute(run)` as the run task calls it (parameters,
    exhibitions, engagements, credits, days, replica days, the schedule in force, the engine per
    exhibition and agreement, the line rows, the run's summary fields), with `insert_rows`
    intercepted so that nothing is written. Lines/s over the lines it built. Reported only.
    write: `core.bulk.insert_rows(ResidualLine, lines)` (COPY on PostgreSQL, through Django's
    field preparation) of exactly those line objects, in one transaction (commit and the
    deferred foreign-key checks included): the run's real write path. Lines/s. Reported only.
    compute_and_write: the lines over the sum of both (what the run task spends in `compute`).
    Target: >= 30% of COPY into the lines table.
    Reference (copy): `COPY compensation_residualline (every column but id) FROM STDIN` (psycopg
    `cursor.copy()`, text format) of the same rows, values as Django prepares them for the
    database (`get_db_prep_save`: the JSON columns as psycopg Jsonb, dumped while copying),
    under a reference run row of the same production and period (status failed, so nothing
    reads them as a computation), in one transaction (commit, deferred FK checks, the table's
    indexes, checks and triggers included). Preparing the tuples is not timed. Checked: same row
    count and amount total as the write.
    Reference (bare copy): the same COPY of the same tuples into an UNLOGGED table made with
    `CREATE UNLOGGED TABLE ... AS SELECT <those columns> FROM compensation_residualline WITH NO
    DATA`: the same column types, and no primary key, constraint, index, trigger, default or
    write-ahead log; emptied (untimed) before each repetition. The physical limit of loading
    these rows on this server. `write_vs_bare` and `compute_and_write_vs_bare` compare with
    it; `copy_vs_bare` is what the lines table itself costs. Reported only.
    approve: `compensation.runs.run_approve` of the last repetition's run, once (a run is approved
    once): the review's check that every item is acknowledged, the run's lines summed per payee
    key, one payable per key, one journal transaction per engagement and one for the funds'
    lines with no member. Lines of the run per second of approval, against the COPY reference;
    reported only. The review's items (the lines needing confirmation: the performers' shares
    by days are tier D) are acknowledged with a note first, as staff would, not timed.
"""

import hashlib
import json
import os
import time
from datetime import date, timedelta
from datetime import time as clock
from decimal import Decimal
from unittest import mock

from bench import common
from bench.common import Result, Stopwatch, log, median, scaled, setup_django

REPS = int(os.environ.get("BENCH_REPS", "3"))
PEOPLE = scaled(10_000, 100)
PERFORMERS = PEOPLE * 9 // 10
WRITERS = PEOPLE - PERFORMERS
WARM_PERFORMERS, WARM_WRITERS = 50, 10
SAG, WGA = "sag-tvth-2026", "wga-mba-2026"
EPISODE, OTHER_EPISODE = "101", "102"
EPISODE_MINUTES = 60
START = date(2026, 7, 6)  # the first day of photography (a Monday)
WORK_DATES = [
    START + timedelta(days=n) for n in range(7) if (START + timedelta(days=n)).weekday() < 5
]
PERIOD_FROM, PERIOD_TO = date(2027, 7, 1), date(2028, 6, 30)
TARGET = 0.3
SCENARIO = "residual_run"
TIMECARD_COPY = (
    "COPY compensation_timecard (engagement_id, date, first_call, dismissal, meals, rest_start, "
    "episode, elapsed_hours, work_hours) FROM STDIN"
)
BARE_TABLE = "bench_residualline_bare"

# Of every 20 writers: (credit, episode credited).
CREDITS = (
    [("written_by", EPISODE)] * 5
    + [("teleplay_by", EPISODE)] * 5
    + [("story_by", EPISODE)] * 5
    + [("written_by", "")] * 4
    + [("written_by", OTHER_EPISODE)]
)
# Bench figures (see the module docstring): not agreement rates.
FIGURES = {
    "name": "Bench residual schedule",
    "source": "bench figures (bench/residuals.py), not agreement rates",
    "tier": "P",
    "currency": "USD",
    "bases": {"episode:60": "20000.00"},
    "subscriber_factors": {"tier_1": "0.5", "tier_2": "1"},
    "exhibition_year_percent": {
        "1:domestic": "10",
        "1:foreign": "5",
        "2:domestic": "8",
        "2:foreign": "4",
    },
    "gross_receipts_percent": {
        f"{market}:{territory}": "2"
        for market in ("network_tv", "syndication", "basic_cable", "supplemental_markets")
        for territory in ("domestic", "foreign")
    },
}
DUE_RULES = {SAG: "", WGA: "basic_cable"}
# The gross-receipts exhibitions, August, October, ... June: (market, territory).
GROSS_MARKETS = [
    ("supplemental_markets", "domestic"),
    ("basic_cable", "domestic"),
    ("syndication", "foreign"),
    ("network_tv", "domestic"),
    ("basic_cable", "foreign"),
    ("supplemental_markets", "foreign"),
]


def months() -> list[tuple[date, date]]:
    """The first and last days of the run's twelve months, July 2027 to June 2028."""
    out = []
    for n in range(12):
        year, month = PERIOD_FROM.year + (PERIOD_FROM.month - 1 + n) // 12, (6 + n) % 12 + 1
        following = date(year + month // 12, month % 12 + 1, 1)
        out.append((date(year, month, 1), following - timedelta(days=1)))
    return out


def exhibition_fields() -> list[dict]:
    """The twelve monthly exhibitions of episode "101" (see the module docstring)."""
    out = []
    for n, (start, end) in enumerate(months()):
        fields = {
            "episode": EPISODE,
            "work_type": "episode",
            "running_minutes": EPISODE_MINUTES,
            "period_from": start,
            "period_to": end,
        }
        if n % 2 == 0:
            fields.update(
                market="hbsvod",
                territory="worldwide",
                service="Bench Stream",
                subscriber_tier="tier_2" if n % 4 == 0 else "tier_1",
                exhibition_year=1 if n < 6 else 2,
            )
            if n in (0, 6):  # 30M views per 100M subscribers: 0.3, above 0.2
                fields.update(
                    views_first_90_days=Decimal("30000000"), domestic_subscribers=100_000_000
                )
        else:
            market, territory = GROSS_MARKETS[n // 2]
            fields.update(
                market=market,
                territory=territory,
                gross_receipts=Decimal("1250000.00") + Decimal(n * 10_000),
                first_period=market == "supplemental_markets" and n == 1,
                broadcast_on=start + timedelta(days=9) if market == "network_tv" else None,
            )
        out.append(fields)
    return out


def load_schedules(actor) -> None:
    """One schedule per agreement, stored as the loader stores one (content, hash)."""
    from django.utils import timezone

    from compensation.models import ResidualSchedule
    from compensation.rules.residuals import input as residual_input
    from tests import factories as f

    for code in (SAG, WGA):
        figures = {**FIGURES, "due_rule": DUE_RULES[code]} if DUE_RULES[code] else FIGURES
        residual_input._schedule(figures)  # the loader's check
        content = json.dumps(figures, indent=2)
        ResidualSchedule.objects.create(
            agreement=f.agreement(code),
            name=figures["name"],
            version=1,
            effective_from=date(2026, 7, 1),
            source=figures["source"],
            tier=figures["tier"],
            currency=figures["currency"],
            due_rule=DUE_RULES[code],
            figures=figures,
            file_name="bench-residual-schedule.json",
            file_format=ResidualSchedule.Format.JSON,
            content=content,
            sha256=hashlib.sha256(content.encode()).hexdigest(),
            loaded_by=actor,
            loaded_at=timezone.now(),
        )


def _hours() -> tuple[Decimal, Decimal]:
    """elapsed_hours and work_hours of the bench's 8-hour day, as services._fill_hours
    computes them."""
    from compensation.rules.workday import WorkDay

    day = WorkDay.build(START, clock(7), clock(15, 30), meals=[(clock(12, 30), clock(13))])
    return day.elapsed_hours, day.work_hours


def seed_production(studio, actor, title: str, performers: int, writers: int, offset: int):
    """A television production with `performers` and `writers` of the mix, their timecards and
    credits, and the twelve exhibitions."""
    from django.db import connection, transaction

    from compensation.models import Exhibition, WritingCredit
    from core.audit import acting_as, audited_bulk_create
    from tests import factories as f

    with acting_as(actor):
        production = f.ProductionFactory(
            studio=studio,
            title=title,
            kind="television",
            episode_minutes=EPISODE_MINUTES,
            start_date=START,
        )
        for code in (SAG, WGA):
            f.ProductionAgreementFactory(production=production, agreement=f.agreement(code))
    people = common.bulk_people(studio, actor, range(offset, offset + performers + writers), "RR")
    cast = common.bulk_engagements(
        actor,
        f.agreement(SAG),
        START,
        (
            (p.pk, production.pk, "day_performer", Decimal("1250.00"), "day")
            for p in people[:performers]
        ),
    )
    room = common.bulk_engagements(
        actor,
        f.agreement(WGA),
        START,
        ((p.pk, production.pk, "writer", Decimal("40000.00"), "flat") for p in people[performers:]),
    )
    elapsed, work = _hours()
    meals = json.dumps([["12:30", "13:00"]])
    with transaction.atomic(), connection.cursor() as cursor:
        with cursor.cursor.copy(TIMECARD_COPY) as copy:
            for i, engagement in enumerate(cast):
                days = [(on, EPISODE) for on in WORK_DATES[: 1 + i % 5]]
                if i % 10 == 9:
                    days.append((WORK_DATES[-1] + timedelta(days=3), OTHER_EPISODE))
                for on, episode in days:
                    copy.write_row(
                        (
                            engagement.pk,
                            on,
                            clock(7),
                            clock(15, 30),
                            meals,
                            None,
                            episode,
                            elapsed,
                            work,
                        )
                    )
    credits = []
    for i, engagement in enumerate(room):
        credit, episode = CREDITS[i % len(CREDITS)]
        credits.append(WritingCredit(engagement=engagement, credit=credit, episode=episode))
    audited_bulk_create(WritingCredit, credits, actor=actor, batch_size=2000)
    audited_bulk_create(
        Exhibition,
        [Exhibition(production=production, **fields) for fields in exhibition_fields()],
        actor=actor,
    )
    return production


def build_world():
    from core.audit import acting_as, system_user
    from tests import factories as f

    actor = system_user()
    with acting_as(actor):
        studio = f.StudioFactory(name="Bench Residual Pictures", slug="bench-residual-pictures")
    load_schedules(actor)
    start = time.perf_counter()
    production = seed_production(studio, actor, "Bench Residual Series", PERFORMERS, WRITERS, 0)
    warm = seed_production(
        studio, actor, "Bench Residual Warm-up", WARM_PERFORMERS, WARM_WRITERS, PEOPLE
    )
    log(
        f"data: {PERFORMERS:,} performers and {WRITERS:,} writers on one television production, "
        f"12 exhibitions (+{WARM_PERFORMERS + WARM_WRITERS} people on a warm-up production), "
        f"seeded in {time.perf_counter() - start:.1f}s"
    )
    return actor, production, warm


def new_run(actor, production, status, error=""):
    from compensation.models import CompensationRun

    return common.saved_run(
        production,
        actor,
        status,
        (PERIOD_FROM, PERIOD_TO, PERIOD_TO),
        kind=CompensationRun.Kind.RESIDUALS,
        error=error,
    )


def compute(run) -> tuple[list, float]:
    """`residuals.runs.compute(run)` with the line write intercepted: (lines, seconds)."""
    from django.db import transaction

    from compensation.models import ResidualLine
    from compensation.residuals import runs

    captured: list = []

    def capture(model, rows):
        assert model is ResidualLine, model
        captured.extend(rows)

    with mock.patch.object(runs, "insert_rows", capture):
        start = time.perf_counter()
        with transaction.atomic():
            runs.compute(run)
        seconds = time.perf_counter() - start
    return captured, seconds


def write(lines: list) -> float:
    """The run's write path for `lines`, in one transaction; seconds."""
    from django.db import transaction

    from compensation.models import ResidualLine
    from core.bulk import insert_rows

    watch = Stopwatch()
    with watch.timing():
        with transaction.atomic():
            insert_rows(ResidualLine, lines)
    return watch.seconds


def line_columns() -> list:
    from compensation.models import ResidualLine

    return [f for f in ResidualLine._meta.concrete_fields if not f.primary_key]


def copy_rows(lines: list, run_id: int) -> list[tuple]:
    """The rows of `lines` as Django sends them to the database, under run `run_id`."""
    from django.db import connection

    fields = line_columns()
    return [
        tuple(
            run_id
            if f.attname == "run_id"
            else f.get_db_prep_save(getattr(line, f.attname), connection)
            for f in fields
        )
        for line in lines
    ]


def create_bare_table() -> None:
    """An UNLOGGED table of the lines' columns (but id) and nothing else."""
    from django.db import connection

    from compensation.models import ResidualLine

    columns = ", ".join(f.column for f in line_columns())
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {BARE_TABLE}")
        cursor.execute(
            f"CREATE UNLOGGED TABLE {BARE_TABLE} AS SELECT {columns} "
            f"FROM {ResidualLine._meta.db_table} WITH NO DATA"
        )


def copy(rows: list[tuple], table: str) -> float:
    """COPY `rows` into `table` in one transaction; seconds."""
    from django.db import connection, transaction

    columns = ", ".join(f.column for f in line_columns())
    statement = f"COPY {table} ({columns}) FROM STDIN"
    watch = Stopwatch()
    with watch.timing():
        with transaction.atomic(), connection.cursor() as cursor:
            with cursor.cursor.copy(statement) as out:
                for row in rows:
                    out.write_row(row)
    return watch.seconds


def empty_bare_table() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {BARE_TABLE}")


def totals(run_id: int, table: str | None = None) -> tuple[int, Decimal]:
    from django.db import connection

    from compensation.models import ResidualLine

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), sum(amount) FROM {table or ResidualLine._meta.db_table} "
            "WHERE run_id = %s",
            [run_id],
        )
        n, amount = cursor.fetchone()
    return n, amount


def repetition(actor, production) -> dict:
    """Compute, write and COPY (into the table and the bare table) one run of `production`; the
    run is left computed."""
    from compensation.models import CompensationRun, ResidualLine

    run = new_run(actor, production, CompensationRun.Status.RUNNING)
    lines, compute_seconds = compute(run)
    write_seconds = write(lines)
    common.set_run_status(run, actor, CompensationRun.Status.COMPUTED)
    reference = new_run(
        actor,
        production,
        CompensationRun.Status.FAILED,
        error=f"bench: COPY reference of the lines of run #{run.pk}, not a computation",
    )
    rows = copy_rows(lines, reference.pk)
    copy_seconds = copy(rows, ResidualLine._meta.db_table)
    empty_bare_table()
    bare_seconds = copy(rows, BARE_TABLE)
    assert not run.exceptions, run.exceptions
    written, copied = totals(run.pk), totals(reference.pk)
    bare = totals(reference.pk, BARE_TABLE)
    assert written == copied == bare == (len(lines), written[1]), (written, copied, bare)
    return {
        "run": run,
        "lines": len(lines),
        "engagements": run.engagements,
        "exceptions": len(run.exceptions),
        "compute": compute_seconds,
        "write": write_seconds,
        "copy": copy_seconds,
        "bare": bare_seconds,
    }


def approve(actor, run) -> tuple[dict, float]:
    from compensation import runs
    from compensation.models import ResidualPosting
    from ledger.models import Payable, Posting

    acknowledged = common.acknowledge_review(actor, run)
    before = (Posting.objects.count(), Payable.objects.count())
    start = time.perf_counter()
    runs.run_approve(actor=actor, run=run)
    seconds = time.perf_counter() - start
    counts = {
        "transactions": ResidualPosting.objects.filter(run=run)
        .values("transaction_id")
        .distinct()
        .count(),
        "residual_postings": ResidualPosting.objects.filter(run=run).count(),
        "postings": Posting.objects.count() - before[0],
        "payables": Payable.objects.count() - before[1],
        "acknowledged": acknowledged,
    }
    return counts, seconds


def bench_run(actor, production, warm) -> tuple[list[Result], list[str]]:
    def describe(rep: int, r: dict) -> str:
        return (
            f"{SCENARIO} rep {rep + 1}/{REPS}: {r['engagements']:,} engagements, "
            f"{r['lines']:,} lines ({r['exceptions']} exceptions); compute {r['compute']:.2f}s, "
            f"write {r['write']:.2f}s, COPY {r['copy']:.2f}s, bare COPY {r['bare']:.2f}s"
        )

    create_bare_table()
    reps = common.run_repetitions(
        actor,
        production,
        warm,
        reps=REPS,
        repetition=repetition,
        approve=approve,
        describe=describe,
    )
    previous = reps[-1]["run"]
    counts, approve_seconds = approve(actor, previous)
    lines = reps[-1]["lines"]
    log(
        f"{SCENARIO} approve: run #{previous.pk}, {lines:,} lines -> {counts['transactions']:,} "
        f"transactions, {counts['postings']:,} postings, {counts['payables']:,} payables, "
        f"{counts['residual_postings']:,} residual postings in {approve_seconds:.2f}s "
        f"({counts['acknowledged']} review items acknowledged first, not timed)"
    )

    def rates(key):
        return [r["lines"] / r[key] for r in reps]

    compute_rates, write_rates = rates("compute"), rates("write")
    copy_rates, bare_rates = rates("copy"), rates("bare")
    both = [r["lines"] / (r["compute"] + r["write"]) for r in reps]
    table = "psycopg COPY FROM STDIN of the same line rows into compensation_residualline, one txn"
    bare = "psycopg COPY FROM STDIN of the same line rows into a bare UNLOGGED table, one txn"

    def row(metric, samples, reference, reference_samples, target=None):
        return Result(
            SCENARIO,
            metric,
            median(samples),
            "lines/s",
            reference,
            median(reference_samples),
            target,
            samples,
            reference_samples,
        )

    approve_rate = [lines / approve_seconds]
    results = [
        row("compute", compute_rates, table, copy_rates),
        row("write", write_rates, table, copy_rates),
        row("compute_and_write", both, table, copy_rates, TARGET),
        row("approve", approve_rate, table, copy_rates),
        row("copy_vs_bare", copy_rates, bare, bare_rates),
        row("write_vs_bare", write_rates, bare, bare_rates),
        row("compute_and_write_vs_bare", both, bare, bare_rates),
    ]

    def seconds(key):
        return median([r[key] for r in reps])

    both_ratio = median(both) / median(copy_rates)
    summary = [
        f"{PERFORMERS:,} performers + {WRITERS:,} writers x 12 exhibitions -> {lines:,} lines "
        f"per run, median of {REPS}:",
        f"  compute {seconds('compute'):.2f}s, write {seconds('write'):.2f}s, "
        f"COPY {seconds('copy'):.2f}s, bare COPY {seconds('bare'):.2f}s; "
        f"compute_and_write/COPY {both_ratio:.3f} (target >= {TARGET}), "
        f"compute_and_write/bare COPY {median(both) / median(bare_rates):.3f}",
        f"  approve (once) {approve_seconds:.2f}s: "
        f"{counts['transactions'] / approve_seconds:,.0f} transactions/s, "
        f"{counts['postings'] / approve_seconds:,.0f} postings/s",
    ]
    return results, summary


def main():
    name = setup_django()
    log(f"bench.residuals on database {name}, {REPS} repetitions")
    actor, production, warm = build_world()
    common.analyze()
    results, summary = bench_run(actor, production, warm)
    common.report(results)
    print()
    print("\n".join(summary))


if __name__ == "__main__":
    main()
