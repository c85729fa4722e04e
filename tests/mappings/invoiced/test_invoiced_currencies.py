"""Invoiced amounts and currencies, in the shapes Invoiced documents (values our own).

Source: github.com/Invoiced/api ``source/includes/_payments.md.erb`` and the invoice /
credit note references: ``currency`` is a "3-letter ISO code" per document (the examples write
it lower-case, ``"usd"``), amounts are JSON numbers in major units (``"amount": 800``).
Documents and payments keep amounts at the currency's precision, so more decimals than the
currency has is refused naming the field (``mappings.invoiced.common``).
"""

from __future__ import annotations

from typing import Any

import pytest

from canonical.money import Money
from connectors.base import RawRecord
from connectors.invoiced.jsonwire import loads
from mappings.base import MappingContext, MappingError
from mappings.invoiced import MAPPERS

CTX = MappingContext(system="invoiced", home_currency="USD")


def mapped(stream: str, text: str) -> Any:
    payload = loads(text)
    return MAPPERS[stream](RawRecord(stream, stream[:-1], str(payload["id"]), payload), CTX)


def invoice(currency: str, total: str, balance: str) -> str:
    return f"""{{"id": 46225, "object": "invoice", "customer": 15444, "number": "INV-0016",
        "currency": "{currency}", "status": "sent", "paid": false, "closed": false,
        "draft": false, "total": {total}, "balance": {balance}, "date": 1772323200}}"""


@pytest.mark.parametrize(
    ("currency", "total", "code", "expected"),
    [
        ("eur", "51.15", "EUR", "51.15"),
        ("jpy", "1000", "JPY", "1000"),
        ("krw", "2500000", "KRW", "2500000"),
        ("kwd", "12.345", "KWD", "12.345"),
        ("jod", "7.005", "JOD", "7.005"),
        ("tnd", "100.1", "TND", "100.100"),
    ],
)
def test_document_currency_and_exponent(
    currency: str, total: str, code: str, expected: str
) -> None:
    record = mapped("invoices", invoice(currency, total, total))
    assert record.total.currency == code
    assert str(record.total.amount) == expected
    assert record.balance == record.total


@pytest.mark.parametrize(
    ("currency", "total"), [("usd", "12.345"), ("jpy", "1000.5"), ("bhd", "0.1255")]
)
def test_more_decimals_than_the_currency_has_names_the_field(currency: str, total: str) -> None:
    with pytest.raises(MappingError) as caught:
        mapped("invoices", invoice(currency, total, "0"))
    assert caught.value.field == "total"
    assert "more decimals" in caught.value.reason


def test_negative_zero_balance_is_zero() -> None:
    record = mapped("invoices", invoice("usd", "10.00", "-0.0"))
    assert str(record.balance.amount) == "0.00"


def test_very_large_amount_is_exact() -> None:
    record = mapped("invoices", invoice("usd", "1234567890123.45", "1234567890123.45"))
    assert record.total.minor == 123456789012345


def test_unknown_currency_names_the_currency_field() -> None:
    with pytest.raises(MappingError) as caught:
        mapped("invoices", invoice("xyz", "1.00", "1.00"))
    assert caught.value.field == "currency"


def test_jpy_payment_applied_to_invoice_and_credit_note() -> None:
    body = """{"id": 20939, "object": "payment", "customer": 15444, "currency": "jpy",
        "amount": 15000, "balance": 1000, "voided": false, "date": 1772323200,
        "applied_to": [
          {"type": "invoice", "invoice": 46225, "amount": 14000},
          {"type": "credit_note", "credit_note": 2048, "document_type": "invoice",
           "invoice": 46226, "amount": 500}]}"""
    payment = mapped("payments", body)
    assert payment.amount == Money(15000, "JPY")
    assert str(payment.amount.amount) == "15000"
    assert payment.unapplied == Money(1000, "JPY")
    assert [(a.target, a.target_remote_id, a.amount) for a in payment.applied] == [
        ("credit_memo", "2048", Money(500, "JPY")),  # credits first, each with its invoice
        ("invoice", "46226", Money(500, "JPY")),
        ("invoice", "46225", Money(14000, "JPY")),
    ]


def test_kwd_application_with_four_decimals_names_the_entry() -> None:
    body = """{"id": 20940, "object": "payment", "customer": 15444, "currency": "kwd",
        "amount": 12.345, "balance": 0,
        "applied_to": [{"type": "invoice", "invoice": 46225, "amount": 12.3451}]}"""
    with pytest.raises(MappingError) as caught:
        mapped("payments", body)
    assert caught.value.field == "applied_to.0.amount"


@pytest.mark.parametrize(
    ("currency", "total", "minor"),
    [("huf", "1234.50", 123450), ("idr", "150000.25", 15000025), ("iqd", "12.345", 12345)],
)
def test_iso_4217_decimals_cldr_shows_without(currency: str, total: str, minor: int) -> None:
    """Invoiced keeps HUF and IDR at two decimals, IQD at three, as ISO 4217 does."""
    record = mapped("invoices", invoice(currency, total, total))
    assert str(record.total.amount) == total
    assert record.total.minor == minor
