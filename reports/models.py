"""Compliance reports, who receives them, and the production's AI disclosure label.

A report is stored once, as the canonical JSON of what it found and the SHA-256 of that JSON, and
never edited (append-only in the database, migration 0002): what a guild or a studio was told on
a date stays what it was told. Its HTML page, CSV and PDF are rendered from the stored JSON, so
every format says the same thing. A scheduled report is unique per scope and period, so a
schedule that fires twice, or a task that runs twice, stores and sends one report.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce

from consent.models import Consent
from core.audit import AuditedManager, history
from ledger.models import Guild, Production, Studio


class ScopeKind(models.TextChoices):
    PRODUCTION = "production"
    STUDIO = "studio"
    GUILD = "guild"


class Report(models.Model):
    class Origin(models.TextChoices):
        SCHEDULED = "scheduled"
        ON_DEMAND = "on_demand", "on demand"

    scope_kind = models.CharField(max_length=10, choices=ScopeKind.choices)
    scope_key = models.CharField(
        max_length=60, editable=False, help_text="e.g. production:12, studio:3, guild:wga."
    )
    production = models.ForeignKey(
        Production, on_delete=models.PROTECT, null=True, blank=True, related_name="reports"
    )
    studio = models.ForeignKey(
        Studio,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reports",
        help_text="For a production report, the production's studio.",
    )
    guild = models.ForeignKey(
        Guild, on_delete=models.PROTECT, null=True, blank=True, related_name="reports"
    )
    period_from = models.DateField()
    period_to = models.DateField()
    origin = models.CharField(max_length=10, choices=Origin.choices)
    generated_at = models.DateTimeField()
    content = models.TextField(help_text="The report as canonical JSON (sorted keys, no spaces).")
    sha256 = models.CharField(max_length=64, help_text="SHA-256 of the content, hex.")
    counts = models.JSONField(default=dict, help_text="{section: count}, for lists.")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-generated_at", "-id"]
        indexes = [models.Index(fields=["scope_key", "period_to"])]
        constraints = [
            models.UniqueConstraint(
                fields=["scope_key", "period_from", "period_to"],
                condition=Q(origin="scheduled"),
                name="report_scheduled_once_per_scope_and_period",
            ),
            models.CheckConstraint(
                condition=Q(period_to__gte=F("period_from")),
                name="report_period_ordered",
                violation_error_message="The period cannot end before it starts.",
            ),
            models.CheckConstraint(
                condition=Q(scope_kind="production", production__isnull=False)
                | Q(scope_kind="studio", studio__isnull=False, production__isnull=True)
                | Q(scope_kind="guild", guild__isnull=False, studio__isnull=True),
                name="report_scope_named",
            ),
            models.CheckConstraint(
                condition=Q(sha256__regex=r"^[0-9a-f]{64}$"), name="report_sha256_hex"
            ),
        ]

    def __str__(self):
        return f"Compliance report, {self.scope_label}, {self.period_from} to {self.period_to}"

    @property
    def scope_label(self) -> str:
        targets: dict[str, Production | Studio | Guild | None] = {
            ScopeKind.PRODUCTION: self.production,
            ScopeKind.STUDIO: self.studio,
            ScopeKind.GUILD: self.guild,
        }
        return f"{self.scope_kind} {targets[self.scope_kind]}"


class ReportDelivery(models.Model):
    """A report e-mailed to one recipient, once."""

    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="deliveries")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    email = models.EmailField()
    sent_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "report deliveries"
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["report", "user"], name="report_delivered_once"),
        ]

    def __str__(self):
        return f"Report #{self.report_id} to {self.email}"


class Subscription(models.Model):
    """Who receives reports by e-mail: studio staff for a studio (its studio report and the
    weekly report of each of its productions), guild staff for their guild (the monthly guild
    report). Only a user still on that studio's or guild's staff receives anything."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_subscriptions"
    )
    studio = models.ForeignKey(
        Studio, on_delete=models.CASCADE, null=True, blank=True, related_name="subscriptions"
    )
    guild = models.ForeignKey(
        Guild, on_delete=models.CASCADE, null=True, blank=True, related_name="subscriptions"
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AuditedManager()
    history = history()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(studio__isnull=False, guild__isnull=True)
                | Q(studio__isnull=True, guild__isnull=False),
                name="subscription_studio_or_guild",
                violation_error_message="Subscribe to a studio or to a guild.",
            ),
            models.UniqueConstraint(fields=["user", "studio"], name="subscription_once_per_studio"),
            models.UniqueConstraint(fields=["user", "guild"], name="subscription_once_per_guild"),
        ]

    def __str__(self):
        return f"{self.user} receives reports of {self.studio or self.guild}"


class DisclosureLabel(models.Model):
    """Whether the studio publishes the production's AI disclosure label (off by default), and
    the unguessable address it is published at."""

    production = models.OneToOneField(
        Production, on_delete=models.CASCADE, related_name="disclosure_label"
    )
    published = models.BooleanField(default=False)
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    changed_at = models.DateTimeField(auto_now=True)

    objects = AuditedManager()
    history = history()

    def __str__(self):
        state = "published" if self.published else "not published"
        return f"AI disclosure label of {self.production} ({state})"


class ReceiptDelivery(models.Model):
    """A consent receipt e-mailed to the person: which record, to which address, by whom."""

    consent = models.ForeignKey(
        "consent.Consent", on_delete=models.PROTECT, related_name="receipt_deliveries"
    )
    event = models.ForeignKey(
        "consent.ConsentEvent",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="receipt_deliveries",
        help_text="Empty: the receipt of the grant itself.",
    )
    email = models.EmailField()
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    sent_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "receipt deliveries"
        ordering = ["-sent_at", "-id"]

    def __str__(self):
        return f"Receipt of consent #{self.consent_id} to {self.email}"


class ConsentReceipt(Consent):
    """Consents seen from the reporting side: the admin's list of receipts to download or send."""

    class Meta:
        proxy = True
        verbose_name = "consent receipt"


# The production a flag is about, whatever its target: a flag on a consent, an AI use or a line
# is about that record's production.
SUBJECT_PRODUCTION = Coalesce(
    "production_id",
    "consent__production_id",
    "ai_use__production_id",
    "line__run__production_id",
)
FLAG_TARGETS = ("production", "consent", "ai_use", "line")


def _only(target: str) -> Q:
    return Q(**{f"{name}__isnull": name != target for name in FLAG_TARGETS})


class Flag(models.Model):
    """A guild's request that the studio look again at a production, a consent, an AI use or a
    compensation line, with a note saying why. It stays open, on the studio's and the guild's
    dashboards and in every compliance report of its scope, until studio staff of the
    production's studio or the guild's own staff resolve it, saying how."""

    production = models.ForeignKey(
        Production, on_delete=models.PROTECT, null=True, blank=True, related_name="follow_ups"
    )
    consent = models.ForeignKey(
        "consent.Consent",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="follow_ups",
    )
    ai_use = models.ForeignKey(
        "consent.AiUse",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="follow_ups",
        verbose_name="AI use",
    )
    line = models.ForeignKey(
        "compensation.CompensationLine",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="follow_ups",
        verbose_name="compensation line",
    )
    note = models.TextField(help_text="What the studio should look at, and why.")
    guild = models.ForeignKey(Guild, on_delete=models.PROTECT, related_name="follow_ups")
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolution_note = models.TextField(blank=True, help_text="What was done about it.")

    objects = AuditedManager()
    history = history()

    class Meta:
        verbose_name = "flag for follow-up"
        verbose_name_plural = "flags for follow-up"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["guild", "resolved_at"])]
        constraints = [
            models.CheckConstraint(
                condition=_only("production") | _only("consent") | _only("ai_use") | _only("line"),
                name="flag_exactly_one_target",
                violation_error_message=(
                    "Flag exactly one production, consent, AI use or compensation line."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(note=""),
                name="flag_note_set",
                violation_error_message="Say what to follow up.",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True, resolved_by__isnull=True, resolution_note="")
                | (
                    Q(resolved_at__isnull=False, resolved_by__isnull=False) & ~Q(resolution_note="")
                ),
                name="flag_resolution_complete",
                violation_error_message="A resolution names who resolved it, when and how.",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(resolved_at__gte=F("created_at")),
                name="flag_resolved_after_raised",
            ),
        ]

    def __str__(self):
        return f"Flag #{self.pk} on {self.target_label}"

    @property
    def target(self):
        return next(getattr(self, name) for name in FLAG_TARGETS if getattr(self, f"{name}_id"))

    @property
    def target_kind(self) -> str:
        return next(name for name in FLAG_TARGETS if getattr(self, f"{name}_id"))

    @property
    def target_label(self) -> str:
        kind = self.target_kind
        words = {"ai_use": "AI use", "line": "compensation line"}.get(kind, kind)
        return f"{words} #{getattr(self, f'{kind}_id')}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class NotificationPreference(models.Model):
    """How a staff user hears of their open items (reports.notifications): by e-mail at once,
    in a daily digest (the default: a user who never chose gets one) or never, and which groups
    of open items they do not want to hear of at all."""

    class Email(models.TextChoices):
        IMMEDIATELY = "immediately", "Immediately: one message as soon as something new is found"
        DAILY = "daily", "Daily: one digest a day"
        NEVER = "never", "Never: notifications in the admin only"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email = models.CharField(max_length=12, choices=Email.choices, default=Email.DAILY)
    muted = models.JSONField(
        default=list, blank=True, help_text="The open-item groups (their keys) not to notify."
    )

    objects = AuditedManager()
    history = history()

    def __str__(self):
        return f"Notification preference of {self.user}"


class Notification(models.Model):
    """One open item told to one user, once (unique per user and item key): listed on their
    notifications page and, as their preference said when it was made, e-mailed from
    `email_after` on (empty: not to be e-mailed). Its history says who read it and when the
    system e-mailed it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=40, help_text="The open-item group's key.")
    key = models.CharField(max_length=200, help_text="The open item's key.")
    text = models.TextField()
    url = models.CharField(max_length=500, help_text="The admin path where it is resolved.")
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    email_after = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    objects = AuditedManager()
    history = history()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["user", "email_after"],
                condition=Q(emailed_at__isnull=True, email_after__isnull=False),
                name="notification_to_email",
            ),
            models.Index(
                fields=["user"], condition=Q(read_at__isnull=True), name="notification_unread"
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="notification_once_per_item"),
            models.CheckConstraint(
                condition=Q(emailed_at__isnull=True) | Q(email_after__isnull=False),
                name="notification_emailed_when_due",
            ),
        ]

    def __str__(self):
        return f"Notification #{self.pk} to {self.user}: {self.text}"
