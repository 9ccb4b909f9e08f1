"""End to end on PostgreSQL with a real Celery worker on Redis: work records and consented AI
uses → a compensation run computed by the worker → approval → payables → payments → balance zero.

Everything goes through the REST API as its users would use it (studio staff record and run;
payroll reads payables and pays with a payroll key), except the registry (factories). The run's
computation travels through Redis to a `celery -A config worker` subprocess (the `redis_worker`
fixture, tests/celery_worker.py); the test process never computes it.

The production is theatrical, under SAG-AFTRA TV/Theatrical 2023, and the work is in August 2025:
the day-performer minimum in force is $1,246 (from 2025-07-01, RULES.md §3), the money break is
2 × 1,246 = 2,492, P&H is 21% of covered pay for principals with a $232,000 ceiling per performer
per production.

Ann, a day performer at $1,500 a day (above the minimum, below the money break):
  2025-08-04  call 07:00, meal 13:00-13:30, dismissed 15:30: work time 8.0 h.
              sag.pay.day          1 day × 1,500.00                              = 1,500.00
              (the meal starts 6 h after call: not late; no overtime.)
  2025-08-05  call 07:00, meal 13:40-14:10, dismissed 19:10: work time 12 h 10 min − 30 min
              = 11 h 40 min = 11.666… h, rounded up to the tenth: 11.7 h.
              sag.pay.day          1 day × 1,500.00                              = 1,500.00
              sag.pay.overtime     hours 9-10: 2.0 h × 1.5 × (1,500 ÷ 8 = 187.50)
                                   = 2.0 × 281.25                                =   562.50
              sag.pay.overtime     beyond 10: 1.7 h × 2 × 187.50 = 1.7 × 375.00  =   637.50
              sag.pay.meal_penalty first meal due 13:00, began 13:40: 40 min late = 2 half
                                   hours (one and a part) × 25.00                =    50.00
                                   (the next meal is due 14:10 + 6 h = 20:10, after dismissal.)
  2025-08-20  replica use, 2 days she would have worked, consented (replica_use consent):
              sag.pay.ebdr_use     2 days × max(1,500.00, 1,246) = 2 × 1,500.00  = 3,000.00
  covered pay 1,500 + 1,500 + 562.50 + 637.50 + 3,000 = 7,200.00 (meal penalties are not)
              sag.ph               0.21 × 7,200.00                               = 1,512.00
  payables    day 3,000.00; overtime 1,200.00; meal penalties 50.00; replica use 3,000.00
              = 7,250.00

Bob, a day performer at $1,200 a day (under the minimum: scale applies, flagged below_scale):
  2025-08-04  call 07:00, meal 13:00-13:30, dismissed 15:30: work time 8.0 h.
              sag.pay.day          1 day × max(1,200, 1,246) = 1,246.00
              sag.ph               0.21 × 1,246.00 = 261.66
  2025-08-21  replica use, 1 day, with no consent at all: recorded as a violation, so its lines
              are held (stored, not payable, not posted):
              sag.pay.ebdr_use     1 day × 1,246.00 = 1,246.00 (held)
              sag.ph               0.21 × 1,246.00 = 261.66 (held)
  payables    day 1,246.00

Owed to the performers: 7,250.00 + 1,246.00 = 8,496.00; to the P&H fund 1,512.00 + 261.66
= 1,773.66, on a payable of its own per performer; in all 10,269.66.
"""

import subprocess
import sys
from decimal import Decimal

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from compensation import runs as runs_module
from compensation.models import CompensationRun, RunPosting
from config.celery import app as celery_app
from ledger.models import JournalTransaction, Payable
from tests.celery_worker import worker_env
from tests.compensation.api_helpers import all_pages, ok
from tests.consent.helpers import post_consent
from tests.factories import (
    EngagementFactory,
    PersonFactory,
    ProductionFactory,
    StudioFactory,
    payroll_key,
    studio_staff,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

RUNS = "/api/v1/compensation/runs/"
TIMECARDS = "/api/v1/compensation/timecards/"
AI_USES = "/api/v1/ai-uses/"
PAYABLES = "/api/v1/payables/"
PAYMENTS = "/api/v1/payments/"
BALANCES = "/api/v1/ledger/balances/"
REMITTANCES = "/api/v1/remittances/"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def money(rows, key="amount") -> list[tuple]:
    return sorted((r["rule"], r["status"], Decimal(r[key])) for r in rows)


def test_work_and_ai_uses_to_paid_in_full_through_a_redis_worker(redis_worker, monkeypatch):
    # The test process must not compute the run itself: if the task ran here (eagerly), this
    # would fail it; the worker process has the real function.
    def not_here(run_id):
        raise AssertionError("run_compute ran in the test process, not in the worker")

    monkeypatch.setattr(runs_module, "run_compute", not_here)
    assert celery_app.conf.task_always_eager is False
    assert celery_app.conf.broker_url.startswith("redis://")

    # --- the registry: a studio's theatrical production under SAG-AFTRA 2023 ----------------
    studio = StudioFactory(name="Meridian", slug="meridian")
    production = ProductionFactory(studio=studio, title="The Long Light", kind="theatrical")
    ann = EngagementFactory(
        production=production,
        person=PersonFactory(legal_name="Ann Example", registered_by=studio),
        rate_amount=Decimal("1500.00"),
    )
    bob = EngagementFactory(
        production=production,
        person=PersonFactory(legal_name="Bob Example", registered_by=studio),
        rate_amount=Decimal("1200.00"),
    )
    assert {a.code for a in production.agreements.all()} == {"sag-tvth-2023"}
    staff = APIClient()
    staff.force_authenticate(studio_staff(studio, "maya"))
    payroll = APIClient()
    _, raw_key = payroll_key(studio, name="acme-payroll")
    payroll.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")

    # --- work records -------------------------------------------------------------------------
    cards = [
        (ann, "2025-08-04", "07:00", "15:30", [["13:00", "13:30"]]),
        (ann, "2025-08-05", "07:00", "19:10", [["13:40", "14:10"]]),  # overtime, late meal
        (bob, "2025-08-04", "07:00", "15:30", [["13:00", "13:30"]]),
    ]
    for engagement, day, call, dismissal, meals in cards:
        body = {
            "engagement": engagement.pk,
            "date": day,
            "first_call": call,
            "dismissal": dismissal,
            "meals": meals,
        }
        ok(staff.post(TIMECARDS, body, format="json"), 201)
    hours = {
        c["date"]: c["work_hours"] for c in all_pages(staff, TIMECARDS, {"engagement": ann.pk})
    }
    assert hours == {"2025-08-04": "8.0", "2025-08-05": "11.7"}

    # --- consent, an allowed AI use and a violation -------------------------------------------
    consent = ok(
        post_consent(
            staff,
            ann.person,
            production,
            kind="replica_use",
            description="Digital replica of Ann in the harbor scenes of The Long Light, "
            "for theatrical release and trailers",
            notice_at=None,
        ),
        201,
    )
    allowed = ok(
        staff.post(
            AI_USES,
            {
                "production": production.pk,
                "person": ann.person.pk,
                "kind": "replica_use",
                "starts_at": "2025-08-20T10:00:00Z",
                "days": "2",
                "description": "Replica of Ann in the harbor scene, reshoot",
            },
            format="json",
        ),
        201,
    )
    assert (allowed["status"], allowed["consent"]) == ("allowed", consent["id"]), allowed
    violation = ok(
        staff.post(
            AI_USES,
            {
                "production": production.pk,
                "person": bob.person.pk,
                "kind": "replica_use",
                "starts_at": "2025-08-21T10:00:00Z",
                "days": "1",
                "description": "Replica of Bob in the crowd scene",
            },
            format="json",
        ),
        201,
    )
    assert (violation["status"], violation["consent"]) == ("violation", None), violation

    # --- the run: started through the API, computed by the worker ---------------------------
    started = ok(
        staff.post(
            RUNS,
            {
                "production": production.pk,
                "period_from": "2025-08-01",
                "period_to": "2025-08-31",
                "due_date": "2025-09-15",
            },
            format="json",
        ),
        202,
    )
    run_url = f"{RUNS}{started['id']}/"

    def finished():
        body = ok(staff.get(run_url))
        return body if body["status"] not in ("queued", "running") else None

    run = redis_worker.wait_for(finished, what="the worker to compute the run")
    assert run["status"] == "computed", run
    assert (run["engagements"], run["line_count"], run["exceptions"]) == (2, 11, []), run
    # The worker computed it: the status changes after the start were made by the system user
    # that tasks act as, and the message left the worker's queue.
    history = CompensationRun.history.filter(id=started["id"]).order_by("history_id")
    changes = [(h.status, h.history_user.username) for h in history]
    assert changes[0] == ("queued", "maya"), changes
    assert changes[-1] == ("computed", settings.SYSTEM_USERNAME), changes
    assert redis_worker.message_count() == 0

    # --- the lines ----------------------------------------------------------------------------
    lines = all_pages(staff, f"{run_url}lines/")
    assert len(lines) == 11
    by_engagement = {ann.pk: [], bob.pk: []}
    for line in lines:
        by_engagement[line["engagement"]].append(line)
    d = Decimal
    assert money(by_engagement[ann.pk]) == sorted(
        [
            ("sag.pay.day", "payable", d("1500.00")),
            ("sag.pay.day", "payable", d("1500.00")),
            ("sag.pay.overtime", "payable", d("562.50")),
            ("sag.pay.overtime", "payable", d("637.50")),
            ("sag.pay.meal_penalty", "payable", d("50.00")),
            ("sag.pay.ebdr_use", "payable", d("3000.00")),
            ("sag.ph", "payable", d("1512.00")),
        ]
    )
    assert money(by_engagement[bob.pk]) == sorted(
        [
            ("sag.pay.day", "payable", d("1246.00")),
            ("sag.ph", "payable", d("261.66")),
            ("sag.pay.ebdr_use", "held", d("1246.00")),
            ("sag.ph", "held", d("261.66")),
        ]
    )
    # Quantity × rate (the columns keep more decimals than the API's amounts: compare values).
    explained = {
        (line["engagement"], line["rule"], line["date"], d(line["quantity"]), d(line["rate"]))
        for line in lines
        if line["kind"] == "pay"
    }
    assert explained >= {
        (ann.pk, "sag.pay.day", "2025-08-04", d(1), d(1500)),
        (ann.pk, "sag.pay.day", "2025-08-05", d(1), d(1500)),
        (ann.pk, "sag.pay.overtime", "2025-08-05", d("2.0"), d("281.25")),
        (ann.pk, "sag.pay.overtime", "2025-08-05", d("1.7"), d("375.00")),
        (ann.pk, "sag.pay.meal_penalty", "2025-08-05", d(2), d("25.00")),
        (ann.pk, "sag.pay.ebdr_use", "2025-08-20", d(2), d(1500)),
        (bob.pk, "sag.pay.day", "2025-08-04", d(1), d(1246)),
        (bob.pk, "sag.pay.ebdr_use", "2025-08-21", d(1), d(1246)),
    }, sorted(explained)
    ph = {(line["engagement"], line["status"]): line for line in lines if line["kind"] == "fringe"}
    ann_ph = ph[ann.pk, "payable"]
    assert (d(ann_ph["quantity"]), d(ann_ph["rate"]), ann_ph["fund"]) == (
        d("7200.00"),
        d("0.21"),
        "sag-aftra-ph",
    )
    ebdr = [line for line in by_engagement[ann.pk] if line["rule"] == "sag.pay.ebdr_use"]
    assert "residuals" in ebdr[0]["flags"]
    bob_day = [line for line in by_engagement[bob.pk] if line["rule"] == "sag.pay.day"]
    assert "below_scale" in bob_day[0]["flags"]
    held = [line for line in lines if line["status"] == "held"]
    assert {line["ai_use"] for line in held} == {violation["id"]}

    # --- review, then approval: posted once -----------------------------------------------------
    review = ok(staff.get(f"{run_url}review/"))
    assert review["missing"]  # the tier D and T figures of the 2023 agreement's later dates
    refused = staff.post(f"{run_url}approve/")
    assert (refused.status_code, refused.json()["code"]) == (409, "review_incomplete")
    for key in review["missing"]:
        note = {"key": key, "note": "Checked against the rate sheet."}
        ok(staff.post(f"{run_url}acknowledge/", note, format="json"), 201)
    transactions_before = JournalTransaction.objects.count()
    approved = ok(staff.post(f"{run_url}approve/"))
    assert approved["status"] == "approved" and approved["approved_by"] == "maya"
    transactions_after = JournalTransaction.objects.count()
    assert transactions_after - transactions_before == 2  # one per engagement
    postings, payables = RunPosting.objects.count(), Payable.objects.count()
    again = ok(staff.post(f"{run_url}approve/"))
    assert again["status"] == "approved"
    assert JournalTransaction.objects.count() == transactions_after
    assert (RunPosting.objects.count(), Payable.objects.count()) == (postings, payables)
    # Nothing of the held use was posted: Bob's postings are his day and its P&H.
    bob_postings = RunPosting.objects.filter(run_id=started["id"], engagement_id=bob.pk)
    assert sorted(bob_postings.values_list("kind", "key", "amount")) == [
        ("fringe", "sag-aftra-ph", d("261.66")),
        ("pay", "sag.pay.day", d("1246.00")),
    ]

    # --- payroll reads the payables: the held use is absent -----------------------------------
    open_payables = all_pages(payroll, PAYABLES, {"production": production.pk})
    owed = sorted(
        (p["engagement"], p["rule"], Decimal(p["amount"]), Decimal(p["due"])) for p in open_payables
    )
    assert owed == sorted(
        [
            (ann.pk, "sag.pay.day", d("3000.00"), d("3000.00")),
            (ann.pk, "sag.pay.overtime", d("1200.00"), d("1200.00")),
            (ann.pk, "sag.pay.meal_penalty", d("50.00"), d("50.00")),
            (ann.pk, "sag.pay.ebdr_use", d("3000.00"), d("3000.00")),
            (ann.pk, "sag.ph", d("1512.00"), d("1512.00")),
            (bob.pk, "sag.pay.day", d("1246.00"), d("1246.00")),
            (bob.pk, "sag.ph", d("261.66"), d("261.66")),
        ]
    )
    assert all(
        (p["period_from"], p["period_to"], p["due_date"], p["currency"])
        == ("2025-08-01", "2025-08-31", "2025-09-15", "USD")
        for p in open_payables
    )
    # Each P&H contribution is a payable to the fund; the performers' payables note none.
    payees = {(p["engagement"], p["rule"]): p["payee"] for p in open_payables}
    assert payees[(ann.pk, "sag.ph")] == {"kind": "fund", "person": None, "fund": "sag-aftra-ph"}
    assert payees[(bob.pk, "sag.pay.day")] == {
        "kind": "person",
        "person": bob.person.pk,
        "fund": "",
    }
    assert all(p["fringes"] == [] for p in open_payables)
    to_fund = all_pages(payroll, PAYABLES, {"production": production.pk, "payee_kind": "fund"})
    assert sorted(p["engagement"] for p in to_fund) == sorted([ann.pk, bob.pk])
    before_paying = ok(payroll.get(BALANCES, {"group": "production", "production": production.pk}))
    assert [(b["owed"], b["paid"], b["due"]) for b in before_paying] == [
        ("10269.66", "0.00", "10269.66")
    ]

    # --- payroll pays each in full ------------------------------------------------------------
    for payable in open_payables:
        body = {
            "payable": payable["id"],
            "amount": payable["due"],
            "paid_at": "2025-09-12T12:00:00Z",
            "payroll_reference": f"ACME-{payable['id']}",
        }
        key = f"e2e-payment-{payable['id']}"
        paid = ok(payroll.post(PAYMENTS, body, format="json", HTTP_IDEMPOTENCY_KEY=key), 201)
        assert paid["amount"] == payable["due"]
    assert all_pages(payroll, PAYABLES, {"production": production.pk}) == []
    balances = ok(payroll.get(BALANCES, {"group": "production", "production": production.pk}))
    assert [(b["owed"], b["paid"], b["due"]) for b in balances] == [
        ("10269.66", "10269.66", "0.00")
    ]
    per_person = ok(payroll.get(BALANCES, {"group": "person", "production": production.pk}))
    assert sorted((b["person"], b["owed"], b["due"]) for b in per_person) == sorted(
        [(ann.person.pk, "7250.00", "0.00"), (bob.person.pk, "1246.00", "0.00")]
    )
    per_fund = ok(payroll.get(BALANCES, {"group": "fund", "production": production.pk}))
    assert [(b["fund"], b["owed"], b["due"]) for b in per_fund] == [
        ("sag-aftra-ph", "1773.66", "0.00")
    ]

    # --- the fund's remittance report: its totals are the fund's postings ----------------------
    period = {"fund": "sag-aftra-ph", "period_from": "2025-08-01", "period_to": "2025-08-31"}
    remittance = ok(staff.get(REMITTANCES, period))
    assert (
        remittance["totals"]
        == remittance["postings"]
        == [{"currency": "USD", "owed": "1773.66", "paid": "1773.66", "due": "0.00"}]
    )
    members = {
        row["member"]["id"]: row["owed"]
        for production_rows in remittance["productions"]
        for row in production_rows["rows"]
    }
    assert members == {ann.person.pk: "1512.00", bob.person.pk: "261.66"}

    # --- the journal's hash chain holds -------------------------------------------------------
    verify = subprocess.run(
        [sys.executable, "manage.py", "verify_ledger"],
        cwd=settings.BASE_DIR,
        env=worker_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "ledger chain intact" in verify.stdout
