"""Webhook deliveries and their attempts are records of what was sent and what came back:
append-only, like the journal (same triggers as migration 0006)."""

from django.db import migrations

from core.append_only import append_only


class Migration(migrations.Migration):
    dependencies = [("ledger", "0007_webhooks")]
    operations = [
        append_only(
            "ledger_webhookdelivery",
            "ledger_webhookattempt",
        )
    ]
