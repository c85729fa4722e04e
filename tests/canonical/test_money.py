"""Money is exact, carries its currency, and refuses floats."""

from __future__ import annotations

from decimal import Decimal

import pytest

from canonical.keys import document_key, name_key
from canonical.money import Money, MoneyError, money_sum


def test_quantized_to_the_currency_minor_unit() -> None:
    assert Money("10.005", "USD").amount == Decimal("10.00")  # banker's rounding
    assert Money("10.015", "USD").amount == Decimal("10.02")
    assert Money("1234.5", "JPY").amount == Decimal("1234")
    assert Money("1.2345", "KWD").amount == Decimal("1.234")
    assert Money("1", "usd").currency == "USD"


def test_minor_units_round_trip() -> None:
    assert Money("12.34", "EUR").minor == 1234
    assert Money.from_minor(1234, "EUR") == Money("12.34", "EUR")
    assert Money.from_minor(-5, "KWD").amount == Decimal("-0.005")


def test_float_is_refused() -> None:
    with pytest.raises(MoneyError):
        Money(0.1, "USD")
    with pytest.raises(MoneyError):
        Money("1", "USD") * 1.5  # type: ignore[operator]


def test_currencies_do_not_mix() -> None:
    with pytest.raises(MoneyError):
        Money("1", "USD") + Money("1", "EUR")
    assert money_sum([Money("0.10", "USD")] * 3, "USD") == Money("0.30", "USD")


def test_bad_input_names_itself() -> None:
    with pytest.raises(MoneyError, match="XYZ"):
        Money("1", "XYZ")
    with pytest.raises(MoneyError, match="abc"):
        Money("abc", "USD")
    with pytest.raises(MoneyError):
        Money("1.001", "USD", exact=True)


def test_format_for_people() -> None:
    assert Money("1234.5", "USD").format() == "$1,234.50"
    assert Money("1234.5", "EUR").format("de_DE") == "1.234,50\xa0€"
    # every ISO 4217 minor digit is shown: CLDR's display precision would round the fillér
    assert Money("1234.50", "HUF").format() == "HUF1,234.50"
    assert Money("1000", "JPY").format() == "¥1,000"
    assert Money("12.345", "KWD").format() == "KWD12.345"


@pytest.mark.parametrize("raw", ["INV-001234", "inv 1234", "#1234", "Invoice No. 1234", "1234"])
def test_document_keys_agree(raw: str) -> None:
    assert document_key(raw) == "1234"


def test_name_keys_ignore_legal_form_and_case() -> None:
    assert name_key("Acme Corp.") == name_key("ACME CORPORATION") == "ACME"
    assert name_key("Müller GmbH") == "MULLER"
