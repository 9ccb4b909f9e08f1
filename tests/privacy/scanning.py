"""A brute-force search of the whole database, independent of the code under test: every column
of every row of every table the database has, as text, for any of the given values."""

import json
from collections import Counter

from django.db import connection


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (bytes, memoryview)):
        return bytes(value).decode("utf-8", "ignore")
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def places_holding(values) -> dict[str, int]:
    """{"table.column": rows} where any of `values` occurs, case-insensitively."""
    needles = {v.lower() for v in values} | {json.dumps(v)[1:-1].lower() for v in values}
    found = Counter()
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {quote(table)}")
            columns = [d[0] for d in cursor.description]
            for record in cursor.fetchall():
                for column, value in zip(columns, record, strict=True):
                    text = _text(value).lower()
                    if any(needle in text for needle in needles):
                        found[f"{table}.{column}"] += 1
    return dict(found)


def snapshot() -> dict[str, list]:
    """Every row of every table, as text: equal snapshots mean nothing was written."""
    tables = {}
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {quote(table)}")
            tables[table] = sorted(tuple(_text(v) for v in record) for record in cursor.fetchall())
    return tables
