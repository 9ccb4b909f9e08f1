"""Celery tasks of the ledger: thin, idempotent, ids in."""

import random
import urllib.error
import urllib.request

from celery import shared_task
from django.utils import timezone

from . import dispatch
from .audit import acting_as, system_user
from .webhooks import WebhookAttempt, WebhookDelivery, body_of, sign

TIMEOUT_SECONDS = 15
MAX_RETRIES = 10


def backoff_seconds(retries: int) -> int:
    """Exponential with jitter: about 30 s, 1 min, 2 min, … capped at 6 h (≈ 3 days in all)."""
    base = min(30 * 2**retries, 6 * 3600)
    return base + random.randint(0, base // 4)


class DeliveryFailed(Exception):
    pass


@shared_task(bind=True, max_retries=MAX_RETRIES, acks_late=True)
def deliver_webhook(self, delivery_id: int):
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    if delivery.delivered or not delivery.endpoint.is_active:
        return "skipped"
    if not self.request.retries and delivery.attempts.exists():
        # A second copy (the dispatch sweep published it again): the copy that made the first
        # attempt owns the retries.
        return "skipped"
    body = body_of(delivery)
    timestamp = int(timezone.now().timestamp())
    request = urllib.request.Request(
        delivery.endpoint.url,
        data=body,
        method="POST",
        headers={
            "content-type": "application/json",
            "webhook-id": delivery.message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(
                delivery.endpoint.secret, delivery.message_id, timestamp, body
            ),
        },
    )
    status, error = None, ""
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status, error = exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        error = str(exc)[:500]
    succeeded = status is not None and 200 <= status < 300
    WebhookAttempt.objects.create(
        delivery=delivery,
        attempted_at=timezone.now(),
        status_code=status,
        error=error,
        succeeded=succeeded,
    )
    if succeeded:
        return "delivered"
    if status == 410:  # the receiver says: gone, stop sending
        endpoint = delivery.endpoint
        endpoint.is_active = False
        endpoint.save()
        return "endpoint disabled"
    raise self.retry(
        exc=DeliveryFailed(error or f"HTTP {status}"),
        countdown=backoff_seconds(self.request.retries),
    )


@shared_task(acks_late=True)
def dispatch_waiting(grace_seconds: float | None = None) -> dict[str, int]:
    """Publish again the work still waiting for the broker (ledger/dispatch.py)."""
    with acting_as(system_user()):
        return dispatch.sweep(grace_seconds)
