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


def test_computes_a_2027_day_under_sag_tvth_2026(tmp_path):
    body = {
        "agreement": "sag-tvth-2026",
        "classification": "day_performer",
        "production_kind": "theatrical",
        "work_days": [{"date": "2027-07-01", "first_call": "07:00", "dismissal": "13:00"}],
    }
    result = _run(tmp_path, body)
    [day] = result["lines"]
    assert (day["rule"], day["amount"], day["tier"]) == ("sag.pay.day", "1321.00", "D")
    [ph] = result["fringes"]
    assert (ph["amount"], ph["flags"]) == ("277.41", ["needs_confirmation"])
    assert result["exceptions"] == []


def test_computes_a_2028_delivery_under_wga_mba_2026(tmp_path):
    body = {
        "agreement": "wga-mba-2026",
        "production_kind": "theatrical",
        "deliveries": [{"work_type": "screenplay", "date": "2028-06-01"}],
        "other_pay": [{"date": "2028-06-01", "amount": "450000"}],
    }
    result = _run(tmp_path, body)
    assert [(f["fund"], f["base"], f["amount"]) for f in result["fringes"]] == [
        ("wga-health", "400000.00", "67000.00"),
        ("wga-pension", "400000.00", "34000.00"),
    ]
    assert [(e["code"], e["parameter"]) for e in result["exceptions"]] == [
        ("rate_missing", "wga.minimum.screenplay")
    ]


def test_a_quote_under_non_union_is_refused(tmp_path):
    with pytest.raises(CommandError, match=r"^agreement: non-union: no union pay rules"):
        _run(tmp_path, {**EXAMPLE, "agreement": "non-union"})
