"""What a quote is computed from (`QuoteInput`), and `parse()`, which reads it from the JSON body
of `POST compensation/quote/` and `manage.py quote`. Compensation runs build a `QuoteInput`
from their records directly (compensation/runs.py): typed values, no JSON in between.

Every refusal is a `core.parse.ParseError` naming the faulty field (`work_days[0].first_call`).
`parse` reads the whole body and reports every faulty field at once (`core.parse.ParseErrors`,
in the order the fields are read); a body with one fault raises that fault's ParseError alone.
The body:

    agreement          an agreement code of the catalogue (RULES.md §1)
    rate               {amount, unit: day|week|hour|flat, currency}, optional
    other_pay          [{date, amount, description}]: pay entered, not computed
    SAG-AFTRA          classification, production_kind, episode_minutes (television),
                       prior_covered, work_days, replica_uses, scans
    WGA                production_kind, prior_covered (an amount: the screen-project ceiling),
                       deliveries: [{work_type, date, ai_material_handed_over}]
    non-union          refused: no union pay rules (RULES.md §1)
    IATSE              classification (a wage schedule code), work_days, ai_kit_rental
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, ParamSpec, TypeVar

from core.parse import (
    ParseError,
    ParseErrors,
    parse_choice,
    parse_clock_time,
    parse_date,
    parse_decimal,
    parse_flag,
    parse_list,
    parse_object,
    parse_string,
    parse_whole_number,
)
from ledger.registry.catalogue import AGREEMENTS

from . import iatse, sag, wga
from .lines import Rate
from .workday import WorkDay

CURRENCIES = ("USD", "CAD", "GBP", "EUR", "AUD", "NZD")
RATE_UNITS = ("day", "week", "hour", "flat")
SAG_PRODUCTION_KINDS = ("theatrical", "television", "new_media", "interactive")
REPLICA_USE_KINDS = ("ebdr_use", "new_project_use", "icdr_use")
KIT_RENTAL_PER = ("day", "flat")
EPISODE_LENGTH = 40
# RULES.md §1: `non-union` has the general consent rules and state law only.
NO_UNION_PAY = (
    "non-union: no union pay rules apply (RULES.md §1); nothing is computed under non-union."
)
# RULES.md §3 sag.ph: the per-episode ceiling is chosen by the episode's length.
EPISODE_MINUTES = (1, 999)
# Stand-ins for a faulty date or time while the rest of the body is read (`Found`).
NO_DATE = date(1900, 1, 1)
NO_TIME = time(0)
T = TypeVar("T")
Item = TypeVar("Item")
P = ParamSpec("P")
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


# --- the input ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OtherPay:
    """Pay entered, not computed (a negotiated fee): one flat line."""

    on: date
    amount: Decimal
    description: str


@dataclass(frozen=True)
class SagWork:
    classification: str  # one of sag.CLASSIFICATIONS
    production_kind: str
    episode_minutes: int | None  # television only
    prior_covered: Mapping[str | None, Decimal]  # episode (None: the production) -> covered pay
    work_days: tuple[WorkDay, ...] = ()
    replica_uses: tuple[sag.ReplicaUse, ...] = ()
    scans: tuple[sag.Scan, ...] = ()


@dataclass(frozen=True)
class WgaWork:
    production_kind: str | None  # names the original work of an AI-material rewrite or polish
    deliveries: tuple[wga.Delivery, ...] = ()
    prior_covered: Decimal = Decimal(0)  # reportable compensation before (screen ceiling)


@dataclass(frozen=True)
class IatseWork:
    classification: str  # a wage schedule code (iatse.CLASSIFICATION)
    work_days: tuple[WorkDay, ...] = ()
    kit_rental: iatse.KitRental | None = None


@dataclass(frozen=True)
class QuoteInput:
    agreement: str  # a code of ledger.registry.catalogue.AGREEMENTS
    rate: Rate | None
    work: SagWork | WgaWork | IatseWork  # the agreement's guild's
    other_pay: tuple[OtherPay, ...] = ()

    @property
    def currency(self) -> str:
        return self.rate.currency if self.rate else "USD"

    @property
    def guild(self) -> str | None:
        """The agreement's guild (None only for `non-union`, which `parse` and the runs refuse
        before any input is built: NO_UNION_PAY)."""
        return AGREEMENTS[self.agreement].guild


# --- worked examples (`manage.py quote --example <guild>`) -----------------------------------

# One input per guild, each computed as it stands. SAG-AFTRA: a day performer's long day, a
# digital replica made and then used (RULES.md §3 sag.pay.*, sag.ph). WGA: a screenplay and its
# fee (wga.pay.minimum, wga.ph); the schedule of minimums is loaded as a rate sheet, so without
# one the minimum is a `rate_missing` exception beside the fee and its fringes. IATSE: an hourly
# set dresser's two days, a meal 75 minutes late, a rest between them 1.5 hours short, and an AI
# kit rental (iatse.pay.*); the wage scale, too, comes from a loaded rate sheet.
EXAMPLES: dict[str, dict[str, Any]] = {
    "sag": {
        "agreement": "sag-tvth-2023",
        "classification": "day_performer",
        "production_kind": "theatrical",
        "rate": {"amount": "1500.00", "unit": "day", "currency": "USD"},
        "work_days": [
            {
                "date": "2025-08-01",
                "first_call": "07:00",
                "dismissal": "19:30",
                "meals": [["13:00", "13:30"]],
            }
        ],
        "scans": [
            {
                "date": "2025-03-10",
                "hours": "3.0",
                "other_work_that_day": False,
                "for_performer_convenience": False,
            }
        ],
        "replica_uses": [{"kind": "ebdr_use", "date": "2025-09-10", "days": "2"}],
    },
    "wga": {
        "agreement": "wga-mba-2023",
        "production_kind": "theatrical",
        "deliveries": [
            {"work_type": "screenplay", "date": "2024-06-01", "ai_material_handed_over": False}
        ],
        "other_pay": [
            {"date": "2024-06-01", "amount": "100000.00", "description": "Screenplay fee"}
        ],
    },
    "iatse": {
        "agreement": "iatse-basic-2024",
        "classification": "set_dresser",
        "rate": {"amount": "50.00", "unit": "hour", "currency": "USD"},
        "work_days": [
            {
                "date": "2024-09-02",
                "first_call": "13:00",
                "dismissal": "21:30",
                "meals": [["20:15", "20:45"]],
            },
            {"date": "2024-09-03", "first_call": "06:00", "dismissal": "12:00"},
        ],
        "ai_kit_rental": {"amount": "50.00", "per": "day"},
    },
}


# --- checks shared with the runs, which build the input from records ------------------------


def check_classification(value: object) -> str:
    """A SAG-AFTRA classification of the rules."""
    return parse_choice(value, sag.CLASSIFICATIONS, field="classification")


def check_production_kind(value: object) -> str:
    return parse_choice(value, SAG_PRODUCTION_KINDS, field="production_kind")


def check_episode_minutes(kind: str, value: object) -> int | None:
    """Television needs the episode length (RULES.md §3 sag.ph); other kinds have no use for it."""
    if kind != "television":
        return None
    low, high = EPISODE_MINUTES
    return parse_whole_number(
        value,
        field="episode_minutes",
        minimum=low,
        maximum=high,
        message="Television needs episode_minutes (1-999).",
    )


def check_iatse_classification(value: object) -> str:
    return parse_string(
        value,
        field="classification",
        pattern=iatse.CLASSIFICATION,
        message="The classification code of the wage schedule (letters, digits, _ or -).",
    )


def check_work_type(value: object, where: str) -> str:
    """A work type of the schedule of minimums (`wga.minimum.<work type>`)."""
    return parse_string(
        value,
        field=f"{where}.work_type",
        pattern=wga.WORK_TYPE,
        message="A work type from the schedule of minimums, e.g. screenplay.",
    )


def check_delivery(delivery: wga.Delivery, production_kind: str | None) -> wga.Delivery:
    """AI-generated material handed over with a rewrite or polish is paid as the original work
    (RULES.md §3 wga.pay.first_writer), which the production kind names."""
    if delivery.ai_material_handed_over and (
        wga.original_work_type(delivery.work_type, production_kind) is None
    ):
        raise ParseError(
            "production_kind",
            "production_kind (theatrical or television) is needed to name the original work "
            f"a {delivery.work_type} of AI-generated material is paid as.",
        )
    return delivery


# --- parse ----------------------------------------------------------------------------------


def parse(body: object) -> QuoteInput:
    """The quote's JSON body as a QuoteInput. A faulty body raises the ParseError of its one
    faulty field, or `ParseErrors` naming every one, in the order the fields are read."""
    if not isinstance(body, dict):
        raise ParseError("non_field_errors", "The quote is an object.")
    found = Found()
    body = found.read(
        {key: value for key, value in body.items() if key in _KEYS},
        parse_object,
        body,
        field="",
        keys=_KEYS,
        unknown=_unknown_top_level,
    )
    agreement = found.read(None, parse_choice, body.get("agreement"), AGREEMENTS, field="agreement")
    if agreement is not None and not AGREEMENTS[agreement].is_union:
        found.add(ParseError("agreement", NO_UNION_PAY))
        agreement = None
    other_pay = _each(found, body, "other_pay", _other_pay)
    if agreement is None:  # the agreement's guild says what else to read
        raise found.error()
    guild = AGREEMENTS[agreement].guild
    rate: Rate | None
    work: SagWork | WgaWork | IatseWork
    if guild == "sag-aftra":
        rate, work = _sag(found, body)
    elif guild == "wga":
        rate, work = _wga(found, body)
    else:
        rate, work = _iatse(found, body)
    if found.errors:
        raise found.error()
    return QuoteInput(agreement=agreement, rate=rate, work=work, other_pay=other_pay)


class Found:
    """The faults of one body, collected in the order its fields are read, so that one answer
    names them all. A faulty field reads as a stand-in value (`read`'s fallback) that is never
    used: `parse` raises before it builds the input."""

    def __init__(self) -> None:
        self.errors: list[ParseError] = []

    def read(self, fallback: T, parser: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """`parser(*args, **kwargs)`, or `fallback` with the ParseError kept."""
        try:
            return parser(*args, **kwargs)
        except ParseError as error:
            self.add(error)
            return fallback

    def add(self, error: ParseError) -> None:
        self.errors.extend(error.errors if isinstance(error, ParseErrors) else [error])

    def error(self) -> ParseError:
        """The one fault as itself (as before faults were collected), or all of them."""
        return self.errors[0] if len(self.errors) == 1 else ParseErrors(self.errors)


def _each(
    found: Found,
    body: dict[str, Any],
    key: str,
    parser: Callable[[Found, object, str], Item | None],
) -> tuple[Item, ...]:
    """The items of a list field that read without fault (`_items`); the faults are kept."""
    items = (parser(found, raw, f"{key}[{i}]") for i, raw in found.read([], _items, body, key))
    return tuple(item for item in items if item is not None)


def _unknown_top_level(names: list[str]) -> ParseError:
    return ParseError(names[0], f"Unknown field(s): {', '.join(names)}.")


def _sag(found: Found, body: dict[str, Any]) -> tuple[Rate | None, SagWork]:
    classification = found.read("", check_classification, body.get("classification"))
    kind = found.read("", check_production_kind, body.get("production_kind"))
    minutes = None
    if kind:  # the episode length is read for a known kind only
        minutes = found.read(None, check_episode_minutes, kind, body.get("episode_minutes"))
    rate = _rate(found, body.get("rate"))
    prior_covered = found.read({}, _prior_covered, body.get("prior_covered"))
    work_days = _each(found, body, "work_days", _work_day)
    replica_uses = _each(found, body, "replica_uses", _replica_use)
    scans = _each(found, body, "scans", _scan)
    return rate, SagWork(
        classification=classification,
        production_kind=kind,
        episode_minutes=minutes,
        prior_covered=prior_covered,
        work_days=work_days,
        replica_uses=replica_uses,
        scans=scans,
    )


def _prior_covered(raw: object) -> dict[str | None, Decimal]:
    """Covered pay before this quote: an amount (theatrical), or {episode: amount}."""
    if isinstance(raw, dict):
        return {
            (episode or None): _amount(amount, f"prior_covered.{episode}")
            for episode, amount in raw.items()
        }
    return {None: _amount(raw or "0", "prior_covered")}


def _wga(found: Found, body: dict[str, Any]) -> tuple[Rate | None, WgaWork]:
    """deliveries: [{"work_type", "date", "ai_material_handed_over"}]; the negotiated fee is
    `other_pay`. A work type is a schedule key such as `screenplay`, `teleplay`, `rewrite`,
    `polish` or `screenplay_rewrite`; AI-generated material handed over with a rewrite or polish
    needs `production_kind` to name the original work (screenplay or teleplay)."""
    kind = body.get("production_kind")
    if kind is not None:
        kind = found.read(None, parse_choice, kind, wga.ORIGINAL_BY_KIND, field="production_kind")
    rate = _rate(found, body.get("rate"))  # read for its currency; the fee itself is other_pay
    prior_covered = found.read(
        Decimal(0), _amount, body.get("prior_covered") or "0", "prior_covered"
    )
    deliveries = _each(found, body, "deliveries", _delivery)
    if kind is not None or body.get("production_kind") is None:  # a faulty kind names no work
        deliveries = tuple(found.read(d, check_delivery, d, kind) for d in deliveries)
    return rate, WgaWork(production_kind=kind, deliveries=deliveries, prior_covered=prior_covered)


def _delivery(found: Found, raw: object, where: str) -> wga.Delivery | None:
    keys = {"work_type", "date", "ai_material_handed_over"}
    item = found.read(None, parse_object, raw, field=where, keys=keys)
    if item is None:
        return None
    before = len(found.errors)
    delivery = wga.Delivery(
        work_type=found.read("", check_work_type, item.get("work_type"), where),
        on=found.read(NO_DATE, _date, item.get("date"), f"{where}.date"),
        ai_material_handed_over=found.read(
            False, _flag, item.get("ai_material_handed_over"), f"{where}.ai_material_handed_over"
        ),
    )
    return None if len(found.errors) > before else delivery


def _iatse(found: Found, body: dict[str, Any]) -> tuple[Rate | None, IatseWork]:
    """classification: the IATSE classification code of the loaded wage schedule; rate per hour
    (or per week for an on-call weekly employee); work_days[].rest_start: when the rest before
    that day began, an ISO datetime or an HH:MM time on the previous day."""
    code = found.read("", check_iatse_classification, body.get("classification"))
    rate = _rate(found, body.get("rate"))
    days = _each(found, body, "work_days", _work_day)
    kit_rental = None
    if body.get("ai_kit_rental") is not None:
        kit_rental = _kit_rental(found, body.get("ai_kit_rental"), has_days=bool(days))
    return rate, IatseWork(classification=code, work_days=days, kit_rental=kit_rental)


def _kit_rental(found: Found, raw: object, *, has_days: bool) -> iatse.KitRental | None:
    kit = found.read(None, parse_object, raw, field="ai_kit_rental", keys={"amount", "per", "date"})
    if kit is None:
        return None
    before = len(found.errors)
    per = found.read("", parse_choice, kit.get("per"), KIT_RENTAL_PER, field="ai_kit_rental.per")
    on = None
    if kit.get("date") is not None:
        on = found.read(None, _date, kit.get("date"), "ai_kit_rental.date")
    elif not has_days:
        found.add(ParseError("ai_kit_rental.date", "A kit rental needs work days or a date."))
    amount = found.read(Decimal(0), _amount, kit.get("amount"), "ai_kit_rental.amount")
    return None if len(found.errors) > before else iatse.KitRental(amount, per, on)


def _other_pay(found: Found, raw: object, where: str) -> OtherPay | None:
    item = found.read(None, parse_object, raw, field=where, keys={"date", "amount", "description"})
    if item is None:
        return None
    before = len(found.errors)
    amount = found.read(Decimal(0), _amount, item.get("amount"), f"{where}.amount")
    on = found.read(NO_DATE, _date, item.get("date"), f"{where}.date")
    if len(found.errors) > before:
        return None
    return OtherPay(
        on=on,
        amount=amount,
        description=str(item.get("description") or "Pay entered, not computed")[:500],
    )


# --- field parsers --------------------------------------------------------------------------


def _rate(found: Found, raw: object) -> Rate | None:
    if raw is None:
        return None
    item = found.read(None, parse_object, raw, field="rate", keys={"amount", "unit", "currency"})
    if item is None:
        return None
    before = len(found.errors)
    unit = found.read("", parse_choice, item.get("unit"), RATE_UNITS, field="rate.unit")
    currency = found.read(
        "", parse_choice, item.get("currency", "USD"), CURRENCIES, field="rate.currency"
    )
    amount = found.read(Decimal(0), _positive_amount, item.get("amount"), "rate.amount")
    return None if len(found.errors) > before else Rate(amount, unit, currency)


def _positive_amount(value: object, where: str) -> Decimal:
    amount = _amount(value, where)
    if amount <= 0:
        raise ParseError(where, "The rate must be above zero.")
    return amount


def _work_day(found: Found, raw: object, where: str) -> WorkDay | None:
    keys = {"date", "first_call", "dismissal", "meals", "rest_start", "episode"}
    item = found.read(None, parse_object, raw, field=where, keys=keys)
    if item is None:
        return None
    before = len(found.errors)
    on = found.read(NO_DATE, _date, item.get("date"), f"{where}.date")
    first_call = found.read(NO_TIME, _time, item.get("first_call"), f"{where}.first_call")
    dismissal = found.read(NO_TIME, _time, item.get("dismissal"), f"{where}.dismissal")
    meals = found.read([], _meals, item.get("meals"), where)
    episode = found.read(None, _episode, item, where)
    if len(found.errors) > before:
        return None
    day = WorkDay.build(on, first_call, dismissal, meals=meals, rest_start=None, episode=episode)
    if item.get("rest_start") is not None:
        rest_start = found.read(None, _rest_before, item.get("rest_start"), day, where)
        day = day if rest_start is None else replace(day, rest_start=rest_start)
    return day


def _meals(given: object, where: str) -> list[tuple[time, time]]:
    given = given or []
    if not isinstance(given, list):  # a string or an object: its first "meal" is not a pair
        raise ParseError(f"{where}.meals[0]", "A meal is [start, end].")
    meals = []
    for j, meal in enumerate(given):
        if not (isinstance(meal, list) and len(meal) == 2):
            raise ParseError(f"{where}.meals[{j}]", "A meal is [start, end].")
        meals.append((_time(meal[0], f"{where}.meals[{j}]"), _time(meal[1], f"{where}.meals[{j}]")))
    return meals


def _rest_before(value: object, day: WorkDay, where: str) -> datetime:
    rest_start = _rest_start(value, day.on, f"{where}.rest_start")
    if rest_start > day.first_call:
        raise ParseError(f"{where}.rest_start", "The rest began after the call.")
    return rest_start


def _rest_start(value: object, on: date, where: str) -> datetime:
    """When the rest before the day began: an ISO datetime (2024-09-02T22:30), or an HH:MM
    time, which is on the day before `on`."""
    if isinstance(value, str) and "T" in value:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ParseError(where, "A datetime, YYYY-MM-DDTHH:MM, or HH:MM.") from None
        if moment.tzinfo is not None:
            raise ParseError(where, "A local datetime, without an offset.")
        return moment
    return datetime.combine(on - timedelta(days=1), _time(value, where))


def _replica_use(found: Found, raw: object, where: str) -> sag.ReplicaUse | None:
    item = found.read(
        None, parse_object, raw, field=where, keys={"kind", "date", "days", "amount", "episode"}
    )
    if item is None:
        return None
    before = len(found.errors)
    kind = found.read("", parse_choice, item.get("kind"), REPLICA_USE_KINDS, field=f"{where}.kind")
    on = found.read(NO_DATE, _date, item.get("date"), f"{where}.date")
    days = found.read(Decimal(0), _amount, item.get("days", "1"), f"{where}.days")
    amount = None
    if item.get("amount") is not None:
        amount = found.read(None, _amount, item.get("amount"), f"{where}.amount")
    episode = found.read(None, _episode, item, where)
    if len(found.errors) > before:
        return None
    return sag.ReplicaUse(kind=kind, on=on, days=days, amount=amount, episode=episode)


def _scan(found: Found, raw: object, where: str) -> sag.Scan | None:
    keys = {"date", "hours", "other_work_that_day", "for_performer_convenience", "episode"}
    item = found.read(None, parse_object, raw, field=where, keys=keys)
    if item is None:
        return None
    before = len(found.errors)
    scan = sag.Scan(
        on=found.read(NO_DATE, _date, item.get("date"), f"{where}.date"),
        hours=found.read(Decimal(0), _amount, item.get("hours"), f"{where}.hours"),
        other_work_that_day=found.read(
            False, _flag, item.get("other_work_that_day"), f"{where}.other_work_that_day"
        ),
        for_performer_convenience=found.read(
            False,
            _flag,
            item.get("for_performer_convenience"),
            f"{where}.for_performer_convenience",
        ),
        episode=found.read(None, _episode, item, where),
    )
    return None if len(found.errors) > before else scan


def _episode(item: dict[str, Any], where: str) -> str | None:
    episode = item.get("episode")
    if episode is None:
        return None
    return parse_string(
        episode,
        field=f"{where}.episode",
        max_length=EPISODE_LENGTH,
        message="An episode is a short string.",
    )


def _amount(value: object, where: str) -> Decimal:
    """From 0 to under 10^12, at most 6 places, in the API's amount syntax (`core.parse`)."""
    if not isinstance(value, str):
        raise ParseError(where, 'A decimal string, e.g. "1500.00".')
    return parse_decimal(value, field=where, max_digits=18, decimal_places=6)


def _date(value: object, where: str) -> date:
    try:
        return parse_date(value, field=where)
    except ParseError as error:
        raise ParseError(where, f"A date, YYYY-MM-DD. {error.message}") from None


def _time(value: object, where: str) -> time:
    try:
        return parse_clock_time(value, field=where)
    except ParseError:
        raise ParseError(where, "A local time of day, HH:MM, without an offset.") from None


def _flag(value: object, where: str) -> bool:
    return parse_flag(value, field=where, default=False)


def _items(body: dict[str, Any], key: str) -> enumerate[Any]:
    """The items of a list field, numbered; a missing, null or empty value is no items."""
    return enumerate(parse_list(body.get(key) or None, field=key))
