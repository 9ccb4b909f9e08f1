"""The published OpenAPI schema as client generators read it: one body type per operation (JSON,
or multipart for a file upload), the headers the contract relies on, binary files typed as such,
valid examples, and descriptions written for the API's users."""

from urllib.parse import parse_qs, urlsplit

import pytest

from ledger.webhooks.services import WebhookEndpoint
from tests.api_schema import operations, served_schema
from tests.factories import StudioFactory, payroll_key

JSON = "application/json"
MULTIPART = "multipart/form-data"

# The operations that take a file advertise multipart only (the draft consent check, whose
# evidence is optional, reads a JSON body too, unadvertised: a generated client breaks on a body
# of two types).
UPLOADS = {
    ("post", "/api/v1/consents/"): {MULTIPART},
    ("post", "/api/v1/consents/check/"): {MULTIPART},
    ("post", "/api/v1/compensation/rate-sheets/"): {MULTIPART},
    ("post", "/api/v1/compensation/timecards/import/"): {MULTIPART},
    ("post", "/api/v1/compensation/deliveries/import/"): {MULTIPART},
    ("post", "/api/v1/residuals/credits/import/"): {MULTIPART},
    ("post", "/api/v1/residuals/exhibitions/import/"): {MULTIPART},
    ("post", "/api/v1/residuals/schedules/"): {MULTIPART},
}


def _walk(node, where=""):
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from _walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for n, value in enumerate(node):
            yield from _walk(value, f"{where}/{n}")


def test_json_operations_advertise_json_bodies_only():
    bodies = {
        (method, path): set(operation["requestBody"]["content"])
        for method, path, operation in operations()
        if "requestBody" in operation
    }
    wrong = {
        operation: types
        for operation, types in bodies.items()
        if operation not in UPLOADS and types != {JSON}
    }
    assert not wrong
    assert len(bodies) > len(UPLOADS)


def test_file_uploads_advertise_multipart():
    bodies = {
        (method, path): set(operation.get("requestBody", {}).get("content", {}))
        for method, path, operation in operations()
    }
    assert {operation: bodies.get(operation) for operation in UPLOADS} == UPLOADS


def test_no_operation_takes_a_form_urlencoded_body():
    assert "application/x-www-form-urlencoded" not in str(served_schema()["paths"])


def test_the_schema_names_its_server():
    servers = served_schema()["servers"]
    assert servers
    assert all(urlsplit(server["url"]).scheme in ("http", "https") for server in servers)


def test_a_payment_takes_an_idempotency_key_and_says_when_it_is_a_replay():
    operation = served_schema()["paths"]["/api/v1/payments/"]["post"]
    key = next(p for p in operation["parameters"] if p["name"] == "Idempotency-Key")
    assert key["in"] == "header" and key["required"] is True
    replayed = operation["responses"]["201"]["headers"]["Idempotent-Replayed"]
    assert replayed["schema"]["enum"] == ["true"]


def test_every_answer_to_retry_later_declares_retry_after():
    retried = [
        (method, path, status)
        for method, path, operation in operations()
        for status in ("429", "503")
        if status in operation["responses"]
    ]
    assert len(retried) >= 2 * sum(1 for _ in operations())
    for method, path, status in retried:
        response = served_schema()["paths"][path][method]["responses"][status]
        header = response.get("headers", {}).get("Retry-After")
        assert header and header["schema"]["type"] == "integer", (method, path, status)


@pytest.mark.parametrize(
    "path, filters",
    [
        ("/api/v1/payables/export/", {"studio", "production", "person", "fund", "due_before"}),
        ("/api/v1/payments/export/", {"payable", "person", "paid_after", "paid_before"}),
    ],
)
def test_exports_declare_the_filters_they_take(path, filters):
    operation = served_schema()["paths"][path]["get"]
    query = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
    assert filters <= query


def test_pdf_and_evidence_answers_are_typed_binary():
    files = {
        (method, path, media_type): body["schema"]
        for method, path, operation in operations()
        for status, response in operation["responses"].items()
        if status.startswith("2")
        for media_type, body in response.get("content", {}).items()
        if media_type == "application/pdf" or path.endswith("/evidence/")
    }
    assert ("get", "/api/v1/consents/{id}/evidence/", "*/*") in files
    assert any(media_type == "application/pdf" for _, _, media_type in files)
    for operation, schema in files.items():
        assert schema == {"type": "string", "format": "binary"}, operation


def test_nullable_is_always_beside_a_type():
    untyped = [
        where
        for where, node in _walk(served_schema())
        if node.get("nullable") and "type" not in node
    ]
    assert not untyped


def test_component_descriptions_are_for_the_apis_users():
    internal = [
        name
        for name, component in served_schema()["components"]["schemas"].items()
        if component.get("description", "").startswith("The project's")
    ]
    assert not internal


def test_every_page_link_example_is_a_url():
    links = [
        (name, component["properties"][link].get("example"))
        for name, component in served_schema()["components"]["schemas"].items()
        if name.startswith("Paginated")
        for link in ("next", "previous")
    ]
    assert links
    for name, example in links:
        url = urlsplit(example)
        assert url.scheme == "https" and url.netloc, (name, example)
        assert not set("\"'<> ") & set(example), (name, example)
        assert parse_qs(url.query, strict_parsing=True)["cursor"], (name, example)


# --- a body the operation does not take -------------------------------------------------------


@pytest.fixture
def payroll(db, api):
    _, raw = payroll_key(StudioFactory(), name="acme")
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return api


@pytest.mark.parametrize("fmt", ["multipart", "form"])
def test_a_form_body_to_a_json_operation_is_refused_and_writes_nothing(payroll, fmt):
    """A form body reads a yes/no left out as false: a webhook endpoint registered without
    `is_active` would be inactive. JSON operations refuse such bodies outright."""
    url = "/api/v1/webhook-endpoints/"
    body = {"url": "https://payroll.example/hooks"}
    if fmt == "form":
        response = payroll.post(
            url,
            "url=https%3A%2F%2Fpayroll.example%2Fhooks",
            content_type="application/x-www-form-urlencoded",
        )
    else:
        response = payroll.post(url, body, format="multipart")
    assert response.status_code == 415, response.content
    assert response["Content-Type"].startswith(JSON)
    error = response.json()
    assert set(error) == {"code", "message", "fields"}
    assert error["code"] == "unsupported_media_type"
    assert not WebhookEndpoint.objects.exists()


def test_a_json_body_without_is_active_registers_an_active_endpoint(payroll):
    response = payroll.post(
        "/api/v1/webhook-endpoints/", {"url": "https://payroll.example/hooks"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["is_active"] is True
    assert WebhookEndpoint.objects.get().is_active is True
