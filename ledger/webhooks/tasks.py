"""The task that sends webhook deliveries: thin, idempotent, ids in.

Its name is the one it was first published under, kept so that messages already queued (and
their retries) find it."""

import random

from celery import shared_task

from ledger.webhooks import services
from ledger.webhooks.services import DELIVER_TASK

MAX_RETRIES = 10


def backoff_seconds(retries: int) -> int:
    """Exponential with jitter: about 30 s, 1 min, 2 min, … capped at 6 h (≈ 3 days in all)."""
    base = min(30 * 2**retries, 6 * 3600)
    return base + random.randint(0, base // 4)


class DeliveryFailed(Exception):
    pass


@shared_task(name=DELIVER_TASK, bind=True, max_retries=MAX_RETRIES, acks_late=True)
def deliver_webhook(self, delivery_id: int):
    """Send one webhook delivery (services.webhook_deliver); retry a failure with backoff."""
    result = services.webhook_deliver(delivery_id=delivery_id, is_retry=bool(self.request.retries))
    if result.retry:
        raise self.retry(
            exc=DeliveryFailed(result.error), countdown=backoff_seconds(self.request.retries)
        )
    return result.outcome
