"""IATSE Basic Agreement 2024 pay (RULES.md §3): hourly pay at max(negotiated, scale) with the
classification's overtime bands, triple time past 15 elapsed hours, rest-period violations, the
on-call weekly employee's 7th day, meal penalties and the kit rental for an employee's own AI
system. Each function returns explained lines.

The wage schedule of a classification (`iatse.scale.<code>`, `iatse.<code>.overtime_after_hours`,
`iatse.<code>.overtime_multiplier` and optionally `iatse.<code>.overtime2_after_hours`,
`iatse.<code>.overtime2_multiplier`) comes from the local's agreement and none is shipped: a
lookup raises RateMissing and the quote reports `rate_missing`. With a negotiated hourly rate the
rules that need no schedule still produce lines: every work hour is paid at the negotiated rate
(the overtime bands being unknown) and the triple-time and rest premiums are the difference
between their multiple and what those hours were paid, so the day's total for those hours is
the multiple whatever the schedule.

Work time is call to dismissal less meals, in tenths rounded up (as for SAG-AFTRA); triple time
counts elapsed hours (meals included) from call, and applies to the work time after that point.
A day's rest began at `rest_start` (the previous dismissal); without one, the dismissal of the
latest earlier work day in the quote is used."""

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial

from .lines import Line, Problem, Rate, Result, guard
from .params import Parameters, RateMissing, Value
from .workday import WorkDay, late_meal_half_hours, meal_penalty_line, tenths

ZERO, ONE = Decimal(0), Decimal(1)
CLASSIFICATION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")


@dataclass(frozen=True)
class KitRental:
    amount: Decimal
    per: str  # day or flat
    on: date | None = None  # for a flat rental; else the first work day


@dataclass
class Employee:
    classification: str
    rate: Rate | None
    params: Parameters
    kit_rental: KitRental | None = None

    @property
    def currency(self) -> str:
        return self.rate.currency if self.rate else "USD"

    @property
    def on_call_weekly(self) -> bool:
        return self.rate is not None and self.rate.unit == "week"

    @property
    def negotiated_hourly(self) -> Decimal | None:
        return self.rate.amount if self.rate and self.rate.unit == "hour" else None


@dataclass(frozen=True)
class Hourly:
    """The hourly rate of a day and the parameters that decided it."""

    rate: Decimal
    params: tuple[Value, ...]
    flags: tuple[str, ...]


@dataclass(frozen=True)
class Band:
    start: Decimal  # work hours into the day
    multiplier: Decimal
    params: tuple[Value, ...]


def compute(employee: Employee, *, work_days: Sequence[WorkDay] = ()) -> Result:
    result = Result()
    days = _with_rest_starts(sorted(work_days, key=lambda d: d.first_call))
    if employee.rate is not None and employee.rate.unit not in ("hour", "week"):
        result.problems.append(
            Problem(
                "rate_unit_mismatch",
                "iatse.pay.hourly",
                f"An IATSE employee is paid per hour (or per week on call); the rate given is per "
                f"{employee.rate.unit}, so scale applies.",
            )
        )
    if employee.on_call_weekly:
        if days:
            result.problems.append(
                Problem(
                    "not_computed",
                    "iatse.pay.seventh_day",
                    "The on-call weekly salary itself is not a rule of RULES.md §3: enter it as "
                    "other pay. Only the 7th-day pay and meal penalties are computed.",
                )
            )
        guard(result, "iatse.pay.seventh_day", lambda: seventh_day(employee, days))
    else:
        for day in days:
            try:
                hourly = hourly_rate(employee, day.on, result)
            except RateMissing as missing:
                result.problems.append(Problem.missing(missing, "iatse.pay.hourly"))
                continue
            bands = overtime_bands(employee, day.on, result)
            result.lines += hourly_pay(employee, day, hourly, bands)
            guard(
                result,
                "iatse.pay.rest_violation",
                partial(rest_violation, employee, day, hourly, bands),
            )
            guard(
                result, "iatse.pay.triple_time", partial(triple_time, employee, day, hourly, bands)
            )
    for day in days:
        guard(result, "iatse.pay.meal_penalty", partial(meal_penalties, employee, day))
    if employee.kit_rental:
        result.lines += kit_rental(employee, days)
    return result


def _with_rest_starts(days: list[WorkDay]) -> list[WorkDay]:
    out: list[WorkDay] = []
    for day in days:
        if day.rest_start is None and out and out[-1].dismissal <= day.first_call:
            day = replace(day, rest_start=out[-1].dismissal)
        out.append(day)
    return out


# --- the hourly rate and the overtime bands --------------------------------------------------


def hourly_rate(employee: Employee, on: date, result: Result) -> Hourly:
    """iatse.pay.hourly: max(negotiated hourly rate, scale of the classification). With no scale
    loaded the negotiated rate is used and the comparison is reported as `rate_missing`; with
    neither, RateMissing."""
    negotiated = employee.negotiated_hourly
    name = f"iatse.scale.{employee.classification}"
    try:
        scale = employee.params.get(name, on, rule="iatse.pay.hourly")
    except RateMissing as missing:
        if negotiated is None:
            raise
        result.problems.append(
            Problem(
                "rate_missing",
                "iatse.pay.hourly",
                f"{missing} The negotiated rate {negotiated} is used, not compared with scale.",
                missing.parameter,
                missing.on,
            )
        )
        return Hourly(negotiated, (), ())
    if negotiated is not None and negotiated >= scale.value:
        return Hourly(negotiated, (), ())
    flags = ("below_scale",) if negotiated is not None else ()
    return Hourly(scale.value, (scale,), flags)


def overtime_bands(employee: Employee, on: date, result: Result) -> list[Band]:
    """The classification's daily overtime bands from its wage schedule, straight time first.
    None loaded: one straight-time band, and `rate_missing` for the overtime threshold."""
    p, code = employee.params, employee.classification
    try:
        after = p.get(f"iatse.{code}.overtime_after_hours", on, rule="iatse.pay.hourly")
        mult = p.get(f"iatse.{code}.overtime_multiplier", on, rule="iatse.pay.hourly")
    except RateMissing as missing:
        result.problems.append(
            Problem(
                "rate_missing",
                "iatse.pay.hourly",
                f"{missing} Daily overtime is not computed: every work hour is paid at the "
                "straight hourly rate until the classification's wage schedule is loaded.",
                missing.parameter,
                missing.on,
            )
        )
        return [Band(ZERO, ONE, ())]
    bands = [Band(ZERO, ONE, ()), Band(after.value, mult.value, (after, mult))]
    if p.has(f"iatse.{code}.overtime2_after_hours"):
        try:
            after2 = p.get(f"iatse.{code}.overtime2_after_hours", on, rule="iatse.pay.hourly")
            mult2 = p.get(f"iatse.{code}.overtime2_multiplier", on, rule="iatse.pay.hourly")
        except RateMissing as missing:
            result.problems.append(Problem.missing(missing, "iatse.pay.hourly"))
        else:
            bands.append(Band(after2.value, mult2.value, (after2, mult2)))
    return bands


def _pieces(bands: list[Band], start: Decimal, end: Decimal) -> Iterator[tuple[Decimal, Band]]:
    """(hours, band) for the part of [start, end) work hours in each band."""
    for i, band in enumerate(bands):
        upper = bands[i + 1].start if i + 1 < len(bands) else None
        low = max(start, band.start)
        high = end if upper is None else min(end, upper)
        if high > low:
            yield high - low, band


def hourly_pay(employee: Employee, day: WorkDay, hourly: Hourly, bands: list[Band]) -> list[Line]:
    """iatse.pay.hourly: the day's work time paid band by band."""
    lines = []
    for hours, band in _pieces(bands, ZERO, day.work_hours):
        what = "straight time" if band.multiplier == ONE else f"overtime at {band.multiplier} ×"
        lines.append(
            Line(
                rule="iatse.pay.hourly",
                description=f"Hourly pay {day.on}: {hours} h {what} the hourly rate "
                f"{hourly.rate} (max(negotiated, iatse.scale.{employee.classification})); "
                f"work time {day.work_hours} h",
                on=day.on,
                quantity=hours,
                unit="hour",
                rate=band.multiplier * hourly.rate,
                currency=employee.currency,
                params=(*hourly.params, *band.params),
                flags=hourly.flags,
                episode=day.episode,
            )
        )
    return lines


# --- premiums in place of the normal rate ----------------------------------------------------


def _work_time_between(day: WorkDay, start: datetime, end: datetime) -> timedelta:
    start, end = max(start, day.first_call), min(end, day.dismissal)
    if end <= start:
        return timedelta()
    meals = sum((max(min(b, end) - max(a, start), timedelta()) for a, b in day.meals), timedelta())
    return end - start - meals


def invaded_hours(employee: Employee, day: WorkDay) -> tuple[Decimal, Value | None]:
    """Work hours inside the daily rest that began at `rest_start`, in tenths (rounded up)."""
    if day.rest_start is None:
        return ZERO, None
    rest = employee.params.get("iatse.rest.daily_hours", day.on)
    rest_end = day.rest_start + _span(rest.value)
    return min(tenths(_work_time_between(day, day.first_call, rest_end)), day.work_hours), rest


def _span(hours: Decimal) -> timedelta:
    return timedelta(seconds=int(hours * 3600))


def rest_violation(
    employee: Employee, day: WorkDay, hourly: Hourly, bands: list[Band]
) -> list[Line]:
    """iatse.pay.rest_violation: the first work hours of a day that invade the 10-hour daily rest
    are paid at 2 × the hourly rate (1 × before 2024-08-04), or at their overtime rate if higher,
    in place of their normal rate: the line is the premium over what they were paid."""
    hours, rest = invaded_hours(employee, day)
    if not hours or rest is None:
        return []
    multiple = employee.params.get("iatse.rest_violation.multiplier", day.on)
    lines = []
    for piece, band in _pieces(bands, ZERO, hours):
        premium = max(multiple.value, band.multiplier) - band.multiplier
        if premium <= 0:
            continue
        lines.append(
            _premium_line(
                "iatse.pay.rest_violation",
                employee,
                day,
                hourly,
                piece,
                premium,
                (rest, multiple, *hourly.params, *band.params),
                f"Rest violation {day.on}: rest began {day.rest_start:%Y-%m-%d %H:%M}"
                f", call {day.first_call:%Y-%m-%d %H:%M}; {piece} h inside the {rest.value}-hour "
                f"rest paid at {multiple.value} × the hourly rate {hourly.rate} in place of "
                f"{band.multiplier} ×: premium {premium} ×",
            )
        )
    return lines


def triple_time(employee: Employee, day: WorkDay, hourly: Hourly, bands: list[Band]) -> list[Line]:
    """iatse.pay.triple_time: work after 15 elapsed hours (call to dismissal, meals included) is
    paid at 3 × the hourly rate in place of its normal rate (from 2024-08-04): the line is the
    premium over what those hours were paid (including any rest-violation premium)."""
    name = "iatse.triple_time.after_elapsed_hours"
    try:
        threshold = employee.params.get(name, day.on)
    except RateMissing:
        # Before the rule's first known date: only a day long enough to reach the earliest known
        # threshold needs it, and for that day the missing rate is reported.
        series = employee.params.series.get(name)
        known = [e.value for e in series.entries if e.value is not None] if series else []
        if known and day.dismissal - day.first_call <= _span(min(known)):
            return []
        raise
    if day.dismissal - day.first_call <= _span(threshold.value):
        return []
    multiple = employee.params.get("iatse.triple_time.multiplier", day.on)
    moment = day.first_call + _span(threshold.value)
    hours = min(tenths(_work_time_between(day, moment, day.dismissal)), day.work_hours)
    if not hours:
        return []
    start = day.work_hours - hours
    invaded, rest_multiple = ZERO, None
    if day.rest_start is not None:
        invaded, _ = invaded_hours(employee, day)
        if invaded > start:
            rest_multiple = employee.params.get("iatse.rest_violation.multiplier", day.on)
    ranges: list[tuple[Decimal, Decimal, Value | None]] = [
        (max(start, invaded), day.work_hours, None)
    ]
    if rest_multiple is not None:  # hours also inside the rest were lifted to the rest rate
        ranges.insert(0, (start, min(invaded, day.work_hours), rest_multiple))
    lines = []
    for low, high, lifted_by in ranges:
        for quantity, band in _pieces(bands, low, high):
            paid = band.multiplier
            if lifted_by is not None:
                paid = max(lifted_by.value, band.multiplier)
            premium = multiple.value - paid
            if premium <= 0:
                continue
            lines.append(
                _premium_line(
                    "iatse.pay.triple_time",
                    employee,
                    day,
                    hourly,
                    quantity,
                    premium,
                    (threshold, multiple, *hourly.params, *band.params)
                    + ((lifted_by,) if lifted_by is not None else ()),
                    f"Triple time {day.on}: {quantity} h worked after "
                    f"{threshold.value} elapsed hours (call {day.first_call:%H:%M}, dismissal "
                    f"{day.dismissal:%H:%M}) at {multiple.value} × the hourly rate {hourly.rate} "
                    f"in place of {paid} ×: premium {premium} ×",
                )
            )
    return lines


def _premium_line(
    rule: str,
    employee: Employee,
    day: WorkDay,
    hourly: Hourly,
    hours: Decimal,
    premium: Decimal,
    params: tuple[Value, ...],
    description: str,
) -> Line:
    """Hours paid at a multiple in place of their normal one: the premium over what they were
    paid, `premium` × the hourly rate an hour."""
    return Line(
        rule=rule,
        description=description,
        on=day.on,
        quantity=hours,
        unit="hour",
        rate=premium * hourly.rate,
        currency=employee.currency,
        params=params,
        episode=day.episode,
    )


# --- weekly, meals, kit --------------------------------------------------------------------


def seventh_day(employee: Employee, days: list[WorkDay]) -> list[Line]:
    """iatse.pay.seventh_day: a consecutive 7th workday (the 7th, 14th, ... day of a run of
    consecutive calendar days worked) of an on-call weekly employee pays 2 × (weekly rate ÷ 5)."""
    rate = employee.rate
    if rate is None:  # only an on-call weekly employee, paid per week, has a 7th day
        return []
    lines, run, previous = [], 0, None
    for day in sorted({d.on: d for d in days}.values(), key=lambda d: d.on):
        run = run + 1 if previous and day.on - previous == timedelta(days=1) else 1
        previous = day.on
        if run % 7:
            continue
        multiple = employee.params.get("iatse.seventh_day.multiplier", day.on)
        weekly = rate.amount
        lines.append(
            Line(
                rule="iatse.pay.seventh_day",
                description=f"7th consecutive workday {day.on} (on call, weekly): "
                f"{multiple.value} × (weekly rate {weekly} ÷ 5)",
                on=day.on,
                quantity=ONE,
                unit="day",
                rate=multiple.value * weekly / 5,
                currency=employee.currency,
                params=(multiple,),
                episode=day.episode,
            )
        )
    return lines


def meal_penalties(employee: Employee, day: WorkDay) -> list[Line]:
    """iatse.pay.meal_penalty: a meal is due 6 hours after call or the previous meal's end (T);
    each late half hour or part: $8.50 for the 1st, $11.00 for the 2nd, $13.50 for each after."""
    p = employee.params
    due = p.get("iatse.meal.due_after_hours", day.on)
    first = p.get("iatse.meal_penalty.first", day.on)
    second = p.get("iatse.meal_penalty.second", day.on)
    after = p.get("iatse.meal_penalty.after", day.on)
    lines = []
    delays = late_meal_half_hours(day, _span(due.value))
    for n, delay in enumerate(delays, start=1):
        for ordinal, quantity, value in (
            ("1st", min(delay, 1), first),
            ("2nd", min(max(delay - 1, 0), 1), second),
            ("3rd and later", max(delay - 2, 0), after),
        ):
            if not quantity:
                continue
            lines.append(
                meal_penalty_line(
                    "iatse.pay.meal_penalty",
                    day,
                    employee.currency,
                    due,
                    value,
                    quantity,
                    f"Meal penalty {day.on}, meal {n} late by {delay} half hour(s) "
                    f"or part: {quantity} × {ordinal} late half hour at {value.value}",
                )
            )
    return lines


def kit_rental(employee: Employee, days: list[WorkDay]) -> list[Line]:
    """iatse.pay.kit_rental_ai: the kit rental agreed on the engagement for an employee who uses
    their own AI system, per work day or once."""
    kit = employee.kit_rental
    if kit is None:
        return []
    if kit.per == "day":
        quantity, what = Decimal(len({d.on for d in days})), "per work day"
        on = min((d.on for d in days), default=kit.on)
    else:
        quantity, on, what = ONE, kit.on or min((d.on for d in days), default=None), "flat"
    if on is None or not quantity:
        return []
    return [
        Line(
            rule="iatse.pay.kit_rental_ai",
            description=f"Kit rental for the employee's own AI system, {what}: {quantity} × "
            f"{kit.amount}",
            on=on,
            quantity=quantity,
            unit="day" if kit.per == "day" else "flat",
            rate=kit.amount,
            currency=employee.currency,
            covered=False,
        )
    ]
