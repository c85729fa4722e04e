"""Money at the edges: negative zero, thousands separators, amounts beyond the store."""

from __future__ import annotations

from decimal import Decimal

import pytest

from canonical.money import MAX_MINOR, Money, MoneyError


def test_negative_zero_is_zero() -> None:
    for value in ("-0.00", "-0", Decimal("-0.001")):
        money = Money(value, "USD")
        assert str(money) == "0.00 USD"
        assert money.to_json() == {"amount": "0.00", "currency": "USD"}


@pytest.mark.parametrize(
    ("text", "amount"), [("1,234.56", "1234.56"), ("-1,234,567.5", "-1234567.50")]
)
def test_thousands_separators_with_a_decimal_point(text: str, amount: str) -> None:
    assert Money(text, "USD").amount == Decimal(amount)


@pytest.mark.parametrize("text", ["1.234,56", "1,2", "1,234", "12,34.5"])
def test_ambiguous_separators_are_refused(text: str) -> None:
    with pytest.raises(MoneyError, match="not an amount"):
        Money(text, "USD")


def test_amounts_beyond_the_stores_minor_units_are_refused() -> None:
    assert Money.from_minor(MAX_MINOR, "USD").minor == MAX_MINOR
    for value in ("92233720368547758.08", "1E+40", "12345678901234567890123456789"):
        with pytest.raises(MoneyError, match="too large"):
            Money(value, "USD")


@pytest.mark.parametrize(
    ("currency", "value", "shown"),
    [
        ("JPY", "1000", "1000"),
        ("KRW", "5", "5"),
        ("KWD", "1.5", "1.500"),
        ("TND", "0.001", "0.001"),
    ],
)
def test_currency_exponents(currency: str, value: str, shown: str) -> None:
    assert str(Money(value, currency).amount) == shown
