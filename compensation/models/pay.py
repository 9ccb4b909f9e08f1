"""Rate sheets, work records and compensation runs (RULES.md §3).

- A **rate sheet** is an official schedule staff load for an agreement. Its values supersede the
  shipped parameters (`compensation/rules/parameters/`) for the dates they cover; sheets are kept
  and numbered per (agreement, name), never edited (append-only, migration 0002).
- **Work records** are what the rules compute from: timecards per engagement and day, WGA
  deliveries, and the compensation terms of an engagement that the registry does not hold (the
  IATSE wage classification, an AI kit rental). They are corrected in place, with history; a
  correction reaches the ledger through a rerun, which posts only the differences.
- A **run** computes the lines of a production and period. Its lines, and what each approval
  posted (`RunPosting`), are append-only: a posted line is never edited, a rerun writes new ones.
- A **hold resolution** is staff's decision on an AI use recorded as a violation: its lines are
  held (not payable) until one exists.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from compensation.rules.params import TIERS
from consent.models import AiUse
from core.audit import AuditedManager, history
from core.money import currency_field, money_display, money_field
from ledger.models import Agreement, Engagement, JournalTransaction, Payable, Production


def parameter_value_field() -> models.DecimalField:
    """A rate parameter's value as a parameter file or rate sheet gives it: 18 digits, 6 of them
    after the point (rates and amounts alike)."""
    return models.DecimalField(max_digits=18, decimal_places=6)


EvidenceTier = [(t, t) for t in TIERS]  # RULES.md: P primary, S secondary, T unverified, D derived


class LoadedFile(models.Model):
    """A file staff loaded (a rate sheet, a residual schedule), kept as it was loaded: its name,
    format, content and hash, who loaded it and when."""

    class Format(models.TextChoices):
        CSV = "csv"
        JSON = "json"

    file_name = models.CharField(max_length=200)
    file_format = models.CharField(max_length=4, choices=Format.choices)
    content = models.TextField(help_text="The file as loaded.")
    sha256 = models.CharField(max_length=64)
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    loaded_at = models.DateTimeField()

    class Meta:
        abstract = True


class RateSheet(LoadedFile):
    """An official rate sheet loaded for an agreement, as it was loaded (content and hash)."""

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="rate_sheets")
    name = models.CharField(max_length=120, help_text="e.g. SAG-AFTRA TV/Theatrical rates 2025.")
    version = models.PositiveIntegerField(help_text="1 for the first sheet of this name, then 2…")
    source = models.TextField(help_text="Where the sheet comes from: its title, date and address.")
    tier = models.CharField(
        max_length=1,
        choices=EvidenceTier,
        default="P",
        help_text="Evidence tier of its values unless a row says otherwise (P: official).",
    )

    class Meta:
        ordering = ["-loaded_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "name", "version"], name="rate_sheet_version_unique"
            ),
        ]

    def __str__(self):
        return f"{self.name} v{self.version} ({self.agreement.code})"

    @property
    def label(self) -> str:
        return f"{self.agreement.code}:{self.name} v{self.version}"


class RateSheetValue(models.Model):
    """One value of a loaded sheet, in force from `effective_from` to `until` (inclusive)."""

    sheet = models.ForeignKey(RateSheet, on_delete=models.PROTECT, related_name="values")
    parameter = models.CharField(max_length=120)
    effective_from = models.DateField()
    until = models.DateField(null=True, blank=True)
    value = parameter_value_field()
    unit = models.CharField(max_length=30, blank=True)
    tier = models.CharField(max_length=1, choices=EvidenceTier)
    source = models.TextField()
    rule = models.CharField(max_length=60, blank=True)

    class Meta:
        ordering = ["sheet_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["sheet", "parameter", "effective_from"], name="rate_sheet_value_unique"
            ),
            models.CheckConstraint(
                condition=Q(until__isnull=True) | Q(until__gte=F("effective_from")),
                name="rate_sheet_value_dates_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.parameter} = {self.value} from {self.effective_from}"


class EngagementTerms(models.Model):
    """Compensation terms of an engagement beyond its negotiated rate."""

    class KitRentalPer(models.TextChoices):
        DAY = "day", "per work day"
        FLAT = "flat", "flat, once"

    engagement = models.OneToOneField(
        Engagement, on_delete=models.PROTECT, related_name="compensation_terms"
    )
    wage_classification = models.CharField(
        max_length=40,
        blank=True,
        help_text="IATSE: the classification code of the local's loaded wage schedule.",
    )
    kit_rental_amount = money_field(
        null=True, blank=True, help_text="iatse.pay.kit_rental_ai: the agreed rental of own AI."
    )
    kit_rental_per = models.CharField(max_length=4, choices=KitRentalPer.choices, blank=True)

    objects = AuditedManager()
    history = history()

    class Meta:
        verbose_name_plural = "engagement terms"
        constraints = [
            models.CheckConstraint(
                condition=(Q(kit_rental_amount__isnull=True) & Q(kit_rental_per=""))
                | (Q(kit_rental_amount__gt=0) & Q(kit_rental_per__in=["day", "flat"])),
                name="terms_kit_rental_complete",
                violation_error_message="A kit rental needs an amount above zero and day or flat.",
            ),
        ]

    def __str__(self):
        return f"Terms of {self.engagement}"


class Timecard(models.Model):
    """One engagement's work day: times are the production's local times; a dismissal or meal
    earlier than the call is on the next day."""

    engagement = models.ForeignKey(Engagement, on_delete=models.PROTECT, related_name="timecards")
    date = models.DateField()
    first_call = models.TimeField()
    dismissal = models.TimeField()
    meals = models.JSONField(
        default=list, blank=True, help_text='Meal periods, [["13:00", "13:30"], …].'
    )
    rest_start = models.TimeField(
        null=True,
        blank=True,
        help_text="When the rest before this day began, on the previous day (if that day has "
        "no timecard here).",
    )
    episode = models.CharField(max_length=40, blank=True, help_text="Television: the episode.")
    elapsed_hours = models.DecimalField(
        max_digits=4, decimal_places=1, editable=False, help_text="Call to dismissal, in tenths."
    )
    work_hours = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        editable=False,
        help_text="Call to dismissal less meals, in tenths (rounded up).",
    )

    objects = AuditedManager()
    history = history()

    class Meta:
        ordering = ["engagement_id", "date"]
        constraints = [
            models.UniqueConstraint(fields=["engagement", "date"], name="timecard_per_day"),
        ]

    def __str__(self):
        return f"{self.engagement} on {self.date}"


class WgaDelivery(models.Model):
    """A writer's delivery of literary material, and whether the company handed over material it
    generated with AI (wga.pay.first_writer)."""

    engagement = models.ForeignKey(Engagement, on_delete=models.PROTECT, related_name="deliveries")
    work_type = models.CharField(
        max_length=40, help_text="A work type of the schedule of minimums, e.g. screenplay."
    )
    date = models.DateField()
    ai_material_handed_over = models.BooleanField(
        default=False, help_text="The company gave the writer material it generated with AI."
    )
    fee = money_field(
        null=True, blank=True, help_text="The negotiated fee for this delivery, if any."
    )

    objects = AuditedManager()
    history = history()

    class Meta:
        verbose_name = "WGA delivery"
        verbose_name_plural = "WGA deliveries"
        ordering = ["engagement_id", "date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "work_type", "date"], name="delivery_unique"
            ),
            models.CheckConstraint(
                condition=Q(fee__isnull=True) | Q(fee__gte=0), name="delivery_fee_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.work_type} by {self.engagement.person} on {self.date}"


class RunStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    COMPUTED = "computed", "computed (awaiting approval)"
    FAILED = "failed"
    APPROVED = "approved"
    SUPERSEDED = "superseded", "superseded by a later run"


class CompensationRun(models.Model):
    """The computation of what a production owes for a period, and its approval: its pay (work
    records and AI uses) or its residuals (exhibitions in the period)."""

    Status = RunStatus

    class Kind(models.TextChoices):
        PAY = "pay"
        RESIDUALS = "residuals"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PAY)
    production = models.ForeignKey(Production, on_delete=models.PROTECT, related_name="runs")
    period_from = models.DateField()
    period_to = models.DateField()
    due_date = models.DateField(help_text="When payroll is to pay what this run posts.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    rules_version = models.CharField(
        max_length=64, blank=True, help_text="Content hash of the parameters and loaded sheets."
    )
    rate_sheets = models.JSONField(
        default=list, blank=True, help_text="The loaded rate sheets in force for the run."
    )
    exceptions = models.JSONField(
        default=list, blank=True, help_text="What could not be computed, e.g. rate_missing."
    )
    engagements = models.PositiveIntegerField(default=0)
    line_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    dispatched_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the computation reached the task queue; empty while it waits for it.",
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    objects = AuditedManager()
    history = history()

    class Meta:
        verbose_name = "compensation run"
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["production", "kind", "period_from", "period_to"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_to__gte=F("period_from")),
                name="run_period_ordered",
                violation_error_message="The period cannot end before it starts.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=RunStatus.values), name="run_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["pay", "residuals"]), name="run_kind_valid"
            ),
        ]

    def __str__(self):
        what = "Residual run" if self.kind == self.Kind.RESIDUALS else "Run"
        return f"{what} #{self.pk}: {self.production} {self.period_from} – {self.period_to}"


class CompensationLine(models.Model):
    """One explained line of a run: pay (to the person) or a fringe (to a union fund)."""

    class Kind(models.TextChoices):
        PAY = "pay"
        FRINGE = "fringe"

    class Status(models.TextChoices):
        PAYABLE = "payable"
        HELD = "held", "held (AI use recorded as a violation)"
        VOID = "void", "void (held use resolved as not payable)"

    run = models.ForeignKey(CompensationRun, on_delete=models.PROTECT, related_name="lines")
    engagement = models.ForeignKey(Engagement, on_delete=models.PROTECT, related_name="+")
    ai_use = models.ForeignKey(
        AiUse, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=6, choices=Kind.choices, default=Kind.PAY)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PAYABLE)
    rule = models.CharField(max_length=60)
    description = models.CharField(max_length=500)
    date = models.DateField()
    episode = models.CharField(max_length=40, blank=True)
    quantity = models.DecimalField(max_digits=14, decimal_places=4)
    unit = models.CharField(max_length=20)
    rate = parameter_value_field()
    amount = money_field()
    currency = currency_field()
    fund = models.CharField(max_length=60, blank=True, help_text="Fringes: the union fund.")
    tier = models.CharField(max_length=1, blank=True)
    flags = models.JSONField(default=list, blank=True)
    parameters = models.JSONField(
        default=list, blank=True, help_text="The parameter values used, with tier and source."
    )
    covered = models.BooleanField(default=True, help_text="Counts as covered pay for P&H.")

    class Meta:
        verbose_name = "compensation line"
        ordering = ["run_id", "engagement_id", "date", "id"]
        indexes = [models.Index(fields=["run", "engagement"])]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="line_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(kind="pay", fund="") | Q(kind="fringe") & ~Q(fund=""),
                name="line_fund_only_on_fringes",
            ),
        ]

    def __str__(self):
        return f"{self.rule} {self.date}: {money_display(self.amount, self.currency)}"

    @property
    def posting_key(self) -> str:
        """What a posted amount is kept under: a pay rule, or a fringe's fund."""
        return self.fund if self.kind == self.Kind.FRINGE else self.rule


class RunPosting(models.Model):
    """What an approval posted for one engagement and key (pay rule or fund): the difference
    between the run's total and what earlier runs of the same period had posted."""

    run = models.ForeignKey(CompensationRun, on_delete=models.PROTECT, related_name="postings")
    engagement = models.ForeignKey(Engagement, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=6, choices=CompensationLine.Kind.choices)
    key = models.CharField(max_length=60, help_text="The pay rule, or the fringe's fund.")
    amount = money_field(help_text="The change posted (negative: a reduction).")
    currency = currency_field()
    payable = models.ForeignKey(
        Payable, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    transaction = models.ForeignKey(JournalTransaction, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["run_id", "engagement_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "engagement", "kind", "key", "currency"],
                name="run_posting_once",
            ),
        ]

    def __str__(self):
        return (
            f"Run #{self.run_id} posted {money_display(self.amount, self.currency)} for {self.key}"
        )


class RunAcknowledgement(models.Model):
    """Staff's note on one item of a run's review (compensation/review.py) that needs a person's
    attention before approval: an exception, or lines resting on a figure of weak evidence
    (`needs_confirmation`). Kept as written, once per item (append-only)."""

    run = models.ForeignKey(
        CompensationRun, on_delete=models.PROTECT, related_name="acknowledgements"
    )
    key = models.CharField(max_length=200, help_text='The review item, e.g. "confirm:sag.ph:T".')
    note = models.TextField(help_text="Why the item may be approved as it is.")
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField()

    class Meta:
        ordering = ["run_id", "acknowledged_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "key"], name="run_acknowledgement_once"),
            models.CheckConstraint(condition=~Q(note=""), name="run_acknowledgement_note"),
        ]

    def __str__(self):
        return f"Run #{self.run_id}: {self.key} acknowledged"


class HoldResolution(models.Model):
    """Staff's decision on an AI use recorded as a violation, whose lines are held: release them
    for payment (the person is owed for the use) or void them (the use did not happen as
    recorded). Takes effect at the next run of the period."""

    class Decision(models.TextChoices):
        RELEASE = "release", "release for payment"
        VOID = "void", "void: not payable"

    ai_use = models.OneToOneField(AiUse, on_delete=models.PROTECT, related_name="hold_resolution")
    decision = models.CharField(max_length=7, choices=Decision.choices)
    reason = models.TextField()
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField()
    # Not stored: the run started again by runs.hold_resolve_and_rerun, if any, for its answer.
    rerun_id: int | None

    def __str__(self):
        return f"{self.get_decision_display()}: {self.ai_use}"
