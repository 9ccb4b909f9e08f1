"""Consents, their events and the AI-use register are evidence: append-only in the database itself,
with the journal's triggers (ledger migration 0006). A change of scope is a new consent that
supersedes the old one; revocation and suspension are events."""

from django.db import migrations

from core.append_only import append_only


class Migration(migrations.Migration):
    dependencies = [("consent", "0001_initial"), ("ledger", "0006_journal_triggers")]
    operations = [
        append_only(
            "consent_consent",
            "consent_consentevent",
            "consent_aiuse",
        )
    ]
