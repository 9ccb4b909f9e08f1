import pytest
from django.db import connection
from rest_framework.test import APIClient


def pytest_report_header(config):
    from django.conf import settings

    return f"database: {settings.DATABASES['default']['ENGINE']}"


def pytest_collection_modifyitems(config, items):
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


@pytest.fixture
def on_postgres():
    return connection.vendor == "postgresql"
