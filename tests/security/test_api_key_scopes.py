"""Payroll API keys: every scope against every endpoint a payroll key can reach, expiry to the
microsecond, revocation, the `create_api_key` options, the admin form and the OpenAPI schema."""

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from core.api.scopes import (
    ALL_SCOPES,
    LEDGER_READ,
    PAYABLES_READ,
    PAYMENTS_READ,
    PAYMENTS_WRITE,
    REGISTRY_READ,
    WEBHOOKS_READ,
    WEBHOOKS_WRITE,
)
from ledger.models import JournalTransaction, PayrollKey
from ledger.webhooks.services import WebhookEndpoint
from tests.factories import (
    EngagementFactory,
    ProductionFactory,
    StudioFactory,
    UserFactory,
    payroll_key,
)
from tests.helpers import assert_error, key_client, make_payable

pytestmark = pytest.mark.django_db

_refs = count(1)


@pytest.fixture
def world():
    studio = StudioFactory(name="Alpha Pictures", slug="alpha")
    engagement = EngagementFactory(production=ProductionFactory(studio=studio))
    payable = make_payable(production=engagement.production, person=engagement.person)
    return {"studio": studio, "payable": payable}


def scoped_key(world, scopes) -> tuple[PayrollKey, APIClient, WebhookEndpoint]:
    """A key of the world's studio holding `scopes`, a client calling with it, and its webhook
    endpoint."""
    key, raw = payroll_key(world["studio"], name=f"vendor-{next(_refs)}")
    key.scopes = list(scopes)
    key.save()
    endpoint = WebhookEndpoint.objects.create(payroll_key=key, url="https://vendor.example/h")
    client = key_client(raw)
    client.raw_key = raw
    return key, client, endpoint


def call(client, world, endpoint, method, path):
    path = path.format(payable=world["payable"].pk, endpoint=endpoint.pk)
    if method == "get":
        return client.get(path)
    if path == "/api/v1/payments/":
        body = {
            "payable": world["payable"].pk,
            "amount": "1.00",
            "paid_at": "2025-06-21T12:00:00Z",
            "payroll_reference": f"REF-{next(_refs)}",
        }
        return client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=f"k-{next(_refs)}")
    body = {"url": "https://vendor.example/other"}
    return getattr(client, method)(path, body, format="json")


# (method, path, the scope it needs, the status with that scope)
ENDPOINTS = [
    ("get", "/api/v1/guilds/", REGISTRY_READ, 200),
    ("get", "/api/v1/agreements/", REGISTRY_READ, 200),
    ("get", "/api/v1/studios/", REGISTRY_READ, 200),
    ("get", "/api/v1/people/", REGISTRY_READ, 200),
    ("get", "/api/v1/productions/", REGISTRY_READ, 200),
    ("get", "/api/v1/engagements/", REGISTRY_READ, 200),
    ("get", "/api/v1/payables/", PAYABLES_READ, 200),
    ("get", "/api/v1/payables/export/", PAYABLES_READ, 200),
    ("get", "/api/v1/payables/{payable}/", PAYABLES_READ, 200),
    ("get", "/api/v1/payments/", PAYMENTS_READ, 200),
    ("get", "/api/v1/payments/export/", PAYMENTS_READ, 200),
    ("post", "/api/v1/payments/", PAYMENTS_WRITE, 201),
    ("get", "/api/v1/ledger/transactions/", LEDGER_READ, 200),
    ("get", "/api/v1/ledger/balances/", LEDGER_READ, 200),
    ("get", "/api/v1/webhook-endpoints/", WEBHOOKS_READ, 200),
    ("get", "/api/v1/webhook-endpoints/{endpoint}/", WEBHOOKS_READ, 200),
    ("post", "/api/v1/webhook-endpoints/", WEBHOOKS_WRITE, 201),
    ("patch", "/api/v1/webhook-endpoints/{endpoint}/", WEBHOOKS_WRITE, 200),
]


@pytest.mark.parametrize("held", ALL_SCOPES)
@pytest.mark.parametrize(
    "method, path, needed, ok", ENDPOINTS, ids=[f"{m} {p}" for m, p, *_ in ENDPOINTS]
)
def test_a_key_reaches_an_endpoint_only_with_its_scope(world, method, path, needed, ok, held):
    _, client, endpoint = scoped_key(world, [held])
    response = call(client, world, endpoint, method, path)
    if held == needed:
        assert response.status_code == ok, response.content[:400]
    else:
        body = assert_error(response, 403, "scope_missing")
        assert needed in body["message"]


@pytest.mark.parametrize(
    "method, path, needed, ok", ENDPOINTS, ids=[f"{m} {p}" for m, p, *_ in ENDPOINTS]
)
def test_every_scope_but_the_one_needed_is_not_enough(world, method, path, needed, ok):
    _, client, endpoint = scoped_key(world, [s for s in ALL_SCOPES if s != needed])
    body = assert_error(call(client, world, endpoint, method, path), 403, "scope_missing")
    assert body["message"] == f"This API key lacks the scope {needed}."


def test_a_scope_refusal_writes_nothing(world):
    from ledger.models import IdempotencyRecord, Payment

    _, client, endpoint = scoped_key(world, [PAYMENTS_READ, PAYABLES_READ])
    assert_error(call(client, world, endpoint, "post", "/api/v1/payments/"), 403, "scope_missing")
    assert Payment.objects.count() == 0 and IdempotencyRecord.objects.count() == 0


@pytest.mark.parametrize(
    "method, path",
    [
        ("post", "/api/v1/ledger/transactions/{tx}/reverse/"),
        ("get", "/api/v1/consents/"),
        ("get", "/api/v1/compensation/runs/"),
        ("post", "/api/v1/studios/"),
    ],
)
def test_endpoints_that_name_no_scope_stay_closed_to_every_key(world, method, path):
    _, client, _ = scoped_key(world, ALL_SCOPES)
    tx = JournalTransaction.objects.first().pk
    response = getattr(client, method)(path.format(tx=tx), {}, format="json")
    assert_error(response, 403, "permission_denied")


def _views(resolver):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _views(pattern)
        elif isinstance(pattern, URLPattern):
            callback = pattern.callback
            yield getattr(callback, "cls", None) or getattr(callback, "view_class", None)


def test_every_payroll_route_declares_its_scopes():
    """Every scope some view declares is tested by the matrix above, and every scope in the
    catalogue is used by some view (a scope no view names would be a setting that does nothing)."""
    declared = set()
    for view in _views(get_resolver()):
        for attr in ("payroll_read_scope", "payroll_write_scope"):
            if view is not None and getattr(view, attr, None):
                declared.add(getattr(view, attr))
    assert declared == {needed for _, _, needed, _ in ENDPOINTS} == set(ALL_SCOPES)


# --- expiry and revocation -----------------------------------------------------------------

EXPIRY = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)


def test_a_key_works_until_the_instant_it_expires(world):
    key, client, _ = scoped_key(world, ALL_SCOPES)
    key.expiry_date = EXPIRY
    key.save()
    with time_machine.travel(EXPIRY - timedelta(microseconds=1), tick=False):
        assert client.get("/api/v1/payables/").status_code == 200
    with time_machine.travel(EXPIRY, tick=False):
        response = client.get("/api/v1/payables/")
    body = assert_error(response, 401, "api_key_expired")
    assert body["message"] == "This API key has expired."
    assert response["WWW-Authenticate"] == "Api-Key"


def test_a_revoked_key_is_refused_like_an_unknown_one(world):
    key, client, _ = scoped_key(world, ALL_SCOPES)
    assert client.get("/api/v1/payables/").status_code == 200
    key.revoked = True
    key.save()
    assert_error(client.get("/api/v1/payables/"), 401, "authentication_failed")


def test_a_revoked_key_cannot_be_brought_back(world):
    from django.core.exceptions import ValidationError

    key, _, _ = scoped_key(world, ALL_SCOPES)
    key.revoked = True
    key.save()
    key = PayrollKey.objects.get(pk=key.pk)
    key.revoked = False
    with pytest.raises(ValidationError):
        key.save()


@pytest.mark.parametrize("scopes", [[], ["payables:read", "payables:read"], ["payroll:all"]])
def test_a_key_with_no_or_unknown_scopes_is_not_stored(world, scopes):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        PayrollKey.objects.create_key(name="bad", owner=UserFactory(), scopes=scopes)
    assert PayrollKey.objects.filter(name="bad").count() == 0


# --- bad keys are throttled per address ----------------------------------------------------


def test_an_address_that_keeps_presenting_bad_keys_is_throttled(world, settings):
    settings.API_KEY_FAILURE_LIMIT = 3
    _, good, _ = scoped_key(world, ALL_SCOPES)
    bad = APIClient(REMOTE_ADDR="198.51.100.9")
    bad.credentials(HTTP_AUTHORIZATION="Api-Key abcdefgh.not-the-secret")
    for _ in range(3):
        assert_error(bad.get("/api/v1/payables/"), 401, "authentication_failed")
    response = bad.get("/api/v1/payables/")
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) == settings.API_KEY_FAILURE_WINDOW
    # ... a good key from that address is not even checked, and other addresses are unaffected
    response = APIClient(REMOTE_ADDR="198.51.100.9").get(
        "/api/v1/payables/", HTTP_AUTHORIZATION=f"Api-Key {good.raw_key}"
    )
    assert_error(response, 429, "throttled")
    assert good.get("/api/v1/payables/").status_code == 200


def test_the_throttle_lifts_when_the_window_ends(world, settings):
    settings.API_KEY_FAILURE_LIMIT = 2
    bad = APIClient(REMOTE_ADDR="198.51.100.10")
    bad.credentials(HTTP_AUTHORIZATION="Api-Key abcdefgh.not-the-secret")
    start = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        bad.get("/api/v1/payables/")
        bad.get("/api/v1/payables/")
        assert_error(bad.get("/api/v1/payables/"), 429, "throttled")
    later = start + timedelta(seconds=settings.API_KEY_FAILURE_WINDOW + 1)
    with time_machine.travel(later, tick=False):
        assert_error(bad.get("/api/v1/payables/"), 401, "authentication_failed")


# --- create_api_key ------------------------------------------------------------------------


def create_key(*args) -> tuple[str, str]:
    out = io.StringIO()
    call_command("create_api_key", *args, stdout=out)
    return out.getvalue().strip().splitlines()[-1], out.getvalue()


def test_create_api_key_with_scopes_and_an_expiry_in_days(world):
    moment = datetime(2026, 1, 10, 8, 30, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        raw, output = create_key(
            "--studio", "alpha", "--name", "reader", "--scope", "payables:read", "--expires", "30"
        )
    key = PayrollKey.objects.get(name="reader")
    assert key.scopes == [PAYABLES_READ]
    assert key.expiry_date == moment + timedelta(days=30)
    assert "scopes: payables:read" in output and "expires: 2026-02-09T08:30:00+00:00" in output
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    with time_machine.travel(moment, tick=False):
        assert client.get("/api/v1/payables/").status_code == 200
        assert_error(client.get("/api/v1/payments/"), 403, "scope_missing")


def test_create_api_key_with_an_expiry_date_and_repeated_scopes(world):
    with time_machine.travel(datetime(2026, 1, 10, tzinfo=UTC), tick=False):
        create_key(
            "--studio", "alpha", "--name", "payer",
            "--scope", "payments:write", "--scope", "payables:read", "--scope", "payments:write",
            "--expires", "2026-06-30",
        )  # fmt: skip
    key = PayrollKey.objects.get(name="payer")
    assert key.scopes == [PAYABLES_READ, PAYMENTS_WRITE]  # catalogue order, each once
    assert key.expiry_date == datetime(2026, 6, 30, tzinfo=UTC)


def test_create_api_key_without_scopes_grants_every_scope_and_no_expiry(world):
    create_key("--studio", "alpha", "--name", "legacy")
    key = PayrollKey.objects.get(name="legacy")
    assert key.scopes == list(ALL_SCOPES) and key.expiry_date is None


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--expires", "next week"], "give a number of days"),
        (["--expires", "2026-06-30T10:00:00"], "give the time zone"),
        (["--expires", "2020-01-01"], "The expiry is in the past."),
    ],
)
def test_create_api_key_refuses_a_bad_expiry_and_creates_nothing(world, extra, message):
    with pytest.raises(CommandError, match=message):
        create_key("--studio", "alpha", "--name", "bad", *extra)
    assert not PayrollKey.objects.filter(name="bad").exists()


def test_create_api_key_refuses_an_unknown_scope(world):
    with pytest.raises(CommandError, match="invalid choice"):
        create_key("--studio", "alpha", "--name", "bad", "--scope", "payroll:all")
    assert not PayrollKey.objects.filter(name="bad").exists()


# --- the admin -----------------------------------------------------------------------------


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_the_admin_creates_a_key_with_the_scopes_ticked(world, admin_client):
    owner = UserFactory(username="vendor-bot")
    response = admin_client.post(
        "/admin/ledger/payrollkey/add/",
        {
            "name": "vendor",
            "owner": owner.pk,
            "studios": [world["studio"].pk],
            "scopes": [PAYMENTS_WRITE, PAYABLES_READ],
            "expiry_date_0": "2027-01-31",
            "expiry_date_1": "00:00:00",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    key = PayrollKey.objects.get(name="vendor")
    assert key.scopes == [PAYABLES_READ, PAYMENTS_WRITE]
    assert key.expiry_date == datetime(2027, 1, 31, tzinfo=UTC)
    assert list(key.studios.all()) == [world["studio"]]


def test_the_admin_refuses_a_key_without_scopes(world, admin_client):
    response = admin_client.post(
        "/admin/ledger/payrollkey/add/",
        {"name": "vendor", "owner": UserFactory().pk, "studios": [world["studio"].pk]},
    )
    assert response.status_code == 200
    assert "scopes" in response.context["adminform"].form.errors
    assert not PayrollKey.objects.filter(name="vendor").exists()


def test_the_admin_lists_scopes_and_never_deletes_a_key(world, admin_client):
    key, _, _ = scoped_key(world, [PAYABLES_READ])
    page = admin_client.get("/admin/ledger/payrollkey/").content.decode()
    assert "payables:read" in page
    assert admin_client.get(f"/admin/ledger/payrollkey/{key.prefix}/delete/").status_code == 403


# --- the schema ----------------------------------------------------------------------------


def test_the_openapi_schema_names_each_operations_scope(admin_client):
    schema = admin_client.get("/api/schema/?format=json").json()
    payments = schema["paths"]["/api/v1/payments/"]
    assert payments["post"]["x-api-key-scope"] == PAYMENTS_WRITE
    assert payments["get"]["x-api-key-scope"] == PAYMENTS_READ
    assert "`payments:write`" in payments["post"]["description"]
    reverse = schema["paths"]["/api/v1/ledger/transactions/{id}/reverse/"]["post"]
    assert "x-api-key-scope" not in reverse
    scheme = schema["components"]["securitySchemes"]["ApiKey"]["description"]
    assert all(f"`{name}`" in scheme for name in ALL_SCOPES)
    assert "scope_missing" in scheme and "api_key_expired" in scheme


def test_payment_amounts_are_untouched_by_scopes(world):
    """The scope check is only a gate: a payment with the scope is recorded as before."""
    from ledger.models import Payment

    _, client, endpoint = scoped_key(world, [PAYMENTS_WRITE])
    assert call(client, world, endpoint, "post", "/api/v1/payments/").status_code == 201
    assert Payment.objects.get().amount == Decimal("1.00")


def test_the_refusals_match_the_schema(world, settings):
    from tests.openapi import assert_matches_schema

    settings.API_KEY_FAILURE_LIMIT = 1
    key, client, _ = scoped_key(world, [PAYABLES_READ])
    assert_matches_schema(client.get("/api/v1/payments/"), "GET", "/api/v1/payments/")
    key.expiry_date = datetime(2020, 1, 1, tzinfo=UTC)
    key.save()
    expired = client.get("/api/v1/payables/")
    assert expired.status_code == 401
    assert_matches_schema(expired, "GET", "/api/v1/payables/")
    throttled = client.get("/api/v1/payables/")
    assert throttled.status_code == 429
    assert_matches_schema(throttled, "GET", "/api/v1/payables/")
