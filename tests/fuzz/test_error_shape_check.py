"""The fuzz run's own check (tests/fuzz/hooks.py) passes the API's real errors and fails anything
else: a check that cannot fail would let every malformed error through `make fuzz` unseen."""

import json

import pytest
import requests
from schemathesis.core.transport import Response

from tests.fuzz.hooks import error_has_json_shape


def _response(status, body: bytes, content_type: str, method="GET") -> Response:
    request = requests.Request(method, "http://127.0.0.1/api/v1/payables/").prepare()
    return Response(
        status, {"Content-Type": [content_type]}, body, request=request, elapsed=0, verify=True
    )


def _from_django(response) -> Response:
    request = requests.Request("GET", "http://127.0.0.1" + response.request["PATH_INFO"]).prepare()
    headers = {name: [value] for name, value in response.headers.items()}
    return Response(
        response.status_code, headers, response.content, request=request, elapsed=0, verify=True
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/api/v1/payables/", "/api/v1/no-such-thing/", "/api/v1/payables/?page_size=x"]
)
def test_the_apis_own_errors_pass(api, path):
    response = api.get(path)
    assert response.status_code >= 400
    assert error_has_json_shape(None, _from_django(response), None) is None


@pytest.mark.parametrize(
    "status, body, content_type, reason",
    [
        (500, b"<h1>Server Error</h1>", "text/html", "not JSON"),
        (400, b"{not json", "application/json", "not valid JSON"),
        (404, b'["not found"]', "application/json", "not an object"),
        (403, b'{"detail": "nope"}', "application/json", "no string 'code'"),
        (409, b'{"code": "conflict", "message": 3}', "application/json", "no string 'message'"),
        (
            400,
            json.dumps({"code": "invalid", "message": "m", "fields": ["x"]}).encode(),
            "application/json",
            "'fields' is not an object",
        ),
    ],
)
def test_anything_else_fails(status, body, content_type, reason):
    with pytest.raises(AssertionError, match=reason):
        error_has_json_shape(None, _response(status, body, content_type), None)


def test_successes_and_bodiless_head_answers_are_not_its_business():
    assert error_has_json_shape(None, _response(200, b"<p>", "text/html"), None) is None
    assert error_has_json_shape(None, _response(404, b"", "text/html", "HEAD"), None) is None
