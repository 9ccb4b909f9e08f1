"""Shared helpers for the compensation API, access, records and admin tests: plain functions and
one world builder (not a conftest, so that the rule-case tests of this folder are not affected).
Fixed values only."""

from datetime import UTC, date, datetime, time
from decimal import Decimal
from types import SimpleNamespace

from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from compensation import runs, selectors, services
from compensation.models import (
    CompensationLine,
    CompensationRun,
    EngagementTerms,
    HoldResolution,
    RateSheet,
    RateSheetValue,
    RunPosting,
    Timecard,
    WgaDelivery,
)
from consent.services import ai_use_record
from ledger.access import Scope
from ledger.models import JournalTransaction, Payable, Posting
from tests.factories import (
    EngagementFactory,
    PersonFactory,
    ProductionAgreementFactory,
    ProductionFactory,
    StudioFactory,
    UserFactory,
    agreement,
    guild_staff,
    payroll_key,
    studio_staff,
)
from tests.helpers import acknowledge_all, key_client

BASE = "/api/v1/compensation"
QUOTE = f"{BASE}/quote/"
SHEETS = f"{BASE}/rate-sheets/"
TERMS = f"{BASE}/engagement-terms/"
TIMECARDS = f"{BASE}/timecards/"
DELIVERIES = f"{BASE}/deliveries/"
RUNS = f"{BASE}/runs/"
LINES = f"{BASE}/lines/"
HOLDS = f"{BASE}/hold-resolutions/"
PAYABLES = "/api/v1/payables/"

PERIOD = {"period_from": "2025-08-04", "period_to": "2025-08-10", "due_date": "2025-08-20"}
NONEXISTENT_ID = 987654321

COMPENSATION_MODELS = [
    RateSheet,
    RateSheetValue,
    EngagementTerms,
    Timecard,
    WgaDelivery,
    CompensationRun,
    CompensationLine,
    RunPosting,
    HoldResolution,
]
HISTORY_MODELS = [EngagementTerms, Timecard, WgaDelivery, CompensationRun]
JOURNAL_MODELS = [JournalTransaction, Posting, Payable]


def counts() -> dict:
    """Rows (and history rows) of every table a compensation request could write."""
    out = {m.__name__: m.objects.count() for m in [*COMPENSATION_MODELS, *JOURNAL_MODELS]}
    out.update({f"{m.__name__} history": m.history.count() for m in HISTORY_MODELS})
    return out


def at(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def upload(name: str, text: str, content_type: str = "text/csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type=content_type)


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def ok(response, status=200) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:1500])
    return response.json()


def all_pages(client, url, params=None) -> list[dict]:
    """Every row of a paginated list, following `next` to the end."""
    rows, page = [], ok(client.get(url, params or {}))
    rows += page["results"]
    while page["next"]:
        page = ok(client.get(page["next"]))
        rows += page["results"]
    return rows


def results(response) -> list[dict]:
    body = ok(response)
    assert body["next"] is None, "the test data fits on one page"
    return body["results"]


def load_sheet(client, text: str, *, file_name="rates.csv", **fields):
    body = {
        "agreement": "sag-tvth-2023",
        "name": "SAG-AFTRA rates 2025-26",
        "source": "SAG-AFTRA TV/Theatrical rate sheet 2025-26, p.1",
        "file": upload(
            file_name, text, "application/json" if file_name.endswith("json") else "text/csv"
        ),
    }
    body.update(fields)
    return client.post(SHEETS, body, format="multipart")


def timecard_body(engagement, day="2025-08-04", **fields) -> dict:
    body = {
        "engagement": engagement.pk,
        "date": day,
        "first_call": "07:00",
        "dismissal": "19:30",
        "meals": [["13:00", "13:30"]],
    }
    body.update(fields)
    return body


def record_day(
    engagement, actor, day=date(2025, 8, 4), call="07:00", dismissal="19:30", meals=None
):
    """A timecard through the service (no API), for setting the scene."""
    return services.timecard_save(
        actor=actor,
        engagement=engagement,
        date=day,
        first_call=time.fromisoformat(call),
        dismissal=time.fromisoformat(dismissal),
        meals=[["13:00", "13:30"]] if meals is None else meals,
    )


VIOLATION_AT = datetime(2025, 8, 6, 9, tzinfo=UTC)


def record_violation(engagement, *, on=VIOLATION_AT, days="2"):
    """A replica use of the engagement's person with no consent: recorded as a violation."""
    use = ai_use_record(
        actor=UserFactory(username="use-recorder"),
        scope=Scope(superuser=True),
        production=engagement.production,
        person=engagement.person,
        kind="replica_use",
        starts_at=on,
        days=Decimal(days),
        description="Digital replica in the harbour scene",
    )
    assert use.status == "violation", use.reasons
    return use


def start_run(client, capture, production, **period) -> dict:
    """POST runs/ (202) with the on-commit computation executed; the run as GET shows it then."""
    body = {"production": production.pk, **PERIOD, **period}
    with capture(execute=True):
        response = client.post(RUNS, body, format="json")
    started = ok(response, 202)
    assert started["status"] == "queued"
    return ok(client.get(f"{RUNS}{started['id']}/"))


def run_lines(client, run_id) -> list[dict]:
    return results(client.get(f"{RUNS}{run_id}/lines/"))


def approve(client, run_id) -> dict:
    """POST approve/ once every item of the run's review is acknowledged (with a note, as its
    studio's staff do before approving)."""
    acknowledge_all(CompensationRun.objects.get(pk=run_id))
    return ok(client.post(f"{RUNS}{run_id}/approve/"))


def open_payables(raw_key) -> dict:
    """The payables payroll sees, by (engagement, rule)."""
    rows = results(key_client(raw_key).get(PAYABLES))
    out = {}
    for row in rows:
        key = (row["engagement"], row["rule"])
        assert key not in out, f"two open payables for {key}"
        out[key] = row
    return out


def journal(kind=None) -> list[JournalTransaction]:
    qs = JournalTransaction.objects.order_by("seq")
    return list(qs.filter(kind=kind) if kind else qs)


def payable_leg_total(transaction, payable_id) -> Decimal:
    """What a transaction changed on a payable's owed amount (positive: owed more)."""
    return -sum(
        (p.amount for p in transaction.postings.filter(payable_id=payable_id, effect="owed")),
        Decimal(0),
    )


def quote_body(*days, rate="1000", **extra) -> dict:
    """A SAG-AFTRA day performer's quote: one 8-hour day (07:00-15:30, a 30-minute meal) per
    date, at a negotiated rate under the minimum so that the minimum decides the day pay."""
    body = {
        "agreement": "sag-tvth-2023",
        "classification": "day_performer",
        "production_kind": "theatrical",
        "rate": {"amount": rate, "unit": "day", "currency": "USD"},
        "work_days": [
            {"date": d, "first_call": "07:00", "dismissal": "15:30", "meals": [["12:00", "12:30"]]}
            for d in days
        ],
    }
    body.update(extra)
    return body


def clear_parameter_cache():
    """The parameters in force are cached per process by the latest sheet's id; SQLite reuses the
    ids of rolled-back rows, so each test starts from a clean cache."""
    selectors._parameters_cache.clear()


# --- the world -------------------------------------------------------------------------------


def build_world() -> SimpleNamespace:
    """Studio Meridian's film `The Long Light` works under SAG-AFTRA 2023, WGA 2023 and IATSE
    2024: Ann (a day performer at 1000/day, under the minimum), Abe (a writer) and Cy (an hourly
    crew member). Studio Northgate's `Harbor Nights` works under SAG-AFTRA: Bob. Maya is
    Meridian's staff, Nora Northgate's, Sam SAG-AFTRA's, Wes WGA's, Ian IATSE's; Root is a
    superuser; each studio has a payroll key."""
    w = SimpleNamespace()
    w.meridian = StudioFactory(name="Meridian", slug="meridian")
    w.northgate = StudioFactory(name="Northgate", slug="northgate")
    w.film = ProductionFactory(studio=w.meridian, title="The Long Light")
    ProductionAgreementFactory(production=w.film, agreement=agreement("wga-mba-2023"))
    ProductionAgreementFactory(production=w.film, agreement=agreement("iatse-basic-2024"))
    w.harbor = ProductionFactory(studio=w.northgate, title="Harbor Nights")
    w.ann = EngagementFactory(
        production=w.film,
        person=PersonFactory(legal_name="Ann Example", registered_by=w.meridian),
        rate_amount=Decimal("1000.00"),
    )
    w.abe = EngagementFactory(
        production=w.film,
        person=PersonFactory(legal_name="Abe Writer", registered_by=w.meridian),
        agreement=agreement("wga-mba-2023"),
        classification="writer",
        rate_amount=Decimal("5000.00"),
        rate_unit="week",
    )
    w.cy = EngagementFactory(
        production=w.film,
        person=PersonFactory(legal_name="Cy Grip", registered_by=w.meridian),
        agreement=agreement("iatse-basic-2024"),
        classification="crew_hourly",
        rate_amount=Decimal("50.00"),
        rate_unit="hour",
    )
    w.bob = EngagementFactory(
        production=w.harbor,
        person=PersonFactory(legal_name="Bob Other", registered_by=w.northgate),
        rate_amount=Decimal("1000.00"),
    )
    w.maya = studio_staff(w.meridian, "maya")
    w.nora = studio_staff(w.northgate, "nora")
    w.sam = guild_staff("sag-aftra", "sam")
    w.wes = guild_staff("wga", "wes")
    w.ian = guild_staff("iatse", "ian")
    w.root = UserFactory(username="root", is_superuser=True)
    _key, w.meridian_key = payroll_key(w.meridian, name="payroll-meridian")
    _key, w.northgate_key = payroll_key(w.northgate, name="payroll-northgate")
    w.client = client_for(w.maya)
    return w


def computed_run(production, actor, period_from=date(2025, 8, 4), period_to=date(2025, 8, 10)):
    """A run started and computed through the services (no on-commit needed)."""
    run = runs.run_start(
        actor=actor,
        production=production,
        period_from=period_from,
        period_to=period_to,
        due_date=date(2025, 8, 20),
    )
    runs.run_compute(run.pk)
    run.refresh_from_db()
    assert run.status == "computed", (run.status, run.error)
    return run
