"""A residual schedule: the figures the residual rules multiply (RULES.md §3 Residuals), as staff
load them. Nothing here is shipped: every factor comes from the schedule, and a key the schedule
lacks raises RateMissing naming the key (`base:episode:60`, `subscriber_factor:tier_2`,
`exhibition_year:3:foreign`, `gross_receipts:basic_cable:foreign`) and the date it was needed.

Each factor becomes a `params.Value` carrying the schedule's tier, source and name (as `sheet`),
so a line explains it the way a quote line explains a rate."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from compensation.rules.params import RateMissing, Value

HBSVOD_RULE = {"sag-aftra": "sag.residual.hbsvod", "wga": "wga.residual.hbsvod"}
GROSS_RECEIPTS_RULE = "residual.gross_receipts"


@dataclass(frozen=True)
class Schedule:
    """`bases`: {(work type, running minutes up to): amount}; `subscriber_factors`: {tier:
    factor}; `exhibition_year_percent`: {(year, territory): percent};
    `gross_receipts_percent`: {(market, territory): percent}; `due_rule`: the market whose due
    dates the HBSVOD residual follows (None: supplemental markets)."""

    name: str
    source: str
    tier: str
    currency: str = "USD"
    bases: dict[tuple[str, int], Decimal] = field(default_factory=dict)
    subscriber_factors: dict[str, Decimal] = field(default_factory=dict)
    exhibition_year_percent: dict[tuple[int, str], Decimal] = field(default_factory=dict)
    gross_receipts_percent: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    due_rule: str | None = None

    def _value(self, key: str, value: Decimal, unit: str, rule: str) -> Value:
        return Value(key, value, unit, None, self.tier, self.source, rule, self.name)

    def base(self, work_type: str, running_minutes: int, on: date, rule: str) -> Value:
        """The residual base of the work: the band of `work_type` with the fewest minutes at or
        above `running_minutes` (a band "episode:60" holds programs of up to 60 minutes, above
        the next shorter band)."""
        bands = sorted(m for t, m in self.bases if t == work_type and m >= running_minutes)
        if not bands:
            raise RateMissing(f"base:{work_type}:{running_minutes}", on, rule)
        key = (work_type, bands[0])
        return self._value(f"base:{work_type}:{bands[0]}", self.bases[key], self.currency, rule)

    def subscriber_factor(self, tier: str, on: date, rule: str) -> Value:
        if tier not in self.subscriber_factors:
            raise RateMissing(f"subscriber_factor:{tier}", on, rule)
        return self._value(
            f"subscriber_factor:{tier}", self.subscriber_factors[tier], "factor", rule
        )

    def exhibition_year(self, year: int, territory: str, on: date, rule: str) -> Value:
        key = (year, territory)
        if key not in self.exhibition_year_percent:
            raise RateMissing(f"exhibition_year:{year}:{territory}", on, rule)
        percent = self.exhibition_year_percent[key]
        return self._value(f"exhibition_year:{year}:{territory}", percent, "percent", rule)

    def gross_receipts(self, market: str, territory: str, on: date) -> Value:
        key = (market, territory)
        name = f"gross_receipts:{market}:{territory}"
        if key not in self.gross_receipts_percent:
            raise RateMissing(name, on, GROSS_RECEIPTS_RULE)
        return self._value(name, self.gross_receipts_percent[key], "percent", GROSS_RECEIPTS_RULE)
