"""Residual schedules loaded by staff (RULES.md §3 Residuals): CSV or JSON, strict (every faulty
row listed, formulas and JSON numbers refused), numbered per agreement and name, kept as loaded,
superseding by date; read back by the residual engine exactly as loaded. Over the API (who may
load, list, filters, the template), in the admin (the load page, the figures as tables, never a
JSON literal) and from the command line. The figures here are made up for the tests: nothing is
a rate any source gives."""

import copy
import csv
import io
import re
import threading
from datetime import date
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from compensation import api as compensation_api
from compensation.models import ResidualSchedule
from compensation.residuals import schedules
from compensation.residuals.selectors import schedule_in_force
from compensation.rules.residuals.engine import residuals
from compensation.rules.residuals.input import parse_schedule
from core.errors import DomainError, Forbidden
from ledger.access import Scope
from tests.compensation.api_helpers import build_world, client_for, ok, results, upload
from tests.factories import UserFactory, agreement
from tests.helpers import assert_error, assert_refused_role, csv_text, key_client, seed_registry
from tests.ledger.test_admin_no_raw_json import raw_literals
from tests.openapi import assert_matches_schema

pytestmark = pytest.mark.django_db

URL = "/api/v1/residuals/schedules/"
TEMPLATE_URL = f"{URL}template/"

CSV_FIGURES = (
    "kind,key,value\n"
    "base,episode:30,500.00\n"
    "base,episode:60,1000.00\n"
    "subscriber_factor,tier_2,0.5\n"
    "exhibition_year_percent,1:domestic,10\n"
    "exhibition_year_percent,1:foreign,5\n"
    "gross_receipts_percent,basic_cable:foreign,2.5\n"
)
JSON_FIGURES = (
    '{"bases": {"episode:60": "2000.00"}, "subscriber_factors": {"tier_2": "1"}, '
    '"exhibition_year_percent": {"1:domestic": "10", "1:foreign": "5"}, '
    '"gross_receipts_percent": {"syndication:domestic": "3"}}'
)
EXPECTED_FIGURES = {
    "bases": {"episode:30": "500.00", "episode:60": "1000.00"},
    "subscriber_factors": {"tier_2": "0.5"},
    "exhibition_year_percent": {"1:domestic": "10", "1:foreign": "5"},
    "gross_receipts_percent": {"basic_cable:foreign": "2.5"},
}


@pytest.fixture
def world():
    return build_world()


def load(
    actor,
    content=CSV_FIGURES,
    *,
    code="wga-mba-2023",
    name="WGA residuals",
    effective_from=date(2025, 1, 1),
    file_format="csv",
    **fields,
):
    """A schedule through the service, as `actor`."""
    return schedules.schedule_load(
        actor=actor,
        agreement=agreement(code),
        name=name,
        source=fields.pop("source", "Residual schedule of the test, p.1"),
        effective_from=effective_from,
        file_name=f"schedule.{file_format}",
        file_format=file_format,
        content=content,
        **fields,
    )


def refusal(actor, content, **kwargs) -> DomainError:
    before = ResidualSchedule.objects.count()
    with pytest.raises(DomainError) as caught:
        load(actor, content, **kwargs)
    assert ResidualSchedule.objects.count() == before, "a refused file writes nothing"
    return caught.value


def problems_of(actor, content, **kwargs) -> list[str]:
    error = refusal(actor, content, **kwargs)
    assert error.code == "residual_schedule_invalid", error.message
    problems = error.fields["file"]
    assert isinstance(problems, list) and problems
    return problems


# --- the service: versions, figures, superseding -------------------------------------------


def test_loads_are_numbered_per_agreement_and_name_and_kept_as_loaded(world):
    first = load(world.wes)
    assert (first.agreement.code, first.name, first.version) == ("wga-mba-2023", "WGA residuals", 1)
    assert first.content == CSV_FIGURES and first.loaded_by == world.wes
    assert first.file_format == "csv" and len(first.sha256) == 64
    assert first.figures == {
        "name": "wga-mba-2023:WGA residuals v1",
        "source": "Residual schedule of the test, p.1",
        "tier": "P",
        "currency": "USD",
        **EXPECTED_FIGURES,
    }
    second = load(world.wes, JSON_FIGURES, file_format="json", tier="S", due_rule="basic_cable")
    assert second.version == 2 and second.sha256 != first.sha256
    assert (second.tier, second.due_rule, second.figures["due_rule"]) == (
        "S",
        "basic_cable",
        "basic_cable",
    )
    assert second.figures["bases"] == {"episode:60": "2000.00"}
    assert load(world.wes, name="WGA corrections").version == 1
    assert load(world.sam, code="sag-tvth-2023").version == 1  # same name, another agreement
    assert list(
        ResidualSchedule.objects.order_by("id").values_list("agreement__code", "name", "version")
    ) == [
        ("wga-mba-2023", "WGA residuals", 1),
        ("wga-mba-2023", "WGA residuals", 2),
        ("wga-mba-2023", "WGA corrections", 1),
        ("sag-tvth-2023", "WGA residuals", 1),
    ]


def test_a_later_schedule_supersedes_from_its_date(world):
    wga = agreement("wga-mba-2023")
    january = load(world.wes, effective_from=date(2025, 1, 1))
    july = load(world.wes, name="WGA residuals 2025-07", effective_from=date(2025, 7, 1))
    load(world.sam, code="sag-tvth-2023", effective_from=date(2025, 3, 1))  # another agreement
    assert schedule_in_force(wga, date(2024, 12, 31)) is None
    assert schedule_in_force(wga, date(2025, 1, 1)) == january
    assert schedule_in_force(wga, date(2025, 6, 30)) == january
    assert schedule_in_force(wga, date(2025, 7, 1)) == july
    assert schedule_in_force(wga, date(2027, 1, 1)) == july
    # A correction loaded with the same date replaces it from that date; the earlier stays.
    correction = load(world.wes, name="WGA residuals 2025-07", effective_from=date(2025, 7, 1))
    assert correction.version == 2
    assert schedule_in_force(wga, date(2025, 7, 1)) == correction
    assert schedule_in_force(wga, date(2025, 6, 30)) == january


def test_the_engine_reads_the_figures_exactly_as_loaded(world):
    row = load(world.wes)
    engine = schedules.to_engine(row)
    assert engine == parse_schedule(row.figures)
    assert engine == parse_schedule(
        {
            "name": "wga-mba-2023:WGA residuals v1",
            "source": "Residual schedule of the test, p.1",
            "tier": "P",
            **EXPECTED_FIGURES,
        }
    )
    assert schedules.figures_of(engine) == row.figures
    # The same residuals, whether the schedule is given in the what-if or read from the row.
    body = {
        "agreement": "wga-mba-2023",
        "work": {"title": "Pilot", "type": "episode", "running_minutes": 44},
        "schedule": row.figures,
        "exhibitions": [
            {
                "market": "hbsvod",
                "service": "Streamer",
                "subscriber_tier": "tier_2",
                "exhibition_year": 1,
                "period_from": "2025-02-01",
                "period_to": "2026-01-31",
            }
        ],
        "participants": [{"id": "W1", "role": "writer", "credit": "written_by"}],
    }
    result = residuals(body).as_dict()
    hbsvod = [line for line in result["lines"] if line["rule"] == "wga.residual.hbsvod"]
    # 1000.00 (the 60-minute band holds 44 minutes) × 0.5 × 10 % and × 5 %.
    assert [(line["territory"], line["amount"]) for line in hbsvod] == [
        ("domestic", "50.00"),
        ("foreign", "25.00"),
    ]
    assert hbsvod[0]["factors"][0]["sheet"] == "wga-mba-2023:WGA residuals v1"
    assert hbsvod[0]["factors"][0]["parameter"] == "base:episode:60"


def test_a_figure_the_schedule_lacks_is_rate_missing_naming_the_key_and_date(world):
    row = load(world.wes)
    body = {
        "agreement": "wga-mba-2023",
        "work": {"title": "Pilot", "type": "episode", "running_minutes": 60},
        "schedule": row.figures,
        "exhibitions": [
            {
                "market": "hbsvod",
                "service": "Streamer",
                "subscriber_tier": "tier_9",
                "exhibition_year": 2,
                "period_from": "2026-02-01",
                "period_to": "2027-01-31",
            }
        ],
        "participants": [{"id": "W1", "role": "writer", "credit": "written_by"}],
    }
    result = residuals(body).as_dict()
    assert result["lines"] == []
    assert {(e["code"], e["parameter"], e["date"]) for e in result["exceptions"]} == {
        ("rate_missing", "subscriber_factor:tier_9", "2026-02-01")
    }


# --- the service: strict files ----------------------------------------------------------------


def test_every_faulty_row_is_listed_with_its_row_number(world):
    text = (
        "kind,key,value\n"
        "base,episode:60,1000.00\n"
        "base,episode:6O,1000.00\n"  # a letter O
        "bonus,episode:60,1\n"
        "subscriber_factor,tier_2,1e3\n"
        "exhibition_year_percent,1:domestic,101\n"
        "gross_receipts_percent,cinema:domestic,2\n"
        "base,episode:60,1100.00\n"
        "subscriber_factor,tier_3,\n"
        "exhibition_year_percent,1:foreign,5,extra\n"
    )
    problems = problems_of(world.wes, text)
    assert [p.split(":")[0] for p in problems] == [
        "row 3",
        "row 4",
        "row 5",
        "row 6",
        "row 7",
        "row 8",
        "row 9",
        "row 10",
    ]
    assert "A key is <work type>:<minutes>" in problems[0]
    assert "'bonus' is not one of base, subscriber_factor" in problems[1]
    assert "A decimal in ASCII digits" in problems[2]
    assert "A percentage from 0 to 100" in problems[3]
    assert "A key is <market>:domestic|foreign" in problems[4]
    assert problems[5] == "row 8: base episode:60: given twice (first on row 2)."
    assert "a value is needed" in problems[6]
    assert "more values than the header has columns" in problems[7]
    # The refused file took no version number.
    assert load(world.wes).version == 1


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t"])
@pytest.mark.parametrize("column", ["kind", "key", "value"])
def test_a_cell_a_spreadsheet_would_evaluate_is_refused(world, start, column):
    cells = {"kind": "base", "key": "episode:60", "value": "1000.00"}
    cells[column] = f"{start}{cells[column]}"
    text = f'kind,key,value\n"{cells["kind"]}","{cells["key"]}","{cells["value"]}"\n'
    [problem] = problems_of(world.wes, text)
    assert problem.startswith("row 2: ") and "formulas are refused" in problem, problem
    assert f"the {column} " in problem


JSON_FAULTS = {
    "a JSON number": (
        '{"bases": {"episode:60": 1000.5}}',
        ['bases.episode:60: 1000.5 is a JSON number, not a decimal string such as "10.5".'],
    ),
    "a JSON integer": (
        '{"bases": {"episode:60": 1000}}',
        ["bases.episode:60: 1000 is a JSON number"],
    ),
    "a figure given twice": (
        '{"bases": {"episode:60": "1000", "episode:60": "1100"}}',
        ["bases.episode:60: given twice."],
    ),
    "unknown map and key": (
        '{"bonus": {}, "subscriber_factors": {"Tier 2": "1"}}',
        ["bonus: Unknown field", "subscriber_factors.Tier 2: A key is <tier>."],
    ),
    "a map that is not an object": (
        '{"bases": ["1000"]}',
        ['bases: An object of "key": "decimal string".'],
    ),
    "not an object": ('["1000"]', ["The file is one object with the maps"]),
    "not JSON": ('{"bases": ', ["Not JSON"]),
    "no figures": ('{"bases": {}}', ["The schedule holds no figures."]),
}


@pytest.mark.parametrize("case", list(JSON_FAULTS))
def test_a_faulty_json_schedule_is_refused_with_every_fault(world, case):
    text, expected = JSON_FAULTS[case]
    problems = problems_of(world.wes, text, file_format="json")
    assert len(problems) == len(expected), problems
    for fragment, problem in zip(expected, problems, strict=True):
        assert problem.startswith(fragment), (fragment, problems)


CSV_FAULTS = {
    "empty file": ("", "The file is empty."),
    "only spaces": ("  \n \n", "The file is empty."),
    "header only": ("kind,key,value\n", "The schedule holds no figures."),
    "unknown column": (
        "kind,key,value,comment\nbase,episode:60,1000,x\n",
        "row 1: The header is kind,key,value: unknown column(s): comment.",
    ),
    "missing column": ("kind,value\nbase,1000\n", "row 1: The header is kind,key,value: missing"),
    "column twice": (
        "kind,key,value,key\n",
        "row 1: The header is kind,key,value: column(s) given",
    ),
    "a NUL character": ("kind,key,value\nbase,episode:60,1\x00\n", "Line 2 holds a NUL"),
}


@pytest.mark.parametrize("case", list(CSV_FAULTS))
def test_an_unusable_csv_file_is_refused(world, case):
    text, expected = CSV_FAULTS[case]
    assert problems_of(world.wes, text)[0].startswith(expected)


def test_the_template_holds_every_kind_and_no_figure(world):
    rows = list(csv.reader(io.StringIO(schedules.SCHEDULE_TEMPLATE_CSV)))
    assert rows[0] == ["kind", "key", "value"]
    assert {row[0] for row in rows[1:]} == set(schedules.KINDS)
    assert all(len(row) == 3 and row[2] == "" for row in rows[1:]), "the template ships no figure"
    # Loaded as it is, every row is refused for its missing value.
    problems = problems_of(world.wes, schedules.SCHEDULE_TEMPLATE_CSV)
    assert len(problems) == len(rows) - 1
    assert all("a value is needed" in p for p in problems)


@pytest.mark.parametrize("code", ["iatse-basic-2024", "non-union"])
def test_only_sag_aftra_and_wga_agreements_have_residual_schedules(world, code):
    error = refusal(world.root, CSV_FIGURES, code=code)
    assert error.code == "residual_schedule_invalid"
    assert set(error.fields) == {"agreement"} and "SAG-AFTRA's and the WGA's" in error.message


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"name": " "}, "name"),
        ({"source": ""}, "source"),
        ({"name": "x" * 121}, "name"),
        ({"source": "x" * 1001}, "source"),
        ({"tier": "X"}, "tier"),
        ({"currency": "XYZ"}, "currency"),
        ({"due_rule": "network_tv"}, "due_rule"),
        ({"file_format": "xlsx"}, "file_format"),
        ({"effective_from": date(1899, 12, 31)}, "effective_from"),
    ],
)
def test_a_bad_description_is_refused_naming_its_field(world, fields, field):
    error = refusal(world.wes, CSV_FIGURES, **fields)
    assert error.code == "residual_schedule_invalid" and field in error.fields, error.fields


def test_who_may_load_which_agreement(world):
    sag, wga, iatse = (agreement(c) for c in ("sag-tvth-2023", "wga-mba-2023", "iatse-basic-2024"))
    residual_agreements = {"sag-tvth-2023", "sag-tvth-2026", "wga-mba-2023", "wga-mba-2026"}

    def codes(scope):
        return set(schedules.loadable_agreements(scope).values_list("code", flat=True))

    wes = Scope(guild_ids=frozenset({wga.guild_id}))
    maya = Scope(studio_ids=frozenset({world.meridian.pk}))
    assert codes(Scope(superuser=True)) == residual_agreements
    assert codes(maya) == residual_agreements  # studio staff: any SAG-AFTRA or WGA agreement
    assert codes(wes) == {"wga-mba-2023", "wga-mba-2026"}
    assert codes(Scope(guild_ids=frozenset({iatse.guild_id}))) == set()
    payroll = Scope(studio_ids=frozenset({world.meridian.pk}), payroll_key=object())  # type: ignore[arg-type]
    assert codes(payroll) == set() and codes(Scope()) == set()
    schedules.check_may_load(wes, wga)
    with pytest.raises(Forbidden):
        schedules.check_may_load(wes, sag)
    with pytest.raises(DomainError, match="SAG-AFTRA's and the WGA's"):
        schedules.check_may_load(Scope(superuser=True), iatse)


# --- the API --------------------------------------------------------------------------------


def post(client, text=CSV_FIGURES, *, file_name="schedule.csv", **fields):
    body = {
        "agreement": "sag-tvth-2023",
        "name": "SAG-AFTRA residuals",
        "source": "SAG-AFTRA residual schedule of the test",
        "effective_from": "2025-01-01",
        "file": upload(
            file_name, text, "application/json" if file_name.endswith("json") else "text/csv"
        ),
    }
    body.update(fields)
    return client.post(URL, body, format="multipart")


@pytest.mark.parametrize("who", ["sam", "maya", "root"])
def test_the_guilds_staff_studio_staff_and_administrators_load(world, who):
    response = post(client_for(getattr(world, who)))
    body = ok(response, 201)
    assert_matches_schema(response, "POST", URL)
    assert (body["agreement"], body["name"], body["version"], body["loaded_by"]) == (
        "sag-tvth-2023",
        "SAG-AFTRA residuals",
        1,
        getattr(world, who).username,
    )
    assert body["effective_from"] == "2025-01-01" and body["file_format"] == "csv"
    assert body["figures"] == {
        "name": "sag-tvth-2023:SAG-AFTRA residuals v1",
        "source": "SAG-AFTRA residual schedule of the test",
        "tier": "P",
        "currency": "USD",
        **EXPECTED_FIGURES,
    }
    assert "content" not in body


@pytest.mark.parametrize("who", ["wes", "ian", "payroll", "anonymous"])
def test_others_may_not_load_a_sag_aftra_schedule(world, who):
    if who == "payroll":
        client = key_client(world.meridian_key)
    elif who == "anonymous":
        client = client_for(None)
    else:
        client = client_for(getattr(world, who))
    response = post(client)
    assert_refused_role(response, "anonymous" if who == "anonymous" else who)
    assert not ResidualSchedule.objects.exists()


def test_a_json_schedule_over_the_api_and_its_next_version(world):
    sam = client_for(world.sam)
    ok(post(sam), 201)
    second = ok(
        post(sam, JSON_FIGURES, file_name="schedule.json", due_rule="syndication", tier="S"),
        201,
    )
    assert (second["version"], second["file_format"], second["tier"]) == (2, "json", "S")
    assert second["due_rule"] == "syndication" and second["figures"]["due_rule"] == "syndication"
    # The format may be named when the file's name does not say it.
    third = ok(post(sam, JSON_FIGURES, file_name="upload.txt", file_format="json"), 201)
    assert third["file_format"] == "json" and third["version"] == 3


def test_a_faulty_file_is_a_400_listing_every_row(world):
    text = "kind,key,value\nbase,episode:60,1000\nbase,episode:60,=1+1\nbase,episode,1\n"
    response = post(client_for(world.sam), text)
    error = assert_error(response, 400, "residual_schedule_invalid")
    assert [p.split(":")[0] for p in error["fields"]["file"]] == ["row 3", "row 4"]
    assert "row 3" in error["message"] and "row 4" in error["message"]
    assert not ResidualSchedule.objects.exists()


@pytest.mark.parametrize(
    "fields, field, code",
    [
        ({"agreement": "iatse-basic-2024"}, "agreement", "residual_schedule_invalid"),
        ({"agreement": "no-such-agreement"}, "agreement", None),
        ({"effective_from": "2025-13-01"}, "effective_from", None),
        ({"due_rule": "network_tv"}, "due_rule", None),
        ({"currency": "XYZ"}, "currency", None),
    ],
)
def test_a_bad_field_is_a_400_naming_it(world, fields, field, code):
    error = assert_error(post(client_for(world.root), **fields), 400, code)
    assert field in error["fields"], error
    assert not ResidualSchedule.objects.exists()


def test_a_file_over_the_size_limit_is_refused(world, monkeypatch):
    monkeypatch.setattr(compensation_api, "MAX_UPLOAD_BYTES", len(CSV_FIGURES) - 1)
    error = assert_error(post(client_for(world.sam)), 400, "file_too_large")
    assert error["fields"] == {"file": "Too large."}
    assert not ResidualSchedule.objects.exists()


def test_a_file_that_is_not_utf8_is_refused(world):
    response = client_for(world.sam).post(
        URL,
        {
            "agreement": "sag-tvth-2023",
            "name": "SAG-AFTRA residuals",
            "source": "x",
            "effective_from": "2025-01-01",
            "file": SimpleUploadedFile("s.csv", b"kind,key,value\nbase,episode:60,\xff\n"),
        },
        format="multipart",
    )
    assert assert_error(response, 400)["fields"] == {"file": "Not UTF-8."}


def test_staff_list_and_filter_schedules_and_payroll_keys_see_none(world):
    first = load(world.sam, code="sag-tvth-2023", name="SAG-AFTRA residuals")
    second = load(world.wes, name="WGA residuals")
    third = load(world.wes, name="WGA residuals")
    for who in ("maya", "sam", "wes", "ian", "root"):
        response = client_for(getattr(world, who)).get(URL)
        assert {row["id"] for row in results(response)} == {first.pk, second.pk, third.pk}, who
    assert_matches_schema(response, "GET", URL)
    client = client_for(world.maya)
    assert [r["id"] for r in results(client.get(URL, {"agreement": "wga-mba-2023"}))] == [
        second.pk,
        third.pk,
    ]
    assert [r["id"] for r in results(client.get(URL, {"name": "SAG-AFTRA residuals"}))] == [
        first.pk
    ]
    assert results(client.get(URL, {"agreement": "iatse-basic-2024"})) == []
    detail = client.get(f"{URL}{third.pk}/")
    assert (
        ok(detail)["version"] == 2 and ok(detail)["figures"]["bases"] == EXPECTED_FIGURES["bases"]
    )
    assert_matches_schema(detail, "GET", f"{URL}{{id}}/")
    payroll = key_client(world.meridian_key)
    assert_error(payroll.get(URL), 403, "permission_denied")
    assert_error(payroll.get(f"{URL}{first.pk}/"), 403, "permission_denied")
    assert_error(client.get(f"{URL}987654321/"), 404, "not_found")


def test_schedules_are_never_changed_over_the_api(world):
    row = load(world.wes)
    client = client_for(world.root)
    for method in ("put", "patch", "delete"):
        response = getattr(client, method)(f"{URL}{row.pk}/", {}, format="json")
        assert_error(response, 405, "method_not_allowed")
    row.refresh_from_db()
    assert row.version == 1 and row.figures["bases"] == EXPECTED_FIGURES["bases"]


def test_the_template_is_downloaded_as_csv_by_staff_only(world):
    response = client_for(world.wes).get(TEMPLATE_URL)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert csv_text(response) == schedules.SCHEDULE_TEMPLATE_CSV
    assert_matches_schema(response, "GET", TEMPLATE_URL)
    assert_error(key_client(world.meridian_key).get(TEMPLATE_URL), 403, "permission_denied")


# --- the admin ------------------------------------------------------------------------------


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


ADD = "admin:compensation_residualschedule_add"


def admin_load(client, agreement_pk, content: bytes, file_name="schedule.csv", **fields):
    body = {
        "agreement": agreement_pk,
        "name": "WGA residuals",
        "effective_from": "2025-01-01",
        "source": "WGA residual schedule of the test",
        "tier": "P",
        "currency": "USD",
        "due_rule": "",
        "file_format": "",
        "file": SimpleUploadedFile(file_name, content),
    }
    body.update(fields)
    return client.post(reverse(ADD), body)


def test_the_load_page_offers_the_template_and_the_callers_agreements(world):
    response = admin_client(world.wes).get(reverse(ADD))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Load a residual schedule" in html
    template_url = reverse("admin:compensation_residualschedule_template")
    assert template_url in html
    form = response.context["adminform"].form
    assert {a.code for a in form.fields["agreement"].queryset} == {"wga-mba-2023", "wga-mba-2026"}
    download = admin_client(world.wes).get(template_url)
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    assert csv_text(download) == schedules.SCHEDULE_TEMPLATE_CSV
    assert admin_client(world.maya).get(reverse(ADD)).status_code == 200
    assert admin_client(world.ian).get(reverse(ADD)).status_code == 403


def test_a_schedule_loaded_in_the_admin_goes_through_the_service(world):
    wga = agreement("wga-mba-2023")
    response = admin_load(admin_client(world.wes), wga.pk, CSV_FIGURES.encode())
    assert response.status_code == 302, response.content.decode()[:2000]
    row = ResidualSchedule.objects.get()
    assert (row.agreement, row.version, row.loaded_by, row.due_rule) == (wga, 1, world.wes, "")
    assert {k: row.figures[k] for k in EXPECTED_FIGURES} == EXPECTED_FIGURES


def test_the_admin_refuses_another_guilds_agreement(world):
    response = admin_load(admin_client(world.wes), agreement("sag-tvth-2023").pk, b"x")
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not ResidualSchedule.objects.exists()


def test_a_faulty_file_in_the_admin_lists_every_row_and_writes_nothing(world):
    text = b"kind,key,value\nbase,episode:60,1000\nbase,episode:6O,1\nsubscriber_factor,tier_2,@1\n"
    response = admin_load(admin_client(world.wes), agreement("wga-mba-2023").pk, text)
    assert response.status_code == 200
    html = response.content.decode()
    assert "The residual schedule was not loaded." in html
    assert "row 3: base episode:6O" in html and "row 4: the value" in html
    assert raw_literals(html) == []
    assert not ResidualSchedule.objects.exists()


def test_a_schedules_page_shows_its_figures_as_tables_never_json(world):
    row = load(world.wes, JSON_FIGURES, file_format="json", due_rule="basic_cable")
    load(world.wes, name="WGA other")  # the CSV one, with more rows
    url = reverse("admin:compensation_residualschedule_change", args=[row.pk])
    for user in (world.wes, world.maya, world.sam):
        response = admin_client(user).get(url)
        assert response.status_code == 200
        html = response.content.decode()
        assert raw_literals(html) == [], raw_literals(html)
        for cell in (
            "<td>episode</td><td>up to 60</td><td>2000.00</td><td>USD</td>",
            "<td>tier 2</td><td>1</td>",
            "<td>1</td><td>domestic</td><td>10 %</td>",
            "<td>1</td><td>foreign</td><td>5 %</td>",
            "<td>syndication</td><td>domestic</td><td>3 %</td>",
        ):
            assert cell in html, cell
        assert "as basic cable" in html and row.sha256 in html
    file_url = reverse("admin:compensation_residualschedule_file", args=[row.pk])
    download = admin_client(world.maya).get(file_url)
    assert download.status_code == 200 and download.content.decode() == JSON_FIGURES
    assert download["Content-Type"].startswith("application/json")
    assert (
        admin_client(world.maya)
        .get(reverse("admin:compensation_residualschedule_file", args=[987654321]))
        .status_code
        == 404
    )


def test_the_schedules_list_renders_and_offers_no_change(world):
    row = load(world.wes)
    client = admin_client(world.maya)
    response = client.get(reverse("admin:compensation_residualschedule_changelist"))
    assert response.status_code == 200 and "WGA residuals" in response.content.decode()
    html = client.get(reverse("admin:compensation_residualschedule_change", args=[row.pk]))
    assert 'name="_save"' not in html.content.decode()
    delete = reverse("admin:compensation_residualschedule_delete", args=[row.pk])
    assert admin_client(world.root).get(delete).status_code == 403
    history = reverse("admin:compensation_residualschedule_history", args=[row.pk])
    assert client.get(history).status_code == 200
    assert (
        client.get(
            reverse("admin:compensation_residualschedule_history", args=[987654321])
        ).status_code
        == 404
    )


# --- the command ----------------------------------------------------------------------------


def run_command(*args) -> str:
    out = StringIO()
    call_command("load_residual_schedule", *args, stdout=out)
    return out.getvalue()


def test_the_command_loads_a_schedule_as_the_system_user(world, tmp_path):
    path = tmp_path / "wga.csv"
    path.write_text(CSV_FIGURES)
    args = [
        "wga-mba-2023",
        str(path),
        "--name",
        "WGA residuals",
        "--source",
        "Residual schedule of the test",
        "--effective-from",
        "2025-01-01",
    ]
    out = run_command(*args)
    row = ResidualSchedule.objects.get()
    assert out.startswith("Loaded wga-mba-2023:WGA residuals v1: 6 figure(s), in force from ")
    assert row.sha256 in out and row.loaded_by.username == "system"
    assert row.effective_from == date(2025, 1, 1) and row.file_name == "wga.csv"
    assert "v2" in run_command(*args, "--due-rule", "syndication", "--tier", "S")
    assert ResidualSchedule.objects.order_by("-id").first().due_rule == "syndication"


def test_the_command_refuses_a_faulty_file_listing_every_row(world, tmp_path):
    path = tmp_path / "wga.csv"
    path.write_text("kind,key,value\nbase,episode,1\nbase,episode:60,-1\n")
    args = [
        "wga-mba-2023",
        str(path),
        "--name",
        "n",
        "--source",
        "s",
        "--effective-from",
        "2025-01-01",
    ]
    with pytest.raises(CommandError) as caught:
        run_command(*args)
    lines = str(caught.value).splitlines()
    assert lines[0] == "The residual schedule was not loaded:"
    assert [line.strip().split(":")[0] for line in lines[1:]] == ["row 2", "row 3"]
    assert not ResidualSchedule.objects.exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["wga-mba-2023"], "Needed: file, --name, --source, --effective-from."),
        (
            ["no-such", "x.csv", "--name", "n", "--source", "s", "--effective-from", "2025-01-01"],
            "No agreement 'no-such'.",
        ),
        (
            ["wga-mba-2023", "x.csv", "--name", "n", "--source", "s", "--effective-from", "1.1.25"],
            "--effective-from: A date is written YYYY-MM-DD.",
        ),
        (
            [
                "iatse-basic-2024",
                "x.csv",
                "--name",
                "n",
                "--source",
                "s",
                "--effective-from",
                "2025-01-01",
            ],
            "SAG-AFTRA's and the WGA's",
        ),
    ],
)
def test_the_command_refuses_bad_arguments(world, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.csv").write_text(CSV_FIGURES)
    with pytest.raises(CommandError, match=re.escape(message)):
        run_command(*args)
    assert not ResidualSchedule.objects.exists()


def test_the_command_prints_the_template():
    assert run_command("--template") == schedules.SCHEDULE_TEMPLATE_CSV


def test_a_stored_figures_object_that_no_longer_parses_is_refused_not_guessed(world):
    row = load(world.wes)
    broken = copy.copy(row)
    broken.figures = {**row.figures, "bases": {"episode:60": 1000}}
    with pytest.raises(DomainError, match="the stored figures do not parse"):
        schedules.to_engine(broken)


# --- numbering under concurrency ------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_loads_of_one_name_take_consecutive_versions():
    """Four loads of one (agreement, name) at the same instant, each on its own connection: the
    agreement's row lock makes them take versions 1 to 4 (the first version has no row of its
    own to lock)."""
    seed_registry()
    actor = UserFactory(username="loader")
    barrier = threading.Barrier(4)
    outcomes: list[object] = [None] * 4

    def worker(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes[index] = load(actor, name="WGA residuals").version
        except Exception as exc:  # reported below
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == [1, 2, 3, 4], outcomes  # type: ignore[type-var]
    assert sorted(ResidualSchedule.objects.values_list("version", flat=True)) == [1, 2, 3, 4]
