"""The journal in the database itself: append-only, and balanced.

On both PostgreSQL and SQLite:
- UPDATE and DELETE on journal tables are refused (and TRUNCATE on PostgreSQL; SQLite has none,
  and its `DELETE FROM t` fires the DELETE trigger). On PostgreSQL the triggers are ENABLE ALWAYS,
  so they fire under `session_replication_role = replica` too.
- A posting whose transaction row already exists is refused: a written transaction is sealed.
- A transaction row is refused unless its postings (inserted first, with a deferred foreign key)
  number at least two and sum to zero per currency.
On PostgreSQL, a deferred constraint trigger checks the balance again at commit.

TRUNCATE is allowed only to a superuser who has set `guild_ledger.maintenance = 'on'` in the
session — a superuser can disable triggers anyway; this lets the test suite reset its database.
"""

from django.db import migrations

APPEND_ONLY = [
    "ledger_account",
    "ledger_journaltransaction",
    "ledger_posting",
    "ledger_payable",
    "ledger_payment",
    "ledger_idempotencyrecord",
]

PG_FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE'
     AND current_setting('guild_ledger.maintenance', true) = 'on'
     AND (SELECT rolsuper FROM pg_roles WHERE rolname = session_user) THEN
    RETURN NULL;
  END IF;
  RAISE EXCEPTION 'append_only: % on % is refused; correct with a reversing transaction',
    TG_OP, TG_TABLE_NAME USING ERRCODE = '23514';
END $$;

CREATE OR REPLACE FUNCTION ledger_posting_refuse_sealed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM ledger_journaltransaction WHERE id = NEW.transaction_id) THEN
    RAISE EXCEPTION 'journal_sealed: transaction % is already written', NEW.transaction_id
      USING ERRCODE = '23514';
  END IF;
  RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION ledger_transaction_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT count(*) FROM ledger_posting WHERE transaction_id = NEW.id) < 2 THEN
    RAISE EXCEPTION 'journal_unbalanced: transaction % has fewer than two postings', NEW.id
      USING ERRCODE = '23514';
  END IF;
  IF EXISTS (SELECT 1 FROM ledger_posting WHERE transaction_id = NEW.id
             GROUP BY currency HAVING sum(amount) <> 0) THEN
    RAISE EXCEPTION 'journal_unbalanced: postings of transaction % do not sum to zero', NEW.id
      USING ERRCODE = '23514';
  END IF;
  RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION ledger_posting_balanced_at_commit() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM ledger_posting WHERE transaction_id = NEW.transaction_id
             GROUP BY currency HAVING sum(amount) <> 0) THEN
    RAISE EXCEPTION 'journal_unbalanced: postings of transaction % do not sum to zero',
      NEW.transaction_id USING ERRCODE = '23514';
  END IF;
  RETURN NULL;
END $$;
"""


def _pg_up():
    statements = [PG_FUNCTIONS]
    for table in APPEND_ONLY:
        statements += [
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();",
            f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_append_only;",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();",
            f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_no_truncate;",
        ]
    statements += [
        "CREATE TRIGGER ledger_posting_sealed BEFORE INSERT ON ledger_posting "
        "FOR EACH ROW EXECUTE FUNCTION ledger_posting_refuse_sealed();",
        "ALTER TABLE ledger_posting ENABLE ALWAYS TRIGGER ledger_posting_sealed;",
        "CREATE TRIGGER ledger_transaction_balanced BEFORE INSERT ON ledger_journaltransaction "
        "FOR EACH ROW EXECUTE FUNCTION ledger_transaction_balanced();",
        "ALTER TABLE ledger_journaltransaction ENABLE ALWAYS TRIGGER ledger_transaction_balanced;",
        "CREATE CONSTRAINT TRIGGER ledger_posting_balanced AFTER INSERT ON ledger_posting "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
        "EXECUTE FUNCTION ledger_posting_balanced_at_commit();",
        "ALTER TABLE ledger_posting ENABLE ALWAYS TRIGGER ledger_posting_balanced;",
    ]
    return statements


def _pg_down():
    statements = [
        "DROP TRIGGER ledger_posting_balanced ON ledger_posting;",
        "DROP TRIGGER ledger_transaction_balanced ON ledger_journaltransaction;",
        "DROP TRIGGER ledger_posting_sealed ON ledger_posting;",
    ]
    for table in APPEND_ONLY:
        statements += [
            f"DROP TRIGGER {table}_append_only ON {table};",
            f"DROP TRIGGER {table}_no_truncate ON {table};",
        ]
    return statements + [
        "DROP FUNCTION ledger_posting_balanced_at_commit();",
        "DROP FUNCTION ledger_transaction_balanced();",
        "DROP FUNCTION ledger_posting_refuse_sealed();",
        "DROP FUNCTION ledger_refuse_change();",
    ]


def _sqlite_up():
    statements = []
    for table in APPEND_ONLY:
        for op in ("UPDATE", "DELETE"):
            statements.append(
                f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} BEGIN "
                f"SELECT RAISE(ABORT, 'append_only: {op} on {table} is refused; correct with a "
                f"reversing transaction'); END;"
            )
    # SQLite keeps decimals as numbers of floating type: compare sums rounded to the cent.
    statements += [
        "CREATE TRIGGER ledger_posting_sealed BEFORE INSERT ON ledger_posting "
        "WHEN EXISTS (SELECT 1 FROM ledger_journaltransaction WHERE id = NEW.transaction_id) "
        "BEGIN SELECT RAISE(ABORT, 'journal_sealed: the transaction is already written'); END;",
        "CREATE TRIGGER ledger_transaction_balanced BEFORE INSERT ON ledger_journaltransaction "
        "WHEN (SELECT count(*) FROM ledger_posting WHERE transaction_id = NEW.id) < 2 "
        "OR EXISTS (SELECT 1 FROM ledger_posting WHERE transaction_id = NEW.id "
        "GROUP BY currency HAVING round(sum(amount), 2) <> 0) "
        "BEGIN SELECT RAISE(ABORT, 'journal_unbalanced: postings do not sum to zero per "
        "currency, or fewer than two'); END;",
    ]
    return statements


def _sqlite_down():
    statements = ["DROP TRIGGER ledger_posting_sealed;", "DROP TRIGGER ledger_transaction_balanced;"]
    for table in APPEND_ONLY:
        statements += [f"DROP TRIGGER {table}_no_update;", f"DROP TRIGGER {table}_no_delete;"]
    return statements


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in {"postgresql": _pg_up, "sqlite": _sqlite_up}[vendor]():
        schema_editor.execute(sql, params=None)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in {"postgresql": _pg_down, "sqlite": _sqlite_down}[vendor]():
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0005_production_episode_minutes_check_null_safe")]
    operations = [migrations.RunPython(forwards, backwards)]
