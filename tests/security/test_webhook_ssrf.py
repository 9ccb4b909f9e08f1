"""Webhooks cannot be turned against the server's own network (server-side request forgery).

An endpoint is https on a public address (plain http, and loopback, only with
WEBHOOK_ALLOW_INSECURE); the URL is checked when it is registered or changed, and again at every
delivery on the addresses actually connected to, so that a DNS answer that changes in between
(rebinding) reaches nothing. Redirects are not followed; a failure is recorded as a stable
category, not the socket's text. The endpoints of a revoked or expired key receive nothing.

Outside addresses are simulated at the socket layer (`socket.getaddrinfo` and
`socket.create_connection`); what answers is a real server on loopback."""

import socket
import ssl
import subprocess
import threading
import uuid
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.utils import timezone

from core.errors import DomainError
from ledger.access import SYSTEM_SCOPE, scope_for
from ledger.webhooks import services as webhooks
from ledger.webhooks import transport as webhook_transport
from ledger.webhooks.services import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from ledger.webhooks.tasks import deliver_webhook
from tests.factories import StudioFactory, UserFactory, payroll_key

pytestmark = pytest.mark.django_db

HOST = "hooks.vendor.example"
PUBLIC_IP = "93.184.215.14"  # a public address; nothing connects to it (see `network`)
REAL_GETADDRINFO = socket.getaddrinfo
REAL_CREATE_CONNECTION = socket.create_connection


# --- a receiver on loopback, and the outside world simulated at the socket layer ---------------


class Receiver:
    """A real HTTP(S) server on 127.0.0.1 answering each POST with `status` (and `location`)."""

    def __init__(self, status=204, *, location=None, tls=None):
        self.requests, self.server_names = [], []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            context.sni_callback = lambda sock, name, ctx: self.server_names.append(name)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers():
    made = []

    def make(*args, **kwargs):
        made.append(Receiver(*args, **kwargs))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


def _certificate(directory, name):
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-nodes", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:prime256v1", "-keyout", str(key), "-out", str(cert), "-days", "2",
         "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}"],
        check=True, capture_output=True,
    )  # fmt: skip
    return str(cert), str(key)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tls")
    return {name: _certificate(directory, name) for name in (HOST, "other.example")}


class Network:
    """DNS answers by host name (a list per call: the last repeats), and every connection made
    to `PUBLIC_IP` recorded and carried to the loopback receiver on the same port."""

    def __init__(self):
        self.answers, self.lookups, self.connections = {}, [], []

    def getaddrinfo(self, host, port, *args, **kwargs):
        if host not in self.answers:
            return REAL_GETADDRINFO(host, port, *args, **kwargs)
        self.lookups.append(host)
        answers = self.answers[host]
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            raise answer
        return [
            (
                socket.AF_INET6 if ":" in ip else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (ip, port),
            )
            for ip in answer
        ]

    def create_connection(self, address, *args, **kwargs):
        self.connections.append(address)
        if address[0] == PUBLIC_IP:
            address = ("127.0.0.1", address[1])
        return REAL_CREATE_CONNECTION(address, *args, **kwargs)


@pytest.fixture
def network(monkeypatch):
    fake = Network()
    monkeypatch.setattr(socket, "getaddrinfo", fake.getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", fake.create_connection)
    return fake


def _endpoint(url, *, key=None):
    key = key or payroll_key(StudioFactory(), name=f"k{uuid.uuid4().hex[:6]}")[0]
    # Stored directly: the delivery-time checks must hold whatever the table holds.
    return WebhookEndpoint.objects.create(payroll_key=key, url=url)


def _delivery(endpoint, created_at=None):
    return WebhookDelivery.objects.create(
        endpoint=endpoint,
        message_id=f"msg_{uuid.uuid4().hex}",
        event_type="payables.created",
        payload={"type": "payables.created", "data": {"payables": [1]}},
        created_at=created_at or timezone.now(),
    )


def _deliver(endpoint):
    """One attempt, through the service the task calls (the task only adds the retries)."""
    delivery = _delivery(endpoint)
    webhooks.webhook_deliver(delivery_id=delivery.pk, is_retry=False)
    return WebhookAttempt.objects.filter(delivery=delivery).get()


# --- registration ------------------------------------------------------------------------------


@pytest.fixture
def vendor(api):
    key, raw = payroll_key(StudioFactory(), name="vendor")
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return key, api


REFUSED_URLS = {
    "plain http": "http://payroll.example/hooks",
    "loopback": "https://127.0.0.1:8443/hooks",
    "localhost": "https://localhost/hooks",
    "cloud metadata": "https://169.254.169.254/latest/meta-data/",
    "private": "https://10.0.0.7/hooks",
    "private 192.168": "https://192.168.1.1/hooks",
    "shared address space": "https://100.64.0.1/hooks",
    "unspecified": "https://0.0.0.0/hooks",
    "multicast": "https://224.0.0.1/hooks",
    "reserved": "https://240.0.0.1/hooks",
    "broadcast": "https://255.255.255.255/hooks",
    "IPv6 loopback": "https://[::1]/hooks",
    "IPv6 unspecified": "https://[::]/hooks",
    "IPv6 link-local": "https://[fe80::1]/hooks",
    "IPv6 unique local": "https://[fd00::1]/hooks",
    "IPv4-mapped loopback": "https://[::ffff:127.0.0.1]/hooks",
    "IPv4-mapped metadata": "https://[::ffff:169.254.169.254]/hooks",
    "NAT64 of loopback": "https://[64:ff9b::7f00:1]/hooks",
    "6to4 of private": "https://[2002:a00:1::]/hooks",
    "ftp": "ftp://payroll.example/hooks",
    "user and password": "https://user:secret@payroll.example/hooks",
    "user only": "https://user@payroll.example/hooks",
    "port zero": "https://payroll.example:0/hooks",
    "port too large": "https://payroll.example:70000/hooks",
    "name resolving to private": f"https://{HOST}/hooks",
    "name resolving to public and private": "https://mixed.vendor.example/hooks",
}


@pytest.mark.parametrize("url", REFUSED_URLS.values(), ids=REFUSED_URLS.keys())
def test_registration_refuses_urls_the_server_must_not_send_to(vendor, network, url):
    network.answers[HOST] = [["10.1.2.3"]]
    network.answers["mixed.vendor.example"] = [[PUBLIC_IP, "192.168.0.10"]]
    _, api = vendor

    response = api.post("/api/v1/webhook-endpoints/", {"url": url}, format="json")

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "webhook_url_refused" and set(body["fields"]) == {"url"}
    assert not WebhookEndpoint.objects.exists() and not WebhookEndpoint.history.exists()


@pytest.mark.parametrize("url", ["localhost:5432", "not a url", "//payroll.example/h"])
def test_registration_refuses_what_is_not_an_absolute_url(vendor, url):
    _, api = vendor
    response = api.post("/api/v1/webhook-endpoints/", {"url": url}, format="json")
    assert response.status_code == 400 and "url" in response.json()["fields"]
    assert not WebhookEndpoint.objects.exists()


def test_registration_takes_https_on_a_public_address(vendor, network):
    network.answers[HOST] = [[PUBLIC_IP]]
    key, api = vendor
    response = api.post(
        "/api/v1/webhook-endpoints/", {"url": f"https://{HOST}/hooks"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert WebhookEndpoint.objects.get().payroll_key == key
    assert network.lookups == [HOST]


def test_plain_http_and_loopback_only_where_insecure_is_allowed(vendor, settings):
    _, api = vendor
    settings.WEBHOOK_ALLOW_INSECURE = True
    local = api.post("/api/v1/webhook-endpoints/", {"url": "http://127.0.0.1:9/h"}, format="json")
    assert local.status_code == 201, local.content
    # Even for local development, nothing private, link-local or reserved.
    for url in ("http://169.254.169.254/latest", "http://10.0.0.7/h", "http://0.0.0.0:5432/"):
        refused = api.post("/api/v1/webhook-endpoints/", {"url": url}, format="json")
        assert refused.json()["code"] == "webhook_url_refused", url
    assert WebhookEndpoint.objects.count() == 1


@pytest.mark.parametrize("method", ["patch", "put"])
@pytest.mark.parametrize(
    "url", ["https://169.254.169.254/latest", "http://payroll.example/h", "https://[::1]/"]
)
def test_changing_the_url_is_checked_the_same_way_and_writes_nothing(vendor, method, url):
    key, api = vendor
    endpoint = _endpoint("https://payroll.example/hooks", key=key)
    versions = endpoint.history.count()

    response = getattr(api, method)(
        f"/api/v1/webhook-endpoints/{endpoint.pk}/", {"url": url, "is_active": True}, format="json"
    )

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "webhook_url_refused"
    assert set(response.json()["fields"]) == {"url"}
    endpoint.refresh_from_db()
    assert endpoint.url == "https://payroll.example/hooks"
    assert endpoint.history.count() == versions


def test_an_endpoint_switched_back_on_has_its_url_checked_again(vendor):
    key, api = vendor
    endpoint = _endpoint("https://10.0.0.7/hooks", key=key)  # stored before the checks
    endpoint.is_active = False
    endpoint.save()
    response = api.patch(
        f"/api/v1/webhook-endpoints/{endpoint.pk}/", {"is_active": True}, format="json"
    )
    assert response.status_code == 400 and response.json()["code"] == "webhook_url_refused"
    endpoint.refresh_from_db()
    assert endpoint.is_active is False


def test_the_services_refuse_without_the_api():
    key, _ = payroll_key(StudioFactory(), name="svc")
    actor = UserFactory()
    scope = scope_for(actor, key)
    with pytest.raises(DomainError) as refused:
        webhooks.webhook_endpoint_create(actor=actor, scope=scope, url="https://127.0.0.1/h")
    assert refused.value.code == "webhook_url_refused" and "url" in refused.value.fields
    with pytest.raises(DomainError) as refused:
        webhooks.webhook_endpoint_create(
            actor=actor, scope=SYSTEM_SCOPE, url="https://8.8.8.8/h"
        )  # an endpoint belongs to a payroll key: not even an administrator registers one
    assert (refused.value.status_code, refused.value.code) == (403, "permission_denied")
    endpoint = webhooks.webhook_endpoint_create(actor=actor, scope=scope, url="https://8.8.8.8/h")
    with pytest.raises(DomainError):
        webhooks.webhook_endpoint_update(actor=actor, endpoint=endpoint, url="https://[::1]/h")
    assert WebhookEndpoint.objects.get().url == "https://8.8.8.8/h"
    assert endpoint.history.get().history_user == actor


# --- delivery ----------------------------------------------------------------------------------


def test_a_name_rebound_to_loopback_after_registration_receives_nothing(
    vendor, network, receivers, certificates
):
    receiver = receivers(204, tls=certificates[HOST])
    url = f"https://{HOST}:{receiver.port}/hooks"
    # DNS rebinding: a public address when the URL is checked, loopback from then on.
    network.answers[HOST] = [[PUBLIC_IP], ["127.0.0.1"]]
    _, api = vendor
    assert api.post("/api/v1/webhook-endpoints/", {"url": url}, format="json").status_code == 201

    attempt = _deliver(WebhookEndpoint.objects.get())

    assert (attempt.succeeded, attempt.status_code, attempt.error) == (
        False,
        None,
        "blocked_address",
    )
    assert receiver.requests == [] and network.connections == []


@pytest.mark.parametrize("answer", [["169.254.169.254"], [PUBLIC_IP, "10.0.0.7"], ["::1"]])
def test_every_resolved_address_is_checked_at_delivery(network, settings, answer):
    settings.WEBHOOK_ALLOW_INSECURE = answer != ["::1"]  # loopback is for local development
    network.answers[HOST] = [answer]
    attempt = _deliver(_endpoint(f"https://{HOST}/hooks"))
    assert attempt.error == "blocked_address" and network.connections == []


def test_delivery_connects_to_the_checked_address_with_the_name_for_host_and_tls(
    network, receivers, certificates, monkeypatch
):
    receiver = receivers(204, tls=certificates[HOST])
    monkeypatch.setenv("SSL_CERT_FILE", certificates[HOST][0])  # trust the test certificate
    network.answers[HOST] = [[PUBLIC_IP]]
    endpoint = _endpoint(f"https://{HOST}:{receiver.port}/hooks?v=1")

    attempt = _deliver(endpoint)

    assert attempt.succeeded and attempt.status_code == 204 and attempt.error == ""
    assert network.lookups == [HOST]  # resolved once
    assert network.connections == [(PUBLIC_IP, receiver.port)]  # to the address checked
    assert receiver.server_names == [HOST]  # SNI
    headers, _ = receiver.requests[0]
    assert headers["host"] == f"{HOST}:{receiver.port}"


def test_a_certificate_for_another_name_is_a_tls_error(
    network, receivers, certificates, monkeypatch
):
    receiver = receivers(204, tls=certificates["other.example"])
    monkeypatch.setenv("SSL_CERT_FILE", certificates["other.example"][0])
    network.answers[HOST] = [[PUBLIC_IP]]
    attempt = _deliver(_endpoint(f"https://{HOST}:{receiver.port}/hooks"))
    assert attempt.error == "tls_error" and receiver.requests == []


def test_a_redirect_is_a_failed_attempt_and_is_not_followed(receivers, settings):
    settings.WEBHOOK_ALLOW_INSECURE = True
    elsewhere = receivers(204)
    receiver = receivers(302, location=f"http://127.0.0.1:{elsewhere.port}/internal")

    attempt = _deliver(_endpoint(f"http://127.0.0.1:{receiver.port}/hooks"))

    assert (attempt.succeeded, attempt.status_code, attempt.error) == (False, 302, "http_302")
    assert len(receiver.requests) == 1 and elsewhere.requests == []


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_failures_are_recorded_as_categories_not_socket_text(network, settings, monkeypatch):
    settings.WEBHOOK_ALLOW_INSECURE = True
    port = _closed_port()
    refused = _deliver(_endpoint(f"http://127.0.0.1:{port}/hooks"))
    assert refused.error == "connection_refused" and str(port) not in refused.error

    network.answers[HOST] = [socket.gaierror(socket.EAI_NONAME, "Name or service not known")]
    assert _deliver(_endpoint(f"https://{HOST}/hooks")).error == "dns_error"

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # accepts, never answers
    monkeypatch.setattr(webhooks, "DELIVERY_TIMEOUT_SECONDS", 0.3)
    try:
        timed_out = _deliver(_endpoint(f"http://127.0.0.1:{silent.getsockname()[1]}/hooks"))
    finally:
        silent.close()
    assert timed_out.error == "timeout"

    settings.WEBHOOK_ALLOW_INSECURE = False
    insecure = _deliver(_endpoint(f"http://127.0.0.1:{port}/hooks"))
    assert insecure.error == "insecure_url"

    errors = set(WebhookAttempt.objects.values_list("error", flat=True))
    assert errors == {"connection_refused", "dns_error", "timeout", "insecure_url"}


def test_transport_never_raises_for_a_stored_url_the_settings_refuse():
    outcome = webhook_transport.post("ftp://x.example/", b"{}", {}, timeout=1)
    assert outcome == webhook_transport.Outcome(status=None, error="invalid_url")


# --- the payroll key ---------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["revoked", "expired"])
def test_a_revoked_or_expired_keys_endpoints_receive_nothing(receivers, settings, state):
    settings.WEBHOOK_ALLOW_INSECURE = True
    receiver = receivers(204)
    endpoint = _endpoint(f"http://127.0.0.1:{receiver.port}/hooks")
    delivery = _delivery(endpoint)  # made while the key was good
    key = endpoint.payroll_key
    if state == "revoked":
        key.revoked = True
    else:
        key.expiry_date = timezone.now() - timedelta(seconds=1)
    key.save()

    result = deliver_webhook.apply(args=[delivery.pk], throw=False).get()

    assert result == "not sent" and receiver.requests == []
    assert WebhookAttempt.objects.get().error == f"key_{state}"
    # Nothing new is announced to it, and nothing waiting is published again.
    studio = key.studios.get()
    webhooks.notify_payables_created(studio_id=studio.pk, payable_ids=[1])
    assert WebhookDelivery.objects.count() == 1


def test_an_expired_keys_endpoint_gets_no_new_delivery_and_nothing_waiting_is_sent():
    endpoint = _endpoint("https://8.8.8.8/hooks")
    # Made before the key expired, never attempted (the broker was away).
    waiting = _delivery(endpoint, created_at=timezone.now() - timedelta(minutes=5))
    key = endpoint.payroll_key
    key.expiry_date = timezone.now() - timedelta(seconds=1)
    key.save()

    webhooks.notify_payables_created(studio_id=key.studios.get().pk, payable_ids=[1])

    assert list(WebhookDelivery.objects.all()) == [waiting]
    assert webhooks.deliveries_publish_waiting(timezone.now()) == 0
