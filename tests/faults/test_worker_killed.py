"""A Celery worker killed with SIGKILL in the middle of a task: the task is redelivered and the
work is done once.

Tasks are acknowledged late (CELERY_TASK_ACKS_LATE): the broker keeps a message until the task
that took it has finished. A worker killed while it executes one never acknowledges it, so
RabbitMQ puts the message back when the worker's connection drops and the next worker runs the
task again. A pool process killed under a living worker is reported lost, and the worker rejects
the message back to the queue (CELERY_TASK_REJECT_ON_WORKER_LOST). Each task is idempotent:

- A compensation run is computed in one transaction, so the killed attempt left no line; the run
  stays `running` and the redelivered task computes it anew. Its lines equal those of a clean run
  of the same period; approving it posts one journal transaction per engagement, once, and the
  clean run approved after it posts nothing more; the hash chain verifies.
- The weekly report task is killed while it renders the PDF for the subscriber (the report is
  stored, not yet sent): run again, it finds the stored report and sends it, once.

The kill lands while the task executes: the test waits for the task's own mark in the database
(the run `running`; the report stored with no delivery), and then checks that the work was left
unfinished and, for a killed worker, that its message is back on the queue."""

import pytest
from django.utils import timezone

from compensation.models import CompensationLine, CompensationRun
from ledger.journal.verify import verify_chain
from ledger.models import JournalTransaction
from reports.models import Report, ReportDelivery
from reports.services import subscription_set
from reports.tasks import weekly_production_reports
from tests.celery_worker import AMQP_URL, running_worker
from tests.factories import ProductionFactory, StudioFactory, studio_staff
from tests.helpers import acknowledge_all
from tests.reports.test_schedule_end_to_end import SMTP_BACKEND, smtp_sink

from .work import (
    RUNS,
    eventually,
    finished,
    lines,
    production_with_timecards,
    run_status,
    seed_registry,
    start_run,
    statuses,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# Enough work that its computation takes a few seconds on a shared CI machine: a window that the
# kill lands in (the test fails, saying so, if the run finished first).
ENGAGEMENTS = 250
REQUEUE_SECONDS = 30
COMPUTE_SECONDS = 180


def ok(response, status=200):
    assert response.status_code == status, (response.status_code, response.content[:2000])
    return response.json()


@pytest.mark.parametrize(
    ("pool", "killed"), [("solo", "the worker"), ("prefork", "the pool process")]
)
def test_a_run_killed_mid_computation_is_computed_once(pool, killed):
    production, staff = production_with_timecards(ENGAGEMENTS)
    with running_worker(AMQP_URL, pool=pool) as worker:
        run_id = ok(start_run(staff, production)[0], 202)["id"]
        worker.wait_for(
            lambda: run_status(run_id) == "running",
            what="the worker to start the computation",
            every=0.05,
        )
        if pool == "solo":
            worker.kill()
        else:
            worker.kill_pool_child()

        # Killed mid-computation: nothing of it was committed.
        assert run_status(run_id) == "running", (
            f"The run was {run_status(run_id)} before {killed} was killed: give it more work."
        )
        assert not CompensationLine.objects.filter(run_id=run_id).exists()
        if pool == "solo":
            # (With the message of the sweep that the worker asked for when it started, if it
            # had not taken that one yet.)
            eventually(
                lambda: worker.message_count() >= 1,
                timeout=REQUEUE_SECONDS,
                what="the unacknowledged message to be back on the queue",
            )
            worker.restart()

        status = worker.wait_for(
            lambda: finished(run_id),
            timeout=COMPUTE_SECONDS,
            what="the redelivered task to compute the run",
        )
        assert status == "computed", ok(staff.get(f"{RUNS}{run_id}/"))
        # Two attempts (each marks the run running), one computation.
        counts = statuses(run_id)
        assert (counts["running"], counts["computed"]) == (2, 1), counts
        run = ok(staff.get(f"{RUNS}{run_id}/"))
        computed = lines(run_id)
        assert run["engagements"] == ENGAGEMENTS and run["line_count"] == len(computed) > 0

        # Approval posts one transaction per engagement, and only once.
        before = JournalTransaction.objects.count()
        acknowledge_all(CompensationRun.objects.get(pk=run_id))  # its review, before approval
        assert ok(staff.post(f"{RUNS}{run_id}/approve/"))["status"] == "approved"
        assert JournalTransaction.objects.count() - before == ENGAGEMENTS
        ok(staff.post(f"{RUNS}{run_id}/approve/"))
        assert JournalTransaction.objects.count() - before == ENGAGEMENTS

        # A clean run of the same period computes the same lines, so it has nothing to post.
        clean_id = ok(start_run(staff, production)[0], 202)["id"]
        worker.wait_for(lambda: finished(clean_id), timeout=COMPUTE_SECONDS, what="the clean run")
        assert statuses(clean_id)["running"] == 1
        assert lines(clean_id) == computed
        acknowledge_all(CompensationRun.objects.get(pk=clean_id))
        ok(staff.post(f"{RUNS}{clean_id}/approve/"))
        assert JournalTransaction.objects.count() - before == ENGAGEMENTS
        worker.wait_for(lambda: worker.message_count() == 0, what="the queue to empty")

    chain = verify_chain(full=True)
    assert chain.ok and chain.checked == JournalTransaction.objects.count(), chain


SUBSCRIBER = "maya@meridian.example"


@pytest.fixture
def mail_sink(monkeypatch):
    """A local SMTP server that workers started while it runs send their mail to."""
    with smtp_sink() as (sink, url):
        monkeypatch.setenv("EMAIL_URL", url)
        monkeypatch.setenv("TEST_EMAIL_BACKEND", SMTP_BACKEND)
        yield sink


def test_a_report_task_killed_before_sending_stores_and_sends_one_report(mail_sink):
    seed_registry()
    studio = StudioFactory(name="Meridian", slug="meridian")
    ProductionFactory(studio=studio, title="The Long Light", status="principal_photography")
    maya = studio_staff(studio, "maya")
    maya.email = SUBSCRIBER
    maya.save()
    subscription_set(actor=maya, user=maya, studio=studio)
    today = timezone.now().date().isoformat()

    with running_worker(AMQP_URL) as worker:
        weekly_production_reports.delay(on=today)
        # The report is stored before its PDF is rendered and mailed: kill in between.
        worker.wait_for(Report.objects.exists, what="the report to be stored", every=0.05)
        worker.kill()
        assert not ReportDelivery.objects.exists() and not mail_sink.received, (
            "The report was sent before the worker was killed."
        )
        eventually(
            lambda: worker.message_count() >= 1,
            timeout=REQUEUE_SECONDS,
            what="the unacknowledged message to be back on the queue",
        )

        # Only the redelivered message can send it now: nothing publishes the task again.
        worker.restart()
        worker.wait_for(
            lambda: ReportDelivery.objects.exists() and mail_sink.received,
            what="the redelivered task to send the report",
        )
        worker.wait_for(lambda: worker.message_count() == 0, what="the queue to empty")
        worker.assert_alive()

    report = Report.objects.get()
    delivery = ReportDelivery.objects.get()
    assert (delivery.report_id, delivery.email) == (report.pk, SUBSCRIBER)
    assert [recipients for recipients, _ in mail_sink.received] == [[SUBSCRIBER]]
