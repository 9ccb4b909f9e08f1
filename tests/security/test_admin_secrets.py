"""What the admin must never show: a webhook's signing secret after the answer that created it, and
a payroll key's hash (its primary key is `<prefix>.<hash>`), in any page, link or form value."""

import pytest
from django.urls import reverse
from django.utils import timezone

from ledger.models import PayrollKey
from ledger.webhooks.services import WebhookEndpoint
from tests.factories import ProductionFactory, StudioFactory, UserFactory, payroll_key
from tests.helpers import make_payable

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def world(api):
    studio = StudioFactory()
    key, raw = payroll_key(studio, name="acme")
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    created = api.post(
        "/api/v1/webhook-endpoints/", {"url": "https://8.8.8.8/hooks"}, format="json"
    )
    assert created.status_code == 201, created.content
    secret = created.json()["secret"]
    assert secret.startswith("whsec_")  # shown once, here
    endpoint = WebhookEndpoint.objects.get()
    payable = make_payable(production=ProductionFactory(studio=studio))
    paid = api.post(
        "/api/v1/payments/",
        {
            "payable": payable.pk,
            "amount": "10.00",
            "currency": payable.currency,
            "paid_at": timezone.now().isoformat(),
            "payroll_reference": "ACME-1",
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert paid.status_code == 201, paid.content
    return {"key": key, "secret": secret, "endpoint": endpoint, "api": api, "studio": studio}


def _secret_parts(secret):
    return [secret, secret.removeprefix("whsec_")]


def _page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.content.decode()


def test_the_webhook_secret_is_not_shown_after_creation(world, root):
    endpoint, secret, api = world["endpoint"], world["secret"], world["api"]
    # A change through the admin, so that its history has two versions and a diff.
    change = f"/admin/ledger/webhookendpoint/{endpoint.pk}/change/"
    saved = root.post(change, {"url": endpoint.url})  # is_active unticked: switched off
    assert saved.status_code == 302, saved.content[:2000]
    endpoint.refresh_from_db()
    assert endpoint.is_active is False
    versions = list(endpoint.history.order_by("history_id").values_list("history_id", flat=True))
    assert len(versions) == 2

    pages = [
        "/admin/ledger/webhookendpoint/",
        change,
        f"/admin/ledger/webhookendpoint/{endpoint.pk}/history/",
        *(f"/admin/ledger/webhookendpoint/{endpoint.pk}/history/{v}/" for v in versions),
        "/admin/",
    ]
    for url in pages:
        page = _page(root, url)
        for part in _secret_parts(secret):
            assert part not in page, url

    for answer in (
        api.get(f"/api/v1/webhook-endpoints/{endpoint.pk}/").json(),
        *api.get("/api/v1/webhook-endpoints/").json()["results"],
        api.patch(
            f"/api/v1/webhook-endpoints/{endpoint.pk}/", {"is_active": True}, format="json"
        ).json(),
    ):
        assert answer["secret"] is None


def test_the_admin_changes_an_endpoint_through_the_checks_of_the_api(world, root):
    endpoint = world["endpoint"]
    refused = root.post(
        f"/admin/ledger/webhookendpoint/{endpoint.pk}/change/",
        {"url": "https://169.254.169.254/latest/meta-data/", "is_active": "on"},
    )
    assert refused.status_code == 200
    assert "url" in refused.context["adminform"].form.errors
    endpoint.refresh_from_db()
    assert endpoint.url == "https://8.8.8.8/hooks" and endpoint.history.count() == 1
    # Endpoints are registered by their key through the API, where the secret is shown once.
    assert root.get("/admin/ledger/webhookendpoint/add/").status_code == 403


def test_no_admin_page_or_link_carries_a_payroll_keys_hash(world, root):
    key = world["key"]
    hashes = [key.pk, key.hashed_key]
    change = reverse("admin:ledger_payrollkey_change", args=[key.pk])
    assert change == f"/admin/ledger/payrollkey/{key.prefix}/change/"

    # The admin still works by prefix: a change, recorded in its history.
    owner = key.owner
    saved = root.post(
        change,
        {
            "name": "acme payroll",
            "owner": owner.pk,
            "studios": [world["studio"].pk],
            "scopes": key.scopes,
        },
    )
    assert saved.status_code == 302, saved.content[:2000]
    assert PayrollKey.objects.get(pk=key.pk).name == "acme payroll"
    versions = list(key.history.values_list("history_id", flat=True))
    payment = world["api"].get("/api/v1/payments/").json()["results"][0]

    pages = [
        "/admin/",  # recent actions link to the key just changed
        "/admin/ledger/payrollkey/",
        "/admin/ledger/payrollkey/?q=acme",
        change,
        f"/admin/ledger/payrollkey/{key.prefix}/history/",
        *(f"/admin/ledger/payrollkey/{key.prefix}/history/{v}/" for v in versions),
        "/admin/ledger/webhookendpoint/",
        f"/admin/ledger/webhookendpoint/{world['endpoint'].pk}/change/",
        "/admin/ledger/payment/",
        f"/admin/ledger/payment/{payment['id']}/change/",
        "/admin/autocomplete/?app_label=ledger&model_name=webhookendpoint"
        "&field_name=payroll_key&term=acme",
    ]
    for url in pages:
        page = _page(root, url)
        for secret in hashes:
            assert secret not in page, url
    assert f"key:{key.prefix}" in _page(root, f"/admin/ledger/payment/{payment['id']}/change/")
    assert f"/admin/ledger/payrollkey/{key.prefix}/change/" in _page(root, "/admin/")

    # The hash is no address; pop-ups, which answer their opener with it, are not offered.
    for url in (
        f"/admin/ledger/payrollkey/{key.pk}/change/",
        f"/admin/ledger/payrollkey/{key.pk}/history/",
    ):
        _page(root, url, status=404)
    _page(root, "/admin/ledger/payrollkey/?_popup=1", status=403)
    _page(root, "/admin/ledger/payrollkey/add/?_popup=1", status=403)
    _page(root, f"/admin/ledger/payrollkey/{key.prefix}/change/?_popup=1", status=403)


def test_a_payroll_key_added_in_the_admin_is_addressed_by_its_prefix(root):
    studio = StudioFactory()
    response = root.post(
        "/admin/ledger/payrollkey/add/",
        {
            "name": "vendor",
            "owner": UserFactory(username="vendor-bot").pk,
            "studios": [studio.pk],
            "scopes": ["payables:read"],
            "_continue": "1",
        },
    )
    key = PayrollKey.objects.get(name="vendor")
    assert response.status_code == 302
    assert response["Location"] == f"/admin/ledger/payrollkey/{key.prefix}/change/"
    page = root.get(response["Location"], follow=True).content.decode()
    assert key.hashed_key not in page and key.pk not in page
