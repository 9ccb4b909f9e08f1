"""An engagement's agreement must be attached to its production — in the database.

PostgreSQL: a composite foreign key (production_id, agreement_id) → ProductionAgreement, so an
engagement cannot name an unattached agreement and an attachment in use cannot be removed.
SQLite cannot add a foreign key to an existing table, so triggers enforce the same two rules.
"""

from django.db import migrations

PG_UP = """
ALTER TABLE ledger_engagement
  ADD CONSTRAINT engagement_agreement_attached
  FOREIGN KEY (production_id, agreement_id)
  REFERENCES ledger_productionagreement (production_id, agreement_id)
  ON DELETE RESTRICT;
"""
PG_DOWN = "ALTER TABLE ledger_engagement DROP CONSTRAINT engagement_agreement_attached;"

_SQLITE_CHECK = """
  SELECT RAISE(ABORT, 'engagement_agreement_attached: the agreement is not attached to the production')
  WHERE NOT EXISTS (
    SELECT 1 FROM ledger_productionagreement pa
    WHERE pa.production_id = NEW.production_id AND pa.agreement_id = NEW.agreement_id);
"""
SQLITE_UP = [
    f"CREATE TRIGGER engagement_agreement_attached_insert BEFORE INSERT ON ledger_engagement "
    f"BEGIN {_SQLITE_CHECK} END;",
    f"CREATE TRIGGER engagement_agreement_attached_update "
    f"BEFORE UPDATE OF production_id, agreement_id ON ledger_engagement BEGIN {_SQLITE_CHECK} END;",
    """CREATE TRIGGER productionagreement_in_use_delete BEFORE DELETE ON ledger_productionagreement
    BEGIN
      SELECT RAISE(ABORT, 'engagement_agreement_attached: an engagement uses this attachment')
      WHERE EXISTS (SELECT 1 FROM ledger_engagement e
        WHERE e.production_id = OLD.production_id AND e.agreement_id = OLD.agreement_id);
    END;""",
]
SQLITE_DOWN = [
    "DROP TRIGGER engagement_agreement_attached_insert;",
    "DROP TRIGGER engagement_agreement_attached_update;",
    "DROP TRIGGER productionagreement_in_use_delete;",
]


def forwards(apps, schema_editor):
    statements = {"postgresql": [PG_UP], "sqlite": SQLITE_UP}[schema_editor.connection.vendor]
    for sql in statements:
        schema_editor.execute(sql, params=None)


def backwards(apps, schema_editor):
    statements = {"postgresql": [PG_DOWN], "sqlite": SQLITE_DOWN}[schema_editor.connection.vendor]
    for sql in statements:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_seed_guilds_and_agreements")]
    operations = [migrations.RunPython(forwards, backwards)]
