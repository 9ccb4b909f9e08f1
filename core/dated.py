"""Dated parameters: figures a rule depends on, kept as data, each in force from the date it takes
effect, with the rule it serves, its evidence tier (RULES.md: P, S, T, D) and its source. Pure: no
Django.

A file holds one or more series::

    {"parameters": [
        {"parameter": "sag.consent.notice_before_scan", "rule": "sag.consent.notice_48h",
         "unit": "hours", "description": "...",
         "values": [{"from": null, "value": "48", "tier": "P", "source": "..."}]}]}

A series has the shape of compensation's rate parameters (compensation/rules/params.py, which
keeps its own reader: one series per file, `"value": null` for nothing known, and loaded rate
sheets that supersede shipped values; it shares the pieces here that are the same rule: the value
type, ValueMissing, the lookup, and the reading of an entry's `from` and `tier`).
`"from": null` is a value in force before the next one, from a start the sources do not give. A
value is a decimal string (floats are refused); dates are in order, each at most once. `get` never
invents a value: a date no value covers raises ValueMissing naming the parameter and the date.
"""

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol, TypeVar

from core.parse import ParseError, parse_date, parse_decimal

TIERS = ("P", "S", "T", "D")


class ParameterFileError(ValueError):
    """A parameter file that must not be loaded."""


class ValueMissing(LookupError):
    """No value of `parameter` is in force on `on`."""

    def __init__(self, parameter: str, on: date):
        self.parameter, self.on = parameter, on
        super().__init__(f"No value of {parameter} is in force on {on.isoformat()}.")


@dataclass(frozen=True)
class DatedValue:
    parameter: str
    value: Decimal
    unit: str
    effective_from: date | None
    tier: str
    source: str
    rule: str


class _Dated(Protocol):
    @property
    def effective_from(self) -> date | None: ...


E = TypeVar("E", bound=_Dated)


def in_force(entries: tuple[E, ...], on: date) -> E | None:
    """The entry in force on `on` (entries in date order, a null date first): the last one that
    took effect on or before it; None if none did."""
    found = None
    for entry in entries:
        if entry.effective_from is None or entry.effective_from <= on:
            found = entry
        else:
            break
    return found


def entry_start(item: dict[str, Any], at: str) -> date | None:
    """An entry's `from`: a date, or null for a start the sources do not give."""
    start = item.get("from")
    try:
        return parse_date(start, field="from") if start is not None else None
    except ParseError:
        raise ParameterFileError(f"{at}: `from` must be YYYY-MM-DD or null") from None


def entry_tier(item: dict[str, Any], at: str) -> str:
    """An entry's evidence tier, one of TIERS."""
    if item.get("tier") not in TIERS:
        raise ParameterFileError(f"{at}: `tier` must be one of {', '.join(TIERS)}")
    return str(item["tier"])


@dataclass(frozen=True)
class _Entry:
    effective_from: date | None
    value: Decimal
    tier: str
    source: str


@dataclass(frozen=True)
class DatedSeries:
    parameter: str
    rule: str
    unit: str
    description: str
    entries: tuple[_Entry, ...]

    def at(self, on: date) -> DatedValue:
        """The value in force on `on`; ValueMissing if none is."""
        found = in_force(self.entries, on)
        if found is None:
            raise ValueMissing(self.parameter, on)
        return DatedValue(
            self.parameter,
            found.value,
            self.unit,
            found.effective_from,
            found.tier,
            found.source,
            self.rule,
        )


@dataclass(frozen=True)
class DatedParameters:
    series: dict[str, DatedSeries]

    def get(self, parameter: str, on: date) -> DatedValue:
        """The value of `parameter` in force on `on`; ValueMissing if none is."""
        series = self.series.get(parameter)
        if series is None:
            raise ValueMissing(parameter, on)
        return series.at(on)


def parse_series(raw: object, *, origin: str) -> DatedSeries:
    """One series, validated; ParameterFileError naming `origin` and the value at fault."""
    if not isinstance(raw, dict):
        raise ParameterFileError(f"{origin}: a series is an object")
    where = f"{origin} {raw.get('parameter', '?')}"
    for key in ("parameter", "rule", "unit"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise ParameterFileError(f"{where}: `{key}` is a non-empty string")
    values = raw.get("values")
    if not isinstance(values, list) or not values:
        raise ParameterFileError(f"{where}: `values` is a non-empty list")
    entries: list[_Entry] = []
    for index, item in enumerate(values):
        at = f"{where} values[{index}]"
        entries.append(_entry(item, at, index, entries))
    return DatedSeries(
        parameter=raw["parameter"],
        rule=raw["rule"],
        unit=raw["unit"],
        description=str(raw.get("description", "")),
        entries=tuple(entries),
    )


def _entry(item: object, at: str, index: int, before: list[_Entry]) -> _Entry:
    if not isinstance(item, dict):
        raise ParameterFileError(f"{at}: a value is an object")
    start = entry_start(item, at)
    if start is None and index:
        raise ParameterFileError(f"{at}: only the first value may have `from: null`")
    last = before[-1].effective_from if before else None
    if start is not None and last is not None and start <= last:
        raise ParameterFileError(f"{at}: dates must be in order, each once")
    tier = entry_tier(item, at)
    source = item.get("source")
    if not isinstance(source, str) or not source.strip():
        raise ParameterFileError(f"{at}: `source` is required")
    try:
        value = parse_decimal(item.get("value"), field="value", allow_negative=True)
    except ParseError as error:
        raise ParameterFileError(f"{at}: `value` is a decimal string: {error.message}") from None
    return _Entry(start, value, tier, source)


def _reject_float(text: str) -> Any:
    raise ParameterFileError(f"float {text} in a parameter file: write values as strings")


def load(path: Path) -> DatedParameters:
    """Every series of the file at `path`; a parameter defined twice is refused."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"), parse_float=_reject_float)
    except json.JSONDecodeError as error:
        raise ParameterFileError(f"{path.name}: not JSON: {error}") from None
    items = raw.get("parameters") if isinstance(raw, dict) else None
    if not isinstance(items, list):
        raise ParameterFileError(f"{path.name}: `parameters` is a list of series")
    series: dict[str, DatedSeries] = {}
    for item in items:
        loaded = parse_series(item, origin=path.name)
        if loaded.parameter in series:
            raise ParameterFileError(f"{path.name}: {loaded.parameter} is defined twice")
        series[loaded.parameter] = loaded
    return DatedParameters(series)
