"""Hold a test client's answer to the OpenAPI schema, with the same validation `make fuzz` applies
(Schemathesis's own): status, content type, headers and body against the operation's response."""

from functools import cache

import requests
import schemathesis
from schemathesis.core.transport import Response


@cache
def _schema():
    from drf_spectacular.generators import SchemaGenerator

    return schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))


def assert_matches_schema(response, method: str, path: str) -> None:
    """`path` is the schema's template, e.g. "/api/v1/consents/{id}/"; raises when the answer
    breaks the schema, naming every violation."""
    url = "http://testserver" + response.request["PATH_INFO"]
    request = requests.Request(method, url).prepare()
    headers = {name.lower(): [value] for name, value in response.headers.items()}
    content = b"".join(response.streaming_content) if response.streaming else response.content
    answer = Response(
        response.status_code, headers, content, request=request, elapsed=0, verify=True
    )
    _schema()[path][method].validate_response(answer)


def operation_parameter(method: str, path: str, name: str, *, part="schema"):
    """One query parameter of an operation: its schema, or (`part=None`) the whole parameter."""
    operation = _schema().raw_schema["paths"][path][method.lower()]
    parameter = next(p for p in operation["parameters"] if p["name"] == name)
    return parameter if part is None else parameter[part]
