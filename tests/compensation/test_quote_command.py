"""`manage.py quote FILE.json` prints the quote of the issue's example and refuses bad input by
naming the field; it needs no database."""

import json
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

EXAMPLE = {
    "agreement": "sag-tvth-2023",
    "classification": "day_performer",
    "production_kind": "theatrical",
    "episode_minutes": None,
    "rate": {"amount": "1500.00", "unit": "day", "currency": "USD"},
    "work_days": [
        {
            "date": "2025-08-01",
            "first_call": "07:00",
            "dismissal": "19:30",
            "meals": [["13:00", "13:30"]],
            "rest_start": None,
        }
    ],
    "replica_uses": [{"kind": "ebdr_use", "date": "2025-09-10", "days": "2"}],
    "scans": [
        {
            "date": "2025-03-10",
            "hours": "3.0",
            "other_work_that_day": False,
            "for_performer_convenience": False,
        }
    ],
    "deliveries": [],
    "other_pay": [],
}


def _run(tmp_path, body):
    path = tmp_path / "quote.json"
    path.write_text(json.dumps(body))
    out = StringIO()
    call_command("quote", str(path), stdout=out)
    return json.loads(out.getvalue())


def test_prints_the_explained_quote(tmp_path):
    result = _run(tmp_path, EXAMPLE)
    amounts = [(line["rule"], line["amount"]) for line in result["lines"]]
    assert amounts == [
        ("sag.pay.day", "1500.00"),
        ("sag.pay.overtime", "562.50"),
        ("sag.pay.overtime", "750.00"),
        ("sag.pay.ebdr_creation", "1500.00"),
        ("sag.pay.ebdr_use", "3000.00"),
    ]
    assert [(f["rule"], f["amount"]) for f in result["fringes"]] == [("sag.ph", "1535.63")]
    assert result["total"] == [{"currency": "USD", "amount": "8848.13"}]
    assert result["exceptions"] == []
    assert len(result["rules_version"]) == 64


def test_a_missing_rate_is_an_exception_not_zero(tmp_path):
    body = {**EXAMPLE, "replica_uses": [{"kind": "icdr_use", "date": "2025-09-10"}]}
    result = _run(tmp_path, body)
    assert [e["code"] for e in result["exceptions"]] == ["rate_missing"]
    assert "sag.pay.bargained_use" not in [line["rule"] for line in result["lines"]]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"agreement": "sag-1999"}, "agreement"),
        ({"rate": {"amount": 1500.0, "unit": "day"}}, "rate.amount"),
        (
            {"work_days": [{"date": "2025-13-01", "first_call": "07:00", "dismissal": "19:00"}]},
            "work_days[0].date",
        ),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_input_names_the_field(tmp_path, change, field):
    with pytest.raises(CommandError, match=rf"^{re.escape(field)}:"):
        _run(tmp_path, {**EXAMPLE, **change})
