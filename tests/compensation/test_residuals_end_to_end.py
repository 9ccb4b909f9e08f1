"""Residuals end to end on PostgreSQL with a real Celery worker on Redis: a 2026 streaming episode
with a writer and two performers, one of whose replica was used for two days; a loaded residual
schedule; an exhibition report; the residual run computed by the worker; approval; person and
fund payables paid over the payroll API; balances zero; the statement's figures equal the lines.

Everything goes through the REST API as its users would use it (studio staff and the guild's
staff record, load and run; payroll pays with a payroll key), except the registry (factories).

The figures are the test's own schedule (nothing is shipped): episode base 20,000 (up to 60
minutes), subscriber factor 1 for tier_2, year-1 percentages 10 (domestic) and 5 (foreign). The
episode, exhibited worldwide in its first year on a tier_2 service, owes a fixed residual of
20,000 × 1 × 10% = 2,000 domestic and 20,000 × 1 × 5% = 1,000 foreign:
- Wren, the writer (written by: the whole share): 2,000 + 1,000;
- the performers share by residual days (sag.residual.replica_days): Ann worked 1 day in person
  and her replica was used for 2 days she would have worked (3 days); Bob worked 3 days in
  person. Half each: 1,000 + 500 apiece. Without her replica days Ann would have had a quarter.
- pension and health on each person's residuals, to the funds, at the rates in force on the
  exhibition's date (read from the lines: the SAG-AFTRA rate of 2026 is a T-tier figure).
Every line is due 2027-03-30: no due rule in the schedule, so supplemental markets, 4 months after
the first period's end (2026-11-30).
"""

import io
from datetime import date
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from compensation import runs as runs_module
from compensation.models import ResidualLine
from config.celery import app as celery_app
from tests.compensation.api_helpers import all_pages, ok
from tests.consent.helpers import post_consent
from tests.factories import (
    EngagementFactory,
    PersonFactory,
    ProductionFactory,
    StudioFactory,
    agreement,
    guild_staff,
    payroll_key,
    studio_staff,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

API = "/api/v1/residuals/"
TIMECARDS = "/api/v1/compensation/timecards/"
AI_USES = "/api/v1/ai-uses/"
PAYABLES = "/api/v1/payables/"
PAYMENTS = "/api/v1/payments/"
BALANCES = "/api/v1/ledger/balances/"
D = Decimal
SCHEDULE_CSV = (
    "kind,key,value\n"
    "base,episode:60,20000.00\n"
    "subscriber_factor,tier_2,1\n"
    "exhibition_year_percent,1:domestic,10\n"
    "exhibition_year_percent,1:foreign,5\n"
)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def load_schedule(client, code: str):
    upload = io.BytesIO(SCHEDULE_CSV.encode())
    upload.name = "schedule.csv"
    return ok(
        client.post(
            f"{API}schedules/",
            {
                "agreement": code,
                "name": "HBSVOD residuals (test figures)",
                "source": "the test's own figures",
                "effective_from": "2026-05-02",
                "file": upload,
            },
            format="multipart",
        ),
        201,
    )


def test_a_streaming_episode_to_residuals_paid_in_full_through_a_redis_worker(
    redis_worker, monkeypatch
):
    def not_here(run_id):
        raise AssertionError("run_compute ran in the test process, not in the worker")

    monkeypatch.setattr(runs_module, "run_compute", not_here)
    assert celery_app.conf.task_always_eager is False

    # --- the registry: a 2026 television series under the 2026 agreements -------------------
    studio = StudioFactory(name="Meridian", slug="meridian")
    series = ProductionFactory(
        studio=studio,
        title="Night Harbor",
        kind="television",
        episode_minutes=60,
        start_date=date(2026, 7, 6),
    )

    def engage(name, code, classification="day_performer", unit="day"):
        return EngagementFactory(
            production=series,
            person=PersonFactory(legal_name=name, registered_by=studio),
            agreement=agreement(code),
            classification=classification,
            rate_unit=unit,
            start_date=date(2026, 7, 6),
        )

    wren = engage("Wren Writer", "wga-mba-2026", "writer", "flat")
    ann = engage("Ann Actor", "sag-tvth-2026")
    bob = engage("Bob Actor", "sag-tvth-2026")
    staff = APIClient()
    staff.force_authenticate(studio_staff(studio, "maya"))
    sag, wga = APIClient(), APIClient()
    sag.force_authenticate(guild_staff("sag-aftra", "sofia"))
    wga.force_authenticate(guild_staff("wga", "william"))
    payroll = APIClient()
    _, raw_key = payroll_key(studio, name="acme-payroll")
    payroll.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")

    # --- the work: days on episode 101, and two replica days of Ann, consented ---------------
    for engagement, day in ((ann, 7), (bob, 7), (bob, 8), (bob, 9)):
        body = {
            "engagement": engagement.pk,
            "date": f"2026-07-{day:02d}",
            "first_call": "07:00",
            "dismissal": "15:30",
            "meals": [["12:00", "12:30"]],
            "episode": "101",
        }
        ok(staff.post(TIMECARDS, body, format="json"), 201)
    consent = ok(
        post_consent(
            staff,
            ann.person,
            series,
            kind="replica_use",
            description="Digital replica of Ann in the harbor scenes of Night Harbor episode "
            "101, for streaming and trailers",
            term_from="2026-07-01",
            term_to="2027-06-30",
            signed_at="2026-07-01T12:00:00Z",
            notice_at="2026-07-01T12:00:00Z",
            scenes="harbor scenes, episode 101",
            business_reason="Reshoot of the harbor scene without the cast on set",
        ),
        201,
    )
    use = ok(
        staff.post(
            AI_USES,
            {
                "production": series.pk,
                "person": ann.person.pk,
                "kind": "replica_use",
                "starts_at": "2026-07-20T10:00:00Z",
                "days": "2",
                "description": "Replica of Ann in the harbor scene, reshoot",
            },
            format="json",
        ),
        201,
    )
    assert (use["status"], use["consent"]) == ("allowed", consent["id"]), use

    # --- the guilds load their schedules; the studio reports the credit and the exhibition ---
    load_schedule(sag, "sag-tvth-2026")
    load_schedule(wga, "wga-mba-2026")
    ok(
        staff.post(
            f"{API}credits/",
            {"engagement": wren.pk, "episode": "101", "credit": "written_by"},
            format="json",
        ),
        201,
    )
    exhibition = ok(
        staff.post(
            f"{API}exhibitions/",
            {
                "production": series.pk,
                "episode": "101",
                "work_type": "episode",
                "running_minutes": 60,
                "market": "hbsvod",
                "territory": "worldwide",
                "service": "Harborline+",
                "subscriber_tier": "tier_2",
                "exhibition_year": 1,
                "period_from": "2026-08-01",
                "period_to": "2026-11-30",
            },
            format="json",
        ),
        201,
    )

    # --- the run: started through the API, computed by the worker ---------------------------
    started = ok(
        staff.post(
            f"{API}runs/",
            {"production": series.pk, "period_from": "2026-08-01", "period_to": "2026-11-30"},
            format="json",
        ),
        202,
    )
    run_url = f"{API}runs/{started['id']}/"

    def finished():
        body = ok(staff.get(run_url))
        return body if body["status"] not in ("queued", "running") else None

    run = redis_worker.wait_for(finished, what="the worker to compute the residual run")
    assert run["status"] == "computed", run
    lines = all_pages(staff, f"{run_url}lines/")
    assert {line["exhibition"] for line in lines} == {exhibition["id"]}
    person_lines = sorted(
        (line["person"], line["rule"], line["territory"], D(line["amount"]))
        for line in lines
        if line["payee_kind"] == "person"
    )
    assert person_lines == sorted(
        [
            ("Wren Writer", "wga.residual.hbsvod", "domestic", D("2000.00")),
            ("Wren Writer", "wga.residual.hbsvod", "foreign", D("1000.00")),
            ("Ann Actor", "sag.residual.hbsvod", "domestic", D("1000.00")),
            ("Ann Actor", "sag.residual.hbsvod", "foreign", D("500.00")),
            ("Bob Actor", "sag.residual.hbsvod", "domestic", D("1000.00")),
            ("Bob Actor", "sag.residual.hbsvod", "foreign", D("500.00")),
        ]
    )
    ann_line = next(x for x in lines if x["person"] == "Ann Actor" and x["payee_kind"] == "person")
    assert (
        "1 day(s) in person + 2 replica day(s) = 3 of the performers' 6"
        in (ann_line["description"])
    )
    assert {x["due_date"] for x in lines} == {"2027-03-30"}
    for line in (x for x in lines if x["rule"] == "residual.ph"):
        rate = D(line["factors"][0]["value"])
        assert D(line["amount"]) == (D(line["quantity"]) * rate).quantize(D("0.01")), line
    ph = {(x["person"], x["fund"]) for x in lines if x["rule"] == "residual.ph"}
    assert {("Ann Actor", "sag-aftra-ph"), ("Bob Actor", "sag-aftra-ph")} <= ph
    # Guild staff see their guild's lines and exceptions only.
    wga_lines = all_pages(wga, f"{run_url}lines/")
    assert {x["person"] for x in wga_lines} == {"Wren Writer"}

    # --- review and approval, then payroll pays every payable, person and fund ----------------
    for key in ok(staff.get(f"{run_url}review/"))["missing"]:
        note = {"key": key, "note": "Figures confirmed with the guild."}
        ok(staff.post(f"{run_url}acknowledge/", note, format="json"), 201)
    approved = ok(staff.post(f"{run_url}approve/"))
    assert approved["status"] == "approved"
    payables = all_pages(payroll, PAYABLES, {"production": series.pk})
    assert {p["payee"]["kind"] for p in payables} == {"person", "fund"}
    total_lines = sum(D(x["amount"]) for x in lines)
    assert sum(D(p["amount"]) for p in payables) == total_lines
    assert {p["due_date"] for p in payables} == {"2027-03-30"}
    funds = all_pages(payroll, PAYABLES, {"production": series.pk, "payee_kind": "fund"})
    assert funds and all(p["person"] is None for p in funds)
    for n, payable in enumerate(payables):
        body = {
            "payable": payable["id"],
            "amount": payable["due"],
            "paid_at": "2026-12-01T10:00:00Z",
            "payroll_reference": f"RES-{n:04d}",
        }
        key = {"HTTP_IDEMPOTENCY_KEY": f"res-{n}"}
        paid = ok(payroll.post(PAYMENTS, body, format="json", **key), 201)
        replay = payroll.post(PAYMENTS, body, format="json", **key)
        assert replay.status_code == 201 and replay.json() == paid
    for group in ("person", "fund"):
        rows = ok(payroll.get(BALANCES, {"group": group}))
        assert rows and all(D(r["due"]) == 0 for r in rows), (group, rows)
    assert all(D(p["due"]) == 0 for p in all_pages(payroll, PAYABLES, {"production": series.pk}))

    # --- Ann's statement: its figures are her lines, paid in full ----------------------------
    statement = ok(staff.get(f"{API}statements/{ann.person.pk}/"))
    mine = [x for x in lines if x["person"] == "Ann Actor" and x["payee_kind"] == "person"]
    assert sorted(D(x["amount"]) for x in statement["lines"]) == sorted(
        D(x["amount"]) for x in mine
    )
    assert statement_total(statement, "owed") == sum(D(x["amount"]) for x in mine)
    assert statement_total(statement, "paid") == sum(D(x["amount"]) for x in mine)
    assert statement_total(statement, "due") == 0
    pdf = staff.get(f"{API}statements/{ann.person.pk}/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert ResidualLine.objects.filter(run_id=started["id"]).count() == len(lines)


def statement_total(statement: dict, key: str) -> Decimal:
    return sum((D(p[key]) for p in statement["payables"]), D(0))
