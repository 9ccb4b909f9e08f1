"""Webhooks to payroll clients, following Standard Webhooks.

Each message carries `webhook-id`, `webhook-timestamp` and `webhook-signature` headers; the
signature is `v1,<base64 HMAC-SHA256>` over `"{id}.{timestamp}.{body}"`, keyed with the
endpoint's secret (`whsec_<base64>`). Payloads are thin (ids only): the receiver fetches the
details through the authenticated API. Deliveries and every attempt are recorded; a Celery task
sends them with exponential backoff.

Endpoints are registered and changed through `webhook_endpoint_create` and
`webhook_endpoint_update`, which refuse a URL the server may not send to (ledger.webhooks.transport:
https, public addresses only); `webhook_deliver` checks it again, with the payroll key, before
every attempt. The signing secret is shown once, in the answer that registers the endpoint.

A delivery with no attempt is work waiting for the task queue (core/outbox.py): the dispatch
sweep publishes it again if its first publish never reached the broker. The rows are append-only,
so the waiting is read from the attempts, not written on the delivery.
"""

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from core import outbox
from core.audit import save_audited, system_user
from core.errors import DomainError, Forbidden
from ledger.access import Scope
from ledger.models import PayrollKey
from ledger.payroll.rows import payables_message
from ledger.webhooks import transport as webhook_transport
from ledger.webhooks.models import SECRET_PREFIX, WebhookAttempt, WebhookDelivery, WebhookEndpoint

# The task that sends a delivery (ledger.webhooks.tasks), published by name.
DELIVER_TASK = "ledger.tasks.deliver_webhook"


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def verify(
    secret: str, headers: dict[str, str], body: bytes, *, now: int, tolerance: int = 300
) -> bool:
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


def _url_refusal(url: str) -> DomainError | None:
    try:
        webhook_transport.check_registration(url)
    except webhook_transport.TargetRefused as refusal:
        return DomainError(
            refusal.message, code="webhook_url_refused", fields={"url": refusal.message}
        )
    return None


def webhook_endpoint_create(
    *, actor: Any, scope: Scope, url: str, is_active: bool = True
) -> WebhookEndpoint:
    """Register an endpoint of the calling payroll key: an endpoint belongs to a payroll API key,
    so any other caller is refused (403 `permission_denied`). Refused (`webhook_url_refused`, on
    `url`) unless the URL is https on public addresses (ledger.webhooks.transport); nothing is
    written then."""
    key = scope.payroll_key
    if key is None:
        raise Forbidden("Webhook endpoints belong to a payroll API key; call with one.")
    refusal = _url_refusal(url)
    if refusal is not None:
        raise refusal
    with transaction.atomic():
        return save_audited(
            WebhookEndpoint(payroll_key=key, url=url, is_active=is_active), actor=actor
        )


def webhook_endpoint_update(
    *,
    actor: Any,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    is_active: bool | None = None,
) -> WebhookEndpoint:
    """Change an endpoint's URL or switch it on or off. A new URL, and the URL of an endpoint
    switched back on, are checked as at registration; a refusal writes nothing."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        new_url = endpoint.url if url is None else url
        new_active = endpoint.is_active if is_active is None else is_active
        if (new_url, new_active) == (endpoint.url, endpoint.is_active):
            return endpoint
        if new_url != endpoint.url or (new_active and not endpoint.is_active):
            refusal = _url_refusal(new_url)
            if refusal is not None:
                raise refusal
        endpoint.url, endpoint.is_active = new_url, new_active
        return save_audited(endpoint, actor=actor)


def notify_payables_created(*, studio_id: int, payable_ids: list[int]) -> None:
    """Record one delivery per interested endpoint and send them once the transaction commits:
    each payable in full, as the payables list shows it (ledger.payroll.rows), so that payroll
    can act on the message alone. The endpoints of a revoked or expired key hear nothing."""
    endpoints = WebhookEndpoint.objects.filter(
        PayrollKey.usable_q("payroll_key__"), is_active=True, payroll_key__studios__id=studio_id
    ).distinct()
    if not endpoints.exists():
        return
    payables = payables_message(payable_ids)
    deliveries = [
        WebhookDelivery.objects.create(
            endpoint=endpoint,
            message_id=f"msg_{uuid.uuid4().hex}",
            event_type="payables.created",
            payload={
                "type": "payables.created",
                "timestamp": timezone.now().isoformat(),
                "data": {"studio": studio_id, "payables": payables},
            },
            created_at=timezone.now(),
        )
        for endpoint in endpoints
    ]
    if deliveries:
        ids = [d.pk for d in deliveries]
        for pk in ids:
            # A broker that is away leaves the delivery waiting for the sweep; robust: whatever
            # else goes wrong is logged, never turned into a failed (committed) write.
            transaction.on_commit(_publisher(pk), robust=True)


# A delivery older than the span of its retries (about 3 days) is not sent late: its news is
# stale, and payroll has read the payables since.
WAITING_AT_MOST = timedelta(days=3)


def deliveries_publish_waiting(cutoff: datetime) -> int:
    """Publish again the deliveries made before `cutoff` (and within WAITING_AT_MOST) that no
    attempt was made of, to active endpoints. A copy of one already on the queue is harmless:
    `deliver_webhook` sends a delivery once and lets one copy own the retries."""
    waiting = (
        WebhookDelivery.objects.filter(
            PayrollKey.usable_q("endpoint__payroll_key__"),
            created_at__lt=cutoff,
            created_at__gte=cutoff - WAITING_AT_MOST,
            attempts__isnull=True,
            endpoint__is_active=True,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return sum(outbox.publish(DELIVER_TASK, args=(pk,)) for pk in waiting)


def body_of(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, sort_keys=True, separators=(",", ":")).encode()


DELIVERY_TIMEOUT_SECONDS = 15
# A URL the settings refuse outright is not worth trying again; everything else may be passing.
_FINAL_ERRORS = {"invalid_url", "insecure_url"}


@dataclass(frozen=True)
class DeliveryResult:
    outcome: str  # delivered, skipped, not sent, endpoint disabled, failed
    error: str = ""  # a stable category (ledger.webhooks.transport), never a socket's text
    retry: bool = False


def webhook_deliver(*, delivery_id: int, is_retry: bool) -> DeliveryResult:
    """Sign and send one delivery once, and record the attempt.

    Skipped when already delivered, when its endpoint is off, or when another copy of the task
    owns the retries. The endpoints of a revoked or expired payroll key receive nothing (an
    attempt records why). The URL and the addresses it resolves to are checked on every attempt
    and the request goes to exactly the checked addresses; a redirect is a failed attempt. A
    receiver that answers 410 Gone switches its endpoint off."""
    delivery = WebhookDelivery.objects.select_related("endpoint__payroll_key").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if delivery.delivered or not endpoint.is_active:
        return DeliveryResult("skipped")
    if not is_retry and delivery.attempts.exists():
        # A second copy (the dispatch sweep published it again): the copy that made the first
        # attempt owns the retries.
        return DeliveryResult("skipped")
    unusable = endpoint.payroll_key.unusable_reason()
    if unusable:
        _attempt(delivery, status=None, error=unusable, succeeded=False)
        return DeliveryResult("not sent", error=unusable)
    body = body_of(delivery)
    timestamp = int(timezone.now().timestamp())
    sent = webhook_transport.post(
        endpoint.url,
        body,
        {
            "content-type": "application/json",
            "webhook-id": delivery.message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(endpoint.secret, delivery.message_id, timestamp, body),
        },
        timeout=DELIVERY_TIMEOUT_SECONDS,
    )
    _attempt(delivery, status=sent.status, error=sent.error, succeeded=sent.succeeded)
    if sent.succeeded:
        return DeliveryResult("delivered")
    if sent.status == 410:  # the receiver says: gone, stop sending
        webhook_endpoint_update(actor=system_user(), endpoint=endpoint, is_active=False)
        return DeliveryResult("endpoint disabled", error=sent.error)
    return DeliveryResult("failed", error=sent.error, retry=sent.error not in _FINAL_ERRORS)


def _publisher(pk: int) -> Callable[[], None]:
    """The on-commit callback that publishes delivery `pk` (a function: Django names it in the
    log when it fails)."""

    def publish() -> None:
        outbox.publish(DELIVER_TASK, args=(pk,))

    return publish


def _attempt(delivery: WebhookDelivery, *, status: int | None, error: str, succeeded: bool) -> None:
    WebhookAttempt.objects.create(
        delivery=delivery,
        attempted_at=timezone.now(),
        status_code=status,
        error=error,
        succeeded=succeeded,
    )
