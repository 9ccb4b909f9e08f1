"""Check a webhook message against what the served OpenAPI schema documents of it (`webhooks`)."""

from functools import cache

from drf_spectacular.generators import SchemaGenerator
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMA_URI = "urn:guild-ledger:openapi"


@cache
def _schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def message_validator(event_type: str) -> Draft202012Validator:
    schema = _schema()
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
