"""Money at the edges: negative zero, thousands separators, amounts beyond the store, and
ISO 4217 minor units (not CLDR's display digits)."""

from __future__ import annotations

import importlib.util
from decimal import Decimal
from pathlib import Path

import pytest

from canonical.money import MAX_MINOR, Money, MoneyError, exact_amount, minor_digits
from canonical.store import MIGRATIONS_DIR


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
        ("HUF", "1234.5", "1234.50"),  # ISO 4217: 2 (CLDR shows forints without fillér)
        ("IDR", "15000", "15000.00"),
        ("COP", "99000.1", "99000.10"),
        ("IQD", "1.25", "1.250"),  # ISO 4217: 3
        ("ISK", "5000", "5000"),  # ISO 4217: 0
        ("UGX", "5000", "5000"),
        ("CLF", "1.5", "1.5000"),  # ISO 4217: 4
    ],
)
def test_currency_exponents(currency: str, value: str, shown: str) -> None:
    assert str(Money(value, currency).amount) == shown


def test_huf_1234_50_is_exact_and_123450_minor_units() -> None:
    money = Money("1234.50", "HUF", exact=True)
    assert money.minor == 123450
    assert Money.from_minor(123450, "HUF") == money
    assert exact_amount(Decimal("1234.50"), "HUF") == Decimal("1234.50")
    with pytest.raises(MoneyError, match="more decimals"):
        Money("1234.505", "HUF", exact=True)


def test_codes_iso_4217_lists_without_digits_or_no_longer_take_cldrs() -> None:
    assert minor_digits("XAU") == 2  # gold: ISO 4217 gives no minor unit
    assert minor_digits("SLL") == 0  # replaced by SLE (2) and gone from the current list
    assert minor_digits("SLE") == 2
    assert minor_digits("huf") == 2
    with pytest.raises(MoneyError, match="unknown"):
        minor_digits("ABC")


def test_the_migrations_frozen_table_is_what_minor_digits_says() -> None:
    """The store was rescaled for exactly these currencies: if ISO 4217 (or the package that
    carries it) ever changes one of them, stored amounts need another migration."""
    path = next((MIGRATIONS_DIR / "versions").glob("579cc0a47296_*.py"))
    spec = importlib.util.spec_from_file_location("iso_minor_units", Path(path))
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert {code: minor_digits(code) for code in migration.CHANGED} == {
        code: new for code, (_, new) in migration.CHANGED.items()
    }
    assert {"HUF", "IDR", "COP", "IQD"} <= set(migration.CHANGED)
