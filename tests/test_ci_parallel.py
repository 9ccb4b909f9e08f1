"""The suite on pytest-xdist workers: each worker has its own test database, and the tests that
drive real parts outside it (Celery workers and beat on the shared brokers, gunicorn, the fault
cluster, Chromium, SMTP sinks) are put in one xdist group, so that `--dist loadgroup` runs them
on one worker, one after another."""

from types import SimpleNamespace

import pytest
from django.db import connection

from tests import conftest


def item(nodeid: str, *fixtures: str):
    return SimpleNamespace(nodeid=nodeid, fixturenames=["db", *fixtures])


@pytest.mark.parametrize(
    "nodeid, fixtures",
    [
        ("tests/faults/test_database_restart.py::test_restart", ()),
        ("tests/faults/test_dispatch_sweep.py::test_a_run", ()),
        ("tests/browser/test_studio_workflow.py::test_studio_staff", ("page",)),
        ("tests/ledger/test_celery_worker.py::test_worker", ("rabbitmq_worker",)),
        ("tests/compensation/test_end_to_end.py::test_paid", ("redis_worker",)),
        ("tests/reports/test_schedule_end_to_end.py::test_beat", ("worker", "redis_worker")),
        ("tests/reports/test_x.py::test_y", ("live_server",)),
        ("tests/reports/test_x.py::test_mail", ("mail_sink",)),
    ],
)
def test_tests_driving_real_parts_share_one_group(nodeid, fixtures):
    assert conftest._uses_real_parts(item(nodeid, *fixtures))


def test_other_tests_are_spread_over_the_workers():
    assert not conftest._uses_real_parts(item("tests/ledger/test_payroll_api.py::test_a", "api"))
    assert not conftest._uses_real_parts(item("tests/fuzz/test_fuzz_ci.py::test_a"))


def test_collected_tests_carry_the_group_marker(request):
    grouped = [
        each
        for each in request.session.items
        if any(mark.name == "xdist_group" for mark in each.iter_markers())
    ]
    assert all(
        mark.args == (conftest.REAL_PARTS_GROUP,)
        for each in grouped
        for mark in each.iter_markers("xdist_group")
    )
    assert all(conftest._uses_real_parts(each) for each in grouped)
    this = next(each for each in request.session.items if each.nodeid == request.node.nodeid)
    assert not this.get_closest_marker("xdist_group")


@pytest.mark.django_db
def test_each_xdist_worker_has_its_own_test_database(worker_id):
    name = connection.settings_dict["NAME"]
    if worker_id == "master":
        pytest.skip("not under pytest-xdist")
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        return  # an in-memory database belongs to its process
    assert name.endswith(f"_{worker_id}")
