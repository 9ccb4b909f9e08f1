"""The broker goes away and comes back: the API keeps answering, and the work that could not be
queued meanwhile runs once it is back (core/outbox.py).

The broker the app, the worker and beat use is a TCP forwarder to the real RabbitMQ
(tests/faults/broker_proxy.py): closing it cuts their connections and refuses new ones, as a
broker that went away would; opening it again is the broker's return.

A run started while the broker is away is answered 202, `queued`, at once (the publish gives up
after a bounded wait), and stays queued, waiting, with nothing computed. When the broker is back,
the dispatch sweep publishes it: from beat's schedule (migration compensation 0003), or from a
worker that starts. The run is computed once. A webhook delivery made while the broker is away
waits the same way, and is sent once."""

import importlib
import time

import pytest
from django.apps import apps
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from compensation.models import CompensationRun
from core.audit import system_user
from ledger.webhooks.services import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.celery_worker import AMQP_URL, running_beat, running_worker
from tests.factories import EngagementFactory, payroll_key
from tests.helpers import make_payable
from tests.ledger.test_webhooks import Receiver

from .broker_proxy import BrokerProxy
from .work import (
    RUNS,
    finished,
    lines,
    production_with_timecards,
    seed_registry,
    start_run,
    statuses,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DISPATCH = importlib.import_module("compensation.migrations.0003_run_dispatch")
ENGAGEMENTS = 20
# "Promptly": the publish's bounded wait (2 s to connect, two short retries) with room to spare
# on a busy machine; a publish that hung on the broker would take far longer.
PROMPT_SECONDS = 10
AWAY_SECONDS = 3
BACK_SECONDS = 120


@pytest.fixture
def proxy():
    proxy = BrokerProxy(AMQP_URL)
    proxy.open()
    yield proxy
    proxy.close()


def ok(response, status=200):
    assert response.status_code == status, (response.status_code, response.content[:2000])
    return response.json()


def start_while_away(staff, production) -> int:
    """Start a run with the broker away: 202 and `queued`, promptly, waiting for the broker."""
    response, seconds = start_run(staff, production)
    run = ok(response, 202)
    assert run["status"] == "queued", run
    assert seconds < PROMPT_SECONDS, f"Starting a run took {seconds:.1f}s with the broker away."
    assert CompensationRun.objects.get(pk=run["id"]).dispatched_at is None
    return run["id"]


def sweep_every_second(queue: str):
    """The shipped sweep schedule, edited to fire every second with no grace, to `queue`."""
    DISPATCH.create(apps, None)  # the flush of an earlier transactional test removed it
    sweep = PeriodicTask.objects.get(name=DISPATCH.SWEEP_NAME)
    assert (sweep.task, sweep.interval.every, sweep.interval.period) == (
        "ledger.tasks.dispatch_waiting",
        60,
        "seconds",
    )
    sweep.interval, _ = IntervalSchedule.objects.get_or_create(
        every=1, period=IntervalSchedule.SECONDS
    )
    sweep.kwargs = '{"grace_seconds": 0}'
    sweep.queue = sweep.exchange = sweep.routing_key = queue
    sweep.save()


def test_the_api_answers_while_the_broker_is_away_and_the_run_is_computed_when_it_is_back(proxy):
    production, staff = production_with_timecards(ENGAGEMENTS)
    with running_worker(proxy.url) as worker:
        sweep_every_second(worker.queue)
        with running_beat(proxy.url) as beat:
            proxy.close()
            run_id = start_while_away(staff, production)

            # The API keeps answering, and nothing runs while the broker is away.
            deadline = time.monotonic() + AWAY_SECONDS
            while time.monotonic() < deadline:
                began = time.monotonic()
                assert ok(staff.get(f"{RUNS}{run_id}/"))["status"] == "queued"
                assert ok(staff.get(RUNS))["results"]
                assert time.monotonic() - began < PROMPT_SECONDS
                time.sleep(0.5)
            assert lines(run_id) == []

            proxy.open()
            status = worker.wait_for(
                lambda: (beat.assert_alive(), finished(run_id))[1],
                timeout=BACK_SECONDS,
                what="the sweep to publish the run once the broker is back",
            )

    assert status == "computed"
    assert (statuses(run_id)["running"], statuses(run_id)["computed"]) == (1, 1)
    run = CompensationRun.objects.get(pk=run_id)
    assert run.line_count == len(lines(run_id)) > 0
    # The sweep published it (as the system user that tasks act as).
    dispatched = CompensationRun.history.filter(id=run_id, dispatched_at__isnull=False).earliest(
        "history_id"
    )
    assert dispatched.history_user == system_user()


def test_a_worker_that_starts_publishes_what_waited_for_the_broker(proxy):
    production, staff = production_with_timecards(ENGAGEMENTS)
    with running_worker(proxy.url, env={"DISPATCH_GRACE_SECONDS": "0"}) as worker:
        worker.kill()  # no worker, and then no broker either
        proxy.close()
        run_id = start_while_away(staff, production)

        proxy.open()
        # The broker is back, but the run's message never reached it.
        assert worker.message_count() == 0 and finished(run_id) is None
        worker.restart()
        status = worker.wait_for(
            lambda: finished(run_id),
            timeout=BACK_SECONDS,
            what="the starting worker's sweep to publish the run",
        )

    assert status == "computed"
    assert (statuses(run_id)["running"], statuses(run_id)["computed"]) == (1, 1)
    assert CompensationRun.objects.get(pk=run_id).line_count == len(lines(run_id)) > 0


def test_a_webhook_made_while_the_broker_is_away_is_sent_once_it_is_back(proxy):
    seed_registry()
    receiver = Receiver([204])
    try:
        engagement = EngagementFactory()
        key, _ = payroll_key(engagement.production.studio, name="acme")
        WebhookEndpoint.objects.create(payroll_key=key, url=receiver.url)
        with running_worker(proxy.url, env={"DISPATCH_GRACE_SECONDS": "0"}) as worker:
            worker.kill()
            proxy.close()
            began = time.monotonic()
            make_payable(production=engagement.production, person=engagement.person)
            assert time.monotonic() - began < PROMPT_SECONDS
            delivery = WebhookDelivery.objects.get()
            assert not delivery.attempts.exists()

            proxy.open()
            worker.restart()
            worker.wait_for(WebhookAttempt.objects.exists, what="the webhook to be sent")
            worker.wait_for(lambda: worker.message_count() == 0, what="the queue to empty")
        attempt = WebhookAttempt.objects.get()
        assert (attempt.delivery_id, attempt.succeeded) == (delivery.pk, True)
        assert len(receiver.requests) == 1
    finally:
        receiver.close()
