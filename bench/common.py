"""What every bench script shares: the bench database, timing, results.

Run as `python -m bench.common reset-db URL` to drop and recreate the bench database, or
`python -m bench.common reset-db URL TEMPLATE` to recreate it as a copy of the database TEMPLATE
(on the same server). `make bench` migrates one template database once, then gives every script
a fresh copy of it: each script builds its own world, and the world an earlier script built (its
studios, member numbers, journal) would collide with it. Only a database whose name starts with
`guild_ledger_bench` is ever dropped.
"""

import json
import math
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

RESULTS_PATH = Path(__file__).resolve().parent / "results.json"
BENCH_DB_PREFIX = "guild_ledger_bench"
# BENCH_SCALE (default 1) multiplies the size of every script's world, for a quick check that the
# whole bench runs (`make bench BENCH_SCALE=0.05`); the figures are those of full size only.
SCALE = float(os.environ.get("BENCH_SCALE", "1"))


def scaled(size: int, unit: int) -> int:
    """`size` times BENCH_SCALE, rounded up to whole `unit`s (the blocks a world is built of)."""
    return max(unit, math.ceil(size * SCALE / unit) * unit)


def reset_database(url: str, template: str | None = None) -> str:
    """Drop and recreate the database named by `url` (empty, or a copy of the database
    `template`, which nothing may be connected to); returns its name."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.startswith(BENCH_DB_PREFIX):
        raise SystemExit(f"refusing to drop {name!r}: bench databases start with {BENCH_DB_PREFIX}")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        if template is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        else:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            )
    return name


def setup_django():
    """Configure Django for a bench run; refuse anything but PostgreSQL."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("bench needs PostgreSQL: set DATABASE_URL (see `make bench`)")
    return settings.DATABASES["default"]["NAME"]


def analyze() -> None:
    """Refresh the planner's statistics, as autovacuum would on a live database: a fresh
    database's empty-table estimates give plans no running system would use."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def table_rows(tables: Iterable[str]) -> dict[str, int]:
    """{table: its row count}, counted once for the printout (not timed)."""
    from django.db import connection

    with connection.cursor() as cursor:
        out = {}
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {table}")
            out[table] = cursor.fetchone()[0]
        return out


def bulk_people(studio: Any, actor: Any, numbers: Iterable[int], ref_prefix: str) -> list:
    """One person registered by `studio` per number: "Bench Performer 00042", payroll ref
    "{ref_prefix}-00042"; created in bulk with `actor` on their history rows."""
    from core.audit import audited_bulk_create
    from ledger.models import Person

    people = [
        Person(
            legal_name=f"Bench Performer {i:05d}",
            payroll_ref=f"{ref_prefix}-{i:05d}",
            registered_by=studio,
        )
        for i in numbers
    ]
    return audited_bulk_create(Person, people, actor=actor, batch_size=2000)


def bulk_engagements(actor: Any, agreement: Any, start_date: date, terms: Iterable[tuple]) -> list:
    """One engagement under `agreement` from `start_date`, paid in USD, per (person id,
    production id, classification, rate amount, rate unit) of `terms`; created in bulk with
    `actor` on their history rows."""
    from core.audit import audited_bulk_create
    from ledger.models import Engagement

    engagements = [
        Engagement(
            person_id=person_id,
            production_id=production_id,
            agreement=agreement,
            classification=classification,
            rate_amount=rate_amount,
            rate_unit=rate_unit,
            rate_currency="USD",
            start_date=start_date,
        )
        for person_id, production_id, classification, rate_amount, rate_unit in terms
    ]
    return audited_bulk_create(Engagement, engagements, actor=actor, batch_size=2000)


def saved_run(
    production: Any,
    actor: Any,
    status: str,
    period: tuple[date, date, date],
    started_at: datetime | None = None,
    **fields: Any,
) -> Any:
    """A compensation run of `production` over `period` (first day, last day, due date) in
    `status`, started by `actor` (now, unless `started_at`) and saved with `actor` on its
    history row: a bench world's run, written as it stands (no run task, no validation)."""
    from django.utils import timezone

    from compensation.models import CompensationRun

    period_from, period_to, due_date = period
    run = CompensationRun(
        production=production,
        period_from=period_from,
        period_to=period_to,
        due_date=due_date,
        status=status,
        started_by=actor,
        started_at=started_at or timezone.now(),
        **fields,
    )
    run._history_user = actor
    run.save()
    return run


def set_run_status(run: Any, actor: Any, status: str) -> None:
    """Move a bench run to `status` (a computed one is finished now), `actor` on its history."""
    from django.utils import timezone

    run.status = status
    if status == run.Status.COMPUTED:
        run.finished_at = timezone.now()
    run._history_user = actor
    run.save()


def acknowledge_review(actor: Any, run: Any) -> int:
    """Every item of the run's review acknowledged with a note, as studio staff do before
    approving (not timed); how many."""
    from compensation import review
    from ledger.access import SYSTEM_SCOPE

    keys = review.missing(run)
    for key in keys:
        review.acknowledge(
            actor=actor,
            run=run,
            key=key,
            note="bench: acknowledged by the benchmark before approval",
            scope=SYSTEM_SCOPE,
        )
    return len(keys)


def run_repetitions(
    actor: Any,
    production: Any,
    warm: Any,
    *,
    reps: int,
    repetition: Callable[[Any, Any], dict],
    approve: Callable[[Any, Any], Any],
    describe: Callable[[int, dict], str],
) -> list[dict]:
    """A run bench's measured repetitions: one warm-up on `warm` (computed and approved, not
    counted: parameters loaded, every path run once), then `reps` repetitions on `production`,
    each superseding the one before as run_start does, each logged with `describe`."""
    from compensation.models import CompensationRun

    approve(actor, repetition(actor, warm)["run"])
    analyze()
    done: list[dict] = []
    for rep in range(reps):
        if done:
            set_run_status(done[-1]["run"], actor, CompensationRun.Status.SUPERSEDED)
        done.append(repetition(actor, production))
        log(describe(rep, done[-1]))
    return done


class Stopwatch:
    """Accumulates the wall time of the blocks it times."""

    def __init__(self):
        self.seconds = 0.0

    @contextmanager
    def timing(self):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds += time.perf_counter() - start


def median(values) -> float:
    return statistics.median(values)


@dataclass
class Result:
    scenario: str
    metric: str
    value: float
    unit: str
    reference: str
    reference_value: float
    target: float | None  # the least acceptable value / reference_value; None: reported only
    samples: list[float] | None = None
    reference_samples: list[float] | None = None

    @property
    def ratio(self) -> float:
        return self.value / self.reference_value if self.reference_value else 0.0

    def verdict(self) -> tuple[str, str]:
        """(the target as the table shows it, whether the ratio meets it): "-" without one."""
        if self.target is None:
            return "-", "-"
        return f">= {self.target:.2f}", "yes" if self.ratio >= self.target else "NO"

    def as_json(self) -> dict:
        return {
            "scenario": self.scenario,
            "metric": self.metric,
            "value": round(self.value, 1),
            "unit": self.unit,
            "reference": self.reference,
            "reference_value": round(self.reference_value, 1),
            "ratio": round(self.ratio, 4),
            "target": self.target,
        }


class Ceiling(Result):
    """A row whose ratio must not exceed its target (a time: less is better)."""

    def verdict(self) -> tuple[str, str]:
        if self.target is None:
            return "-", "-"
        return f"<= {self.target:.2f}", "yes" if self.ratio <= self.target else "NO"

    def as_json(self) -> dict:
        row = super().as_json()
        row["target"] = None if self.target is None else f"<= {self.target}"
        return row


def write_results(results: list[Result], path: Path = RESULTS_PATH) -> None:
    """Merge `results` into the JSON list at `path` (same scenario and metric: replaced), so
    several bench scripts can write one file."""
    rows = json.loads(path.read_text()) if path.exists() else []
    fresh = [r.as_json() for r in results]
    keys = {(r["scenario"], r["metric"]) for r in fresh}
    rows = [r for r in rows if (r["scenario"], r["metric"]) not in keys] + fresh
    path.write_text(json.dumps(rows, indent=2) + "\n")


def print_columns(header: list[str], lines: list[list]) -> None:
    """`lines` under `header`, each column as wide as its widest cell."""
    widths = [max(len(str(row[i])) for row in [header, *lines]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *lines]:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)))


def _figure(value: float) -> str:
    """Large figures whole; small ones (statements per call) to a tenth."""
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def print_table(results: list[Result]) -> None:
    header = ["scenario", "metric", "value", "reference", "ratio", "target", "ok"]
    lines = []
    for r in results:
        target, ok = r.verdict()
        measured = bool(r.reference_value)  # a count (statements per call) has no reference
        lines.append(
            [
                r.scenario,
                r.metric,
                f"{_figure(r.value)} {r.unit}",
                f"{_figure(r.reference_value)} {r.unit} ({r.reference})"
                if measured
                else r.reference,
                f"{r.ratio:.3f}" if measured else "-",
                target,
                ok,
            ]
        )
    print_columns(header, lines)
    repeated = [r for r in results if r.samples or r.reference_samples]
    if repeated:
        print("\nmedians of these repetitions (value | reference):")
    for r in repeated:
        samples = ", ".join(_figure(v) for v in r.samples or [])
        reference = ", ".join(_figure(v) for v in r.reference_samples or [])
        print(f"  {r.scenario}/{r.metric}: {samples} | {reference}")


def report(results: list[Result]) -> None:
    """Merge `results` into results.json and print them as a table."""
    write_results(results)
    print_table(results)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str]) -> None:
    if len(argv) in (2, 3) and argv[0] == "reset-db":
        template = argv[2] if len(argv) == 3 else None
        name = reset_database(argv[1], template)
        print(f"recreated database {name}" + (f" from {template}" if template else ""))
        return
    raise SystemExit(
        "usage: python -m bench.common reset-db postgres://.../guild_ledger_bench [TEMPLATE]"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
