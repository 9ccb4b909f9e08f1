"""The migration operation that makes tables append-only in the database itself: UPDATE and
DELETE (and TRUNCATE on PostgreSQL) are refused by triggers, on PostgreSQL with the journal's
`ledger_refuse_change()` (ledger migration 0006), on SQLite with RAISE(ABORT). Used by every
app's migration for the records it relies upon."""

from django.db import migrations

# Every table whose rows the database refuses to update or delete: the journal's (migration
# 0006), and those the migrations of ledger, consent, compensation, reports and privacy pass to
# append_only(). The admin offers no delete for their rows (ledger.registry.admin.ScopedAdminMixin).
# tests/security/test_no_500.py holds this list to the triggers the database really has.
APPEND_ONLY_TABLES = frozenset(
    {
        "ledger_account",
        "ledger_journaltransaction",
        "ledger_posting",
        "ledger_payable",
        "ledger_payment",
        "ledger_idempotencyrecord",
        "ledger_checkpoint",
        "ledger_webhookdelivery",
        "ledger_webhookattempt",
        "consent_consent",
        "consent_consentevent",
        "consent_aiuse",
        "consent_aiusevoid",
        "consent_consentsignature",
        "compensation_ratesheet",
        "compensation_ratesheetvalue",
        "compensation_compensationline",
        "compensation_runposting",
        "compensation_holdresolution",
        "compensation_residualschedule",
        "compensation_residualline",
        "compensation_residualposting",
        "compensation_runacknowledgement",
        "reports_report",
        "reports_reportdelivery",
        "reports_receiptdelivery",
        "privacy_erasurerecord",
        "privacy_exportrecord",
    }
)


def is_append_only(model) -> bool:
    """Whether the database refuses to update or delete `model`'s rows."""
    return model._meta.db_table in APPEND_ONLY_TABLES


def _create(vendor: str, table: str) -> list[str]:
    if vendor == "postgresql":
        return [
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();",
            f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_append_only;",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();",
            f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_no_truncate;",
        ]
    return [
        f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} BEGIN "
        f"SELECT RAISE(ABORT, 'append_only: {op} on {table} is refused'); END;"
        for op in ("UPDATE", "DELETE")
    ]


def _drop(vendor: str, table: str) -> list[str]:
    if vendor == "postgresql":
        return [
            f"DROP TRIGGER {table}_append_only ON {table};",
            f"DROP TRIGGER {table}_no_truncate ON {table};",
        ]
    return [f"DROP TRIGGER {table}_no_update;", f"DROP TRIGGER {table}_no_delete;"]


def append_only(*tables: str) -> migrations.RunPython:
    def run(build):
        def apply(apps, schema_editor):
            for table in tables:
                for sql in build(schema_editor.connection.vendor, table):
                    schema_editor.execute(sql, params=None)

        return apply

    return migrations.RunPython(run(_create), run(_drop))


def _recreate_on_sqlite(vendor: str, table: str) -> list[str]:
    if vendor == "postgresql":
        return []  # ALTER TABLE keeps the table, and its triggers, on PostgreSQL
    return [
        sql.replace("CREATE TRIGGER", "CREATE TRIGGER IF NOT EXISTS")
        for sql in _create(vendor, table)
    ]


def append_only_again(*tables: str) -> migrations.RunPython:
    """After a schema change of append-only tables: SQLite applies most changes by building a
    new table and dropping the old one, which drops the old table's triggers; this puts them
    back (and does nothing on PostgreSQL)."""

    def apply(apps, schema_editor):
        for table in tables:
            for sql in _recreate_on_sqlite(schema_editor.connection.vendor, table):
                schema_editor.execute(sql, params=None)

    return migrations.RunPython(apply, migrations.RunPython.noop)
