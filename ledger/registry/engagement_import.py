"""Engagements imported from a CSV file: first a preview that writes nothing, then the import.

A studio's business affairs keep the cast and crew list in a spreadsheet; a row of it is an
engagement. The preview parses every row into the values it would record and lists every problem
with its row number and column, so the whole file can be fixed in one go. The import accepts the
file only if no row has a problem, checks every row again (the registry may have changed since the
preview) and records all of them in one transaction through `engagement_create`: the whole file
or nothing, with history naming the acting user.

A row names its person by payroll reference (`payroll_ref`) or by id (`person_id`), its
production by id and its agreement by code, as the engagement API does. A row identical to an
earlier row of the file, or to an engagement already recorded, is refused, so that importing the
same file twice does not engage everybody twice.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from core import csv_safe
from core.errors import DomainError
from core.money import DECIMAL_PLACES, MAX_DIGITS, Currency
from core.parse import ParseError, parse_ascii_id, parse_date, parse_decimal, read_csv
from ledger import access
from ledger.access import Scope
from ledger.models import Agreement, Engagement, Person
from ledger.registry import services

COLUMNS = (
    "payroll_ref",
    "person_id",
    "production",
    "agreement",
    "classification",
    "role",
    "rate_amount",
    "rate_unit",
    "rate_currency",
    "start_date",
    "end_date",
)
REQUIRED_COLUMNS = (
    "production",
    "agreement",
    "classification",
    "rate_amount",
    "rate_unit",
    "start_date",
)
COLUMN_HELP = {
    "payroll_ref": "The person's payroll reference (give this or person_id).",
    "person_id": "The person's id in Guild Ledger (give this or payroll_ref).",
    "production": "The production's id.",
    "agreement": "The agreement's code, attached to the production (e.g. sag-tvth-2023, or "
    "non-union for work no guild covers).",
    "classification": "day_performer, weekly_performer, background_actor, stand_in, writer, "
    "crew_hourly or crew_weekly; it must belong to the agreement's guild (under non-union, any "
    "classification of a guild the person is not a member of).",
    "role": "Character, writing assignment or craft and local (optional).",
    "rate_amount": "The negotiated rate, a decimal with at most two places (e.g. 1500.00).",
    "rate_unit": "day, week, hour or flat.",
    "rate_currency": "USD, CAD, GBP, EUR, AUD or NZD; empty means USD.",
    "start_date": "YYYY-MM-DD.",
    "end_date": "YYYY-MM-DD (optional).",
}
TEMPLATE_EXAMPLE = {
    "payroll_ref": "PR-00042",
    "person_id": "",
    "production": "1",
    "agreement": "sag-tvth-2023",
    "classification": "day_performer",
    "role": "Detective Hale",
    "rate_amount": "1500.00",
    "rate_unit": "day",
    "rate_currency": "USD",
    "start_date": "2025-06-02",
    "end_date": "",
}
MAX_ROWS = 2000
ROW = "row"  # the column named by an error about the row as a whole

# A model field's errors are reported under the CSV column that supplied it.
_FIELD_COLUMN = {"production": "production", "agreement": "agreement"}


@dataclass
class PreviewRow:
    number: int  # the line of the file, counting the header as line 1
    values: dict  # column -> the value as it will be recorded, for display
    errors: list = field(default_factory=list)  # [(column, message)]
    fields: dict = field(default_factory=dict)  # engagement_create keyword arguments

    def fail(self, column: str, message: str):
        self.errors.append((column, message))

    def as_error(self) -> dict:
        """The row-error shape of the CSV imports: {row, message, fields: {column: message}}."""
        return {
            "row": self.number,
            "message": "; ".join(f"{column}: {message}" for column, message in self.errors),
            "fields": {column: message for column, message in self.errors},
        }


@dataclass
class Preview:
    rows: list[PreviewRow]

    @property
    def error_rows(self) -> list[PreviewRow]:
        return [row for row in self.rows if row.errors]

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.error_rows


def template_csv() -> str:
    row = [TEMPLATE_EXAMPLE[column] for column in COLUMNS]
    return csv_safe.text(COLUMNS, [row], lineterminator="\n")


def engagement_import_preview(*, scope: Scope, text: str) -> Preview:
    """Every row of `text` parsed and checked as `scope` would record it. Writes nothing.

    Raises DomainError (`import_invalid`) when the file as a whole is unusable: a header
    without the required columns or with unknown ones, no rows, too many rows."""
    raw_rows = _read(text)
    preview = Preview(rows=[_parse(number, raw) for number, raw in raw_rows])
    _resolve(scope, preview.rows)
    for row in preview.rows:
        _validate(row)
    _refuse_duplicates(preview.rows)
    return preview


def engagement_import(*, actor, scope: Scope, text: str) -> list[Engagement]:
    """Record every row of `text` as an engagement, in one transaction, or none of them.

    Raises DomainError (`import_invalid`) listing every faulty row when any row has a problem."""
    with transaction.atomic():
        _lock_productions(scope, text)
        preview = engagement_import_preview(scope=scope, text=text)
        if not preview.ok:
            raise DomainError(
                f"{len(preview.error_rows)} row(s) have errors; nothing was imported.",
                code="import_invalid",
                fields={"rows": [row.as_error() for row in preview.error_rows]},
            )
        try:
            return [services.engagement_create(actor=actor, **row.fields) for row in preview.rows]
        except ValidationError as error:  # changed by someone else since the check above
            raise DomainError(
                "; ".join(error.messages), code="import_invalid", fields=error.message_dict
            ) from None


# --- reading --------------------------------------------------------------------------------


def _file_error(message: str, problems: list[str]) -> DomainError:
    return DomainError(message, code="import_invalid", fields={"file": problems})


def _read(text: str) -> list[tuple[int, dict]]:
    try:
        table = read_csv(text)
    except ParseError as error:
        raise _file_error(error.message, ["Not valid CSV."]) from None
    header = table.header
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if "payroll_ref" not in header and "person_id" not in header:
        missing.insert(0, "payroll_ref or person_id")
    unknown = [c for c in header if c not in COLUMNS]
    repeated = sorted({c for c in header if header.count(c) > 1})
    problems = (
        [f"missing column {c}" for c in missing]
        + [f"unknown column {c!r}" for c in unknown]
        + [f"column {c} appears twice" for c in repeated]
    )
    if problems:
        raise _file_error(
            f"The CSV header is not usable: {', '.join(problems)}. Columns: {', '.join(COLUMNS)}.",
            problems,
        )
    rows = [
        (line, raw)
        for line, raw in table.rows
        if any((value or "").strip() for value in _values(raw))
    ]
    if len(rows) > MAX_ROWS:
        raise _file_error(
            f"At most {MAX_ROWS} rows per import; split the file.", ["Too many rows."]
        )
    if not rows:
        raise _file_error("The CSV holds no rows under its header.", ["No rows."])
    return rows


def _values(raw: dict) -> list[str]:
    values = [v for k, v in raw.items() if k is not None]
    extra = raw.get(None) or []
    return [*(v or "" for v in values), *extra]


def _parse(number: int, raw: dict) -> PreviewRow:
    cells = {c: (raw.get(c) or "").strip() for c in COLUMNS}
    row = PreviewRow(number=number, values=dict(cells))
    row.values["person"] = cells["payroll_ref"] or (cells["person_id"] and f"#{cells['person_id']}")
    if raw.get(None):
        row.fail(ROW, f"{len(raw[None])} more value(s) than the header has columns.")
    if bool(cells["payroll_ref"]) == bool(cells["person_id"]):
        row.fail("payroll_ref", "Give the person's payroll_ref or person_id (one of them).")
    if cells["person_id"] and not _is_id(cells["person_id"]):
        row.fail("person_id", f"{cells['person_id']!r} is not an id (a whole number).")
    if not cells["production"]:
        row.fail("production", "Required: the production's id.")
    elif not _is_id(cells["production"]):
        row.fail("production", f"{cells['production']!r} is not an id (a whole number).")
    for column in ("agreement", "classification", "rate_amount", "rate_unit", "start_date"):
        if not cells[column]:
            row.fail(column, "Required.")
    return row


def _is_id(value: str) -> bool:
    """ASCII digits naming a possible row: "٢١" is not row 21, and "²" is not an id at all."""
    try:
        return parse_ascii_id(value, field="id") > 0
    except ParseError:
        return False


# --- resolving names to records -------------------------------------------------------------


def _resolve(scope: Scope, rows: list[PreviewRow]):
    """Look up every row's person, production and agreement with a fixed number of queries."""
    cells = [row.values for row in rows]
    refs = {c["payroll_ref"] for c in cells if c["payroll_ref"]}
    person_ids = {int(c["person_id"]) for c in cells if _is_id(c["person_id"])}
    people = access.people(scope, Person.objects.all())
    by_ref: dict[str, list[Person]] = {}
    for person in people.filter(payroll_ref__in=refs).order_by("pk"):
        by_ref.setdefault(person.payroll_ref, []).append(person)
    by_id = {p.pk: p for p in people.filter(pk__in=person_ids)}
    production_ids = {int(c["production"]) for c in cells if _is_id(c["production"])}
    productions = {
        p.pk: p
        for p in access.writable_productions(scope)
        .filter(pk__in=production_ids)
        .prefetch_related("agreements")
    }
    agreements = {
        a.code: a
        for a in Agreement.objects.filter(code__in={c["agreement"] for c in cells}).select_related(
            "guild"
        )
    }
    for row in rows:
        _resolve_row(row, by_ref, by_id, productions, agreements)


def _resolve_row(row: PreviewRow, by_ref, by_id, productions, agreements):
    cells = row.values
    person = None
    if cells["payroll_ref"] and not cells["person_id"]:
        matches = by_ref.get(cells["payroll_ref"], [])
        if not matches:
            row.fail("payroll_ref", f"No person with payroll reference {cells['payroll_ref']!r}.")
        elif len(matches) > 1:
            row.fail(
                "payroll_ref",
                f"{len(matches)} people have payroll reference {cells['payroll_ref']!r}; "
                "use person_id instead.",
            )
        else:
            person = matches[0]
    elif _is_id(cells["person_id"]) and not cells["payroll_ref"]:
        person = by_id.get(int(cells["person_id"]))
        if person is None:
            row.fail("person_id", f"No person with id {cells['person_id']}.")
    production = productions.get(int(cells["production"])) if _is_id(cells["production"]) else None
    if production is None and _is_id(cells["production"]):
        row.fail("production", f"No production with id {cells['production']} in your studios.")
    agreement = agreements.get(cells["agreement"])
    if agreement is None and cells["agreement"]:
        row.fail("agreement", f"No agreement with code {cells['agreement']!r}.")
    row.fields = {"person": person, "production": production, "agreement": agreement}
    if person is not None:
        row.values["person"] = f"{person.name} (#{person.pk})"
    if production is not None:
        row.values["production"] = f"{production.title} (#{production.pk})"


# --- validating as the model would ----------------------------------------------------------


def _validate(row: PreviewRow):
    """Build the engagement the row describes and run the model's validation on it, so that a
    row shows all its problems at once (a column already found wrong is not reported twice)."""
    cells = row.values
    wrong = {column for column, _ in row.errors}
    unknown = [name for name in ("person", "production", "agreement") if not row.fields.get(name)]
    row.fields.update(
        classification=cells["classification"],
        role=cells["role"],
        rate_amount=cells["rate_amount"],
        rate_unit=cells["rate_unit"],
        rate_currency=cells["rate_currency"] or Currency.USD,
        start_date=cells["start_date"],
        end_date=cells["end_date"] or None,
    )
    engagement = Engagement(**row.fields)
    try:
        engagement.full_clean(exclude=unknown)
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            column = _column_of(name, cells)
            for message in messages if column not in wrong else ():
                row.fail(column, message)
    _strict_cells(row, cells, {column for column, _ in row.errors})
    if row.errors:
        return
    # full_clean converted the text into the values that will be recorded.
    for name in ("rate_amount", "start_date", "end_date"):
        row.fields[name] = getattr(engagement, name)
    row.values.update(
        rate_amount=str(engagement.rate_amount),
        rate_currency=engagement.rate_currency,
        start_date=engagement.start_date.isoformat(),
        end_date=engagement.end_date.isoformat() if engagement.end_date else "",
    )


def _strict_cells(row: PreviewRow, cells: dict, wrong: set):
    """The amount and the dates as the API reads them (`core.parse`): the model's own fields
    would also take "1_000.00", "1e2", " 1.00", other scripts' digits and year 9999."""
    parsers: dict[str, Callable[..., object]] = {
        "rate_amount": lambda text, field: parse_decimal(
            text, field=field, max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES
        ),
        "start_date": parse_date,
        "end_date": parse_date,
    }
    for column, parser in parsers.items():
        if column in wrong or not cells[column]:
            continue
        try:
            parser(cells[column], field=column)
        except ParseError as error:
            row.fail(column, error.message)


def _column_of(field_name: str, cells: dict) -> str:
    if field_name == "person":
        return "person_id" if cells["person_id"] else "payroll_ref"
    if field_name in COLUMNS:
        return _FIELD_COLUMN.get(field_name, field_name)
    return ROW


def _identity(fields: dict) -> tuple:
    return (
        fields["person"].pk,
        fields["production"].pk,
        fields["agreement"].pk,
        fields["classification"],
        fields["role"],
        fields["start_date"],
    )


def _refuse_duplicates(rows: list[PreviewRow]):
    """A row repeating an earlier row, or an engagement already recorded, is an error."""
    valid = [row for row in rows if not row.errors]
    recorded: dict[Any, Any] = {}
    people = {row.fields["person"].pk for row in valid}
    productions = {row.fields["production"].pk for row in valid}
    for engagement in Engagement.objects.filter(
        person_id__in=people, production_id__in=productions
    ).select_related("person", "production", "agreement"):
        recorded.setdefault(
            _identity(
                {
                    "person": engagement.person,
                    "production": engagement.production,
                    "agreement": engagement.agreement,
                    "classification": engagement.classification,
                    "role": engagement.role,
                    "start_date": engagement.start_date,
                }
            ),
            engagement.pk,
        )
    seen: dict[Any, Any] = {}
    for row in valid:
        identity = _identity(row.fields)
        if identity in recorded:
            row.fail(ROW, f"Already recorded as engagement #{recorded[identity]}.")
        elif identity in seen:
            row.fail(ROW, f"Repeats row {seen[identity]}.")
        else:
            seen[identity] = row.number


def _lock_productions(scope: Scope, text: str):
    """Lock the file's productions in primary-key order, so that two imports of the same file
    at once cannot both pass the duplicate check."""
    try:
        ids = {int(c) for c in _production_cells(text) if _is_id(c)}
    except ParseError:
        return
    list(
        access.writable_productions(scope)
        .filter(pk__in=ids)
        .order_by("pk")
        .select_for_update()
        .values_list("pk", flat=True)
    )


def _production_cells(text: str) -> list[str]:
    return [(raw.get("production") or "").strip() for _, raw in read_csv(text).rows]
