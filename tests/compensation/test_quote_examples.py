"""`manage.py quote --example <guild>` prints an input the command then quotes; a faulty input is
refused naming every faulty field at once, by the command and by `POST compensation/quote/`."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from compensation.rules.quote_input import EXAMPLES, parse
from core.errors import api_exception_handler
from core.parse import ParseError, ParseErrors
from tests.compensation.api_helpers import QUOTE, build_world, counts
from tests.helpers import assert_error

SAG = EXAMPLES["sag"]
BAD_DATE = [{"date": "2025-13-01", "first_call": "07:00", "dismissal": "19:00"}]
BAD_RATE = {"amount": "fifteen hundred", "unit": "day"}


def run(*args) -> str:
    out = StringIO()
    call_command("quote", *args, stdout=out)
    return out.getvalue()


def quote_file(tmp_path, body) -> dict:
    path = tmp_path / "quote.json"
    path.write_text(json.dumps(body))
    return json.loads(run(str(path)))


def refusal(tmp_path, body) -> list[str]:
    """The command's refusal of `body`, one line per faulty field."""
    with pytest.raises(CommandError) as error:
        quote_file(tmp_path, body)
    return str(error.value).splitlines()


# --- the examples ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "guild, rules, total, missing",
    [
        (
            "sag",
            ["sag.pay.day", "sag.pay.overtime", "sag.pay.ebdr_creation", "sag.pay.ebdr_use"],
            "8848.13",
            [],
        ),
        ("wga", ["other_pay"], "120500.00", ["wga.minimum.screenplay"]),
        (
            "iatse",
            [
                "iatse.pay.hourly",
                "iatse.pay.rest_violation",
                "iatse.pay.meal_penalty",
                "iatse.pay.kit_rental_ai",
            ],
            "908.00",
            ["iatse.scale.set_dresser", "iatse.set_dresser.overtime_after_hours"],
        ),
    ],
)
def test_each_example_is_json_the_command_quotes(tmp_path, guild, rules, total, missing):
    printed = json.loads(run("--example", guild))
    assert printed == EXAMPLES[guild]
    result = quote_file(tmp_path, printed)
    assert sorted({line["rule"] for line in result["lines"]}) == sorted(rules)
    assert result["total"] == [{"currency": "USD", "amount": total}]
    # what only a loaded rate sheet supplies is named, never taken as zero
    assert sorted({e["parameter"] for e in result["exceptions"]}) == missing
    assert {e["code"] for e in result["exceptions"]} <= {"rate_missing"}


def test_an_unknown_guild_is_refused():
    with pytest.raises(CommandError, match="invalid choice: 'dga'"):
        run("--example", "dga")


def test_an_example_and_a_file_together_are_refused(tmp_path):
    with pytest.raises(CommandError, match="not both"):
        run("--example", "sag", str(tmp_path / "quote.json"))


def test_neither_an_example_nor_a_file_is_refused():
    with pytest.raises(CommandError, match="Give a quote file"):
        run()


# --- every fault at once --------------------------------------------------------------------


def test_a_bad_date_and_a_bad_amount_are_both_named(tmp_path):
    lines = refusal(tmp_path, {**SAG, "rate": BAD_RATE, "work_days": BAD_DATE})
    assert lines == [
        "rate.amount: A decimal in ASCII digits, at most 6 digits after the '.', under 10^12, "
        "e.g. \"1250.00\" (no spaces, '+', exponent or digit separators).",
        "work_days[0].date: A date, YYYY-MM-DD. 2025-13-01 is not a day of the calendar.",
    ]


def test_faults_inside_one_item_and_across_lists_are_all_named(tmp_path):
    body = {
        **EXAMPLES["wga"],
        "other_pay": [
            {"date": "2024-02-30", "amount": 100000},
            {"date": "2024-06-01", "amount": "5000.00"},
            "a fee",
        ],
        "deliveries": [{"work_type": "screenplay", "date": "June"}],
        "surprise": 1,
    }
    lines = refusal(tmp_path, body)
    assert [line.split(":")[0] for line in lines] == [
        "surprise",
        "other_pay[0].amount",
        "other_pay[0].date",
        "other_pay[2]",
        "deliveries[0].date",
    ]


def test_a_bad_agreement_still_names_the_other_faults_it_can(tmp_path):
    body = {"agreement": "sag-1999", "other_pay": [{"date": "2024-06-01", "amount": "-1"}]}
    lines = refusal(tmp_path, body)
    assert [line.split(":")[0] for line in lines] == ["agreement", "other_pay[0].amount"]


def test_one_fault_is_reported_as_before(tmp_path):
    assert refusal(tmp_path, {**SAG, "work_days": BAD_DATE}) == [
        "work_days[0].date: A date, YYYY-MM-DD. 2025-13-01 is not a day of the calendar."
    ]
    with pytest.raises(ParseError) as error:
        parse({**SAG, "rate": BAD_RATE})
    assert type(error.value) is ParseError
    assert error.value.field == "rate.amount"


def test_the_error_lists_every_fault_and_reads_as_the_first():
    with pytest.raises(ParseErrors) as error:
        parse({**SAG, "classification": "lead", "rate": BAD_RATE, "work_days": BAD_DATE})
    faults = error.value
    assert isinstance(faults, ParseError)
    assert faults.field == "classification"
    assert [e.field for e in faults.errors] == [
        "classification",
        "rate.amount",
        "work_days[0].date",
    ]
    assert all(f"{e.field}: {e.message}" in faults.message for e in faults.errors)


def test_a_faulty_kind_does_not_add_faults_of_its_own():
    """episode_minutes depends on production_kind: a bad kind is one fault, not two."""
    with pytest.raises(ParseError) as error:
        parse({**SAG, "production_kind": "opera", "episode_minutes": None})
    assert type(error.value) is ParseError
    assert error.value.field == "production_kind"


# --- the API --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_api_names_every_faulty_field():
    world = build_world()
    before = counts()
    body = {**SAG, "rate": BAD_RATE, "work_days": BAD_DATE, "scans": [{"date": "2025-03-10"}]}
    error = assert_error(world.client.post(QUOTE, body, format="json"), 400, "invalid")
    assert set(error["fields"]) == {"rate.amount", "work_days[0].date", "scans[0].hours"}
    assert all(error["fields"].values())
    for field in error["fields"]:
        assert field in error["message"]
    assert counts() == before


@pytest.mark.django_db
def test_the_api_error_handler_maps_every_fault_to_its_field():
    faults = ParseErrors(
        [ParseError("a", "First."), ParseError("b", "Second."), ParseError("a", "Third.")]
    )
    response = api_exception_handler(faults, {})
    assert response.status_code == 400
    assert response.data["code"] == "invalid"
    assert response.data["fields"] == {"a": ["First.", "Third."], "b": ["Second."]}
