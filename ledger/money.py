"""Money: exact decimals with a currency, rounded in one place (half-up to the cent)."""

from decimal import ROUND_HALF_UP, Decimal

from django.db import models

CENT = Decimal("0.01")
MAX_DIGITS = 14
DECIMAL_PLACES = 2


class Currency(models.TextChoices):
    USD = "USD", "US dollar"
    CAD = "CAD", "Canadian dollar"
    GBP = "GBP", "Pound sterling"
    EUR = "EUR", "Euro"
    AUD = "AUD", "Australian dollar"
    NZD = "NZD", "New Zealand dollar"


def round_money(amount: Decimal) -> Decimal:
    """The project's one rounding rule: half-up to the cent."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"money must be a Decimal, not {type(amount).__name__}")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def money_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, **kwargs)


def currency_field(**kwargs) -> models.CharField:
    kwargs.setdefault("default", Currency.USD)
    return models.CharField(max_length=3, choices=Currency.choices, **kwargs)


def money_str(amount: Decimal) -> str:
    """An amount as it leaves the system: a decimal string with exactly two places."""
    return f"{round_money(Decimal(amount)):.2f}"
