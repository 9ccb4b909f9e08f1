"""`make bench` gives every bench script a fresh copy of one migrated template database, so that no
script meets the world an earlier one built (bench.load once died on bench.consent's member
numbers); BENCH_SCALE shrinks every world for a quick complete run."""

import re
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from bench import common

ROOT = Path(__file__).resolve().parents[1]


def test_make_bench_recreates_the_database_from_the_template_before_every_script():
    result = subprocess.run(
        ["make", "-n", "bench", "BENCH_SCRIPTS=consent load"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = result.stdout.replace("\\\n", " ").splitlines()  # one line per shell command
    loop = next(line for line in lines if "for script in" in line)
    # Inside the loop, before each script runs: its database anew, as a copy of the template.
    reset = loop.index("bench.common reset-db postgres://")
    assert reset < loop.index("-m bench.$script")
    assert re.search(r"reset-db \S+/guild_ledger_bench guild_ledger_bench_template", loop)
    # The template is migrated once, before the loop.
    migrate = next(i for i, line in enumerate(lines) if "manage.py migrate" in line)
    assert "guild_ledger_bench_template" in lines[migrate]
    assert migrate < lines.index(loop)


def test_only_bench_databases_are_dropped():
    with pytest.raises(SystemExit, match="refusing to drop"):
        common.reset_database("postgres://postgres@127.0.0.1:5432/guild_ledger", "template1")


def test_bench_scale_keeps_whole_blocks(monkeypatch):
    monkeypatch.setattr(common, "SCALE", 1.0)
    assert common.scaled(100_000, 2000) == 100_000
    monkeypatch.setattr(common, "SCALE", 0.05)
    assert common.scaled(100_000, 2000) == 6000  # 5,000 rounded up to whole blocks of 2,000
    assert common.scaled(10_000, 1000) == 1000
    monkeypatch.setattr(common, "SCALE", 0.0001)
    assert common.scaled(500, 50) == 50  # never less than one block


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_bench_database_is_a_fresh_copy_of_the_template():
    db = connection.settings_dict
    server = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}"
    suffix = uuid.uuid4().hex[:8]
    template = f"guild_ledger_bench_test_template_{suffix}"
    copy = f"guild_ledger_bench_test_{suffix}"
    try:
        common.reset_database(f"{server}/{template}")
        with psycopg.connect(f"{server}/{template}", autocommit=True) as conn:
            conn.execute("CREATE TABLE migrated (id int)")
        common.reset_database(f"{server}/{copy}", template)
        with psycopg.connect(f"{server}/{copy}", autocommit=True) as conn:
            conn.execute("INSERT INTO migrated VALUES (1)")  # what a script builds
        # The next script's copy has the template's tables and none of the earlier rows.
        common.reset_database(f"{server}/{copy}", template)
        with psycopg.connect(f"{server}/{copy}", autocommit=True) as conn:
            assert conn.execute("SELECT count(*) FROM migrated").fetchone() == (0,)
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            for name in (copy, template):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
