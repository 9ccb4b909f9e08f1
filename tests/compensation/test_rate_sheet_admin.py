"""Loading rate sheets in the admin: a CSV template per guild listing every shipped parameter
name with its unit, only the agreements of the staff member's own guild offered (all for an
administrator), every problem of a refused file shown on its own line with its row, and after a
load, the runs computed or approved before it that cover a date it changes, each with a "Rerun"
button for the production's studio staff that runs the same period again.

The scene (tests/compensation/api_helpers.build_world): Meridian's film works under SAG-AFTRA,
WGA and IATSE; Ann worked 4 August 2025; the run of 4-10 August is computed before any sheet."""

import csv
import io
import re
from datetime import date
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from compensation.models import CompensationRun, RateSheet
from compensation.rules.params import shipped
from ledger.models import Agreement
from tests.compensation.api_helpers import (
    build_world,
    clear_parameter_cache,
    computed_run,
    counts,
    record_day,
)
from tests.factories import agreement
from tests.helpers import csv_text

pytestmark = pytest.mark.django_db

ADD = "admin:compensation_ratesheet_add"
TEMPLATE = "admin:compensation_ratesheet_template"
DAY_RATE_FROM_AUGUST = b"parameter,from,value\nsag.minimum.day_performer,2025-08-01,1300\n"


@pytest.fixture
def world():
    clear_parameter_cache()
    w = build_world()
    record_day(w.ann, w.maya)
    w.run = computed_run(w.film, w.maya)
    yield w
    clear_parameter_cache()


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def add_sheet(client, content: bytes, code="sag-tvth-2023", name="rates.csv"):
    return client.post(
        reverse(ADD),
        {
            "agreement": agreement(code).pk,
            "name": "SAG-AFTRA rates 2025-26",
            "source": "SAG-AFTRA rate sheet 2025-26, p.1",
            "tier": "P",
            "file": SimpleUploadedFile(name, content, content_type="text/csv"),
        },
    )


def template_rows(client, code: str) -> list[dict]:
    response = client.get(reverse(TEMPLATE), {"agreement": agreement(code).pk})
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/csv")
    assert f'filename="{code}-rate-sheet-template.csv"' in response["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(csv_text(response))))


def test_the_template_lists_every_parameter_of_the_guild_with_its_unit(world):
    client = logged_in(world.sam)
    rows = template_rows(client, "sag-tvth-2023")
    expected = {n: s.unit for n, s in shipped().series.items() if n.startswith("sag.")}
    assert len(expected) > 20 and {r["parameter"]: r["unit"] for r in rows} == expected
    assert list(rows[0]) == [
        "parameter",
        "from",
        "until",
        "value",
        "unit",
        "tier",
        "source",
        "rule",
    ]
    assert all(r["from"] == r["until"] == r["value"] == r["source"] == "" for r in rows)
    wga = template_rows(logged_in(world.wes), "wga-mba-2023")
    assert {r["parameter"] for r in wga} == {n for n in shipped().series if n.startswith("wga.")}
    # Another guild's agreement is not offered to SAG-AFTRA's staff, nor the template to studios.
    other = client.get(reverse(TEMPLATE), {"agreement": agreement("wga-mba-2023").pk})
    assert other.status_code == 404
    assert client.get(reverse(TEMPLATE), {"agreement": "x"}).status_code == 404
    studio = logged_in(world.maya).get(
        reverse(TEMPLATE), {"agreement": agreement("sag-tvth-2023").pk}
    )
    assert studio.status_code == 403


def test_the_add_page_offers_the_template_and_the_agreements_of_the_users_guild(world):
    offered = {}
    for name, user in [("sam", world.sam), ("wes", world.wes), ("root", world.root)]:
        response = logged_in(user).get(reverse(ADD))
        assert response.status_code == 200
        assert 'id="sheet-template-form"' in response.content.decode()
        field = response.context["adminform"].form.fields["agreement"]
        offered[name] = {a.guild.code if a.guild else None for a in field.queryset}
    assert offered["sam"] == {"sag-aftra"} and offered["wes"] == {"wga"}
    assert offered["root"] == {a.guild.code if a.guild else None for a in Agreement.objects.all()}
    before = counts()
    refused = add_sheet(logged_in(world.sam), DAY_RATE_FROM_AUGUST, code="wga-mba-2023")
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    assert counts() == before


def file_errors(response) -> list[str]:
    assert response.status_code == 200, response.status_code
    text = unescape(response.content.decode())
    found = re.search(r'<ul class="errorlist"[^>]*id="id_file_error"[^>]*>(.*?)</ul>', text, re.S)
    assert found, "the file's errors are listed"
    return [item.strip() for item in re.findall(r"<li>(.*?)</li>", found.group(1), re.S)]


def test_every_problem_is_shown_on_its_own_line_with_its_row(world):
    before = counts()
    response = add_sheet(
        logged_in(world.sam),
        b"parameter,from,until,value\n"
        b"sag.minimum.day_performer,2025-09-01,,x\n"
        b",2025-09-01,,1\n"
        b"sag.minimum.day_performer,2025-09-01,2025-08-01,1\n",
    )
    problems = file_errors(response)
    assert [p.split(":")[0] for p in problems] == ["On row 2", "On row 3", "On row 4"], problems
    assert problems[1] == "On row 3: parameter is required (at most 120 characters)"
    assert problems[2] == "On row 4: until is before from"
    page = unescape(response.content.decode())
    assert "3 problem(s), listed under the file" in page and "['" not in page
    assert counts() == before
    # Problems the loader finds once the rows are read name their rows too.
    unknown = add_sheet(
        logged_in(world.sam),
        b"parameter,from,value\nsag.minimum.day_performer,2025-09-01,1300\n"
        b"sag.no_such_rate,2025-09-01,1\nwga.pension.rate,2025-09-01,0.1\n",
    )
    problems = " | ".join(file_errors(unknown))
    assert "On row 4: wga.pension.rate is not a sag-aftra parameter." in problems
    assert counts() == before


def runs_section(page: str) -> str:
    found = re.search(r'<div class="module" id="runs-to-recompute">(.*?)</div>', page, re.S)
    assert found, "the sheet's page has its runs to recompute"
    return unescape(found.group(1))


def test_a_load_lists_the_runs_it_changes_and_reruns_one_with_a_click(world):
    root = logged_in(world.root)
    response = add_sheet(root, DAY_RATE_FROM_AUGUST)
    assert response.status_code == 302, response.content.decode()[:2000]
    sheet = RateSheet.objects.get()
    sheet_url = reverse("admin:compensation_ratesheet_change", args=[sheet.pk])
    assert response["Location"] == f"{sheet_url}#runs-to-recompute"
    loaded = root.get(response["Location"])
    assert any("1 run(s) used figures it changes" in str(m) for m in loaded.context["messages"])
    section = runs_section(loaded.content.decode())
    run_url = reverse("admin:compensation_compensationrun_change", args=[world.run.pk])
    assert f'<a href="{run_url}">#{world.run.pk}</a>' in section
    assert "The Long Light" in section and "2025-08-04 – 2025-08-10" in section
    assert f'name="run" value="{world.run.pk}"' in section and ">Rerun</button>" in section

    rerun = root.post(
        reverse("admin:compensation_ratesheet_rerun", args=[sheet.pk]), {"run": world.run.pk}
    )
    assert rerun.status_code == 302
    new = CompensationRun.objects.exclude(pk=world.run.pk).get()
    assert (new.production, new.period_from, new.period_to, new.due_date) == (
        world.film,
        date(2025, 8, 4),
        date(2025, 8, 10),
        world.run.due_date,
    )
    assert new.started_by == world.root
    after = root.get(rerun["Location"])
    new_url = reverse("admin:compensation_compensationrun_change", args=[new.pk])
    assert any(new_url in str(m) for m in after.context["messages"])
    section = runs_section(after.content.decode())
    assert f"run #{new.pk}" in section and new_url in section and ">Rerun</button>" not in section


def test_only_the_studios_staff_rerun_and_a_sheet_of_other_dates_lists_none(world):
    add_sheet(logged_in(world.sam), DAY_RATE_FROM_AUGUST)
    sheet = RateSheet.objects.get()
    url = reverse("admin:compensation_ratesheet_change", args=[sheet.pk])
    sam = logged_in(world.sam)  # guild staff see the run, and do not start their studio's runs
    section = runs_section(sam.get(url).content.decode())
    assert f"#{world.run.pk}" in section and ">Rerun</button>" not in section
    sam.post(reverse("admin:compensation_ratesheet_rerun", args=[sheet.pk]), {"run": world.run.pk})
    assert CompensationRun.objects.count() == 1
    maya = logged_in(world.maya)  # the studio's staff do
    assert ">Rerun</button>" in runs_section(maya.get(url).content.decode())
    # A run the sheet does not cover cannot be rerun from its page.
    missing = maya.post(reverse("admin:compensation_ratesheet_rerun", args=[sheet.pk]), {"run": 0})
    assert missing.status_code == 404

    later = add_sheet(
        logged_in(world.sam),
        b"parameter,from,value\nsag.minimum.day_performer,2025-09-01,1350\n",
    )
    assert later.status_code == 302
    page = logged_in(world.root).get(later["Location"]).content.decode()
    assert "No computed or approved run used figures this sheet changes." in runs_section(page)
