"""The erasure's door (migration 0002) opened for an AI use's void as well: its reason is free text
that staff write, and may name the person. Only the reason may change through it."""

import importlib

from django.db import migrations

gate = importlib.import_module("privacy.migrations.0002_erasure_gate")

PERSONAL_COLUMNS = {"consent_aiusevoid": ("reason",)}


def forwards(apps, schema_editor):
    statements = []
    for table, personal in PERSONAL_COLUMNS.items():
        if schema_editor.connection.vendor == "postgresql":
            args = ", ".join(f"'{c}'" for c in personal)
            statements += gate._pg_trigger(table, "privacy_refuse_change_unless_erasure", args)
        else:
            when = gate._sqlite_unchanged(schema_editor, table, personal)
            statements += gate._sqlite_update_trigger(table, when)
    for sql in statements:
        schema_editor.execute(sql, params=None)


def backwards(apps, schema_editor):
    statements = []
    for table in PERSONAL_COLUMNS:
        if schema_editor.connection.vendor == "postgresql":
            statements += gate._pg_trigger(table, "ledger_refuse_change")
        else:
            statements += gate._sqlite_update_trigger(table)
    for sql in statements:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0002_erasure_gate"),
        ("consent", "0005_ai_use_void"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
