"""Strict parsers for the text callers send: amounts, ids, dates, instants and CSV files.

Python's own parsers are generous in ways no schema of ours promises: `Decimal` takes "1_000",
"1e2", "+1", " 1 " and other scripts' digits ("١.٠٠"), `int` takes "٢١" as 21 (and "²" passes
`str.isdigit()` but not `int`), `date.fromisoformat` takes year 1 and 9999, and an instant
without a time or an offset is read as local midnight. A value reaching the ledger by any path
(the API, the admin, a CSV import, a rate sheet) is read here, by one set of rules, and
anything else is refused with `ParseError`.

Dates and instants are bounded to years 1900 to 2200 (`MIN_YEAR`, `MAX_YEAR`): nothing the
product records (agreements, engagements, consents, payments, reports) lies outside them, and
within them every date and instant converts between time zones and adds a period without
overflowing.

Pure Python, no Django: the pure rules packages (`compensation/rules/`) read rate sheets with it.
"""

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

MIN_YEAR = 1900
MAX_YEAR = 2200
MAX_ID = 2**63 - 1
CSV_FIELD_LIMIT = csv.field_size_limit()  # 131,072 characters, Python's default


class ParseError(ValueError):
    """`field`'s text is not what the schema says; `message` is for people. `row` is the CSV
    line at fault, when there is one."""

    def __init__(self, field: str, message: str, *, row: int | None = None):
        super().__init__(message)
        self.field = field
        self.message = message
        self.row = row


# --- amounts --------------------------------------------------------------------------------


def decimal_pattern(
    *, allow_negative: bool = False, max_digits: int | None = None, decimal_places=None
) -> str:
    """The regular expression (ECMA-262 and Python alike) an amount's text must match: ASCII
    digits, a leading `-` only where negatives are allowed, at most one `.` with digits on both
    sides, no more digits than the column holds. The OpenAPI schema publishes the same text."""
    sign = "-?" if allow_negative else ""
    whole = "+"
    if max_digits is not None:
        whole_digits = max_digits - (decimal_places or 0)
        whole = f"{{1,{max(whole_digits, 1)}}}"
    if decimal_places == 0:
        fraction = ""
    elif decimal_places is None:
        fraction = r"(\.[0-9]+)?"
    else:
        fraction = rf"(\.[0-9]{{1,{decimal_places}}})?"
    if max_digits is not None and max_digits - (decimal_places or 0) <= 0:
        return rf"^{sign}0{fraction}$"
    return rf"^{sign}[0-9]{whole}{fraction}$"


def _describe_decimal(allow_negative, max_digits, decimal_places) -> str:
    sign = ", with '-' before it if negative" if allow_negative else ""
    if decimal_places == 0:
        places = ", a whole number"
    elif decimal_places is None:
        places = ""
    else:
        places = f", at most {decimal_places} digits after the '.'"
    size = "" if max_digits is None else f", under 10^{max_digits - (decimal_places or 0)}"
    return (
        f'A decimal in ASCII digits{sign}{places}{size}, e.g. "1250.00" '
        "(no spaces, '+', exponent or digit separators)."
    )


def parse_decimal(
    text,
    *,
    field: str,
    allow_negative: bool = False,
    max_digits: int | None = None,
    decimal_places: int | None = None,
) -> Decimal:
    """`text` as a Decimal, if it matches `decimal_pattern`; else ParseError."""
    pattern = decimal_pattern(
        allow_negative=allow_negative, max_digits=max_digits, decimal_places=decimal_places
    )
    if not isinstance(text, str) or not re.fullmatch(pattern, text):
        raise ParseError(field, _describe_decimal(allow_negative, max_digits, decimal_places))
    return Decimal(text)


# --- ids ------------------------------------------------------------------------------------

_ID = re.compile(r"[0-9]{1,19}")


def parse_ascii_id(text, *, field: str) -> int:
    """A row's id: ASCII digits only ("٢١" and "²" are not ids), at most 2^63 - 1."""
    if isinstance(text, int) and not isinstance(text, bool):
        text = str(text)
    if not isinstance(text, str) or not _ID.fullmatch(text) or int(text) > MAX_ID:
        raise ParseError(field, "An id is a whole number written in ASCII digits.")
    return int(text)


# --- dates and instants ---------------------------------------------------------------------

_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_INSTANT = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]+))?)?"
    r"(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))"
)


def _in_years(field: str, year: int):
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ParseError(field, f"The year must be from {MIN_YEAR} to {MAX_YEAR}.")


def parse_date(text, *, field: str) -> date:
    """A calendar date, YYYY-MM-DD in ASCII digits, in years MIN_YEAR to MAX_YEAR."""
    match = _DATE.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ParseError(field, "A date is written YYYY-MM-DD.")
    year, month, day = (int(part) for part in match.groups())
    _in_years(field, year)
    try:
        return date(year, month, day)
    except ValueError:
        raise ParseError(field, f"{text} is not a day of the calendar.") from None


def check_date(value: date, *, field: str) -> date:
    """A date already parsed (by a form, a serializer) held to the same years."""
    _in_years(field, value.year)
    return value


def parse_instant(text, *, field: str) -> datetime:
    """An instant, ISO 8601 / RFC 3339: a date, a time and an explicit offset (`Z` or ±HH:MM),
    e.g. 2025-06-21T12:00:00Z. A bare date or a time without an offset is refused: the caller
    must say which moment it means. Returned in UTC; fractions of a second past microseconds
    are dropped."""
    match = _INSTANT.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ParseError(
            field,
            "An instant is a date, a time and an offset, e.g. 2025-06-21T12:00:00Z.",
        )
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    _in_years(field, int(year))
    offset = timedelta(0)
    if not zulu:
        if int(off_h) > 23 or int(off_m) > 59:
            raise ParseError(field, "An offset is from -23:59 to +23:59.")
        offset = timedelta(hours=int(off_h), minutes=int(off_m)) * (-1 if sign == "-" else 1)
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second or 0),
            int((fraction or "0")[:6].ljust(6, "0")),
            tzinfo=timezone(offset),
        )
    except ValueError:
        raise ParseError(field, f"{text} is not a moment of the calendar.") from None
    return moment.astimezone(UTC)


_CLOCK_TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9]))?")
CLOCK_TIME_PATTERN = rf"^{_CLOCK_TIME.pattern}$"


def parse_clock_time(text, *, field: str) -> time:
    """A time of day on a set, HH:MM or HH:MM:SS in ASCII digits, with no offset: a call time
    is the local wall clock's, so "07:00Z" or "07:00+02:00" would claim a zone it does not have."""
    match = _CLOCK_TIME.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ParseError(field, "A time of day is HH:MM or HH:MM:SS, without an offset.")
    hour, minute, second = match.groups()
    return time(int(hour), int(minute), int(second or 0))


def check_instant(value: datetime, *, field: str) -> datetime:
    """An instant already parsed (by a form) held to the same rules: aware, in the years."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ParseError(field, "An instant needs an offset (e.g. Z or +00:00).")
    _in_years(field, value.year)
    return value.astimezone(UTC)


# --- CSV ------------------------------------------------------------------------------------


@dataclass
class CsvTable:
    header: list[str]  # the column names, stripped of surrounding spaces
    rows: list[tuple[int, dict]]  # (line of the file where the row ends, {column: text})


def read_csv(text: str, *, max_rows: int | None = None) -> CsvTable:
    """Every row of a CSV file, or ParseError (field `file`, with the line) for a file the csv
    module cannot read (a value longer than CSV_FIELD_LIMIT characters, a stray quote in strict
    dialects) or that holds a NUL character, which no text column can store. A row holding more
    values than the header has columns keeps the extra ones under the key None, as
    csv.DictReader does; entirely empty lines are skipped. With `max_rows`, a file with more
    rows is refused as soon as one more is read."""
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ParseError("file", f"Line {line} holds a NUL character.", row=line)
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = [(name or "").strip() for name in reader.fieldnames or []]
    except csv.Error as error:
        message = f"The header is not valid CSV: {_csv_problem(error)}."
        raise ParseError("file", message, row=1) from None
    reader.fieldnames = header
    rows = []
    try:
        for raw in reader:
            rows.append((reader.line_num, raw))
            if max_rows is not None and len(rows) > max_rows:
                raise ParseError("file", f"At most {max_rows} rows per file; split the file.")
    except csv.Error as error:
        line = reader.line_num
        message = f"The CSV cannot be read after line {line}: {_csv_problem(error)}."
        raise ParseError("file", message, row=line + 1) from None
    return CsvTable(header=header, rows=rows)


def _csv_problem(error: csv.Error) -> str:
    if "field larger than field limit" in str(error):
        return f"a value is longer than {CSV_FIELD_LIMIT:,} characters"
    return str(error)


# --- JSON -----------------------------------------------------------------------------------

MAX_JSON_DEPTH = 32


def check_json_depth(text: str, *, field: str, limit: int = MAX_JSON_DEPTH):
    """ParseError if `text`'s arrays and objects nest deeper than `limit`, found by scanning
    the text (outside strings) before any parser recurses into it."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                raise ParseError(field, f"Nested more than {limit} levels deep.")
        elif char in "]}":
            depth -= 1
