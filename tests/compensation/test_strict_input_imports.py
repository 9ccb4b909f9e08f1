"""The compensation imports and records read amounts, ids and dates as the API does
(core/parse.py), and a CSV or JSON file that the csv or json module cannot read is a clear
400 listing the line, never a 500; nothing of a refused file is written."""

import json

import pytest

from compensation.models import RateSheet, Timecard, WgaDelivery
from compensation.rules import quote_input
from core.parse import ParseError
from tests.compensation.api_helpers import (
    DELIVERIES,
    TIMECARDS,
    build_world,
    client_for,
    load_sheet,
    upload,
)
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

BAD_AMOUNTS = ["1_000.00", "1e2", "+1.00", ".5", "5.", "１.００", "١.٠٠"]
TIMECARD_HEADER = "engagement,date,first_call,dismissal\n"
DELIVERY_HEADER = "engagement,work_type,date,ai_material_handed_over,fee\n"


@pytest.fixture
def world():
    return build_world()


def post_import(client, url, text):
    return client.post(f"{url}import/", {"file": upload("import.csv", text)}, format="multipart")


def arabic(number: int) -> str:
    return str(number).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))


@pytest.mark.parametrize(
    "text",
    [
        TIMECARD_HEADER + "1,2025-08-04,07:00," + "1" * 200_000 + "\n",
        TIMECARD_HEADER + "1,2025-08-04,07:00,\x0019:00\n",
    ],
)
def test_an_unreadable_timecard_file_is_a_400_naming_the_line(world, text):
    error = assert_error(post_import(world.client, TIMECARDS, text), 400, "import_invalid")
    assert error["fields"]["rows"][0]["row"] == 2, error
    assert not Timecard.objects.exists()


def test_a_timecard_row_naming_its_engagement_in_other_digits_is_refused(world):
    for engagement in (arabic(world.ann.pk), "²", f"+{world.ann.pk}"):
        text = TIMECARD_HEADER + f"{engagement},2025-08-04,07:00,19:00\n"
        error = assert_error(post_import(world.client, TIMECARDS, text), 400, "import_invalid")
        assert error["fields"]["rows"][0]["fields"] == {"engagement": "Unknown."}, error
    assert not Timecard.objects.exists()


@pytest.mark.parametrize("day", ["9999-08-04", "0001-08-04", "20250804"])
def test_a_timecard_date_outside_the_years_or_the_format_is_refused(world, day):
    text = TIMECARD_HEADER + f"{world.ann.pk},{day},07:00,19:00\n"
    error = assert_error(post_import(world.client, TIMECARDS, text), 400, "import_invalid")
    assert "date" in error["fields"]["rows"][0]["fields"], error


BAD_CALL_TIMES = ["21:14:12+00:00", "07:00Z", "0700", "7:00", "07:00:00.5", "24:00", "٠٧:٠٠"]


@pytest.mark.parametrize("call", BAD_CALL_TIMES)
def test_a_call_time_is_the_sets_wall_clock_on_every_path(world, call):
    """The schema's pattern (HH:MM or HH:MM:SS, no offset) is what the API, the CSV import and
    a quote take: found by the stateful fuzz, which had a time without an offset refused by the
    schema's `format: time` but accepted, and one with an offset accepted by the API."""
    body = {"engagement": world.ann.pk, "date": "2025-08-04", "first_call": call}
    response = world.client.post(TIMECARDS, {**body, "dismissal": "19:00"}, format="json")
    assert assert_error(response, 400)["fields"].keys() == {"first_call"}
    text = TIMECARD_HEADER + f"{world.ann.pk},2025-08-04,{call},19:00\n"
    error = assert_error(post_import(world.client, TIMECARDS, text), 400, "import_invalid")
    assert "first_call" in error["fields"]["rows"][0]["fields"], error
    assert not Timecard.objects.exists()
    with pytest.raises(ParseError):
        quote_input._time(call, "first_call")


def test_a_call_time_in_hours_and_minutes_or_seconds_is_taken(world):
    for call in ("07:00", "07:00:30"):
        body = {"engagement": world.ann.pk, "date": "2025-08-04", "first_call": call}
        response = world.client.post(TIMECARDS, {**body, "dismissal": "19:00"}, format="json")
        assert response.status_code == 201, response.json()
        Timecard.objects.all().delete()


@pytest.mark.parametrize("fee", BAD_AMOUNTS)
def test_a_delivery_fee_is_read_as_the_api_reads_amounts(world, fee):
    text = DELIVERY_HEADER + f"{world.abe.pk},screenplay,2025-08-15,false,{fee}\n"
    error = assert_error(post_import(world.client, DELIVERIES, text), 400, "import_invalid")
    assert "fee" in error["fields"]["rows"][0]["fields"], error
    body = {
        "engagement": world.abe.pk,
        "work_type": "screenplay",
        "date": "2025-08-15",
        "ai_material_handed_over": False,
        "fee": fee,
    }
    error = assert_error(world.client.post(DELIVERIES, body, format="json"), 400, "invalid")
    assert "fee" in error["fields"]
    assert not WgaDelivery.objects.exists()


def test_a_rate_sheet_with_a_huge_csv_value_is_refused(world):
    text = "parameter,from,value\nsag.minimum.day_performer,2025-08-01," + "1" * 200_000 + "\n"
    error = assert_error(load_sheet(client_for(world.sam), text), 400, "rate_sheet_invalid")
    assert "131,072" in error["message"]
    assert not RateSheet.objects.exists()


@pytest.mark.parametrize("value", BAD_AMOUNTS)
def test_a_rate_sheet_value_is_read_as_the_api_reads_amounts(world, value):
    text = f"parameter,from,value\nsag.minimum.day_performer,2025-08-01,{value}\n"
    assert_error(load_sheet(client_for(world.sam), text), 400, "rate_sheet_invalid")
    series = {
        "parameter": "sag.minimum.day_performer",
        "rule": "sag-minimum",
        "unit": "USD/day",
        "values": [{"from": "2025-08-01", "value": value, "tier": "P", "source": "sheet"}],
    }
    response = load_sheet(client_for(world.sam), json.dumps(series), file_name="rates.json")
    assert_error(response, 400, "rate_sheet_invalid")
    assert not RateSheet.objects.exists()


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"a": ' * 50_000 + "1" + "}" * 50_000,
        '{"parameter": "sag.x", "rule": "r", "unit": "u", "values": [1]}',
        '{"parameter": "sag.x", "rule": "r", "unit": "u", "values": "abc"}',
        '{"parameter": ["sag.x"], "rule": "r", "unit": "u", "values": []}',
    ],
)
def test_a_hostile_json_rate_sheet_is_refused_not_a_500(world, text):
    response = load_sheet(client_for(world.sam), text, file_name="rates.json")
    assert_error(response, 400, "rate_sheet_invalid")
    assert not RateSheet.objects.exists()


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_a_quote_reads_amounts_as_the_api_does(amount):
    with pytest.raises(ParseError):
        quote_input._amount(amount, "rate.amount")
