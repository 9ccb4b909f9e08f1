"""The product served the way it runs in production, for fault tests and the load bench: gunicorn on
loopback with the production settings, on a PostgreSQL database of its own.

`fresh_database(url)` drops, creates and migrates the database; `seed(url, ...)` fills it with a
payroll world (`python -m tests.live_world`) and returns what a client needs (the API key, the
payable ids, the consent checks); `running_gunicorn(url)` serves it and yields the base URL.
Each step is a subprocess with its own environment, so the caller's Django settings and database
are never touched.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.throwaway_keys import throwaway_env

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
START_TIMEOUT = 60
# One line per request: status, method, path, seconds (tests/fuzz/run.py adds a header's value).
ACCESS_LOG_FORMAT = "%(s)s %(m)s %(U)s %(L)s"


def app_env(database_url: str, **extra) -> dict:
    """The production settings, on loopback over plain HTTP, with a throwaway secret."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "live-server-" + "k" * 50,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "CELERY_BROKER_URL": "",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        **throwaway_env(),  # production refuses the committed test keys
    }
    env.update(extra)
    return env


def fresh_database(database_url: str) -> None:
    """Drop and recreate the database named by `database_url`, then migrate it."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    manage(database_url, "migrate", "--noinput", "-v", "0")


def manage(database_url: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=app_env(database_url),
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def seed(database_url: str, **sizes) -> dict:
    """Fill the database with `tests.live_world.build(**sizes)`; returns its JSON summary."""
    args = [f"--{name.replace('_', '-')}={value}" for name, value in sizes.items()]
    result = subprocess.run(
        [sys.executable, "-m", "tests.live_world", *args],
        env=app_env(database_url),
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"seeding failed:\n{result.stdout}\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen
    base_url: str
    log_path: str

    def worker_pids(self) -> set[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return {int(pid) for pid in children.read_text().split()} if children.exists() else set()

    def log(self) -> str:
        return Path(self.log_path).read_text(errors="replace")


@contextmanager
def running_gunicorn(
    database_url: str,
    *,
    workers: int = 2,
    threads: int = 1,
    access_log_format: str = ACCESS_LOG_FORMAT,
    **env,
):
    """gunicorn serving config.wsgi on a free loopback port until the block ends."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="gunicorn-", suffix=".log", delete=False)
    command = [
        str(BIN / "gunicorn"),
        "config.wsgi:application",
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        f"--threads={threads}",
        "--timeout=60",
        "--graceful-timeout=5",
        "--access-logfile=-",
        f"--access-logformat={access_log_format}",
    ]
    process = subprocess.Popen(
        command, env=app_env(database_url, **env), cwd=ROOT, stdout=log, stderr=log
    )
    server = Server(process, f"http://127.0.0.1:{port}", log.name)
    try:
        _wait_until_serving(server)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_until_serving(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited at start:\n{server.log()}")
        try:
            with urllib.request.urlopen(server.base_url + "/health/", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {START_TIMEOUT}s:\n{server.log()}")
