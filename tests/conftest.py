from decimal import Decimal

import pytest
from django.db import connection
from rest_framework.test import APIClient


def pytest_report_header(config):
    from django.conf import settings

    lines = [f"database: {settings.DATABASES['default']['ENGINE']}"]
    if "not postgres" in (config.getoption("-m") or "") and config.getoption("numprocesses", None):
        # Under pytest-xdist the workers collect, and their count below is not printed.
        lines.append(
            "tests marked 'postgres' are deselected on this pass: they need PostgreSQL, and run "
            "in the PostgreSQL pass of CI."
        )
    return lines


# Tests that drive real parts outside the test database: Celery workers and beat on the shared
# RabbitMQ and Redis, gunicorn, a second PostgreSQL cluster (port 5439), Chromium against a live
# server, SMTP sinks. Under pytest-xdist (`-n 2 --dist loadgroup`) they all go to one worker, one
# after another, so that none of them competes with another for a broker, a port or the CPU
# their timeouts were measured with; every other test is spread over the workers.
REAL_PARTS_GROUP = "real-parts"
REAL_PARTS_PATHS = ("tests/faults/", "tests/browser/")
REAL_PARTS_FIXTURES = {"rabbitmq_worker", "redis_worker", "live_server", "mail_sink"}


def _uses_real_parts(item) -> bool:
    path = item.nodeid.replace("\\", "/")
    if path.startswith(REAL_PARTS_PATHS):
        return True
    return bool(REAL_PARTS_FIXTURES.intersection(getattr(item, "fixturenames", ())))


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _uses_real_parts(item):
            item.add_marker(pytest.mark.xdist_group(REAL_PARTS_GROUP))
    markexpr = config.getoption("-m") or ""
    if "not postgres" in markexpr:
        count = sum(1 for item in items if item.get_closest_marker("postgres"))
        if count:
            print(
                f"\n{count} test(s) marked 'postgres' are deselected on this pass: they need "
                "PostgreSQL, and run in the PostgreSQL pass of CI."
            )


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Every test starts with an empty cache: the bad-API-key counters (core.security.login_guard)
    of one test's made-up keys must not throttle the next test's client."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def on_postgres():
    return connection.vendor == "postgresql"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Let the test database be reset between transactional tests.

    The journal refuses TRUNCATE; a superuser session with `guild_ledger.maintenance = 'on'` may
    (migration 0006). Tests that check the refusal turn the setting off for themselves."""
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            name = connection.settings_dict["NAME"]
            with connection.cursor() as cursor:
                cursor.execute(f"ALTER DATABASE \"{name}\" SET guild_ledger.maintenance = 'on'")
                cursor.execute("SET guild_ledger.maintenance = 'on'")


# --- a real Celery worker (tests/celery_worker.py) -------------------------------------------
# Function-scoped: the worker reads what the test committed, so the test's database must be
# transactional (the fixture asks for it). The flush after an earlier transactional test removed
# the guilds and agreements that migrations seed: they are seeded again (the migration's own,
# idempotent, function), as tests/ledger/test_payment_concurrency.py does.


def _seed_registry():
    from tests.helpers import seed_registry

    seed_registry()


@pytest.fixture(autouse=True)
def _registry_seeded_in_transactional_tests(request):
    """A transactional test starts from a flushed database, whatever ran before it (a worker
    test, the browser tests' live server): the seeded guilds and agreements are put back."""
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or any(
        name in request.fixturenames for name in ("transactional_db", "live_server")
    )
    if transactional:
        request.getfixturevalue("transactional_db")
        _seed_registry()


@pytest.fixture
def rabbitmq_worker(transactional_db):
    from tests.celery_worker import AMQP_URL, running_worker

    _seed_registry()
    with running_worker(AMQP_URL) as worker:
        yield worker


@pytest.fixture
def redis_worker(transactional_db):
    from tests.celery_worker import REDIS_URL, running_worker

    _seed_registry()
    with running_worker(REDIS_URL) as worker:
        yield worker


# The verification tests' journal (tests/ledger, tests/security): a fixture of every folder.
@pytest.fixture
def chain():
    """Seven transactions: three obligations, two payments, two reversals."""
    from ledger.journal.services import journal_reverse
    from ledger.models import JournalTransaction, Payment
    from tests.factories import PersonFactory, ProductionFactory
    from tests.helpers import make_payable
    from tests.ledger.conftest_journal import make_actor, obligation_of, pay

    actor = make_actor()
    production = ProductionFactory()
    people = [PersonFactory() for _ in range(2)]
    first = make_payable(actor=actor, production=production, person=people[0])
    second = make_payable(
        actor=actor, production=production, person=people[1], amount=Decimal("250.50")
    )
    third = make_payable(actor=actor, production=production, person=people[0])
    pay(first, Decimal("400.00"), actor=actor)
    pay(second, Decimal("250.50"), actor=actor)
    journal_reverse(
        actor=actor, transaction_id=Payment.objects.get(payable=second).transaction_id, reason="x"
    )
    journal_reverse(actor=actor, transaction_id=obligation_of(third).id, reason="cancelled")
    txs = list(JournalTransaction.objects.order_by("seq"))
    assert [t.seq for t in txs] == list(range(1, 8))
    return txs
