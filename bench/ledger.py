"""Ledger benchmarks against PostgreSQL: posting through the journal service, and reading the
open payables out through the API, each against two references measured in the same run.

Run with `make bench` (fresh `guild_ledger_bench` database, migrated), or by hand:
`DATABASE_URL=postgres://postgres@127.0.0.1:5432/guild_ledger_bench python -m bench.ledger`.
Results are merged into bench/results.json and printed as a table. `BENCH_REPS` (default 5)
sets the repetitions; every figure is the median over them, and each repetition times the
service and then its references back to back, so all see the same load. The data (one studio,
2 productions, 20 people, 40 engagements) is built with tests.factories; the database is
ANALYZEd after the warm-up and again before the export, as autovacuum would keep a live one.
The run ends by verifying the hash chain over the whole journal.

The two references
    Plain COPY (the physical limit): psycopg `COPY ... FROM STDIN` into the schema `bench_bare`,
    created by this script: `transactions` and `postings`, made with `CREATE TABLE ... (LIKE
    <the product's table> INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING INDEXES)`, so the same
    columns, primary keys, unique keys (seq, hash, reverses) and indexes as
    `ledger_journaltransaction` and `ledger_posting`, and one foreign key, a posting's
    transaction (deferred, as Django declares it). No triggers, no check constraints, no other
    foreign key (accounts, payables, studio, actor). For the exports: `COPY bench_bare.payables
    TO STDOUT` of a plain table holding exactly the exported rows and columns (written from the
    export's own query before the export is timed).
    COPY into the product's tables (the cost of its guarantees): the same rows written by `COPY
    ... FROM STDIN` into `ledger_posting` and `ledger_journaltransaction`, with all their
    triggers (on insert: a posting refused once its transaction is written, a header refused
    unless its postings balance; at commit: the balance again), checks, foreign keys and
    indexes; for the exports, `COPY (<the export's query>) TO STDOUT` over the product's tables.
    Posting references write the rows the service wrote, as new transactions (new ids, the next
    seqs, correctly chained hashes, naming cloned payables, so the journal stays one valid
    chain): postings then headers, one database transaction per 500 entries, commit included;
    both references write the same prepared rows. Preparing them (hashes, clones) is not timed,
    and neither reference writes payables: the services write those too. Rates are postings/s
    (posting) and rows/s (export); a ratio is the service's rate over the reference's.

ledger_posting
    `journal_post_many_batch500`: `journal_post_many` posting batches of 500 obligation entries
    of 2, 3 or 4 legs (3 on average; each entry carries the person's payable and, with 3 or 4
    legs, the P&H fund's payable of its contribution, as a run's approval posts them), 3
    batches per repetition, ~4,500 postings. Timed: the call, i.e. Python balance checks, the
    chain lock, hashing, both bulk inserts and the commit (where the deferred balance trigger
    runs). Not timed: building the entries and inserting the payables they name. Targets:
    >= 0.30 of plain COPY; >= 0.25 of COPY into the product's tables.
    `journal_post_per_call`: `journal_post` called once per entry (300 calls of the same
    entries' shapes, ~900 postings), each its own database transaction. Target: >= 0.03 of
    plain COPY.
    `payable_create_per_call`: `payable_create` called 300 times (the person's payable, and for
    every second call a fund's: 2 or 4 legs), which validates and saves the payables, resolves
    the accounts and posts the obligation. Its references write the transactions and postings
    it wrote. Target: >= 0.02 of plain COPY.
    `*_statements_per_call`: the SQL statements each call sends, counted over the timed calls
    with a `connection.execute_wrapper` (every statement through Django's cursors, savepoints
    included; the BEGIN and COMMIT of the transaction are not statements there). Reported only.

payables_export
    Rows: every open payable of the bench studio, to people and to the fund (the columns of
    `ledger.payroll.rows.PAYABLE_VALUES`: payable, fund, person id, names and payroll ref,
    production id and title, engagement, agreement code, rule, description, owed, paid, due,
    currency, fringes as JSON text, dates), from the selector the views use (`open_payables`),
    so the filter and the owed/paid/due sums are identical.
    `api_payables_page_size_500`: `GET /api/v1/payables/?page_size=500` paged through its
    cursor `next` links with the Django test client (full middleware, API-key auth, scoping,
    serializer, JSON rendering; the client does not parse the JSON). References in COPY's text
    format. Targets: >= 0.40 of plain COPY; >= 0.30 of COPY of the product's query.
    `csv_payables_export`: `GET /api/v1/payables/export/` (Accept: text/csv), its streamed body
    consumed whole through the test client. References in COPY's CSV format with a header
    line. Target: >= 0.80 of plain COPY.
"""

import os
import uuid
from dataclasses import dataclass, field
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


BARE_SCHEMA = "bench_bare"
COLUMNS_POSTING = "(transaction_id, account_id, payable_id, effect, amount, currency)"
COLUMNS_HEADER = (
    "(id, seq, kind, studio_id, source_type, source_id, description, effective_date, "
    "created_at, actor_id, reverses_id, prev_hash, hash)"
)


@dataclass(frozen=True)
class Target:
    """Where a reference COPY writes: (postings table, transactions table)."""

    postings: str
    transactions: str

    def copies(self) -> tuple[str, str]:
        return (
            f"COPY {self.postings} {COLUMNS_POSTING} FROM STDIN",
            f"COPY {self.transactions} {COLUMNS_HEADER} FROM STDIN",
        )


PRODUCT = Target("ledger_posting", "ledger_journaltransaction")
BARE = Target(f"{BARE_SCHEMA}.postings", f"{BARE_SCHEMA}.transactions")
PLAIN_COPY = (
    f"plain COPY into {BARE_SCHEMA} (same keys and indexes, no triggers, one FK), "
    f"{BATCH_ENTRIES} entries per txn"
)
PRODUCT_COPY = f"COPY into the product's tables (triggers, FKs), {BATCH_ENTRIES} entries per txn"


def create_bare_schema() -> None:
    """The schema of the plain COPY reference: the journal's two tables with their keys and
    indexes only (see the module docstring)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {BARE_SCHEMA} CASCADE")
        cursor.execute(f"CREATE SCHEMA {BARE_SCHEMA}")
        for bare, product in (
            (BARE.transactions, PRODUCT.transactions),
            (BARE.postings, PRODUCT.postings),
        ):
            cursor.execute(
                f"CREATE TABLE {bare} (LIKE {product} "
                "INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING INDEXES)"
            )
        cursor.execute(
            f"ALTER TABLE {BARE.postings} ADD FOREIGN KEY (transaction_id) "
            f"REFERENCES {BARE.transactions} (id) DEFERRABLE INITIALLY DEFERRED"
        )


def copy_batches(prepared: list, target: Target) -> tuple[int, float]:
    """COPY each batch's postings then headers into `target`, one database transaction per
    batch; (postings, seconds)."""
    from django.db import connection, transaction

    posting_copy, header_copy = target.copies()
    watch, postings = Stopwatch(), 0
    for posting_rows, header_rows in prepared:
        with watch.timing():
            with transaction.atomic(), connection.cursor() as cursor:
                raw = cursor.cursor
                with raw.copy(posting_copy) as copy:
                    for row in posting_rows:
                        copy.write_row(row)
                with raw.copy(header_copy) as copy:
                    for row in header_rows:
                        copy.write_row(row)
        postings += len(posting_rows)
    return postings, watch.seconds


def reference_rates(world: World, entries: list, tag: str, postings: int) -> tuple[float, float]:
    """(plain COPY, COPY into the product's tables) postings/s for the rows of `entries`, in
    batches of BATCH_ENTRIES; both write the same prepared rows, the plain one first."""
    batches = [entries[i : i + BATCH_ENTRIES] for i in range(0, len(entries), BATCH_ENTRIES)]
    prepared = copy_rows(world, batches, tag)
    rates = []
    for target in (BARE, PRODUCT):
        copied, seconds = copy_batches(prepared, target)
        assert copied == postings, (target, copied, postings)
        rates.append(copied / seconds)
    return rates[0], rates[1]


class StatementCounter:
    """A connection.execute_wrapper counting the statements sent through Django's cursors."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def post_batches(world: World, batches: list) -> tuple[int, float]:
    """Post each batch with journal_post_many; (postings, seconds)."""
    from ledger.journal.services import journal_post_many

    watch, postings = Stopwatch(), 0
    for entries in batches:
        with watch.timing():
            journal_post_many(actor=world.actor, entries=entries)
        postings += sum(len(entry.legs) for entry in entries)
    return postings, watch.seconds


def post_each(world: World, entries: list) -> tuple[int, float, int]:
    """Post each entry with its own journal_post call; (postings, seconds, statements)."""
    from django.db import connection

    from ledger.journal.services import journal_post

    watch, counter = Stopwatch(), StatementCounter()
    with watch.timing(), connection.execute_wrapper(counter):
        for entry in entries:
            journal_post(actor=world.actor, entry=entry)
    return sum(len(entry.legs) for entry in entries), watch.seconds, counter.count


def loop_payables(world: World, n: int, tag: str) -> tuple[int, float, int]:
    """`n` payable_create calls (2 or 4 legs each); (postings, seconds, statements)."""
    from django.db import connection

    from ledger.journal.services import Fringe, payable_create
    from ledger.models import Posting

    before = Posting.objects.count()
    watch, counter = Stopwatch(), StatementCounter()
    with watch.timing(), connection.execute_wrapper(counter):
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
    return Posting.objects.count() - before, watch.seconds, counter.count


def posted_after(seq: int) -> list:
    """The journal's transactions after `seq`, in order, as entries naming the accounts and
    payables their postings name."""
    from ledger.journal.services import Entry, Leg
    from ledger.models import JournalTransaction

    transactions = (
        JournalTransaction.objects.filter(seq__gt=seq)
        .order_by("seq")
        .prefetch_related("postings__account", "postings__payable")
    )
    return [
        Entry(
            kind=t.kind,
            studio_id=t.studio_id,
            source_type=t.source_type,
            source_id=t.source_id,
            description=t.description,
            effective_date=t.effective_date,
            legs=[Leg(p.account, p.amount, p.payable, p.effect) for p in t.postings.all()],
        )
        for t in transactions
    ]


@dataclass
class Samples:
    """One scenario's per-repetition figures: the service's rate, both references' rates and,
    for per-call scenarios, statements per call."""

    service: list[float] = field(default_factory=list)
    plain: list[float] = field(default_factory=list)
    product: list[float] = field(default_factory=list)
    statements: list[float] = field(default_factory=list)

    def add(self, rate: float, plain: float, product: float) -> None:
        self.service.append(rate)
        self.plain.append(plain)
        self.product.append(product)


def against_both(
    scenario: str,
    metric: str,
    unit: str,
    samples: Samples,
    references: tuple[str, str],
    targets: tuple[float | None, float | None],
) -> list[Result]:
    """Two rows for one measured scenario: against plain COPY and against COPY of the
    product's tables."""
    (plain, product), (plain_target, product_target) = references, targets
    return [
        Result(
            scenario,
            f"{metric}_vs_{name}",
            median(samples.service),
            unit,
            reference,
            median(values),
            target,
            samples.service,
            values,
        )
        for name, reference, values, target in (
            ("plain_copy", plain, samples.plain, plain_target),
            ("product_copy", product, samples.product, product_target),
        )
    ]


def statements_row(scenario: str, metric: str, samples: Samples) -> Result:
    return Result(
        scenario,
        f"{metric}_statements_per_call",
        median(samples.statements),
        "statements/call",
        "counted with connection.execute_wrapper over the timed calls",
        0.0,
        None,
        samples.statements,
    )


def bench_posting(world: World) -> list[Result]:
    from ledger.journal.services import chain_head

    batch, each, loop = Samples(), Samples(), Samples()
    # Warm-up (not counted): accounts and statements cached, each path run once.
    loop_payables(world, 20, "warm")
    warm = make_entries(world, 100, "warm-batch")
    post_batches(world, [warm])
    reference_rates(world, warm, "warm-copy", sum(len(e.legs) for e in warm))
    post_each(world, make_entries(world, 20, "warm-each"))
    common.analyze()
    for rep in range(REPS):
        batches = [
            make_entries(world, BATCH_ENTRIES, f"r{rep}b{b}") for b in range(BATCHES_PER_REP)
        ]
        postings, seconds = post_batches(world, batches)
        entries = [entry for entries in batches for entry in entries]
        batch.add(postings / seconds, *reference_rates(world, entries, f"copy-r{rep}", postings))

        singles = make_entries(world, LOOP_CALLS, f"r{rep}e")
        posted, each_seconds, statements = post_each(world, singles)
        each.add(posted / each_seconds, *reference_rates(world, singles, f"copy-r{rep}e", posted))
        each.statements.append(statements / LOOP_CALLS)

        seq_before = chain_head()[0]
        looped, loop_seconds, statements = loop_payables(world, LOOP_CALLS, f"r{rep}")
        created = posted_after(seq_before)
        loop.add(looped / loop_seconds, *reference_rates(world, created, f"copy-r{rep}l", looped))
        loop.statements.append(statements / LOOP_CALLS)
        log(
            f"ledger_posting rep {rep + 1}/{REPS}: batch {postings} postings in {seconds:.2f}s "
            f"(plain COPY {batch.plain[-1]:,.0f}/s, product COPY {batch.product[-1]:,.0f}/s); "
            f"journal_post {posted} in {each_seconds:.2f}s; "
            f"payable_create {looped} in {loop_seconds:.2f}s, "
            f"{loop.statements[-1]:.1f} statements/call"
        )
    references = (PLAIN_COPY, PRODUCT_COPY)
    return [
        *against_both(
            "ledger_posting",
            f"journal_post_many_batch{BATCH_ENTRIES}",
            "postings/s",
            batch,
            references,
            (0.30, 0.25),
        ),
        *against_both(
            "ledger_posting",
            "journal_post_per_call",
            "postings/s",
            each,
            references,
            (0.03, None),
        ),
        statements_row("ledger_posting", "journal_post", each),
        *against_both(
            "ledger_posting",
            "payable_create_per_call",
            "postings/s",
            loop,
            references,
            (0.02, None),
        ),
        statements_row("ledger_posting", "payable_create", loop),
    ]


# --- payables_export -----------------------------------------------------------------------

CSV_FORMAT = "(FORMAT csv, HEADER)"
BARE_PAYABLES = f"{BARE_SCHEMA}.payables"


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


def export_csv(client) -> tuple[int, float]:
    """The CSV export streamed and read whole; (rows without the header, seconds). Fields hold
    no line breaks here, so lines are rows."""
    watch, lines = Stopwatch(), 0
    with watch.timing():
        response = client.get("/api/v1/payables/export/", HTTP_ACCEPT="text/csv")
        assert response.status_code == 200, response.content[:500]
        for chunk in response.streaming_content:
            lines += chunk.count(b"\n")
    return lines - 1, watch.seconds


def export_sql(scope) -> tuple[str, list]:
    """The list's rows and columns as one SELECT, from the selector the views use, reading the
    columns they read (`PAYABLE_VALUES`, fringes as JSON text)."""
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
    return sql, list(params)


def create_bare_payables(select: str, params: list) -> None:
    """The export's rows and columns, written once into a plain table (not timed)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {BARE_PAYABLES}")
        cursor.execute(f"CREATE TABLE {BARE_PAYABLES} AS {select}", params)


def export_copy(statement: str, params: list, header: bool = False) -> tuple[int, float]:
    """COPY ... TO STDOUT read whole; (rows, seconds)."""
    from django.db import connection

    watch, lines = Stopwatch(), 0
    with watch.timing(), connection.cursor() as cursor:
        with cursor.cursor.copy(statement, params or None) as copy:
            for chunk in copy:
                lines += bytes(chunk).count(b"\n")  # both formats escape or quote no newline here
    return lines - (1 if header else 0), watch.seconds


def bench_export(world: World) -> list[Result]:
    from django.test import Client

    client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Api-Key {world.api_key}")
    select, params = export_sql(world.scope)
    create_bare_payables(select, params)
    common.analyze()
    # (name, service, [(plain COPY statement, params), (product COPY statement, params)], header)
    scenarios = [
        (
            "api_payables_page_size_500",
            export_api,
            [(f"COPY {BARE_PAYABLES} TO STDOUT", []), (f"COPY ({select}) TO STDOUT", params)],
            False,
        ),
        (
            "csv_payables_export",
            export_csv,
            [
                (f"COPY {BARE_PAYABLES} TO STDOUT {CSV_FORMAT}", []),
                (f"COPY ({select}) TO STDOUT {CSV_FORMAT}", params),
            ],
            True,
        ),
    ]
    measured = {name: Samples() for name, *_ in scenarios}
    for _name, service, copies, header in scenarios:  # warm-up
        service(client)
        for statement, args in copies:
            export_copy(statement, args, header)
    for rep in range(REPS):
        for name, service, copies, header in scenarios:
            rows, seconds = service(client)
            rates = []
            for statement, args in copies:
                copied, copy_seconds = export_copy(statement, args, header)
                assert rows == copied, (name, rows, copied, statement[:80])
                rates.append(copied / copy_seconds)
            measured[name].add(rows / seconds, *rates)
            log(
                f"payables_export rep {rep + 1}/{REPS}: {name} {rows} rows in {seconds:.2f}s "
                f"(plain COPY {rates[0]:,.0f}/s, product COPY {rates[1]:,.0f}/s)"
            )
    plain = f"plain COPY {BARE_PAYABLES} TO STDOUT (the same rows and columns)"
    product = "COPY (the export's SELECT over the product's tables) TO STDOUT"
    return [
        *against_both(
            "payables_export",
            "api_payables_page_size_500",
            "rows/s",
            measured["api_payables_page_size_500"],
            (f"{plain}, text", f"{product}, text"),
            (0.40, 0.30),
        ),
        *against_both(
            "payables_export",
            "csv_payables_export",
            "rows/s",
            measured["csv_payables_export"],
            (f"{plain}, CSV", f"{product}, CSV"),
            (0.80, None),
        ),
    ]


def main():
    name = setup_django()
    from ledger.journal.verify import verify_chain
    from ledger.models import JournalTransaction, Payable, Posting

    log(f"bench.ledger on database {name}, {REPS} repetitions")
    world = build_world()
    create_bare_schema()
    results = bench_posting(world)
    results += bench_export(world)
    report = verify_chain()
    if not report.ok:
        raise SystemExit(f"the journal's chain is broken at seq {report.broken_seq}: {report}")
    log(
        f"data: {Posting.objects.count()} postings, {JournalTransaction.objects.count()} "
        f"transactions, {Payable.objects.count()} payables; chain verified to seq "
        f"{report.head_seq}; {common.table_rows([BARE.postings, BARE.transactions])} in "
        f"{BARE_SCHEMA}"
    )
    common.report(results)


if __name__ == "__main__":
    main()
