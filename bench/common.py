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
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
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
