"""What every bench script shares: the bench database, timing, results.

Run as `python -m bench.common reset-db URL` to drop and recreate the bench database (the Makefile
does this before migrating). Only a database whose name starts with `guild_ledger_bench` is ever
dropped.
"""

import json
import os
import statistics
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

RESULTS_PATH = Path(__file__).resolve().parent / "results.json"
BENCH_DB_PREFIX = "guild_ledger_bench"


def reset_database(url: str) -> str:
    """Drop and recreate the database named by `url`; returns its name."""
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
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
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


def write_results(results: list[Result], path: Path = RESULTS_PATH) -> None:
    """Merge `results` into the JSON list at `path` (same scenario and metric: replaced), so
    several bench scripts can write one file."""
    rows = json.loads(path.read_text()) if path.exists() else []
    fresh = [r.as_json() for r in results]
    keys = {(r["scenario"], r["metric"]) for r in fresh}
    rows = [r for r in rows if (r["scenario"], r["metric"]) not in keys] + fresh
    path.write_text(json.dumps(rows, indent=2) + "\n")


def print_table(results: list[Result]) -> None:
    header = ["scenario", "metric", "value", "reference", "ratio", "target", "ok"]
    lines = []
    for r in results:
        ok = "-" if r.target is None else ("yes" if r.ratio >= r.target else "NO")
        target = "-" if r.target is None else f">= {r.target:.2f}"
        lines.append(
            [
                r.scenario,
                r.metric,
                f"{r.value:,.0f} {r.unit}",
                f"{r.reference_value:,.0f} {r.unit} ({r.reference})",
                f"{r.ratio:.3f}",
                target,
                ok,
            ]
        )
    widths = [max(len(str(row[i])) for row in [header, *lines]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *lines]:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)))
    repeated = [r for r in results if r.samples or r.reference_samples]
    if repeated:
        print("\nmedians of these repetitions (value | reference):")
    for r in repeated:
        samples = ", ".join(f"{v:,.0f}" for v in r.samples or [])
        reference = ", ".join(f"{v:,.0f}" for v in r.reference_samples or [])
        print(f"  {r.scenario}/{r.metric}: {samples} | {reference}")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str]) -> None:
    if len(argv) == 2 and argv[0] == "reset-db":
        print(f"recreated database {reset_database(argv[1])}")
        return
    raise SystemExit("usage: python -m bench.common reset-db postgres://.../guild_ledger_bench")


if __name__ == "__main__":
    main(sys.argv[1:])
