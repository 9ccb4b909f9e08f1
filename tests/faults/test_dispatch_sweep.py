"""The dispatch sweep (core/outbox.py) in-process, tasks run eagerly: what it publishes again
(work still waiting after the grace period), what it leaves (work younger than that, work that
reached the queue), and a second copy of a webhook message that does no second attempt."""

from datetime import date

import pytest
from django.utils import timezone

from compensation import runs
from compensation.models import CompensationRun
from core import outbox
from core.tasks import dispatch_waiting
from ledger.webhooks.services import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from ledger.webhooks.tasks import deliver_webhook
from tests.factories import EngagementFactory, payroll_key, studio_staff
from tests.helpers import make_payable
from tests.ledger.test_webhooks import Receiver

pytestmark = pytest.mark.django_db

HOUR = 3600


@pytest.fixture
def receiver_factory(settings):
    settings.WEBHOOK_ALLOW_INSECURE = True  # the receivers listen on plain http at 127.0.0.1
    made = []
    yield lambda *statuses: made.append(Receiver(statuses)) or made[-1]
    for receiver in made:
        receiver.close()


def webhook_delivery(receiver) -> WebhookDelivery:
    """A delivery made in the test's transaction, which never commits: never published."""
    engagement = EngagementFactory()
    key, _ = payroll_key(engagement.production.studio, name="acme")
    WebhookEndpoint.objects.create(payroll_key=key, url=receiver.url)
    make_payable(production=engagement.production, person=engagement.person)
    return WebhookDelivery.objects.get()


def waiting_run() -> CompensationRun:
    """A run started in the test's transaction, which never commits: its publish never ran."""
    production = EngagementFactory().production
    return runs.run_start(
        actor=studio_staff(production.studio, "maya"),
        production=production,
        period_from=date(2025, 6, 1),
        period_to=date(2025, 6, 30),
        due_date=date(2025, 7, 15),
    )


def test_a_run_still_waiting_after_the_grace_period_is_published_and_computed():
    run = waiting_run()
    assert outbox.sweep(grace_seconds=HOUR) == {
        "compensation_runs": 0,
        "notifications": 0,
        "webhook_deliveries": 0,
    }
    run.refresh_from_db()
    assert (run.status, run.dispatched_at) == ("queued", None)

    assert dispatch_waiting.apply(kwargs={"grace_seconds": 0}).get() == {
        "compensation_runs": 1,
        "notifications": 0,
        "webhook_deliveries": 0,
    }
    run.refresh_from_db()
    assert run.status == "computed"
    assert outbox.sweep(grace_seconds=0)["compensation_runs"] == 0


def test_a_run_that_reached_the_queue_is_not_published_again():
    run = waiting_run()
    run.dispatched_at = timezone.now()  # what the publish after commit notes
    run.save()
    assert outbox.sweep(grace_seconds=0)["compensation_runs"] == 0
    run.refresh_from_db()
    assert run.status == "queued"


def test_a_webhook_never_attempted_is_published_again(receiver_factory):
    receiver = receiver_factory(204)
    delivery = webhook_delivery(receiver)
    assert outbox.sweep(grace_seconds=HOUR)["webhook_deliveries"] == 0

    assert outbox.sweep(grace_seconds=0)["webhook_deliveries"] == 1
    assert delivery.delivered and len(receiver.requests) == 1
    assert outbox.sweep(grace_seconds=0)["webhook_deliveries"] == 0


def test_a_second_copy_of_a_webhook_message_leaves_the_retries_to_the_first(receiver_factory):
    receiver = receiver_factory(204)
    delivery = webhook_delivery(receiver)
    # The first copy's attempt failed; its retry is due later.
    WebhookAttempt.objects.create(
        delivery=delivery,
        attempted_at=timezone.now(),
        status_code=500,
        error="HTTP 500",
        succeeded=False,
    )
    assert deliver_webhook.apply(args=[delivery.pk]).get() == "skipped"  # another copy
    assert receiver.requests == []
    assert deliver_webhook.apply(args=[delivery.pk], retries=1).get() == "delivered"  # the retry
    assert WebhookAttempt.objects.count() == 2 and len(receiver.requests) == 1
