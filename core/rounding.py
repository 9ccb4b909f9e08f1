"""The project's one rounding rule, free of Django so that the pure rules packages can use it:
money is a Decimal rounded half-up to the cent, once per amount."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def round_money(amount: Decimal) -> Decimal:
    """Half-up to the cent."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"money must be a Decimal, not {type(amount).__name__}")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


DOLLAR = Decimal("1")


def round_to_dollar(amount: Decimal) -> Decimal:
    """Half-up to the whole unit: how a derived minimum is stated (RULES.md §3, tier D)."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"money must be a Decimal, not {type(amount).__name__}")
    return amount.quantize(DOLLAR, rounding=ROUND_HALF_UP)
