"""Find values anywhere in the database: every text and JSON column of every table, whatever app
(or none) it belongs to, so that a table added later cannot be missed.

Candidates are selected in SQL (case-insensitive LIKE on the column as text) and confirmed in
Python as whole words, the same test the erasure's scrubber uses. JSON that SQLite stores with
non-ASCII characters escaped is searched in its escaped form too. A full scan reads every table:
it is meant for an erasure (rare) and for tests, not for request paths.
"""

import json
import re
from collections.abc import Collection

from django.db import connection

# Django's names (connection.introspection.get_field_type) for columns that can hold text.
TEXT_TYPES = {"CharField", "TextField", "JSONField", "SlugField", "EmailField", "URLField"}


def _variants(term: str) -> set[str]:
    return {term, json.dumps(term)[1:-1]}


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def text_columns(skip_tables: Collection[str] = ()) -> list[tuple[str, str]]:
    """(table, column) for every text-like column of every table in the database."""
    introspection = connection.introspection
    found = []
    with connection.cursor() as cursor:
        for table in sorted(introspection.table_names(cursor)):
            if table in skip_tables:
                continue
            for column in introspection.get_table_description(cursor, table):
                try:
                    kind = introspection.get_field_type(column.type_code, column)
                except KeyError:
                    kind = "TextField"  # an unknown type is searched rather than skipped
                if kind in TEXT_TYPES:
                    found.append((table, column.name))
    return found


def occurrences(terms: list[str], *, skip_tables: Collection[str] = ()) -> dict[str, int]:
    """{"table.column": rows} where any of `terms` occurs as a whole word."""
    terms = [t for t in terms if t]
    if not terms:
        return {}
    variants = sorted({v for t in terms for v in _variants(t)}, key=len, reverse=True)
    confirm = re.compile(
        r"(?<!\w)(?:" + "|".join(re.escape(v) for v in variants) + r")(?!\w)", re.IGNORECASE
    )
    quote = connection.ops.quote_name
    found = {}
    with connection.cursor() as cursor:
        for table, column in text_columns(skip_tables):
            as_text = f"UPPER(CAST({quote(column)} AS TEXT))"
            where = " OR ".join(f"{as_text} LIKE UPPER(%s) ESCAPE '\\'" for _ in variants)
            cursor.execute(
                f"SELECT CAST({quote(column)} AS TEXT) FROM {quote(table)} WHERE {where}",
                [_like(v) for v in variants],
            )
            rows = sum(1 for (value,) in cursor.fetchall() if value and confirm.search(value))
            if rows:
                found[f"{table}.{column}"] = rows
    return found
