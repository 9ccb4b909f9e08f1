"""Rate parameters as data: one JSON file per rate series, each value keyed by the date it takes
effect, with its rule id, evidence tier (RULES.md: P, S, T, D) and source.

    {"parameter": "sag.minimum.day_performer", "rule": "sag.pay.day", "unit": "USD/day",
     "description": "...",
     "values": [{"from": null, "value": "1082", "tier": "S", "source": "..."},
                {"from": "2023-11-09", "value": "1158", "tier": "D", "source": "..."}]}

`"from": null` is a value in force before the next one, from a start the sources do not give;
`"value": null` records that nothing is known from that date (lookup then raises `rate_missing`).
The loader refuses floats (amounts are decimal strings), duplicate or unordered dates, missing
sources or tiers, and a unit that changes inside a series. Lookup never returns zero for a missing
rate: it raises RateMissing naming the parameter and the date.

Loaded official rate sheets (`overrides`) supersede shipped values for the dates they cover; the
shipped values stay, so a lookup names which one it used.
"""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

# The tiers and the file error are the dated parameters' own, re-exported for this reader's callers.
from core.dated import TIERS as TIERS
from core.dated import DatedValue, ValueMissing, entry_start, entry_tier, in_force
from core.dated import ParameterFileError as ParameterFileError
from core.parse import ParseError, parse_decimal

# A value is under 10^12 with at most six decimal places (a rate, a percentage, a cap).
VALUE_MAX_DIGITS, VALUE_DECIMAL_PLACES = 18, 6
PARAMETER_DIR = Path(__file__).parent / "parameters"


class RateMissing(ValueMissing):
    """No value of `parameter` is in force on `on`: the rule cannot be computed (never zero)."""

    code = "rate_missing"

    def __init__(self, parameter: str, on: date, rule: str | None = None):
        super().__init__(parameter, on)
        self.rule = rule


@dataclass(frozen=True)
class Value(DatedValue):
    sheet: str | None = None  # the loaded rate sheet it came from, if not shipped

    @property
    def needs_confirmation(self) -> bool:
        return self.tier in ("T", "D")

    def explain(self) -> dict[str, Any]:
        return {
            "parameter": self.parameter,
            "value": str(self.value),
            "unit": self.unit,
            "from": self.effective_from.isoformat() if self.effective_from else None,
            "tier": self.tier,
            "source": self.source,
            **({"sheet": self.sheet} if self.sheet else {}),
        }


@dataclass(frozen=True)
class _Entry:
    effective_from: date | None
    value: Decimal | None
    tier: str
    source: str


@dataclass(frozen=True)
class Series:
    parameter: str
    rule: str
    unit: str
    description: str
    entries: tuple[_Entry, ...]

    def at(self, on: date) -> _Entry | None:
        return in_force(self.entries, on)


def _reject_float(text: str) -> NoReturn:
    raise ParameterFileError(f"float {text} in a parameter file: write amounts as strings")


def parse_series(raw: dict[str, Any], *, origin: str = "") -> Series:
    """Validate one parameter file's content."""
    where = origin or raw.get("parameter", "?")
    for key in ("parameter", "rule", "unit", "values"):
        if not raw.get(key):
            raise ParameterFileError(f"{where}: `{key}` is required")
    for key in ("parameter", "rule", "unit"):
        if not isinstance(raw[key], str):
            raise ParameterFileError(f"{where}: `{key}` must be a string")
    if not isinstance(raw["values"], list):
        raise ParameterFileError(f"{where}: `values` must be a list")
    entries: list[_Entry] = []
    seen: set[date | None] = set()
    for index, item in enumerate(raw["values"]):
        at = f"{where} values[{index}]"
        if not isinstance(item, dict):
            raise ParameterFileError(f"{at}: a value is an object")
        start = entry_start(item, at)
        if start in seen:
            raise ParameterFileError(f"{at}: duplicate date {start}")
        if start is None and index:
            raise ParameterFileError(f"{at}: only the first value may have `from: null`")
        if (
            entries
            and start is not None
            and entries[-1].effective_from is not None
            and (start < entries[-1].effective_from)
        ):
            raise ParameterFileError(f"{at}: dates must be in order")
        seen.add(start)
        if item.get("unit", raw["unit"]) != raw["unit"]:
            raise ParameterFileError(
                f"{at}: unit {item['unit']} differs from the series unit {raw['unit']}"
            )
        tier = entry_tier(item, at)
        if not str(item.get("source") or "").strip():
            raise ParameterFileError(f"{at}: `source` is required")
        value = item.get("value")
        if value is not None:
            if not isinstance(value, str):
                raise ParameterFileError(f"{at}: `value` must be a decimal string or null")
            try:
                value = parse_value(value)
            except ParameterFileError as error:
                raise ParameterFileError(f"{at}: {error}") from None
        entries.append(_Entry(start, value, tier, item["source"]))
    return Series(
        parameter=raw["parameter"],
        rule=raw["rule"],
        unit=raw["unit"],
        description=raw.get("description", ""),
        entries=tuple(entries),
    )


def load_file(path: Path) -> Series:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"), parse_float=_reject_float)
    except json.JSONDecodeError as error:
        raise ParameterFileError(f"{path.name}: not JSON: {error}") from None
    return parse_series(raw, origin=path.name)


@dataclass(frozen=True)
class Override:
    """A value from a loaded official rate sheet, in force from `effective_from` to `until`.

    A sheet may supersede a shipped series, or supply a schedule nothing is shipped for (the WGA
    schedule of minimums, a local's IATSE wage schedule: names under SCHEDULE_PREFIXES); those
    carry their own unit and rule."""

    parameter: str
    effective_from: date
    until: date | None
    value: Decimal
    tier: str
    source: str
    sheet: str
    unit: str = ""
    rule: str = ""
    origin: str = ""  # where in the sheet it was given ("row 3"), for the problems reported


# Parameters that only a loaded rate sheet supplies: RULES.md §3 ships no figure for them.
SCHEDULE_PREFIXES = ("wga.minimum.", "iatse.scale.", "iatse.")


def override_problems(series: dict[str, Series], overrides: Iterable[Override]) -> list[str]:
    """Every sheet value that names no known series (outside SCHEDULE_PREFIXES with a unit) or
    gives a series in another unit, each with where it was given."""
    problems = []
    for override in overrides:
        where = f"{override.origin}: " if override.origin else ""
        shipped_series = series.get(override.parameter)
        if shipped_series is None and not (
            override.parameter.startswith(SCHEDULE_PREFIXES) and override.unit
        ):
            problems.append(f"{where}rate sheet names unknown parameter {override.parameter}")
        elif shipped_series is not None and override.unit not in ("", shipped_series.unit):
            problems.append(
                f"{where}rate sheet gives {override.parameter} in {override.unit}; the series "
                f"is in {shipped_series.unit}"
            )
    return problems


@dataclass
class Parameters:
    """The shipped series plus any loaded rate sheets, and the version they make together."""

    series: dict[str, Series]
    overrides: tuple[Override, ...] = ()
    version: str = ""
    _by_parameter: dict[str, list[Override]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        problems = override_problems(self.series, self.overrides)
        if problems:
            raise ParameterFileError("; ".join(problems))
        for override in self.overrides:
            self._by_parameter.setdefault(override.parameter, []).append(override)
        if not self.version:
            self.version = _version(self.series, self.overrides)

    def get(self, parameter: str, on: date, *, rule: str | None = None) -> Value:
        """The value in force on `on`; RateMissing if none is."""
        series = self.series.get(parameter)
        for override in reversed(self._by_parameter.get(parameter, [])):
            if override.effective_from <= on and (override.until is None or on <= override.until):
                return Value(
                    parameter,
                    override.value,
                    series.unit if series else override.unit,
                    override.effective_from,
                    override.tier,
                    override.source,
                    series.rule if series else (override.rule or rule or ""),
                    override.sheet,
                )
        if series is None:
            raise RateMissing(parameter, on, rule)
        entry = series.at(on)
        if entry is None or entry.value is None:
            raise RateMissing(parameter, on, rule or series.rule)
        return Value(
            parameter,
            entry.value,
            series.unit,
            entry.effective_from,
            entry.tier,
            entry.source,
            series.rule,
        )

    def in_effect(self, parameter: str, on: date) -> bool:
        """Whether a rate sheet or a shipped value (known or `"value": null`) is dated for `on`:
        the rule that reads `parameter` applies then, though its value may be missing."""
        overrides = self._by_parameter.get(parameter, [])
        if any(o.effective_from <= on and (o.until is None or on <= o.until) for o in overrides):
            return True
        series = self.series.get(parameter)
        return series is not None and series.at(on) is not None

    def latest_loaded(self, parameter: str, on: date) -> Override | None:
        """The rate-sheet value of `parameter` that took effect last on or before `on`, whether
        or not its sheet still covers `on` (a schedule of minimums a later raise applies to)."""
        latest = None
        for override in self._by_parameter.get(parameter, []):  # a later sheet wins a tie
            if override.effective_from <= on and (
                latest is None or override.effective_from >= latest.effective_from
            ):
                latest = override
        return latest

    def has(self, parameter: str) -> bool:
        """Whether a shipped series or a loaded rate sheet names `parameter` (for any date)."""
        return parameter in self.series or parameter in self._by_parameter

    def with_overrides(self, overrides: Iterable[Override]) -> "Parameters":
        return Parameters(self.series, tuple(overrides))


def _version(series: dict[str, Series], overrides: Iterable[Override]) -> str:
    digest = hashlib.sha256()
    for name in sorted(series):
        s = series[name]
        digest.update(
            json.dumps(
                [
                    name,
                    s.rule,
                    s.unit,
                    [(str(e.effective_from), str(e.value), e.tier, e.source) for e in s.entries],
                ],
            ).encode()
        )
    for o in overrides:
        digest.update(
            json.dumps(
                [o.parameter, str(o.effective_from), str(o.until), str(o.value), o.tier, o.sheet]
            ).encode()
        )
    return digest.hexdigest()


def load(directory: Path = PARAMETER_DIR) -> Parameters:
    """Every parameter file under `directory`; a parameter defined twice is refused."""
    series: dict[str, Series] = {}
    for path in sorted(directory.rglob("*.json")):
        loaded = load_file(path)
        if loaded.parameter in series:
            raise ParameterFileError(f"{path.name}: {loaded.parameter} is defined twice")
        series[loaded.parameter] = loaded
    return Parameters(series)


_shipped: Parameters | None = None


def shipped() -> Parameters:
    """The parameters shipped in this package, loaded once."""
    global _shipped
    if _shipped is None:
        _shipped = load()
    return _shipped


def parse_value(text: str) -> Decimal:
    """A parameter's value: under 10^12, at most 6 places, in the API's amount syntax
    (`core.parse`)."""
    try:
        return parse_decimal(
            text,
            field="value",
            allow_negative=True,
            max_digits=VALUE_MAX_DIGITS,
            decimal_places=VALUE_DECIMAL_PLACES,
        )
    except ParseError as error:
        raise ParameterFileError(f"`value` {text!r} is not a decimal: {error.message}") from None
