"""Payroll list filters refuse out-of-range ids with the JSON error shape, never a 500."""

import pytest

from tests.factories import StudioFactory, payroll_key

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
