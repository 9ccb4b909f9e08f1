"""End to end on PostgreSQL: the shipped weekly schedule, fired by a real `celery beat` (the
database scheduler of django-celery-beat), runs on a real Celery worker on Redis, stores one
report of last week for the active production and e-mails it once, PDF attached, to the
studio's subscriber; firing again for the same week stores and sends nothing new (reports/tasks.py,
"each idempotent").

The schedule is the row migration 0003 creates, edited as an admin would to fire now: an interval
of a few seconds instead of Monday 06:00, sent to the test worker's queue. The worker and beat
run in subprocesses, so the mail goes to a local SMTP sink (aiosmtpd) that the worker reaches
through EMAIL_URL, with TEST_EMAIL_BACKEND switching the test settings' in-memory backend to
SMTP. The worker and beat read the wall clock (the time cannot be frozen in another process), so
the expected period is last week as of the day the test ran."""

import email
import importlib
import socket
from contextlib import contextmanager
from email import policy

import pytest
from aiosmtpd.controller import Controller
from celery.utils.nodenames import host_format
from django.apps import apps
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from config.celery import app as celery_app
from core.audit import system_user
from reports.models import Report, ReportDelivery
from reports.services import subscription_set
from reports.tasks import previous_week
from tests.celery_worker import REDIS_URL, running_beat
from tests.factories import ProductionFactory, StudioFactory, studio_staff

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SCHEDULES = importlib.import_module("reports.migrations.0003_schedules")
WEEKLY = "Weekly compliance report of each active production"
MONTHLY = "Monthly compliance report of each guild"
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
SUBSCRIBER = "maya@meridian.example"
# Beat's messages queue up while the worker renders the first PDF; later runs find it done.
INTERVAL_SECONDS = 2
REPEATS = 2


class Sink:
    """What the SMTP server received: (envelope recipients, raw message) per message."""

    def __init__(self):
        self.received: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def smtp_sink():
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield sink, f"smtp://127.0.0.1:{controller.port}"
    finally:
        controller.stop()


@pytest.fixture
def mail_sink(monkeypatch):
    """A local SMTP server; subprocesses started while it runs (worker_env copies the
    environment) send their mail to it."""
    with smtp_sink() as (sink, url):
        monkeypatch.setenv("EMAIL_URL", url)
        monkeypatch.setenv("TEST_EMAIL_BACKEND", SMTP_BACKEND)
        yield sink


@pytest.fixture
def worker(mail_sink, redis_worker):
    """The Redis worker, started after the sink so that it mails to it."""
    return redis_worker


def _weekly_runs_finished(worker) -> int | None:
    """How many weekly report tasks the worker has run, asked when none is running (None while
    one is, or while the worker, busy with one, cannot answer)."""
    inspect = celery_app.control.inspect([host_format(f"{worker.queue}@%h")], timeout=1.0)
    stats = inspect.stats()
    active = inspect.active()
    if not stats or active is None or any(active.values()):
        return None
    (node,) = stats.values()
    return node["total"].get("reports.tasks.weekly_production_reports", 0)


def test_the_weekly_schedule_stores_and_sends_one_report_however_often_it_fires(worker, mail_sink):
    # The flush after an earlier transactional test removed migration 0003's schedules: made
    # again by the migration's own (idempotent) function, so the test fires the shipped row.
    SCHEDULES.create(apps, None)
    assert set(PeriodicTask.objects.values_list("name", flat=True)) >= {WEEKLY, MONTHLY}

    studio = StudioFactory(name="Meridian", slug="meridian")
    production = ProductionFactory(
        studio=studio, title="The Long Light", status="principal_photography"
    )
    ProductionFactory(studio=studio, title="Old Harbor", status="completed")
    maya = studio_staff(studio, "maya")
    maya.email = SUBSCRIBER
    maya.save()
    subscription_set(actor=maya, user=maya, studio=studio)

    # The admin's edit: every few seconds instead of Mondays 06:00, to the test worker's queue.
    weekly = PeriodicTask.objects.get(name=WEEKLY)
    assert (weekly.task, weekly.kwargs, weekly.crontab.hour) == (
        "reports.tasks.weekly_production_reports",
        "{}",
        "6",
    )
    weekly.interval, _ = IntervalSchedule.objects.get_or_create(
        every=INTERVAL_SECONDS, period=IntervalSchedule.SECONDS
    )
    weekly.crontab = None
    weekly.queue = weekly.exchange = weekly.routing_key = worker.queue
    weekly.save()
    monthly = PeriodicTask.objects.get(name=MONTHLY)
    assert monthly.crontab is not None and monthly.interval is None

    first_day = timezone.now().date()
    with running_beat(REDIS_URL) as beat:

        def watched(predicate):
            def check():
                beat.assert_alive()
                return predicate()

            return check

        def delivered():
            return ReportDelivery.objects.exists() and len(mail_sink.received) >= 1

        try:
            worker.wait_for(watched(delivered), what="the scheduled report and its e-mail")
            runs = worker.wait_for(
                watched(lambda: _weekly_runs_finished(worker)),
                what="the worker to finish the first run",
            )
            worker.wait_for(
                watched(lambda: (_weekly_runs_finished(worker) or 0) >= runs + REPEATS),
                timeout=30,
                what=f"beat to fire {REPEATS} more times",
            )
        except AssertionError as error:
            raise AssertionError(f"{error}\nbeat output:\n{beat.output()}") from None
        last_day = timezone.now().date()
    worker.assert_alive()

    # Beat wrote its run count back to the shipped row when it stopped.
    weekly.refresh_from_db()
    assert weekly.total_run_count >= 1 + REPEATS
    assert weekly.last_run_at is not None

    # --- one report: last week's, of the active production, made by the schedule -------------
    report = Report.objects.get()
    assert (report.scope_kind, report.scope_key, report.production_id, report.studio_id) == (
        "production",
        f"production:{production.pk}",
        production.pk,
        studio.pk,
    )
    assert report.origin == Report.Origin.SCHEDULED
    assert report.requested_by == system_user()
    period = (report.period_from, report.period_to)
    assert period in {previous_week(first_day), previous_week(last_day)}, period
    assert report.period_from.isoweekday() == 1 and report.period_to.isoweekday() == 7

    # --- one delivery, one message, the PDF attached ------------------------------------------
    delivery = ReportDelivery.objects.get()
    assert (delivery.report_id, delivery.user_id, delivery.email) == (
        report.pk,
        maya.pk,
        SUBSCRIBER,
    )
    assert len(mail_sink.received) == 1
    recipients, raw = mail_sink.received[0]
    assert recipients == [SUBSCRIBER]
    message = email.message_from_bytes(raw, policy=policy.default)
    assert message["To"] == SUBSCRIBER
    assert message["Subject"] == f"Guild Ledger: {report}"
    attachments = list(message.iter_attachments())
    assert [a.get_content_type() for a in attachments] == ["application/pdf"]
    (pdf,) = attachments
    assert pdf.get_filename() == (
        f"compliance-production-{production.pk}-{report.period_from}-{report.period_to}-"
        f"{report.pk}.pdf"
    )
    assert pdf.get_content().startswith(b"%PDF")
