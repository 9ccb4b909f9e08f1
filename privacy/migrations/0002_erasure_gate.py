"""The narrow, recorded door through which an erasure pseudonymizes append-only tables, and the
privacy records themselves made append-only.

The append-only trigger of each table below is replaced by one that still refuses DELETE (and,
untouched, TRUNCATE), and refuses UPDATE unless (a) a `privacy_erasuregate` row exists — the
erasure inserts it inside its own transaction and deletes it before commit, so no other
connection can see it — (b) on PostgreSQL, the transaction-local setting `guild_ledger.erasure`
is 'on', and (c) every column that changes is one of the table's personal columns listed here.
On PostgreSQL (c) compares the old and new rows as JSON without those columns, so a column added
later can never change through this door; on SQLite it compares each other column one by one,
as they are when this migration runs.

The journal (transactions, postings, accounts, payments) is not here: nothing personal may change
there, and its descriptions are inside the hash chain.
"""

from django.db import migrations

from core.append_only import append_only

# table -> the columns an erasure may change (privacy.holdings says how).
PERSONAL_COLUMNS = {
    "consent_consent": (
        "description",
        "scenes",
        "media",
        "territory",
        "signed_by",
        "business_reason",
        "evidence",
        "evidence_name",
    ),
    "consent_consentevent": ("reason",),
    "consent_aiuse": ("description", "scenes", "reasons"),
    "compensation_compensationline": ("description",),
    "compensation_holdresolution": ("reason",),
    "ledger_payable": ("description",),
    "reports_report": ("content", "sha256"),
    "reports_receiptdelivery": ("email",),
}

PG_FUNCTION = r"""
CREATE OR REPLACE FUNCTION privacy_refuse_change_unless_erasure() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE'
     AND current_setting('guild_ledger.erasure', true) = 'on'
     AND EXISTS (SELECT 1 FROM privacy_erasuregate)
     AND (to_jsonb(NEW) - TG_ARGV) = (to_jsonb(OLD) - TG_ARGV) THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'append_only: % on % is refused; correct with a reversing transaction',
    TG_OP, TG_TABLE_NAME USING ERRCODE = '23514';
END $$;
"""


def _pg_trigger(table: str, function: str, args: str = "") -> list[str]:
    return [
        f"DROP TRIGGER {table}_append_only ON {table};",
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {function}({args});",
        f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_append_only;",
    ]


def _sqlite_update_trigger(table: str, when: str = "") -> list[str]:
    return [
        f"DROP TRIGGER {table}_no_update;",
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} {when} BEGIN "
        f"SELECT RAISE(ABORT, 'append_only: UPDATE on {table} is refused'); END;",
    ]


def _sqlite_unchanged(schema_editor, table: str, personal) -> str:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        columns = [c.name for c in connection.introspection.get_table_description(cursor, table)]
    quote = connection.ops.quote_name
    same = " AND ".join(
        f"NEW.{quote(c)} IS OLD.{quote(c)}" for c in columns if c not in personal
    )
    return f"WHEN NOT (EXISTS (SELECT 1 FROM privacy_erasuregate) AND {same})"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        statements = [PG_FUNCTION]
        for table, personal in PERSONAL_COLUMNS.items():
            args = ", ".join(f"'{c}'" for c in personal)
            statements += _pg_trigger(table, "privacy_refuse_change_unless_erasure", args)
    else:
        statements = []
        for table, personal in PERSONAL_COLUMNS.items():
            when = _sqlite_unchanged(schema_editor, table, personal)
            statements += _sqlite_update_trigger(table, when)
    for sql in statements:
        schema_editor.execute(sql, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        statements = []
        for table in PERSONAL_COLUMNS:
            statements += _pg_trigger(table, "ledger_refuse_change")
        statements.append("DROP FUNCTION privacy_refuse_change_unless_erasure();")
    else:
        statements = []
        for table in PERSONAL_COLUMNS:
            statements += _sqlite_update_trigger(table)
    for sql in statements:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0001_initial"),
        ("ledger", "0009_journal_adjustment_kind"),
        ("consent", "0003_report_fields"),
        ("compensation", "0002_append_only"),
        ("reports", "0004_consent_receipt_proxy"),
    ]
    operations = [
        migrations.RunPython(forwards, backwards),
        append_only("privacy_erasurerecord", "privacy_exportrecord"),
    ]
