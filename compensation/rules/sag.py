"""SAG-AFTRA TV/Theatrical pay (RULES.md §3): day and weekly pay, overtime in tenths with the
money break, meal penalties, replica creation and use, bargained uses, and pension and health
with the theatrical and per-episode ceilings. Each function returns explained lines.

From 2026-07-01 (sag-tvth-2026) an ICDR use pays at least the ICDR minimum and generates
residuals; the P&H rates of that date need confirmation (parameters/README.md)."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from core.rounding import round_money

from .lines import Fringe, Line, Problem, Rate, Result, guard
from .params import Parameters, RateMissing, Value
from .workday import WorkDay, late_meal_half_hours, meal_penalty_line

CLASSIFICATIONS = ("day_performer", "weekly_performer", "background", "stand_in")
MINIMUM = {
    "day_performer": "sag.minimum.day_performer",
    "weekly_performer": "sag.minimum.weekly_performer",
    "background": "sag.minimum.background",
    "stand_in": "sag.minimum.stand_in",
}
# Stand-ins are paid as background (RULES.md §3 groups "background and stand-ins"), not as
# principals; everyone else: the principals' rate.
PH_RATE = {"background": "sag.ph.rate.background", "stand_in": "sag.ph.rate.background"}
# sag-tvth-2026: an ICDR use pays at least this (RULES.md §3); in effect from its first date.
ICDR_MINIMUM = "sag.minimum.icdr"
ZERO = Decimal(0)


@dataclass(frozen=True)
class ReplicaUse:
    kind: str  # ebdr_use (same production), new_project_use, icdr_use
    on: date
    days: Decimal = Decimal(1)
    amount: Decimal | None = None  # the bargained amount, for new-project and ICDR use
    episode: str | None = None


@dataclass(frozen=True)
class Scan:
    on: date
    hours: Decimal
    other_work_that_day: bool = False
    for_performer_convenience: bool = False
    episode: str | None = None


@dataclass
class Performer:
    classification: str
    rate: Rate | None
    production_kind: str
    episode_minutes: int | None
    params: Parameters
    prior_covered: dict[str | None, Decimal] = field(
        default_factory=dict
    )  # episode (or None) -> covered pay so far

    @property
    def currency(self) -> str:
        return self.rate.currency if self.rate else "USD"

    def minimum(self, on: date) -> Value:
        return self.params.get(MINIMUM[self.classification], on, rule="sag.pay.day")

    def pro_rata_daily(self, on: date) -> tuple[Decimal, list[Value]]:
        """max(pro-rata daily, day minimum): the daily figure for scans and replica use, with the
        parameters that decided it (none when the negotiated rate did)."""
        if self.classification == "weekly_performer":
            weekly = self.minimum(on)
            negotiated = self.rate.amount if self.rate and self.rate.unit == "week" else ZERO
            day_min = self.params.get("sag.minimum.day_performer", on, rule="sag.pay.day")
            pro_rata = max(negotiated, weekly.value) / 5
            deciding = [] if negotiated >= weekly.value else [weekly]
            if day_min.value > pro_rata:
                return day_min.value, [day_min]
            return pro_rata, deciding
        minimum = self.minimum(on)
        negotiated = self.rate.amount if self.rate and self.rate.unit == "day" else ZERO
        if negotiated >= minimum.value:
            return negotiated, []
        return minimum.value, [minimum]


def compute(
    performer: Performer,
    *,
    work_days: Sequence[WorkDay] = (),
    replica_uses: Sequence[ReplicaUse] = (),
    scans: Sequence[Scan] = (),
) -> Result:
    result = Result()
    _check_rate_unit(performer, result)
    if performer.classification == "weekly_performer":
        guard(result, "sag.pay.weekly", partial(weekly_pay, performer, list(work_days)))
    else:
        for day in work_days:
            guard(result, "sag.pay.day", partial(day_pay, performer, day))
    for day in work_days:
        if performer.classification == "day_performer":
            guard(result, "sag.pay.overtime", partial(overtime, performer, day))
        guard(result, "sag.pay.meal_penalty", partial(meal_penalties, performer, day))
    for scan in scans:
        guard(result, "sag.pay.ebdr_creation", partial(scan_pay, performer, scan))
    for use in replica_uses:
        rule = "sag.pay.ebdr_use" if use.kind == "ebdr_use" else "sag.pay.bargained_use"
        guard(result, rule, partial(replica_use_pay, performer, use))
    # One guard per ceiling: a missing ceiling for one episode leaves the others' contributions.
    for key, (base, on) in covered_pay(performer, result.lines).items():
        guard(result, "sag.ph", partial(_ph_fringes, performer, key, base, on))
    return result


def _ph_fringes(performer: Performer, key: str | None, base: Decimal, on: date) -> list[Fringe]:
    return [ph_fringe(performer, key, base, on)]


def _check_rate_unit(performer: Performer, result: Result) -> None:
    expected = "week" if performer.classification == "weekly_performer" else "day"
    if performer.rate is not None and performer.rate.unit != expected:
        result.problems.append(
            Problem(
                "rate_unit_mismatch",
                "sag.pay.weekly" if expected == "week" else "sag.pay.day",
                f"A {performer.classification} is paid per {expected}; the rate given is per "
                f"{performer.rate.unit}, so scale applies.",
            )
        )


def day_pay(performer: Performer, day: WorkDay) -> list[Line]:
    """sag.pay.day: max(negotiated daily rate, the classification's minimum) for an 8-hour day."""
    minimum = performer.minimum(day.on)
    negotiated = performer.rate.amount if performer.rate and performer.rate.unit == "day" else None
    rate = max(negotiated or ZERO, minimum.value)
    flags = ("below_scale",) if negotiated is not None and negotiated < minimum.value else ()
    return [
        Line(
            rule="sag.pay.day",
            description=f"Day pay {day.on}: max(negotiated daily rate, {minimum.parameter})",
            on=day.on,
            quantity=Decimal(1),
            unit="day",
            rate=rate,
            currency=performer.currency,
            params=_deciding(minimum, negotiated),
            flags=flags,
            episode=day.episode,
        )
    ]


def weekly_pay(performer: Performer, work_days: list[WorkDay]) -> list[Line]:
    """sag.pay.weekly: max(negotiated weekly rate, weekly minimum) per week worked (ISO weeks)."""
    weeks = defaultdict(list)
    for day in work_days:
        weeks[day.on - timedelta(days=day.on.weekday())].append(day)
    lines = []
    for monday, days in sorted(weeks.items()):
        first = min(d.on for d in days)
        minimum = performer.minimum(first)
        negotiated = (
            performer.rate.amount if performer.rate and performer.rate.unit == "week" else None
        )
        rate = max(negotiated or ZERO, minimum.value)
        lines.append(
            Line(
                rule="sag.pay.weekly",
                description=f"Weekly pay, week of {monday}: max(negotiated weekly rate, "
                f"{minimum.parameter})",
                on=first,
                quantity=Decimal(1),
                unit="week",
                rate=rate,
                currency=performer.currency,
                params=_deciding(minimum, negotiated),
                flags=("below_scale",)
                if negotiated is not None and negotiated < minimum.value
                else (),
                episode=days[0].episode,
            )
        )
    return lines


def overtime(performer: Performer, day: WorkDay) -> list[Line]:
    """sag.pay.overtime: work time in tenths past 8 hours; hours 9 and 10 at 1.5 × (daily ÷ 8),
    beyond 10 at 2 × (daily ÷ 8). Above the money break (2 × day minimum): nothing for hours 9
    and 10, and 1.5 × (money break ÷ 8) beyond 10."""
    p = performer.params
    base_hours = p.get("sag.overtime.day_hours", day.on)
    until = p.get("sag.overtime.time_and_a_half_until", day.on)
    first = p.get("sag.overtime.first_multiplier", day.on)
    after = p.get("sag.overtime.after_multiplier", day.on)
    breaks = p.get("sag.overtime.money_break_multiple", day.on)
    day_min = p.get("sag.minimum.day_performer", day.on)
    hours = day.work_hours
    if hours <= base_hours.value:
        return []
    daily, deciding = performer.pro_rata_daily(day.on)
    money_break = breaks.value * day_min.value
    common: dict[str, Any] = dict(
        on=day.on, unit="hour", currency=performer.currency, episode=day.episode
    )
    band = min(hours, until.value) - base_hours.value
    beyond = max(hours - until.value, ZERO)
    used = (base_hours, until, first, after, *deciding)
    lines = []
    if daily > money_break:
        if beyond:
            lines.append(
                Line(
                    rule="sag.pay.overtime",
                    description=f"Overtime {day.on}: {beyond} h beyond {until.value} at "
                    f"{first.value} × (money break {money_break} ÷ {base_hours.value}); the daily "
                    "rate is above the money break",
                    quantity=beyond,
                    rate=first.value * money_break / base_hours.value,
                    params=(*used, breaks, day_min),
                    **common,
                )
            )
        return lines
    hourly = daily / base_hours.value
    if band > 0:
        lines.append(
            Line(
                rule="sag.pay.overtime",
                description=f"Overtime {day.on}: {band} h (hours 9-10) at {first.value} × "
                f"(daily {daily} ÷ {base_hours.value}); work time {hours} h",
                quantity=band,
                rate=first.value * hourly,
                params=used,
                **common,
            )
        )
    if beyond:
        lines.append(
            Line(
                rule="sag.pay.overtime",
                description=f"Overtime {day.on}: {beyond} h beyond {until.value} at "
                f"{after.value} × (daily {daily} ÷ {base_hours.value})",
                quantity=beyond,
                rate=after.value * hourly,
                params=used,
                **common,
            )
        )
    return lines


def meal_penalties(performer: Performer, day: WorkDay) -> list[Line]:
    """sag.pay.meal_penalty: each late half hour or part, $25.00 for the 1st and 2nd, $50.00 for
    each after; first meal due 6 hours after call, later ones 6 hours after the previous meal."""
    p = performer.params
    due = p.get("sag.meal.due_after_hours", day.on)
    early = p.get("sag.meal_penalty.first_two", day.on)
    later = p.get("sag.meal_penalty.after", day.on)
    lines = []
    for delay in late_meal_half_hours(day, timedelta(hours=int(due.value))):
        first_two, rest = min(delay, 2), max(delay - 2, 0)
        penalty = partial(meal_penalty_line, "sag.pay.meal_penalty", day, performer.currency, due)
        lines.append(
            penalty(
                early,
                first_two,
                f"Meal penalty {day.on}: {first_two} late half hour(s) at {early.value}",
            )
        )
        if rest:
            lines.append(
                penalty(
                    later,
                    rest,
                    f"Meal penalty {day.on}: {rest} further late half hour(s) at {later.value}",
                )
            )
    return lines


def scan_pay(performer: Performer, scan: Scan) -> list[Line]:
    """sag.pay.ebdr_creation: a scan on a day with no other work pays one day at max(pro-rata
    daily, day minimum); a session of 4 hours or less arranged for the performer's convenience
    pays half of that (T). A scan on a work day is work time that day: no separate line."""
    if scan.other_work_that_day:
        return []
    daily, used = performer.pro_rata_daily(scan.on)
    quantity, description = (
        Decimal(1),
        f"Scan day {scan.on}: one day at max(pro-rata daily, day minimum)",
    )
    if scan.for_performer_convenience:
        limit = performer.params.get("sag.scan.convenience_max_hours", scan.on)
        fraction = performer.params.get("sag.scan.convenience_fraction", scan.on)
        used = [*used, limit, fraction]
        if scan.hours <= limit.value:
            quantity = fraction.value
            description = (
                f"Scan session {scan.on} ({scan.hours} h, arranged for the performer): "
                f"{fraction.value} of a day at max(pro-rata daily, day minimum)"
            )
    return [
        Line(
            rule="sag.pay.ebdr_creation",
            description=description,
            on=scan.on,
            quantity=quantity,
            unit="day",
            rate=daily,
            currency=performer.currency,
            params=tuple(used),
            episode=scan.episode,
        )
    ]


def replica_use_pay(performer: Performer, use: ReplicaUse) -> list[Line]:
    """sag.pay.ebdr_use: per day the performer would have worked, max(pro-rata daily, day
    minimum), with a residuals flag. sag.pay.bargained_use: use in another production and ICDR
    use pay the bargained amount; none is `rate_missing`, under one day minimum is flagged."""
    if use.kind == "ebdr_use":
        daily, used = performer.pro_rata_daily(use.on)
        return [
            Line(
                rule="sag.pay.ebdr_use",
                description=f"Replica use {use.on}: {use.days} day(s) the performer would have "
                "worked, at max(pro-rata daily, day minimum)",
                on=use.on,
                quantity=use.days,
                unit="day",
                rate=daily,
                currency=performer.currency,
                params=tuple(used),
                flags=("residuals",),
                episode=use.episode,
            )
        ]
    if use.amount is None:
        raise RateMissing(f"bargained amount ({use.kind})", use.on, "sag.pay.bargained_use")
    day_min = performer.params.get("sag.minimum.day_performer", use.on)
    flags = ("below_day_minimum",) if use.amount < day_min.value else ()
    if use.kind == "icdr_use" and performer.params.in_effect(ICDR_MINIMUM, use.on):
        return [icdr_use_pay(performer, use, use.amount, day_min, flags)]
    what = (
        "independently created replica" if use.kind == "icdr_use" else "use in another production"
    )
    return [
        Line(
            rule="sag.pay.bargained_use",
            description=f"Bargained amount for the {what} on {use.on}",
            on=use.on,
            quantity=Decimal(1),
            unit="flat",
            rate=use.amount,
            currency=performer.currency,
            params=(day_min,),
            flags=flags,
            episode=use.episode,
        )
    ]


def icdr_use_pay(
    performer: Performer,
    use: ReplicaUse,
    bargained: Decimal,
    day_min: Value,
    flags: tuple[str, ...],
) -> Line:
    """sag.pay.bargained_use under sag-tvth-2026 (RULES.md §3, S): an ICDR use pays the bargained
    amount but not less than the ICDR minimum (`sag.minimum.icdr`, rate_missing until a rate
    sheet supplies it), and generates residuals (evidence.md §9: "minimum payment rates and
    residuals")."""
    floor = performer.params.get(ICDR_MINIMUM, use.on, rule="sag.pay.bargained_use")
    below = bargained < floor.value
    return Line(
        rule="sag.pay.bargained_use",
        description=f"Bargained amount for the independently created replica on {use.on}, not "
        f"less than {ICDR_MINIMUM} {floor.value}" + (f" (bargained {bargained})" if below else ""),
        on=use.on,
        quantity=Decimal(1),
        unit="flat",
        rate=max(bargained, floor.value),
        currency=performer.currency,
        params=(day_min, floor),
        flags=(*flags, "residuals", *(("below_scale",) if below else ())),
        episode=use.episode,
    )


def _deciding(minimum: Value, negotiated: Decimal | None) -> tuple[Value, ...]:
    """The minimum is a parameter of the line only when it set the rate."""
    return (minimum,) if negotiated is None or negotiated < minimum.value else ()


def ph_cap(performer: Performer, on: date) -> Value:
    """The P&H ceiling: per performer per production (theatrical), per episode (television)."""
    if performer.production_kind != "television":
        return performer.params.get("sag.ph.cap.theatrical", on, rule="sag.ph")
    minutes = performer.episode_minutes or 0
    name = (
        "half_hour"
        if minutes <= 30
        else "one_hour"
        if minutes <= 60
        else "90_minutes"
        if minutes <= 90
        else "2_hours"
    )
    return performer.params.get(f"sag.ph.cap.tv.{name}", on, rule="sag.ph")


def covered_pay(performer: Performer, lines: list[Line]) -> dict[str | None, tuple[Decimal, date]]:
    """Covered pay per ceiling: key (the episode for television, else None) -> (pay, first day)."""
    covered: dict[str | None, tuple[Decimal, date]] = {}
    for line in lines:
        if line.covered:
            key = line.episode if performer.production_kind == "television" else None
            base, on = covered.get(key, (ZERO, line.on))
            covered[key] = (base + line.amount, min(on, line.on))
    return covered


def ph_fringe(performer: Performer, key: str | None, base: Decimal, on: date) -> Fringe:
    """sag.ph for one ceiling: 21% of covered pay for principals, 20.5% for background (and
    stand-ins), on covered pay up to the ceiling in force on its first day, less what was covered
    before."""
    rate = performer.params.get(PH_RATE.get(performer.classification, "sag.ph.rate.principal"), on)
    cap = ph_cap(performer, on)
    prior = performer.prior_covered.get(key, ZERO)
    subject = max(min(base, cap.value - prior), ZERO)
    where = f"episode {key}" if key else "this production"
    return Fringe(
        rule="sag.ph",
        fund="sag-aftra-ph",
        base=subject,
        rate=rate.value,
        amount=round_money(subject * rate.value),
        currency=performer.currency,
        on=on,
        params=(rate, cap),
        description=f"Pension and health: {rate.value} × covered pay {subject} for {where} "
        f"(ceiling {cap.value}, {prior} covered before)",
    )
