"""The published OpenAPI schema as client generators read it.

Generators take the schema literally: a `nullable` (OpenAPI 3.0's word, not 3.1's) is dropped or
read as "any", and a base class's docstring repeated on every component reads as that component's
meaning. The two hooks here are named in SPECTACULAR_SETTINGS; the operations' summaries (a short
title each, the first line of a generated function) are made here too.
"""

import re
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


# --- operation summaries (ErrorAwareAutoSchema.get_summary) ------------------------------------


def singular(noun: str) -> str:
    *qualifiers, last = noun.split()
    if last == "people":
        last = "person"
    elif last.endswith("ies"):
        last = last[:-3] + "y"
    elif last.endswith("s") and not last.endswith("ss"):
        last = last[:-1]
    return " ".join([*qualifiers, last])


API_VERSION = re.compile(r"v[0-9]+")
STANDARD_ACTIONS = {
    "list": "List {plural}",
    "retrieve": "Get {name}",
    "create": "Create {name}",
    "update": "Replace {name}",
    "partial_update": "Update {name}",
    "destroy": "Delete {name}",
}
# Custom actions named for a format or a part of the resource rather than a verb.
NOUN_ACTIONS = {
    "csv": "{Name} as CSV",
    "pdf": "{Name} as PDF",
    "export": "Export {plural} as CSV",
    "import_csv": "Import {plural} from CSV",
}


def operation_summary(*, action: str | None, method: str, names: tuple[str, str]) -> str:
    name, plural = names
    if action in STANDARD_ACTIONS:
        template = STANDARD_ACTIONS[action]
    elif action in NOUN_ACTIONS:
        template = NOUN_ACTIONS[action]
    elif action and method == "GET":
        template = f"{action.replace('_', ' ').capitalize()} of {{name}}"
    elif action:
        template = f"{action.replace('_', ' ').capitalize()} {{name}}"
    else:
        verb = {"GET": "Get", "POST": "Create", "PUT": "Replace", "PATCH": "Update"}
        template = f"{verb.get(method, method.capitalize())} {{name}}"
    text = template.format(name=name, plural=plural, Name=name[:1].upper() + name[1:])
    return text[:1].upper() + text[1:]
