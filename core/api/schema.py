"""The published OpenAPI schema as client generators read it.

Generators take the schema literally: a `nullable` with no `type` beside it is dropped or read as
"any", and a base class's docstring repeated on every component reads as that component's
meaning. The two hooks here are named in SPECTACULAR_SETTINGS.
"""

from typing import Any


def lib_doc_excludes() -> list[type]:
    """drf-spectacular's GET_LIB_DOC_EXCLUDES: the project's base classes join the library's, so
    a serializer or view without a docstring of its own has no description, rather than the
    base class's notes on how it is built."""
    from drf_spectacular.plumbing import get_lib_doc_excludes

    from core.api.fields import ModelSerializer

    return [*get_lib_doc_excludes(), ModelSerializer]


def _ref_type(schema: dict, components: dict) -> str | None:
    """The JSON type a subschema stands for: its own, or that of the component it references.
    None for the null choice (NullEnum) and for a subschema of no single type."""
    ref = schema.get("$ref")
    if ref is not None:
        schema = components.get(ref.rsplit("/", 1)[-1], {})
    if "type" in schema:
        return schema["type"]
    values = schema.get("enum")
    if values and all(isinstance(value, str) for value in values):
        return "string"
    return None


def _type_nullables(node: Any, components: dict) -> None:
    if isinstance(node, list):
        for item in node:
            _type_nullables(item, components)
        return
    if not isinstance(node, dict):
        return
    if node.get("nullable") and "type" not in node:
        choices = node.get("allOf") or node.get("oneOf") or node.get("anyOf") or []
        types = {_ref_type(choice, components) for choice in choices} - {None}
        if len(types) == 1:
            node["type"] = types.pop()
    for value in node.values():
        _type_nullables(value, components)


def postprocess_nullable_types(result: dict, generator, request, public) -> dict:
    """A POSTPROCESSING_HOOK: `nullable: true` beside a `$ref` (a nullable nested object, a
    nullable choice) gets the type of what it references; OpenAPI 3.0 reads `nullable` only
    beside a `type`."""
    components = result.get("components", {}).get("schemas", {})
    _type_nullables(result, components)
    return result
