"""Compensation in the staff admin, scoped like the API: the changelists of runs, lines, work
records, sheets and resolutions; a line's page with its explanation (rule, quantity × rate, each
parameter with its tier and source); a run's page with its exceptions and lines; the CSV import
page of timecards (all or nothing, every faulty row listed); recording a timecard and starting a
run through their services; loading a sheet; and the approve action."""

import re
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from compensation import services
from compensation.models import CompensationRun, HoldResolution, RateSheet, Timecard, WgaDelivery
from ledger.models import JournalTransaction, Payable
from tests.compensation.api_helpers import (
    build_world,
    clear_parameter_cache,
    computed_run,
    counts,
    record_day,
    record_violation,
)
from tests.helpers import acknowledge_all

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_parameters():
    clear_parameter_cache()
    yield
    clear_parameter_cache()


@pytest.fixture
def world():
    w = build_world()
    record_day(w.ann, w.maya)
    record_day(w.bob, w.nora)
    services.delivery_save(
        actor=w.maya,
        engagement=w.abe,
        work_type="screenplay",
        date=date(2025, 8, 5),
        fee="45000.00",
    )
    services.terms_set(actor=w.maya, engagement=w.cy, wage_classification="grip")
    use = record_violation(w.ann)
    services.hold_resolve(actor=w.maya, ai_use=use, decision="void", reason="Recorded twice.")
    services.rate_sheet_load(
        actor=w.sam,
        agreement=w.ann.agreement,
        name="SAG-AFTRA rates 2025-26",
        source="SAG-AFTRA rate sheet, p.1",
        file_name="rates.csv",
        content="parameter,from,value\nsag.minimum.day_performer,2025-08-01,1300\n",
        file_format="csv",
    )
    w.run = computed_run(w.film, w.maya)
    w.other_run = computed_run(w.harbor, w.nora)
    return w


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(client, url, status=200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.content.decode()


CHANGELISTS = [
    "compensationrun",
    "compensationline",
    "timecard",
    "wgadelivery",
    "ratesheet",
    "engagementterms",
    "holdresolution",
]


@pytest.mark.parametrize("model", CHANGELISTS)
def test_studio_staff_changelists_render(world, model):
    html = page(admin_client(world.maya), reverse(f"admin:compensation_{model}_changelist"))
    assert "Northgate" not in html and "Bob Other" not in html, "another studio's rows"


@pytest.mark.parametrize("model", CHANGELISTS)
def test_guild_staff_changelists_render(world, model):
    page(admin_client(world.sam), reverse(f"admin:compensation_{model}_changelist"))


def test_the_runs_changelist_shows_the_studios_runs_only(world):
    html = page(admin_client(world.maya), reverse("admin:compensation_compensationrun_changelist"))
    assert "The Long Light" in html and "Harbor Nights" not in html
    assert "computed" in html
    page(
        admin_client(world.maya),
        reverse("admin:compensation_compensationrun_change", args=[world.other_run.pk]),
        404,
    )


def test_a_lines_page_explains_it(world):
    line = world.run.lines.get(rule="sag.pay.day")
    html = page(
        admin_client(world.maya),
        reverse("admin:compensation_compensationline_change", args=[line.pk]),
    )
    assert "sag.pay.day" in html and line.description in html
    assert "= <b>1,300.00 USD</b> on 2025-08-04" in html
    row = re.search(r"<tr><td><code>sag\.minimum\.day_performer</code></td>(.*?)</tr>", html)
    assert row, html[:3000]
    cells = re.findall(r"<td>(.*?)</td>", row.group(1))
    assert cells == [
        "1300 USD/day",
        "2025-08-01",
        "P",
        "sag-tvth-2023:SAG-AFTRA rates 2025-26 v1",
    ]
    assert "Flags: below scale" in html

    overtime = world.run.lines.filter(rule="sag.pay.overtime").first()
    html = page(
        admin_client(world.maya),
        reverse("admin:compensation_compensationline_change", args=[overtime.pk]),
    )
    for name in ("sag.overtime.day_hours", "sag.overtime.first_multiplier"):
        assert f"<code>{name}</code>" in html
    assert "sagaftra.org/overtime" in html  # the shipped parameters' source

    fringe = world.run.lines.get(fund="sag-aftra-ph", status="payable")
    html = page(
        admin_client(world.maya),
        reverse("admin:compensation_compensationline_change", args=[fringe.pk]),
    )
    assert "of covered pay" in html and "sag-aftra-ph" in html
    assert "<code>sag.ph.rate.principal</code>" in html


def test_a_lines_formula_reads_as_plain_numbers(world):
    line = world.run.lines.get(rule="sag.pay.day")
    html = page(
        admin_client(world.maya),
        reverse("admin:compensation_compensationline_change", args=[line.pk]),
    )
    assert "1 day × 1,300 USD = <b>1,300.00 USD</b>" in html


def test_another_studios_line_is_404(world):
    line = world.other_run.lines.first()
    page(
        admin_client(world.maya),
        reverse("admin:compensation_compensationline_change", args=[line.pk]),
        404,
    )


def test_a_runs_page_shows_its_exceptions(world):
    html = page(
        admin_client(world.maya),
        reverse("admin:compensation_compensationrun_change", args=[world.run.pk]),
    )
    # Abe's screenplay: no WGA schedule of minimums is loaded.
    table = html[html.find("<th>code</th>") :]
    assert "rate_missing" in table and "wga.pay.minimum" in table and "Abe Writer" in table
    assert world.run.rules_version in html


def test_a_superuser_sees_a_runs_lines_and_a_sheets_values(world):
    root = admin_client(world.root)
    html = page(root, reverse("admin:compensation_compensationrun_change", args=[world.run.pk]))
    assert "sag.pay.day" in html and "sag.pay.ebdr_use" in html and "void" in html
    sheet = RateSheet.objects.get()
    html = page(root, reverse("admin:compensation_ratesheet_change", args=[sheet.pk]))
    assert "Rate sheet values" in html and "June 30, 2026" in html  # the value's `until`


def test_a_runs_page_shows_its_lines_to_studio_staff(world):
    html = page(
        admin_client(world.maya),
        reverse("admin:compensation_compensationrun_change", args=[world.run.pk]),
    )
    assert "sag.pay.day" in html and "sag.pay.ebdr_use" in html
    assert "void" in html  # the voided use's lines are shown, not payable


def test_a_sheets_page_shows_its_values_to_staff(world):
    sheet = RateSheet.objects.get()
    html = page(
        admin_client(world.sam), reverse("admin:compensation_ratesheet_change", args=[sheet.pk])
    )
    assert "Rate sheet values" in html and "June 30, 2026" in html  # the value's `until`


def test_the_timecard_import_page(world):
    client = admin_client(world.maya)
    url = reverse("admin:compensation_timecard_import")
    html = page(client, url)
    assert "engagement, date, first_call, dismissal" in html
    assert 'type="file"' in html
    changelist = page(client, reverse("admin:compensation_timecard_changelist"))
    assert "Import from CSV" in changelist

    ann = world.ann.pk
    good = (
        "engagement,date,first_call,dismissal,meal1_start,meal1_end\n"
        f"{ann},2025-08-04,07:00,19:00,13:00,13:30\n{ann},2025-08-05,07:00,15:00,,\n"
    )
    response = client.post(url, {"file": SimpleUploadedFile("t.csv", good.encode())})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:compensation_timecard_changelist")
    assert Timecard.objects.filter(engagement=world.ann).count() == 2
    card = Timecard.objects.get(engagement=world.ann, date="2025-08-04")
    assert str(card.dismissal) == "19:00:00" and card.history.first().history_user == world.maya
    messages = page(client, reverse("admin:compensation_timecard_changelist"))
    assert "Imported: 1 new, 1 corrected." in messages

    bad = (
        "engagement,date,first_call,dismissal,meal1_start,meal1_end\n"
        f"{ann},2025-08-06,07:00,15:00,,\n"
        f"{ann},2025-08-07,7am,15:00,,\n"
        f"{world.bob.pk},2025-08-07,07:00,15:00,,\n"
        f"{ann},2025-08-08,07:00,15:00,16:00,16:30\n"
    )
    before = counts()
    response = client.post(url, {"file": SimpleUploadedFile("t.csv", bad.encode())})
    assert response.status_code == 200
    html = response.content.decode()
    assert "3 row(s) have errors; nothing was imported." in html
    rows = re.findall(r"<tr><td>(\d+)</td><td>(.*?)</td>", html)
    assert [int(n) for n, _m in rows] == [3, 4, 5]
    assert "is not a time" in rows[0][1] and "No such engagement" in rows[1][1]
    assert counts() == before


def test_guild_staff_cannot_import(world):
    response = admin_client(world.sam).post(
        reverse("admin:compensation_timecard_import"),
        {"file": SimpleUploadedFile("t.csv", b"engagement,date,first_call,dismissal\n")},
    )
    assert response.status_code == 403


def add_timecard(client, world, day="2025-08-06", meals="12:00-12:30"):
    return client.post(
        reverse("admin:compensation_timecard_add"),
        {
            "engagement": world.ann.pk,
            "date": day,
            "first_call": "07:00",
            "dismissal": "17:00",
            "meals_text": meals,
            "episode": "",
        },
    )


def add_run(client, world, period_from="2025-08-11", period_to="2025-08-17"):
    return client.post(
        reverse("admin:compensation_compensationrun_add"),
        {
            "production": world.film.pk,
            "period_from": period_from,
            "period_to": period_to,
            "due_date": "2025-08-25",
        },
    )


def add_sheet(client, world, content):
    return client.post(
        reverse("admin:compensation_ratesheet_add"),
        {
            "agreement": world.ann.agreement.pk,
            "name": "SAG-AFTRA rates 2025-26",
            "source": "SAG-AFTRA rate sheet, p.2",
            "tier": "P",
            "file": SimpleUploadedFile("rates.csv", content),
        },
    )


def test_the_add_forms_render(world):
    for model, user in [
        ("timecard", world.maya),
        ("wgadelivery", world.maya),
        ("compensationrun", world.maya),
        ("holdresolution", world.maya),
        ("ratesheet", world.sam),
    ]:
        html = page(admin_client(user), reverse(f"admin:compensation_{model}_add"))
        assert "<form" in html, model
    html = page(admin_client(world.maya), reverse("admin:compensation_compensationrun_add"))
    assert "The Long Light" in html and "Harbor Nights" not in html


def test_a_refused_timecard_is_a_form_error_and_writes_nothing(world):
    before = counts()
    response = add_timecard(admin_client(world.maya), world, day="2025-08-07", meals="18:00-18:30")
    assert response.status_code == 200
    assert "Each meal starts after the call" in response.content.decode()
    assert counts() == before


def test_a_refused_run_is_a_form_error_and_writes_nothing(world):
    before = counts()
    response = add_run(admin_client(world.maya), world, "2025-08-09", "2025-08-12")
    assert response.status_code == 200
    assert "overlaps this period" in response.content.decode()
    assert counts() == before


def test_a_refused_sheet_is_a_form_error_and_writes_nothing(world):
    before = counts()
    response = add_sheet(
        admin_client(world.sam),
        world,
        b"parameter,from,value\nsag.minimum.day_performer,2025-09-01,x\n",
    )
    assert response.status_code == 200
    assert "row 2" in response.content.decode()
    assert counts() == before


def test_studio_staff_cannot_load_a_sheet_in_the_admin(world):
    client = admin_client(world.maya)
    assert client.get(reverse("admin:compensation_ratesheet_add")).status_code == 403


def test_a_timecard_recorded_in_the_admin_goes_through_the_service(world):
    response = add_timecard(admin_client(world.maya), world)
    assert response.status_code == 302
    card = Timecard.objects.get(engagement=world.ann, date="2025-08-06")
    assert card.meals == [["12:00", "12:30"]] and str(card.work_hours) == "9.5"
    assert card.history.count() == 1 and card.history.get().history_user == world.maya


def test_a_run_started_in_the_admin_is_computed(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = add_run(admin_client(world.maya), world)
    assert response.status_code == 302
    run = CompensationRun.objects.get(period_from="2025-08-11")
    assert run.status == "computed" and run.started_by == world.maya


def test_a_delivery_recorded_in_the_admin_goes_through_the_service(world):
    response = admin_client(world.maya).post(
        reverse("admin:compensation_wgadelivery_add"),
        {
            "engagement": world.abe.pk,
            "work_type": "treatment",
            "date": "2025-08-06",
            "fee": "1000.00",
        },
    )
    assert response.status_code == 302
    assert WgaDelivery.objects.filter(work_type="treatment").count() == 1


def test_a_hold_resolved_in_the_admin(world):
    use = record_violation(world.ann)
    response = admin_client(world.maya).post(
        reverse("admin:compensation_holdresolution_add"),
        {"ai_use": use.pk, "decision": "release", "reason": "Rider found."},
    )
    assert response.status_code == 302
    assert HoldResolution.objects.filter(ai_use=use).exists()


def test_guild_staff_load_a_sheet_in_the_admin(world):
    response = add_sheet(
        admin_client(world.sam),
        world,
        b"parameter,from,value\nsag.minimum.day_performer,2025-09-01,1310\n",
    )
    assert response.status_code == 302
    assert list(RateSheet.objects.order_by("id").values_list("version", flat=True)) == [1, 2]


def test_the_approve_action_posts(world):
    acknowledge_all(world.run)
    client = admin_client(world.maya)
    url = reverse("admin:compensation_compensationrun_changelist")
    response = client.post(
        url, {"action": "approve_selected", "_selected_action": [world.run.pk]}, follow=True
    )
    assert response.status_code == 200
    assert f"Run #{world.run.pk} is approved and posted." in response.content.decode()
    world.run.refresh_from_db()
    assert world.run.status == "approved" and world.run.approved_by == world.maya
    posted = JournalTransaction.objects.filter(source_type="compensation_run")
    assert sorted(posted.values_list("kind", "source_id")) == [
        ("obligation", f"{world.run.pk}:{world.ann.pk}"),
        ("obligation", f"{world.run.pk}:{world.abe.pk}"),
    ]
    assert set(Payable.objects.values_list("engagement_id", "rule", "fund")) == {
        (world.ann.pk, "sag.pay.day", ""),
        (world.ann.pk, "sag.pay.overtime", ""),
        (world.ann.pk, "sag.ph", "sag-aftra-ph"),  # each fund's contribution, its own payable
        (world.abe.pk, "other_pay", ""),
        (world.abe.pk, "wga.ph", "wga-health"),
        (world.abe.pk, "wga.ph", "wga-pension"),
    }
    # Again: nothing more is posted.
    before = counts()
    client.post(url, {"action": "approve_selected", "_selected_action": [world.run.pk]})
    assert counts() == before


def test_guild_staff_cannot_approve_in_the_admin(world):
    client = admin_client(world.sam)
    before = counts()
    response = client.post(
        reverse("admin:compensation_compensationrun_changelist"),
        {"action": "approve_selected", "_selected_action": [world.run.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "only its studio" in response.content.decode()
    world.run.refresh_from_db()
    assert world.run.status == "computed"
    assert counts() == before
