"""Payroll's own tables: the API keys payroll systems call with, and the answers kept for their
Idempotency-Keys."""

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from rest_framework_api_key.models import AbstractAPIKey

from core.api import scopes as api_scopes
from core.audit import history
from ledger.registry.models import Studio


class PayrollKey(AbstractAPIKey):
    """An API key for a payroll system, scoped to the studios it serves. Only its hash is stored;
    the key itself is shown once, when created. Changes are attributed to its owner."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payroll_keys"
    )
    studios = models.ManyToManyField(Studio, related_name="payroll_keys")
    scopes = models.JSONField(
        default=api_scopes.default_scopes,
        validators=[api_scopes.validate_scopes],
        help_text="What the key may do (core.api.scopes); its studios say whose data it reaches.",
    )

    history = history(m2m_fields=[studios])

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "payroll API key"

    def save(self, *args, **kwargs):
        # Keys are made by `create_key`, which skips full_clean(): an unknown or empty scope
        # list is refused here, so that no key is stored that the permission check misreads.
        api_scopes.validate_scopes(self.scopes)
        super().save(*args, **kwargs)

    @property
    def security_actor(self) -> str:
        """How security events name this key: by its public prefix, never its secret."""
        return f"api_key:{self.prefix}"

    def unusable_reason(self, *, now: datetime | None = None) -> str | None:
        """`key_revoked` or `key_expired` for a key that may no longer act or be acted for (its
        webhooks included), None for a usable one. Expired from the instant of its expiry_date."""
        if self.revoked:
            return "key_revoked"
        if self.expiry_date is not None and self.expiry_date <= (now or timezone.now()):
            return "key_expired"
        return None

    @staticmethod
    def usable_q(prefix: str = "", *, now: datetime | None = None) -> Q:
        """The keys (through `prefix`, e.g. "payroll_key__") neither revoked nor expired."""
        now = now or timezone.now()
        return Q(**{f"{prefix}revoked": False}) & (
            Q(**{f"{prefix}expiry_date__isnull": True}) | Q(**{f"{prefix}expiry_date__gt": now})
        )

    def has_scope(self, name: str) -> bool:
        return name in self.scopes


class IdempotencyRecord(models.Model):
    """The first successful response to a client's request under an Idempotency-Key.

    Written in the same database transaction as the posting it answers for, so either both exist
    or neither does. The same key with the same body replays `response_*`; with another body it
    is refused."""

    client = models.CharField(max_length=200)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "key"], name="idempotency_key_unique"),
        ]

    def __str__(self):
        return f"{self.client} {self.key}"
