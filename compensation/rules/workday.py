"""A workday's times and the arithmetic every guild's rules share: work time in tenths of an
hour, elapsed hours, and late meals."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_CEILING, Decimal

from .lines import Line
from .params import Value

TENTH = Decimal("0.1")
HALF_HOUR = timedelta(minutes=30)


@dataclass(frozen=True)
class WorkDay:
    on: date
    first_call: datetime
    dismissal: datetime
    meals: tuple[tuple[datetime, datetime], ...] = ()
    rest_start: datetime | None = None  # when the rest before this day began (last dismissal)
    episode: str | None = None

    @classmethod
    def build(
        cls,
        on: date,
        first_call: time,
        dismissal: time,
        meals: Iterable[tuple[time, time]] = (),
        rest_start: datetime | None = None,
        episode: str | None = None,
    ) -> "WorkDay":
        """Times on `on`; a dismissal or meal earlier than the call is on the next day."""
        start = datetime.combine(on, first_call)

        def after_call(moment: time) -> datetime:
            at = datetime.combine(on, moment)
            return at if at >= start else at + timedelta(days=1)

        return cls(
            on=on,
            first_call=start,
            dismissal=after_call(dismissal),
            meals=tuple((after_call(a), after_call(b)) for a, b in meals),
            rest_start=rest_start,
            episode=episode,
        )

    @property
    def elapsed_hours(self) -> Decimal:
        """Call to dismissal, meals included, in tenths (rounded up)."""
        return tenths(self.dismissal - self.first_call)

    @property
    def work_hours(self) -> Decimal:
        """Call to dismissal less meal periods, rounded up to the next tenth of an hour."""
        meals = sum((b - a for a, b in self.meals), timedelta())
        return tenths(self.dismissal - self.first_call - meals)


def tenths(span: timedelta) -> Decimal:
    hours = Decimal(int(span.total_seconds())) / Decimal(3600)
    return max(hours, Decimal(0)).quantize(TENTH, rounding=ROUND_CEILING)


def late_meal_half_hours(day: WorkDay, due_after: timedelta) -> list[int]:
    """For each meal that came late (or never came before dismissal), how many half hours or
    parts of one it was late. The first meal is due `due_after` the call; each later one
    `due_after` the end of the previous meal."""
    delays, due = [], day.first_call + due_after
    for start, end in sorted(day.meals):
        if start > due:
            delays.append(_half_hours(start - due))
        due = end + due_after
    if day.dismissal > due:
        delays.append(_half_hours(day.dismissal - due))
    return delays


def meal_penalty_line(
    rule: str,
    day: WorkDay,
    currency: str,
    due: Value,
    value: Value,
    quantity: int,
    description: str,
) -> Line:
    """One meal penalty line of a guild's rule: `quantity` late half hours at `value` (the meal
    was due `due` hours after call or the previous meal); not covered pay."""
    return Line(
        rule=rule,
        description=description,
        on=day.on,
        quantity=Decimal(quantity),
        unit="half_hour",
        rate=value.value,
        currency=currency,
        params=(due, value),
        covered=False,
        episode=day.episode,
    )


def _half_hours(late: timedelta) -> int:
    whole, part = divmod(late, HALF_HOUR)
    return int(whole) + (1 if part else 0)
