"""The journal: double-entry, append-only, hash-chained.

A `JournalTransaction` is a balanced set of `Posting`s (debits positive, credits negative; they sum
to zero per currency). Nothing here is ever updated or deleted — the database refuses it with
triggers (migration 0006_journal_triggers) — and a correction is a new transaction that
reverses an old one.

Write order is what lets the database check balance on both engines: the postings of a
transaction are inserted first (their foreign key to the transaction is deferred), then the
transaction row itself, whose insert trigger refuses it unless its postings balance; a posting
whose transaction already exists is refused, so a written transaction can never change.

Each transaction stores `seq` (its position in the chain), the previous transaction's hash and its
own: SHA-256 over a canonical serialization of itself and its postings (`ledger.journal.chain`).

A `Payable` is an obligation to a person (what payroll pays). Its owed, paid and due amounts are
derived from the postings tagged with it, never stored.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.money import currency_field, money_display, money_field


class Account(models.Model):
    """A ledger account: one per studio, production, person, engagement, purpose and currency."""

    class Purpose(models.TextChoices):
        COMPENSATION_EXPENSE = "compensation_expense", "Production compensation expense"
        AI_USE_EXPENSE = "ai_use_expense", "Production AI-use expense"
        FRINGE_EXPENSE = "fringe_expense", "Production fringe expense"
        RESIDUAL_EXPENSE = "residual_expense", "Production residual expense"
        PERSON_PAYABLE = "person_payable", "Payable to a person"
        UNION_FUND_PAYABLE = "union_fund_payable", "Union fund payable"
        PAYROLL_CLEARING = "payroll_clearing", "Payroll clearing"

    key = models.CharField(max_length=200, unique=True, editable=False)
    purpose = models.CharField(max_length=30, choices=Purpose.choices)
    studio = models.ForeignKey("ledger.Studio", on_delete=models.PROTECT, related_name="accounts")
    production = models.ForeignKey(
        "ledger.Production", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    person = models.ForeignKey(
        "ledger.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    engagement = models.ForeignKey(
        "ledger.Engagement", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    fund = models.CharField(max_length=60, blank=True, help_text="For union fund payables.")
    currency = currency_field()

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.key

    @staticmethod
    def key_for(
        *,
        purpose,
        studio_id,
        production_id=None,
        person_id=None,
        engagement_id=None,
        fund="",
        currency,
    ) -> str:
        parts = [f"studio:{studio_id}"]
        for name, value in (
            ("production", production_id),
            ("person", person_id),
            ("engagement", engagement_id),
            ("fund", fund),
        ):
            if value:
                parts.append(f"{name}:{value}")
        return "/".join([*parts, purpose, currency])


class JournalTransaction(models.Model):
    class Kind(models.TextChoices):
        OBLIGATION = "obligation", "Obligation (what is owed)"
        ADJUSTMENT = "adjustment", "Adjustment (a recomputed obligation's difference)"
        PAYMENT = "payment", "Payment confirmed by payroll"
        REVERSAL = "reversal", "Reversal (a correction)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    seq = models.BigIntegerField(unique=True, help_text="Position in the hash chain, from 1.")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    studio = models.ForeignKey(
        "ledger.Studio", on_delete=models.PROTECT, related_name="journal_transactions"
    )
    source_type = models.CharField(max_length=40, help_text="What caused it, e.g. payment.")
    source_id = models.CharField(max_length=64)
    description = models.CharField(max_length=500)
    effective_date = models.DateField()
    created_at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reverses = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_by",
        help_text="The transaction this one reverses; a transaction is reversed at most once.",
    )
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        constraints = [
            models.CheckConstraint(condition=Q(seq__gte=1), name="journal_seq_positive"),
            models.CheckConstraint(
                condition=Q(kind="reversal", reverses__isnull=False)
                | (~Q(kind="reversal") & Q(reverses__isnull=True)),
                name="journal_reversal_names_what_it_reverses",
            ),
        ]

    def __str__(self):
        return f"#{self.seq} {self.kind} {self.description}"


class Posting(models.Model):
    """One leg of a transaction. Positive is a debit, negative a credit."""

    transaction = models.ForeignKey(
        JournalTransaction,
        on_delete=models.PROTECT,
        related_name="postings",
        db_constraint=True,
    )
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="postings")
    payable = models.ForeignKey(
        "ledger.Payable",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="postings",
        help_text="Set on the payable leg (a person's or a fund's) of an obligation, payment or "
        "their reversal.",
    )
    effect = models.CharField(
        max_length=5,
        choices=[("owed", "Changes what is owed"), ("paid", "Changes what is paid")],
        blank=True,
        help_text="On payable legs: whether the leg moves what is owed or what is paid.",
    )
    amount = money_field()
    currency = currency_field()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="posting_amount_nonzero"),
            models.CheckConstraint(
                condition=Q(payable__isnull=True, effect="")
                | Q(payable__isnull=False, effect__in=["owed", "paid"]),
                name="posting_effect_iff_payable",
            ),
        ]
        indexes = [models.Index(fields=["account", "transaction"])]

    def __str__(self):
        return f"{money_display(self.amount, self.currency)} on {self.account_id}"


class Payable(models.Model):
    """An obligation to pay a payee, as payroll sees it: a person, or a union fund (a
    contribution, with the engagement of the member it is for when there is one). Written once,
    with the obligation transaction that creates it; what has been paid and is still due comes
    from postings."""

    studio = models.ForeignKey("ledger.Studio", on_delete=models.PROTECT, related_name="payables")
    production = models.ForeignKey(
        "ledger.Production", on_delete=models.PROTECT, related_name="payables"
    )
    person = models.ForeignKey(
        "ledger.Person",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payables",
        help_text="The person paid; empty when the payee is a fund.",
    )
    fund = models.CharField(
        max_length=60,
        blank=True,
        help_text="The union fund paid; empty when the payee is a person.",
    )
    engagement = models.ForeignKey(
        "ledger.Engagement",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payables",
    )
    agreement = models.ForeignKey(
        "ledger.Agreement", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    rule = models.CharField(max_length=60, help_text="The rule id (RULES.md) behind the amount.")
    description = models.CharField(max_length=500)
    amount = money_field()
    currency = currency_field()
    fringes = models.JSONField(default=list, blank=True, help_text="[{fund, rule, amount}]")
    period_from = models.DateField()
    period_to = models.DateField()
    due_date = models.DateField()
    source_type = models.CharField(max_length=40)
    source_id = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payable_amount_positive"),
            models.CheckConstraint(
                condition=Q(period_to__gte=models.F("period_from")), name="payable_period_ordered"
            ),
            models.UniqueConstraint(
                fields=["source_type", "source_id"], name="payable_source_unique"
            ),
            models.CheckConstraint(
                condition=Q(person__isnull=False, fund="") | Q(person__isnull=True) & ~Q(fund=""),
                name="payable_one_payee",
                violation_error_message="A payable is owed to a person or to a fund, not both.",
            ),
        ]

    def __str__(self):
        return f"{self.description} ({money_display(self.amount, self.currency)})"

    @property
    def payee_kind(self) -> str:
        return "fund" if self.fund else "person"


class Payment(models.Model):
    """A payment that payroll confirmed against a payable. Written once, with its transaction."""

    payable = models.ForeignKey(Payable, on_delete=models.PROTECT, related_name="payments")
    amount = money_field()
    currency = currency_field()
    paid_at = models.DateTimeField()
    payroll_reference = models.CharField(max_length=100)
    client = models.CharField(
        max_length=200, help_text="Who confirmed it: 'key:<api key id>' or 'user:<id>'."
    )
    transaction = models.OneToOneField(
        JournalTransaction, on_delete=models.PROTECT, related_name="payment"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.UniqueConstraint(
                fields=["client", "payroll_reference"], name="payment_reference_unique_per_client"
            ),
        ]

    def __str__(self):
        return f"{money_display(self.amount, self.currency)} ({self.payroll_reference})"


class Checkpoint(models.Model):
    """The installation's signature over the chain's head at one moment: `seq` and the hash of
    the transaction there, signed with the installation's Ed25519 key (core.security.signing)
    over the canonical message of `ledger.journal.checkpoints.checkpoint_message`. Verification
    starts from the latest one whose signature holds instead of from genesis. Append-only in the
    database (migration 0016)."""

    class Reason(models.TextChoices):
        SCHEDULE = "schedule", "Scheduled (hourly)"
        APPROVAL = "approval", "After a run's approval"
        MANUAL = "manual", "By hand"

    seq = models.BigIntegerField(help_text="The chain position signed.")
    head_hash = models.CharField(max_length=64, help_text="The hash of the transaction at seq.")
    created_at = models.DateTimeField()
    key_id = models.CharField(max_length=64, help_text="The signing key's id.")
    signature = models.CharField(max_length=200, help_text="Ed25519 signature, base64url.")
    reason = models.CharField(max_length=20, choices=Reason.choices)

    class Meta:
        ordering = ["-seq", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(seq__gte=1), name="checkpoint_seq_positive"),
            models.UniqueConstraint(fields=["seq", "key_id"], name="checkpoint_seq_key_unique"),
        ]

    def __str__(self):
        return f"checkpoint at #{self.seq}"
