"""Compensation over REST, as studio staff, guild staff and payroll use it: the quote (explained
lines, field-named errors, `rate_missing` beside the lines it could compute, no writes), loading
official rate sheets (CSV and JSON, numbered per agreement and name, superseding the shipped
figures only for their dates, refused whole with row-level problems), timecards and WGA
deliveries (recorded, corrected with history, imported from CSV all or nothing), and runs (start
→ computed → approved → payables; reruns that post only differences; held AI uses released or
voided)."""

import json
from decimal import Decimal

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from compensation.api import QUOTE_EXAMPLE
from compensation.models import (
    CompensationLine,
    CompensationRun,
    HoldResolution,
    RateSheet,
    RateSheetValue,
    RunPosting,
    Timecard,
    WgaDelivery,
)
from ledger.models import JournalTransaction, Payable
from tests.compensation.api_helpers import (
    DELIVERIES,
    HOLDS,
    LINES,
    NONEXISTENT_ID,
    QUOTE,
    RUNS,
    SHEETS,
    TERMS,
    TIMECARDS,
    approve,
    build_world,
    clear_parameter_cache,
    client_for,
    counts,
    journal,
    load_sheet,
    ok,
    open_payables,
    payable_leg_total,
    quote_body,
    record_day,
    record_violation,
    results,
    run_lines,
    start_run,
    timecard_body,
    upload,
)
from tests.helpers import assert_error, key_client
from tests.openapi import assert_matches_schema

pytestmark = pytest.mark.django_db

D = Decimal
ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
SAG_LABEL = "sag-tvth-2023:SAG-AFTRA rates 2025-26 v1"
PERIOD_BODY = {"period_from": "2025-08-04", "period_to": "2025-08-10", "due_date": "2025-08-20"}


@pytest.fixture(autouse=True)
def fresh_parameters():
    clear_parameter_cache()
    yield
    clear_parameter_cache()


@pytest.fixture
def world():
    return build_world()


def quote(client, body):
    return ok(client.post(QUOTE, body, format="json"))


def lines_of(out, rule):
    return [line for line in out["lines"] if line["rule"] == rule]


def minimum_used(line) -> dict:
    [param] = [p for p in line["parameters"] if p["parameter"] == "sag.minimum.day_performer"]
    return param


# --- the quote -------------------------------------------------------------------------------


def test_quote_of_the_issue_example(world):
    before = counts()
    out = quote(world.client, QUOTE_EXAMPLE)

    assert set(out) == {"lines", "fringes", "total", "exceptions", "rules_version"}
    summary = [(line["rule"], line["date"], D(line["amount"])) for line in out["lines"]]
    assert summary == [
        ("sag.pay.day", "2025-08-01", D("1500.00")),
        ("sag.pay.overtime", "2025-08-01", D("562.50")),
        ("sag.pay.overtime", "2025-08-01", D("750.00")),
        ("sag.pay.ebdr_creation", "2025-03-10", D("1500.00")),
        ("sag.pay.ebdr_use", "2025-09-10", D("3000.00")),
    ]
    for line in out["lines"]:
        assert {"rule", "description", "quantity", "unit", "rate", "amount", "currency"} <= set(
            line
        )
        assert line["description"] and line["currency"] == "USD"
        for param in line["parameters"]:
            assert {"parameter", "value", "unit", "tier", "source"} <= set(param)
            assert param["tier"] in ("P", "S", "T", "D") and param["source"]
    [overtime, _] = lines_of(out, "sag.pay.overtime")
    assert {p["parameter"] for p in overtime["parameters"]} >= {"sag.overtime.day_hours"}
    assert lines_of(out, "sag.pay.ebdr_use")[0]["flags"] == ["residuals"]
    [ph] = out["fringes"]
    assert (ph["rule"], ph["fund"], D(ph["base"]), D(ph["rate"]), D(ph["amount"])) == (
        "sag.ph",
        "sag-aftra-ph",
        D("7312.50"),
        D("0.21"),
        D("1535.63"),
    )
    assert out["total"] == [{"currency": "USD", "amount": "8848.13"}]
    assert out["exceptions"] == []
    assert len(out["rules_version"]) == 64
    assert counts() == before, "the quote writes nothing"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"rate": {"amount": "abc", "unit": "day"}}, "rate.amount"),
        ({"agreement": "sag-1999"}, "agreement"),
        ({"classification": "stunt_double"}, "classification"),
        ({"surprise": True}, "surprise"),
        (
            {"work_days": [{"date": "2025-13-01", "first_call": "07:00", "dismissal": "19:00"}]},
            "work_days[0].date",
        ),
    ],
)
def test_a_bad_field_is_a_400_naming_it(world, change, field):
    before = counts()
    body = {**QUOTE_EXAMPLE, **change}
    error = assert_error(world.client.post(QUOTE, body, format="json"), 400)
    assert field in error["fields"], error
    assert error["fields"][field]
    assert counts() == before


def test_a_body_that_is_not_an_object_is_a_400(world):
    response = world.client.post(QUOTE, [1, 2], format="json")
    assert_error(response, 400)


def test_rate_missing_comes_back_beside_the_computed_lines(world):
    # A writer handed AI-generated material: paid at the minimum for original work, which only a
    # loaded WGA schedule gives; the negotiated fee is still a line, with its fringes.
    body = {
        "agreement": "wga-mba-2023",
        "production_kind": "theatrical",
        "rate": {"amount": "5000", "unit": "week"},
        "deliveries": [
            {"work_type": "screenplay", "date": "2025-08-15", "ai_material_handed_over": True}
        ],
        "other_pay": [{"date": "2025-08-15", "amount": "45000.00", "description": "Fee"}],
    }
    out = quote(world.client, body)
    assert [(line["rule"], line["amount"]) for line in out["lines"]] == [("other_pay", "45000.00")]
    assert {f["fund"] for f in out["fringes"]} == {"wga-health", "wga-pension"}
    [missing] = out["exceptions"]
    assert missing["code"] == "rate_missing"
    assert missing["rule"] == "wga.pay.first_writer"
    assert missing["parameter"] == "wga.minimum.screenplay"
    assert missing["date"] == "2025-08-15"
    fringes = sum(D(f["amount"]) for f in out["fringes"])
    assert out["total"] == [{"currency": "USD", "amount": f"{D('45000.00') + fringes:.2f}"}]


def test_payroll_keys_and_anonymous_callers_cannot_quote(world):
    response = key_client(world.meridian_key).post(QUOTE, QUOTE_EXAMPLE, format="json")
    assert_error(response, 403, "permission_denied")
    assert APIClient().post(QUOTE, QUOTE_EXAMPLE, format="json").status_code == 401


def test_guild_staff_may_quote(world):
    assert quote(client_for(world.wes), QUOTE_EXAMPLE)["total"][0]["amount"] == "8848.13"


# --- rate sheets -----------------------------------------------------------------------------

CSV_SHEET = (
    "parameter,from,until,value,unit,tier,source,rule\n"
    "sag.minimum.day_performer,2025-08-01,2025-12-31,1300.00,,P,SAG-AFTRA sheet 2025 p.1,\n"
)


def json_sheet(value='"1310"', start="2025-09-01") -> str:
    return (
        '{"parameter": "sag.minimum.day_performer", "rule": "sag.pay.day", "unit": "USD/day", '
        f'"values": [{{"from": "{start}", "value": {value}, "tier": "P", '
        '"source": "SAG-AFTRA sheet 2025 p.2"}]}'
    )


def test_guild_staff_load_csv_and_json_sheets_numbered_per_agreement_and_name(world):
    sam = client_for(world.sam)
    first = ok(load_sheet(sam, CSV_SHEET), 201)
    assert (first["agreement"], first["name"], first["version"]) == (
        "sag-tvth-2023",
        "SAG-AFTRA rates 2025-26",
        1,
    )
    assert first["file_format"] == "csv" and first["file_name"] == "rates.csv"
    assert first["loaded_by"] == "sam" and len(first["sha256"]) == 64
    assert first["values"] == [
        {
            "parameter": "sag.minimum.day_performer",
            "effective_from": "2025-08-01",
            "until": "2025-12-31",
            "value": "1300.000000",
            "unit": "",
            "tier": "P",
            "source": "SAG-AFTRA sheet 2025 p.1",
            "rule": "",
        }
    ]
    second = ok(load_sheet(sam, json_sheet(), file_name="rates.json"), 201)
    assert (second["version"], second["file_format"]) == (2, "json")
    [value] = second["values"]
    assert (value["effective_from"], value["value"], value["until"]) == (
        "2025-09-01",
        "1310.000000",
        "2026-06-30",  # to the end of the agreement's term
    )
    other_name = ok(load_sheet(sam, CSV_SHEET, name="SAG-AFTRA corrections"), 201)
    assert other_name["version"] == 1
    wga = ok(
        load_sheet(
            client_for(world.wes),
            "parameter,from,value,unit,rule\n"
            "wga.minimum.screenplay,2025-08-01,90000,USD,wga.pay.minimum\n",
            agreement="wga-mba-2023",
            name="SAG-AFTRA rates 2025-26",  # the same name under another agreement
        ),
        201,
    )
    assert wga["version"] == 1
    assert list(
        RateSheet.objects.order_by("id").values_list("agreement__code", "name", "version")
    ) == [
        ("sag-tvth-2023", "SAG-AFTRA rates 2025-26", 1),
        ("sag-tvth-2023", "SAG-AFTRA rates 2025-26", 2),
        ("sag-tvth-2023", "SAG-AFTRA corrections", 1),
        ("wga-mba-2023", "SAG-AFTRA rates 2025-26", 1),
    ]
    sheet = RateSheet.objects.get(pk=first["id"])
    assert sheet.content == CSV_SHEET and sheet.loaded_by == world.sam
    listed = results(world.client.get(SHEETS))  # studio staff read them
    assert [s["id"] for s in listed] == [first["id"], second["id"], other_name["id"], wga["id"]]


def test_a_superuser_loads_any_guilds_sheet(world):
    ok(load_sheet(client_for(world.root), CSV_SHEET), 201)


@pytest.mark.parametrize("who", ["maya", "wes", "payroll"])
def test_others_may_not_load_a_sag_sheet(world, who):
    client = key_client(world.meridian_key) if who == "payroll" else client_for(getattr(world, who))
    before = counts()
    assert_error(load_sheet(client, CSV_SHEET), 403, "permission_denied")
    assert counts() == before


def test_a_loaded_minimum_supersedes_the_shipped_one_for_its_dates_only(world):
    days = ("2025-07-31", "2025-08-01", "2025-12-31", "2026-01-02")
    before = quote(world.client, quote_body(*days))
    ok(load_sheet(client_for(world.sam), CSV_SHEET), 201)
    after = quote(world.client, quote_body(*days))

    def minimums(out):
        return [
            (line["date"], line["amount"], line["tier"], minimum_used(line))
            for line in lines_of(out, "sag.pay.day")
        ]

    shipped = {
        "parameter": "sag.minimum.day_performer",
        "value": "1246",
        "unit": "USD/day",
        "from": "2025-07-01",
        "tier": "D",
    }
    for _day, amount, tier, param in minimums(before):
        assert (amount, tier) == ("1246.00", "D")
        assert {k: param[k] for k in shipped} == shipped and "sheet" not in param
    loaded = {
        "parameter": "sag.minimum.day_performer",
        "value": "1300",
        "unit": "USD/day",
        "from": "2025-08-01",
        "tier": "P",
        "source": "SAG-AFTRA sheet 2025 p.1",
        "sheet": SAG_LABEL,
    }
    got = minimums(after)
    assert [(day, amount, tier) for day, amount, tier, _p in got] == [
        ("2025-07-31", "1246.00", "D"),
        ("2025-08-01", "1300.00", "P"),
        ("2025-12-31", "1300.00", "P"),
        ("2026-01-02", "1246.00", "D"),
    ]
    assert got[1][3] == loaded and got[2][3] == loaded
    assert "sheet" not in got[0][3] and "sheet" not in got[3][3]
    assert "needs_confirmation" not in lines_of(after, "sag.pay.day")[1]["flags"]
    assert "needs_confirmation" in lines_of(after, "sag.pay.day")[0]["flags"]
    assert after["rules_version"] != before["rules_version"]


def test_rows_without_source_or_tier_take_the_sheets(world):
    text = (
        "parameter,from,until,value,unit,tier,source,rule\n"
        "sag.minimum.day_performer,2025-08-01,,1300.00,,,,\n"
        "sag.minimum.weekly_performer,2025-08-01,,4500.00,,P,Weekly page 2,\n"
    )
    sheet = ok(load_sheet(client_for(world.sam), text, tier="S", source="Sheet of 2025-08"), 201)
    assert [(v["parameter"], v["tier"], v["source"]) for v in sheet["values"]] == [
        ("sag.minimum.day_performer", "S", "Sheet of 2025-08"),
        ("sag.minimum.weekly_performer", "P", "Weekly page 2"),
    ]


INVALID_SHEETS = {
    "float in JSON": (
        "rates.json",
        json_sheet(value="1310.5"),
        ["float 1310.5"],
    ),
    "not JSON": ("rates.json", '{"parameter": ', ["Not JSON"]),
    "unknown parameter": (
        "rates.csv",
        "parameter,from,value\nsag.minimum.day_performer,2025-08-01,1300\n"
        "sag.minimum.astronaut,2025-08-01,9000\n",
        ["unknown parameter sag.minimum.astronaut"],
    ),
    "another guild's parameter": (
        "rates.csv",
        "parameter,from,value\nwga.minimum.screenplay,2025-08-01,90000\n",
        ["wga.minimum.screenplay is not a sag-aftra parameter"],
    ),
    "date before the agreement's term": (
        "rates.csv",
        "parameter,from,value\nsag.minimum.day_performer,2023-01-01,1300\n",
        ["sag.minimum.day_performer from 2023-01-01"],
    ),
    "date after the agreement's term": (
        "rates.csv",
        "parameter,from,value\nsag.minimum.day_performer,2026-08-01,1300\n",
        ["sag.minimum.day_performer from 2026-08-01"],
    ),
    "duplicate row": (
        "rates.csv",
        "parameter,from,value\nsag.minimum.day_performer,2025-08-01,1300\n"
        "sag.minimum.day_performer,2025-08-01,1301\n",
        ["sag.minimum.day_performer from 2025-08-01 is given twice"],
    ),
    "bad rows": (
        "rates.csv",
        "parameter,from,until,value,tier\n"
        "sag.minimum.day_performer,2025-08-01,,13OO,\n"
        "sag.minimum.day_performer,,,1300,\n"
        "sag.minimum.day_performer,2025-09-01,2025-08-01,1300,\n"
        "sag.minimum.day_performer,2025-10-01,,1300,X\n",
        [
            "row 2: `value` '13OO' is not a decimal",
            "row 3: `from` is required",
            "row 4: `until` is before `from`",
            "row 5: `tier` must be one of",
        ],
    ),
    "unit that differs from the series": (
        "rates.csv",
        "parameter,from,value,unit\nsag.minimum.day_performer,2025-08-01,160,USD/hour\n",
        ["sag.minimum.day_performer in USD/hour"],
    ),
    "unknown column": (
        "rates.csv",
        "parameter,from,value,comment\nsag.minimum.day_performer,2025-08-01,1300,x\n",
        ["Unknown column(s): comment"],
    ),
    "no values": ("rates.csv", "parameter,from,value\n", ["holds no values"]),
}


@pytest.mark.parametrize("case", list(INVALID_SHEETS))
def test_an_invalid_sheet_is_refused_whole_with_its_problems(world, case):
    file_name, text, expected = INVALID_SHEETS[case]
    sam = client_for(world.sam)
    before = counts()
    error = assert_error(load_sheet(sam, text, file_name=file_name), 400, "rate_sheet_invalid")
    problems = error["fields"]["file"]
    assert isinstance(problems, list) and problems
    for fragment in expected:
        assert any(fragment in p for p in problems), (fragment, problems)
    assert counts() == before, "nothing of a faulty sheet is written"
    # The refused sheet took no version number.
    assert ok(load_sheet(sam, CSV_SHEET), 201)["version"] == 1


def test_a_value_running_past_the_agreements_term_is_refused(world):
    text = "parameter,from,until,value\nsag.minimum.day_performer,2026-01-01,2027-12-31,1400\n"
    before = counts()
    response = load_sheet(client_for(world.sam), text)
    error = assert_error(response, 400, "rate_sheet_invalid")
    assert any("2027-12-31" in p or "term" in p for p in error["fields"]["file"]), error
    assert counts() == before
    # Loaded as it is, the sheet decides a day that the 2026 agreement governs.
    out = quote(world.client, quote_body("2027-01-11", agreement="sag-tvth-2026"))
    assert "sheet" not in minimum_used(lines_of(out, "sag.pay.day")[0])


def test_every_unknown_parameter_is_reported_with_its_row(world):
    text = (
        "parameter,from,value\n"
        "sag.minimum.day_performer,2025-08-01,1300\n"
        "sag.minimum.astronaut,2025-08-01,9000\n"
        "sag.minimum.aquanaut,2025-08-01,9000\n"
    )
    error = assert_error(load_sheet(client_for(world.sam), text), 400, "rate_sheet_invalid")
    problems = error["fields"]["file"]
    assert any("row 3" in p and "astronaut" in p for p in problems), problems
    assert any("row 4" in p and "aquanaut" in p for p in problems), problems
    assert not RateSheet.objects.exists()


def test_a_value_given_twice_is_reported_with_its_row(world):
    text = (
        "parameter,from,value\n"
        "sag.minimum.day_performer,2025-08-01,1300\n"
        "sag.minimum.day_performer,2025-08-01,1310\n"
    )
    error = assert_error(load_sheet(client_for(world.sam), text), 400, "rate_sheet_invalid")
    assert error["fields"]["file"] == [
        "row 3: sag.minimum.day_performer from 2025-08-01 is given twice."
    ]


# --- engagement terms ------------------------------------------------------------------------


def test_engagement_terms_set_and_corrected(world):
    created = ok(
        world.client.post(
            TERMS,
            {
                "engagement": world.cy.pk,
                "wage_classification": "grip",
                "kit_rental_amount": "25.00",
                "kit_rental_per": "day",
            },
            format="json",
        ),
        201,
    )
    assert created["wage_classification"] == "grip" and created["kit_rental_amount"] == "25.00"
    changed = ok(
        world.client.patch(
            f"{TERMS}{created['id']}/", {"kit_rental_amount": "30.00"}, format="json"
        )
    )
    assert changed["kit_rental_amount"] == "30.00"
    terms = world.cy.compensation_terms
    assert [h.history_user for h in terms.history.all()] == [world.maya, world.maya]
    error = assert_error(
        world.client.post(
            TERMS,
            {"engagement": world.ann.pk, "kit_rental_amount": "25.00", "kit_rental_per": ""},
            format="json",
        ),
        400,
    )
    assert error["fields"]


# --- timecards -------------------------------------------------------------------------------


def test_a_timecard_is_recorded_with_its_hours_in_tenths(world):
    body = ok(world.client.post(TIMECARDS, timecard_body(world.ann), format="json"), 201)
    assert body["engagement"] == world.ann.pk and body["date"] == "2025-08-04"
    assert body["meals"] == [["13:00", "13:30"]]
    assert (body["elapsed_hours"], body["work_hours"]) == ("12.5", "12.0")
    # Overnight: 22:00 to 03:07 the next day, a 30-minute meal: 5 h 7 min elapsed → 5.2,
    # 4 h 37 min worked → 4.7 (tenths, rounded up).
    night = ok(
        world.client.post(
            TIMECARDS,
            timecard_body(
                world.ann,
                "2025-08-06",
                first_call="22:00",
                dismissal="03:07",
                meals=[["01:00", "01:30"]],
            ),
            format="json",
        ),
        201,
    )
    assert (night["elapsed_hours"], night["work_hours"]) == ("5.2", "4.7")
    card = Timecard.objects.get(pk=body["id"])
    assert card.history.get().history_user == world.maya
    assert ok(world.client.get(f"{TIMECARDS}{body['id']}/"))["work_hours"] == "12.0"


def test_a_timecards_times_match_the_schema(world):
    """Regression (found by `make fuzz`): call times have no zone ("07:00:00", meals "13:00"),
    which OpenAPI's `format: time` (RFC 3339, with an offset) refused; answers now state a
    pattern, while requests still take `format: time`."""
    created = ok(world.client.post(TIMECARDS, timecard_body(world.ann), format="json"), 201)
    assert (created["first_call"], created["meals"]) == ("07:00:00", [["13:00", "13:30"]])
    response = world.client.get(f"{TIMECARDS}{created['id']}/")
    assert_matches_schema(response, "GET", "/api/v1/compensation/timecards/{id}/")
    assert_matches_schema(world.client.get(TIMECARDS), "GET", "/api/v1/compensation/timecards/")


def test_a_correction_keeps_history_with_the_acting_user(world):
    created = ok(world.client.post(TIMECARDS, timecard_body(world.ann), format="json"), 201)
    fixed = ok(
        world.client.patch(f"{TIMECARDS}{created['id']}/", {"dismissal": "19:00"}, format="json")
    )
    assert (fixed["elapsed_hours"], fixed["work_hours"]) == ("12.0", "11.5")
    # Posting the same engagement and day again corrects it too (one card per day).
    again = ok(
        world.client.post(
            TIMECARDS, timecard_body(world.ann, dismissal="18:00", meals=[]), format="json"
        ),
        201,
    )
    assert again["id"] == created["id"]
    assert (again["work_hours"], again["meals"]) == ("11.0", [])
    card = Timecard.objects.get()
    history = list(card.history.order_by("history_id").values_list("history_type", "dismissal"))
    assert [(kind, str(t)) for kind, t in history] == [
        ("+", "19:30:00"),
        ("~", "19:00:00"),
        ("~", "18:00:00"),
    ]
    assert {h.history_user for h in card.history.all()} == {world.maya}


@pytest.mark.parametrize(
    "change, field, code",
    [
        ({"meals": [["19:45", "20:15"]]}, "meals", "invalid"),  # after the dismissal
        ({"meals": [["06:00", "06:30"]]}, "meals", "invalid"),  # before the call
        ({"meals": [["13:00", "13:30"], ["13:15", "13:45"]]}, "meals", "invalid"),
        ({"date": "2025-05-30"}, "date", "outside_engagement"),  # before Ann's start
        ({"dismissal": "07:00"}, "dismissal", "invalid"),
        ({"first_call": "7am"}, "first_call", "invalid"),
    ],
)
def test_an_impossible_timecard_is_a_400_and_writes_nothing(world, change, field, code):
    before = counts()
    response = world.client.post(TIMECARDS, timecard_body(world.ann, **change), format="json")
    error = assert_error(response, 400, code)
    assert field in error["fields"], error
    assert counts() == before


def test_a_day_after_the_engagement_ended_is_refused(world):
    world.ann.end_date = world.ann.start_date.replace(month=8, day=5)
    world.ann.save()
    before = counts()
    response = world.client.post(TIMECARDS, timecard_body(world.ann, "2025-08-06"), format="json")
    assert_error(response, 400, "outside_engagement")
    assert counts() == before


def test_a_correction_that_breaks_the_day_is_refused(world):
    created = ok(world.client.post(TIMECARDS, timecard_body(world.ann), format="json"), 201)
    before = counts()
    response = world.client.patch(
        f"{TIMECARDS}{created['id']}/", {"dismissal": "12:30"}, format="json"
    )
    assert_error(response, 400)
    assert counts() == before
    assert str(Timecard.objects.get().dismissal) == "19:30:00"


def test_timecards_are_filtered(world):
    record_day(world.ann, world.maya)
    record_day(world.cy, world.maya)
    listed = results(world.client.get(TIMECARDS, {"engagement": world.ann.pk}))
    assert [c["engagement"] for c in listed] == [world.ann.pk]
    assert len(results(world.client.get(TIMECARDS, {"production": world.film.pk}))) == 2
    assert results(world.client.get(TIMECARDS, {"date_from": "2025-08-05"})) == []


# --- deliveries ------------------------------------------------------------------------------


def delivery_body(world, **fields):
    body = {
        "engagement": world.abe.pk,
        "work_type": "screenplay",
        "date": "2025-08-15",
        "ai_material_handed_over": True,
        "fee": "45000.00",
    }
    body.update(fields)
    return body


def test_a_form_body_is_refused_unread(world):
    """A delivery is JSON: a form body (where a yes/no left out reads as false) is a 415."""
    body = delivery_body(world, ai_material_handed_over="true")
    error = assert_error(world.client.post(DELIVERIES, body, format="multipart"), 415)
    assert error["code"] == "unsupported_media_type"
    assert not WgaDelivery.objects.exists()


@pytest.mark.parametrize("value", [1, "true", 45000])
def test_a_json_body_refuses_numbers_and_text_for_booleans_and_amounts(world, value):
    field = "fee" if value == 45000 else "ai_material_handed_over"
    body = delivery_body(world, **{field: value})
    error = assert_error(world.client.post(DELIVERIES, body, format="json"), 400)
    assert field in error["fields"]
    assert not WgaDelivery.objects.exists()


def test_a_delivery_is_recorded_and_corrected_with_history(world):
    created = ok(world.client.post(DELIVERIES, delivery_body(world), format="json"), 201)
    assert created["work_type"] == "screenplay" and created["fee"] == "45000.00"
    fixed = ok(
        world.client.patch(f"{DELIVERIES}{created['id']}/", {"fee": "50000.00"}, format="json")
    )
    assert fixed["fee"] == "50000.00"
    delivery = WgaDelivery.objects.get()
    assert [(h.history_type, h.fee, h.history_user) for h in delivery.history.all()] == [
        ("~", D("50000.00"), world.maya),
        ("+", D("45000.00"), world.maya),
    ]


@pytest.mark.parametrize(
    "change, field, code",
    [
        ({"engagement": "ann"}, "engagement", "invalid"),  # not a writer
        ({"date": "2025-05-15"}, "date", "outside_engagement"),
        ({"work_type": "Screen Play!"}, "work_type", "invalid"),
        ({"fee": "-1.00"}, "fee", "invalid"),
    ],
)
def test_an_invalid_delivery_is_a_400_and_writes_nothing(world, change, field, code):
    if change.get("engagement") == "ann":
        change = {"engagement": world.ann.pk}
    before = counts()
    response = world.client.post(DELIVERIES, delivery_body(world, **change), format="json")
    error = assert_error(response, 400, code)
    assert field in error["fields"], error
    assert counts() == before


# --- CSV imports -----------------------------------------------------------------------------

TIMECARD_HEADER = "engagement,date,first_call,dismissal,meal1_start,meal1_end,rest_start,episode\n"


def post_import(client, url, text):
    return client.post(f"{url}import/", {"file": upload("import.csv", text)}, format="multipart")


def test_a_good_timecard_file_creates_and_corrects(world):
    ann, cy = world.ann.pk, world.cy.pk
    first = TIMECARD_HEADER + (
        f"{ann},2025-08-04,07:00,19:30,13:00,13:30,,\n{cy},2025-08-04,06:00,18:00,12:00,12:30,,\n"
    )
    assert ok(post_import(world.client, TIMECARDS, first), 201) == {"created": 2, "updated": 0}
    second = TIMECARD_HEADER + (
        f"{ann},2025-08-04,07:00,19:00,13:00,13:30,,\n{ann},2025-08-05,08:00,16:30,,,,\n"
    )
    assert ok(post_import(world.client, TIMECARDS, second), 201) == {"created": 1, "updated": 1}
    cards = {
        (c.engagement_id, str(c.date)): c for c in Timecard.objects.select_related("engagement")
    }
    assert set(cards) == {(ann, "2025-08-04"), (cy, "2025-08-04"), (ann, "2025-08-05")}
    corrected = cards[(ann, "2025-08-04")]
    assert str(corrected.dismissal) == "19:00:00" and corrected.work_hours == D("11.5")
    assert cards[(ann, "2025-08-05")].meals == []
    assert cards[(ann, "2025-08-05")].work_hours == D("8.5")
    assert [h.history_type for h in corrected.history.all()] == ["~", "+"]
    assert {h.history_user for h in corrected.history.all()} == {world.maya}


def test_one_bad_row_refuses_the_whole_file_listing_every_faulty_row(world):
    record_day(world.ann, world.maya)  # 2025-08-04 07:00-19:30
    ann, bob = world.ann.pk, world.bob.pk
    text = TIMECARD_HEADER + (
        f"{ann},2025-08-04,07:00,19:00,13:00,13:30,,\n"  # 2: a good correction
        f"{ann},2025-08-05,07:00,15:00,16:00,16:30,,\n"  # 3: meal after the dismissal
        f"{bob},2025-08-05,07:00,15:00,,,,\n"  # 4: another studio's engagement
        f"{ann},2025-08-06,7am,15:00,,,,\n"  # 5: not a time
        f"{ann},2025-05-07,07:00,15:00,,,,\n"  # 6: before the engagement
        f"{ann},2025-08-08,07:00,15:00,,,,\n"  # 7: good
        f"abc,2025-08-08,07:00,15:00,,,,\n"  # 8: no such engagement
        f"{ann},2025-08-09,07:00,15:00,12:00,12:30,,\n"  # 9: good
        f"{ann},08/10/2025,07:00,15:00,,,,\n"  # 10: not a date
    )
    before = counts()
    error = assert_error(post_import(world.client, TIMECARDS, text), 400, "import_invalid")
    rows = error["fields"]["rows"]
    assert [r["row"] for r in rows] == [3, 4, 5, 6, 8, 10]
    by_row = {r["row"]: r for r in rows}
    assert "meals" in by_row[3]["fields"]
    assert "engagement" in by_row[4]["fields"] and "engagement" in by_row[8]["fields"]
    assert "first_call" in by_row[5]["fields"]
    assert "date" in by_row[6]["fields"] and "date" in by_row[10]["fields"]
    assert all(r["message"] for r in rows)
    assert "6 row(s)" in error["message"]
    assert counts() == before, "nothing of a faulty file is imported"
    assert str(Timecard.objects.get().dismissal) == "19:30:00"


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("engagement,date,first_call\n1,2025-08-04,07:00\n", "missing column dismissal"),
        (TIMECARD_HEADER.strip() + ",mood\n", "unknown column mood"),
        (TIMECARD_HEADER, "No rows."),
    ],
)
def test_an_unusable_timecard_file_is_a_400(world, text, fragment):
    before = counts()
    error = assert_error(post_import(world.client, TIMECARDS, text), 400, "import_invalid")
    assert any(fragment in p for p in error["fields"]["file"]), error
    assert counts() == before


def test_an_import_needs_a_file(world):
    error = assert_error(world.client.post(f"{TIMECARDS}import/", {}, format="multipart"), 400)
    assert "file" in error["fields"]


DELIVERY_HEADER = "engagement,work_type,date,ai_material_handed_over,fee\n"


def test_deliveries_import_all_or_nothing(world):
    abe = world.abe.pk
    good = (
        DELIVERY_HEADER + f"{abe},screenplay,2025-08-15,yes,45000\n{abe},treatment,2025-08-01,,\n"
    )
    assert ok(post_import(world.client, DELIVERIES, good), 201) == {"created": 2, "updated": 0}
    bad = DELIVERY_HEADER + (
        f"{abe},screenplay,2025-08-15,no,46000\n"  # 2: a good correction
        f"{abe},story,2025-08-16,maybe,\n"  # 3: not a boolean
        f"{world.ann.pk},story,2025-08-16,no,\n"  # 4: not a writer
        f"{abe},story,2025-08-17,no,12.345\n"  # 5: not cents
        f"{world.bob.pk},story,2025-08-17,no,\n"  # 6: another studio's
    )
    before = counts()
    error = assert_error(post_import(world.client, DELIVERIES, bad), 400, "import_invalid")
    assert [r["row"] for r in error["fields"]["rows"]] == [3, 4, 5, 6]
    assert counts() == before
    screenplay = WgaDelivery.objects.get(work_type="screenplay")
    assert screenplay.fee == D("45000.00") and screenplay.ai_material_handed_over is True
    fix = DELIVERY_HEADER + f"{abe},screenplay,2025-08-15,no,46000\n"
    assert ok(post_import(world.client, DELIVERIES, fix), 201) == {"created": 0, "updated": 1}
    screenplay.refresh_from_db()
    assert screenplay.fee == D("46000.00") and screenplay.ai_material_handed_over is False


def test_guild_staff_read_work_records_but_cannot_write_them(world):
    card = record_day(world.ann, world.maya)
    sam = client_for(world.sam)
    assert [c["id"] for c in results(sam.get(TIMECARDS))] == [card.pk]
    before = counts()
    responses = [
        sam.post(TIMECARDS, timecard_body(world.ann, "2025-08-05"), format="json"),
        sam.patch(f"{TIMECARDS}{card.pk}/", {"dismissal": "18:00"}, format="json"),
        post_import(sam, TIMECARDS, TIMECARD_HEADER + f"{world.ann.pk},2025-08-05,07:00,15:00\n"),
        sam.post(DELIVERIES, delivery_body(world), format="json"),
    ]
    for response in responses:
        assert_error(response, 403, "permission_denied")
    assert counts() == before


def test_payroll_keys_cannot_touch_work_records(world):
    card = record_day(world.ann, world.maya)
    payroll = key_client(world.meridian_key)
    before = counts()
    for response in [
        payroll.get(TIMECARDS),
        payroll.get(f"{TIMECARDS}{card.pk}/"),
        payroll.post(TIMECARDS, timecard_body(world.ann, "2025-08-05"), format="json"),
        post_import(
            payroll, TIMECARDS, TIMECARD_HEADER + f"{world.ann.pk},2025-08-05,07:00,15:00\n"
        ),
        payroll.get(DELIVERIES),
        payroll.get(TERMS),
    ]:
        assert_error(response, 403, "permission_denied")
    assert counts() == before


def test_another_studios_engagement_is_refused_like_a_missing_one(world):
    nora = client_for(world.nora)
    card = record_day(world.ann, world.maya)
    before = counts()
    error = assert_error(
        nora.post(TIMECARDS, timecard_body(world.ann), format="json"), 400, "invalid"
    )
    assert "engagement" in error["fields"]
    assert_error(nora.patch(f"{TIMECARDS}{card.pk}/", {"dismissal": "18:00"}), 404, "not_found")
    assert_error(nora.get(f"{TIMECARDS}{card.pk}/"), 404, "not_found")
    assert counts() == before


# --- runs ------------------------------------------------------------------------------------


def test_a_started_run_is_computed_with_explained_lines(world, django_capture_on_commit_callbacks):
    record_day(world.ann, world.maya)  # 07:00-19:30, meal 13:00-13:30: 12 h of work
    run = start_run(world.client, django_capture_on_commit_callbacks, world.film)
    assert run["status"] == "computed", run
    assert run["engagements"] == 3 and run["line_count"] == 4
    assert run["started_by"] == "maya" and run["finished_at"]
    assert len(run["rules_version"]) == 64 and run["rate_sheets"] == []
    assert run["exceptions"] == []  # Abe and Cy have nothing in the period

    lines = run_lines(world.client, run["id"])
    summary = [(line["kind"], line["rule"], line["amount"], line["tier"]) for line in lines]
    assert summary == [
        ("pay", "sag.pay.day", "1246.00", "D"),
        ("pay", "sag.pay.overtime", "467.25", "D"),
        ("pay", "sag.pay.overtime", "623.00", "D"),
        ("fringe", "sag.ph", "490.61", "P"),
    ]
    day = lines[0]
    assert day["flags"] == ["below_scale", "needs_confirmation"]
    assert (day["quantity"], day["unit"], day["rate"]) == ("1.0000", "day", "1246.000000")
    assert day["person"] == "Ann Example" and day["status"] == "payable"
    [minimum] = day["parameters"]
    assert minimum["parameter"] == "sag.minimum.day_performer"
    assert (minimum["value"], minimum["tier"], minimum["from"]) == ("1246", "D", "2025-07-01")
    assert minimum["source"].startswith("Derived")
    for line in lines:
        assert line["parameters"], line
        for param in line["parameters"]:
            assert param["tier"] in ("P", "S", "T", "D") and param["source"], param
        if line["kind"] == "pay":
            weak = any(p["tier"] in ("T", "D") for p in line["parameters"])
            assert ("needs_confirmation" in line["flags"]) == weak, line
    fringe = lines[-1]
    assert (fringe["fund"], fringe["quantity"], fringe["rate"]) == (
        "sag-aftra-ph",
        "2336.2500",
        "0.210000",
    )
    by_rule = results(world.client.get(LINES, {"run": run["id"], "rule": "sag.pay.overtime"}))
    assert [line["amount"] for line in by_rule] == ["467.25", "623.00"]
    flagged = results(world.client.get(LINES, {"run": run["id"], "flag": "needs_confirmation"}))
    assert len(flagged) == 3


def test_an_unapproved_run_matches_the_schema(world, django_capture_on_commit_callbacks):
    """Regression (found by `make fuzz`): `approved_by` is null until approval; the schema
    said a string."""
    run = start_run(world.client, django_capture_on_commit_callbacks, world.film)
    assert run["approved_by"] is None
    response = world.client.get(f"{RUNS}{run['id']}/")
    assert_matches_schema(response, "GET", "/api/v1/compensation/runs/{id}/")


def test_a_run_reports_what_it_cannot_compute(world, django_capture_on_commit_callbacks):
    record_day(world.cy, world.maya, call="06:00", dismissal="18:00", meals=[["12:00", "12:30"]])
    run = start_run(world.client, django_capture_on_commit_callbacks, world.film)
    assert run["status"] == "computed"
    [problem] = run["exceptions"]
    assert problem["code"] == "input_missing" and problem["engagement"] == world.cy.pk
    assert problem["rule"] == "iatse.pay.hourly"
    # With the classification set, the pay is computed at the negotiated rate, and the missing
    # wage schedule is a rate_missing exception beside the lines.
    ok(
        world.client.post(
            TERMS, {"engagement": world.cy.pk, "wage_classification": "grip"}, format="json"
        ),
        201,
    )
    again = start_run(world.client, django_capture_on_commit_callbacks, world.film)
    assert {p["code"] for p in again["exceptions"]} == {"rate_missing"}
    assert {p["parameter"] for p in again["exceptions"]} >= {"iatse.scale.grip"}
    lines = run_lines(world.client, again["id"])
    assert [line["rule"] for line in lines if line["kind"] == "pay"] == ["iatse.pay.hourly"]
    assert ok(world.client.get(f"{RUNS}{run['id']}/"))["status"] == "superseded"


def test_approval_posts_payables_and_approving_again_posts_nothing(
    world, django_capture_on_commit_callbacks
):
    record_day(world.ann, world.maya)
    run = start_run(world.client, django_capture_on_commit_callbacks, world.film)
    assert open_payables(world.meridian_key) == {}
    approved = approve(world.client, run["id"])
    assert approved["status"] == "approved" and approved["approved_by"] == "maya"

    payables = open_payables(world.meridian_key)
    assert set(payables) == {
        (world.ann.pk, "sag.pay.day"),
        (world.ann.pk, "sag.pay.overtime"),
        (world.ann.pk, "sag.ph"),
    }
    day = payables[(world.ann.pk, "sag.pay.day")]
    assert (day["amount"], day["paid"], day["due"], day["currency"]) == (
        "1246.00",
        "0.00",
        "1246.00",
        "USD",
    )
    assert day["fringes"] == []
    assert day["payee"] == {"kind": "person", "person": world.ann.person_id, "fund": ""}
    # P&H is owed to the fund, on a payable of its own: 21% of 2336.25 covered pay.
    ph = payables[(world.ann.pk, "sag.ph")]
    assert ph["payee"] == {"kind": "fund", "person": None, "fund": "sag-aftra-ph"}
    assert (ph["person"], ph["amount"], ph["due"], ph["due_date"]) == (
        None,
        "490.61",
        "490.61",
        "2025-08-20",
    )
    assert (day["period_from"], day["period_to"], day["due_date"]) == (
        "2025-08-04",
        "2025-08-10",
        "2025-08-20",
    )
    assert day["agreement"] == "sag-tvth-2023" and day["person"]["name"] == "Ann Example"
    assert payables[(world.ann.pk, "sag.pay.overtime")]["amount"] == "1090.25"
    assert results(key_client(world.northgate_key).get("/api/v1/payables/")) == []
    [posted] = journal()
    assert (posted.kind, posted.source_type, posted.source_id) == (
        "obligation",
        "compensation_run",
        f"{run['id']}:{world.ann.pk}",
    )
    assert RunPosting.objects.filter(run_id=run["id"]).count() == 3  # day, overtime, P&H

    before = counts()
    again = approve(world.client, run["id"])
    assert again["status"] == "approved" and again["approved_at"] == approved["approved_at"]
    assert counts() == before, "approving twice posts nothing twice"


def test_a_rerun_after_a_correction_posts_only_the_difference(
    world, django_capture_on_commit_callbacks
):
    card = record_day(world.ann, world.maya)  # 12 h of work
    first = start_run(world.client, django_capture_on_commit_callbacks, world.film)
    approve(world.client, first["id"])
    before = open_payables(world.meridian_key)
    overtime = before[(world.ann.pk, "sag.pay.overtime")]
    assert overtime["amount"] == "1090.25"

    ok(world.client.patch(f"{TIMECARDS}{card.pk}/", {"dismissal": "19:00"}, format="json"))
    second = start_run(world.client, django_capture_on_commit_callbacks, world.film)
    payables_before = Payable.objects.count()
    approve(world.client, second["id"])

    after = open_payables(world.meridian_key)
    assert set(after) == set(before), "no new payable for a rule already posted"
    assert after[(world.ann.pk, "sag.pay.overtime")]["id"] == overtime["id"]
    assert after[(world.ann.pk, "sag.pay.overtime")]["amount"] == "934.50"  # 11.5 h of work
    assert after[(world.ann.pk, "sag.pay.day")] == before[(world.ann.pk, "sag.pay.day")]
    assert Payable.objects.count() == payables_before
    obligation, adjustment = journal()
    assert obligation.kind == "obligation"
    assert (adjustment.kind, adjustment.source_id) == (
        "adjustment",
        f"{second['id']}:{world.ann.pk}",
    )
    assert payable_leg_total(adjustment, overtime["id"]) == D("-155.75")
    ph = before[(world.ann.pk, "sag.ph")]  # the fund's payable is adjusted, not replaced
    assert after[(world.ann.pk, "sag.ph")]["id"] == ph["id"]
    assert (ph["amount"], after[(world.ann.pk, "sag.ph")]["amount"]) == ("490.61", "457.91")
    assert payable_leg_total(adjustment, ph["id"]) == D("-32.70")
    postings = {(p.kind, p.key): p.amount for p in RunPosting.objects.filter(run_id=second["id"])}
    assert postings == {
        ("pay", "sag.pay.overtime"): D("-155.75"),
        ("fringe", "sag-aftra-ph"): D("-32.70"),  # 0.21 × 2180.50 - 0.21 × 2336.25, per cent
    }
    first_after = ok(world.client.get(f"{RUNS}{first['id']}/"))
    assert first_after["status"] == "approved", "an approved run stays approved"

    # Once more with nothing changed: computed, approved, nothing posted.
    third = start_run(world.client, django_capture_on_commit_callbacks, world.film)
    unchanged = counts()
    assert approve(world.client, third["id"])["status"] == "approved"
    assert counts() == {
        **unchanged,
        "CompensationRun history": unchanged["CompensationRun history"] + 1,
    }
    assert len(journal()) == 2
    assert not RunPosting.objects.filter(run_id=third["id"]).exists()


def test_an_overlapping_period_is_a_409(world, django_capture_on_commit_callbacks):
    record_day(world.ann, world.maya)
    run = start_run(world.client, django_capture_on_commit_callbacks, world.film)
    before = counts()
    response = world.client.post(
        RUNS,
        {
            "production": world.film.pk,
            "period_from": "2025-08-08",
            "period_to": "2025-08-15",
            "due_date": "2025-08-25",
        },
        format="json",
    )
    error = assert_error(response, 409, "period_overlaps")
    assert f"#{run['id']}" in error["message"]
    assert counts() == before


@pytest.mark.parametrize(
    "period, field",
    [
        ({"period_from": "2025-08-10", "period_to": "2025-08-04"}, "period_to"),
        ({"due_date": "2025-08-01"}, "due_date"),
        ({"period_to": "2026-08-10"}, "period_to"),
        ({"period_from": "04/08/2025"}, "period_from"),
    ],
)
def test_a_bad_period_is_a_400(world, period, field):
    before = counts()
    body = {"production": world.film.pk, **dict(PERIOD_BODY, **period)}
    error = assert_error(world.client.post(RUNS, body, format="json"), 400)
    assert field in error["fields"], error
    assert counts() == before


def test_a_superseded_run_cannot_be_approved(world, django_capture_on_commit_callbacks):
    record_day(world.ann, world.maya)
    first = start_run(world.client, django_capture_on_commit_callbacks, world.film)
    start_run(world.client, django_capture_on_commit_callbacks, world.film)
    before = counts()
    assert_error(world.client.post(f"{RUNS}{first['id']}/approve/"), 409, "run_not_computed")
    assert counts() == before


def test_a_violation_is_held_until_released(world, django_capture_on_commit_callbacks):
    record_day(world.ann, world.maya)
    use = record_violation(world.ann)
    run = start_run(world.client, django_capture_on_commit_callbacks, world.film)
    held = [line for line in run_lines(world.client, run["id"]) if line["status"] == "held"]
    assert [(line["rule"], line["amount"], line["ai_use"]) for line in held] == [
        ("sag.pay.ebdr_use", "2492.00", use.pk),  # 2 days at the day minimum
        ("sag.ph", "523.32", use.pk),
    ]
    approve(world.client, run["id"])
    payables = open_payables(world.meridian_key)
    assert (world.ann.pk, "sag.pay.ebdr_use") not in payables
    assert all(not p["rule"].endswith("ebdr_use") for p in payables.values())

    with django_capture_on_commit_callbacks(execute=True):
        response = world.client.post(
            HOLDS,
            {"ai_use": use.pk, "decision": "release", "reason": "The signed rider turned up."},
            format="json",
        )
    resolution = ok(response, 201)
    assert resolution["decision"] == "release" and resolution["resolved_by"] == "maya"
    rerun = ok(world.client.get(f"{RUNS}{resolution['rerun']}/"))
    assert rerun["status"] == "computed"
    assert (rerun["period_from"], rerun["period_to"]) == ("2025-08-04", "2025-08-10")
    rerun_lines = run_lines(world.client, rerun["id"])
    assert {line["status"] for line in rerun_lines} == {"payable"}
    [use_pay] = [line for line in rerun_lines if line["rule"] == "sag.pay.ebdr_use"]
    assert (use_pay["amount"], use_pay["date"]) == ("2492.00", "2025-08-06")
    transactions = len(journal())
    approve(world.client, rerun["id"])
    payables = open_payables(world.meridian_key)
    assert payables[(world.ann.pk, "sag.pay.ebdr_use")]["amount"] == "2492.00"
    assert len(journal()) == transactions + 1 and journal()[-1].kind == "adjustment"
    assert ok(world.client.get(f"{HOLDS}{resolution['id']}/"))["ai_use"] == use.pk


def test_a_voided_violation_stays_unpaid(world, django_capture_on_commit_callbacks):
    record_day(world.ann, world.maya)
    use = record_violation(world.ann)
    run = start_run(world.client, django_capture_on_commit_callbacks, world.film)
    approve(world.client, run["id"])
    before = open_payables(world.meridian_key)
    with django_capture_on_commit_callbacks(execute=True):
        response = world.client.post(
            HOLDS,
            {"ai_use": use.pk, "decision": "void", "reason": "Recorded against the wrong person."},
            format="json",
        )
    resolution = ok(response, 201)
    rerun_lines = run_lines(world.client, resolution["rerun"])
    voided = [line for line in rerun_lines if line["ai_use"] == use.pk]
    assert voided and {line["status"] for line in voided} == {"void"}
    transactions = len(journal())
    approve(world.client, resolution["rerun"])
    assert open_payables(world.meridian_key) == before
    assert len(journal()) == transactions


@pytest.mark.parametrize(
    "body, field",
    [
        ({"decision": "maybe", "reason": "x"}, "decision"),
        ({"decision": "release", "reason": ""}, "reason"),
        ({"decision": "release", "reason": "x", "ai_use": NONEXISTENT_ID}, "ai_use"),
    ],
)
def test_a_bad_hold_resolution_is_a_400(world, body, field):
    use = record_violation(world.ann)
    before = counts()
    response = world.client.post(HOLDS, {"ai_use": use.pk, **body}, format="json")
    error = assert_error(response, 400)
    assert field in error["fields"], error
    assert counts() == before


def test_only_a_violation_can_be_resolved_and_only_once(world, django_capture_on_commit_callbacks):
    use = record_violation(world.ann)
    body = {"ai_use": use.pk, "decision": "void", "reason": "Duplicate entry."}
    with django_capture_on_commit_callbacks(execute=True):
        first = ok(world.client.post(HOLDS, body, format="json"), 201)
    assert first["rerun"] is None, "no approved run covers the use yet"
    assert HoldResolution.objects.count() == 1
    error = assert_error(world.client.post(HOLDS, body, format="json"), 409, "already_resolved")
    assert error["message"]


def test_lines_and_runs_list_with_filters(world, django_capture_on_commit_callbacks):
    record_day(world.ann, world.maya)
    run = start_run(world.client, django_capture_on_commit_callbacks, world.film)
    assert [r["id"] for r in results(world.client.get(RUNS, {"production": world.film.pk}))] == [
        run["id"]
    ]
    assert results(world.client.get(RUNS, {"status": "approved"})) == []
    assert len(results(world.client.get(LINES, {"kind": "fringe"}))) == 1
    assert len(results(world.client.get(LINES, {"engagement": world.ann.pk}))) == 4
    line = results(world.client.get(LINES, {"rule": "sag.pay.day"}))[0]
    assert ok(world.client.get(f"{LINES}{line['id']}/")) == line
    assert_error(world.client.get(LINES, {"kind": "bonus"}), 400)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (a transactional test)")
def test_a_run_started_over_http_is_computed_on_commit():
    world = build_world()
    record_day(world.ann, world.maya)
    response = world.client.post(RUNS, {"production": world.film.pk, **PERIOD_BODY}, format="json")
    started = ok(response, 202)
    # Eager Celery runs the task as soon as run_start's transaction commits, which in autocommit
    # mode is before the response is written; a worker would leave it queued here.
    assert started["status"] in ("queued", "computed")
    run = CompensationRun.objects.get(pk=started["id"])
    assert run.status == "computed", run.error
    assert CompensationLine.objects.filter(run=run).count() == 4
    assert approve(world.client, run.pk)["status"] == "approved"
    assert JournalTransaction.objects.filter(source_type="compensation_run").count() == 1
    assert RateSheet.objects.count() == RateSheetValue.objects.count() == 0


def test_sheets_are_listed_in_a_run_that_uses_them(world, django_capture_on_commit_callbacks):
    record_day(world.ann, world.maya)
    plain = start_run(world.client, django_capture_on_commit_callbacks, world.film)
    sheet = ok(load_sheet(client_for(world.sam), CSV_SHEET), 201)
    run = start_run(world.client, django_capture_on_commit_callbacks, world.film)
    assert run["rate_sheets"] == [
        {"id": sheet["id"], "sheet": SAG_LABEL, "sha256": sheet["sha256"]}
    ]
    assert run["rules_version"] != plain["rules_version"]
    day = next(line for line in run_lines(world.client, run["id"]) if line["rule"] == "sag.pay.day")
    assert day["amount"] == "1300.00" and day["tier"] == "P"
    assert minimum_used(day)["sheet"] == SAG_LABEL
    assert json.dumps(day["parameters"])  # plain JSON


def test_a_fringe_of_weak_evidence_needs_confirmation(world, django_capture_on_commit_callbacks):
    world.film.kind, world.film.episode_minutes = "television", 60
    world.film.save()
    record_day(world.ann, world.maya)
    run = start_run(world.client, django_capture_on_commit_callbacks, world.film)
    [fringe] = [line for line in run_lines(world.client, run["id"]) if line["kind"] == "fringe"]
    assert fringe["tier"] == "T"
    assert {p["tier"] for p in fringe["parameters"]} >= {"T"}
    assert "needs_confirmation" in fringe["flags"]
