"""What a formula returns: explained lines, fringes and exceptions.

A line carries its rule id, a description in words, quantity and unit, rate, amount (rounded once,
half-up to the cent), currency, the parameter values it used with their tiers and sources, and
flags: `residuals` (the use generates residuals), `needs_confirmation` (a T or D tier figure was
used), `below_scale` (a negotiated rate under the minimum), `below_day_minimum`."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from core.rounding import round_money

from .params import RateMissing, Value

# A line's amount not given: computed from its quantity and rate (NaN is no amount of money).
AUTO = Decimal("NaN")
# Weakest evidence last: a line is as strong as its weakest parameter.
TIER_ORDER = ("P", "S", "D", "T")


def weakest_tier(params: Iterable[Value]) -> str | None:
    """The tier of the weakest parameter used (TIER_ORDER); None when none was."""
    tiers = [p.tier for p in params]
    return max(tiers, key=TIER_ORDER.index) if tiers else None


@dataclass(frozen=True)
class Rate:
    """A negotiated rate: an amount per unit (day, week, hour, flat) in a currency."""

    amount: Decimal
    unit: str
    currency: str = "USD"


@dataclass(frozen=True)
class Line:
    rule: str
    description: str
    on: date
    quantity: Decimal
    unit: str
    rate: Decimal
    currency: str
    params: tuple[Value, ...] = ()
    flags: tuple[str, ...] = ()
    covered: bool = True  # counts as covered pay for pension and health
    episode: str | None = None
    amount: Decimal = AUTO  # quantity × rate, rounded once, unless given

    def __post_init__(self) -> None:
        if self.amount.is_nan():
            object.__setattr__(self, "amount", round_money(self.quantity * self.rate))
        flags = list(self.flags)
        if any(p.needs_confirmation for p in self.params) and "needs_confirmation" not in flags:
            flags.append("needs_confirmation")
        object.__setattr__(self, "flags", tuple(flags))

    @property
    def tier(self) -> str | None:
        return weakest_tier(self.params)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "description": self.description,
            "date": self.on.isoformat(),
            "quantity": str(self.quantity),
            "unit": self.unit,
            "rate": str(self.rate),
            "amount": f"{self.amount:.2f}",
            "currency": self.currency,
            "tier": self.tier,
            "flags": list(self.flags),
            "parameters": [p.explain() for p in self.params],
            **({"episode": self.episode} if self.episode else {}),
        }


@dataclass(frozen=True)
class Fringe:
    rule: str
    fund: str
    base: Decimal
    rate: Decimal
    amount: Decimal
    currency: str
    on: date
    params: tuple[Value, ...] = ()
    description: str = ""

    @property
    def tier(self) -> str | None:
        return weakest_tier(self.params)

    @property
    def flags(self) -> tuple[str, ...]:
        """`needs_confirmation` when a T or D tier figure was used, as on a line."""
        if any(p.needs_confirmation for p in self.params):
            return ("needs_confirmation",)
        return ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "fund": self.fund,
            "description": self.description,
            "base": f"{self.base:.2f}",
            "rate": str(self.rate),
            "amount": f"{self.amount:.2f}",
            "currency": self.currency,
            "date": self.on.isoformat(),
            "tier": self.tier,
            "flags": list(self.flags),
            "parameters": [p.explain() for p in self.params],
        }


@dataclass(frozen=True)
class Problem:
    """An exception the quote or run reports instead of guessing: `rate_missing` and the like."""

    code: str
    rule: str
    message: str
    parameter: str | None = None
    on: date | None = None

    @classmethod
    def missing(cls, error: RateMissing, rule: str) -> "Problem":
        return cls("rate_missing", rule, str(error), error.parameter, error.on)

    def as_dict(self) -> dict[str, Any]:
        out = {"code": self.code, "rule": self.rule, "message": self.message}
        if self.parameter:
            out["parameter"] = self.parameter
        if self.on:
            out["date"] = self.on.isoformat()
        return out


@dataclass
class Result:
    lines: list[Line] = field(default_factory=list)
    fringes: list[Fringe] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def extend(self, other: "Result") -> None:
        self.lines += other.lines
        self.fringes += other.fringes
        self.problems += other.problems

    def total(self) -> dict[str, Decimal]:
        totals: dict[str, Decimal] = {}
        items: list[Line | Fringe] = [*self.lines, *self.fringes]
        for item in items:
            totals[item.currency] = totals.get(item.currency, Decimal("0")) + item.amount
        return totals


def guard(result: Result, rule: str, compute_lines: Callable[[], Iterable[Line | Fringe]]) -> None:
    """Add what a formula returns; a missing rate becomes a `rate_missing` exception, so the quote
    still returns every line it can."""
    try:
        produced = compute_lines()
    except RateMissing as missing:
        result.problems.append(Problem.missing(missing, rule))
        return
    for item in produced:
        if isinstance(item, Fringe):
            result.fringes.append(item)
        else:
            result.lines.append(item)
