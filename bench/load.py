"""Load: three payroll and staff endpoints served by gunicorn on loopback, under concurrent clients
for a bounded time, each against the same SQL run raw by as many clients on the same database.

Run with `make bench`, or by hand on a migrated bench database:
`DATABASE_URL=postgres://postgres@127.0.0.1:5432/guild_ledger_bench python -m bench.load`.
`BENCH_LOAD_SECONDS` (default 20) bounds each scenario, `BENCH_LOAD_CLIENTS` (default 8) sets
the concurrent clients, `BENCH_LOAD_WORKERS` (default 2, one per core) the gunicorn workers.

The app runs as in production (tests.live_server: gunicorn, `config.settings.production`,
persistent connections) on the bench database. Each client is a thread with its own keep-alive
connection; a scenario records every request's latency and status.

Scenarios:
- `consent_check_batch`: `POST /api/v1/consent-checks/batch/`, 100 checks per request, as a
  studio's staff (session and CSRF cookies, as a browser-side tool sends them), over 2,000
  people with their consents (bench.consent's world, smaller).
- `payables_list`: `GET /api/v1/payables/?page_size=50` with a payroll API key, over 500
  payables.
- `payments_post`: `POST /api/v1/payments/`, a new Idempotency-Key per payment (amount 1.00
  against payables owed 1,000,000.00, so none is refused), and every tenth request a replay of
  an earlier key with its body, which must answer 201 with `Idempotent-Replayed: true`.

Reference, per scenario: the SQL statements one request of the endpoint issues (captured once
through Django with the same settings), replayed verbatim over psycopg by the same number of
client threads for the same time: requests/s of that raw SQL. Throughput, the endpoint's and
the reference's, is the median over four equal windows of the run (each window's rate is
listed). For the payment, the captured statements run in a transaction that is rolled back
(they insert unique keys), so the reference does the same reads, locks and writes without the
commit. Ratio = the endpoint's
requests/s over the raw SQL's; targets are the least acceptable ratio.

Pass bar: zero errors (any status other than the expected) and zero double postings (after
the run: one payment per key, one idempotency record per payment, every replay answered with
the first response); the script exits non-zero otherwise.
"""

import http.client
import json
import os
import random
import statistics
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bench import common
from bench.common import Result, log, scaled
from tests.live_server import app_env, running_gunicorn

SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "20"))
CLIENTS = int(os.environ.get("BENCH_LOAD_CLIENTS", "8"))
WORKERS = int(os.environ.get("BENCH_LOAD_WORKERS", "2"))
PEOPLE = scaled(2000, 100)
PAYABLES = scaled(500, 50)
CHECKS_PER_BATCH = 100
WINDOWS = 4  # throughput is the median of the run's windows, the endpoint's and the reference's
CSRF = "b" * 32  # a CSRF secret sent as cookie and header, as a browser client would
TARGETS = {"consent_check_batch": 0.05, "payables_list": 0.05, "payments_post": 0.05}


@dataclass
class Sample:
    seconds: float
    status: int
    finished: float  # time.perf_counter() when the answer was read
    replayed: bool = False


@dataclass
class Scenario:
    name: str
    method: str
    path: str
    headers: dict
    next_body: object  # (rng, client index) -> (body bytes | None, extra headers, expected)
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def setup():
    """Django in this process with the server's settings (same secret, same hashers)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("bench needs PostgreSQL: set DATABASE_URL (see `make bench`)")
    os.environ.update(app_env(url))
    import django

    django.setup()
    return url


def build():
    from django.test import Client

    from bench.consent import build_world
    from tests.live_world import build_payables

    staff, pairs = build_world(people_count=PEOPLE, slug="bench-load-consent")
    payroll = build_payables(PAYABLES, slug="bench-load-payroll")
    client = Client()
    client.force_login(staff)
    session = client.cookies["sessionid"].value
    common.analyze()
    return session, pairs, payroll


def consent_batches(pairs) -> list[bytes]:
    from bench.consent import INSTANTS, USE_KINDS

    rng = random.Random(20251121)
    bodies = []
    for b in range(50):
        chosen = rng.sample(pairs, CHECKS_PER_BATCH)
        checks = [
            {
                "person": person,
                "production": production,
                "use_kind": USE_KINDS[(b + j) % len(USE_KINDS)],
                "on": INSTANTS[j % len(INSTANTS)],
            }
            for j, (person, production) in enumerate(chosen)
        ]
        bodies.append(json.dumps({"checks": checks}).encode())
    return bodies


class PaymentBodies:
    """New keys, and every tenth request a replay of an earlier key with the same body."""

    def __init__(self, payables):
        self.payables = payables
        self.sent: list[tuple[str, bytes]] = []
        self.lock = threading.Lock()
        self.replays = 0

    def __call__(self, rng, index):
        with self.lock:
            if self.sent and rng.random() < 0.1:
                key, body = rng.choice(self.sent)
                self.replays += 1
                return body, {"Idempotency-Key": key}, (201, True)
        key = str(uuid.UUID(int=rng.getrandbits(128)))
        body = json.dumps(
            {
                "payable": rng.choice(self.payables),
                "amount": "1.00",
                "paid_at": "2025-08-08T10:00:00Z",
                "payroll_reference": f"LOAD-{key}",
            }
        ).encode()
        return body, {"Idempotency-Key": key}, (201, False)

    def confirmed(self, key, body):
        with self.lock:
            self.sent.append((key, body))


def run_scenario(base_url: str, scenario: Scenario, seconds: float) -> tuple[float, float]:
    """CLIENTS threads hammer the endpoint for `seconds`; returns (start, wall time)."""
    host = urlsplit(base_url)
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def client(index):
        rng = random.Random(index)
        conn = http.client.HTTPConnection(host.hostname, host.port, timeout=60)
        while time.monotonic() < stop:
            body, extra, expected = scenario.next_body(rng, index)
            headers = {**scenario.headers, **extra}
            start = time.perf_counter()
            try:
                conn.request(scenario.method, scenario.path, body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException) as error:
                with lock:
                    scenario.errors.append(f"transport: {error!r}")
                conn.close()
                conn = http.client.HTTPConnection(host.hostname, host.port, timeout=60)
                continue
            seconds_taken = time.perf_counter() - start
            replayed = response.getheader("Idempotent-Replayed") == "true"
            status, want_replay = expected
            ok = response.status == status and replayed == want_replay
            with lock:
                scenario.samples.append(
                    Sample(seconds_taken, response.status, time.perf_counter(), replayed)
                )
                if not ok:
                    scenario.errors.append(f"{response.status} {payload[:200]!r}")
            if ok and scenario.name == "payments_post" and not replayed:
                scenario.next_body.confirmed(extra["Idempotency-Key"], body)
        conn.close()

    return in_threads(client)


def in_threads(client) -> tuple[float, float]:
    """`client(index)` in each of CLIENTS threads at once, to the end of every one; returns
    (start, wall time)."""
    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return started, time.perf_counter() - started


def captured_sql(scenario: Scenario, body_for_capture) -> list[str]:
    """The SQL one request issues, captured through Django's test client in this process."""
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1", enforce_csrf_checks=False)
    headers = {k: v for k, v in scenario.headers.items() if k not in ("Content-Type", "Host")}
    cookie = headers.pop("Cookie", None)
    if cookie:
        for part in cookie.split("; "):
            name, value = part.split("=", 1)
            client.cookies[name] = value
    body, extra, _ = body_for_capture
    # Rolled back, so that the reference can insert the same rows (a committed payment's
    # journal transaction is sealed).
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        if scenario.method == "GET":
            response = client.get(scenario.path, headers={**headers, **extra})
        else:
            response = client.post(
                scenario.path, body, content_type="application/json", headers={**headers, **extra}
            )
        transaction.set_rollback(True)
    assert response.status_code in (200, 201), response.content[:300]
    statements = [q["sql"] for q in queries.captured_queries]
    control = ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT")
    return [s for s in statements if not s.upper().startswith(control)]


def raw_sql_rates(url: str, statements: list[str], seconds: float, rollback: bool) -> list[float]:
    """CLIENTS psycopg connections replaying `statements` for `seconds`: executions/s in each
    of the WINDOWS windows."""
    import psycopg

    stop = time.monotonic() + seconds
    finished: list[list[float]] = [[] for _ in range(CLIENTS)]

    failures = []

    def client(index):
        try:
            with psycopg.connect(url) as conn:
                while time.monotonic() < stop:
                    with conn.cursor() as cursor:
                        for statement in statements:
                            cursor.execute(statement.replace("%", "%%"))
                            if cursor.description is not None:
                                cursor.fetchall()
                    conn.rollback() if rollback else conn.commit()
                    finished[index].append(time.perf_counter())
        except psycopg.Error as error:
            failures.append(error)

    started, wall = in_threads(client)
    if failures:
        raise RuntimeError(f"the reference SQL failed: {failures[0]}")
    times = [t for client_times in finished for t in client_times]
    return window_rates(times, started, wall)


def window_rates(finished: list[float], started: float, wall: float) -> list[float]:
    """Completions per second in each of WINDOWS equal windows of the run."""
    width = wall / WINDOWS
    counts = [0] * WINDOWS
    for moment in finished:
        counts[min(int((moment - started) / width), WINDOWS - 1)] += 1
    return [count / width for count in counts]


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def results_for(scenario: Scenario, started: float, wall: float, reference_rates) -> list[Result]:
    latencies = [s.seconds * 1000 for s in scenario.samples]
    rates = window_rates([s.finished for s in scenario.samples], started, wall)
    reference = f"the request's SQL run raw by {CLIENTS} psycopg clients"
    return [
        Result(
            scenario.name,
            "throughput",
            statistics.median(rates),
            "req/s",
            reference,
            statistics.median(reference_rates),
            TARGETS[scenario.name],
            samples=rates,
            reference_samples=reference_rates,
        ),
        Result(scenario.name, "p50", percentile(latencies, 50), "ms", "-", 0.0, None),
        Result(scenario.name, "p99", percentile(latencies, 99), "ms", "-", 0.0, None),
        Result(scenario.name, "errors", float(len(scenario.errors)), "count", "-", 0.0, None),
    ]


def double_postings(prefix: str = "LOAD-") -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(DISTINCT payroll_reference) FROM ledger_payment "
            "WHERE payroll_reference LIKE %s",
            [prefix + "%"],
        )
        payments, references = cursor.fetchone()
        cursor.execute(
            "SELECT count(*) FROM ledger_idempotencyrecord r JOIN ledger_payment p "
            "ON p.payroll_reference = 'LOAD-' || r.key"
        )
        records = cursor.fetchone()[0]
    return {"payments": payments, "distinct_keys": references, "idempotency_records": records}


def main():
    url = setup()
    started = time.perf_counter()
    log(f"bench.load: {CLIENTS} clients, {SECONDS:.0f}s per scenario, {WORKERS} gunicorn workers")
    session, pairs, payroll = build()
    log(f"built in {time.perf_counter() - started:.1f}s")
    batches = consent_batches(pairs)
    payments = PaymentBodies(payroll.payables)
    staff_headers = {
        "Content-Type": "application/json",
        "Cookie": f"sessionid={session}; csrftoken={CSRF}",
        "X-CSRFToken": CSRF,
    }
    payroll_headers = {"Authorization": f"Api-Key {payroll.api_key}"}
    scenarios = [
        Scenario(
            "consent_check_batch",
            "POST",
            "/api/v1/consent-checks/batch/",
            staff_headers,
            lambda rng, i: (rng.choice(batches), {}, (200, False)),
        ),
        Scenario(
            "payables_list",
            "GET",
            "/api/v1/payables/?page_size=50",
            payroll_headers,
            lambda rng, i: (None, {}, (200, False)),
        ),
        Scenario(
            "payments_post",
            "POST",
            "/api/v1/payments/",
            {**payroll_headers, "Content-Type": "application/json"},
            payments,
        ),
    ]
    results, failures = [], []
    with running_gunicorn(url, workers=WORKERS) as server:
        for scenario in scenarios:
            started, wall = run_scenario(server.base_url, scenario, SECONDS)
            # Captured after the load, when every account the endpoint may create exists.
            capture = scenario.next_body(random.Random("capture"), -1)
            statements = captured_sql(scenario, capture)
            reference = raw_sql_rates(url, statements, SECONDS, rollback=scenario.method == "POST")
            log(
                f"{scenario.name}: {len(scenario.samples)} requests, {len(scenario.errors)} "
                f"errors, {len(statements)} statements per request"
            )
            results += results_for(scenario, started, wall, reference)
            failures += [f"{scenario.name}: {e}" for e in scenario.errors[:5]]
    counts = double_postings()
    log(f"payments after the run: {counts}; replays sent {payments.replays}")
    if counts["payments"] != counts["distinct_keys"] or (
        counts["idempotency_records"] != counts["payments"]
    ):
        failures.append(f"double posting: {counts}")
    common.report(results)
    if failures:
        log("FAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)


if __name__ == "__main__":
    main()
