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
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

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


class ParseErrors(ParseError):
    """Every fault of one input at once, in the order its fields were read. It is a ParseError
    for callers that expect one: `field` is the first fault's, `message` names each one."""

    def __init__(self, errors: Sequence[ParseError]):
        first = errors[0]
        super().__init__(
            first.field, "; ".join(f"{e.field}: {e.message}" for e in errors), row=first.row
        )
        self.errors = list(errors)

    def by_field(self) -> dict[str, list[str]]:
        """Each faulty field's messages."""
        fields: dict[str, list[str]] = {}
        for error in self.errors:
            fields.setdefault(error.field, []).append(error.message)
        return fields


# --- amounts --------------------------------------------------------------------------------


def decimal_pattern(
    *,
    allow_negative: bool = False,
    max_digits: int | None = None,
    decimal_places: int | None = None,
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


def _describe_decimal(
    allow_negative: bool, max_digits: int | None, decimal_places: int | None
) -> str:
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
    text: object,
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


def parse_ascii_id(text: object, *, field: str) -> int:
    """A row's id: ASCII digits only ("٢١" and "²" are not ids), at most 2^63 - 1."""
    if isinstance(text, int) and not isinstance(text, bool):
        text = str(text)
    if not isinstance(text, str) or not _ID.fullmatch(text) or int(text) > MAX_ID:
        raise ParseError(field, "An id is a whole number written in ASCII digits.")
    return int(text)


def parse_json_id(
    value: object, *, field: str, message: str = "An id (a positive whole number)."
) -> int:
    """A row's id in a JSON body: a number, 1 to 2^63 - 1 (not a string, a bool or a float)."""
    if type(value) is not int or not 0 < value <= MAX_ID:
        raise ParseError(field, message)
    return value


# --- dates and instants ---------------------------------------------------------------------

_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_INSTANT = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]+))?)?"
    r"(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))"
)


def _in_years(field: str, year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ParseError(field, f"The year must be from {MIN_YEAR} to {MAX_YEAR}.")


def parse_date(text: object, *, field: str, any_year: bool = False) -> date:
    """A calendar date, YYYY-MM-DD in ASCII digits, in years MIN_YEAR to MAX_YEAR (any year with
    `any_year`: a date that only filters what is read, and is never stored)."""
    match = _DATE.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ParseError(field, "A date is written YYYY-MM-DD.")
    year, month, day = (int(part) for part in match.groups())
    if not any_year:
        _in_years(field, year)
    try:
        return date(year, month, day)
    except ValueError:
        raise ParseError(field, f"{text} is not a day of the calendar.") from None


def check_date(value: date, *, field: str) -> date:
    """A date already parsed (by a form, a serializer) held to the same years."""
    _in_years(field, value.year)
    return value


def parse_instant(text: object, *, field: str) -> datetime:
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


def parse_clock_time(text: object, *, field: str) -> time:
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


def parse_utc_instant(text: object, *, field: str) -> datetime:
    """An instant as the consent check and its what-if scenario take it: ISO 8601 as
    `datetime.fromisoformat` reads it, where a time without an offset is UTC and a date alone
    (YYYY-MM-DD) is the start of that day, UTC. Published this generous (the consent check's
    `on`), so not held to MIN_YEAR and MAX_YEAR: only to years 1-9999 once in UTC. The messages
    name `field`, as the check has always worded them."""
    if not isinstance(text, str):
        raise ParseError(field, f"{field} must be an ISO 8601 date or time.")
    try:
        if len(text) == 10:
            parsed = datetime.combine(date.fromisoformat(text), datetime.min.time())
        else:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ParseError(field, f"{field}: {text!r} is not an ISO 8601 date or time.") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ParseError(field, f"{field}: {text!r} is outside years 1-9999 in UTC.") from None


# --- CSV ------------------------------------------------------------------------------------


@dataclass
class CsvTable:
    header: list[str]  # the column names, stripped of surrounding spaces
    # (line of the file where the row ends, {column: text}); extra values are under None
    rows: list[tuple[int, dict[str, Any]]]


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


def check_json_depth(text: str, *, field: str, limit: int = MAX_JSON_DEPTH) -> None:
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


# --- JSON values ----------------------------------------------------------------------------
# A request body or a scenario file, once decoded: each value is the JSON type the schema says
# (a boolean is `true`, never 1 or "yes"). `message` lets a caller keep the wording it publishes.


def parse_choice(
    value: object, choices: Collection[str], *, field: str, message: str | None = None
) -> str:
    """`value` if it is one of `choices` (strings, matched exactly); else ParseError, by default
    "One of: a, b."."""
    if not isinstance(value, str) or value not in choices:
        raise ParseError(field, message or f"One of: {', '.join(choices)}.")
    return value


def parse_flag(
    value: object, *, field: str, default: bool | None = None, message: str = "true or false."
) -> bool:
    """A JSON boolean. None (null or a missing key) is `default` when one is given."""
    if value is None and default is not None:
        return default
    if not isinstance(value, bool):
        raise ParseError(field, message)
    return value


def parse_list(value: object, *, field: str, message: str = "A list.") -> list[Any]:
    """A JSON array; None (null or a missing key) is the empty list."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ParseError(field, message)
    return value


def parse_object(
    value: object,
    *,
    field: str,
    keys: Collection[str] | None = None,
    message: str = "An object.",
    unknown: Callable[[list[str]], ParseError] | None = None,
) -> dict[str, Any]:
    """A JSON object. With `keys`, a key outside them is refused, so that a misspelt field cannot
    silently change an answer: by default naming the first unknown key under `field`
    ("field.key") with "Unknown field(s): a, b."; `unknown` builds the error instead from the
    unknown keys, sorted."""
    if not isinstance(value, dict):
        raise ParseError(field, message)
    if keys is not None:
        names = sorted(str(key) for key in value if key not in keys)
        if names:
            if unknown is not None:
                raise unknown(names)
            raise ParseError(f"{field}.{names[0]}", f"Unknown field(s): {', '.join(names)}.")
    return value


def parse_whole_number(
    value: object, *, field: str, minimum: int, maximum: int, message: str | None = None
) -> int:
    """A JSON integer (not a boolean, a float or a string of digits) from `minimum` to
    `maximum`; else ParseError, by default "A whole number from m to n."."""
    if type(value) is not int or not minimum <= value <= maximum:
        raise ParseError(field, message or f"A whole number from {minimum} to {maximum}.")
    return value


# A string with more than spaces in it (for parse_string's `pattern`).
NOT_BLANK = re.compile(r"\s*\S")


def parse_string(
    value: object,
    *,
    field: str,
    max_length: int | None = None,
    pattern: re.Pattern[str] | None = None,
    message: str | None = None,
    blank: bool = False,
) -> str:
    """A non-empty JSON string (an empty one too when `blank`), of at most `max_length`
    characters (spaces count) and matching `pattern` (`re.match`; NOT_BLANK: more than spaces)
    where they are given; else ParseError, by default "A string of 1 to n characters."."""
    if (
        not isinstance(value, str)
        or (not value and not blank)
        or (max_length is not None and len(value) > max_length)
        or (pattern is not None and not pattern.match(value))
    ):
        default = (
            "A non-empty string."
            if max_length is None
            else f"A string of 1 to {max_length} characters."
        )
        raise ParseError(field, message or default)
    return value
