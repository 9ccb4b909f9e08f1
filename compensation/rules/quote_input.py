"""What a quote is computed from (`QuoteInput`), and `parse()`, which reads it from the JSON body
of `POST compensation/quote/` and `manage.py quote`. Compensation runs build a `QuoteInput`
from their records directly (compensation/runs.py): typed values, no JSON in between.

Every refusal is a `core.parse.ParseError` naming the faulty field (`work_days[0].first_call`),
raised in the order the body's fields are read, so the first fault found is the one reported.
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

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from core.parse import (
    ParseError,
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
    """The quote's JSON body as a QuoteInput; ParseError names the first faulty field."""
    if not isinstance(body, dict):
        raise ParseError("non_field_errors", "The quote is an object.")
    body = parse_object(body, field="", keys=_KEYS, unknown=_unknown_top_level)
    agreement = parse_choice(body.get("agreement"), AGREEMENTS, field="agreement")
    if not AGREEMENTS[agreement].is_union:
        raise ParseError("agreement", NO_UNION_PAY)
    other_pay = tuple(_other_pay(item, f"other_pay[{i}]") for i, item in _items(body, "other_pay"))
    guild = AGREEMENTS[agreement].guild
    rate: Rate | None
    work: SagWork | WgaWork | IatseWork
    if guild == "sag-aftra":
        rate, work = _sag(body)
    elif guild == "wga":
        rate, work = _wga(body)
    else:
        rate, work = _iatse(body)
    return QuoteInput(agreement=agreement, rate=rate, work=work, other_pay=other_pay)


def _unknown_top_level(names: list[str]) -> ParseError:
    return ParseError(names[0], f"Unknown field(s): {', '.join(names)}.")


def _sag(body: dict[str, Any]) -> tuple[Rate | None, SagWork]:
    classification = check_classification(body.get("classification"))
    kind = check_production_kind(body.get("production_kind"))
    minutes = check_episode_minutes(kind, body.get("episode_minutes"))
    rate = _rate(body.get("rate"))
    prior_covered = _prior_covered(body.get("prior_covered"))
    work_days = tuple(_work_day(d, f"work_days[{i}]") for i, d in _items(body, "work_days"))
    replica_uses = tuple(
        _replica_use(u, f"replica_uses[{i}]") for i, u in _items(body, "replica_uses")
    )
    scans = tuple(_scan(s, f"scans[{i}]") for i, s in _items(body, "scans"))
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


def _wga(body: dict[str, Any]) -> tuple[Rate | None, WgaWork]:
    """deliveries: [{"work_type", "date", "ai_material_handed_over"}]; the negotiated fee is
    `other_pay`. A work type is a schedule key such as `screenplay`, `teleplay`, `rewrite`,
    `polish` or `screenplay_rewrite`; AI-generated material handed over with a rewrite or polish
    needs `production_kind` to name the original work (screenplay or teleplay)."""
    kind = body.get("production_kind")
    if kind is not None:
        kind = parse_choice(kind, wga.ORIGINAL_BY_KIND, field="production_kind")
    rate = _rate(body.get("rate"))  # read for its currency; the fee itself is other_pay
    prior_covered = _amount(body.get("prior_covered") or "0", "prior_covered")
    deliveries = []
    for i, raw in _items(body, "deliveries"):
        where = f"deliveries[{i}]"
        item = parse_object(raw, field=where, keys={"work_type", "date", "ai_material_handed_over"})
        delivery = wga.Delivery(
            work_type=check_work_type(item.get("work_type"), where),
            on=_date(item.get("date"), f"{where}.date"),
            ai_material_handed_over=_flag(
                item.get("ai_material_handed_over"), f"{where}.ai_material_handed_over"
            ),
        )
        deliveries.append(check_delivery(delivery, kind))
    return rate, WgaWork(
        production_kind=kind, deliveries=tuple(deliveries), prior_covered=prior_covered
    )


def _iatse(body: dict[str, Any]) -> tuple[Rate | None, IatseWork]:
    """classification: the IATSE classification code of the loaded wage schedule; rate per hour
    (or per week for an on-call weekly employee); work_days[].rest_start: when the rest before
    that day began, an ISO datetime or an HH:MM time on the previous day."""
    code = check_iatse_classification(body.get("classification"))
    rate = _rate(body.get("rate"))
    days = tuple(_work_day(d, f"work_days[{i}]") for i, d in _items(body, "work_days"))
    kit_rental = None
    if body.get("ai_kit_rental") is not None:
        kit = parse_object(
            body.get("ai_kit_rental"), field="ai_kit_rental", keys={"amount", "per", "date"}
        )
        per = parse_choice(kit.get("per"), KIT_RENTAL_PER, field="ai_kit_rental.per")
        on = None if kit.get("date") is None else _date(kit.get("date"), "ai_kit_rental.date")
        if not days and on is None:
            raise ParseError("ai_kit_rental.date", "A kit rental needs work days or a date.")
        kit_rental = iatse.KitRental(_amount(kit.get("amount"), "ai_kit_rental.amount"), per, on)
    return rate, IatseWork(classification=code, work_days=days, kit_rental=kit_rental)


def _other_pay(raw: object, where: str) -> OtherPay:
    item = parse_object(raw, field=where, keys={"date", "amount", "description"})
    amount = _amount(item.get("amount"), f"{where}.amount")
    return OtherPay(
        on=_date(item.get("date"), f"{where}.date"),
        amount=amount,
        description=str(item.get("description") or "Pay entered, not computed")[:500],
    )


# --- field parsers --------------------------------------------------------------------------


def _rate(raw: object) -> Rate | None:
    if raw is None:
        return None
    item = parse_object(raw, field="rate", keys={"amount", "unit", "currency"})
    unit = parse_choice(item.get("unit"), RATE_UNITS, field="rate.unit")
    currency = parse_choice(item.get("currency", "USD"), CURRENCIES, field="rate.currency")
    amount = _amount(item.get("amount"), "rate.amount")
    if amount <= 0:
        raise ParseError("rate.amount", "The rate must be above zero.")
    return Rate(amount, unit, currency)


def _work_day(raw: object, where: str) -> WorkDay:
    item = parse_object(
        raw,
        field=where,
        keys={"date", "first_call", "dismissal", "meals", "rest_start", "episode"},
    )
    meals = []
    given = item.get("meals") or []
    if not isinstance(given, list):  # a string or an object: its first "meal" is not a pair
        raise ParseError(f"{where}.meals[0]", "A meal is [start, end].")
    for j, meal in enumerate(given):
        if not (isinstance(meal, list) and len(meal) == 2):
            raise ParseError(f"{where}.meals[{j}]", "A meal is [start, end].")
        meals.append((_time(meal[0], f"{where}.meals[{j}]"), _time(meal[1], f"{where}.meals[{j}]")))
    day = WorkDay.build(
        _date(item.get("date"), f"{where}.date"),
        _time(item.get("first_call"), f"{where}.first_call"),
        _time(item.get("dismissal"), f"{where}.dismissal"),
        meals=meals,
        rest_start=None,
        episode=_episode(item, where),
    )
    if item.get("rest_start") is not None:
        rest_start = _rest_start(item.get("rest_start"), day.on, f"{where}.rest_start")
        if rest_start > day.first_call:
            raise ParseError(f"{where}.rest_start", "The rest began after the call.")
        day = replace(day, rest_start=rest_start)
    return day


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


def _replica_use(raw: object, where: str) -> sag.ReplicaUse:
    item = parse_object(raw, field=where, keys={"kind", "date", "days", "amount", "episode"})
    kind = parse_choice(item.get("kind"), REPLICA_USE_KINDS, field=f"{where}.kind")
    amount = item.get("amount")
    return sag.ReplicaUse(
        kind=kind,
        on=_date(item.get("date"), f"{where}.date"),
        days=_amount(item.get("days", "1"), f"{where}.days"),
        amount=None if amount is None else _amount(amount, f"{where}.amount"),
        episode=_episode(item, where),
    )


def _scan(raw: object, where: str) -> sag.Scan:
    item = parse_object(
        raw,
        field=where,
        keys={"date", "hours", "other_work_that_day", "for_performer_convenience", "episode"},
    )
    return sag.Scan(
        on=_date(item.get("date"), f"{where}.date"),
        hours=_amount(item.get("hours"), f"{where}.hours"),
        other_work_that_day=_flag(item.get("other_work_that_day"), f"{where}.other_work_that_day"),
        for_performer_convenience=_flag(
            item.get("for_performer_convenience"), f"{where}.for_performer_convenience"
        ),
        episode=_episode(item, where),
    )


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
