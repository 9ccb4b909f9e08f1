"""The quote: what is owed for a self-contained set of work, computed with no side effects. The
API's `compensation/quote/`, `manage.py quote` and compensation runs all call `quote()`.

A quote that needs a missing rate still returns every line it can, plus a `rate_missing`
exception naming the parameter and date. The agreement version is chosen by the date of each
piece of work (RULES.md §1); a date outside the named agreement's term is an exception, not a
silent pick.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from core.parse import ParseError, parse_clock_time, parse_date, parse_decimal

from . import iatse, sag, wga
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
# RULES.md §1: the term of each agreement version (None: no end date found).
AGREEMENT_TERM = {
    "sag-tvth-2023": (date(2023, 11, 9), date(2026, 6, 30)),
    "sag-tvth-2026": (date(2026, 7, 1), date(2030, 6, 30)),
    "wga-mba-2023": (date(2023, 9, 25), date(2026, 5, 1)),
    "wga-mba-2026": (date(2026, 5, 2), None),
    "iatse-basic-2024": (date(2024, 8, 4), date(2027, 7, 31)),
}
# The pieces of work whose date picks the agreement version (RULES.md §1): the work date, the use
# date, the delivery date.
WORK_DATED = {
    "sag-aftra": ("work_days", "scans", "replica_uses"),
    "wga": ("deliveries",),
    "iatse": ("work_days",),
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
    "ai_kit_rental",
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
    other_pay = _other_pay(body, _currency(body))
    if guild == "sag-aftra":
        result = _sag(body, params)
    elif guild == "wga":
        result = _wga(body, params, other_pay)
    else:
        result = _iatse(body, params)
    result.lines += other_pay
    result.problems += out_of_term(agreement, body)
    return Quote(result, params.version)


def out_of_term(agreement: str, body: dict) -> list[Problem]:
    """An `agreement_out_of_term` exception for each date of work outside the named agreement's
    term (RULES.md §1), naming the version in force then, if any. The lines are still computed
    at the rates in force on their dates."""
    guild = AGREEMENT_GUILD[agreement]
    start, end = AGREEMENT_TERM[agreement]
    dates = {
        date.fromisoformat(item["date"]) for key in WORK_DATED[guild] for item in _list(body, key)
    }
    problems = []
    for on in sorted(dates):
        if start <= on and (end is None or on <= end):
            continue
        governing = [
            name
            for name, (first, last) in AGREEMENT_TERM.items()
            if AGREEMENT_GUILD[name] == guild and first <= on and (last is None or on <= last)
        ]
        term = f"{start} to {end}" if end else f"from {start}"
        problems.append(
            Problem(
                "agreement_out_of_term",
                agreement,
                f"Work dated {on} is outside the term of {agreement} ({term}); "
                + (
                    f"{governing[0]} is in force then."
                    if governing
                    else "no agreement of RULES.md §1 for that guild is in force then."
                ),
                on=on,
            )
        )
    return problems


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
        prior_covered=_prior_covered(body.get("prior_covered")),
    )
    return sag.compute(
        performer,
        work_days=[_work_day(d, f"work_days[{i}]") for i, d in enumerate(_list(body, "work_days"))],
        replica_uses=[
            _replica_use(u, f"replica_uses[{i}]") for i, u in enumerate(_list(body, "replica_uses"))
        ],
        scans=[_scan(s, f"scans[{i}]") for i, s in enumerate(_list(body, "scans"))],
    )


def _prior_covered(raw) -> dict:
    """Covered pay before this quote: an amount (theatrical), or {episode: amount}."""
    if isinstance(raw, dict):
        return {
            (episode or None): _amount(amount, f"prior_covered.{episode}")
            for episode, amount in raw.items()
        }
    return {None: _amount(raw or "0", "prior_covered")}


def _wga(body, params, other_pay) -> Result:
    """deliveries: [{"work_type", "date", "ai_material_handed_over"}]; the negotiated fee is
    `other_pay`. A work type is a schedule key such as `screenplay`, `teleplay`, `rewrite`,
    `polish` or `screenplay_rewrite`; AI-generated material handed over with a rewrite or polish
    needs `production_kind` to name the original work (screenplay or teleplay)."""
    kind = body.get("production_kind")
    if kind is not None and kind not in wga.ORIGINAL_BY_KIND:
        raise QuoteInputError(f"One of: {', '.join(wga.ORIGINAL_BY_KIND)}.", "production_kind")
    writer = wga.Writer(params=params, production_kind=kind, currency=_currency(body))
    if body.get("rate") is not None:
        _rate(body.get("rate"))  # validated for its currency; the fee itself is other_pay
    for i, raw in enumerate(_list(body, "deliveries")):
        where = f"deliveries[{i}]"
        _keys(raw, {"work_type", "date", "ai_material_handed_over"}, where)
        work_type = raw.get("work_type")
        if not isinstance(work_type, str) or not wga.WORK_TYPE.match(work_type):
            raise QuoteInputError(
                "A work type from the schedule of minimums, e.g. screenplay.", f"{where}.work_type"
            )
        delivery = wga.Delivery(
            work_type=work_type,
            on=_date(raw.get("date"), f"{where}.date"),
            ai_material_handed_over=_flag(
                raw.get("ai_material_handed_over"), f"{where}.ai_material_handed_over"
            ),
        )
        if delivery.ai_material_handed_over and (wga.original_work_type(work_type, kind) is None):
            raise QuoteInputError(
                "production_kind (theatrical or television) is needed to name the original work "
                f"a {work_type} of AI-generated material is paid as.",
                "production_kind",
            )
        writer.deliveries.append(delivery)
    return wga.compute(writer, pay=other_pay)


def _iatse(body, params) -> Result:
    """classification: the IATSE classification code of the loaded wage schedule; rate per hour
    (or per week for an on-call weekly employee); work_days[].rest_start: when the rest before
    that day began, an ISO datetime or an HH:MM time on the previous day."""
    code = body.get("classification")
    if not isinstance(code, str) or not iatse.CLASSIFICATION.match(code):
        raise QuoteInputError(
            "The classification code of the wage schedule (letters, digits, _ or -).",
            "classification",
        )
    rate = _rate(body.get("rate"))
    employee = iatse.Employee(
        classification=code,
        rate=None if rate is None else iatse.Rate(rate.amount, rate.unit, rate.currency),
        params=params,
    )
    days = [_work_day(d, f"work_days[{i}]") for i, d in enumerate(_list(body, "work_days"))]
    kit = body.get("ai_kit_rental")
    if kit is not None:
        _keys(kit, {"amount", "per", "date"}, "ai_kit_rental")
        per = kit.get("per")
        if per not in ("day", "flat"):
            raise QuoteInputError("One of: day, flat.", "ai_kit_rental.per")
        on = None if kit.get("date") is None else _date(kit.get("date"), "ai_kit_rental.date")
        if not days and on is None:
            raise QuoteInputError("A kit rental needs work days or a date.", "ai_kit_rental.date")
        employee.kit_rental = iatse.KitRental(
            _amount(kit.get("amount"), "ai_kit_rental.amount"), per, on
        )
    return iatse.compute(employee, work_days=days)


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
    day = WorkDay.build(
        _date(raw.get("date"), f"{where}.date"),
        _time(raw.get("first_call"), f"{where}.first_call"),
        _time(raw.get("dismissal"), f"{where}.dismissal"),
        meals=meals,
        rest_start=None,
        episode=_episode(raw, where),
    )
    if raw.get("rest_start") is not None:
        rest_start = _rest_start(raw.get("rest_start"), day.on, f"{where}.rest_start")
        if rest_start > day.first_call:
            raise QuoteInputError("The rest began after the call.", f"{where}.rest_start")
        day = WorkDay(**{**day.__dict__, "rest_start": rest_start})
    return day


def _rest_start(value, on: date, where) -> datetime:
    """When the rest before the day began: an ISO datetime (2024-09-02T22:30), or an HH:MM
    time, which is on the day before `on`."""
    if isinstance(value, str) and "T" in value:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise QuoteInputError("A datetime, YYYY-MM-DDTHH:MM, or HH:MM.", where) from None
        if moment.tzinfo is not None:
            raise QuoteInputError("A local datetime, without an offset.", where)
        return moment
    return datetime.combine(on - timedelta(days=1), _time(value, where))


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
    """From 0 to under 10^12, at most 6 places, in the API's amount syntax (`core.parse`)."""
    if not isinstance(value, str):
        raise QuoteInputError('A decimal string, e.g. "1500.00".', where)
    try:
        return parse_decimal(value, field=where, max_digits=18, decimal_places=6)
    except ParseError as error:
        raise QuoteInputError(error.message, where) from None


def _date(value, where) -> date:
    try:
        return parse_date(value, field=where)
    except ParseError as error:
        raise QuoteInputError(f"A date, YYYY-MM-DD. {error.message}", where) from None


def _time(value, where) -> time:
    try:
        return parse_clock_time(value, field=where)
    except ParseError:
        raise QuoteInputError("A local time of day, HH:MM, without an offset.", where) from None


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
