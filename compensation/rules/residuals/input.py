"""What the residual engine computes from (`ResidualInput`), and `parse()`, which reads it from
the JSON body of `manage.py residuals`. Strict: an unknown key, a float for an amount, a field
that does not belong to the exhibition's market, all are refused with a `core.parse.ParseError`
naming the field (`exhibitions[0].period_to`), the first fault found in reading order.

The body (amounts, percentages and days are decimal strings; counts are JSON integers):

    agreement     a SAG-AFTRA or WGA agreement code of the catalogue (RULES.md §1): the guild
                  whose residual rules apply (sag-tvth-2023, sag-tvth-2026, wga-mba-2023,
                  wga-mba-2026); the pension and health rates are that guild's
    work          {title, type, running_minutes}: type is the schedule's work type (episode,
                  feature, ...); running_minutes 1-999
    schedule      {name, source, tier (P|S|T|D), currency (default USD),
                   due_rule: syndication | basic_cable | supplemental_markets (optional: the due
                             rule of the HBSVOD residual; none is supplemental markets),
                   bases: {"<work type>:<minutes up to>": amount}   e.g. {"episode:60": "1000"},
                   subscriber_factors: {"<tier>": factor}           e.g. {"tier_2": "0.5"},
                   exhibition_year_percent: {"<year>:domestic|foreign": percent},
                   gross_receipts_percent: {"<market>:domestic|foreign": percent}}
                  each map optional: a key a line needs and the schedule lacks is rate_missing
    exhibitions   [ ... ] at least one; every one has market, period_from, period_to (dates,
                  from <= to) and:
        hbsvod                 territory: worldwide (default: a domestic and a foreign line) |
                               domestic | foreign; service; subscriber_tier; exhibition_year
                               (1-99); for the success bonus, hours_streamed_first_90_days or
                               views_first_90_days (one of them) with domestic_subscribers (the
                               service's domestic subscribers as of July 1 of that year)
        network_tv             territory (domestic | foreign), gross_receipts, broadcast_on
        syndication            territory, gross_receipts, broadcast_on (optional)
        basic_cable            territory, gross_receipts
        supplemental_markets   territory, gross_receipts, first_period (true for the first
                               period in the market; default false)
    participants  [ ... ] at least one, each {id, role}; the role is the agreement's guild's:
        writer      credit: written_by | story_by | screenplay_by | teleplay_by | adaptation_by
                    (a team credited together is one participant)
        performer   days_in_person, replica_days (days paid under sag.pay.ebdr_use); together
                    above zero

Example:

    {"agreement": "wga-mba-2023",
     "work": {"title": "Pilot", "type": "episode", "running_minutes": 60},
     "schedule": {"name": "HBSVOD 2025", "source": "rate sheet 2025", "tier": "P",
                  "bases": {"episode:60": "20000.00"}, "subscriber_factors": {"tier_2": "1"},
                  "exhibition_year_percent": {"1:domestic": "10", "1:foreign": "5"}},
     "exhibitions": [{"market": "hbsvod", "service": "Streamer", "subscriber_tier": "tier_2",
                      "exhibition_year": 1, "period_from": "2025-01-01",
                      "period_to": "2025-12-31"}],
     "participants": [{"id": "W1", "role": "writer", "credit": "written_by"}]}
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from compensation.rules.params import TIERS
from compensation.rules.quote_input import CURRENCIES
from core.parse import (
    ParseError,
    parse_choice,
    parse_date,
    parse_decimal,
    parse_flag,
    parse_list,
    parse_object,
    parse_string,
    parse_whole_number,
)
from ledger.registry.catalogue import AGREEMENTS

from .due import HBSVOD_DUE_RULES
from .schedule import Schedule

GUILDS = ("sag-aftra", "wga")
ROLE = {"sag-aftra": "performer", "wga": "writer"}
CREDITS = ("written_by", "story_by", "screenplay_by", "teleplay_by", "adaptation_by")
HBSVOD = "hbsvod"
GROSS_RECEIPTS_MARKETS = ("network_tv", "syndication", "basic_cable", "supplemental_markets")
MARKETS = (HBSVOD, *GROSS_RECEIPTS_MARKETS)
TERRITORIES = ("domestic", "foreign")
WORLDWIDE = "worldwide"
RUNNING_MINUTES = (1, 999)
EXHIBITION_YEARS = (1, 99)
MAX_SUBSCRIBERS = 10**12
NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
TIER_NAME = re.compile(r"^[a-z0-9][a-z0-9_]{0,39}$")
PERSON_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
BASE_KEY = re.compile(r"^([a-z][a-z0-9_]{0,39}):([1-9][0-9]{0,2})$")
YEAR_KEY = re.compile(r"^([1-9][0-9]?):(domestic|foreign)$")
GROSS_KEY = re.compile(rf"^({'|'.join(GROSS_RECEIPTS_MARKETS)}):(domestic|foreign)$")
TEXT_LENGTH = 200

_TOP_KEYS = {"agreement", "work", "schedule", "exhibitions", "participants"}
_SCHEDULE_KEYS = {
    "name",
    "source",
    "tier",
    "currency",
    "due_rule",
    "bases",
    "subscriber_factors",
    "exhibition_year_percent",
    "gross_receipts_percent",
}
_COMMON_EXHIBITION_KEYS = {"market", "territory", "period_from", "period_to"}
_MARKET_KEYS = {
    HBSVOD: {
        "service",
        "subscriber_tier",
        "exhibition_year",
        "hours_streamed_first_90_days",
        "views_first_90_days",
        "domestic_subscribers",
    },
    "network_tv": {"gross_receipts", "broadcast_on"},
    "syndication": {"gross_receipts", "broadcast_on"},
    "basic_cable": {"gross_receipts"},
    "supplemental_markets": {"gross_receipts", "first_period"},
}
_PARTICIPANT_KEYS = {
    "writer": {"id", "role", "credit"},
    "performer": {"id", "role", "days_in_person", "replica_days"},
}


@dataclass(frozen=True)
class Work:
    title: str
    type: str
    running_minutes: int


@dataclass(frozen=True)
class Streaming:
    """The first 90 days of an HBSVOD exhibition: hours streamed or views, and the service's
    domestic subscribers as of July 1 of that year."""

    domestic_subscribers: int
    hours_streamed: Decimal | None = None
    views: Decimal | None = None


@dataclass(frozen=True)
class Exhibition:
    market: str
    territory: str  # domestic | foreign (WORLDWIDE for an HBSVOD exhibition with both lines)
    period_from: date
    period_to: date
    service: str | None = None
    subscriber_tier: str | None = None
    exhibition_year: int | None = None
    streaming: Streaming | None = None
    gross_receipts: Decimal | None = None
    broadcast_on: date | None = None
    first_period: bool = False

    @property
    def on(self) -> date:
        """The date the exhibition's figures are read at: the broadcast, else the period's
        start."""
        return self.broadcast_on or self.period_from


@dataclass(frozen=True)
class Participant:
    id: str
    role: str  # writer | performer
    credit: str | None = None  # writers
    days_in_person: Decimal = Decimal(0)  # performers
    replica_days: Decimal = Decimal(0)

    @property
    def residual_days(self) -> Decimal:
        return self.days_in_person + self.replica_days


@dataclass(frozen=True)
class ResidualInput:
    agreement: str
    guild: str  # one of GUILDS
    work: Work
    schedule: Schedule
    exhibitions: tuple[Exhibition, ...]
    participants: tuple[Participant, ...]


def parse(body: object) -> ResidualInput:
    """The what-if body as a ResidualInput; ParseError names the first faulty field."""
    if not isinstance(body, dict):
        raise ParseError("non_field_errors", "The residual what-if is an object.")
    body = parse_object(body, field="", keys=_TOP_KEYS, unknown=_unknown_at(""))
    agreement = parse_choice(body.get("agreement"), AGREEMENTS, field="agreement")
    guild = AGREEMENTS[agreement].guild
    if guild not in GUILDS:
        raise ParseError(
            "agreement",
            f"Residual rules (RULES.md §3) are SAG-AFTRA's and the WGA's: {agreement} has none.",
        )
    work = _work(body.get("work"))
    schedule = _schedule(body.get("schedule"))
    exhibitions = tuple(
        _exhibition(item, f"exhibitions[{i}]")
        for i, item in enumerate(_non_empty(body, "exhibitions"))
    )
    participants = tuple(
        _participant(item, f"participants[{i}]", ROLE[guild])
        for i, item in enumerate(_non_empty(body, "participants"))
    )
    _check_ids(participants)
    return ResidualInput(agreement, guild, work, schedule, exhibitions, participants)


def _unknown_at(where: str) -> Callable[[list[str]], ParseError]:
    def error(names: list[str]) -> ParseError:
        field = f"{where}.{names[0]}" if where else names[0]
        return ParseError(field, f"Unknown field(s): {', '.join(names)}.")

    return error


def _non_empty(body: dict[str, Any], key: str) -> list[Any]:
    items = parse_list(body.get(key), field=key)
    if not items:
        raise ParseError(key, "At least one is needed.")
    return items


def _work(raw: object) -> Work:
    item = parse_object(raw, field="work", keys={"title", "type", "running_minutes"})
    low, high = RUNNING_MINUTES
    return Work(
        title=parse_string(item.get("title"), field="work.title", max_length=TEXT_LENGTH),
        type=_name(item.get("type"), "work.type", "A work type of the schedule, e.g. episode."),
        running_minutes=parse_whole_number(
            item.get("running_minutes"), field="work.running_minutes", minimum=low, maximum=high
        ),
    )


def _schedule(raw: object) -> Schedule:
    item = parse_object(raw, field="schedule", keys=_SCHEDULE_KEYS)
    due_rule = item.get("due_rule")
    return Schedule(
        name=parse_string(item.get("name"), field="schedule.name", max_length=TEXT_LENGTH),
        source=parse_string(item.get("source"), field="schedule.source", max_length=1000),
        tier=parse_choice(item.get("tier"), TIERS, field="schedule.tier"),
        currency=parse_choice(item.get("currency", "USD"), CURRENCIES, field="schedule.currency"),
        due_rule=None
        if due_rule is None
        else parse_choice(due_rule, HBSVOD_DUE_RULES, field="schedule.due_rule"),
        bases={
            (match[1], int(match[2])): _amount(value, where)
            for match, value, where in _keyed(item, "bases", BASE_KEY, "<work type>:<minutes>")
        },
        subscriber_factors={
            match[0]: _amount(value, where)
            for match, value, where in _keyed(item, "subscriber_factors", TIER_NAME, "<tier>")
        },
        exhibition_year_percent={
            (int(match[1]), match[2]): _percent(value, where)
            for match, value, where in _keyed(
                item, "exhibition_year_percent", YEAR_KEY, "<year>:domestic|foreign"
            )
        },
        gross_receipts_percent={
            (match[1], match[2]): _percent(value, where)
            for match, value, where in _keyed(
                item, "gross_receipts_percent", GROSS_KEY, "<market>:domestic|foreign"
            )
        },
    )


def _keyed(
    item: dict[str, Any], key: str, pattern: re.Pattern[str], shape: str
) -> list[tuple[re.Match[str], object, str]]:
    """A schedule map's entries: (the key matched against `pattern`, the value, its field)."""
    where = f"schedule.{key}"
    entries = parse_object(item.get(key) or {}, field=where)
    out = []
    for name, value in entries.items():
        match = pattern.match(name)
        if match is None:
            raise ParseError(f"{where}.{name}", f"A key is {shape}.")
        out.append((match, value, f"{where}.{name}"))
    return out


def _exhibition(raw: object, where: str) -> Exhibition:
    market = parse_choice(
        parse_object(raw, field=where).get("market"), MARKETS, field=f"{where}.market"
    )
    item = parse_object(
        raw,
        field=where,
        keys=_COMMON_EXHIBITION_KEYS | _MARKET_KEYS[market],
        unknown=lambda names: ParseError(
            f"{where}.{names[0]}", f"Not a field of a {market} exhibition: {', '.join(names)}."
        ),
    )
    period_from = _date(item.get("period_from"), f"{where}.period_from")
    period_to = _date(item.get("period_to"), f"{where}.period_to")
    if period_to < period_from:
        raise ParseError(f"{where}.period_to", "The period ends before it begins.")
    if market == HBSVOD:
        return _hbsvod(item, where, period_from, period_to)
    broadcast_on = item.get("broadcast_on")
    if market == "network_tv" and broadcast_on is None:
        raise ParseError(
            f"{where}.broadcast_on", "A network TV exhibition needs its broadcast date."
        )
    return Exhibition(
        market=market,
        territory=parse_choice(item.get("territory"), TERRITORIES, field=f"{where}.territory"),
        period_from=period_from,
        period_to=period_to,
        gross_receipts=_amount(item.get("gross_receipts"), f"{where}.gross_receipts"),
        broadcast_on=None if broadcast_on is None else _date(broadcast_on, f"{where}.broadcast_on"),
        first_period=parse_flag(
            item.get("first_period"), field=f"{where}.first_period", default=False
        ),
    )


def _hbsvod(item: dict[str, Any], where: str, period_from: date, period_to: date) -> Exhibition:
    low, high = EXHIBITION_YEARS
    return Exhibition(
        market=HBSVOD,
        territory=parse_choice(
            item.get("territory", WORLDWIDE),
            (WORLDWIDE, *TERRITORIES),
            field=f"{where}.territory",
        ),
        period_from=period_from,
        period_to=period_to,
        service=parse_string(item.get("service"), field=f"{where}.service", max_length=TEXT_LENGTH),
        subscriber_tier=parse_string(
            item.get("subscriber_tier"),
            field=f"{where}.subscriber_tier",
            pattern=TIER_NAME,
            message="A subscriber tier of the schedule, e.g. tier_2.",
        ),
        exhibition_year=parse_whole_number(
            item.get("exhibition_year"), field=f"{where}.exhibition_year", minimum=low, maximum=high
        ),
        streaming=_streaming(item, where),
    )


def _streaming(item: dict[str, Any], where: str) -> Streaming | None:
    hours, views = item.get("hours_streamed_first_90_days"), item.get("views_first_90_days")
    subscribers = item.get("domestic_subscribers")
    if hours is None and views is None:
        if subscribers is not None:
            raise ParseError(
                f"{where}.domestic_subscribers",
                "Give hours_streamed_first_90_days or views_first_90_days with the subscribers.",
            )
        return None
    if hours is not None and views is not None:
        raise ParseError(
            f"{where}.views_first_90_days",
            "Give hours_streamed_first_90_days or views_first_90_days, not both.",
        )
    return Streaming(
        domestic_subscribers=parse_whole_number(
            subscribers,
            field=f"{where}.domestic_subscribers",
            minimum=1,
            maximum=MAX_SUBSCRIBERS,
            message="The service's domestic subscribers as of July 1, a whole number above 0.",
        ),
        hours_streamed=None
        if hours is None
        else _amount(hours, f"{where}.hours_streamed_first_90_days"),
        views=None if views is None else _amount(views, f"{where}.views_first_90_days"),
    )


def _participant(raw: object, where: str, role: str) -> Participant:
    role_given = parse_object(raw, field=where).get("role")
    if role_given != role:
        raise ParseError(f"{where}.role", f"Under this agreement a participant is a {role}.")
    item = parse_object(raw, field=where, keys=_PARTICIPANT_KEYS[role])
    person = parse_string(
        item.get("id"),
        field=f"{where}.id",
        pattern=PERSON_ID,
        message="An id of letters, digits, '_', '.', ':' or '-' (at most 64).",
    )
    if role == "writer":
        credit = parse_choice(item.get("credit"), CREDITS, field=f"{where}.credit")
        return Participant(person, role, credit=credit)
    in_person = _amount(item.get("days_in_person", "0"), f"{where}.days_in_person")
    replica = _amount(item.get("replica_days", "0"), f"{where}.replica_days")
    if in_person + replica <= 0:
        raise ParseError(
            f"{where}.days_in_person",
            "A performer's residual base needs days worked in person or replica days.",
        )
    return Participant(person, role, days_in_person=in_person, replica_days=replica)


def _check_ids(participants: tuple[Participant, ...]) -> None:
    seen: set[str] = set()
    for i, participant in enumerate(participants):
        if participant.id in seen:
            raise ParseError(f"participants[{i}].id", f"{participant.id} is given twice.")
        seen.add(participant.id)


# --- field parsers --------------------------------------------------------------------------


def _name(value: object, where: str, message: str) -> str:
    return parse_string(value, field=where, pattern=NAME, message=message)


def _amount(value: object, where: str) -> Decimal:
    """From 0 to under 10^12, at most 6 places, as a decimal string (`core.parse`)."""
    if not isinstance(value, str):
        raise ParseError(where, 'A decimal string, e.g. "1500.00".')
    return parse_decimal(value, field=where, max_digits=18, decimal_places=6)


def _percent(value: object, where: str) -> Decimal:
    percent = _amount(value, where)
    if percent > 100:
        raise ParseError(where, "A percentage from 0 to 100.")
    return percent


def _date(value: object, where: str) -> date:
    return parse_date(value, field=where)


parse_schedule = _schedule


parse_exhibition = _exhibition
