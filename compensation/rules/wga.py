"""WGA MBA pay (RULES.md §3): the minimum for the work type in a loaded schedule, first-writer
pay when the company handed over AI-generated material, and the Health Fund and Pension Plan
contributions on reportable compensation. Each function returns explained lines.

No schedule of minimums is shipped (evidence.md §3.2: the dollar amounts were not found), so a
minimum lookup `wga.minimum.<work_type>` raises RateMissing and the quote reports `rate_missing`
naming the parameter and date; the fee entered as `other_pay` and the fringes on it are still
computed. With a loaded schedule, a delivery date whose pay is under the minimum gets a top-up
line for the shortfall."""

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from core.rounding import round_money

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
    value = writer.params.get(f"wga.minimum.{work_type}", delivery.on, rule=rule)
    return value, work_type, rule


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
    try:
        result.fringes += fringes(writer, [*pay, *result.lines])
    except RateMissing as missing:
        result.problems.append(Problem.missing(missing, "wga.ph"))
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


def fringes(writer: Writer, pay: list[Line]) -> list[Fringe]:
    """wga.ph: Health Fund (11.5%, 12% from 2024-05-02) and Pension Plan (8.5%) on reportable
    compensation: every covered writer pay line, at the rate in force on the line's date, one
    contribution per rate in force. A writing team's members each contribute as a sole writer:
    quote each member separately."""
    out = []
    for parameter, fund, name in FUNDS:
        groups: dict[Value, list[Line]] = defaultdict(list)
        for line in pay:
            if line.covered:
                groups[writer.params.get(parameter, line.on, rule="wga.ph")].append(line)
        for rate, lines in groups.items():
            base = sum((line.amount for line in lines), ZERO)
            first, last = min(li.on for li in lines), max(li.on for li in lines)
            span = f"{first}" if first == last else f"{first} to {last}"
            out.append(
                Fringe(
                    rule="wga.ph",
                    fund=fund,
                    base=base,
                    rate=rate.value,
                    amount=round_money(base * rate.value),
                    currency=writer.currency,
                    on=first,
                    params=(rate,),
                    description=f"{name}: {rate.value} × reportable compensation {base} "
                    f"(pay dated {span})",
                )
            )
    return out
