"""Admin list pages at volume: the p50 and p95 render time of the five busiest changelists,
against the raw SQL each page needs, measured in the same run on the same database.

Run with `make bench` (fresh `guild_ledger_bench` database, migrated), or by hand:
`DATABASE_URL=postgres://postgres@127.0.0.1:5432/guild_ledger_bench_admin python -m bench.admin`
(`python bench/admin.py` works too). Results are merged into bench/results.json and printed as a
table. `BENCH_REPS` (default 30) sets how often each page is requested; `BENCH_ADMIN_REUSE=1`
reuses the data an earlier run left on the same database instead of generating it again.

Data: bench/reports.py's studio generator (COPY, one valid hash chain) with its own studio
("Bench Admin Pictures": 20 productions, 100,000 people and engagements, 100,000 consents,
500,000 AI uses, about 240,000 compensation lines, 100,000 payables and about 200,000 journal
transactions), then the journal is topped up with two-leg adjustment transactions on the same
chain until it holds 1,000,000 postings. The database is ANALYZEd, as autovacuum would keep a
live one.

Pages: the journal's transactions (1,000,000 postings behind them), payables (owed, paid and due
summed from postings per row), consents (a status per row from its events), the AI-use register
(violations first) and compensation lines: the tables that grow with every run, payment and use,
and the lists business affairs and payroll staff keep open. Each is requested through the Django
test client (the whole middleware, admin and template stack in this process; no network or
gunicorn), logged in as the user who uses it most (a superuser for the journal, studio staff
elsewhere), first page and a variant (a filter, or a later page).

Reference, "SQL": the page's paginator query (the capped count) and its page query, taken from
the queries the page ran (CaptureQueriesContext) and replayed on one cursor with the rows
fetched. Target: p95 page <= 10 x p95 SQL; the page also renders 50 to 100 rows of HTML, which
no SQL reference includes, so the absolute p95 is printed beside it.
"""

import os
import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

if __package__ in (None, ""):
    # Run as a file (`python bench/admin.py`): make the project importable, as `-m` does.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402
from bench.common import Result, log, scaled, setup_django, write_results  # noqa: E402

REPS = int(os.environ.get("BENCH_REPS", "30"))
WARMUP = 2
SCENARIO = "admin_changelist"
TARGET = 10.0
POSTINGS_WANTED = scaled(1_000_000, 10_000)
CHUNK = 5000
STUDIO_NAME = "Bench Admin Pictures"


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    query: str
    who: str  # "superuser" or "studio_staff"
    table: str  # the listed table, to find the page's own queries among the others


def pages(world) -> list[Page]:
    production = world["production"].pk
    return [
        Page("journal", "ledger/journaltransaction/", "", "superuser", "ledger_journaltransaction"),
        Page(
            "journal_payments_p3",
            "ledger/journaltransaction/",
            "kind__exact=payment&p=3",
            "superuser",
            "ledger_journaltransaction",
        ),
        Page("payables", "ledger/payable/", "", "studio_staff", "ledger_payable"),
        Page("payables_p40", "ledger/payable/", "p=40", "studio_staff", "ledger_payable"),
        Page("consents", "consent/consent/", "", "studio_staff", "consent_consent"),
        Page(
            "consents_production",
            "consent/consent/",
            f"production__id__exact={production}",
            "studio_staff",
            "consent_consent",
        ),
        Page("ai_uses", "consent/aiuse/", "", "studio_staff", "consent_aiuse"),
        Page(
            "ai_uses_violations",
            "consent/aiuse/",
            "status=violation",
            "studio_staff",
            "consent_aiuse",
        ),
        Page(
            "lines",
            "compensation/compensationline/",
            "",
            "studio_staff",
            "compensation_compensationline",
        ),
        Page(
            "lines_held",
            "compensation/compensationline/",
            "status__exact=held",
            "studio_staff",
            "compensation_compensationline",
        ),
    ]


# --- the data -------------------------------------------------------------------------------


def build_world() -> dict:
    from bench.reports import Spec, seed_studio
    from core.audit import acting_as, system_user
    from ledger.models import StudioStaff
    from tests.factories import UserFactory

    system = system_user()
    start = time.perf_counter()
    studio, production = existing_world()
    if studio is None:
        spec = Spec(STUDIO_NAME, "bench-admin", "BA", 20, scaled(100_000, 2000), 300)
        built = seed_studio(spec, system)
        studio, production = built.studio, built.productions[0]
        log(f"studio seeded in {time.perf_counter() - start:.1f}s: {built.counts}")
    else:
        log(f"reusing {studio.name} and its journal (BENCH_ADMIN_REUSE=1)")
    topped = top_up_journal(studio, system)
    log(f"journal topped up with {topped:,} transactions")
    with acting_as(system):
        root = UserFactory(username="bench-admin-root", is_superuser=True)
        staff = UserFactory(username="bench-admin-staff")
        StudioStaff.objects.get_or_create(user=staff, studio=studio)
    return {
        "studio": studio,
        "production": production,
        "superuser": root,
        "studio_staff": staff,
        "seconds": time.perf_counter() - start,
    }


def existing_world():
    """With BENCH_ADMIN_REUSE=1, the studio an earlier run generated on this database (the
    generation is most of a run's time); else (None, None) and a fresh one is generated."""
    from ledger.models import Production, Studio

    if os.environ.get("BENCH_ADMIN_REUSE") != "1":
        return None, None
    studio = Studio.objects.filter(name=STUDIO_NAME).first()
    if studio is None:
        return None, None
    return studio, Production.objects.filter(studio=studio).order_by("id").first()


def top_up_journal(studio, system) -> int:
    """Adjustment transactions (expense against payroll clearing, two legs, no payable) on
    the hash chain, until the journal holds POSTINGS_WANTED postings."""
    from django.db import connection, transaction
    from django.utils import timezone

    from bench.reports import HEADER_COPY, POSTING_COPY, copy_into
    from ledger.journal import chain
    from ledger.journal.services import CHAIN_LOCK_KEY, chain_head
    from ledger.models import Account, Posting

    pairs = []
    accounts = Account.objects.filter(studio=studio, person__isnull=True)
    by_production = {}
    for account in accounts:
        by_production.setdefault(account.production_id, {})[account.purpose] = account.pk
    for ids in by_production.values():
        expense = ids.get(Account.Purpose.COMPENSATION_EXPENSE)
        clearing = ids.get(Account.Purpose.PAYROLL_CLEARING)
        if expense and clearing:
            pairs.append((expense, clearing))
    missing = POSTINGS_WANTED - Posting.objects.count()
    wanted = max(0, missing // 2)
    made = 0
    while made < wanted:
        n = min(CHUNK, wanted - made)
        with transaction.atomic(), connection.cursor() as cursor:
            raw = cursor.cursor
            raw.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
            seq, prev_hash = chain_head()
            now = timezone.now()
            postings, headers = [], []
            for k in range(made, made + n):
                expense, clearing = pairs[k % len(pairs)]
                amount = Decimal(100 + k % 900) + Decimal("0.25")
                tid, seq = uuid.uuid4(), seq + 1
                hashed = [
                    {
                        "account_id": account_id,
                        "payable_id": None,
                        "amount": value,
                        "currency": "USD",
                        "effect": "",
                    }
                    for account_id, value in ((expense, amount), (clearing, -amount))
                ]
                header = {
                    "id": tid,
                    "seq": seq,
                    "kind": "adjustment",
                    "studio_id": studio.pk,
                    "source_type": "bench_adjustment",
                    "source_id": f"BA-ADJ-{k}",
                    "description": f"Accrual adjustment {k}",
                    "effective_date": date(2025, 7, 1 + k % 28),
                    "created_at": now,
                    "actor_id": system.pk,
                    "reverses_id": None,
                }
                digest = chain.link_hash(prev_hash, header, hashed)
                postings += [(tid, h["account_id"], None, "", h["amount"], "USD") for h in hashed]
                headers.append((*header.values(), prev_hash, digest))
                prev_hash = digest
            copy_into(raw, "ledger_posting", POSTING_COPY, postings)
            copy_into(raw, "ledger_journaltransaction", HEADER_COPY, headers)
        made += n
    return made


PRINTED_TABLES = [
    "ledger_posting",
    "ledger_journaltransaction",
    "ledger_payable",
    "consent_consent",
    "consent_aiuse",
    "compensation_compensationline",
]


# --- the measurement ------------------------------------------------------------------------


def client_for(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def page_sql(client, page: Page) -> tuple[list[str], int]:
    """The paginator and page queries the page ran (replayable SQL), and how many it ran."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url(page))
    assert response.status_code == 200, (page.name, response.status_code)
    sqls = [q["sql"] for q in captured.captured_queries]
    table = f'FROM "{page.table}"'
    count = [s for s in sqls if "COUNT(" in s and table in s]
    rows = [s for s in sqls if "COUNT(" not in s and table in s]
    # A list that fits on one page is read whole, without LIMIT (a small BENCH_SCALE).
    listing = [s for s in rows if "LIMIT" in s] or [s for s in rows if "ORDER BY" in s]
    assert count and listing, (page.name, sqls)
    return [count[0], listing[0]], len(sqls)


def url(page: Page) -> str:
    return f"/admin/{page.path}" + (f"?{page.query}" if page.query else "")


def time_page(client, page: Page) -> float:
    start = time.perf_counter()
    response = client.get(url(page))
    response.content  # noqa: B018  (rendered in full)
    elapsed = time.perf_counter() - start
    assert response.status_code == 200
    return 1000 * elapsed


def time_sql(statements: list[str]) -> float:
    from django.db import connection

    start = time.perf_counter()
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
            cursor.fetchall()
    return 1000 * (time.perf_counter() - start)


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[-1]


def bench(world) -> tuple[list[Result], list[tuple]]:
    clients = {who: client_for(world[who]) for who in ("superuser", "studio_staff")}
    results, details = [], []
    for page in pages(world):
        client = clients[page.who]
        statements, queries = page_sql(client, page)
        for _ in range(WARMUP):
            time_page(client, page)
            time_sql(statements)
        page_ms, sql_ms = [], []
        for _ in range(REPS):  # back to back, so that both see the same load
            page_ms.append(time_page(client, page))
            sql_ms.append(time_sql(statements))
        details.append((page, queries, statements))
        results.append(
            common.Ceiling(
                SCENARIO,
                f"{page.name}_p95",
                p95(page_ms),
                "ms",
                "SQL p95",
                p95(sql_ms),
                TARGET,
                samples=sorted(page_ms),
                reference_samples=sorted(sql_ms),
            )
        )
        results.append(
            common.Ceiling(
                SCENARIO,
                f"{page.name}_p50",
                statistics.median(page_ms),
                "ms",
                "SQL p50",
                statistics.median(sql_ms),
                None,
            )
        )
        log(f"{page.name}: p95 {p95(page_ms):.1f} ms, SQL p95 {p95(sql_ms):.1f} ms")
    return results, details


def print_rows(results: list[Result]) -> None:
    header = ["page", "metric", "page ms", "SQL ms", "ratio", "target", "ok"]
    lines = []
    for r in results:
        name, _, metric = r.metric.rpartition("_")
        if r.target is None:
            ok, target = "-", "-"
        else:
            ok, target = ("yes" if r.ratio <= r.target else "NO"), f"<= {r.target:.0f}"
        lines.append(
            [name, metric, f"{r.value:.1f}", f"{r.reference_value:.2f}", f"{r.ratio:.1f}"]
            + [target, ok]
        )
    common.print_columns(header, lines)


def main():
    name = setup_django()
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client's host is allowed; mail stays in memory
    log(f"bench.admin on database {name}, {REPS} repetitions per page")
    world = build_world()
    start = time.perf_counter()
    common.analyze()
    analyze_seconds = time.perf_counter() - start
    results, details = bench(world)
    write_results(results)
    print_rows(results)
    print()
    rows = common.table_rows(PRINTED_TABLES)
    print(f"database: {', '.join(f'{t} {n:,}' for t, n in rows.items())}")
    print(f"generated in {world['seconds']:.1f}s (+ ANALYZE {analyze_seconds:.1f}s)")
    print("\nqueries per page, and the SQL replayed as its reference:")
    for page, queries, statements in details:
        print(f"  {page.name} ({page.who}, /admin/{url(page)[7:]}): {queries} queries")
        for statement in statements:
            print(f"      {statement[:160]}{'…' if len(statement) > 160 else ''}")


if __name__ == "__main__":
    main()
