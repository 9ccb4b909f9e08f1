"""What the fault tests set up and wait for: a production with a month of timecards (the casting
mix of bench/compensation.py: day, weekly and background performers under SAG-AFTRA TV/Theatrical
2023, 20 timecards each in June 2025), its studio's staff, a run started through the API."""

import time
from collections import Counter

from rest_framework.test import APIClient

from bench.compensation import DUE_DATE, PERIOD_FROM, PERIOD_TO, seed_production
from compensation.models import CompensationLine, CompensationRun
from core.audit import system_user
from tests import factories as f
from tests.helpers import seed_registry

RUNS = "/api/v1/compensation/runs/"
LINE_FIELDS = ("engagement_id", "kind", "status", "rule", "date", "quantity", "rate", "amount")


def production_with_timecards(engagements: int):
    """(production, an API client of its studio's staff)."""
    seed_registry()
    studio = f.StudioFactory(name="Meridian", slug="meridian")
    production = seed_production(
        studio, f.agreement("sag-tvth-2023"), system_user(), "The Long Light", engagements, 0
    )
    staff = APIClient()
    staff.force_authenticate(f.studio_staff(studio, "maya"))
    return production, staff


def start_run(staff, production):
    """POST the June run; (the response, seconds it took)."""
    began = time.monotonic()
    response = staff.post(
        RUNS,
        {
            "production": production.pk,
            "period_from": PERIOD_FROM.isoformat(),
            "period_to": PERIOD_TO.isoformat(),
            "due_date": DUE_DATE.isoformat(),
        },
        format="json",
    )
    return response, time.monotonic() - began


def run_status(run_id: int) -> str:
    return CompensationRun.objects.values_list("status", flat=True).get(pk=run_id)


def finished(run_id: int) -> str | None:
    status = run_status(run_id)
    return None if status in ("queued", "running") else status


def statuses(run_id: int) -> Counter:
    """How many times the run's history recorded each status (a save per attempt)."""
    return Counter(
        CompensationRun.history.filter(id=run_id)
        .order_by("history_id")
        .values_list("status", flat=True)
    )


def lines(run_id: int) -> list[tuple]:
    rows = CompensationLine.objects.filter(run_id=run_id).values_list(*LINE_FIELDS)
    return sorted(rows)


def eventually(predicate, *, timeout: float, what: str, every: float = 0.2):
    """Poll `predicate` until it is truthy (and return it); fail naming `what` after timeout."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout}s waiting for {what}")
        time.sleep(every)
    return value
