"""WGA MBA pay (RULES.md §3): the minimum for the work type in a loaded schedule, first-writer
pay when the company handed over AI-generated material, and the Health Fund and Pension Plan
contributions on reportable compensation. Each function returns explained lines.

No schedule of minimums is shipped (evidence.md §3.2: the dollar amounts were not found), so a
minimum lookup `wga.minimum.<work_type>` raises RateMissing and the quote reports `rate_missing`
naming the parameter and date; the fee entered as `other_pay` and the fringes on it are still
computed. With a loaded schedule, a delivery date whose pay is under the minimum gets a top-up
line for the shortfall.

Under wga-mba-2026 (RULES.md §3, S) a loaded schedule dated before a raise of the minimums
(`wga.raise.minimum`) is raised by it: the derived minimum is tier D, needs confirmation and is
rounded to the dollar at each raise; a schedule loaded for a later date supersedes it. The
contributions of a screen (theatrical) project stop at the screen-project ceiling in force on
the project's first pay date (`wga.ph.cap.screen`, from 2026-05-02; none before)."""

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from core.rounding import round_money, round_to_dollar

from .lines import Fringe, Line, Problem, Result
from .params import Parameters, RateMissing, Value

WORK_TYPE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# A rewrite or polish of AI-generated material is paid as the original work (RULES.md §3
# wga.pay.first_writer): the screenplay for theatrical, the teleplay for television.
DERIVED = ("rewrite", "polish")
ORIGINAL_BY_KIND = {
    "theatrical": "screenplay",
    "television": "teleplay",
    "new_media": "teleplay",
}
FUNDS = (
    ("wga.health.rate", "wga-health", "Health Fund"),
    ("wga.pension.rate", "wga-pension", "Pension Plan"),
)
RAISE = "wga.raise.minimum"
SCREEN_CAP = "wga.ph.cap.screen"
SCREEN_KIND = "theatrical"
ZERO = Decimal(0)
# A delivery with the minimum that applies to it: (delivery, minimum, work type paid, rule id).
Found = tuple["Delivery", Value, str, str]


@dataclass(frozen=True)
class Delivery:
    work_type: str
    on: date
    ai_material_handed_over: bool = False


@dataclass
class Writer:
    params: Parameters
    production_kind: str | None = None
    currency: str = "USD"
    deliveries: list[Delivery] = field(default_factory=list)
    prior_covered: Decimal = ZERO  # reportable compensation on the project before (the ceiling)


def original_work_type(work_type: str, production_kind: str | None) -> str | None:
    """The original work a rewrite or polish stands in for: `rewrite`/`polish` by the production
    kind, `<work>_rewrite`/`<work>_polish` as `<work>`. None when it cannot be told."""
    for suffix in DERIVED:
        if work_type == suffix:
            return ORIGINAL_BY_KIND.get(production_kind or "")
        if work_type.endswith(f"_{suffix}"):
            return work_type[: -len(suffix) - 1]
    return work_type


def paid_as(writer: Writer, delivery: Delivery) -> tuple[str, str]:
    """(work type whose minimum applies, rule id) for a delivery."""
    if not delivery.ai_material_handed_over:
        return delivery.work_type, "wga.pay.minimum"
    original = original_work_type(delivery.work_type, writer.production_kind)
    if original is None:
        raise ValueError(f"no original work type for {delivery.work_type}")
    return original, "wga.pay.first_writer"


def minimum(writer: Writer, delivery: Delivery) -> tuple[Value, str, str]:
    """wga.pay.minimum / wga.pay.first_writer: the minimum for the work type (the original work
    when AI-generated material was handed over) in force on the delivery date."""
    work_type, rule = paid_as(writer, delivery)
    value = schedule_minimum(writer.params, f"wga.minimum.{work_type}", delivery.on, rule)
    return value, work_type, rule


def schedule_minimum(params: Parameters, parameter: str, on: date, rule: str) -> Value:
    """The minimum of the loaded schedule in force on `on`; when the schedule last loaded for a
    date on or before `on` predates raises of wga-mba-2026 (RULES.md §3), it raised by each of
    them in turn, rounded to the dollar each time (tier D, needs confirmation)."""
    base = params.latest_loaded(parameter, on)
    raises = _raises_after(params, base.effective_from, on) if base else []
    if base is None or not raises:
        return params.get(parameter, on, rule=rule)
    amount = base.value
    for raise_ in raises:
        amount = round_to_dollar(amount * (1 + raise_.value))
    steps = " × ".join(f"(1 + {r.value} from {r.effective_from})" for r in raises)
    return Value(
        parameter,
        amount,
        base.unit,
        raises[-1].effective_from,
        "D",
        f"Derived (RULES.md §3, wga-mba-2026): {base.value} from {base.effective_from} "
        f"({base.sheet}) × {steps}, rounded to the dollar at each raise; confirm on the "
        "official schedule of minimums",
        rule,
    )


def _raises_after(params: Parameters, after: date, on: date) -> list[Value]:
    """The raises of the minimums (`wga.raise.minimum`) dated after `after`, up to `on`."""
    series = params.series.get(RAISE)
    dates = [
        e.effective_from
        for e in (series.entries if series else ())
        if e.effective_from is not None and after < e.effective_from <= on
    ]
    return [params.get(RAISE, day, rule="wga.pay.minimum") for day in dates]


def compute(writer: Writer, *, pay: Sequence[Line] = ()) -> Result:
    """`pay` is the writer's pay entered for the quote (the negotiated fee as `other_pay` lines):
    it counts toward the minimum on its date and is reportable compensation for the fringes. The
    returned result holds only the computed lines (top-ups), fringes and problems."""
    result = Result()
    paid_on: defaultdict[date, Decimal] = defaultdict(lambda: ZERO)
    for line in pay:
        paid_on[line.on] += line.amount
    by_date: defaultdict[date, list[Delivery]] = defaultdict(list)
    for delivery in writer.deliveries:
        by_date[delivery.on].append(delivery)
    for on, deliveries in sorted(by_date.items()):
        found = []
        for delivery in deliveries:
            work_type, rule = paid_as(writer, delivery)
            try:
                found.append((delivery, *minimum(writer, delivery)))
            except RateMissing as missing:
                result.problems.append(_missing(missing, rule, writer, delivery, work_type))
        if len(found) == len(deliveries):
            result.lines += top_up(writer, on, found, paid_on[on])
    covered = [line for line in [*pay, *result.lines] if line.covered]
    try:
        subject, cap = subject_pay(writer, covered)
    except RateMissing as missing:
        result.problems.append(Problem.missing(missing, "wga.ph"))
        return result
    for parameter, fund, name in FUNDS:
        fringes, problem = fund_fringes(writer, subject, cap, parameter, fund, name)
        result.fringes += fringes
        result.problems += [problem] if problem else []
    return result


def _missing(
    error: RateMissing, rule: str, writer: Writer, delivery: Delivery, work_type: str
) -> Problem:
    if rule == "wga.pay.first_writer":
        message = (
            f"AI-generated material was handed over with the {delivery.work_type} delivered on "
            f"{delivery.on}: the writer is paid as first writer, at the minimum for original "
            f"work ({work_type}), not a {delivery.work_type} fee. {error} Load the schedule of "
            "minimums."
        )
    else:
        message = (
            f"Minimum for {work_type} delivered on {delivery.on}: {error} Load the schedule of "
            "minimums."
        )
    return Problem("rate_missing", rule, message, error.parameter, error.on)


def top_up(writer: Writer, on: date, found: list[Found], paid: Decimal) -> list[Line]:
    """The shortfall between the minimums of the deliveries on `on` and the pay entered for that
    date; nothing when the pay covers them."""
    total = sum((value.value for _, value, _, _ in found), ZERO)
    shortfall = total - paid
    if shortfall <= 0:
        return []
    parts = []
    for delivery, value, work_type, rule in found:
        if rule == "wga.pay.first_writer":
            parts.append(
                f"{value.value} for {work_type} ({delivery.work_type} of AI-generated material "
                "paid as first writer)"
            )
        else:
            parts.append(f"{value.value} for {work_type}")
    first_writer = any(rule == "wga.pay.first_writer" for *_, rule in found)
    return [
        Line(
            rule="wga.pay.first_writer" if first_writer else "wga.pay.minimum",
            description=f"Minimum top-up {on}: minimum {total} ({'; '.join(parts)}) less pay "
            f"entered for that date {paid}",
            on=on,
            quantity=Decimal(1),
            unit="flat",
            rate=shortfall,
            currency=writer.currency,
            params=tuple(value for _, value, _, _ in found),
            flags=("below_scale",) if paid else (),
        )
    ]


# A covered pay line with the part of it contributions are due on (less past the ceiling).
Subject = tuple[Line, Decimal]


def subject_pay(writer: Writer, covered: list[Line]) -> tuple[list[Subject], Value | None]:
    """The covered pay contributions are due on, in date order, with the ceiling that stopped
    it: a screen project's pay past the screen-project ceiling (RULES.md §3 wga-mba-2026, in
    force on its first pay date, less `prior_covered`) is not; RateMissing when that ceiling is
    not known. No ceiling for other projects, nor before it is in effect (as before 2026)."""
    whole = [(line, line.amount) for line in covered]
    if not covered or writer.production_kind != SCREEN_KIND:
        return whole, None
    first = min(line.on for line in covered)
    if not writer.params.in_effect(SCREEN_CAP, first):
        return whole, None
    cap = writer.params.get(SCREEN_CAP, first, rule="wga.ph")
    room = max(cap.value - writer.prior_covered, ZERO)
    parts = [ZERO] * len(covered)
    for index in sorted(range(len(covered)), key=lambda i: covered[i].on):  # earliest pay first
        parts[index] = min(covered[index].amount, room)
        room -= parts[index]
    return list(zip(covered, parts, strict=True)), cap


def fund_fringes(
    writer: Writer,
    subject: list[Subject],
    cap: Value | None,
    parameter: str,
    fund: str,
    name: str,
) -> tuple[list[Fringe], Problem | None]:
    """wga.ph for one fund: Health Fund (11.5%, 12% from 2024-05-02, 16.75% from 2027-05-02,
    rate_missing from 2026-05-02 to 2027-05-01) or Pension Plan (8.5%) on reportable
    compensation: every covered writer pay line, at the rate in force on the line's date, one
    contribution per rate in force. A writing team's members each contribute as a sole writer:
    quote each member separately. Pay dated where the rate is missing gets no contribution and
    one `rate_missing` exception for the fund."""
    groups: dict[Value, list[Subject]] = defaultdict(list)
    missing: list[RateMissing] = []
    for line, part in subject:
        try:
            groups[writer.params.get(parameter, line.on, rule="wga.ph")].append((line, part))
        except RateMissing as error:
            missing.append(error)
    out = []
    for rate, items in groups.items():
        base = sum((part for _, part in items), ZERO)
        first, last = min(li.on for li, _ in items), max(li.on for li, _ in items)
        span = f"{first}" if first == last else f"{first} to {last}"
        paid = sum((li.amount for li, _ in items), ZERO)
        ceiling = ""
        if cap:
            ceiling = f", {paid} paid; ceiling {cap.value}, {writer.prior_covered} before"
        out.append(
            Fringe(
                rule="wga.ph",
                fund=fund,
                base=base,
                rate=rate.value,
                amount=round_money(base * rate.value),
                currency=writer.currency,
                on=first,
                params=(rate, cap) if cap else (rate,),
                description=f"{name}: {rate.value} × reportable compensation {base} "
                f"(pay dated {span}{ceiling})",
            )
        )
    problem = None
    if missing:
        dates = sorted({error.on for error in missing})
        problem = Problem(
            "rate_missing",
            "wga.ph",
            f"{missing[0]} No {name} contribution on pay dated "
            f"{', '.join(str(d) for d in dates)}: load the rate.",
            parameter,
            dates[0],
        )
    return out, problem
