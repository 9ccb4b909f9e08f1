"""Rate sheets, computed lines and what approvals posted are relied upon: append-only in the
database itself, with the journal's triggers (ledger migration 0006). A rerun writes new lines;
a correction of what was posted is an adjustment posting, never an edit."""

from django.db import migrations

TABLES = [
    "compensation_ratesheet",
    "compensation_ratesheetvalue",
    "compensation_compensationline",
    "compensation_runposting",
    "compensation_holdresolution",
]


def _pg(table):
    return [
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();",
        f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_append_only;",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();",
        f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_no_truncate;",
    ]


def _sqlite(table):
    return [
        f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} BEGIN "
        f"SELECT RAISE(ABORT, 'append_only: {op} on {table} is refused'); END;"
        for op in ("UPDATE", "DELETE")
    ]


def forwards(apps, schema_editor):
    build = {"postgresql": _pg, "sqlite": _sqlite}[schema_editor.connection.vendor]
    for table in TABLES:
        for sql in build(table):
            schema_editor.execute(sql, params=None)


def backwards(apps, schema_editor):
    for table in TABLES:
        if schema_editor.connection.vendor == "postgresql":
            statements = [
                f"DROP TRIGGER {table}_append_only ON {table};",
                f"DROP TRIGGER {table}_no_truncate ON {table};",
            ]
        else:
            statements = [f"DROP TRIGGER {table}_no_update;", f"DROP TRIGGER {table}_no_delete;"]
        for sql in statements:
            schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("compensation", "0001_initial"), ("ledger", "0006_journal_triggers")]
    operations = [migrations.RunPython(forwards, backwards)]
