"""A real Celery worker for tests, on a real broker (RabbitMQ or Redis).

`running_worker(broker_url)` starts `celery -A config worker` as a subprocess against the same
(PostgreSQL) test database, and points the test process's Celery app at the same broker with eager
mode off, so that a task published on commit really travels through the broker to the worker.
The fixtures `rabbitmq_worker` and `redis_worker` (tests/conftest.py) wrap it.

Switching brokers inside one test process. The Celery app caches what it built from its
configuration the first time it published: the connection pool (`app.pool`, kombu's global
`pools.connections[<broker>]`), the producer pool (`app.amqp._producer_pool`, kombu's global
`pools.producers[<broker>]`) and the queue table and router (cached properties of `app.amqp`).
Changing `broker_url` afterwards changes none of them, so a second worker test on another broker
would publish to the first broker, and its worker would wait for ever. `reset_broker_state`
closes and forgets all of them; it runs after every change of the configuration (start and end
of each worker). Closing the pools is not enough on its own: kombu marks a force-closed pool
closed and keeps it in its global pool group, so the next use of the same broker would fail with
"Acquire on closed pool"; `kombu.pools.reset()` closes them and empties the groups.

Each worker consumes its own queue (`gl-test-<random>`, also its exchange and routing key), and
the test process publishes to it: test runs sharing a broker at the same time (two checkouts, CI
and a developer) cannot take each other's tasks, whose run ids name rows of another database. The
queue is deleted when the worker stops.

`running_beat(broker_url)` starts `celery -A config beat` with the database scheduler
(django-celery-beat) as a subprocess on the same test database and broker. It sends what the
PeriodicTask rows say, to the queue each row names: a test that wants beat's messages to reach
its worker sets the row's `queue`, `exchange` and `routing_key` to the worker's queue. Beat
writes `last_run_at` and `total_run_count` back to the rows only every few minutes and when it
stops (`running_beat` stops it with SIGTERM, which syncs them first)."""

import os
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from kombu import Connection, Exchange, Queue, pools

from config.celery import app as celery_app

AMQP_URL = os.environ.get("TEST_CELERY_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
REDIS_URL = os.environ.get("TEST_CELERY_REDIS_URL", "redis://127.0.0.1:6379/0")

# The app settings a worker test changes (and restores).
CHANGED = ("broker_url", "task_always_eager", "task_default_queue")
START_TIMEOUT = 60


@dataclass
class Worker:
    process: subprocess.Popen
    broker_url: str
    queue: str
    log_path: str

    def output(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as log:
            return log.read()

    def assert_alive(self):
        assert self.process.poll() is None, (
            f"The Celery worker exited ({self.process.returncode}):\n{self.output()}"
        )

    def message_count(self) -> int:
        """Messages waiting in the worker's queue on the broker."""
        with Connection(self.broker_url) as conn:
            return _declared(conn, self.queue).queue_declare().message_count

    def wait_for(self, predicate, *, timeout: float = START_TIMEOUT, what: str = "the task"):
        """Poll `predicate` until it returns something truthy (and return it), failing with the
        worker's output if the worker dies or the timeout passes."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            self.assert_alive()
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"Timed out after {timeout}s waiting for {what}; worker output:\n"
                    f"{self.output()}"
                )
            time.sleep(0.3)


@dataclass
class Beat:
    process: subprocess.Popen
    log_path: str

    def output(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as log:
            return log.read()

    def assert_alive(self):
        assert self.process.poll() is None, (
            f"Celery beat exited ({self.process.returncode}):\n{self.output()}"
        )


def reset_broker_state(app=celery_app):
    """Close and forget every broker connection, producer and queue declaration the app (and
    kombu, globally) cached, so that the next publish uses the current configuration."""
    pools.reset()  # force-closes every connection and producer pool, and empties the groups
    app._pool = None
    app.__dict__.pop("amqp", None)  # the cached AMQP: queue table, router, producer pool


def worker_env(**extra) -> dict:
    """The environment of a subprocess that uses the test database (a worker, manage.py)."""
    db = connection.settings_dict
    user = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{user}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        **extra,
    }


@contextmanager
def running_worker(broker_url: str):
    assert connection.vendor == "postgresql", "A worker process needs the PostgreSQL test database."
    queue = f"gl-test-{uuid.uuid4().hex[:12]}"
    log = tempfile.NamedTemporaryFile(prefix=f"{queue}-", suffix=".log", delete=False)
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool",
        "solo",
        "--loglevel",
        "WARNING",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--hostname",
        f"{queue}@%h",
        "-Q",
        queue,
    ]
    process = subprocess.Popen(
        command,
        cwd=settings.BASE_DIR,
        env=worker_env(CELERY_BROKER_URL=broker_url),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    previous = {key: celery_app.conf[key] for key in CHANGED}
    try:
        celery_app.conf.update(
            broker_url=broker_url, task_always_eager=False, task_default_queue=queue
        )
        reset_broker_state()
        # The app now publishes to this broker and queue, not to what an earlier test used.
        expected = Connection(broker_url).as_uri()
        assert celery_app.amqp.producer_pool.connections.connection.as_uri() == expected
        assert celery_app.amqp.default_queue.name == queue
        yield Worker(process, broker_url, queue, log.name)
    finally:
        try:
            _stop(process)
            _delete_queue(broker_url, queue)
        finally:
            celery_app.conf.update(previous)
            reset_broker_state()
            os.unlink(log.name)


@contextmanager
def running_beat(broker_url: str, *, max_interval: int = 1, loglevel: str = "WARNING"):
    """Run `celery beat` with the database scheduler, waking at least every `max_interval`
    seconds to notice due schedules and edited rows. Its pid file, schedule file and output live
    in a temporary directory, removed when it stops."""
    assert connection.vendor == "postgresql", "Beat needs the PostgreSQL test database."
    with tempfile.TemporaryDirectory(prefix="gl-test-beat-") as directory:
        log_path = os.path.join(directory, "beat.log")
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "beat",
            "--scheduler",
            "django_celery_beat.schedulers:DatabaseScheduler",
            "--loglevel",
            loglevel,
            "--max-interval",
            str(max_interval),
            "--pidfile",
            os.path.join(directory, "beat.pid"),
            "--schedule",
            os.path.join(directory, "beat-schedule"),
        ]
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                command,
                cwd=settings.BASE_DIR,
                env=worker_env(CELERY_BROKER_URL=broker_url),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            yield Beat(process, log_path)
        finally:
            _stop(process)


def _stop(process: subprocess.Popen):
    """Warm shutdown (the task in progress finishes); killed if it takes too long."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def _declared(conn: Connection, name: str) -> Queue:
    """The worker's queue as Celery declares a default queue (a direct exchange of the same
    name), declared on this connection's channel."""
    queue = Queue(name, Exchange(name, "direct"), routing_key=name)(conn.default_channel)
    queue.declare()
    return queue


def _delete_queue(broker_url: str, name: str):
    """Remove the worker's queue (and, on RabbitMQ, its exchange) from the broker; best effort."""
    try:
        with Connection(broker_url) as conn:
            conn.ensure_connection(max_retries=1)
            # Declared on this channel first: kombu's Redis transport deletes only the bindings
            # that the channel knows of.
            queue = _declared(conn, name)
            queue.delete()
            if conn.transport.driver_type == "amqp":
                queue.exchange.delete()
    except Exception as error:  # a left-over empty queue must not fail the test
        print(f"Could not delete the test queue {name}: {error}", file=sys.stderr)
