"""Ledger benchmarks against PostgreSQL: posting through the journal service, and paging the
payroll export, each against the database's own bulk path measured in the same run.

Run with `make bench` (fresh `guild_ledger_bench` database, migrated), or by hand:
`DATABASE_URL=postgres://postgres@127.0.0.1:5432/guild_ledger_bench python -m bench.ledger`.
Results are merged into bench/results.json and printed as a table. `BENCH_REPS` (default 5)
sets the repetitions; every figure is the median over them, and each repetition times the
service and then its reference back to back, so both see the same load. The data (one studio,
2 productions, 20 people, 40 engagements) is built with tests.factories; the database is
ANALYZEd after the warm-up and again before the export, as autovacuum would keep a live one.
In all, ~50,000 postings, ~16,700 transactions and ~27,000 payables; the run ends by verifying
the hash chain over all of them.

ledger_posting
    Service: `journal_post_many` posting batches of 500 obligation entries of 2, 3 or 4 legs
    (3 on average; each entry carries the person's payable and, with 3 or 4 legs, the P&H fund's
    payable of its contribution, as a run's approval posts them), 3 batches per repetition, ~4,500
    postings. Timed: the call, i.e. Python balance checks, the chain lock, hashing, both bulk
    inserts and the commit (where the deferred balance trigger runs). Not timed: building the
    entries and inserting the payables they name. Also reported, with no target:
    `payable_create` called in a loop (300 calls, 2 or 4 legs each: the person's payable, and
    for every second call a fund's), which validates and saves the payables and resolves the
    accounts itself.
    Reference: the same rows, with new transaction ids, the next seqs and correctly chained
    hashes (and cloned payables), written by psycopg `COPY ... FROM STDIN` into the same tables,
    with the same triggers and indexes: postings then headers, one database transaction per 500
    entries, commit included. Preparing those rows (hashes included) is not timed, so the
    journal stays one valid chain.
    Target: service (batch) postings/s >= 25% of the COPY rate.

payables_export
    Service: `GET /api/v1/payables/?page_size=500` paged through its cursor `next` links with the
    Django test client (full middleware, API-key auth, scoping, serializer, JSON rendering;
    the client does not parse the JSON). Rows: every open payable of the bench studio, to people
    and to the fund (~27,000).
    Reference: `COPY (SELECT ...) TO STDOUT` of the columns the list reads
    (`ledger.payroll.rows.PAYABLE_VALUES`: payable, fund, person id, names and payroll ref,
    production id and title, engagement, agreement code, rule, description, owed, paid, due,
    currency, fringes as JSON text, dates) for the same rows, built from the same selector
    (`open_payables`) so the filter and the owed/paid/due sums are identical; output read whole.
    Target: API rows/s >= 30% of the COPY rate.
"""

import os
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from bench import common
from bench.common import Result, Stopwatch, log, median, setup_django

REPS = int(os.environ.get("BENCH_REPS", "5"))
BATCH_ENTRIES = 500
BATCHES_PER_REP = 3
LOOP_CALLS = 300
PEOPLE = 20
PRODUCTIONS = 2
FUND = "sag-aftra-health"
PERIOD_FROM = date(2025, 6, 2)


@dataclass
class Accounts:
    expense: object
    fringe: object
    fund: object
    payee: object


@dataclass
class World:
    actor: object
    studio: object
    engagements: list
    accounts: dict  # engagement id -> Accounts
    api_key: str
    scope: object


def build_world() -> World:
    from core.audit import acting_as
    from ledger import access
    from ledger.journal.services import account_for
    from ledger.models import Account, Engagement
    from tests import factories as f

    actor = f.UserFactory(username="bench-actor")
    with acting_as(actor):
        studio = f.StudioFactory(name="Bench Pictures", slug="bench-pictures")
        productions = [
            f.ProductionFactory(studio=studio, title=f"Bench Production {n}")
            for n in range(PRODUCTIONS)
        ]
        people = [f.PersonFactory(registered_by=studio) for _ in range(PEOPLE)]
        for production in productions:
            for person in people:
                f.EngagementFactory(person=person, production=production)
    engagements = list(
        Engagement.objects.filter(production__studio=studio)
        .select_related("person", "production", "agreement")
        .order_by("id")
    )
    accounts = {}
    for e in engagements:
        own = {"studio_id": studio.pk, "currency": "USD", "production_id": e.production_id}
        accounts[e.pk] = Accounts(
            expense=account_for(purpose=Account.Purpose.COMPENSATION_EXPENSE, **own),
            fringe=account_for(purpose=Account.Purpose.FRINGE_EXPENSE, **own),
            fund=account_for(purpose=Account.Purpose.UNION_FUND_PAYABLE, fund=FUND, **own),
            payee=account_for(
                purpose=Account.Purpose.PERSON_PAYABLE,
                person_id=e.person_id,
                engagement_id=e.pk,
                **own,
            ),
        )
    key, raw = f.payroll_key(studio, name="bench-payroll")
    return World(actor, studio, engagements, accounts, raw, access.scope_for(key.owner, key))


def _amounts(i: int) -> tuple[Decimal, Decimal]:
    amount = Decimal(1000 + (i * 37) % 5000) + Decimal("0.25")
    return amount, (amount * Decimal("0.185")).quantize(Decimal("0.01"))


# --- ledger_posting ------------------------------------------------------------------------


def make_entries(world: World, n: int, tag: str) -> list:
    """`n` obligation entries of 2, 3 or 4 legs, each with freshly inserted payables: the
    person's, and with 3 or 4 legs the fund's of its contribution."""
    from django.utils import timezone

    from ledger.journal.services import Entry, Leg
    from ledger.models import JournalTransaction, Payable

    now = timezone.now()
    payables, shapes = [], []
    for i in range(n):
        e = world.engagements[i % len(world.engagements)]
        amount, fringe = _amounts(i)
        shape = i % 3  # 0: 2 legs, 1: 3 legs (fringe inside the expense), 2: 4 legs
        shapes.append(shape)
        common = dict(
            studio_id=world.studio.pk,
            production_id=e.production_id,
            engagement_id=e.pk,
            agreement_id=e.agreement_id,
            currency="USD",
            period_from=PERIOD_FROM,
            period_to=PERIOD_FROM + timedelta(days=6),
            due_date=PERIOD_FROM + timedelta(days=14),
            source_type="bench",
            created_at=now,
        )
        payables.append(
            Payable(
                person_id=e.person_id,
                rule="bench.batch",
                description=f"Bench obligation {tag}-{i}",
                amount=amount,
                source_id=f"{tag}-{i}",
                **common,
            )
        )
        if shape:
            payables.append(
                Payable(
                    fund=FUND,
                    rule="bench",
                    description=f"Bench contribution {tag}-{i}",
                    amount=fringe,
                    source_id=f"{tag}-{i}:fund",
                    **common,
                )
            )
    payables = iter(Payable.objects.bulk_create(payables))
    entries = []
    for i, shape in enumerate(shapes):
        payable = next(payables)
        acc = world.accounts[payable.engagement_id]
        amount, fringe = _amounts(i)
        owed = Leg(acc.payee, -amount, payable, "owed")
        if shape == 0:
            legs = [Leg(acc.expense, amount), owed]
        else:
            to_fund = Leg(acc.fund, -fringe, next(payables), "owed")
            if shape == 1:
                legs = [Leg(acc.expense, amount + fringe), owed, to_fund]
            else:
                legs = [Leg(acc.expense, amount), owed, Leg(acc.fringe, fringe), to_fund]
        entries.append(
            Entry(
                kind=JournalTransaction.Kind.OBLIGATION,
                studio_id=world.studio.pk,
                source_type="bench",
                source_id=payable.source_id,
                description=payable.description,
                effective_date=payable.period_to,
                legs=legs,
            )
        )
    return entries


def post_batches(world: World, batches: list) -> tuple[int, float]:
    """Post each batch with journal_post_many; (postings, seconds)."""
    from ledger.journal.services import journal_post_many

    watch, postings = Stopwatch(), 0
    for entries in batches:
        with watch.timing():
            journal_post_many(actor=world.actor, entries=entries)
        postings += sum(len(entry.legs) for entry in entries)
    return postings, watch.seconds


def copy_rows(world: World, batches: list, tag: str) -> list:
    """The rows the service wrote for `batches`, as new transactions (new ids, the next seqs,
    chained hashes) naming cloned payables: [(posting rows, header rows)] per batch."""
    from django.utils import timezone

    from ledger.journal import chain
    from ledger.journal.services import chain_head
    from ledger.models import Payable

    seq, prev_hash = chain_head()
    now = timezone.now()
    out = []
    for b, entries in enumerate(batches):
        originals = {leg.payable.pk: leg.payable for e in entries for leg in e.legs if leg.payable}
        clones = []
        for p in originals.values():
            clone = Payable(**{f.attname: getattr(p, f.attname) for f in Payable._meta.fields})
            clone.pk, clone.source_id = None, f"{tag}-{b}-{p.source_id}"
            clones.append(clone)
        clones = Payable.objects.bulk_create(clones)
        clone_of = dict(zip(originals, (c.pk for c in clones), strict=True))
        posting_rows, header_rows = [], []
        for entry in entries:
            tid, seq = uuid.uuid4(), seq + 1
            legs = [
                {
                    "account_id": leg.account.pk,
                    "payable_id": clone_of[leg.payable.pk] if leg.payable else None,
                    "amount": leg.amount,
                    "currency": leg.account.currency,
                    "effect": leg.effect,
                }
                for leg in entry.legs
            ]
            header = {
                "id": tid,
                "seq": seq,
                "kind": entry.kind,
                "studio_id": entry.studio_id,
                "source_type": entry.source_type,
                "source_id": f"{tag}-{b}-{entry.source_id}",
                "description": entry.description,
                "effective_date": entry.effective_date,
                "created_at": now,
                "actor_id": world.actor.pk,
                "reverses_id": None,
            }
            digest = chain.link_hash(prev_hash, header, legs)
            posting_rows += [
                (tid, p["account_id"], p["payable_id"], p["effect"], p["amount"], p["currency"])
                for p in legs
            ]
            header_rows.append((*header.values(), prev_hash, digest))
            prev_hash = digest
        out.append((posting_rows, header_rows))
    return out


POSTING_COPY = (
    "COPY ledger_posting (transaction_id, account_id, payable_id, effect, amount, currency) "
    "FROM STDIN"
)
HEADER_COPY = (
    "COPY ledger_journaltransaction (id, seq, kind, studio_id, source_type, source_id, "
    "description, effective_date, created_at, actor_id, reverses_id, prev_hash, hash) FROM STDIN"
)


def copy_batches(prepared: list) -> tuple[int, float]:
    """COPY each batch's postings then headers in one database transaction; (postings, s)."""
    from django.db import connection, transaction

    watch, postings = Stopwatch(), 0
    for posting_rows, header_rows in prepared:
        with watch.timing():
            with transaction.atomic(), connection.cursor() as cursor:
                raw = cursor.cursor
                with raw.copy(POSTING_COPY) as copy:
                    for row in posting_rows:
                        copy.write_row(row)
                with raw.copy(HEADER_COPY) as copy:
                    for row in header_rows:
                        copy.write_row(row)
        postings += len(posting_rows)
    return postings, watch.seconds


def loop_payables(world: World, n: int, tag: str) -> tuple[int, float]:
    """`n` payable_create calls (2 or 4 legs each); (postings, seconds)."""
    from ledger.journal.services import Fringe, payable_create
    from ledger.models import Posting

    before = Posting.objects.count()
    watch = Stopwatch()
    with watch.timing():
        for i in range(n):
            e = world.engagements[i % len(world.engagements)]
            amount, fringe = _amounts(i)
            payable_create(
                actor=world.actor,
                production=e.production,
                person=e.person,
                engagement=e,
                rule="bench.loop",
                description=f"Bench payable {tag}-{i}",
                amount=amount,
                currency="USD",
                period_from=PERIOD_FROM,
                period_to=PERIOD_FROM + timedelta(days=6),
                due_date=PERIOD_FROM + timedelta(days=14),
                source_type="bench-loop",
                source_id=f"{tag}-{i}",
                fringes=[Fringe(FUND, "bench", fringe)] if i % 2 else [],
            )
    return Posting.objects.count() - before, watch.seconds


def bench_posting(world: World) -> list[Result]:
    batch_rates, copy_rates, loop_rates = [], [], []
    # Warm-up (not counted): accounts and statements cached, each path run once.
    loop_payables(world, 20, "warm")
    warm = [make_entries(world, 100, "warm-batch")]
    post_batches(world, warm)
    copy_batches(copy_rows(world, warm, "warm-copy"))
    common.analyze()
    for rep in range(REPS):
        batches = [
            make_entries(world, BATCH_ENTRIES, f"r{rep}b{b}") for b in range(BATCHES_PER_REP)
        ]
        postings, seconds = post_batches(world, batches)
        batch_rates.append(postings / seconds)
        prepared = copy_rows(world, batches, f"copy-r{rep}")
        copied, copy_seconds = copy_batches(prepared)
        assert copied == postings, (copied, postings)
        copy_rates.append(copied / copy_seconds)
        looped, loop_seconds = loop_payables(world, LOOP_CALLS, f"r{rep}")
        loop_rates.append(looped / loop_seconds)
        log(
            f"ledger_posting rep {rep + 1}/{REPS}: batch {postings} postings in {seconds:.2f}s, "
            f"COPY {copied} in {copy_seconds:.2f}s, loop {looped} in {loop_seconds:.2f}s"
        )
    reference = f"psycopg COPY FROM STDIN of the same rows, {BATCH_ENTRIES} entries per txn"
    return [
        Result(
            "ledger_posting",
            f"journal_post_many_batch{BATCH_ENTRIES}",
            median(batch_rates),
            "postings/s",
            reference,
            median(copy_rates),
            0.25,
            batch_rates,
            copy_rates,
        ),
        Result(
            "ledger_posting",
            "payable_create_loop",
            median(loop_rates),
            "postings/s",
            reference,
            median(copy_rates),
            None,
            loop_rates,
            copy_rates,
        ),
    ]


# --- payables_export -----------------------------------------------------------------------


def export_api(client) -> tuple[int, float]:
    watch, rows = Stopwatch(), 0
    url = "/api/v1/payables/?page_size=500"
    with watch.timing():
        while url:
            response = client.get(url)
            assert response.status_code == 200, response.content[:500]
            rows += len(response.data["results"])
            url = response.data["next"]
    return rows, watch.seconds


def export_sql(scope) -> tuple[str, list]:
    """The list's rows and columns as one SELECT, from the selector the view uses, reading the
    columns it reads (`PAYABLE_VALUES`, fringes as JSON text)."""
    from django.db.models import TextField
    from django.db.models.functions import Cast

    from ledger.journal.selectors import open_payables
    from ledger.payroll.rows import PAYABLE_VALUES

    qs = (
        open_payables(scope)
        .annotate(fringes_json=Cast("fringes", TextField()))
        .values_list(*PAYABLE_VALUES)
        .order_by("id")
    )
    sql, params = qs.query.sql_with_params()
    return f"COPY ({sql}) TO STDOUT", list(params)


def export_copy(statement: str, params: list) -> tuple[int, float]:
    from django.db import connection

    watch, rows = Stopwatch(), 0
    with watch.timing(), connection.cursor() as cursor:
        with cursor.cursor.copy(statement, params) as copy:
            for chunk in copy:
                rows += bytes(chunk).count(b"\n")  # text format escapes newlines in values
    return rows, watch.seconds


def bench_export(world: World) -> list[Result]:
    from django.test import Client

    client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Api-Key {world.api_key}")
    statement, params = export_sql(world.scope)
    common.analyze()
    export_api(client)  # warm-up
    export_copy(statement, params)
    api_rates, copy_rates = [], []
    for rep in range(REPS):
        rows, seconds = export_api(client)
        copied, copy_seconds = export_copy(statement, params)
        assert rows == copied, (rows, copied)
        api_rates.append(rows / seconds)
        copy_rates.append(copied / copy_seconds)
        log(
            f"payables_export rep {rep + 1}/{REPS}: API {rows} rows in {seconds:.2f}s, "
            f"COPY {copied} in {copy_seconds:.3f}s"
        )
    return [
        Result(
            "payables_export",
            "api_payables_page_size_500",
            median(api_rates),
            "rows/s",
            "COPY (SELECT same columns, same rows) TO STDOUT",
            median(copy_rates),
            0.30,
            api_rates,
            copy_rates,
        )
    ]


def main():
    name = setup_django()
    from ledger.journal.verify import verify_chain
    from ledger.models import JournalTransaction, Payable, Posting

    log(f"bench.ledger on database {name}, {REPS} repetitions")
    world = build_world()
    results = bench_posting(world)
    results += bench_export(world)
    report = verify_chain()
    if not report.ok:
        raise SystemExit(f"the journal's chain is broken at seq {report.broken_seq}: {report}")
    log(
        f"data: {Posting.objects.count()} postings, {JournalTransaction.objects.count()} "
        f"transactions, {Payable.objects.count()} payables; chain verified to seq "
        f"{report.head_seq}"
    )
    common.report(results)


if __name__ == "__main__":
    main()
