"""An official rate sheet as staff load it: CSV, or the parameter-file format.

CSV: a header row, then one value per row:

    parameter,from,until,value,unit,tier,source,rule
    sag.minimum.day_performer,2025-07-01,,1246.00,,P,SAG-AFTRA rate sheet 2025-26 p.1,

`parameter`, `from` and `value` are required; `until` defaults to the end of the agreement's term;
`tier` and `source` default to the sheet's; `unit` and `rule` are needed only for a schedule that
nothing shipped defines (WGA minimums `wga.minimum.<work type>`, an IATSE wage schedule
`iatse.scale.<classification>`…). A shipped series whose value is unknown (`sag.minimum.icdr`,
`wga.health.rate` from 2026-05-02, `wga.ph.cap.screen`) is supplied the same way. JSON: one
parameter file, or a list of them, as in `parameters/` (`from` must be a date: a sheet covers
dates it names).

Every problem is reported with its row, and nothing of a faulty sheet is loaded.
"""

import json
from datetime import date
from decimal import Decimal
from typing import Any

from core.parse import ParseError, check_json_depth, parse_choice, parse_date, read_csv

from .params import (
    TIERS,
    Override,
    ParameterFileError,
    Series,
    _reject_float,
    parse_series,
    parse_value,
)

CSV_COLUMNS = ("parameter", "from", "until", "value", "unit", "tier", "source", "rule")
MAX_VALUES = 5000
MAX_JSON_DEPTH = 8


class SheetError(ParameterFileError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems[:20]))


def parse_sheet(
    text: str,
    file_format: str,
    *,
    tier: str,
    source: str,
    label: str,
    until: date | None = None,
) -> list[Override]:
    """The overrides a sheet holds; SheetError listing every problem."""
    if file_format == "csv":
        overrides, problems = _csv(text, tier, source, label, until)
    elif file_format == "json":
        overrides, problems = _json(text, label, until)
    else:
        raise SheetError([f"Unknown format {file_format!r}: csv or json."])
    if not overrides and not problems:
        problems.append("The sheet holds no values.")
    if len(overrides) > MAX_VALUES:
        problems.append(f"More than {MAX_VALUES} values.")
    seen: set[tuple[str, date]] = set()
    for o in overrides:
        if (o.parameter, o.effective_from) in seen:
            problems.append(f"{o.origin}: {o.parameter} from {o.effective_from} is given twice.")
        seen.add((o.parameter, o.effective_from))
    if problems:
        raise SheetError(problems)
    return overrides


def _csv(
    text: str, tier: str, source: str, label: str, until: date | None
) -> tuple[list[Override], list[str]]:
    try:
        table = read_csv(text, max_rows=MAX_VALUES)
    except ParseError as error:
        return [], [error.message]
    missing = [c for c in ("parameter", "from", "value") if c not in table.header]
    if missing:
        return [], [f"The header needs the column(s) {', '.join(missing)}."]
    unknown = sorted(set(table.header) - set(CSV_COLUMNS))
    if unknown:
        return [], [f"Unknown column(s): {', '.join(unknown)}."]
    overrides: list[Override] = []
    problems: list[str] = []
    for number, row in table.rows:
        try:
            overrides.append(_row(row, tier, source, label, until, f"row {number}"))
        except (ParseError, ParameterFileError) as error:
            problems.append(f"row {number}: {error}")
    return overrides, problems


def _row(
    row: dict[str, Any], tier: str, source: str, label: str, until: date | None, origin: str
) -> Override:
    parameter = (row.get("parameter") or "").strip()
    if not parameter or len(parameter) > 120:
        raise ParseError("parameter", "`parameter` is required (at most 120 characters)")
    start = _date(row.get("from"), "from")
    if start is None:
        raise ParseError("from", "`from` is required (YYYY-MM-DD)")
    given = _date(row.get("until"), "until")
    if given is not None and given < start:
        raise ParseError("until", "`until` is before `from`")
    end = given or until  # the term's end; a `from` after it is refused by the loader
    value = _value(row.get("value"))
    row_tier = parse_choice(
        (row.get("tier") or "").strip() or tier,
        TIERS,
        field="tier",
        message=f"`tier` must be one of {', '.join(TIERS)}",
    )
    return Override(
        parameter=parameter,
        effective_from=start,
        until=end,
        value=value,
        tier=row_tier,
        source=(row.get("source") or "").strip() or source,
        sheet=label,
        unit=(row.get("unit") or "").strip(),
        rule=(row.get("rule") or "").strip(),
        origin=origin,
    )


def _json(text: str, label: str, until: date | None) -> tuple[list[Override], list[str]]:
    try:
        # A parameter file nests three levels; json.loads recurses once per level (RecursionError).
        check_json_depth(text, field="file", limit=MAX_JSON_DEPTH)
    except ParseError as error:
        return [], [f"Not a rate sheet: {error.message}"]
    try:
        raw = json.loads(text, parse_float=_reject_float)
    except json.JSONDecodeError as error:
        return [], [f"Not JSON: {error}."]
    except ParameterFileError as error:
        return [], [str(error)]
    overrides: list[Override] = []
    problems: list[str] = []
    for index, item in enumerate(raw if isinstance(raw, list) else [raw]):
        try:
            if not isinstance(item, dict):
                raise ParameterFileError("a parameter file is an object")
            series = parse_series(item, origin=f"series {index + 1}")
            overrides += _series_overrides(series, label, until)
        except ParameterFileError as error:
            problems.append(str(error))
    return overrides, problems


def _series_overrides(series: Series, label: str, until: date | None) -> list[Override]:
    out = []
    entries = series.entries
    for i, entry in enumerate(entries):
        where = f"{series.parameter} value {i + 1}"
        if entry.effective_from is None:
            raise ParameterFileError(f"{where}: a sheet's values need a `from` date")
        if entry.value is None:
            raise ParameterFileError(f"{where}: a sheet's values need a value")
        nxt = entries[i + 1].effective_from if i + 1 < len(entries) else None
        end = date.fromordinal(nxt.toordinal() - 1) if nxt else until
        out.append(
            Override(
                parameter=series.parameter,
                effective_from=entry.effective_from,
                until=end,
                value=entry.value,
                tier=entry.tier,
                source=entry.source,
                sheet=label,
                unit=series.unit,
                rule=series.rule,
                origin=where,
            )
        )
    return out


def _date(cell: str | None, name: str) -> date | None:
    """A date cell (`core.parse.parse_date`); None when empty."""
    value = (cell or "").strip()
    if not value:
        return None
    try:
        return parse_date(value, field=name)
    except ParseError as error:
        raise ParseError(
            name, f"`{name}` {value!r} is not a date (YYYY-MM-DD): {error.message}"
        ) from None


def _value(value: str | None) -> Decimal:
    return parse_value((value or "").strip())
