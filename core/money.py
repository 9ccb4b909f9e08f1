"""Money: exact decimals with a currency, rounded in one place (half-up to the cent)."""

from decimal import Decimal

from django.db import models

from core.rounding import CENT, round_money  # noqa: F401  (the one rounding rule lives there)

MAX_DIGITS = 14
DECIMAL_PLACES = 2


class Currency(models.TextChoices):
    USD = "USD", "US dollar"
    CAD = "CAD", "Canadian dollar"
    GBP = "GBP", "Pound sterling"
    EUR = "EUR", "Euro"
    AUD = "AUD", "Australian dollar"
    NZD = "NZD", "New Zealand dollar"


def money_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, **kwargs)


def currency_field(**kwargs) -> models.CharField:
    kwargs.setdefault("default", Currency.USD)
    return models.CharField(max_length=3, choices=Currency.choices, **kwargs)


def money_str(amount: Decimal) -> str:
    """An amount as it leaves the system: a decimal string with exactly two places."""
    return f"{round_money(Decimal(amount)):.2f}"


def money_display(amount: Decimal, currency: str) -> str:
    """An amount as a person reads it: thousands separators, two decimals and the currency
    ("20,000.00 USD"). JSON keeps `money_str`."""
    return f"{round_money(Decimal(amount)):,.2f} {currency}"


def number_display(value: Decimal | int) -> str:
    """A rate or a quantity as a person reads it: thousands separators and no trailing zeros
    ("1,500", "0.21", "2"). It is never rounded: every significant digit stays."""
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError(f"not a finite number: {value}")
    if number.is_zero():
        return "0"
    return f"{number.normalize():,f}"
