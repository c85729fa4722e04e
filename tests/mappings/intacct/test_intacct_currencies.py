"""Intacct amounts and currencies, in the shapes Sage Intacct documents (values our own).

Sources: developer.intacct.com/api/accounts-receivable/ (ARINVOICE, ARADJUSTMENT, ARPYMT /
ARPYMTDETAIL) and the objects' field lists (``BASECURR``, ``CURRENCY``, ``EXCHANGE_RATE``,
``TOTALENTERED`` / ``TOTALDUE`` / ``TOTALPAID`` in the base currency, ``TRX_TOTALENTERED`` /
``TRX_TOTALDUE`` / ``TRX_TOTALPAID`` in the transaction currency; ``TRX_PAYMENTAMOUNT`` vs
``PAYMENTAMOUNT`` on a payment detail). The Intacct SDK's ``create_arpayment`` writes
``paymentamount`` (transaction) and ``translatedamount`` (base) with ``basecurr`` / ``currency``
(github.com/intacct/intacct-sdk-js, ArPaymentCreate.ts). Values in XML are plain decimals.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from canonical.money import Money
from connectors.base import RawRecord
from mappings.base import MappingContext, MappingError
from mappings.intacct import MAPPERS

CTX = MappingContext(system="intacct", home_currency="USD")


def mapped(stream: str, object_type: str, payload: dict[str, Any]) -> Any:
    return MAPPERS[stream](RawRecord(stream, object_type, payload["RECORDNO"], payload), CTX)


def gbp_invoice(**changes: Any) -> dict[str, Any]:
    payload = {
        "RECORDNO": "4101",
        "RECORDID": "INV-4101",
        "CUSTOMERID": "C-100",
        "STATE": "Partially Paid",
        "WHENCREATED": "03/01/2026",
        "BASECURR": "USD",
        "CURRENCY": "GBP",
        "EXCH_RATE_DATE": "03/01/2026",
        "EXCHANGE_RATE": "1.2655",
        "TOTALENTERED": "1582.51",
        "TOTALPAID": "316.38",
        "TOTALDUE": "1266.13",
        "TRX_TOTALENTERED": "1250.50",
        "TRX_TOTALPAID": "250.00",
        "TRX_TOTALDUE": "1000.50",
    }
    payload.update(changes)
    return {k: v for k, v in payload.items() if v is not None}


def test_gbp_invoice_with_usd_base_uses_trx_amounts_and_gbp() -> None:
    record = mapped("invoices", "ARINVOICE", gbp_invoice())
    assert record.total == Money("1250.50", "GBP")
    assert record.balance == Money("1000.50", "GBP")


def test_foreign_invoice_without_trx_amount_is_refused_naming_the_field() -> None:
    with pytest.raises(MappingError) as caught:
        mapped("invoices", "ARINVOICE", gbp_invoice(TRX_TOTALDUE=None))
    assert caught.value.field == "TRX_TOTALDUE"
    assert "base currency USD" in caught.value.reason


def test_single_currency_company_reads_plain_amounts() -> None:
    payload = gbp_invoice(
        CURRENCY=None,
        BASECURR="CAD",
        TRX_TOTALENTERED=None,
        TRX_TOTALPAID=None,
        TRX_TOTALDUE=None,
        EXCHANGE_RATE=None,
    )
    record = mapped("invoices", "ARINVOICE", payload)
    assert record.total == Money("1582.51", "CAD")
    assert record.balance == Money("1266.13", "CAD")


@pytest.mark.parametrize(
    ("currency", "entered", "expected"),
    [
        ("JPY", "150000", "150000"),
        ("KRW", "2500000", "2500000"),
        ("KWD", "12.345", "12.345"),
        ("BHD", "0.125", "0.125"),
        ("OMR", "1.5", "1.500"),
    ],
)
def test_currency_exponents(currency: str, entered: str, expected: str) -> None:
    payload = gbp_invoice(CURRENCY=currency, TRX_TOTALENTERED=entered, TRX_TOTALDUE=entered)
    record = mapped("invoices", "ARINVOICE", payload)
    assert str(record.total.amount) == expected
    assert record.total.currency == currency


def test_extra_decimals_round_half_even_to_the_currency() -> None:
    # common.py: Intacct keeps more precision than the minor unit in some amounts; rounded
    payload = gbp_invoice(CURRENCY="JPY", TRX_TOTALENTERED="1000.5", TRX_TOTALDUE="1001.5")
    record = mapped("invoices", "ARINVOICE", payload)
    assert record.total == Money(1000, "JPY")
    assert record.balance == Money(1002, "JPY")


def test_negative_zero_due_is_zero() -> None:
    record = mapped("invoices", "ARINVOICE", gbp_invoice(TRX_TOTALDUE="-0.00"))
    assert str(record.balance.amount) == "0.00"


def test_amount_with_thousands_separator_is_refused_naming_the_field() -> None:
    with pytest.raises(MappingError) as caught:
        mapped("invoices", "ARINVOICE", gbp_invoice(TRX_TOTALENTERED="1,250.50"))
    assert caught.value.field == "TRX_TOTALENTERED"


def test_credit_memo_in_eur_takes_trx_magnitudes() -> None:
    payload = {
        "RECORDNO": "9001",
        "RECORDID": "ADJ-9001",
        "CUSTOMERID": "C-100",
        "STATE": "Posted",
        "BASECURR": "USD",
        "CURRENCY": "EUR",
        "TOTALENTERED": "-54.13",
        "TOTALDUE": "-54.13",
        "TRX_TOTALENTERED": "-50.00",
        "TRX_TOTALDUE": "-50.00",
    }
    memo = mapped("credit_memos", "ARADJUSTMENT", payload)
    assert memo.total == Money("50.00", "EUR")
    assert memo.balance == Money("50.00", "EUR")


def gbp_payment(details: list[dict[str, Any]], **changes: Any) -> dict[str, Any]:
    payload = {
        "RECORDNO": "7001",
        "CUSTOMERID": "C-100",
        "STATE": "Complete",
        "PAYMENTDATE": "03/05/2026",
        "BASECURR": "USD",
        "CURRENCY": "GBP",
        "EXCHANGE_RATE": "1.2655",
        "TOTALENTERED": "379.65",
        "TRX_TOTALENTERED": "300.00",
        "ARPYMTDETAILS": {"ARPYMTDETAIL": details},
    }
    payload.update(changes)
    return payload


def test_gbp_payment_applies_trx_payment_amounts_in_gbp() -> None:
    details = [
        {"RECORDKEY": "4101", "PAYMENTAMOUNT": "316.38", "TRX_PAYMENTAMOUNT": "250.00"},
        {
            "RECORDKEY": "4102",
            "ADJUSTMENTKEY": "9001",
            "ADJUSTMENTAMOUNT": "63.28",
            "TRX_ADJUSTMENTAMOUNT": "50.00",
        },
    ]
    payment = mapped("payments", "ARPYMT", gbp_payment(details))
    assert payment.amount == Money("300.00", "GBP")
    assert payment.unapplied == Money("50.00", "GBP")
    assert [(a.target, a.target_remote_id, a.amount) for a in payment.applied] == [
        ("invoice", "4102", Money("50.00", "GBP")),
        ("credit_memo", "9001", Money("50.00", "GBP")),
        ("invoice", "4101", Money("250.00", "GBP")),
    ]


def test_foreign_payment_detail_with_only_base_amount_is_refused() -> None:
    details = [{"RECORDKEY": "4101", "PAYMENTAMOUNT": "316.38"}]
    with pytest.raises(MappingError) as caught:
        mapped("payments", "ARPYMT", gbp_payment(details))
    assert caught.value.field == "ARPYMTDETAILS.0.TRX_PAYMENTAMOUNT"
    assert "base currency USD" in caught.value.reason


def test_kwd_payment_keeps_three_decimals() -> None:
    details = [{"RECORDKEY": "4101", "TRX_PAYMENTAMOUNT": "12.345"}]
    payload = gbp_payment(details, CURRENCY="KWD", TRX_TOTALENTERED="12.345")
    payment = mapped("payments", "ARPYMT", payload)
    assert payment.amount.amount == Decimal("12.345")
    assert payment.applied[0].amount == Money("12.345", "KWD")
    assert payment.unapplied == Money(0, "KWD")
