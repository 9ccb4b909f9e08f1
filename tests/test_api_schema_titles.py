"""How the published schema names its operations for documentation and generated clients: a short
summary of its own per operation, operation ids and tags named for the resource (not the API's
version), and descriptions written for the API's users, not for its maintainers."""

import re

import pytest

from core.api.schema import operation_summary
from tests.api_schema import operations, served_schema

# Words that belong to the code, not to the API: a description that uses one was written for
# whoever maintains a view or a serializer.
INTERNAL = re.compile(
    r"\b(serializers?|querysets?|viewsets?|create_service|update_service|docstrings?|"
    r"the project's)\b",
    re.IGNORECASE,
)


def _descriptions(node, where=""):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "description" and isinstance(value, str):
                yield where, value
            yield from _descriptions(value, f"{where}/{key}")
    elif isinstance(node, list):
        for n, value in enumerate(node):
            yield from _descriptions(value, f"{where}/{n}")


def test_every_operation_has_a_summary_of_its_own():
    summaries = [operation.get("summary") for _, _, operation in operations()]
    assert len(summaries) > 100
    assert all(summaries), [
        (method, path) for method, path, operation in operations() if not operation.get("summary")
    ]
    assert len(set(summaries)) == len(summaries), sorted(summaries)


def test_the_payroll_operations_are_named_for_their_resource():
    named = {
        (method, path): (operation["operationId"], operation["tags"], operation["summary"])
        for method, path, operation in operations()
    }
    assert named[("get", "/api/v1/payables/")] == ("payables_list", ["payables"], "List payables")
    assert named[("post", "/api/v1/payments/")] == (
        "payments_create",
        ["payments"],
        "Create payment",
    )
    assert named[("get", "/api/v1/ledger/balances/")][:2] == ("ledger_balances_list", ["ledger"])
    assert named[("post", "/api/v1/residuals/runs/{id}/approve/")][2] == "Approve residual run"


def test_no_operation_id_or_tag_is_the_api_version():
    versioned = [
        (method, path, operation["operationId"], operation.get("tags"))
        for method, path, operation in operations()
        if re.match(r"v[0-9]+_", operation["operationId"])
        or any(re.fullmatch(r"v[0-9]+", tag) for tag in operation.get("tags", []))
    ]
    assert not versioned


def test_descriptions_are_written_for_the_apis_users():
    internal = [
        (where, text[:120])
        for where, text in _descriptions(served_schema())
        if INTERNAL.search(text)
    ]
    assert not internal


@pytest.mark.parametrize(
    ("action", "method", "expected"),
    [
        ("list", "GET", "List payables"),
        ("retrieve", "GET", "Get payable"),
        ("partial_update", "PATCH", "Update payable"),
        ("export", "GET", "Export payables as CSV"),
        ("pdf", "GET", "Payable as PDF"),
        ("review", "GET", "Review of payable"),
        ("approve", "POST", "Approve payable"),
        (None, "POST", "Create payable"),
    ],
)
def test_operation_summary(action, method, expected):
    names = ("payable", "payables")
    assert operation_summary(action=action, method=method, names=names) == expected
