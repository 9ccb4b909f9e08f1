"""CI's fuzz budget (`make fuzz-ci`): fewer examples per operation, staff and payroll at once
against one server, and still every operation, phase and check for every caller; a run that
leaves an operation or a caller out fails, whatever Schemathesis's own exit status says."""

import json
import subprocess
import time
from pathlib import Path

import pytest

from tests.fuzz import run

ROOT = Path(__file__).resolve().parents[2]


def settings(**overrides) -> dict:
    values = {
        "seed": "42",
        "max_examples": "30",
        "st_workers": "2",
        "runs": ["staff", "payroll"],
        "concurrent": True,
    }
    return {**values, **overrides}


def write_report(tmp_path, name, *, tested, total, failures=0):
    report = {
        "operations": {"total": total, "tested": tested, "skipped": total - tested},
        "phases": {phase: {"status": "success"} for phase in run.PHASES.split(",")},
        "test_cases": {"generated": 900, "unique_failures": failures},
        "errors": [],
    }
    (tmp_path / f"{name}.json").write_text(json.dumps(report))


@pytest.fixture
def output(tmp_path, monkeypatch):
    monkeypatch.setattr(run, "OUTPUT", tmp_path)
    return tmp_path


def test_the_ci_budget_keeps_every_phase_check_and_the_seed():
    command = run.st_command("http://127.0.0.1:1", "staff", ["Cookie: a=b"], settings(), [])
    assert "--phases=examples,coverage,fuzzing,stateful" in command
    assert "--checks=all" in command
    assert "--seed=42" in command
    assert "--max-examples=30" in command
    # Each caller's reports are its own, so that two runs at once do not overwrite each other.
    assert any(part.endswith("staff.json") for part in command)
    # Every request names its caller, for the server's access log.
    assert command[command.index("X-Fuzz-Run: staff") - 1] == "--header"


def test_make_fuzz_ci_runs_both_callers_at_once_with_a_budget_and_make_fuzz_does_not():
    def dry_run(target):
        result = subprocess.run(
            ["make", "-n", target], cwd=ROOT, capture_output=True, text=True, check=True
        )
        return [line for line in result.stdout.splitlines() if "tests.fuzz.run" in line]

    (ci,) = dry_run("fuzz-ci")
    assert "FUZZ_CONCURRENT=1" in ci and "FUZZ_MAX_EXAMPLES=100" in ci
    (release,) = dry_run("fuzz")
    assert "FUZZ_CONCURRENT" not in release and "FUZZ_MAX_EXAMPLES" not in release


def test_the_release_fuzz_defaults_to_200_examples_one_caller_after_the_other(monkeypatch):
    for name in ("FUZZ_MAX_EXAMPLES", "FUZZ_CONCURRENT", "FUZZ_RUNS", "FUZZ_SEED", "FUZZ_DB"):
        monkeypatch.delenv(name, raising=False)
    values = run.settings_from_env()
    assert values["max_examples"] == "200" and values["seed"] == "42"
    assert values["concurrent"] is False and values["runs"] == ["staff", "payroll"]


def test_requests_are_counted_per_caller_when_both_run_at_once():
    log = "\n".join(
        [
            "200 GET /api/v1/payables/ 0.010 payroll",
            "201 POST /api/v1/payments/ 0.020 payroll",
            "403 POST /api/v1/studios/ 0.005 staff",
            "200 GET /health/ 0.001 -",  # the server's start-up probe names no caller
            "[2025-01-01 00:00:00 +0000] [12] [INFO] Booting worker",
        ]
    )
    assert run._requests_by_status(log, "payroll") == {"2xx": 2}
    assert run._requests_by_status(log, "staff") == {"4xx": 1}
    assert run.ACCESS_LOG_FORMAT.endswith("%({x-fuzz-run}i)s")


def test_both_callers_covering_every_operation_pass(output):
    write_report(output, "staff", tested=57, total=57)
    write_report(output, "payroll", tested=57, total=57)
    summaries = [run._summary("staff", 0, 1.0), run._summary("payroll", 0, 1.0)]
    summary, exit_code = run.conclude(settings(), summaries, 2.0)
    assert exit_code == 0
    assert summary["every_operation_tested_by_every_caller"] is True
    assert summary["unique_failures"] == 0
    assert summaries[0]["phases"] == dict.fromkeys(run.PHASES.split(","), "success")


def test_a_run_that_leaves_an_operation_untested_fails(output):
    write_report(output, "staff", tested=57, total=57)
    write_report(output, "payroll", tested=56, total=57)
    summaries = [run._summary("staff", 0, 1.0), run._summary("payroll", 0, 1.0)]
    summary, exit_code = run.conclude(settings(), summaries, 2.0)
    assert summaries[1]["every_operation_tested"] is False
    assert summary["every_operation_tested_by_every_caller"] is False
    assert exit_code == 1


def test_a_caller_that_did_not_run_fails(output):
    write_report(output, "staff", tested=57, total=57)
    summaries = [run._summary("staff", 0, 1.0), run._summary("payroll", 0, 1.0)]
    summary, exit_code = run.conclude(settings(), summaries, 2.0)
    assert summaries[1]["operations_total"] is None
    assert exit_code == 1


def test_a_failure_keeps_schemathesis_exit_status(output):
    write_report(output, "staff", tested=57, total=57, failures=2)
    write_report(output, "payroll", tested=57, total=57)
    summaries = [run._summary("staff", 1, 1.0), run._summary("payroll", 0, 1.0)]
    summary, exit_code = run.conclude(settings(), summaries, 2.0)
    assert (summary["unique_failures"], exit_code) == (2, 1)


def test_runs_at_once_are_each_timed_to_their_own_end():
    began = time.monotonic()
    started = {
        name: (subprocess.Popen(["sleep", seconds]), began, None)
        for name, seconds in (("payroll", "0.1"), ("staff", "1.5"))
    }
    walls = run.wait_for_all(started)
    assert walls["payroll"] < 1.0 <= walls["staff"]
