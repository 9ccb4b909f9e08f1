"""The OpenAPI schema the API serves, as the tests read it: its operations, and a webhook message
checked against what its `webhooks` document."""

from functools import cache

from drf_spectacular.generators import SchemaGenerator
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMA_URI = "urn:guild-ledger:openapi"


METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}


@cache
def served_schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def operations():
    """(method, path, operation) of every operation of the schema."""
    for path, item in served_schema()["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method, path, operation


def message_validator(event_type: str) -> Draft202012Validator:
    schema = served_schema()
    body = schema["webhooks"][event_type]["post"]["requestBody"]["content"]["application/json"]
    registry = Registry().with_resource(
        SCHEMA_URI, Resource.from_contents(schema, default_specification=DRAFT202012)
    )
    ref = body["schema"]["$ref"].replace("#", f"{SCHEMA_URI}#", 1)
    return Draft202012Validator({"$ref": ref}, registry=registry)


def assert_matches_the_documented_webhook(event_type: str, message: dict) -> None:
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in message_validator(event_type).iter_errors(message)
    ]
    assert errors == [], errors
