"""PostgreSQL restarted while the API is under load.

The product runs as in production (gunicorn, production settings, persistent connections with
health checks) on a PostgreSQL server of its own — a second cluster on this machine, so that
restarting it disturbs nothing else. Payroll clients read payables and post payments (each with
its Idempotency-Key, retried with the same key while the answer is 503) while the server is
stopped for a few seconds and started again.

What must hold: every answer is a success or a clean 503 in the JSON error shape with
Retry-After (never a 500, never a dropped connection); the same gunicorn workers serve again once
the database is back, with no restart of the app; and nothing is half-written — every key is
paid exactly once, each payment has its balanced journal transaction and idempotency record, and
the hash chain verifies.
"""

import json
import os
import random
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field

import psycopg
import pytest

from tests.live_server import fresh_database, manage, running_gunicorn, seed

pytestmark = pytest.mark.postgres

CLUSTER = os.environ.get("TEST_RESTART_CLUSTER", "glfaults")
PORT = int(os.environ.get("TEST_RESTART_PORT", "5439"))
URL = f"postgres://postgres@127.0.0.1:{PORT}/gl_restart"
CLIENTS = 6
OUTAGE_SECONDS = 3


def _pg(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True)


def _version() -> str:
    return sorted(os.listdir("/etc/postgresql"))[-1]


@pytest.fixture(scope="module")
def restartable_postgres():
    """A PostgreSQL cluster of this test's own (created once, trust auth on loopback)."""
    if shutil.which("pg_ctlcluster") is None or os.geteuid() != 0:
        reason = "restarting PostgreSQL needs Debian's pg_ctlcluster and root"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    version = _version()
    # (`pg_ctlcluster status` exits 1 or 4 for a missing cluster, depending on the version.)
    if not os.path.isdir(f"/etc/postgresql/{version}/{CLUSTER}"):
        created = _pg("pg_createcluster", version, CLUSTER, "-p", str(PORT), "--", "--auth=trust")
        assert created.returncode == 0, created.stderr
    started = _pg("pg_ctlcluster", version, CLUSTER, "start")
    running = _pg("pg_ctlcluster", version, CLUSTER, "status")
    assert running.returncode == 0, f"the {CLUSTER} cluster did not start: {started.stderr}"
    _wait_for_postgres()
    fresh_database(URL)
    return version


def _wait_for_postgres(timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(URL.rsplit("/", 1)[0] + "/postgres", connect_timeout=2):
                return
        except psycopg.OperationalError:
            time.sleep(0.3)
    raise AssertionError(f"PostgreSQL on port {PORT} did not come up within {timeout}s")


@dataclass
class Answer:
    at: float
    method: str
    status: int
    body: bytes
    retry_after: str | None


@dataclass
class Client:
    base_url: str
    api_key: str
    payables: list[int]
    rng: random.Random
    answers: list[Answer] = field(default_factory=list)
    paid_keys: dict[str, int] = field(default_factory=dict)  # key -> payment id
    unfinished: list[tuple[str, bytes]] = field(default_factory=list)  # (key, body)
    errors: list[str] = field(default_factory=list)

    def request(self, method, path, body=None, key=None) -> Answer | None:
        headers = {"Authorization": f"Api-Key {self.api_key}", "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if key is not None:
            headers["Idempotency-Key"] = key
        request = urllib.request.Request(
            self.base_url + path, data=body, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, payload, retry = response.status, response.read(), None
        except urllib.error.HTTPError as error:
            status, payload = error.code, error.read()
            retry = error.headers.get("Retry-After")
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            self.errors.append(f"{method} {path}: {error!r}")
            return None
        answer = Answer(time.monotonic(), method, status, payload, retry)
        self.answers.append(answer)
        return answer

    def pay_once(self, stop: threading.Event):
        """One payment, retried with the same key and body while the answer is 503."""
        key = str(uuid.UUID(int=self.rng.getrandbits(128)))
        body = json.dumps(
            {
                "payable": self.rng.choice(self.payables),
                "amount": "1.00",
                "paid_at": "2025-08-08T10:00:00Z",
                "payroll_reference": f"RESTART-{key}",
            }
        ).encode()
        while True:
            answer = self.request("POST", "/api/v1/payments/", body, key)
            if answer is not None and answer.status == 201:
                self.paid_keys[key] = json.loads(answer.body)["id"]
                return
            if stop.is_set():
                self.unfinished.append((key, body))
                return
            time.sleep(0.2)

    def run(self, stop: threading.Event):
        while not stop.is_set():
            if self.rng.random() < 0.5:
                self.request("GET", "/api/v1/payables/?page_size=5")
            else:
                self.pay_once(stop)


def _load(server, world, seconds_before, seconds_after):
    """Clients run while the database is stopped for OUTAGE_SECONDS and started again; returns
    the clients and the monotonic time the database was back."""
    stop = threading.Event()
    clients = [
        Client(server.base_url, world["api_key"], world["payables"], random.Random(n))
        for n in range(CLIENTS)
    ]
    threads = [threading.Thread(target=c.run, args=(stop,)) for c in clients]
    for thread in threads:
        thread.start()
    try:
        time.sleep(seconds_before)
        stopped = _pg("pg_ctlcluster", _version(), CLUSTER, "stop", "-m", "fast")
        assert stopped.returncode == 0, stopped.stderr
        time.sleep(OUTAGE_SECONDS)
        started = _pg("pg_ctlcluster", _version(), CLUSTER, "start")
        assert started.returncode == 0, started.stderr
        _wait_for_postgres()
        back = time.monotonic()
        time.sleep(seconds_after)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    return clients, back


def test_restart_under_load_answers_503_recovers_and_writes_nothing_partial(
    restartable_postgres,
):
    world = seed(URL, payables=20)
    with running_gunicorn(URL, workers=2) as server:
        workers = server.worker_pids()
        clients, back = _load(server, world, seconds_before=2, seconds_after=6)
        answers = [a for c in clients for a in c.answers]

        assert not [e for c in clients for e in c.errors], "connections failed instead of a 503"
        statuses = {a.status for a in answers}
        assert statuses <= {200, 201, 503}, f"unexpected statuses: {statuses}"
        unavailable = [a for a in answers if a.status == 503]
        assert unavailable, "the outage was never observed: no 503 answered"
        for answer in unavailable:
            body = json.loads(answer.body)
            assert body["code"] == "database_unavailable", body
            assert body["message"]
            assert answer.retry_after == "5"
        recovered = {a.method for a in answers if a.at > back and a.status in (200, 201)}
        assert recovered == {"GET", "POST"}, "reads and payments must succeed again"
        assert server.process.poll() is None
        assert server.worker_pids() == workers, "the app was restarted to recover"

        # A payment cut off by the end of the run is retried now with its key and body: it is
        # replayed if its first attempt had committed, recorded now otherwise; once either way.
        for client in clients:
            for key, body in client.unfinished:
                answer = client.request("POST", "/api/v1/payments/", body, key)
                assert answer is not None and answer.status == 201, answer
                client.paid_keys[key] = json.loads(answer.body)["id"]
        paid = {key: pk for client in clients for key, pk in client.paid_keys.items()}
        assert len(paid) > 10

    _assert_nothing_partial(paid)
    assert "ledger chain intact" in manage(URL, "verify_ledger")


def _assert_nothing_partial(paid: dict[str, int]):
    with psycopg.connect(URL) as conn:
        payments = conn.execute(
            "SELECT payroll_reference, id, transaction_id FROM ledger_payment"
        ).fetchall()
        references = [row[0] for row in payments]
        assert len(references) == len(set(references)), "a key was paid twice"
        assert {r.removeprefix("RESTART-") for r in references} == set(paid)
        assert {row[1] for row in payments} == set(paid.values())
        orphans = conn.execute(
            "SELECT count(*) FROM ledger_journaltransaction t WHERE t.source_type = 'payment' "
            "AND NOT EXISTS (SELECT 1 FROM ledger_payment p WHERE p.transaction_id = t.id)"
        ).fetchone()[0]
        assert orphans == 0, "a payment's journal transaction exists without its payment"
        unbalanced = conn.execute(
            "SELECT count(*) FROM (SELECT transaction_id, currency FROM ledger_posting "
            "GROUP BY transaction_id, currency HAVING sum(amount) <> 0) u"
        ).fetchone()[0]
        assert unbalanced == 0
        records = conn.execute("SELECT count(*) FROM ledger_idempotencyrecord").fetchone()[0]
        assert records == len(payments), "each payment has exactly one idempotency record"
