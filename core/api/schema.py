"""The published OpenAPI schema as client generators read it.

Generators take the schema literally: a `nullable` (OpenAPI 3.0's word, not 3.1's) is dropped or
read as "any", and a base class's docstring repeated on every component reads as that component's
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


def _null_choice(node: dict) -> None:
    """OpenAPI 3.1 spells "or null" in JSON Schema: `type: [T, "null"]`, or a null choice."""
    del node["nullable"]
    if "type" in node:
        kind = node["type"]
        node["type"] = [*kind, "null"] if isinstance(kind, list) else [kind, "null"]
        if "enum" in node and None not in node["enum"]:
            node["enum"] = [*node["enum"], None]
        return
    choices = node.pop("allOf", None) or node.pop("oneOf", None) or []
    node["oneOf"] = [*choices, {"type": "null"}]


def _type_nullables(node: Any) -> None:
    if isinstance(node, list):
        for item in node:
            _type_nullables(item)
        return
    if not isinstance(node, dict):
        return
    if node.get("nullable"):
        _null_choice(node)
    for value in node.values():
        _type_nullables(value)


def postprocess_nullable_types(result: dict, generator, request, public) -> dict:
    """A POSTPROCESSING_HOOK: the `nullable: true` that some parts still write (DRF's page
    schema, a nullable nested object) becomes OpenAPI 3.1's JSON Schema null."""
    _type_nullables(result)
    return result
