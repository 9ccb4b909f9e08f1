"""Payroll list filters refuse out-of-range ids with the JSON error shape, never a 500."""

import pytest

from tests.factories import StudioFactory, payroll_key
from tests.openapi import operation_parameter

pytestmark = pytest.mark.django_db

HUGE = "9999999999999999999999"


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/payables/?production={HUGE}",
        f"/api/v1/payables/?person={HUGE}",
        f"/api/v1/payables/export/?production={HUGE}",
        f"/api/v1/payments/?payable={HUGE}",
        f"/api/v1/payments/?person={HUGE}",
        f"/api/v1/payments/export/?production={HUGE}",
        f"/api/v1/ledger/transactions/?after_seq={HUGE}",
        f"/api/v1/ledger/balances/?person={HUGE}",
    ],
)
def test_huge_ids_are_invalid_input(api, url):
    _, raw = payroll_key(StudioFactory())
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    response = api.get(url)
    assert response.status_code == 400, response.content[:300]
    assert set(response.json()) == {"code", "message", "fields"}


@pytest.mark.parametrize("value", ["1.5", "2.00001", "1e3"])
def test_fractional_ids_are_invalid_input_as_the_schema_says(api, value):
    """Regression (found by `make fuzz`): id filters were documented as any number, so a
    schema-valid "1.5" was refused. The schema now says a 64-bit integer, which is what is taken."""
    _, raw = payroll_key(StudioFactory())
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    response = api.get(f"/api/v1/payables/?production={value}")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"production"}
    schema = operation_parameter("GET", "/api/v1/payables/", "production")
    assert (schema["type"], schema["maximum"]) == ("integer", 2**63 - 1)


def test_page_size_is_documented_as_the_lenient_hint_it_is(api):
    """Regression (found by `make fuzz`): an odd `page_size` is ignored, not refused (see
    tests/ledger/test_bad_input.py), so the schema no longer promises an integer."""
    _, raw = payroll_key(StudioFactory())
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert api.get("/api/v1/payables/?page_size=true").status_code == 200
    assert operation_parameter("GET", "/api/v1/payables/", "page_size") == {"type": "string"}


def test_an_empty_filter_is_no_filter_as_the_schema_says(api):
    """Regression (found by `make fuzz`): `?due_before=` is read as not sent (django-filter and
    DRF alike); the schema now says `allowEmptyValue` instead of promising a date."""
    _, raw = payroll_key(StudioFactory())
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert api.get("/api/v1/payables/?due_before=&production=").status_code == 200
    assert api.get("/api/v1/ledger/balances/?group=").status_code == 200
    due_before = operation_parameter("GET", "/api/v1/payables/", "due_before", part=None)
    assert due_before["allowEmptyValue"] is True


@pytest.mark.parametrize(
    "value, status",
    [
        ("4176-07-05T18:13:34.50905+18:44", 200),  # PostgreSQL refuses an offset past 15:59
        ("2025-08-08T10:00:00-23:59", 200),
        ("9999-12-31T23:00:00-05:00", 400),  # past year 9999 in UTC
        ("0001-01-01T00:30:00+01:00", 400),  # before year 1 in UTC
    ],
)
def test_payment_instants_with_any_offset_are_read_in_utc(api, value, status):
    """Regression (found by `make fuzz`): an offset ISO 8601 allows but PostgreSQL does not
    reached the database as a DataError (a 400 with no field); instants are now turned to UTC
    first, and one that leaves the calendar in UTC names its field."""
    _, raw = payroll_key(StudioFactory())
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    response = api.get("/api/v1/payments/", {"paid_after": value, "paid_before": value})
    assert response.status_code == status, response.content[:300]
    if status == 400:
        assert set(response.json()["fields"]) == {"paid_after", "paid_before"}
