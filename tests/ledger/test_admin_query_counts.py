"""Every admin list page costs the same number of queries with 3 rows as with 30 (no query per
row), stays under a small bound, and never counts a whole table: the paginator counts at most
`COUNT_CAP + 1` rows (core.api.pagination).

The pages are read from `admin.site._registry`, so a page registered later is covered here at
once: it fails until `MAKERS` knows how to make its rows."""

import itertools
import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from rest_framework_api_key.models import APIKey

from compensation.models import (
    CompensationLine,
    CompensationRun,
    EngagementTerms,
    HoldResolution,
    RateSheet,
    ResidualRun,
    Timecard,
    WgaDelivery,
)
from compensation.residuals import schedules as residual_schedules
from consent.models import (
    AiUse,
    Consent,
    ConsentRequest,
    StrikePeriod,
    UnionNotice,
    WgaDisclosure,
)
from core.admin.pagination import CappedCountPaginator
from ledger.journal.checkpoints import checkpoint_write
from ledger.models import (
    Agreement,
    Checkpoint,
    Engagement,
    Guild,
    GuildStaff,
    JournalTransaction,
    Payable,
    Payment,
    PayrollKey,
    Person,
    Production,
    Studio,
    StudioStaff,
)
from ledger.webhooks.services import WebhookDelivery, WebhookEndpoint
from privacy.models import ErasureRecord, ExportRecord
from reports.models import (
    ConsentReceipt,
    DisclosureLabel,
    Flag,
    ReceiptDelivery,
    Report,
    ReportDelivery,
    Subscription,
)
from tests.factories import (
    EngagementFactory,
    ExhibitionFactory,
    PersonFactory,
    ProductionAgreementFactory,
    ProductionFactory,
    StudioFactory,
    UserFactory,
    WritingCreditFactory,
    agreement,
    grant_consent,
    guild,
    guild_staff,
    payroll_key,
    studio_staff,
)
from tests.helpers import make_payable as journal_payable
from tests.ledger.conftest_journal import pay

pytestmark = pytest.mark.django_db

SMALL, LARGE = 3, 30
MAX_QUERIES = 14  # session, user, scope, count, page, one per related list, filters
AT = datetime(2025, 6, 10, 9, tzinfo=UTC)
_n = itertools.count(1)


@pytest.fixture
def world():
    studio = StudioFactory(name="Alpha Pictures", slug="alpha")
    production = ProductionFactory(studio=studio, title="Alpha Feature")
    for code in ("sag-tvth-2023", "wga-mba-2023"):
        ProductionAgreementFactory(production=production, agreement=agreement(code))
    return {
        "studio": studio,
        "production": production,
        "recorder": UserFactory(username="recorder"),
        "superuser": UserFactory(username="root", is_superuser=True),
        "studio_staff": studio_staff(studio, "alice-a"),
    }


# --- making n rows of each listed model -----------------------------------------------------


def _engagement(w, **kwargs):
    person = PersonFactory(registered_by=w["studio"])
    return EngagementFactory(person=person, production=w["production"], **kwargs)


def _consent(w):
    return grant_consent(_engagement(w), actor=w["recorder"])


def _consent_request(w):
    return ConsentRequest.objects.create(
        person=_engagement(w).person,
        production=w["production"],
        agreement=agreement("sag-tvth-2023"),
        category="principal",
        kind="replica_creation",
        description="Full-body scan for the battle scenes of episode 3",
        term_from=date(2025, 6, 1),
        signer_capacity="self",
        created_by=w["recorder"],
    )


def _ai_use(w, **kwargs):
    consent = _consent(w)
    values = dict(
        production=w["production"],
        person=consent.person,
        kind="replica_creation",
        starts_at=AT,
        description="Full-body scan on stage 4",
        status="allowed",
        agreement=consent.agreement,
        consent=consent,
        rules=["sag-replica-consent"],
        recorded_by=w["recorder"],
    )
    values.update(kwargs)
    return AiUse.objects.create(**values)


def _run(w, kind="pay"):
    return CompensationRun.objects.create(
        kind=kind,
        production=w["production"],
        period_from=date(2025, 6, 1),
        period_to=date(2025, 6, 7),
        due_date=date(2025, 6, 20),
        status="computed",
        started_by=w["recorder"],
        started_at=AT,
    )


def _report(w):
    i = next(_n)
    return Report.objects.create(
        scope_kind="studio",
        scope_key=f"studio:{w['studio'].pk}",
        studio=w["studio"],
        period_from=date(2025, 6, 1),
        period_to=date(2025, 6, 30) + timedelta(days=i),
        origin="on_demand",
        generated_at=AT,
        content="{}",
        sha256=f"{i:064x}",
        counts={"violations": i},
        requested_by=w["recorder"],
    )


def make_guild(w):
    i = next(_n)
    Guild.objects.create(code=f"guild-{i}", name=f"Guild {i}")


def make_agreement(w):
    i = next(_n)
    Agreement.objects.create(
        guild=guild("sag-aftra"),
        code=f"agreement-{i}",
        name=f"Agreement {i}",
        effective_from=date(2025, 1, 1),
        tier="P",
        source="test",
    )


def make_studio(w):
    studio = StudioFactory()
    StudioStaff.objects.create(user=w["studio_staff"], studio=studio)


def make_payable(w):
    person = PersonFactory(registered_by=w["studio"])
    return journal_payable(actor=w["recorder"], production=w["production"], person=person)


def make_payment(w):
    payable = make_payable(w)
    pay(payable, Decimal("400.00"), actor=w["recorder"])


def make_checkpoint(w):
    make_payable(w)
    checkpoint_write(reason="manual")


def make_webhook_endpoint(w):
    key, _raw = payroll_key(w["studio"], name=f"hook-{next(_n)}")
    return WebhookEndpoint.objects.create(payroll_key=key, url=f"https://pay.example/{key.pk}")


def make_webhook_delivery(w):
    i = next(_n)
    WebhookDelivery.objects.create(
        endpoint=make_webhook_endpoint(w),
        message_id=f"msg-{i}",
        event_type="payable.created",
        payload={"id": i},
        created_at=AT,
    )


def make_rate_sheet(w):
    i = next(_n)
    RateSheet.objects.create(
        agreement=agreement("sag-tvth-2023"),
        name="SAG-AFTRA rates",
        version=i,
        source="rate sheet p.1",
        file_name="rates.csv",
        file_format="csv",
        content="parameter,from\n",
        sha256=f"{i:064x}",
        loaded_by=w["recorder"],
        loaded_at=AT,
    )


def make_timecard(w):
    Timecard.objects.create(
        engagement=_engagement(w),
        date=date(2025, 6, 2),
        first_call=time(7),
        dismissal=time(17),
        meals=[["12:00", "12:30"]],
        elapsed_hours=Decimal("10.0"),
        work_hours=Decimal("9.5"),
    )


def make_delivery(w):
    writer = _engagement(
        w, agreement=agreement("wga-mba-2023"), classification="writer", rate_unit="week"
    )
    WgaDelivery.objects.create(engagement=writer, work_type="story", date=date(2025, 6, 3))


def make_line(w):
    CompensationLine.objects.create(
        run=_run(w),
        engagement=_engagement(w),
        rule="sag-day-rate",
        description="Day rate",
        date=date(2025, 6, 2),
        quantity=Decimal("1"),
        unit="day",
        rate=Decimal("1500.00"),
        amount=Decimal("1500.00"),
    )


def make_hold(w):
    HoldResolution.objects.create(
        ai_use=_ai_use(w, status="violation", consent=None),
        decision="release",
        reason="Consent found on paper",
        resolved_by=w["recorder"],
        resolved_at=AT,
    )


def make_report_delivery(w):
    ReportDelivery.objects.create(
        report=_report(w), user=w["recorder"], email="r@example.com", sent_at=AT
    )


def make_subscription(w):
    # Staff see their own subscriptions: every one is the studio staff user's.
    Subscription.objects.create(user=w["studio_staff"], studio=StudioFactory())


def make_receipt_delivery(w):
    consent = _consent(w)
    ReceiptDelivery.objects.create(
        consent=consent, email="p@example.com", sent_by=w["recorder"], sent_at=AT
    )


def make_periodic_task(w):
    i = next(_n)
    schedule = IntervalSchedule.objects.create(every=i, period="days")
    PeriodicTask.objects.create(name=f"task {i}", task="reports.tasks.x", interval=schedule)


def make_flag(w):
    Flag.objects.create(
        ai_use=_ai_use(w, status="violation", consent=None),
        note="Please look again",
        guild=guild("sag-aftra"),
        raised_by=w["recorder"],
        created_at=AT,
    )


def make_erasure(w):
    ErasureRecord.objects.create(
        person=PersonFactory(registered_by=w["studio"]),
        actor=w["recorder"],
        erased_at=AT,
        reason="request",
        pseudonym=f"erased-{next(_n)}",
        export_sha256="0" * 64,
    )


def make_export(w):
    ExportRecord.objects.create(
        person=PersonFactory(registered_by=w["studio"]),
        actor=w["recorder"],
        exported_at=AT,
        sha256="0" * 64,
    )


LOGIN = dict(user_agent="browser", ip_address="127.0.0.1", http_accept="*/*", path_info="/admin/")

MAKERS = {
    Group: lambda w: Group.objects.create(name=f"group {next(_n)}"),
    UserFactory._meta.model: lambda w: UserFactory(),
    APIKey: lambda w: APIKey.objects.create_key(name=f"key {next(_n)}"),
    PeriodicTask: make_periodic_task,
    ClockedSchedule: lambda w: ClockedSchedule.objects.create(
        clocked_time=AT + timedelta(hours=next(_n))
    ),
    CrontabSchedule: lambda w: CrontabSchedule.objects.create(minute=str(next(_n) % 60)),
    SolarSchedule: lambda w: SolarSchedule.objects.create(
        event="sunrise", latitude=Decimal(next(_n) % 80), longitude=Decimal("1")
    ),
    IntervalSchedule: lambda w: IntervalSchedule.objects.create(every=next(_n), period="hours"),
    AccessAttempt: lambda w: AccessAttempt.objects.create(
        username=f"who-{next(_n)}", get_data="", post_data="", failures_since_start=1, **LOGIN
    ),
    AccessFailureLog: lambda w: AccessFailureLog.objects.create(
        username=f"who-{next(_n)}", **LOGIN
    ),
    AccessLog: lambda w: AccessLog.objects.create(username=f"who-{next(_n)}", **LOGIN),
    ErasureRecord: make_erasure,
    ExportRecord: make_export,
    Flag: make_flag,
    Guild: make_guild,
    Agreement: make_agreement,
    Studio: make_studio,
    Person: lambda w: PersonFactory(registered_by=w["studio"]),
    Production: lambda w: ProductionFactory(studio=w["studio"]),
    Engagement: _engagement,
    StudioStaff: lambda w: studio_staff(w["studio"], f"staff-{next(_n)}"),
    GuildStaff: lambda w: guild_staff("sag-aftra", f"guild-staff-{next(_n)}"),
    PayrollKey: lambda w: payroll_key(w["studio"], name=f"payroll-{next(_n)}"),
    JournalTransaction: make_payable,
    Payable: make_payable,
    Payment: make_payment,
    Checkpoint: make_checkpoint,
    WebhookEndpoint: make_webhook_endpoint,
    WebhookDelivery: make_webhook_delivery,
    Consent: _consent,
    AiUse: _ai_use,
    ConsentRequest: _consent_request,
    UnionNotice: lambda w: UnionNotice.objects.create(
        production=w["production"],
        guild=guild("sag-aftra"),
        kind="ai_impact",
        given_at=AT,
        description="notice",
        recorded_by=w["recorder"],
    ),
    WgaDisclosure: lambda w: WgaDisclosure.objects.create(
        production=w["production"],
        writer=PersonFactory(registered_by=w["studio"]),
        material="draft",
        handed_over_on=date(2025, 6, 2),
        disclosed_at=AT,
        recorded_by=w["recorder"],
    ),
    StrikePeriod: lambda w: StrikePeriod.objects.create(
        guild=guild("sag-aftra"),
        starts_on=date(2020, 1, 1) + timedelta(days=next(_n)),
        recorded_by=w["recorder"],
    ),
    RateSheet: make_rate_sheet,
    Timecard: make_timecard,
    WgaDelivery: make_delivery,
    EngagementTerms: lambda w: EngagementTerms.objects.create(
        engagement=_engagement(w), wage_classification="day"
    ),
    CompensationRun: _run,
    ResidualRun: lambda w: ResidualRun.objects.get(pk=_run(w, kind="residuals").pk),
    CompensationLine: make_line,
    HoldResolution: make_hold,
    Report: _report,
    ReportDelivery: make_report_delivery,
    Subscription: make_subscription,
    ConsentReceipt: _consent,
    ReceiptDelivery: make_receipt_delivery,
    DisclosureLabel: lambda w: DisclosureLabel.objects.create(
        production=ProductionFactory(studio=w["studio"])
    ),
    ExhibitionFactory._meta.model: lambda w: ExhibitionFactory(
        production=w["production"], episode=str(next(_n))
    ),
    residual_schedules.ResidualSchedule: lambda w: residual_schedules.schedule_load(
        actor=w["recorder"],
        agreement=agreement("wga-mba-2023"),
        name="WGA residuals",
        source="test",
        effective_from=date(2025, 1, 1),
        file_name="schedule.csv",
        file_format="csv",
        content="kind,key,value\nbase,episode:60,1\n",
    ),
    WritingCreditFactory._meta.model: lambda w: WritingCreditFactory(
        engagement=_engagement(
            w, agreement=agreement("wga-mba-2023"), classification="writer", rate_unit="week"
        )
    ),
}


# --- the pages ------------------------------------------------------------------------------

PAGES = sorted(admin.site._registry, key=lambda model: model._meta.label)
BIG_TABLES = [
    model._meta.db_table
    for model in (JournalTransaction, Payable, Payment, Consent, AiUse, CompensationLine)
] + ["ledger_posting"]
SQL_COUNT = re.compile(r"\bCOUNT\(", re.IGNORECASE)


def changelist_url(model) -> str:
    return f"/admin/{model._meta.app_label}/{model._meta.model_name}/"


def visit(user, model):
    """(response, SQL of every query) of the model's changelist for `user`."""
    client = Client()
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(changelist_url(model))
    return response, [q["sql"] for q in captured.captured_queries]


def repeated(sqls: list[str]) -> str:
    """The statements a page ran more than once (an N+1 shows as one repeated shape)."""
    shapes = {}
    for sql in sqls:
        shape = re.sub(r"\b\d+\b", "N", sql)[:300]
        shapes[shape] = shapes.get(shape, 0) + 1
    return f"{len(sqls)} queries; " + "\n".join(f"{n} x {s}" for s, n in shapes.items() if n > 1)


def shown(response) -> int:
    return len(response.context["cl"].result_list)


def test_every_listed_model_has_a_maker():
    # A new admin page must say how to make its rows here, or it is not checked.
    assert [m._meta.label for m in PAGES if m not in MAKERS] == []


@pytest.mark.parametrize("who", ["superuser", "studio_staff"])
@pytest.mark.parametrize("model", PAGES, ids=lambda model: model._meta.label)
def test_changelist_queries_do_not_grow_with_rows(world, model, who):
    user = world[who]
    make = MAKERS[model]
    for _ in range(SMALL):
        make(world)
    small_response, small = visit(user, model)
    if small_response.status_code == 403:
        # Pages for administrators only: staff get no page, so there is nothing to count.
        assert who == "studio_staff" and not admin.site._registry[model].has_module_permission(
            small_response.wsgi_request
        )
        return
    assert small_response.status_code == 200, small_response.content[:500]
    for _ in range(LARGE - SMALL):
        make(world)
    large_response, large = visit(user, model)
    assert large_response.status_code == 200

    assert shown(large_response) > shown(small_response) or who == "studio_staff"
    assert len(large) == len(small), repeated(large)
    assert len(large) <= MAX_QUERIES, repeated(large)
    assert isinstance(large_response.context["cl"].paginator, CappedCountPaginator)
    for sql in large:
        if SQL_COUNT.search(sql):
            assert " LIMIT " in sql, f"an unbounded count: {sql}"


# --- the capped count -----------------------------------------------------------------------


@pytest.fixture
def small_cap(monkeypatch):
    """A cap of 20 and pages of 10 on the people list, so that 30 people pass the cap."""
    monkeypatch.setattr(CappedCountPaginator, "cap", 20)
    monkeypatch.setattr(admin.site._registry[Person], "list_per_page", 10)


def test_past_the_cap_the_page_says_more_than_and_its_links_work(world, small_cap):
    for _ in range(30):
        PersonFactory(registered_by=world["studio"])
    response, sqls = visit(world["studio_staff"], Person)
    cl = response.context["cl"]
    assert cl.paginator.capped and cl.result_count == 20 and cl.paginator.num_pages == 2
    assert "more than 20 people" in response.content.decode()
    assert any("LIMIT 21" in s for s in sqls)
    assert [s for s in sqls if SQL_COUNT.search(s)] == [
        s for s in sqls if SQL_COUNT.search(s) and "LIMIT 21" in s
    ]
    client = Client()
    client.force_login(world["studio_staff"])
    second = client.get(changelist_url(Person), {"p": 2})
    assert second.status_code == 200 and len(second.context["cl"].result_list) == 10


def test_below_the_cap_the_count_is_exact(world, small_cap):
    for _ in range(12):
        PersonFactory(registered_by=world["studio"])
    response, _sqls = visit(world["studio_staff"], Person)
    cl = response.context["cl"]
    assert not cl.paginator.capped and cl.result_count == 12
    assert "12 people" in response.content.decode()
