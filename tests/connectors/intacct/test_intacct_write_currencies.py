"""Intacct writes carry amounts at the document currency's decimals, never rounded to cents.

Amounts reach the writes as the outbox makes them (``Command.money``: minor units of the
command's currency). Intacct's ARPYMT ``create`` takes ``CURRENCY`` and each detail's
``TRX_PAYMENTAMOUNT`` in that currency (developer.intacct.com/api/accounts-receivable/
ar-payments, Create AR Payment).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from lxml import etree

from canonical.money import Money
from connectors.intacct.writes import AdjustmentCreate, ArPaymentCreate, CreditApply, PaymentLine

DAY = date(2026, 3, 5)
FIELDS = {"FINANCIALENTITY": "BOA", "PAYMENTMETHOD": "EFT"}


def amount(minor: int, currency: str) -> Decimal:
    return Money.from_minor(minor, currency).amount  # what Command.money hands the writes


@pytest.mark.parametrize(
    ("currency", "minor", "wire"),
    [("JPY", 1000, "1000"), ("KWD", 12345, "12.345"), ("USD", 1250, "12.50"), ("BHD", 5, "0.005")],
)
def test_arpymt_detail_amount_at_the_currency_decimals(
    currency: str, minor: int, wire: str
) -> None:
    write = ArPaymentCreate(
        "k1", "C-1", DAY, (PaymentLine("41", amount(minor, currency)),), currency
    )
    text = etree.tostring(write.body(FIELDS)).decode()
    assert f"<CURRENCY>{currency}</CURRENCY>" in text
    assert f"<TRX_PAYMENTAMOUNT>{wire}</TRX_PAYMENTAMOUNT>" in text


def test_more_decimals_than_the_currency_has_is_refused_not_rounded() -> None:
    write = ArPaymentCreate("k1", "C-1", DAY, (PaymentLine("41", Decimal("1000.5")),), "JPY")
    with pytest.raises(ValueError, match="more decimals than JPY"):
        write.body(FIELDS)


def test_adjustment_and_legacy_apply_amounts() -> None:
    memo = AdjustmentCreate("k2", "C-1", amount(3125, "KWD"), DAY, "Deduction", "KWD")
    assert "<amount>-3.125</amount>" in etree.tostring(memo.body("7000")).decode()
    apply = CreditApply("k3", "9001", (PaymentLine("41", amount(500, "JPY")),), DAY, "JPY")
    assert "<amount>500</amount>" in etree.tostring(apply.body()).decode()
