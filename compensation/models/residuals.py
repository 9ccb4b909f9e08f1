"""Residual schedules, exhibitions, writing credits and residual lines (RULES.md §3 Residuals).

- A **residual schedule** is the figures the residual rules multiply (bases, subscriber
  factors, exhibition-year and gross-receipts percentages), loaded by staff for an agreement as
  a rate sheet is: kept as loaded, numbered per (agreement, name), never edited (append-only).
  The schedule in force on a date is the one of the agreement with the latest `effective_from`
  on or before it (the last loaded, among equals).
- An **exhibition** is what the studio reports was exhibited: a work of a production in a market
  and period, with the figures its market's rule needs. **Writing credits** say which writer
  shares in a work, and how. Both are corrected in place, with history; a correction reaches
  the ledger through a rerun, which posts only the differences.
- A residual run is a `CompensationRun` of kind `residuals`; its **residual lines** and what each
  approval posted (`ResidualPosting`) are append-only.
"""

from django.db import models
from django.db.models import F, Q

from compensation.rules.residuals.due import HBSVOD_DUE_RULES
from compensation.rules.residuals.input import CREDITS, MARKETS, TERRITORIES, WORLDWIDE
from core.audit import AuditedManager, history
from core.money import currency_field, money_display, money_field
from ledger.models import Agreement, Engagement, JournalTransaction, Payable, Production

from .pay import CompensationRun, EvidenceTier, LoadedFile


def _choices(values) -> list[tuple[str, str]]:
    return [(v, v.replace("_", " ")) for v in values]


MARKET_CHOICES = [
    ("hbsvod", "high-budget SVOD"),
    *[(m, m.replace("_", " ")) for m in MARKETS if m != "hbsvod"],
]


class ResidualSchedule(LoadedFile):
    """A residual schedule loaded for an agreement, as it was loaded (content and hash), and its
    figures as the residual engine reads them (`figures`, the what-if's `schedule` object)."""

    agreement = models.ForeignKey(
        Agreement, on_delete=models.PROTECT, related_name="residual_schedules"
    )
    name = models.CharField(max_length=120, help_text="e.g. WGA HBSVOD residuals 2026.")
    version = models.PositiveIntegerField(
        help_text="1 for the first schedule of this name, then 2…"
    )
    effective_from = models.DateField(help_text="In force for exhibitions from this date.")
    source = models.TextField(help_text="Where the figures come from: title, date and address.")
    tier = models.CharField(max_length=1, choices=EvidenceTier, default="P")
    currency = currency_field()
    due_rule = models.CharField(
        max_length=30,
        blank=True,
        choices=_choices(HBSVOD_DUE_RULES),
        help_text="The market whose due dates the HBSVOD residual follows (empty: supplemental "
        "markets).",
    )
    figures = models.JSONField(help_text="The schedule's figures as the residual rules read them.")

    class Meta:
        ordering = ["-effective_from", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "name", "version"], name="residual_schedule_version_unique"
            ),
        ]

    def __str__(self):
        return f"{self.name} v{self.version} ({self.agreement.code}, from {self.effective_from})"

    @property
    def label(self) -> str:
        return f"{self.agreement.code}:{self.name} v{self.version}"


class Exhibition(models.Model):
    """One market's exhibition of a work of a production in a period, as the studio reports it."""

    production = models.ForeignKey(Production, on_delete=models.PROTECT, related_name="exhibitions")
    episode = models.CharField(
        max_length=40,
        blank=True,
        help_text="Television: the episode exhibited (as timecards name it).",
    )
    work_type = models.CharField(
        max_length=40, help_text="The schedule's work type of the work, e.g. episode or feature."
    )
    running_minutes = models.PositiveSmallIntegerField()
    market = models.CharField(max_length=30, choices=MARKET_CHOICES)
    territory = models.CharField(
        max_length=10,
        choices=_choices((WORLDWIDE, *TERRITORIES)),
        help_text="High-budget SVOD: worldwide gives a domestic and a foreign line.",
    )
    period_from = models.DateField()
    period_to = models.DateField()
    service = models.CharField(
        max_length=200, blank=True, help_text="High-budget SVOD: the service."
    )
    subscriber_tier = models.CharField(
        max_length=40, blank=True, help_text="High-budget SVOD: the service's subscriber tier."
    )
    exhibition_year = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="High-budget SVOD: 1 for the first year of exhibition."
    )
    views_first_90_days = models.DecimalField(
        max_digits=20, decimal_places=2, null=True, blank=True
    )
    hours_streamed_first_90_days = models.DecimalField(
        max_digits=20, decimal_places=2, null=True, blank=True
    )
    domestic_subscribers = models.BigIntegerField(
        null=True, blank=True, help_text="The service's domestic subscribers as of July 1."
    )
    gross_receipts = money_field(
        null=True, blank=True, help_text="Revenue markets: the distributor's gross receipts."
    )
    broadcast_on = models.DateField(null=True, blank=True)
    first_period = models.BooleanField(
        default=False, help_text="Supplemental markets: the first period in the market."
    )

    objects = AuditedManager()
    history = history()

    class Meta:
        ordering = ["production_id", "period_from", "id"]
        indexes = [models.Index(fields=["production", "period_to"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_to__gte=F("period_from")),
                name="exhibition_period_ordered",
                violation_error_message="The period cannot end before it starts.",
            ),
            models.CheckConstraint(
                condition=Q(gross_receipts__isnull=True) | Q(gross_receipts__gte=0),
                name="exhibition_receipts_not_negative",
            ),
            models.UniqueConstraint(
                fields=["production", "episode", "market", "territory", "service", "period_from"],
                name="exhibition_unique",
                violation_error_message="This exhibition is already reported; correct it instead.",
            ),
        ]

    def __str__(self):
        work = f"{self.production.title} {self.episode}".strip()
        return f"{work}: {self.get_market_display()} {self.period_from} – {self.period_to}"


class WritingCredit(models.Model):
    """A writer's credit on a work of the production (wga.residual.credit_share)."""

    engagement = models.ForeignKey(
        Engagement, on_delete=models.PROTECT, related_name="writing_credits"
    )
    episode = models.CharField(
        max_length=40,
        blank=True,
        help_text="Television: the episode credited; empty: the whole work.",
    )
    credit = models.CharField(max_length=20, choices=_choices(CREDITS))

    objects = AuditedManager()
    history = history()

    class Meta:
        ordering = ["engagement_id", "episode", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "episode"],
                name="writing_credit_once",
                violation_error_message="This writer already has a credit on this work.",
            ),
        ]

    def __str__(self):
        return f"{self.get_credit_display()} {self.engagement.person}"


class ResidualRun(CompensationRun):
    """A run of kind `residuals`, as the admin lists it apart from pay runs."""

    class Meta:
        proxy = True
        verbose_name = "residual run"


class ResidualLine(models.Model):
    """One explained residual line of a run: to a person (their engagement), or to a fund (with
    the engagement of the member it is for, when there is one)."""

    run = models.ForeignKey(
        CompensationRun, on_delete=models.PROTECT, related_name="residual_lines"
    )
    exhibition = models.ForeignKey(Exhibition, on_delete=models.PROTECT, related_name="+")
    engagement = models.ForeignKey(
        Engagement, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    fund = models.CharField(max_length=60, blank=True, help_text="The fund paid, if not a person.")
    rule = models.CharField(max_length=60)
    description = models.CharField(max_length=1000)
    market = models.CharField(max_length=30)
    territory = models.CharField(max_length=10)
    date = models.DateField(help_text="The date the factors were read at.")
    quantity = models.DecimalField(max_digits=20, decimal_places=4)
    unit = models.CharField(max_length=60)
    amount = money_field()
    currency = currency_field()
    due_date = models.DateField()
    due_basis = models.CharField(max_length=200)
    schedule = models.ForeignKey(
        ResidualSchedule, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    tier = models.CharField(max_length=1, blank=True)
    flags = models.JSONField(default=list, blank=True)
    factors = models.JSONField(
        default=list,
        blank=True,
        help_text="The factors multiplied, with schedule, tier and source.",
    )

    class Meta:
        ordering = ["run_id", "exhibition_id", "id"]
        indexes = [models.Index(fields=["run", "engagement"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="residual_line_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(engagement__isnull=False) | ~Q(fund=""), name="residual_line_payee"
            ),
        ]

    def __str__(self):
        return f"{self.rule} {self.date}: {money_display(self.amount, self.currency)}"

    @property
    def payee_kind(self) -> str:
        return "fund" if self.fund else "person"


class ResidualPosting(models.Model):
    """What an approval posted on one residual payable: the difference between the run's total
    for the payable's key (payee, rule, currency, due date) and what earlier runs of the same
    period had posted on it."""

    run = models.ForeignKey(
        CompensationRun, on_delete=models.PROTECT, related_name="residual_postings"
    )
    payable = models.ForeignKey(Payable, on_delete=models.PROTECT, related_name="+")
    amount = money_field(help_text="The change posted (negative: a reduction).")
    currency = currency_field()
    transaction = models.ForeignKey(JournalTransaction, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["run_id", "payable_id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "payable"], name="residual_posting_once"),
        ]

    def __str__(self):
        amount = money_display(self.amount, self.currency)
        return f"Run #{self.run_id} posted {amount} on #{self.payable_id}"
