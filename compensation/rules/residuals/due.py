"""When a residual is due (RULES.md §3 `residual.due`, tier S: the SAG-AFTRA FAQ as quoted by
secretactorsociety.com, evidence.md §9 "Residual due dates"): network TV 30 days after broadcast;
syndication 4 months; basic cable quarterly; supplemental markets 4 months, then quarterly.

How the short rules are read here (each line states the reading it used, `basis`):
- network TV: 30 days after the broadcast date;
- syndication: 4 months after the broadcast date, or after the period's end when no broadcast
  date is given;
- basic cable, "quarterly": the last day of the quarter after the quarter in which the period
  ends;
- supplemental markets: 4 months after the end of the first period in the market (the
  exhibition says `first_period`), later periods quarterly as basic cable;
- high-budget SVOD: the schedule's `due_rule` (one of the three rules above it names) if it
  gives one, else the supplemental-markets rule, the first exhibition year being the first
  period. The sources give no HBSVOD due date of their own."""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

DUE_RULE = "residual.due"
DUE_TIER = "S"
DUE_SOURCE = (
    "RULES.md §3 residual.due; evidence.md §9 Residual due dates: SAG-AFTRA FAQ as quoted by "
    "secretactorsociety.com"
)
NETWORK_DAYS = 30
LATER_MONTHS = 4
HBSVOD_DUE_RULES = ("syndication", "basic_cable", "supplemental_markets")


@dataclass(frozen=True)
class Due:
    on: date
    basis: str  # the reading applied, in words

    def as_dict(self) -> dict[str, Any]:
        return {
            "date": self.on.isoformat(),
            "basis": self.basis,
            "rule": DUE_RULE,
            "tier": DUE_TIER,
            "source": DUE_SOURCE,
        }


def add_months(on: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it has no such day."""
    index = on.month - 1 + months
    year, month = on.year + index // 12, index % 12 + 1
    return date(year, month, min(on.day, calendar.monthrange(year, month)[1]))


def end_of_next_quarter(on: date) -> date:
    """The last day of the quarter after the one holding `on`."""
    next_start = (on.month - 1) // 3 * 3 + 3  # months from January to the next quarter, 3 to 12
    year, end_month = on.year + next_start // 12, next_start % 12 + 3
    return date(year, end_month, calendar.monthrange(year, end_month)[1])


def network_tv(broadcast_on: date) -> Due:
    return Due(broadcast_on + timedelta(days=NETWORK_DAYS), "network TV: 30 days after broadcast")


def syndication(broadcast_on: date | None, period_to: date) -> Due:
    if broadcast_on is not None:
        return Due(add_months(broadcast_on, LATER_MONTHS), "syndication: 4 months after broadcast")
    return Due(add_months(period_to, LATER_MONTHS), "syndication: 4 months after the period's end")


def basic_cable(period_to: date) -> Due:
    return Due(
        end_of_next_quarter(period_to),
        "basic cable, quarterly: the end of the quarter after the period's quarter",
    )


def supplemental_markets(period_to: date, first_period: bool) -> Due:
    if first_period:
        return Due(
            add_months(period_to, LATER_MONTHS),
            "supplemental markets: 4 months after the first period's end",
        )
    return Due(
        end_of_next_quarter(period_to),
        "supplemental markets, then quarterly: the end of the quarter after the period's quarter",
    )


def hbsvod(due_rule: str | None, period_to: date, exhibition_year: int) -> Due:
    """The schedule's due rule, else supplemental markets (year 1 is the first period)."""
    first = exhibition_year == 1
    if due_rule == "syndication":
        due = syndication(None, period_to)
    elif due_rule == "basic_cable":
        due = basic_cable(period_to)
    else:
        due = supplemental_markets(period_to, first)
    origin = "the schedule's due rule" if due_rule else "no due rule in the schedule"
    return Due(due.on, f"high-budget SVOD ({origin}): {due.basis}")
