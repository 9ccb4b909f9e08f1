"""Celery tasks of the ledger: thin, idempotent, ids in."""

import random

from celery import shared_task

from . import dispatch, webhooks
from .audit import acting_as, system_user

MAX_RETRIES = 10


def backoff_seconds(retries: int) -> int:
    """Exponential with jitter: about 30 s, 1 min, 2 min, … capped at 6 h (≈ 3 days in all)."""
    base = min(30 * 2**retries, 6 * 3600)
    return base + random.randint(0, base // 4)


class DeliveryFailed(Exception):
    pass


@shared_task(bind=True, max_retries=MAX_RETRIES, acks_late=True)
def deliver_webhook(self, delivery_id: int):
    """Send one webhook delivery (webhooks.webhook_deliver); retry a failure with backoff."""
    result = webhooks.webhook_deliver(delivery_id=delivery_id, is_retry=bool(self.request.retries))
    if result.retry:
        raise self.retry(
            exc=DeliveryFailed(result.error), countdown=backoff_seconds(self.request.retries)
        )
    return result.outcome


@shared_task(acks_late=True)
def dispatch_waiting(grace_seconds: float | None = None) -> dict[str, int]:
    """Publish again the work still waiting for the broker (ledger/dispatch.py)."""
    with acting_as(system_user()):
        return dispatch.sweep(grace_seconds)
