"""A stored report is what a guild or a studio was told on a date, and a delivery log says who was
sent what: append-only in the database itself, with the journal's triggers (ledger 0006)."""

from django.db import migrations

from core.append_only import append_only


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial"), ("ledger", "0006_journal_triggers")]
    operations = [
        append_only("reports_report", "reports_reportdelivery", "reports_receiptdelivery")
    ]
