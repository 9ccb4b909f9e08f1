"""Money, numbers and instants on the pages people read (the admin, the reports, the label,
receipts, e-mails): `{{ amount|money:currency }}` -> "20,000.00 USD", `{{ rate|number }}` ->
"1,500", `{{ instant|instant }}` -> "7 Dec 2026, 14:05 UTC". JSON and machine CSV keep exact
decimal strings; these are for reading only. An empty value reads as "—"."""

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django import template
from django.utils import timezone

from core.money import money_display, number_display

register = template.Library()

EMPTY = "—"


def _decimal(value: object) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool | float):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


@register.filter
def money(amount: object, currency: str = "") -> str:
    """An amount with its currency; a value that is not a number is shown as it is."""
    number = _decimal(amount)
    if number is None:
        return EMPTY if amount is None or amount == "" else str(amount)
    return money_display(number, currency).strip()


@register.filter
def number(value: object) -> str:
    """A rate or quantity without trailing zeros, with thousands separators."""
    parsed = _decimal(value)
    if parsed is None:
        return EMPTY if value is None or value == "" else str(value)
    return number_display(parsed)


def instant_display(value: datetime | date | None) -> str:
    """A date as "7 Dec 2026"; an instant in UTC, to the minute, with the zone stated:
    "7 Dec 2026, 14:05 UTC" (never microseconds)."""
    if value is None:
        return EMPTY
    if isinstance(value, datetime):
        if timezone.is_naive(value):
            value = timezone.make_aware(value, timezone.get_default_timezone())
        value = timezone.localtime(value, timezone.get_default_timezone())
        return f"{value.day} {value:%b %Y, %H:%M} {value.tzname()}"
    return f"{value.day} {value:%b %Y}"


@register.filter
def instant(value: object) -> str:
    """A date or instant in the human form of `instant_display`; anything else as it is."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, datetime | date):
        return instant_display(value)
    if isinstance(value, str):
        # The reports' stored JSON holds instants as ISO 8601 strings.
        try:
            parsed = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
        except ValueError:
            return value
        return instant_display(parsed)
    return str(value)
