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
stops (`running_beat` stops it with SIGTERM, which syncs them first).

For fault tests a worker can be killed with SIGKILL (`Worker.kill()`, or only the pool's child
that executes tasks, `Worker.kill_pool_child()`, with `pool="prefork"`) and started again on the
same queue (`Worker.restart()`); `env` adds to the worker's environment. The worker's own
default queue is its test queue (CELERY_TASK_DEFAULT_QUEUE), so that what a task publishes, or
what the worker publishes when it starts, stays with the test as well."""

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field

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
    command: list[str] = field(default_factory=list)
    env: dict = field(default_factory=dict)

    def kill(self):
        """SIGKILL the worker (with the solo pool, the process that executes the task)."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def pool_children(self) -> list[int]:
        """The pids of the worker's pool processes (prefork)."""
        return _children(self.process.pid)

    def kill_pool_child(self) -> int:
        """SIGKILL the one pool process (prefork, concurrency 1) that executes tasks."""
        (child,) = self.pool_children()
        os.kill(child, signal.SIGKILL)
        return child

    def restart(self):
        """Start a new worker process on the same broker and queue (after `kill`)."""
        assert self.process.poll() is not None, "The worker is still running."
        self.process = _start(self.command, self.env, self.log_path)

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

    def wait_for(
        self,
        predicate,
        *,
        timeout: float = START_TIMEOUT,
        what: str = "the task",
        every: float = 0.3,
    ):
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
            time.sleep(every)


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
        # The tests' webhook receivers listen on plain http at 127.0.0.1.
        "WEBHOOK_ALLOW_INSECURE": "on",
        **extra,
    }


@contextmanager
def running_worker(broker_url: str, *, pool: str = "solo", env: dict | None = None):
    assert connection.vendor == "postgresql", "A worker process needs the PostgreSQL test database."
    queue = f"gl-test-{uuid.uuid4().hex[:12]}"
    log = tempfile.NamedTemporaryFile(prefix=f"{queue}-", suffix=".log", delete=False)
    log.close()
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool",
        pool,
        *(["--concurrency", "1"] if pool == "prefork" else []),
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
    environment = worker_env(
        CELERY_BROKER_URL=broker_url, CELERY_TASK_DEFAULT_QUEUE=queue, **(env or {})
    )
    worker = Worker(_start(command, environment, log.name), broker_url, queue, log.name)
    worker.command, worker.env = command, environment
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
        yield worker
    finally:
        try:
            _stop(worker.process)  # the one running now, after any restart
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


def _start(command: list[str], env: dict, log_path: str) -> subprocess.Popen:
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
        )


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (from /proc)."""
    children = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                # pid (comm) state ppid ...: comm may hold spaces, so split after its ")".
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[1]) == pid:
            children.append(int(entry))
    return children


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
