"""API fuzzing: Schemathesis against the live server's own OpenAPI schema (`make fuzz`).

The schema is a promise: every operation, every declared status, every response body, and one
JSON error shape for every refusal. This run holds the served product to it. It drops and creates
a PostgreSQL database (`gl_fuzz` unless FUZZ_DB says otherwise), migrates it, loads the demo and
serves the app with gunicorn under the production settings (DEBUG off) on loopback. Then `st run`
fuzzes every operation of `/api/schema/` twice, with two kinds of caller:

- `staff`: the demo's Meridian studio staff, signed in through the admin login form, sending the
  session cookie with the CSRF cookie and the `X-CSRFToken` header as the browser would (DRF's
  session authentication enforces CSRF on unsafe methods);
- `payroll`: a payroll API key for Meridian (`manage.py create_api_key`).

Every phase runs (examples, coverage, fuzzing, stateful), seeded, with 200 examples per operation
and every built-in check, plus `tests/fuzz/hooks.py`: every 4xx or 5xx is the JSON error shape.
`tests/fuzz/schemathesis.toml` says, with reasons, where the schema cannot speak for the API.
JUnit and JSON reports, the server log and a summary go to var/test-output/fuzz/. The exit status
is that of the worst run, and a run that did not test every operation of the schema fails too.
Arguments after `--` go to both `st run` calls (for example `-- --include-path-regex payments`
while chasing one failure).

`make fuzz` is the release run: 200 examples per operation, one caller after the other.
`make fuzz-ci` is CI's budget: the same phases, checks, seed and operations with fewer examples
per operation (FUZZ_MAX_EXAMPLES) and both callers at once against the same server
(FUZZ_CONCURRENT=1), each with its own reports; every request carries `X-Fuzz-Run: <caller>`,
which the server's access log records, so each run's answers are still counted apart.
"""

import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from tests.live_server import ACCESS_LOG_FORMAT as SERVER_LOG_FORMAT
from tests.live_server import ROOT, fresh_database, manage, running_gunicorn

OUTPUT = ROOT / "var" / "test-output" / "fuzz"
HOOKS = Path(__file__).resolve().parent / "hooks.py"
CONFIG = Path(__file__).resolve().parent / "schemathesis.toml"
STAFF_LOGIN = "meridian"
# The demo's shared password (README, "make run").
DEMO_PASSWORD = "guild-ledger-demo"
PHASES = "examples,coverage,fuzzing,stateful"


def settings_from_env() -> dict:
    database = os.environ.get("FUZZ_DB", "gl_fuzz")
    if "fuzz" not in database:
        # The database is dropped first: never let a typo point this at a real one.
        raise SystemExit(f"refusing to drop {database!r}: the fuzz database's name contains 'fuzz'")
    server = os.environ.get("FUZZ_PG", "postgres://postgres@127.0.0.1:5432")
    return {
        "database_url": f"{server.rstrip('/')}/{database}",
        "seed": os.environ.get("FUZZ_SEED", "42"),
        "max_examples": os.environ.get("FUZZ_MAX_EXAMPLES", "200"),
        "st_workers": os.environ.get("FUZZ_WORKERS", "2"),
        "server_workers": int(os.environ.get("FUZZ_SERVER_WORKERS", "2")),
        "runs": os.environ.get("FUZZ_RUNS", "staff,payroll").split(","),
        "concurrent": os.environ.get("FUZZ_CONCURRENT", "0") == "1",
    }


def staff_headers(base_url: str, username: str, password: str) -> list[str]:
    """Sign in through the admin login form; the headers a signed-in browser sends the API."""
    netloc = urlsplit(base_url).netloc
    cookies = _request(netloc, "GET", "/admin/login/", {})[1]
    form = {
        "csrfmiddlewaretoken": cookies["csrftoken"],
        "username": username,
        "password": password,
        "next": "/admin/",
    }
    headers = {
        "Cookie": f"csrftoken={cookies['csrftoken']}",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    status, new_cookies = _request(netloc, "POST", "/admin/login/", headers, urlencode(form))
    cookies.update(new_cookies)  # login rotates the CSRF token
    if status != 302 or "sessionid" not in cookies:
        raise SystemExit(f"staff login as {username!r} failed: HTTP {status}")
    return [
        f"Cookie: sessionid={cookies['sessionid']}; csrftoken={cookies['csrftoken']}",
        f"X-CSRFToken: {cookies['csrftoken']}",
    ]


def _request(netloc, method, path, headers, body=None) -> tuple[int, dict]:
    # http.client rather than a cookie jar: the production cookies are `Secure`, and a jar would
    # not send them back over the loopback's plain HTTP.
    connection = http.client.HTTPConnection(netloc, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        jar = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar.load(header)
        return response.status, {name: morsel.value for name, morsel in jar.items()}
    finally:
        connection.close()


def payroll_headers(database_url: str) -> list[str]:
    output = manage(
        database_url, "create_api_key", "--studio", "meridian", "--name", "fuzz-payroll"
    )
    raw_key = output.strip().splitlines()[-1].strip()
    return [f"Authorization: Api-Key {raw_key}"]


def st_command(base_url: str, name: str, headers: list[str], settings: dict, extra: list[str]):
    command = [
        str(Path(sys.executable).parent / "st"),
        "--no-color",
        f"--config-file={CONFIG}",
        "run",
        f"{base_url}/api/schema/?format=json",
        f"--url={base_url}",
        f"--phases={PHASES}",
        f"--seed={settings['seed']}",
        f"--max-examples={settings['max_examples']}",
        "--checks=all",
        f"--workers={settings['st_workers']}",
        # No example database: a run depends on the seed and the code, not on earlier runs.
        "--generation-database=none",
        "--request-timeout=60",
        "--report=junit,json",
        f"--report-dir={OUTPUT}",
        f"--report-junit-path={OUTPUT / f'{name}.junit.xml'}",
        f"--report-json-path={OUTPUT / f'{name}.json'}",
    ]
    for header in [*headers, f"{RUN_HEADER}: {name}"]:
        command += ["--header", header]
    return command + extra


# Every request of a run names its caller, and the access log records it (see ACCESS_LOG_FORMAT).
RUN_HEADER = "X-Fuzz-Run"
ACCESS_LOG_FORMAT = f"{SERVER_LOG_FORMAT} %({{{RUN_HEADER.lower()}}}i)s"


def start_schemathesis(base_url, name, headers, settings, extra) -> tuple:
    """`st run` as `name`, started in the background; (process, start time, log file)."""
    command = st_command(base_url, name, headers, settings, extra)
    env = {**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS)}
    print(f"== st run as {name} ==", flush=True)
    log = open(OUTPUT / f"{name}.log", "w")  # closed by finish_schemathesis
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    return process, time.monotonic(), log


def wait_for_all(started_runs: dict) -> dict:
    """Wait for every started run; {name: seconds from its start to its own end}."""
    walls = {}
    while len(walls) < len(started_runs):
        for name, (process, began, _log) in started_runs.items():
            if name not in walls and process.poll() is not None:
                walls[name] = time.monotonic() - began
        time.sleep(0.5)
    return walls


def finish_schemathesis(name, started, wall: float | None = None) -> dict:
    process, began, log = started
    exit_code = process.wait()
    wall = time.monotonic() - began if wall is None else wall
    log.close()
    print(f"== st run as {name}: the end of its output ==", flush=True)
    print((OUTPUT / f"{name}.log").read_text(errors="replace")[-6000:], flush=True)
    return _summary(name, exit_code, wall)


def _summary(name: str, exit_code: int, wall: float) -> dict:
    report_path = OUTPUT / f"{name}.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    operations = report.get("operations") or {}
    cases = report.get("test_cases") or {}
    return {
        "run": name,
        "exit_code": exit_code,
        "wall_seconds": round(wall, 1),
        "operations_tested": operations.get("tested"),
        "operations_total": operations.get("total"),
        "operations_skipped": operations.get("skipped"),
        "every_operation_tested": bool(operations.get("total"))
        and operations.get("tested") == operations.get("total"),
        "phases": {phase: value["status"] for phase, value in (report.get("phases") or {}).items()},
        "test_cases": cases.get("generated"),
        "unique_failures": cases.get("unique_failures"),
        "errors": report.get("errors"),
    }


def _requests_by_status(log_text: str, run: str) -> dict:
    """The access log is one `status method path duration caller` line per request
    (ACCESS_LOG_FORMAT); the lines of `run`'s requests, counted by status class."""
    counts: dict[str, int] = {}
    for line in log_text.splitlines():
        fields = line.split(" ")
        status = fields[0]
        if len(status) == 3 and status.isdigit() and fields[-1] == run:
            counts[status[0] + "xx"] = counts.get(status[0] + "xx", 0) + 1
    return counts


def main(extra: list[str]) -> int:
    settings = settings_from_env()
    shutil.rmtree(OUTPUT, ignore_errors=True)
    OUTPUT.mkdir(parents=True)
    media = tempfile.mkdtemp(prefix="gl-fuzz-media-")
    # Inherited by every manage.py call and the server: uploaded evidence lands in a throwaway
    # folder, mail stays in the server's memory, and runs are computed in-process (the broker
    # paths have their own worker tests).
    os.environ.update({"MEDIA_ROOT": media, "EMAIL_URL": "memorymail://", "CELERY_BROKER_URL": ""})
    database_url = settings["database_url"]
    started = time.monotonic()
    fresh_database(database_url)
    manage(database_url, "demo")
    credentials = {"payroll": payroll_headers(database_url)}
    summaries = []
    with running_gunicorn(
        database_url, workers=settings["server_workers"], access_log_format=ACCESS_LOG_FORMAT
    ) as server:
        credentials["staff"] = staff_headers(server.base_url, STAFF_LOGIN, DEMO_PASSWORD)

        def start(name):
            return start_schemathesis(server.base_url, name, credentials[name], settings, extra)

        if settings["concurrent"]:
            started_runs = {name: start(name) for name in settings["runs"]}
            walls = wait_for_all(started_runs)
            summaries = [
                finish_schemathesis(name, run, walls[name]) for name, run in started_runs.items()
            ]
        else:
            summaries = [finish_schemathesis(name, start(name)) for name in settings["runs"]]
        log_text = server.log()
    for summary in summaries:
        summary["requests_by_status"] = _requests_by_status(log_text, summary["run"])
    (OUTPUT / "server.log").write_text(log_text)
    shutil.rmtree(media, ignore_errors=True)
    summary, exit_code = conclude(settings, summaries, time.monotonic() - started)
    (OUTPUT / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    return exit_code


def conclude(settings: dict, summaries: list[dict], wall: float) -> tuple[dict, int]:
    """The closing summary and the exit status: that of the worst run, and a failure as well
    when a caller did not run or a run did not test every operation (a smaller CI budget must
    still cover the whole schema as every caller)."""
    covered = {run["run"] for run in summaries if run["every_operation_tested"]}
    summary = {
        "max_examples": int(settings["max_examples"]),
        "seed": settings["seed"],
        "concurrent": settings["concurrent"],
        "runs": summaries,
        "every_operation_tested_by_every_caller": covered >= set(settings["runs"]),
        "unique_failures": sum(run["unique_failures"] or 0 for run in summaries),
        "total_wall_seconds": round(wall, 1),
    }
    worst = max((run["exit_code"] for run in summaries), default=1)
    if not summary["every_operation_tested_by_every_caller"]:
        print("FAILED: a caller did not test every operation of the schema.", file=sys.stderr)
        return summary, worst or 1
    return summary, worst


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(main(args[args.index("--") + 1 :] if "--" in args else []))
