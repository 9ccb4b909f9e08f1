"""`manage.py residuals FILE.json` prints the residual lines of the README's example, refuses bad
input by naming the field, writes nothing and needs no database."""

import copy
import json
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

EXAMPLE = {
    "agreement": "wga-mba-2023",
    "work": {"title": "Pilot", "type": "episode", "running_minutes": 60},
    "schedule": {
        "name": "HBSVOD schedule 2025",
        "source": "official residual schedule, loaded 2025-01-10",
        "tier": "P",
        "bases": {"episode:60": "20000.00"},
        "subscriber_factors": {"tier_2": "1"},
        "exhibition_year_percent": {"1:domestic": "10", "1:foreign": "5"},
    },
    "exhibitions": [
        {
            "market": "hbsvod",
            "service": "Streamer",
            "subscriber_tier": "tier_2",
            "exhibition_year": 1,
            "period_from": "2025-01-01",
            "period_to": "2025-12-31",
            "hours_streamed_first_90_days": "2000000",
            "domestic_subscribers": 10000000,
        }
    ],
    "participants": [
        {"id": "W1", "role": "writer", "credit": "story_by"},
        {"id": "W2", "role": "writer", "credit": "screenplay_by"},
    ],
}


def _run(tmp_path, body):
    path = tmp_path / "residuals.json"
    path.write_text(json.dumps(body))
    out = StringIO()
    call_command("residuals", str(path), stdout=out)
    return json.loads(out.getvalue())


def test_prints_the_explained_residuals(tmp_path):
    result = _run(tmp_path, EXAMPLE)
    lines = [
        (line["rule"], line["territory"], line["payee"]["id"], line["amount"])
        for line in result["lines"]
    ]
    assert lines == [
        ("wga.residual.hbsvod", "domestic", "W1", "500.00"),
        ("wga.residual.hbsvod", "domestic", "W2", "1500.00"),
        ("wga.residual.hbsvod", "foreign", "W1", "250.00"),
        ("wga.residual.hbsvod", "foreign", "W2", "750.00"),
        ("wga.residual.success_bonus", "worldwide", "W1", "375.00"),
        ("wga.residual.success_bonus", "worldwide", "W2", "1125.00"),
        ("residual.ph", "worldwide", "wga-health", "135.00"),
        ("residual.ph", "worldwide", "wga-pension", "95.63"),
        ("residual.ph", "worldwide", "wga-health", "405.00"),
        ("residual.ph", "worldwide", "wga-pension", "286.88"),
    ]
    assert result["total"] == [{"currency": "USD", "amount": "5422.51"}]
    assert result["exceptions"] == []
    first = result["lines"][0]
    assert first["due"]["date"] == "2026-04-30"
    assert first["due"]["rule"] == "residual.due"
    assert [(f["parameter"], f["value"], f["tier"]) for f in first["factors"]] == [
        ("base:episode:60", "20000.00", "P"),
        ("subscriber_factor:tier_2", "1", "P"),
        ("exhibition_year:1:domestic", "10", "P"),
        ("credit_share:story_by", "0.25", "P"),
    ]
    assert first["factors"][0]["sheet"] == "HBSVOD schedule 2025"


def test_a_missing_factor_is_an_exception_naming_the_key_and_date(tmp_path):
    body = copy.deepcopy(EXAMPLE)
    del body["schedule"]["subscriber_factors"]
    result = _run(tmp_path, body)
    assert result["lines"] == []
    assert result["total"] == []
    assert {(e["code"], e["rule"], e["parameter"], e["date"]) for e in result["exceptions"]} == {
        ("rate_missing", "wga.residual.hbsvod", "subscriber_factor:tier_2", "2025-01-01"),
        ("rate_missing", "wga.residual.success_bonus", "subscriber_factor:tier_2", "2025-01-01"),
    }


def _with(path: str, value):
    body = copy.deepcopy(EXAMPLE)
    *parents, last = path.split(".")
    target = body
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    target[last] = value
    return body


@pytest.mark.parametrize(
    "body, field",
    [
        (_with("agreement", "iatse-basic-2024"), "agreement"),
        (_with("surprise", 1), "surprise"),
        (_with("work.running_minutes", "60"), "work.running_minutes"),
        (_with("schedule.bases", {"episode:60": 20000.0}), "schedule.bases.episode:60"),
        (_with("schedule.bases", {"episode": "20000"}), "schedule.bases.episode"),
        (_with("schedule.tier", "X"), "schedule.tier"),
        (
            _with("schedule.exhibition_year_percent", {"1:domestic": "101"}),
            "schedule.exhibition_year_percent.1:domestic",
        ),
        (_with("exhibitions.0.market", "cinema"), "exhibitions[0].market"),
        (_with("exhibitions.0.gross_receipts", "100"), "exhibitions[0].gross_receipts"),
        (_with("exhibitions.0.period_to", "2024-12-31"), "exhibitions[0].period_to"),
        (_with("exhibitions.0.views_first_90_days", "5"), "exhibitions[0].views_first_90_days"),
        (_with("exhibitions.0.domestic_subscribers", 0), "exhibitions[0].domestic_subscribers"),
        (_with("exhibitions", []), "exhibitions"),
        (_with("participants.0.credit", "directed_by"), "participants[0].credit"),
        (_with("participants.0.role", "performer"), "participants[0].role"),
        (_with("participants.1.id", "W1"), "participants[1].id"),
    ],
)
def test_bad_input_names_the_field(tmp_path, body, field):
    path = tmp_path / "residuals.json"
    path.write_text(json.dumps(body))
    with pytest.raises(CommandError, match=f"^{re.escape(field)}: "):
        call_command("residuals", str(path), stdout=StringIO())


def test_a_performer_needs_days(tmp_path):
    body = copy.deepcopy(EXAMPLE)
    body["agreement"] = "sag-tvth-2023"
    body["participants"] = [{"id": "P1", "role": "performer", "replica_days": "0"}]
    path = tmp_path / "residuals.json"
    path.write_text(json.dumps(body))
    with pytest.raises(CommandError, match=r"^participants\[0\]\.days_in_person: "):
        call_command("residuals", str(path), stdout=StringIO())


def test_an_unreadable_file_is_a_clear_error(tmp_path):
    path = tmp_path / "residuals.json"
    path.write_text("{not json")
    with pytest.raises(CommandError, match="Cannot read the what-if file"):
        call_command("residuals", str(path), stdout=StringIO())


def test_the_help_documents_the_format():
    from compensation.management.commands.residuals import Command

    for word in ("exhibition_year_percent", "subscriber_factors", "first_period", "replica_days"):
        assert word in Command.help
