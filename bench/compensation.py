"""Compensation-run benchmarks against PostgreSQL: computing a run's lines and writing them with the
run's own write path, each against psycopg COPY of the same line rows into the same table,
measured in the same run.

Run with `make bench` (fresh `guild_ledger_bench` database, migrated), or by hand:
`DATABASE_URL=postgres://postgres@127.0.0.1:5432/guild_ledger_bench python -m bench.compensation`.
Results are merged into bench/results.json and printed as a table. `BENCH_REPS` (default 3) sets
the repetitions; every figure is the median over them. The database is ANALYZEd after the data is
loaded, as autovacuum would keep a live one.

Data: one studio, one theatrical production (sag-tvth-2023 attached), 10,000 people engaged on it
under sag-tvth-2023 (80% day performers, 10% weekly performers, 10% background actors; rates
around scale, a few below it and some above the money break), each with 20 timecards on the
weekdays of 2-27 June 2025, inside the run's period (2025-06-01 .. 2025-06-30): 200,000
timecards. Days are mostly 8 hours; some run into overtime, some have a late meal, some a missed
second meal, some run past midnight. The registry rows (people, engagements) are written with
`audited_bulk_create`; the timecards with one COPY (elapsed_hours and work_hours from
`WorkDay`, as `services._fill_hours` fills them), without history rows. A second production of
50 such engagements is used to warm every path up first (not counted).

compensation_run
    Each repetition computes the period anew under a new run row (the lines table is append-only:
    nothing is deleted between repetitions).
    compute: `runs._compute(run)` as the Celery task runs it (parameters, `selectors.run_inputs`,
    hold resolutions, `compute_engagement` per engagement, the run's summary fields), with
    `runs.write_lines` intercepted so that nothing is written: everything in
    `_compute` except the write. Lines/s over the lines it built. Reported only.
    write: `runs.write_lines(lines)` (COPY on PostgreSQL, through Django's field preparation) of
    exactly those line objects, in one transaction (commit and the deferred foreign-key checks
    included): the run's real write path. Lines/s. Target: >= 20% of COPY.
    compute_and_write: the lines over the sum of both (what `run_compute` spends in `_compute`).
    Reported only.
    Reference: `COPY compensation_compensationline (every column but id) FROM STDIN` (psycopg
    `cursor.copy()`, text format) of the same rows, values as Django prepares them for the
    database (`get_db_prep_save`: the JSON columns as psycopg Jsonb, dumped while copying),
    under a reference run row of the same production and period (status failed, so nothing
    reads them as a computation), in one transaction (commit and deferred FK checks included).
    Preparing the tuples is not timed. Checked: same row count and amount total as the write.
    approve: `runs.run_approve` of the last repetition's run, once (a run is approved once): the
    run's lines summed per engagement and key, one payable per engagement and pay rule, one
    journal transaction per engagement (a person payable account created per engagement). Lines
    of the run per second of approval, against the same COPY reference; reported only. The
    journal transactions per second are printed in the summary.
"""

import os
import time
from datetime import date, timedelta
from datetime import time as clock
from decimal import Decimal
from unittest import mock

from bench import common
from bench.common import Result, Stopwatch, log, median, scaled, setup_django

REPS = int(os.environ.get("BENCH_REPS", "3"))
ENGAGEMENTS = scaled(10_000, 100)
WARM_ENGAGEMENTS = 50
AGREEMENT = "sag-tvth-2023"
PERIOD_FROM, PERIOD_TO, DUE_DATE = date(2025, 6, 1), date(2025, 6, 30), date(2025, 7, 15)
WORK_DATES = [  # the first 20 weekdays of June 2025 (2 to 27 June)
    PERIOD_FROM + timedelta(days=n)
    for n in range(30)
    if (PERIOD_FROM + timedelta(days=n)).weekday() < 5
][:20]
TARGET = 0.2
SCENARIO = "compensation_run"

# (first call, dismissal, meals): a dismissal or meal earlier than the call is the next day.
DAYS = {
    "standard": ("07:00", "15:30", [["12:30", "13:00"]]),  # 8.0 h
    "overtime": ("07:00", "18:12", [["12:30", "13:00"]]),  # 10.7 h: 2 h at 1.5x, 0.7 h at 2x
    "late_meal": ("07:00", "16:10", [["13:40", "14:10"]]),  # meal 40 min late: 2 half hours
    "long": ("06:00", "19:30", [["11:30", "12:00"]]),  # 13.0 h, second meal 1.5 h late
    "overnight": ("18:00", "03:00", [["23:30", "00:00"]]),  # 8.5 h, past midnight
}
# Of every 20 days: 12 standard, 4 overtime, 2 late meal, 1 long, 1 overnight.
DAY_MIX = ["standard"] * 12 + ["overtime"] * 4 + ["late_meal"] * 2 + ["long", "overnight"]
# Of every 20 engagements: (classification, rate unit, rates cycled through).
DAY_RATES = ["1150.00", "1204.00", "1204.00", "1250.00", "1500.00", "1800.00", "2500.00"]
CASTING = (
    [("day_performer", "day", DAY_RATES)] * 16
    + [("weekly_performer", "week", ["4180.00", "4500.00", "5200.00"])] * 2
    + [("background_actor", "day", ["216.00", "230.00", "250.00"])] * 2
)
TIMECARD_COPY = (
    "COPY compensation_timecard (engagement_id, date, first_call, dismissal, meals, rest_start, "
    "episode, elapsed_hours, work_hours) FROM STDIN"
)


def _hours(pattern: str) -> tuple[Decimal, Decimal]:
    """elapsed_hours and work_hours of a day pattern, as services._fill_hours computes them."""
    from compensation.rules.workday import WorkDay

    call, dismissal, meals = DAYS[pattern]
    day = WorkDay.build(
        WORK_DATES[0],
        clock.fromisoformat(call),
        clock.fromisoformat(dismissal),
        meals=[(clock.fromisoformat(a), clock.fromisoformat(b)) for a, b in meals],
    )
    return day.elapsed_hours, day.work_hours


def seed_production(studio, agreement, actor, title: str, n: int, offset: int):
    """A production with `n` engagements of the casting mix and 20 timecards each."""
    import json

    from django.db import connection, transaction

    from core.audit import acting_as
    from tests import factories as f

    with acting_as(actor):
        production = f.ProductionFactory(studio=studio, title=title)
        f.ProductionAgreementFactory(production=production, agreement=agreement)
    people = common.bulk_people(studio, actor, range(offset, offset + n), "CR")

    def terms(i, person):
        classification, unit, rates = CASTING[i % len(CASTING)]
        rate = Decimal(rates[(i // len(CASTING)) % len(rates)])
        return person.pk, production.pk, classification, rate, unit

    engagements = common.bulk_engagements(
        actor, agreement, WORK_DATES[0], (terms(i, person) for i, person in enumerate(people))
    )
    hours = {pattern: _hours(pattern) for pattern in DAYS}
    with transaction.atomic(), connection.cursor() as cursor:
        with cursor.cursor.copy(TIMECARD_COPY) as copy:
            for i, engagement in enumerate(engagements):
                for d, on in enumerate(WORK_DATES):
                    pattern = DAY_MIX[(i * 7 + d) % len(DAY_MIX)]
                    call, dismissal, meals = DAYS[pattern]
                    elapsed, work = hours[pattern]
                    copy.write_row(
                        (
                            engagement.pk,
                            on,
                            clock.fromisoformat(call),
                            clock.fromisoformat(dismissal),
                            json.dumps(meals),
                            None,
                            "",
                            elapsed,
                            work,
                        )
                    )
    return production


def build_world():
    from core.audit import acting_as, system_user
    from tests import factories as f

    actor = system_user()
    agreement = f.agreement(AGREEMENT)
    with acting_as(actor):
        studio = f.StudioFactory(name="Bench Compensation Pictures", slug="bench-comp-pictures")
    start = time.perf_counter()
    production = seed_production(
        studio, agreement, actor, "Bench Compensation Production", ENGAGEMENTS, 0
    )
    warm = seed_production(
        studio, agreement, actor, "Bench Compensation Warm-up", WARM_ENGAGEMENTS, ENGAGEMENTS
    )
    log(
        f"data: {ENGAGEMENTS:,} engagements x {len(WORK_DATES)} timecards on one production "
        f"(+{WARM_ENGAGEMENTS} on a warm-up production), seeded in "
        f"{time.perf_counter() - start:.1f}s"
    )
    return actor, production, warm


def new_run(actor, production, status, error=""):
    return common.saved_run(
        production, actor, status, (PERIOD_FROM, PERIOD_TO, DUE_DATE), error=error
    )


def compute(run) -> tuple[list, int, float]:
    """`runs._compute(run)` with the line write intercepted: (lines, batch size, seconds)."""
    from django.db import transaction

    from compensation import runs

    captured = {}

    def capture(objs):
        captured.update(lines=list(objs), batch_size=runs.LINE_BATCH, kwargs={})

    with mock.patch.object(runs, "write_lines", capture):
        start = time.perf_counter()
        with transaction.atomic():
            runs._compute(run)
        seconds = time.perf_counter() - start
    assert not captured["kwargs"], captured["kwargs"]
    return captured["lines"], captured["batch_size"], seconds


def write(lines: list, batch_size: int) -> float:
    """The run's write path for `lines`, in one transaction; seconds."""
    from django.db import transaction

    from compensation import runs

    watch = Stopwatch()
    with watch.timing():
        with transaction.atomic():
            runs.write_lines(lines)
    return watch.seconds


def line_columns() -> list:
    from compensation.models import CompensationLine

    return [f for f in CompensationLine._meta.concrete_fields if not f.primary_key]


def copy_rows(lines: list, run_id: int) -> list[tuple]:
    """The rows of `lines` as Django sends them to the database, under run `run_id`."""
    from django.db import connection

    rows = []
    fields = line_columns()
    for line in lines:
        rows.append(
            tuple(
                run_id
                if f.attname == "run_id"
                else f.get_db_prep_save(getattr(line, f.attname), connection)
                for f in fields
            )
        )
    return rows


def copy(rows: list[tuple]) -> float:
    """COPY `rows` into the lines table in one transaction; seconds."""
    from django.db import connection, transaction

    from compensation.models import CompensationLine

    columns = ", ".join(f.column for f in line_columns())
    statement = f"COPY {CompensationLine._meta.db_table} ({columns}) FROM STDIN"
    watch = Stopwatch()
    with watch.timing():
        with transaction.atomic(), connection.cursor() as cursor:
            with cursor.cursor.copy(statement) as out:
                for row in rows:
                    out.write_row(row)
    return watch.seconds


def totals(run) -> tuple[int, Decimal]:
    from django.db.models import Count, Sum

    from compensation.models import CompensationLine

    got = CompensationLine.objects.filter(run=run).aggregate(n=Count("id"), amount=Sum("amount"))
    return got["n"], got["amount"]


def repetition(actor, production) -> dict:
    """Compute, write and COPY one run of `production`; the run is left computed."""
    from compensation.models import CompensationRun

    run = new_run(actor, production, CompensationRun.Status.RUNNING)
    lines, batch_size, compute_seconds = compute(run)
    write_seconds = write(lines, batch_size)
    common.set_run_status(run, actor, CompensationRun.Status.COMPUTED)
    reference = new_run(
        actor,
        production,
        CompensationRun.Status.FAILED,
        error=f"bench: COPY reference of the lines of run #{run.pk}, not a computation",
    )
    rows = copy_rows(lines, reference.pk)
    copy_seconds = copy(rows)
    written, copied = totals(run), totals(reference)
    assert written == copied == (len(lines), written[1]), (written, copied, len(lines))
    return {
        "run": run,
        "lines": len(lines),
        "engagements": run.engagements,
        "exceptions": len(run.exceptions),
        "batch_size": batch_size,
        "compute": compute_seconds,
        "write": write_seconds,
        "copy": copy_seconds,
    }


def approve(actor, run) -> tuple[dict, float]:
    from compensation import runs
    from compensation.models import RunPosting
    from ledger.models import Payable, Posting

    common.acknowledge_review(actor, run)  # not timed, as studio staff do it first
    before = (Posting.objects.count(), Payable.objects.count())
    start = time.perf_counter()
    runs.run_approve(actor=actor, run=run)
    seconds = time.perf_counter() - start
    counts = {
        "transactions": RunPosting.objects.filter(run=run)
        .values("transaction_id")
        .distinct()
        .count(),
        "run_postings": RunPosting.objects.filter(run=run).count(),
        "postings": Posting.objects.count() - before[0],
        "payables": Payable.objects.count() - before[1],
    }
    return counts, seconds


def bench_run(actor, production, warm) -> tuple[list[Result], list[str]]:
    def describe(rep: int, r: dict) -> str:
        return (
            f"{SCENARIO} rep {rep + 1}/{REPS}: {r['engagements']:,} engagements, "
            f"{r['lines']:,} lines ({r['exceptions']} exceptions); compute {r['compute']:.2f}s, "
            f"write (batch {r['batch_size']}) {r['write']:.2f}s, COPY {r['copy']:.2f}s"
        )

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
        f"{counts['run_postings']:,} run postings in {approve_seconds:.2f}s"
    )

    def rates(key):
        return [r["lines"] / r[key] for r in reps]

    compute_rates, write_rates, copy_rates = rates("compute"), rates("write"), rates("copy")
    both = [r["lines"] / (r["compute"] + r["write"]) for r in reps]
    reference = "psycopg COPY FROM STDIN of the same line rows into the same table, one txn"
    results = [
        Result(
            SCENARIO,
            "compute",
            median(compute_rates),
            "lines/s",
            reference,
            median(copy_rates),
            None,
            compute_rates,
            copy_rates,
        ),
        Result(
            SCENARIO,
            "write",
            median(write_rates),
            "lines/s",
            reference,
            median(copy_rates),
            TARGET,
            write_rates,
            copy_rates,
        ),
        Result(
            SCENARIO,
            "compute_and_write",
            median(both),
            "lines/s",
            reference,
            median(copy_rates),
            None,
            both,
            copy_rates,
        ),
        Result(
            SCENARIO,
            "approve",
            lines / approve_seconds,
            "lines/s",
            reference,
            median(copy_rates),
            None,
            [lines / approve_seconds],
            copy_rates,
        ),
    ]
    summary = [
        f"{ENGAGEMENTS:,} engagements x {len(WORK_DATES)} work days -> {lines:,} lines per run "
        f"({lines / ENGAGEMENTS:.1f} per engagement), median of {REPS}:",
        f"  compute {median([r['compute'] for r in reps]):.2f}s, "
        f"write {median([r['write'] for r in reps]):.2f}s, "
        f"COPY {median([r['copy'] for r in reps]):.2f}s; "
        f"write/COPY {median(write_rates) / median(copy_rates):.3f} (target >= {TARGET})",
        f"  approve (once) {approve_seconds:.2f}s: "
        f"{counts['transactions'] / approve_seconds:,.0f} transactions/s, "
        f"{counts['postings'] / approve_seconds:,.0f} postings/s",
    ]
    return results, summary


def main():
    name = setup_django()
    log(f"bench.compensation on database {name}, {REPS} repetitions")
    actor, production, warm = build_world()
    common.analyze()
    results, summary = bench_run(actor, production, warm)
    common.report(results)
    print()
    print("\n".join(summary))


if __name__ == "__main__":
    main()
