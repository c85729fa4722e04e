"""Invoiced writes carry amounts at the currency's decimals, never rounded to cents.

Invoiced amounts are JSON numbers in major units and ``currency`` a 3-letter ISO code
(github.com/Invoiced/api ``_payments.md.erb``; examples use lower case, ``"usd"``).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from canonical.money import Money
from connectors.invoiced.jsonwire import dumps
from connectors.invoiced.writes import (
    Application,
    CreditNoteCreate,
    PaymentCreate,
    credit_note_application,
)


def amount(minor: int, currency: str) -> Decimal:
    return Money.from_minor(minor, currency).amount  # what Command.money hands the writes


def payment(currency: str, minor: int) -> PaymentCreate:
    cash = amount(minor, currency)
    return PaymentCreate("k1", "15", cash, (Application("invoice", "46225", cash),), currency)


@pytest.mark.parametrize(
    ("currency", "minor", "wire"),
    [("JPY", 1000, "1000"), ("KWD", 12345, "12.345"), ("USD", 85010, "850.10")],
)
def test_payment_amounts_at_the_currency_decimals(currency: str, minor: int, wire: str) -> None:
    raw = dumps(payment(currency, minor).body("arsync_key"))
    assert (
        f'"amount":{wire},"applied_to":[{{"type":"invoice","invoice":46225,"amount":{wire}}}]'
        in raw
    )
    assert f'"currency":"{currency.lower()}"' in raw


def test_more_decimals_than_the_currency_has_is_refused_not_rounded() -> None:
    write = PaymentCreate("k1", "15", Decimal("12.3456"), (), "KWD")
    with pytest.raises(ValueError, match="more decimals than KWD"):
        write.body("arsync_key")


def test_zero_amount_credit_note_application_in_jpy_has_no_decimals() -> None:
    write = credit_note_application("k2", "15", "46225", "2048", amount(500, "JPY"), currency="JPY")
    raw = dumps(write.body("arsync_key"))
    assert raw.startswith('{"customer":15,"amount":0,')
    assert '"amount":500}' in raw


def test_credit_note_unit_cost_in_bhd() -> None:
    note = CreditNoteCreate("k3", "15", amount(1255, "BHD"), "Deduction", "BHD")
    assert '"unit_cost":1.255}' in dumps(note.body("arsync_key"))
