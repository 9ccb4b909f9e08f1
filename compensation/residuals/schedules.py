"""Residual schedules as staff load them (RULES.md §3 Residuals): the figures the residual rules
multiply (residual bases by work type and running time, subscriber factors by tier,
exhibition-year percentages, gross-receipts percentages), read from a CSV or JSON file, checked
entry by entry by the residual engine's own parser, kept as loaded (content and SHA-256) and
numbered per (agreement, name) as rate sheets are. Nothing is shipped: a figure that no loaded
schedule has is `rate_missing`, naming the schedule key and the date it was needed
(compensation.rules.residuals.schedule).

A schedule is in force for an agreement's exhibitions from its `effective_from` until the
agreement's next schedule by date (compensation.residuals.selectors.schedule_in_force): it holds
every figure the agreement's residuals need from that date, and a later one replaces it whole.

CSV: the header `kind,key,value`, then one figure a row, its value a decimal string:

    kind,key,value
    base,episode:60,<amount for a program of up to 60 minutes>
    subscriber_factor,tier_2,<factor>
    exhibition_year_percent,1:domestic,<percent>
    gross_receipts_percent,basic_cable:foreign,<percent>

JSON: {"bases": {...}, "subscriber_factors": {...}, "exhibition_year_percent": {...},
"gross_receipts_percent": {...}} with the same keys, every value a decimal string.

Strict: an unknown kind, key or column, a figure given twice, a JSON number where a decimal
string belongs, an empty file, a cell that a spreadsheet would read as a formula (one beginning
with =, +, -, @, a tab or a carriage return): all refused, every faulty row (or JSON entry)
listed at once, and nothing of a faulty file is loaded.

Who loads: administrators; guild staff, their own guild's agreements; studio staff (who can
write for a studio), any SAG-AFTRA or WGA agreement. Payroll keys neither load nor read them.
"""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from compensation.models import ResidualSchedule
from compensation.rules.residuals.input import (
    GROSS_RECEIPTS_MARKETS,
    GUILDS,
    TERRITORIES,
    parse_schedule,
)
from compensation.rules.residuals.schedule import Schedule
from core.audit import save_audited
from core.errors import DomainError, Forbidden
from core.parse import ParseError, ParseErrors, check_date, check_json_depth, read_csv
from ledger import access
from ledger.access import Scope
from ledger.models import Agreement

INVALID = "residual_schedule_invalid"
# A CSV row's kind -> the schedule's map (the what-if `schedule` object's key).
KINDS = {
    "base": "bases",
    "subscriber_factor": "subscriber_factors",
    "exhibition_year_percent": "exhibition_year_percent",
    "gross_receipts_percent": "gross_receipts_percent",
}
MAPS = tuple(KINDS.values())
CSV_COLUMNS = ("kind", "key", "value")
FORMATS = tuple(ResidualSchedule.Format.values)
MAX_FIGURES = 5000
# The file's object holds maps of decimal strings: nothing nests deeper than a value that is
# (wrongly) an object or a list, which is reported as such.
MAX_JSON_DEPTH = 3
# What a spreadsheet evaluates at the start of a cell (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NAME_LENGTH = ResidualSchedule._meta.get_field("name").max_length or 120
SOURCE_LENGTH = 1000  # the residual engine's limit (compensation.rules.residuals.input)
MAX_PROBLEMS_IN_MESSAGE = 20

# Every kind with an example key, and no value: the figures come from the guild's published
# schedule, never from this file. Rows the schedule has no figure for are deleted.
SCHEDULE_TEMPLATE_CSV = (
    ",".join(CSV_COLUMNS)
    + "\n"
    + "".join(
        f"{kind},{key},\n"
        for kind, key in [
            ("base", "episode:30"),
            ("base", "episode:60"),
            ("subscriber_factor", "tier_1"),
            ("exhibition_year_percent", "1:domestic"),
            ("exhibition_year_percent", "1:foreign"),
            *(
                ("gross_receipts_percent", f"{market}:{territory}")
                for market in GROSS_RECEIPTS_MARKETS
                for territory in TERRITORIES
            ),
        ]
    )
)
TEMPLATE_FILE_NAME = "residual-schedule-template.csv"


# --- who loads ------------------------------------------------------------------------------


def residual_guild(agreement: Agreement) -> str:
    """The agreement's guild, if residual rules are its (SAG-AFTRA or the WGA); else refused."""
    guild = agreement.guild
    code = guild.code if guild is not None else None
    if code is None or code not in GUILDS:
        raise DomainError(
            f"Residual rules (RULES.md §3) are SAG-AFTRA's and the WGA's: {agreement.code} has "
            "no residual schedule.",
            code=INVALID,
            fields={"agreement": "Choose a SAG-AFTRA or WGA agreement."},
        )
    return code


def loadable_agreements(scope: Scope) -> QuerySet[Agreement]:
    """The agreements whose residual schedules the caller may load: every SAG-AFTRA and WGA
    agreement for an administrator and for studio staff who can write for a studio; their own
    guild's for guild staff; none for a payroll key."""
    qs = Agreement.objects.filter(guild__code__in=GUILDS).select_related("guild")
    if scope.payroll_key is not None or scope.is_empty:
        return qs.none()
    if scope.superuser or access.writable_studios(scope).exists():
        return qs
    return qs.filter(guild_id__in=scope.guild_ids)


def can_load_any(scope: Scope) -> bool:
    return loadable_agreements(scope).exists()


def check_may_load(scope: Scope, agreement: Agreement) -> None:
    """Refuse a load the caller may not make: an agreement without residual rules (400), or one
    outside the caller's loadable agreements (403)."""
    residual_guild(agreement)
    if not loadable_agreements(scope).filter(pk=agreement.pk).exists():
        guild = agreement.guild.code if agreement.guild is not None else agreement.code
        raise Forbidden(
            f"Only {guild} staff, studio staff and administrators load its residual schedules."
        )


# --- the load -------------------------------------------------------------------------------


@transaction.atomic
def schedule_load(
    *,
    actor: Any,
    agreement: Agreement,
    name: str,
    source: str,
    effective_from: date,
    file_name: str,
    file_format: str,
    content: str,
    tier: str = "P",
    currency: str = "USD",
    due_rule: str | None = None,
) -> ResidualSchedule:
    """Load a residual schedule for a SAG-AFTRA or WGA agreement: the file is read whole and
    every figure checked by the residual engine's parser, then kept with its content and hash
    as the next version of (agreement, name), in force from `effective_from`. A faulty file is
    refused with every problem (`residual_schedule_invalid`) and writes nothing."""
    residual_guild(agreement)
    name, source = (name or "").strip(), (source or "").strip()
    fields = {k: "Required." for k, v in (("name", name), ("source", source)) if not v}
    if len(name) > NAME_LENGTH:
        fields["name"] = f"At most {NAME_LENGTH} characters."
    if not isinstance(effective_from, date):
        fields["effective_from"] = "A date, YYYY-MM-DD."
    else:
        try:
            check_date(effective_from, field="effective_from")
        except ParseError as error:
            fields["effective_from"] = error.message
    if file_format not in FORMATS:
        fields["file_format"] = f"One of: {', '.join(FORMATS)}."
    if fields:
        raise DomainError(
            f"The residual schedule was not loaded: {_first_message(fields)}",
            code=INVALID,
            fields=fields,
        )
    # The agreement's row is the lock: the first version of a name has no row of its own to
    # lock, and two loads of one name must not both take the same number.
    # (Unordered: the agreements' ordering joins their guild, which FOR UPDATE cannot lock.)
    list(Agreement.objects.select_for_update().filter(pk=agreement.pk).order_by().values("pk"))
    latest = (
        ResidualSchedule.objects.filter(agreement=agreement, name=name).order_by("-version").first()
    )
    version = latest.version + 1 if latest else 1
    header = _header(
        label=f"{agreement.code}:{name} v{version}",
        source=source,
        tier=tier,
        currency=currency,
        due_rule=due_rule or None,
    )
    try:
        schedule = schedule_from_file(content, file_format, header=header)
    except ParseErrors as errors:
        problems = [describe(error) for error in errors.errors]
        shown = "; ".join(problems[:MAX_PROBLEMS_IN_MESSAGE])
        more = len(problems) - MAX_PROBLEMS_IN_MESSAGE
        raise DomainError(
            f"The residual schedule was not loaded: {shown}"
            + (f"; and {more} more." if more > 0 else ""),
            code=INVALID,
            fields={"file": problems},
        ) from None
    row = ResidualSchedule(
        agreement=agreement,
        name=name,
        version=version,
        effective_from=effective_from,
        source=source,
        tier=schedule.tier,
        currency=schedule.currency,
        due_rule=schedule.due_rule or "",
        figures=figures_of(schedule),
        file_name=(file_name or "schedule")[-200:],
        file_format=file_format,
        content=content,
        sha256=hashlib.sha256(content.encode()).hexdigest(),
        loaded_by=actor,
        loaded_at=timezone.now(),
    )
    try:
        return save_audited(row, actor=actor)
    except ValidationError as error:
        raise DomainError(
            f"The residual schedule was not loaded: {error.messages[0]}",
            code=INVALID,
            fields=error.message_dict,
        ) from None


def _first_message(fields: dict[str, str]) -> str:
    field, message = next(iter(fields.items()))
    return f"{field}: {message}"


def _header(
    *, label: str, source: str, tier: str, currency: str, due_rule: str | None
) -> dict[str, Any]:
    """The schedule object without figures, checked by the engine's parser; a fault is refused
    naming the form's field (`source`, `tier`, `currency`, `due_rule`)."""
    header: dict[str, Any] = {"name": label, "source": source, "tier": tier, "currency": currency}
    if due_rule is not None:
        header["due_rule"] = due_rule
    try:
        parse_schedule(header)
    except ParseError as error:
        field = error.field.removeprefix("schedule.")
        raise DomainError(
            f"The residual schedule was not loaded: {field}: {error.message}",
            code=INVALID,
            fields={field: error.message},
        ) from None
    return header


def describe(error: ParseError) -> str:
    """One problem as a line of the refusal: `row 3: …` for a CSV row, `bases.episode:60: …`
    for a JSON entry, the message alone for the file as a whole."""
    if error.row is not None:
        return f"row {error.row}: {error.message}"
    if error.field and error.field != "file":
        return f"{error.field}: {error.message}"
    return error.message


def to_engine(schedule: ResidualSchedule) -> Schedule:
    """A loaded schedule as the residual engine reads it: its `figures`, parsed again by the
    engine's own parser (so a run reads exactly what the load checked)."""
    try:
        return parse_schedule(schedule.figures)
    except ParseError as error:  # a row written by schedule_load always parses
        raise DomainError(
            f"{schedule.label}: the stored figures do not parse ({error.field}: {error.message}).",
            code=INVALID,
        ) from None


def figures_of(schedule: Schedule) -> dict[str, Any]:
    """A schedule in the what-if `schedule` shape: {name, source, tier, currency, due_rule?,
    bases, subscriber_factors, exhibition_year_percent, gross_receipts_percent}, each map in key
    order and each figure a decimal string as it was written."""
    figures: dict[str, Any] = {
        "name": schedule.name,
        "source": schedule.source,
        "tier": schedule.tier,
        "currency": schedule.currency,
    }
    if schedule.due_rule is not None:
        figures["due_rule"] = schedule.due_rule
    figures["bases"] = {f"{t}:{m}": f"{v:f}" for (t, m), v in sorted(schedule.bases.items())}
    figures["subscriber_factors"] = {
        tier: f"{v:f}" for tier, v in sorted(schedule.subscriber_factors.items())
    }
    figures["exhibition_year_percent"] = {
        f"{y}:{t}": f"{v:f}" for (y, t), v in sorted(schedule.exhibition_year_percent.items())
    }
    figures["gross_receipts_percent"] = {
        f"{m}:{t}": f"{v:f}" for (m, t), v in sorted(schedule.gross_receipts_percent.items())
    }
    return figures


# --- reading the file -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Figure:
    kind: str  # the CSV kind (base, subscriber_factor, …)
    key: str
    value: object
    row: int | None  # the CSV line; None in JSON
    where: str  # the JSON entry ("bases.episode:60"); "file" in CSV


class _JsonNumber(str):
    """A number in a JSON file, kept as its text so that the refusal can quote it."""


class _Pairs(list):
    """A JSON object as its (key, value) pairs, so that a key given twice is seen."""


def schedule_from_file(text: str, file_format: str, *, header: dict[str, Any]) -> Schedule:
    """The schedule `header` (name, source, tier, currency, due_rule) with the figures of the
    file; ParseErrors listing every fault, each figure checked by the engine's parser."""
    if file_format == "csv":
        figures, problems = _csv_figures(text)
    elif file_format == "json":
        figures, problems = _json_figures(text)
    else:
        raise ParseErrors([ParseError("file_format", f"One of: {', '.join(FORMATS)}.")])
    maps: dict[str, dict[str, object]] = {name: {} for name in MAPS}
    first_seen: dict[tuple[str, str], _Figure] = {}
    for figure in figures:
        seen = first_seen.get((figure.kind, figure.key))
        if seen is not None:
            where = f" (first on row {seen.row})" if seen.row is not None else ""
            problems.append(_at(figure, f"given twice{where}."))
            continue
        first_seen[(figure.kind, figure.key)] = figure
        problem = _check(figure, header)
        if problem is not None:
            problems.append(problem)
        maps[KINDS[figure.kind]][figure.key] = figure.value
    if not figures and not problems:
        problems.append(ParseError("file", "The schedule holds no figures."))
    if len(figures) > MAX_FIGURES:
        problems.append(ParseError("file", f"At most {MAX_FIGURES} figures in one schedule."))
    if problems:
        raise ParseErrors(sorted(problems, key=_reading_order))
    return parse_schedule({**header, **maps})


def _reading_order(error: ParseError) -> tuple[int, int]:
    return (0, 0) if error.row is None and error.field == "file" else (1, error.row or 0)


def _at(figure: _Figure, message: str) -> ParseError:
    """A fault of one figure: a CSV row's names its kind and key; a JSON entry's field does."""
    if figure.row is None:
        return ParseError(figure.where, message)
    return ParseError(figure.where, f"{figure.kind} {figure.key}: {message}", row=figure.row)


def _check(figure: _Figure, header: dict[str, Any]) -> ParseError | None:
    """The engine's verdict on one figure: its key's shape, its value a decimal string of the
    right size (a percentage at most 100)."""
    if isinstance(figure.value, _JsonNumber):
        return _at(figure, f'{figure.value} is a JSON number, not a decimal string such as "10.5".')
    try:
        parse_schedule({**header, KINDS[figure.kind]: {figure.key: figure.value}})
    except ParseError as error:
        return _at(figure, error.message)
    return None


def _csv_figures(text: str) -> tuple[list[_Figure], list[ParseError]]:
    if not text.strip():
        return [], [ParseError("file", "The file is empty.")]
    try:
        table = read_csv(text, max_rows=MAX_FIGURES)
    except ParseError as error:
        return [], [ParseError("file", error.message)]
    header = table.header
    unknown = sorted({c for c in header if c not in CSV_COLUMNS})
    missing = [c for c in CSV_COLUMNS if c not in header]
    twice = sorted({c for c in header if header.count(c) > 1})
    if unknown or missing or twice:
        parts = [
            *([f"unknown column(s): {', '.join(unknown)}"] if unknown else []),
            *([f"missing column(s): {', '.join(missing)}"] if missing else []),
            *([f"column(s) given twice: {', '.join(twice)}"] if twice else []),
        ]
        message = f"The header is {','.join(CSV_COLUMNS)}: {'; '.join(parts)}."
        return [], [ParseError("file", message, row=1)]
    figures: list[_Figure] = []
    problems: list[ParseError] = []
    for number, row in table.rows:
        figure, problem = _csv_row(number, row)
        if problem is not None:
            problems.append(problem)
        if figure is not None:
            figures.append(figure)
    return figures, problems


def _csv_row(number: int, row: dict[Any, Any]) -> tuple[_Figure | None, ParseError | None]:
    if row.get(None):
        return None, ParseError("file", "more values than the header has columns.", row=number)
    cells = {column: row.get(column) or "" for column in CSV_COLUMNS}
    for column, cell in cells.items():
        if cell.lstrip(" ").startswith(FORMULA_STARTS):
            return None, ParseError(
                "file",
                f"the {column} {cell.strip()!r} begins like a formula ({cell.lstrip(' ')[0]!r}); "
                "formulas are refused.",
                row=number,
            )
    kind, key, value = (cells[column].strip() for column in CSV_COLUMNS)
    if kind not in KINDS:
        return None, ParseError(
            "file",
            f"the kind {kind!r} is not one of {', '.join(KINDS)}." if kind else "a kind is needed.",
            row=number,
        )
    if not key:
        return None, ParseError("file", f"{kind}: a key is needed.", row=number)
    figure = _Figure(kind=kind, key=key, value=value, row=number, where="file")
    if not value:
        message = "a value is needed (delete the row if the schedule has no such figure)."
        return None, _at(figure, message)
    return figure, None


def _json_figures(text: str) -> tuple[list[_Figure], list[ParseError]]:
    if not text.strip():
        return [], [ParseError("file", "The file is empty.")]
    try:
        check_json_depth(text, field="file", limit=MAX_JSON_DEPTH)
        raw = json.loads(
            text,
            object_pairs_hook=_Pairs,
            parse_float=_JsonNumber,
            parse_int=_JsonNumber,
            parse_constant=_JsonNumber,
        )
    except ParseError as error:
        return [], [ParseError("file", f"Not a residual schedule: {error.message}")]
    except (json.JSONDecodeError, RecursionError) as error:
        return [], [ParseError("file", f"Not JSON: {error}.")]
    if not isinstance(raw, _Pairs):
        return [], [ParseError("file", f"The file is one object with the maps {', '.join(MAPS)}.")]
    figures: list[_Figure] = []
    problems: list[ParseError] = []
    kind_of = {name: kind for kind, name in KINDS.items()}
    seen_maps: set[str] = set()
    for name, entries in raw:
        if name not in kind_of:
            problems.append(ParseError(name, f"Unknown field; the maps are {', '.join(MAPS)}."))
            continue
        if name in seen_maps:
            problems.append(ParseError(name, "Given twice."))
            continue
        seen_maps.add(name)
        if not isinstance(entries, _Pairs):
            problems.append(ParseError(name, 'An object of "key": "decimal string".'))
            continue
        figures += _entries(kind_of[name], name, entries)
    return figures, problems


def _entries(kind: str, name: str, entries: Iterable[tuple[str, object]]) -> list[_Figure]:
    return [
        _Figure(
            kind=kind,
            key=key,
            # A list or an object where a figure belongs: the engine refuses it as such.
            value=dict(value) if isinstance(value, _Pairs) else value,
            row=None,
            where=f"{name}.{key}",
        )
        for key, value in entries
    ]
