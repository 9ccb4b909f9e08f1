"""What the residual engine returns: explained lines and exceptions.

A line carries its rule id, a description in words, the exhibition it comes from, quantity and
unit, the factors it multiplied (schedule key or parameter, value, tier, source), the amount
(rounded once, half-up to the cent), its currency, its payee (a person or a fund), its due date
with the reading of `residual.due` used, and flags (`needs_confirmation` when a T or D tier
figure was used)."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from compensation.rules.lines import Problem, weakest_tier
from compensation.rules.params import Value
from core.rounding import round_money

from .due import Due

PayeeKind = Literal["person", "fund"]


@dataclass(frozen=True)
class Payee:
    kind: PayeeKind
    id: str


@dataclass(frozen=True)
class ResidualLine:
    rule: str
    description: str
    exhibition: int  # index in the input's exhibitions
    market: str
    territory: str
    on: date  # the exhibition date the factors were read at
    quantity: Decimal
    unit: str
    exact: Decimal  # the amount before rounding: quantity × every factor
    currency: str
    payee: Payee
    due: Due
    factors: tuple[Value, ...] = ()
    flags: tuple[str, ...] = ()
    on_behalf_of: str | None = None  # the person a fund's contribution is for

    @property
    def amount(self) -> Decimal:
        return round_money(self.exact)

    @property
    def tier(self) -> str | None:
        return weakest_tier(self.factors)

    @property
    def all_flags(self) -> tuple[str, ...]:
        if any(f.needs_confirmation for f in self.factors) and "needs_confirmation" not in (
            self.flags
        ):
            return (*self.flags, "needs_confirmation")
        return self.flags

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "description": self.description,
            "exhibition": self.exhibition,
            "market": self.market,
            "territory": self.territory,
            "date": self.on.isoformat(),
            "quantity": str(self.quantity),
            "unit": self.unit,
            "amount": f"{self.amount:.2f}",
            "currency": self.currency,
            "payee": {"kind": self.payee.kind, "id": self.payee.id},
            "due": self.due.as_dict(),
            "tier": self.tier,
            "flags": list(self.all_flags),
            "factors": [{**factor.explain(), "rule": factor.rule} for factor in self.factors],
            **({"on_behalf_of": self.on_behalf_of} if self.on_behalf_of else {}),
        }


@dataclass
class ResidualResult:
    lines: list[ResidualLine] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def total(self) -> dict[str, Decimal]:
        totals: dict[str, Decimal] = {}
        for line in self.lines:
            totals[line.currency] = totals.get(line.currency, Decimal(0)) + line.amount
        return totals

    def as_dict(self) -> dict[str, Any]:
        return {
            "lines": [line.as_dict() for line in self.lines],
            "total": [
                {"currency": c, "amount": f"{a:.2f}"} for c, a in sorted(self.total().items())
            ],
            "exceptions": [problem.as_dict() for problem in self.problems],
        }
