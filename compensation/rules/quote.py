"""The quote: what is owed for a self-contained set of work, computed with no side effects. The
API's `compensation/quote/`, `manage.py quote` and compensation runs all call `quote()`.

A quote that needs a missing rate still returns every line it can, plus a `rate_missing`
exception naming the parameter and date. The agreement version is chosen by the date of each
piece of work (RULES.md §1); a date outside the named agreement's term is an exception, not a
silent pick.
"""

from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal, InvalidOperation

from . import sag
from .lines import Line, Problem, Result
from .params import Parameters, shipped
from .workday import WorkDay

AGREEMENT_GUILD = {
    "sag-tvth-2023": "sag-aftra",
    "sag-tvth-2026": "sag-aftra",
    "wga-mba-2023": "wga",
    "wga-mba-2026": "wga",
    "iatse-basic-2024": "iatse",
}
CURRENCIES = ("USD", "CAD", "GBP", "EUR", "AUD", "NZD")
_KEYS = {
    "agreement",
    "classification",
    "production_kind",
    "episode_minutes",
    "rate",
    "work_days",
    "replica_uses",
    "scans",
    "deliveries",
    "other_pay",
    "prior_covered",
}


class QuoteInputError(ValueError):
    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.message, self.field = message, field


@dataclass(frozen=True)
class Quote:
    result: Result
    version: str

    def as_dict(self) -> dict:
        total = self.result.total()
        return {
            "lines": [line.as_dict() for line in self.result.lines],
            "fringes": [fringe.as_dict() for fringe in self.result.fringes],
            "total": [{"currency": c, "amount": f"{a:.2f}"} for c, a in sorted(total.items())],
            "exceptions": [problem.as_dict() for problem in self.result.problems],
            "rules_version": self.version,
        }


def quote(body: dict, params: Parameters | None = None) -> Quote:
    """Compute a quote from its JSON body; QuoteInputError names the faulty field."""
    params = params or shipped()
    if not isinstance(body, dict):
        raise QuoteInputError("The quote is an object.", "non_field_errors")
    unknown = sorted(set(body) - _KEYS)
    if unknown:
        raise QuoteInputError(f"Unknown field(s): {', '.join(unknown)}.", unknown[0])
    agreement = body.get("agreement")
    if agreement not in AGREEMENT_GUILD:
        raise QuoteInputError(f"One of: {', '.join(AGREEMENT_GUILD)}.", "agreement")
    guild = AGREEMENT_GUILD[agreement]
    result = Result()
    if guild == "sag-aftra":
        result = _sag(body, params)
    else:
        result.problems.append(
            Problem(
                "not_computed",
                f"{guild}.pay",
                f"{agreement}: pay under this agreement is not computed by the quote yet.",
            )
        )
    result.lines += _other_pay(body, _currency(body))
    return Quote(result, params.version)


def _sag(body, params) -> sag.Result:
    classification = body.get("classification")
    if classification not in sag.CLASSIFICATIONS:
        raise QuoteInputError(f"One of: {', '.join(sag.CLASSIFICATIONS)}.", "classification")
    kind = body.get("production_kind")
    if kind not in ("theatrical", "television", "new_media", "interactive"):
        raise QuoteInputError(
            "One of: theatrical, television, new_media, interactive.", "production_kind"
        )
    minutes = body.get("episode_minutes")
    if kind == "television" and (type(minutes) is not int or not 0 < minutes < 1000):
        raise QuoteInputError("Television needs episode_minutes (1-999).", "episode_minutes")
    performer = sag.Performer(
        classification=classification,
        rate=_rate(body.get("rate")),
        production_kind=kind,
        episode_minutes=minutes,
        params=params,
        prior_covered={None: _amount(body.get("prior_covered") or "0", "prior_covered")},
    )
    return sag.compute(
        performer,
        work_days=[_work_day(d, f"work_days[{i}]") for i, d in enumerate(_list(body, "work_days"))],
        replica_uses=[
            _replica_use(u, f"replica_uses[{i}]") for i, u in enumerate(_list(body, "replica_uses"))
        ],
        scans=[_scan(s, f"scans[{i}]") for i, s in enumerate(_list(body, "scans"))],
    )


def _other_pay(body, currency) -> list[Line]:
    lines = []
    for i, item in enumerate(_list(body, "other_pay")):
        where = f"other_pay[{i}]"
        _keys(item, {"date", "amount", "description"}, where)
        amount = _amount(item.get("amount"), f"{where}.amount")
        lines.append(
            Line(
                rule="other_pay",
                description=str(item.get("description") or "Pay entered, not computed")[:500],
                on=_date(item.get("date"), f"{where}.date"),
                quantity=Decimal(1),
                unit="flat",
                rate=amount,
                currency=currency,
            )
        )
    return lines


# --- field parsers --------------------------------------------------------------------------


def _currency(body) -> str:
    rate = body.get("rate")
    return rate.get("currency", "USD") if isinstance(rate, dict) else "USD"


def _rate(raw) -> sag.Rate | None:
    if raw is None:
        return None
    _keys(raw, {"amount", "unit", "currency"}, "rate")
    unit = raw.get("unit")
    if unit not in ("day", "week", "hour", "flat"):
        raise QuoteInputError("One of: day, week, hour, flat.", "rate.unit")
    currency = raw.get("currency", "USD")
    if currency not in CURRENCIES:
        raise QuoteInputError(f"One of: {', '.join(CURRENCIES)}.", "rate.currency")
    amount = _amount(raw.get("amount"), "rate.amount")
    if amount <= 0:
        raise QuoteInputError("The rate must be above zero.", "rate.amount")
    return sag.Rate(amount, unit, currency)


def _work_day(raw, where) -> WorkDay:
    _keys(raw, {"date", "first_call", "dismissal", "meals", "rest_start", "episode"}, where)
    meals = []
    for j, meal in enumerate(raw.get("meals") or []):
        if not (isinstance(meal, list) and len(meal) == 2):
            raise QuoteInputError("A meal is [start, end].", f"{where}.meals[{j}]")
        meals.append((_time(meal[0], f"{where}.meals[{j}]"), _time(meal[1], f"{where}.meals[{j}]")))
    return WorkDay.build(
        _date(raw.get("date"), f"{where}.date"),
        _time(raw.get("first_call"), f"{where}.first_call"),
        _time(raw.get("dismissal"), f"{where}.dismissal"),
        meals=meals,
        episode=_episode(raw, where),
    )


def _replica_use(raw, where) -> sag.ReplicaUse:
    _keys(raw, {"kind", "date", "days", "amount", "episode"}, where)
    kind = raw.get("kind")
    if kind not in ("ebdr_use", "new_project_use", "icdr_use"):
        raise QuoteInputError("One of: ebdr_use, new_project_use, icdr_use.", f"{where}.kind")
    amount = raw.get("amount")
    return sag.ReplicaUse(
        kind=kind,
        on=_date(raw.get("date"), f"{where}.date"),
        days=_amount(raw.get("days", "1"), f"{where}.days"),
        amount=None if amount is None else _amount(amount, f"{where}.amount"),
        episode=_episode(raw, where),
    )


def _scan(raw, where) -> sag.Scan:
    _keys(
        raw,
        {"date", "hours", "other_work_that_day", "for_performer_convenience", "episode"},
        where,
    )
    return sag.Scan(
        on=_date(raw.get("date"), f"{where}.date"),
        hours=_amount(raw.get("hours"), f"{where}.hours"),
        other_work_that_day=_flag(raw.get("other_work_that_day"), f"{where}.other_work_that_day"),
        for_performer_convenience=_flag(
            raw.get("for_performer_convenience"), f"{where}.for_performer_convenience"
        ),
        episode=_episode(raw, where),
    )


def _episode(raw, where):
    episode = raw.get("episode")
    if episode is not None and (not isinstance(episode, str) or not 0 < len(episode) <= 40):
        raise QuoteInputError("An episode is a short string.", f"{where}.episode")
    return episode


def _amount(value, where) -> Decimal:
    if not isinstance(value, str):
        raise QuoteInputError('A decimal string, e.g. "1500.00".', where)
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise QuoteInputError(f"{value!r} is not a decimal.", where) from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e12"):
        raise QuoteInputError("A finite amount from 0 to under 10^12.", where)
    return amount


def _date(value, where) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise QuoteInputError("A date, YYYY-MM-DD.", where) from None


def _time(value, where) -> time:
    try:
        parsed = time.fromisoformat(value)
    except (TypeError, ValueError):
        raise QuoteInputError("A time of day, HH:MM.", where) from None
    if parsed.tzinfo is not None:
        raise QuoteInputError("A local time of day, without an offset.", where)
    return parsed


def _flag(value, where) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise QuoteInputError("true or false.", where)
    return value


def _keys(raw, keys, where):
    if not isinstance(raw, dict):
        raise QuoteInputError("An object.", where)
    unknown = sorted(set(raw) - keys)
    if unknown:
        raise QuoteInputError(f"Unknown field(s): {', '.join(unknown)}.", f"{where}.{unknown[0]}")


def _list(body, key) -> list:
    value = body.get(key) or []
    if not isinstance(value, list):
        raise QuoteInputError("A list.", key)
    return value
