"""What the privacy desk did: every export of a person's data and every erasure, as records that
hold no personal data themselves.

Both tables are append-only in the database (migration 0002, the journal's triggers): an erasure
is the record that the data protection officer relied on, and an export is an access log entry.
An `ErasureRecord` says who erased which person, when and why, what was changed (row counts and
column names per table, never values), which stored reports were rewritten (with their hashes
before and after), what the erasure could not change (see `privacy.services`) and the SHA-256 of
the export taken just before, so that what was held can later be proven by whoever kept that
export, without this system keeping it.

`ErasureGate` is the narrow door through which an erasure may change personal columns of
append-only tables: it holds a row only inside an erasure's own database transaction.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from ledger.models import Person


class ErasureRecord(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.OneToOneField(Person, on_delete=models.PROTECT, related_name="erasure")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    erased_at = models.DateTimeField()
    reason = models.TextField(help_text="Why: the request and its legal basis (GDPR Art. 17).")
    pseudonym = models.CharField(
        max_length=40, help_text="The random token that now stands in for the person's names."
    )
    changed = models.JSONField(
        default=dict, help_text='{"app.model": {"rows": n, "fields": [...]}}, live rows.'
    )
    history_changed = models.JSONField(
        default=dict, help_text="The same for history rows (django-simple-history)."
    )
    evidence_files_deleted = models.PositiveIntegerField(default=0)
    reports_rewritten = models.JSONField(
        default=list, help_text="[{report, sha256_before, sha256_after}]"
    )
    retained = models.JSONField(
        default=dict,
        help_text='{"table.column": rows}: personal values the erasure could not change, e.g. '
        "hash-chained journal descriptions.",
    )
    export_sha256 = models.CharField(
        max_length=64, help_text="SHA-256 of the export taken just before the erasure."
    )

    class Meta:
        ordering = ["-erased_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(export_sha256__regex=r"^[0-9a-f]{64}$"),
                name="erasure_export_sha256_hex",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="erasure_reason_set"),
        ]

    def __str__(self):
        return f"Erasure of person #{self.person_id} on {self.erased_at:%Y-%m-%d}"


class ExportRecord(models.Model):
    """One export of a person's data (GDPR Art. 15 and 20): who took it, when, and its digest."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="exports")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    exported_at = models.DateTimeField()
    sha256 = models.CharField(max_length=64, help_text="SHA-256 of the export's canonical JSON.")

    class Meta:
        ordering = ["-exported_at", "-id"]

    def __str__(self):
        return f"Export of person #{self.person_id} on {self.exported_at:%Y-%m-%d}"


class ErasureGate(models.Model):
    """Open (one row) only inside an erasure's transaction; see migration 0002."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    opened_at = models.DateTimeField()

    def __str__(self):
        return f"Erasure gate for person #{self.person_id}"
