"""The API as a generated client sees it: openapi-python-client builds a Python package from the
schema the live server serves, every module of that package imports, and the payroll contract
works through the package's own functions: page through payables following `next`, record a
payment under an Idempotency-Key and replay it, read the balances.

The live server needs a transactional database, emptied after the test; SQLite's journal
triggers refuse that, so the test is marked `postgres` (as the browser tests are)."""

import importlib
import json
import os
import re
import subprocess
import sys
import urllib.request
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection

from ledger.models import Payment
from tests.factories import (
    EngagementFactory,
    PersonFactory,
    ProductionFactory,
    StudioFactory,
    agreement,
    payroll_key,
    studio_staff,
)
from tests.helpers import make_payable

pytestmark = pytest.mark.postgres

PACKAGE = "guild_ledger_client"
BIN = Path(sys.executable).parent
# The generator types no download it does not know (a PDF, an evidence file of any type); its
# documentation's remedy is to read them as `application/octet-stream`, which it returns as a File.
GENERATOR_CONFIG = """\
content_type_overrides:
  application/pdf: application/octet-stream
  "*/*": application/octet-stream
"""
# How the generator reports a part of the schema it could not turn into code.
PROBLEM = re.compile(r"^(WARNING|ERROR)\b.*$", re.M)


def generate(schema: dict, out: Path) -> tuple[Path, str]:
    """The package generated from `schema` (written beside it), and the generator's output."""
    source = out / "schema.json"
    source.write_text(json.dumps(schema))
    config = out / "generator.yml"
    config.write_text(GENERATOR_CONFIG)
    package = out / PACKAGE
    # ruff on PATH: the generator formats what it writes with it.
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        [
            str(BIN / "openapi-python-client"),
            "generate",
            "--path",
            str(source),
            "--output-path",
            str(package),
            "--meta",
            "none",
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=out,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return package, output


def import_every_module(package: Path) -> dict[str, str]:
    """Import each module of the generated package; {module: error} for those that fail."""
    failures = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        try:
            importlib.import_module(name)
        except Exception as error:  # every failure is reported, whatever its kind
            failures[name] = f"{type(error).__name__}: {error}"
    return failures


@pytest.fixture
def client_package(live_server, tmp_path):
    """The client package generated from the live server's schema, importable as PACKAGE."""
    if connection.vendor != "postgresql":
        pytest.fail(
            "The generated-client test needs the PostgreSQL test database (DATABASE_URL): on "
            "SQLite the live server's database cannot be emptied after the test.",
            pytrace=False,
        )
    request = urllib.request.Request(
        f"{live_server.url}/api/schema/?format=json", headers={"Accept": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        schema = json.loads(response.read())
    package, output = generate(schema, tmp_path)
    sys.path.insert(0, str(tmp_path))
    try:
        yield package, output
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


@pytest.fixture
def payroll_world():
    """Five payables of one studio, due to two people, and a payroll key for that studio."""
    studio = StudioFactory(name="Client Pictures", slug="client-pictures")
    production = ProductionFactory(studio=studio, title="Client One")
    staff = studio_staff(studio, "client-staff")
    sag = agreement("sag-tvth-2023")
    people = [
        PersonFactory(legal_name=name, payroll_ref=ref, registered_by=studio)
        for name, ref in (("Cara Client", "PR-CARA"), ("Cole Client", "PR-COLE"))
    ]
    engagements = [
        EngagementFactory(person=person, production=production, agreement=sag) for person in people
    ]
    amounts = ["1000.00", "800.00", "650.50", "420.00", "300.00"]
    payables = [
        make_payable(engagements[index % 2], amount, actor=staff)
        for index, amount in enumerate(amounts)
    ]
    _key, raw = payroll_key(studio, name="client-payroll")
    return {"studio": studio, "production": production, "payables": payables, "key": raw}


def test_the_generated_client_imports_and_drives_the_payroll_contract(
    live_server, client_package, payroll_world
):
    package, output = client_package
    assert PROBLEM.findall(output) == [], output

    failures = import_every_module(package)
    modules = list(package.rglob("*.py"))
    assert len(modules) > 100, "a module for every operation and component"
    assert failures == {}, "\n".join(f"{name}: {error}" for name, error in failures.items())

    from guild_ledger_client import AuthenticatedClient
    from guild_ledger_client.api.ledger import ledger_balances_list
    from guild_ledger_client.api.payables import payables_list
    from guild_ledger_client.api.payments import payments_create
    from guild_ledger_client.models import (
        Balance,
        LedgerBalancesListGroup,
        PaginatedPayableList,
        PaymentRequest,
    )
    from guild_ledger_client.models import (
        Payment as PaymentModel,
    )
    from guild_ledger_client.types import UNSET

    client = AuthenticatedClient(
        base_url=live_server.url, token=payroll_world["key"], prefix="Api-Key"
    )

    # Payables, two to a page, following `next` by its cursor.
    seen, pages, cursor = [], 0, UNSET
    while True:
        page = payables_list.sync(client=client, page_size="2", cursor=cursor)
        assert isinstance(page, PaginatedPayableList), page
        pages += 1
        seen += [(item.id, item.amount, item.due) for item in page.results]
        if not page.next_:
            break
        cursor = parse_qs(urlsplit(page.next_).query)["cursor"][0]
    expected = [(p.pk, f"{p.amount:.2f}", f"{p.amount:.2f}") for p in payroll_world["payables"]]
    assert (pages, sorted(seen)) == (3, sorted(expected))

    # A payment under an Idempotency-Key, then the same request again: the stored answer.
    first = payroll_world["payables"][0]
    body = PaymentRequest(
        payable=first.pk,
        amount="250.00",
        paid_at=datetime(2025, 7, 1, 12, 0, tzinfo=UTC),
        payroll_reference="CLIENT-0001",
    )
    key = f"client-{uuid.uuid4()}"
    made = payments_create.sync_detailed(client=client, body=body, idempotency_key=key)
    assert made.status_code == 201, made.content
    assert "Idempotent-Replayed" not in made.headers
    payment = made.parsed
    assert isinstance(payment, PaymentModel), made.content
    assert (payment.payable, payment.amount, payment.payroll_reference) == (
        first.pk,
        "250.00",
        "CLIENT-0001",
    )
    again = payments_create.sync_detailed(client=client, body=body, idempotency_key=key)
    assert again.status_code == 201, again.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.parsed == payment
    assert Payment.objects.filter(payable=first).count() == 1

    # The balances read back what was owed and what the payment paid.
    balances = ledger_balances_list.sync(client=client, group=LedgerBalancesListGroup.PRODUCTION)
    assert isinstance(balances, list) and all(isinstance(b, Balance) for b in balances), balances
    owed = sum(p.amount for p in payroll_world["payables"])
    assert [
        (b.production, b.currency, Decimal(b.owed), Decimal(b.paid), Decimal(b.due))
        for b in balances
    ] == [
        (
            payroll_world["production"].pk,
            "USD",
            owed,
            Decimal("250.00"),
            owed - Decimal("250.00"),
        )
    ]
