"""Webhooks to payroll clients, following Standard Webhooks.

Each message carries `webhook-id`, `webhook-timestamp` and `webhook-signature` headers; the
signature is `v1,<base64 HMAC-SHA256>` over `"{id}.{timestamp}.{body}"`, keyed with the
endpoint's secret (`whsec_<base64>`). Payloads are thin (ids only): the receiver fetches the
details through the authenticated API. Deliveries and every attempt are recorded; a Celery task
sends them with exponential backoff.

A delivery with no attempt is work waiting for the task queue (ledger/dispatch.py): the dispatch
sweep publishes it again if its first publish never reached the broker. The rows are append-only,
so the waiting is read from the attempts, not written on the delivery.
"""

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from datetime import datetime, timedelta

from django.db import models, transaction
from django.utils import timezone

from . import dispatch
from .audit import AuditedManager, history

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def verify(secret: str, headers: dict, body: bytes, *, now: int, tolerance: int = 300) -> bool:
    """The receiver's check (used by our tests, and documented for integrators)."""
    timestamp = int(headers["webhook-timestamp"])
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, headers["webhook-id"], timestamp, body).split(",", 1)[1]
    return any(
        hmac.compare_digest(expected, candidate.split(",", 1)[1])
        for candidate in headers["webhook-signature"].split()
        if candidate.startswith("v1,")
    )


class WebhookEndpoint(models.Model):
    """Where a payroll client wants to hear about new payables of its studios."""

    payroll_key = models.ForeignKey(
        "ledger.PayrollKey", on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=100, default=new_secret)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AuditedManager()
    history = history()

    def __str__(self):
        return self.url


class WebhookDelivery(models.Model):
    """One message to one endpoint. Its attempts say whether and when it got through."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.PROTECT, related_name="+")
    message_id = models.CharField(max_length=64, unique=True)
    event_type = models.CharField(max_length=60)
    payload = models.JSONField()
    created_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "webhook deliveries"

    def __str__(self):
        return f"{self.event_type} {self.message_id}"

    @property
    def delivered(self) -> bool:
        return self.attempts.filter(succeeded=True).exists()


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.PROTECT, related_name="attempts")
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    succeeded = models.BooleanField()

    class Meta:
        ordering = ["attempted_at", "id"]

    def __str__(self):
        return f"{self.delivery_id} {self.status_code or self.error}"


def notify_payables_created(*, studio_id: int, payable_ids: list[int]):
    """Record one delivery per interested endpoint and send them once the transaction commits."""
    endpoints = WebhookEndpoint.objects.filter(
        is_active=True, payroll_key__revoked=False, payroll_key__studios__id=studio_id
    ).distinct()
    deliveries = [
        WebhookDelivery.objects.create(
            endpoint=endpoint,
            message_id=f"msg_{uuid.uuid4().hex}",
            event_type="payables.created",
            payload={
                "type": "payables.created",
                "timestamp": timezone.now().isoformat(),
                "data": {"studio": studio_id, "payables": payable_ids},
            },
            created_at=timezone.now(),
        )
        for endpoint in endpoints
    ]
    if deliveries:
        from .tasks import deliver_webhook

        ids = [d.pk for d in deliveries]
        for pk in ids:
            # A broker that is away leaves the delivery waiting for the sweep; robust: whatever
            # else goes wrong is logged, never turned into a failed (committed) write.
            transaction.on_commit(
                lambda pk=pk: dispatch.publish(deliver_webhook, args=(pk,)), robust=True
            )


# A delivery older than the span of its retries (about 3 days) is not sent late: its news is
# stale, and payroll has read the payables since.
WAITING_AT_MOST = timedelta(days=3)


def deliveries_publish_waiting(cutoff: datetime) -> int:
    """Publish again the deliveries made before `cutoff` (and within WAITING_AT_MOST) that no
    attempt was made of, to active endpoints. A copy of one already on the queue is harmless:
    `deliver_webhook` sends a delivery once and lets one copy own the retries."""
    from .tasks import deliver_webhook

    waiting = (
        WebhookDelivery.objects.filter(
            created_at__lt=cutoff,
            created_at__gte=cutoff - WAITING_AT_MOST,
            attempts__isnull=True,
            endpoint__is_active=True,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return sum(dispatch.publish(deliver_webhook, args=(pk,)) for pk in waiting)


def body_of(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, sort_keys=True, separators=(",", ":")).encode()
