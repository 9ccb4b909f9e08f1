"""Webhooks to payroll clients: signed per Standard Webhooks, delivered with retries, recorded.

A real HTTP server on loopback stands in for the payroll vendor's receiver: plain http to
loopback, which only WEBHOOK_ALLOW_INSECURE (local development) allows."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from ledger.webhooks import services as webhooks
from ledger.webhooks.services import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from ledger.webhooks.tasks import deliver_webhook
from tests.factories import EngagementFactory, StudioFactory, payroll_key
from tests.helpers import make_payable

pytestmark = pytest.mark.django_db


class Receiver:
    """Answers each POST with the next status in `statuses` (the last one repeats)."""

    def __init__(self, statuses):
        self.statuses = list(statuses)
        self.requests = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = (
                    receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                )
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receiver_factory(settings):
    settings.WEBHOOK_ALLOW_INSECURE = True
    made = []

    def make(*statuses):
        made.append(Receiver(statuses))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


def _payable(engagement):
    return make_payable(production=engagement.production, person=engagement.person)


def test_sign_and_verify_follow_standard_webhooks():
    # Test vector from the Standard Webhooks specification.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    signature = webhooks.sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    headers = {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": f"v1,bm90LWl0 {signature}",
    }
    assert webhooks.verify(secret, headers, body, now=1614265330)
    assert not webhooks.verify(secret, headers, body + b" ", now=1614265330)
    assert not webhooks.verify(secret, headers, body, now=1614265330 + 301)


def test_new_payable_is_announced_signed_to_the_studios_endpoints(
    receiver_factory, django_capture_on_commit_callbacks
):
    engagement = EngagementFactory()
    key, _ = payroll_key(engagement.production.studio, name="acme")
    other_key, _ = payroll_key(StudioFactory(), name="other")
    receiver, bystander = receiver_factory(204), receiver_factory(204)
    endpoint = WebhookEndpoint.objects.create(payroll_key=key, url=receiver.url)
    WebhookEndpoint.objects.create(payroll_key=other_key, url=bystander.url)

    with django_capture_on_commit_callbacks(execute=True):
        payable = _payable(engagement)

    assert len(receiver.requests) == 1 and bystander.requests == []
    headers, body = receiver.requests[0]
    assert webhooks.verify(endpoint.secret, headers, body, now=int(time.time()))
    data = json.loads(body)["data"]
    assert data["studio"] == engagement.production.studio_id
    [sent] = data["payables"]
    assert (sent["id"], sent["amount"], sent["currency"]) == (payable.pk, "1000.00", "USD")
    assert sent["production"] == {
        "id": engagement.production_id,
        "title": engagement.production.title,
    }
    assert (sent["payee"]["kind"], sent["due_date"]) == ("person", str(payable.due_date))
    delivery = WebhookDelivery.objects.get()
    assert delivery.message_id == headers["webhook-id"] and delivery.delivered


def test_failed_deliveries_are_retried_and_every_attempt_recorded(
    receiver_factory, django_capture_on_commit_callbacks
):
    engagement = EngagementFactory()
    key, _ = payroll_key(engagement.production.studio, name="acme")
    receiver = receiver_factory(500, 503, 200)
    WebhookEndpoint.objects.create(payroll_key=key, url=receiver.url)

    with django_capture_on_commit_callbacks(execute=True):
        _payable(engagement)  # first attempt: 500, a retry is scheduled
    delivery = WebhookDelivery.objects.get()
    for retry in range(1, 4):  # what the worker does when each retry falls due
        if delivery.delivered:
            break
        deliver_webhook.apply(args=[delivery.pk], retries=retry, throw=False)
    assert deliver_webhook.apply(args=[delivery.pk], throw=False).get() == "skipped"

    attempts = list(WebhookAttempt.objects.order_by("id").values_list("status_code", "succeeded"))
    assert attempts == [(500, False), (503, False), (200, True)]
    assert len({h["webhook-id"] for h, _ in receiver.requests}) == 1  # one message, retried


def test_gone_disables_the_endpoint(receiver_factory, django_capture_on_commit_callbacks):
    engagement = EngagementFactory()
    key, _ = payroll_key(engagement.production.studio, name="acme")
    receiver = receiver_factory(410)
    endpoint = WebhookEndpoint.objects.create(payroll_key=key, url=receiver.url)

    with django_capture_on_commit_callbacks(execute=True):
        _payable(engagement)

    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert WebhookAttempt.objects.get().status_code == 410


def test_payroll_key_registers_an_endpoint_and_sees_the_secret_once(api):
    studio = StudioFactory()
    _, raw = payroll_key(studio, name="acme")
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    created = api.post(
        "/api/v1/webhook-endpoints/", {"url": "https://payroll.example/hooks"}, format="json"
    )
    assert created.status_code == 201
    assert created.json()["secret"].startswith("whsec_")
    listed = api.get("/api/v1/webhook-endpoints/").json()["results"]
    assert [e["secret"] for e in listed] == [None]
    bad = api.post("/api/v1/webhook-endpoints/", {"url": "not a url"}, format="json")
    assert bad.status_code == 400 and set(bad.json()) == {"code", "message", "fields"}
