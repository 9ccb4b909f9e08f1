"""A real Celery worker on a real broker (RabbitMQ) delivers a webhook for a committed payable.

The worker runs as a separate process against the same PostgreSQL test database; the test
process publishes through the broker instead of running tasks eagerly (tests/celery_worker.py,
the `rabbitmq_worker` fixture of tests/conftest.py)."""

import pytest

from ledger.webhooks.services import WebhookAttempt, WebhookEndpoint
from tests.factories import EngagementFactory, payroll_key
from tests.helpers import make_payable
from tests.ledger.test_webhooks import Receiver

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_worker_delivers_the_webhook_of_a_committed_payable(rabbitmq_worker):
    receiver = Receiver([204])
    try:
        engagement = EngagementFactory()
        key, _ = payroll_key(engagement.production.studio, name="acme")
        WebhookEndpoint.objects.create(payroll_key=key, url=receiver.url)

        # Commits; on commit the task is published to the broker.
        make_payable(production=engagement.production, person=engagement.person)

        rabbitmq_worker.wait_for(WebhookAttempt.objects.exists, what="the webhook attempt")
        attempt = WebhookAttempt.objects.get()
        assert attempt.succeeded and attempt.status_code == 204
        assert len(receiver.requests) == 1
    finally:
        receiver.close()
