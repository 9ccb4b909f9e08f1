"""Rate sheets, computed lines and what approvals posted are relied upon: append-only in the
database itself, with the journal's triggers (ledger migration 0006). A rerun writes new lines;
a correction of what was posted is an adjustment posting, never an edit."""

from django.db import migrations

from core.append_only import append_only


class Migration(migrations.Migration):
    dependencies = [("compensation", "0001_initial"), ("ledger", "0006_journal_triggers")]
    operations = [
        append_only(
            "compensation_ratesheet",
            "compensation_ratesheetvalue",
            "compensation_compensationline",
            "compensation_runposting",
            "compensation_holdresolution",
        )
    ]
