"""Webhook endpoints of payroll keys, the messages sent to them and every attempt to send one.
Deliveries and attempts are append-only (migration 0008)."""

import base64
import secrets

from django.db import models

from core.audit import AuditedManager, history

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


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
