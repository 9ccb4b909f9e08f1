"""Inserting many rows of one model at once."""

from collections.abc import Sequence

from django.db import connection, models

BATCH = 2000


def insert_rows(model: type[models.Model], rows: Sequence[models.Model]) -> None:
    """Insert `rows` in the caller's transaction: with COPY on PostgreSQL (a run writes hundreds
    of thousands of rows, and per-row parameter binding is most of an INSERT's cost), with
    bulk_create elsewhere. Both go through Django's preparation of each field's value. The rows
    get no primary key back."""
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(rows, batch_size=BATCH)
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    [f.get_db_prep_save(getattr(row, f.attname), connection) for f in fields]
                )
