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

Two more pages, scenario "admin_pages", in the same run on the same data, as the studio's staff:
- dashboard: the admin index, `/admin/`, with the staff dashboard (reports/dashboard.py) of the
  studio's 20 productions: its table and its charts.
- run_review: the review page of a computed run (compensation/review.py), a rerun of the June pay
  of the studio's fifth production (about 11,700 lines, 5,000 people): totals per person and per
  fund, the differences from the approved June run it follows (about 120 changed amounts, 30
  overtime lines removed, 150 meal penalties added), the crew's rate_missing exceptions (200) and
  the tier T and D lines needing confirmation (650, in two items). Its lines are INSERT ...
  SELECTed from the approved run's.
Their reference is every query the page ran, replayed the same way, but for the session and
authentication lookups (the request's user and its studios) and savepoints: the raw SQL for the
same figures. Same target.
"""

import math
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
PAGES_SCENARIO = "admin_pages"
TARGET = 10.0
POSTINGS_WANTED = scaled(1_000_000, 10_000)
CHUNK = 5000
STUDIO_NAME = "Bench Admin Pictures"
REVIEW_PRODUCTION = 4  # bench.reports: one approved June run, rate_missing exceptions for its crew
# Queries of the request, not of the page's figures: its session, its user and the user's scope.
NOT_THE_PAGES = (
    'FROM "django_session"',
    'FROM "auth_',
    'FROM "ledger_studiostaff"',
    'FROM "ledger_guildstaff"',
)


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    query: str
    who: str  # "superuser" or "studio_staff"
    # The listed table, to find the page's own count and page queries among the others; None for
    # a page whose reference is every query it runs (NOT_THE_PAGES aside).
    table: str | None


def pages(world) -> list[Page]:
    from ledger.journal.admin import PayableAdmin
    from ledger.models import Payable

    production = world["production"].pk
    # The 40th page of payables, or the last one of a smaller world (BENCH_SCALE).
    payables = Payable.objects.filter(studio=world["studio"]).count()
    later = max(1, min(40, math.ceil(payables / PayableAdmin.list_per_page)))
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
        Page("payables_p40", "ledger/payable/", f"p={later}", "studio_staff", "ledger_payable"),
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


def other_pages(world) -> list[Page]:
    return [
        Page("dashboard", "", "", "studio_staff", None),
        Page(
            "run_review",
            f"compensation/compensationrun/{world['run'].pk}/review/",
            "",
            "studio_staff",
            None,
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
    run = computed_run(studio, system)
    with acting_as(system):
        root = UserFactory(username="bench-admin-root", is_superuser=True)
        staff = UserFactory(username="bench-admin-staff")
        StudioStaff.objects.get_or_create(user=staff, studio=studio)
    return {
        "studio": studio,
        "production": production,
        "superuser": root,
        "studio_staff": staff,
        "run": run,
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


RERUN_LINES = """
INSERT INTO compensation_compensationline (kind, status, rule, description, date, episode,
    quantity, unit, rate, amount, currency, fund, tier, flags, parameters, covered, ai_use_id,
    engagement_id, run_id)
SELECT kind, status, rule, description, date, episode, quantity, unit, rate,
    CASE WHEN kind = 'pay' AND engagement_id %% 50 = 0 THEN amount + 125 ELSE amount END,
    currency, fund, tier,
    CASE WHEN tier IN ('T', 'D') THEN flags || '["needs_confirmation"]'::jsonb ELSE flags END,
    parameters, covered, ai_use_id, engagement_id, %(run)s
FROM compensation_compensationline
WHERE run_id = %(approved)s AND NOT (rule = 'sag.pay.overtime' AND engagement_id %% 40 = 0)
UNION ALL
SELECT 'pay', 'payable', 'sag.pay.meal_penalty', 'Meal late', date + 1, '', 1, 'each', 25, 25,
    currency, '', 'T', '["needs_confirmation"]'::jsonb, parameters, true, NULL, engagement_id,
    %(run)s
FROM compensation_compensationline
WHERE run_id = %(approved)s AND rule = 'sag.pay.day' AND engagement_id %% 40 = 1
"""


def computed_run(studio, system):
    """A rerun of the June pay of the studio's REVIEW_PRODUCTION, computed and awaiting
    approval: the approved run's lines (INSERT ... SELECT) with some amounts changed, overtime
    removed and meal penalties added, its tier T and D lines flagged needs_confirmation, and
    the approved run's exceptions. With BENCH_ADMIN_REUSE=1, the one an earlier run made."""
    from django.db import connection, transaction
    from django.utils import timezone

    from bench.reports import DUE_DATE, PERIOD_FROM, PERIOD_TO
    from compensation.models import CompensationRun
    from ledger.models import Production

    status = CompensationRun.Status
    runs = CompensationRun.objects.filter(production__studio=studio)
    existing = runs.filter(status=status.COMPUTED).order_by("-pk").first()
    if existing is not None:
        return existing
    production = Production.objects.filter(studio=studio).order_by("id")[REVIEW_PRODUCTION]
    approved = (
        runs.filter(production=production, status=status.APPROVED, period_from=PERIOD_FROM)
        .order_by("-pk")
        .first()
    )
    assert approved is not None, "bench.reports approves a June run of every production"
    with transaction.atomic():
        now = timezone.now()
        run = common.saved_run(
            production,
            system,
            status.COMPUTED,
            (PERIOD_FROM, PERIOD_TO, DUE_DATE),
            started_at=now,
            rules_version="c" * 64,
            exceptions=approved.exceptions,
            engagements=approved.engagements,
            finished_at=now,
        )
        with connection.cursor() as cursor:
            cursor.execute(RERUN_LINES, {"run": run.pk, "approved": approved.pk})
            log(f"run #{run.pk} computed with {cursor.rowcount:,} lines, after #{approved.pk}")
    return run


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
    """The queries of the page's figures (replayable SQL): a changelist's paginator and page
    queries, or every query but the request's own; and how many queries the page ran."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url(page))
    assert response.status_code == 200, (page.name, response.status_code)
    sqls = [q["sql"] for q in captured.captured_queries]
    if page.table is None:
        statements = [s for s in sqls if not s.startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]
        statements = [s for s in statements if not any(t in s for t in NOT_THE_PAGES)]
        assert statements, (page.name, sqls)
        return statements, len(sqls)
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


def bench(world, measured: list[Page], scenario: str) -> tuple[list[Result], list[tuple]]:
    clients = {who: client_for(world[who]) for who in ("superuser", "studio_staff")}
    results, details = [], []
    for page in measured:
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
                scenario,
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
                scenario,
                f"{page.name}_p50",
                statistics.median(page_ms),
                "ms",
                "SQL p50",
                statistics.median(sql_ms),
                None,
            )
        )
        log(
            f"{page.name}: p95 {p95(page_ms):.1f} ms, SQL p95 {p95(sql_ms):.1f} ms, "
            f"{queries} queries ({len(statements)} replayed)"
        )
    return results, details


def measure(world) -> tuple[list[Result], list[tuple]]:
    """The changelists, then the dashboard and the run's review, on the same data."""
    results, details = bench(world, pages(world), SCENARIO)
    more, more_details = bench(world, other_pages(world), PAGES_SCENARIO)
    return results + more, details + more_details


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
    results, details = measure(world)
    write_results(results)
    print_rows(results)
    print()
    rows = common.table_rows(PRINTED_TABLES)
    print(f"database: {', '.join(f'{t} {n:,}' for t, n in rows.items())}")
    print(f"generated in {world['seconds']:.1f}s (+ ANALYZE {analyze_seconds:.1f}s)")
    print("\nqueries per page, and the SQL replayed as its reference:")
    for page, queries, statements in details:
        replayed = f", {len(statements)} replayed" if page.table is None else ""
        print(f"  {page.name} ({page.who}, {url(page)}): {queries} queries{replayed}")
        for statement in statements:
            print(f"      {statement[:160]}{'…' if len(statement) > 160 else ''}")


if __name__ == "__main__":
    main()
