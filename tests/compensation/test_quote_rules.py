"""The compensation rules of RULES.md §3 through `quote()`: pure, no database."""

import json
from datetime import date
from decimal import Decimal

import pytest

from compensation.rules.params import (
    ParameterFileError,
    Parameters,
    RateMissing,
    load,
    parse_series,
    shipped,
)
from compensation.rules.quote import quote
from core.parse import ParseError

D = Decimal


def run(body, params=None) -> dict:
    return quote(body, params).as_dict()


def rules(out, rule):
    return [line for line in out["lines"] if line["rule"] == rule]


def amounts(out, rule):
    return [(D(line["quantity"]), D(line["rate"]), D(line["amount"])) for line in rules(out, rule)]


def problems(out, code="rate_missing"):
    return [
        (p["rule"], p.get("parameter"), p.get("date"))
        for p in out["exceptions"]
        if p["code"] == code
    ]


def total(out):
    return {t["currency"]: D(t["amount"]) for t in out["total"]}


def with_schedule(values: dict[str, tuple[str, str]]) -> Parameters:
    """Shipped parameters plus series standing in for a loaded schedule: name -> (unit, value)."""
    extra = {
        name: parse_series(
            {
                "parameter": name,
                "rule": "test",
                "unit": unit,
                "values": [{"from": None, "value": value, "tier": "P", "source": "test sheet"}],
            }
        )
        for name, (unit, value) in values.items()
    }
    return Parameters({**shipped().series, **extra})


def sag_day(date="2025-08-01", rate="1500", **day):
    work_day = {"date": date, "first_call": "07:00", "dismissal": "19:30"}
    work_day.update(day)
    return {
        "agreement": "sag-tvth-2023",
        "classification": "day_performer",
        "production_kind": "theatrical",
        "rate": {"amount": rate, "unit": "day"},
        "work_days": [work_day],
    }


# --- SAG-AFTRA ----------------------------------------------------------------------------


def test_sag_issue_example():
    body = sag_day(meals=[["13:00", "13:30"]])
    body["replica_uses"] = [{"kind": "ebdr_use", "date": "2025-08-04", "days": "2"}]
    body["scans"] = [{"date": "2025-08-05", "hours": "3"}]
    out = run(body)
    assert amounts(out, "sag.pay.day") == [(1, 1500, D("1500.00"))]
    assert amounts(out, "sag.pay.overtime") == [
        (2, D("281.25"), D("562.50")),
        (2, D("375"), D("750.00")),
    ]
    assert amounts(out, "sag.pay.ebdr_use") == [(2, 1500, D("3000.00"))]
    assert rules(out, "sag.pay.ebdr_use")[0]["flags"] == ["residuals"]
    assert amounts(out, "sag.pay.ebdr_creation") == [(1, 1500, D("1500.00"))]
    assert rules(out, "sag.pay.meal_penalty") == []
    [ph] = out["fringes"]
    assert D(ph["base"]) == D("7312.50") and D(ph["rate"]) == D("0.21")
    assert D(ph["amount"]) == D("1535.63")
    assert total(out) == {"USD": D("7312.50") + D("1535.63")}
    assert out["exceptions"] == []


def test_sag_money_break():
    # 2025-08-01: day minimum 1246, money break 2492. A $3000 day gets nothing for hours 9-10
    # and 1.5 × (2492 ÷ 8) beyond 10.
    out = run(sag_day(rate="3000", meals=[["13:00", "13:30"]]))
    assert amounts(out, "sag.pay.overtime") == [(2, D("467.25"), D("934.50"))]


def test_sag_overtime_in_tenths_rounded_up():
    # 07:00 to 16:31 with a 30-minute meal: 9 h 1 min of work → 9.1 h, 1.1 h overtime.
    out = run(sag_day(dismissal="16:31", meals=[["12:00", "12:30"]]))
    [line] = rules(out, "sag.pay.overtime")
    assert D(line["quantity"]) == D("1.1")
    # 8 h 1 min of work → 8.1 h, 0.1 h overtime.
    out = run(sag_day(dismissal="15:31", meals=[["12:00", "12:30"]]))
    [line] = rules(out, "sag.pay.overtime")
    assert D(line["quantity"]) == D("0.1")
    assert D(line["amount"]) == D("28.13")  # 0.1 × 281.25, rounded half-up once


def test_sag_meal_penalty():
    # First meal due 13:00; taken 14:10 → 3 half hours late: 2 × 25 + 1 × 50.
    out = run(sag_day(meals=[["14:10", "14:40"]]))
    assert amounts(out, "sag.pay.meal_penalty") == [(2, 25, D("50.00")), (1, 50, D("50.00"))]


def test_sag_ph_theatrical_ceiling():
    body = sag_day(rate="100000", dismissal="15:00")
    body["prior_covered"] = "200000"
    out = run(body)
    [ph] = out["fringes"]
    assert D(ph["base"]) == D("32000.00")  # 232,000 ceiling less 200,000 covered before
    assert D(ph["amount"]) == D("6720.00")


def test_sag_ph_tv_episode_ceiling():
    body = sag_day(date="2025-08-01", rate="30000", dismissal="15:00", episode="E1")
    body["production_kind"] = "television"
    body["episode_minutes"] = 60
    body["work_days"].append(
        {"date": "2025-08-02", "first_call": "07:00", "dismissal": "15:00", "episode": "E2"}
    )
    out = run(body)
    bases = sorted(D(f["base"]) for f in out["fringes"])
    assert bases == [D("30000.00"), D("30000.00")]  # under the one-hour ceiling of 35,000
    body["rate"]["amount"] = "40000"
    out = run(body)
    assert [D(f["base"]) for f in out["fringes"]] == [D("35000.00"), D("35000.00")]


@pytest.mark.parametrize(
    "on, minimum",
    [
        ("2023-11-08", "1082"),
        ("2023-11-09", "1158"),
        ("2024-06-30", "1158"),
        ("2024-07-01", "1204"),
        ("2025-06-30", "1204"),
        ("2025-07-01", "1246"),
        ("2026-06-30", "1246"),
        ("2026-07-01", "1283"),
    ],
)
def test_sag_day_minimum_on_each_effective_date(on, minimum):
    body = sag_day(date=on, rate="500", dismissal="15:00")
    [line] = rules(run(body), "sag.pay.day")
    assert D(line["rate"]) == D(minimum)
    assert "below_scale" in line["flags"]
    assert line["parameters"][0]["parameter"] == "sag.minimum.day_performer"


def test_sag_stand_in_before_2023_11_09_is_rate_missing():
    body = sag_day(date="2023-11-08", dismissal="15:00")
    body["classification"] = "stand_in"
    body.pop("rate")
    out = run(body)
    assert ("sag.pay.day", "sag.minimum.stand_in", "2023-11-08") in problems(out)
    assert rules(out, "sag.pay.day") == []
    body["work_days"][0]["date"] = "2023-11-09"
    assert D(rules(run(body), "sag.pay.day")[0]["rate"]) == 243


def test_sag_bargained_use_without_amount_is_rate_missing():
    body = sag_day(dismissal="15:00")
    body["replica_uses"] = [{"kind": "new_project_use", "date": "2025-08-03"}]
    out = run(body)
    assert [p[0] for p in problems(out)] == ["sag.pay.bargained_use"]
    assert rules(out, "sag.pay.day")  # the rest of the quote is still there


# --- WGA ------------------------------------------------------------------------------------


def wga_body(**extra):
    body = {"agreement": "wga-mba-2023", "production_kind": "theatrical"}
    body.update(extra)
    return body


def test_wga_minimum_without_schedule_is_rate_missing():
    out = run(
        wga_body(
            deliveries=[{"work_type": "screenplay", "date": "2024-06-01"}],
            other_pay=[{"date": "2024-06-01", "amount": "100000"}],
        )
    )
    assert problems(out) == [("wga.pay.minimum", "wga.minimum.screenplay", "2024-06-01")]
    assert [line["rule"] for line in out["lines"]] == ["other_pay"]
    assert {f["fund"]: D(f["amount"]) for f in out["fringes"]} == {
        "wga-health": D("12000.00"),
        "wga-pension": D("8500.00"),
    }  # evidence.md §7 E


def test_wga_first_writer_names_the_original_work():
    out = run(
        wga_body(
            deliveries=[
                {"work_type": "rewrite", "date": "2024-06-01", "ai_material_handed_over": True}
            ]
        )
    )
    [problem] = out["exceptions"]
    assert problem["rule"] == "wga.pay.first_writer"
    assert problem["parameter"] == "wga.minimum.screenplay"
    assert "first writer" in problem["message"]
    body = wga_body(
        production_kind="television",
        deliveries=[{"work_type": "polish", "date": "2024-06-01", "ai_material_handed_over": True}],
    )
    assert run(body)["exceptions"][0]["parameter"] == "wga.minimum.teleplay"


def test_wga_top_up_with_a_loaded_schedule():
    params = with_schedule({"wga.minimum.screenplay": ("USD/work", "90000")})
    body = wga_body(
        deliveries=[
            {"work_type": "rewrite", "date": "2024-06-01", "ai_material_handed_over": True}
        ],
        other_pay=[{"date": "2024-06-01", "amount": "30000", "description": "rewrite fee"}],
    )
    out = run(body, params)
    [top_up] = rules(out, "wga.pay.first_writer")
    assert D(top_up["amount"]) == D("60000.00")
    assert top_up["parameters"][0]["parameter"] == "wga.minimum.screenplay"
    assert total(out)["USD"] == D("90000") * D("1.205")
    body["other_pay"][0]["amount"] = "95000"
    assert rules(run(body, params), "wga.pay.first_writer") == []


def test_wga_health_rate_switch_on_2024_05_02():
    out = run(
        wga_body(
            other_pay=[
                {"date": "2024-05-01", "amount": "10000"},
                {"date": "2024-05-02", "amount": "10000"},
            ]
        )
    )
    health = sorted(
        (f["date"], D(f["rate"]), D(f["amount"]))
        for f in out["fringes"]
        if f["fund"] == "wga-health"
    )
    assert health == [
        ("2024-05-01", D("0.115"), D("1150.00")),
        ("2024-05-02", D("0.12"), D("1200.00")),
    ]


# --- IATSE ----------------------------------------------------------------------------------


def iatse_body(*days, rate="50", unit="hour", **extra):
    body = {
        "agreement": "iatse-basic-2024",
        "classification": "set_dresser",
        "rate": {"amount": rate, "unit": unit},
        "work_days": list(days),
    }
    body.update(extra)
    return body


def day(on="2024-09-02", call="06:00", dismissal="14:00", **extra):
    return {"date": on, "first_call": call, "dismissal": dismissal, **extra}


def test_iatse_without_schedule_pays_the_negotiated_rate_and_reports_the_scale():
    out = run(iatse_body(day()))
    assert amounts(out, "iatse.pay.hourly") == [(8, 50, D("400.00"))]
    assert {p[1] for p in problems(out)} == {
        "iatse.scale.set_dresser",
        "iatse.set_dresser.overtime_after_hours",
    }
    out = run(iatse_body(day(), rate=None) | {"rate": None})
    assert rules(out, "iatse.pay.hourly") == []
    assert ("iatse.pay.hourly", "iatse.scale.set_dresser", "2024-09-02") in problems(out)


def test_iatse_triple_time_after_15_elapsed_hours():
    # 16 elapsed hours, a half-hour meal at 12:00: the last hour is at 3 × 50 = 150.
    out = run(iatse_body(day(dismissal="22:00", meals=[["12:00", "12:30"]])))
    assert amounts(out, "iatse.pay.hourly") == [(D("15.5"), 50, D("775.00"))]
    assert amounts(out, "iatse.pay.triple_time") == [(1, 100, D("100.00"))]  # 1 × 50 + 100 = 150
    # Before 2024-08-04 the rule has no value: reported, not guessed.
    out = run(iatse_body(day(on="2024-08-03", dismissal="22:00", meals=[["12:00", "12:30"]])))
    assert rules(out, "iatse.pay.triple_time") == []
    assert ("iatse.pay.triple_time", "iatse.triple_time.after_elapsed_hours", "2024-08-03") in (
        problems(out)
    )
    # A short day before then needs no triple time at all.
    out = run(iatse_body(day(on="2024-08-03")))
    assert not [p for p in problems(out) if p[0] == "iatse.pay.triple_time"]


def test_iatse_triple_time_over_a_loaded_overtime_band():
    params = with_schedule(
        {
            "iatse.scale.set_dresser": ("USD/hour", "40"),
            "iatse.set_dresser.overtime_after_hours": ("hours", "8"),
            "iatse.set_dresser.overtime_multiplier": ("multiplier", "1.5"),
        }
    )
    out = run(iatse_body(day(dismissal="22:00", meals=[["12:00", "12:30"]])), params)
    assert out["exceptions"] == []
    assert amounts(out, "iatse.pay.hourly") == [
        (8, 50, D("400.00")),
        (D("7.5"), D("75.0"), D("562.50")),
    ]
    assert amounts(out, "iatse.pay.triple_time") == [(1, D("75.0"), D("75.00"))]  # 1.5 + 1.5 = 3


def test_iatse_rest_violation():
    # Rest began 21:00 the day before, call 06:00: 1 hour inside the 10-hour rest.
    out = run(iatse_body(day(rest_start="21:00")))
    assert amounts(out, "iatse.pay.rest_violation") == [(1, 50, D("50.00"))]  # 2 × in place of 1 ×
    out = run(iatse_body(day(rest_start="2024-09-01T20:00")))
    assert rules(out, "iatse.pay.rest_violation") == []
    # Straight time before 2024-08-04: no premium.
    out = run(iatse_body(day(on="2024-08-03", rest_start="21:00")))
    assert rules(out, "iatse.pay.rest_violation") == []
    # Inferred from the previous work day's dismissal.
    out = run(iatse_body(day(on="2024-09-01", call="12:00", dismissal="21:00"), day()))
    assert amounts(out, "iatse.pay.rest_violation") == [(1, 50, D("50.00"))]


def test_iatse_meal_penalty_75_minutes_is_33_dollars():
    out = run(iatse_body(day(meals=[["13:15", "13:45"]])))  # due 12:00, 75 minutes late
    assert sum(a for *_, a in amounts(out, "iatse.pay.meal_penalty")) == D("33.00")


def test_iatse_seventh_day():
    days = [day(on=f"2024-09-{n:02d}") for n in range(2, 9)]
    out = run(iatse_body(*days, rate="2500", unit="week"))
    assert amounts(out, "iatse.pay.seventh_day") == [(1, 1000, D("1000.00"))]  # 2 × 2500 ÷ 5
    assert rules(out, "iatse.pay.seventh_day")[0]["date"] == "2024-09-08"
    out = run(iatse_body(*days[:6], rate="2500", unit="week"))
    assert rules(out, "iatse.pay.seventh_day") == []


def test_iatse_kit_rental():
    out = run(
        iatse_body(day(), day(on="2024-09-03"), ai_kit_rental={"amount": "50.00", "per": "day"})
    )
    assert amounts(out, "iatse.pay.kit_rental_ai") == [(2, 50, D("100.00"))]
    out = run(iatse_body(day(), ai_kit_rental={"amount": "75.00", "per": "flat"}))
    assert amounts(out, "iatse.pay.kit_rental_ai") == [(1, 75, D("75.00"))]
    with pytest.raises(ParseError) as error:
        run(iatse_body(day(), ai_kit_rental={"amount": "75.00", "per": "week"}))
    assert error.value.field == "ai_kit_rental.per"


# --- the parameter loader -------------------------------------------------------------------


def series(*values, unit="USD/day"):
    return {"parameter": "x.rate", "rule": "x.pay", "unit": unit, "values": list(values)}


def value(start, amount="1", **extra):
    return {"from": start, "value": amount, "tier": "P", "source": "sheet", **extra}


def write(tmp_path, raw):
    (tmp_path / "x.json").write_text(json.dumps(raw) if not isinstance(raw, str) else raw)
    return tmp_path


def test_loader_refuses_floats(tmp_path):
    raw = '{"parameter": "x.rate", "rule": "x.pay", "unit": "USD/day", "values": [{"from": null, "value": 1.5, "tier": "P", "source": "s"}]}'  # noqa: E501
    with pytest.raises(ParameterFileError, match="float"):
        load(write(tmp_path, raw))
    with pytest.raises(ParameterFileError, match="decimal string"):
        parse_series(series(value(None, 15)))


def test_loader_refuses_duplicate_dates():
    with pytest.raises(ParameterFileError, match="duplicate"):
        parse_series(series(value("2024-01-01"), value("2024-01-01")))
    with pytest.raises(ParameterFileError, match="order"):
        parse_series(series(value("2024-02-01"), value("2024-01-01")))


def test_loader_refuses_a_missing_source():
    with pytest.raises(ParameterFileError, match="source"):
        parse_series(series(value(None, source="")))
    with pytest.raises(ParameterFileError, match="tier"):
        parse_series(series(value(None, tier="X")))


def test_loader_refuses_a_unit_change():
    with pytest.raises(ParameterFileError, match="unit"):
        parse_series(series(value(None), value("2024-01-01", unit="USD/week")))


def test_shipped_parameters_load_and_missing_is_never_zero():
    params = load()
    assert params.get("sag.minimum.day_performer", date(2025, 7, 1)).value == 1246
    with pytest.raises(RateMissing) as missing:
        params.get("sag.minimum.stand_in", date(2023, 11, 8))
    assert missing.value.parameter == "sag.minimum.stand_in"
