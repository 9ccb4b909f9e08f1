"""Money, numbers and instants as people read them: one formatter for money
(core.money.money_display), one for rates and quantities (number_display), and the template
filters built on them (`money`, `number`, `instant`). JSON keeps exact decimal strings."""

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.template import engines

from core.money import money_display, money_str, number_display
from core.templatetags.money import instant, instant_display, money, number


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (Decimal("20000"), "USD", "20,000.00 USD"),
        (Decimal("1500.5"), "CAD", "1,500.50 CAD"),
        (Decimal("-1234.5"), "USD", "-1,234.50 USD"),
        (Decimal("0"), "USD", "0.00 USD"),
        (Decimal("0.005"), "GBP", "0.01 GBP"),  # half-up to the cent, the one rounding rule
        (Decimal("123456789012.34"), "EUR", "123,456,789,012.34 EUR"),
    ],
)
def test_money_display(amount, currency, shown):
    assert money_display(amount, currency) == shown


def test_json_keeps_the_exact_decimal_string():
    assert money_str(Decimal("20000")) == "20000.00"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("1500.000000"), "1,500"),
        (Decimal("0.210000"), "0.21"),
        (Decimal("2.0"), "2"),
        (Decimal("0"), "0"),
        (Decimal("-0.000"), "0"),
        (Decimal("-1234.5000"), "-1,234.5"),
        (Decimal("12345678.123456"), "12,345,678.123456"),  # never rounded
        (Decimal("1E+3"), "1,000"),
        (7, "7"),
    ],
)
def test_number_display(value, shown):
    assert number_display(value) == shown


def test_number_display_refuses_what_is_not_a_number():
    with pytest.raises(ValueError):
        number_display(Decimal("NaN"))


def test_filters_accept_the_decimal_strings_of_stored_json():
    assert money("1246.00", "USD") == "1,246.00 USD"
    assert money(Decimal("-1234.5"), "USD") == "-1,234.50 USD"
    assert number("0.210000") == "0.21"
    assert money(None, "USD") == number("") == "—"
    assert money("not a number", "USD") == "not a number"


def render(source: str, **context) -> str:
    return engines["django"].from_string("{% load money %}" + source).render(context)


def test_the_template_library():
    shown = render(
        "{{ a|money:c }} | {{ r|number }} | {{ t|instant }}",
        a=Decimal("1500"),
        c="USD",
        r=Decimal("1500.000000"),
        t=datetime(2026, 12, 7, 14, 5, 59, 123456, tzinfo=UTC),
    )
    assert shown == "1,500.00 USD | 1,500 | 7 Dec 2026, 14:05 UTC"


def test_instants_are_shown_in_utc_to_the_minute_with_the_zone_stated():
    in_new_york = datetime(2026, 12, 7, 9, 5, 30, 999999, tzinfo=timezone(timedelta(hours=-5)))
    assert instant_display(in_new_york) == "7 Dec 2026, 14:05 UTC"
    assert instant("2026-12-07T14:05:30.123456+00:00") == "7 Dec 2026, 14:05 UTC"
    assert instant(date(2026, 3, 1)) == instant("2026-03-01") == "1 Mar 2026"
    assert instant(None) == "—"
    assert instant("no date") == "no date"
