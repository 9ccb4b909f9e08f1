"""The residual engine: `compute(ResidualInput)` returns the explained residual lines of every
exhibition, with no side effects (RULES.md §3 Residuals, evidence.md §9).

- `sag.residual.hbsvod`, `wga.residual.hbsvod` (P for the formula's shape: wga.org HBSVOD page):
  the fixed residual of an exhibition year = residual base (work type, running time) ×
  subscriber factor (the service's tier) × exhibition-year percentage, a domestic and a foreign
  line; every factor from the schedule.
- `residual.gross_receipts` (S): a market paid as a percentage of the distributor's gross
  receipts, at the schedule's percentage for the market and territory.
- `wga.residual.credit_share` (P: wga.org residuals survival guide): each writer's line is the
  residual × the share of the writer's credit.
- `sag.residual.replica_days` (S: thewrap.com, SAG-AFTRA summary of AI protections): a
  performer's residual base counts replica days (paid under sag.pay.ebdr_use) exactly as days
  worked in person. The residual is shared among the performers in proportion to those days:
  that sharing is this engine's reading (no source gives the split), so the share is tier D and
  every performer line needs confirmation.
- `wga.residual.success_bonus`, `sag.residual.success_bonus` (S: Hollywood Reporter; backstage.com):
  views in the first 90 days ÷ domestic subscribers (July 1) at least 0.2, a view being hours
  streamed ÷ running time, compared exactly. WGA: 50% of the exhibition's fixed domestic plus
  foreign residual to the writers (by credit share); SAG-AFTRA: 100% of it, 75% to the
  performers (by days) and 25% to the SAG-AFTRA fund.
- `residual.ph` (S): pension and health on each person's residuals of an exhibition at the
  guild's fringe rates in force on the exhibition date (the shipped parameters, read as the
  quote reads them): SAG-AFTRA at the principal rate (`sag.ph.rate.principal`), the WGA Health
  Fund and Pension Plan rates (`wga.health.rate`, `wga.pension.rate`); no ceiling is applied,
  none being given for residuals. A missing rate is `rate_missing`.
- `residual.due`: every line's due date (due.py).

A factor the schedule lacks is a `rate_missing` exception naming the schedule key and the date;
the other lines are still computed. Amounts are exact until each line rounds once."""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from compensation.rules.lines import Problem
from compensation.rules.params import Parameters, RateMissing, Value, shipped
from compensation.rules.wga import FUNDS as WGA_FUNDS

from . import due as due_dates
from .due import Due
from .input import HBSVOD, WORLDWIDE, Exhibition, Participant, ResidualInput, Streaming, parse
from .lines import Payee, ResidualLine, ResidualResult
from .schedule import GROSS_RECEIPTS_RULE, HBSVOD_RULE

HUNDRED = Decimal(100)
MINUTES_PER_HOUR = Decimal(60)
RESIDUALS = "RULES.md §3 Residuals"

CREDIT_RULE = "wga.residual.credit_share"
CREDIT_SOURCE = (
    f"{RESIDUALS} {CREDIT_RULE}; evidence.md §9 Credit shares: wga.org residuals survival guide"
)
CREDIT_SHARES = {
    "written_by": Decimal("1"),
    "story_by": Decimal("0.25"),
    "screenplay_by": Decimal("1"),
    "screenplay_by_with_story": Decimal("0.75"),
    "teleplay_by": Decimal("0.75"),
    "adaptation_by": Decimal("0.10"),
}

DAYS_RULE = "sag.residual.replica_days"
BONUS_RULE = {"wga": "wga.residual.success_bonus", "sag-aftra": "sag.residual.success_bonus"}
BONUS_SOURCE = (
    f"{RESIDUALS}; evidence.md §9 Success bonus: Hollywood Reporter (copy); backstage.com "
    "SAG-AFTRA agreement details"
)
BONUS_THRESHOLD = Decimal("0.2")  # views in 90 days per domestic subscriber
WGA_BONUS_SHARE = Decimal("0.5")
SAG_BONUS_SHARE = Decimal("1")
SAG_BONUS_PERFORMERS = Decimal("0.75")
SAG_BONUS_FUND = Decimal("0.25")
SAG_FUND = "sag-aftra-fund"

PH_RULE = "residual.ph"
SAG_PH = (("sag.ph.rate.principal", "sag-aftra-ph", "Pension and health"),)


@dataclass(frozen=True)
class Share:
    """A person's part of a residual: the factors that give it and their product."""

    person: Participant
    factors: tuple[Value, ...]
    fraction: Decimal
    words: str


def residuals(body: object, params: Parameters | None = None) -> ResidualResult:
    """Compute from the what-if JSON body; core.parse.ParseError names the faulty field."""
    return compute(parse(body), params)


def compute(given: ResidualInput, params: Parameters | None = None) -> ResidualResult:
    """Every line of every exhibition of `given`; the fringe rates from `params` (shipped by
    default)."""
    params = params or shipped()
    result = ResidualResult()
    shares = _shares(given)
    for index, exhibition in enumerate(given.exhibitions):
        owed = _Exhibition(given, index, exhibition, shares, result)
        if exhibition.market == HBSVOD:
            owed.hbsvod()
        else:
            owed.gross_receipts()
        owed.pension_and_health(params)
    result.problems = _unique(result.problems)
    return result


# --- each person's share --------------------------------------------------------------------


def _shares(given: ResidualInput) -> list[Share]:
    if given.guild == "wga":
        story = any(p.credit == "story_by" for p in given.participants)
        return [_credit_share(p, story) for p in given.participants]
    total = sum((p.residual_days for p in given.participants), Decimal(0))
    return [_days_share(p, total) for p in given.participants]


def _credit_share(writer: Participant, separate_story: bool) -> Share:
    """wga.residual.credit_share: Written by 100%; Story by 25%; Screenplay by 75% with a
    separate story credit, else 100%; Teleplay by 75%; Adaptation by 10% (P)."""
    credit = writer.credit or ""
    key = "screenplay_by_with_story" if credit == "screenplay_by" and separate_story else credit
    fraction = CREDIT_SHARES[key]
    factor = Value(
        f"credit_share:{key}", fraction, "fraction", None, "P", CREDIT_SOURCE, CREDIT_RULE
    )
    return Share(writer, (factor,), fraction, f"{writer.id}'s {key} share {fraction}")


def _days_share(performer: Participant, total: Decimal) -> Share:
    """sag.residual.replica_days: replica days count as days worked in person; the residual is
    shared by days (this engine's reading, tier D)."""
    fraction = performer.residual_days / total
    days = (
        f"{performer.days_in_person} day(s) in person + {performer.replica_days} replica "
        f"day(s) = {performer.residual_days} of the performers' {total} residual days"
    )
    source = (
        f"{RESIDUALS} {DAYS_RULE}; evidence.md §9 Replica use and residuals: thewrap.com, "
        f"SAG-AFTRA summary of AI protections. {days}; shared by days: this engine's reading"
    )
    factor = Value(
        f"residual_days:{performer.id}", fraction, "fraction", None, "D", source, DAYS_RULE
    )
    return Share(performer, (factor,), fraction, f"{performer.id}: {days}")


# --- one exhibition -------------------------------------------------------------------------


class _Exhibition:
    """The lines one exhibition owes, added to `result` as they are computed."""

    def __init__(
        self,
        given: ResidualInput,
        index: int,
        exhibition: Exhibition,
        shares: list[Share],
        result: ResidualResult,
    ):
        self.given, self.index, self.exhibition = given, index, exhibition
        self.shares, self.result = shares, result
        self.on = exhibition.on
        self.due = _due(given, exhibition)
        self.first_line = len(result.lines)
        self.rates: dict[str, Value] = {}  # the fund rates in force on the date, read once

    def _guard(self, rule: str, produce: Callable[[], Iterable[ResidualLine]]) -> None:
        try:
            self.result.lines += list(produce())
        except RateMissing as missing:
            self.result.problems.append(Problem.missing(missing, rule))

    def _line(
        self,
        rule: str,
        description: str,
        territory: str,
        quantity: Decimal,
        unit: str,
        exact: Decimal,
        payee: Payee,
        factors: Sequence[Value],
        on_behalf_of: str | None = None,
    ) -> ResidualLine:
        return ResidualLine(
            rule=rule,
            description=description,
            exhibition=self.index,
            market=self.exhibition.market,
            territory=territory,
            on=self.on,
            quantity=quantity,
            unit=unit,
            exact=exact,
            currency=self.given.schedule.currency,
            payee=payee,
            due=self.due,
            factors=tuple(factors),
            on_behalf_of=on_behalf_of,
        )

    def _territories(self) -> tuple[str, ...]:
        territory = self.exhibition.territory
        return ("domestic", "foreign") if territory == WORLDWIDE else (territory,)

    # HBSVOD ---------------------------------------------------------------------------------

    def _fixed(self, territory: str) -> tuple[Decimal, tuple[Value, ...]]:
        """The fixed residual of the exhibition year in `territory`: base × subscriber factor
        × exhibition-year percentage, and the three factors."""
        schedule, work, exhibition = self.given.schedule, self.given.work, self.exhibition
        rule = HBSVOD_RULE[self.given.guild]
        base = schedule.base(work.type, work.running_minutes, self.on, rule)
        factor = schedule.subscriber_factor(exhibition.subscriber_tier or "", self.on, rule)
        percent = schedule.exhibition_year(
            exhibition.exhibition_year or 0, territory, self.on, rule
        )
        return base.value * factor.value * percent.value / HUNDRED, (base, factor, percent)

    def hbsvod(self) -> None:
        rule = HBSVOD_RULE[self.given.guild]
        for territory in self._territories():
            self._guard(rule, partial(self._hbsvod_lines, rule, territory))
        streaming = self.exhibition.streaming
        if streaming is not None and _qualifies(streaming, self.given.work.running_minutes):
            self._guard(BONUS_RULE[self.given.guild], partial(self._bonus_lines, streaming))

    def _hbsvod_lines(self, rule: str, territory: str) -> list[ResidualLine]:
        fixed, factors = self._fixed(territory)
        exhibition = self.exhibition
        what = (
            f"High-budget SVOD fixed residual, {territory}, exhibition year "
            f"{exhibition.exhibition_year} on {exhibition.service} "
            f"({exhibition.subscriber_tier}): base {factors[0].value} × subscriber factor "
            f"{factors[1].value} × {factors[2].value}% = {fixed}"
        )
        return [
            self._line(
                rule,
                f"{what}; {share.words}",
                territory,
                Decimal(1),
                "exhibition year",
                fixed * share.fraction,
                Payee("person", share.person.id),
                (*factors, *share.factors),
            )
            for share in self.shares
        ]

    def _bonus_lines(self, streaming: Streaming) -> list[ResidualLine]:
        fixed = Decimal(0)
        factors: list[Value] = []
        for territory in self._territories():
            amount, used = self._fixed(territory)
            fixed += amount
            factors += [f for f in used if f not in factors]
        guild, rule = self.given.guild, BONUS_RULE[self.given.guild]
        ratio = _ratio_words(streaming, self.given.work.running_minutes)
        threshold = _constant("success_bonus:threshold", BONUS_THRESHOLD, "views/subscriber", rule)
        what = f"Success bonus ({ratio}, at least {BONUS_THRESHOLD}) on the fixed residual {fixed}"
        territory = self.exhibition.territory
        if guild == "wga":
            share = _constant("success_bonus:writers", WGA_BONUS_SHARE, "fraction", rule)
            return [
                self._line(
                    rule,
                    f"{what}: 50% to the writers; {s.words}",
                    territory,
                    fixed,
                    self.given.schedule.currency,
                    fixed * WGA_BONUS_SHARE * s.fraction,
                    Payee("person", s.person.id),
                    (*factors, threshold, share, *s.factors),
                )
                for s in self.shares
            ]
        whole = _constant("success_bonus:fixed_residual", SAG_BONUS_SHARE, "fraction", rule)
        to_performers = _constant(
            "success_bonus:performers", SAG_BONUS_PERFORMERS, "fraction", rule
        )
        to_fund = _constant("success_bonus:fund", SAG_BONUS_FUND, "fraction", rule)
        bonus = fixed * SAG_BONUS_SHARE
        performer_lines = [
            self._line(
                rule,
                f"{what}: 100%, 75% to the performers; {s.words}",
                territory,
                fixed,
                self.given.schedule.currency,
                bonus * SAG_BONUS_PERFORMERS * s.fraction,
                Payee("person", s.person.id),
                (*factors, threshold, whole, to_performers, *s.factors),
            )
            for s in self.shares
        ]
        fund_line = self._line(
            rule,
            f"{what}: 100%, 25% to the SAG-AFTRA fund",
            territory,
            fixed,
            self.given.schedule.currency,
            bonus * SAG_BONUS_FUND,
            Payee("fund", SAG_FUND),
            (*factors, threshold, whole, to_fund),
        )
        return [*performer_lines, fund_line]

    # gross receipts -------------------------------------------------------------------------

    def gross_receipts(self) -> None:
        self._guard(GROSS_RECEIPTS_RULE, self._gross_lines)

    def _gross_lines(self) -> list[ResidualLine]:
        exhibition = self.exhibition
        receipts = exhibition.gross_receipts or Decimal(0)
        percent = self.given.schedule.gross_receipts(
            exhibition.market, exhibition.territory, self.on
        )
        pool = receipts * percent.value / HUNDRED
        what = (
            f"{exhibition.market.replace('_', ' ')} ({exhibition.territory}), "
            f"{exhibition.period_from} to {exhibition.period_to}: {percent.value}% of the "
            f"distributor's gross receipts {receipts} = {pool}"
        )
        return [
            self._line(
                GROSS_RECEIPTS_RULE,
                f"{what}; {share.words}",
                exhibition.territory,
                receipts,
                f"{self.given.schedule.currency} of gross receipts",
                pool * share.fraction,
                Payee("person", share.person.id),
                (percent, *share.factors),
            )
            for share in self.shares
        ]

    # pension and health ---------------------------------------------------------------------

    def pension_and_health(self, params: Parameters) -> None:
        """residual.ph: each person's residuals of this exhibition, at each fund's rate in
        force on the exhibition date, payable to the fund."""
        funds = WGA_FUNDS if self.given.guild == "wga" else SAG_PH
        owed: dict[str, Decimal] = {}
        for line in self.result.lines[self.first_line :]:
            if line.payee.kind == "person":
                owed[line.payee.id] = owed.get(line.payee.id, Decimal(0)) + line.amount
        for person, base in owed.items():
            for parameter, fund, name in funds:
                self._guard(
                    PH_RULE, partial(self._ph_lines, params, parameter, fund, name, person, base)
                )

    def _ph_lines(
        self, params: Parameters, parameter: str, fund: str, name: str, person: str, base: Decimal
    ) -> list[ResidualLine]:
        rate = self.rates.get(parameter)
        if rate is None:  # a missing rate raises again for each person (one exception in all)
            rate = self.rates[parameter] = params.get(parameter, self.on, rule=PH_RULE)
        territory = self.exhibition.territory
        return [
            self._line(
                PH_RULE,
                f"{name} on {person}'s residuals of this exhibition: {rate.value} × {base}",
                territory,
                base,
                self.given.schedule.currency,
                base * rate.value,
                Payee("fund", fund),
                (rate,),
                on_behalf_of=person,
            )
        ]


# --- helpers --------------------------------------------------------------------------------


def _constant(key: str, value: Decimal, unit: str, rule: str) -> Value:
    """A success-bonus figure shipped from RULES.md §3 (tier S)."""
    return Value(key, value, unit, None, "S", BONUS_SOURCE, rule)


def _qualifies(streaming: Streaming, running_minutes: int) -> bool:
    """views ÷ subscribers >= 0.2, exactly: a view is hours streamed ÷ running time, so with
    hours given the test is hours × 60 >= 0.2 × running minutes × subscribers."""
    subscribers = Decimal(streaming.domestic_subscribers)
    threshold = BONUS_THRESHOLD * subscribers
    if streaming.views is not None:
        return streaming.views >= threshold
    hours = streaming.hours_streamed or Decimal(0)
    return hours * MINUTES_PER_HOUR >= threshold * running_minutes


def _ratio_words(streaming: Streaming, running_minutes: int) -> str:
    if streaming.views is not None:
        views = f"{streaming.views} views"
    else:
        views = (
            f"{streaming.hours_streamed} hours ÷ {running_minutes} minutes = "
            f"{(streaming.hours_streamed or Decimal(0)) * MINUTES_PER_HOUR / running_minutes} views"
        )
    return f"{views} in 90 days ÷ {streaming.domestic_subscribers} domestic subscribers"


def _due(given: ResidualInput, exhibition: Exhibition) -> Due:
    market = exhibition.market
    if market == HBSVOD:
        return due_dates.hbsvod(
            given.schedule.due_rule, exhibition.period_to, exhibition.exhibition_year or 0
        )
    if market == "network_tv" and exhibition.broadcast_on is not None:
        return due_dates.network_tv(exhibition.broadcast_on)
    if market == "syndication":
        return due_dates.syndication(exhibition.broadcast_on, exhibition.period_to)
    if market == "basic_cable":
        return due_dates.basic_cable(exhibition.period_to)
    return due_dates.supplemental_markets(exhibition.period_to, exhibition.first_period)


def _unique(problems: list[Problem]) -> list[Problem]:
    """Each exception once: a factor missing for both territories is one exception."""
    seen: list[Problem] = []
    for problem in problems:
        if problem not in seen:
            seen.append(problem)
    return seen
