"""QuickBooks Online amounts and currencies, in the shapes Intuit documents (values our own).

Sources: Intuit, "Manage multiple currencies"
(developer.intuit.com/app/developer/qbo/docs/workflows/manage-multiple-currencies):
``CurrencyRef`` is "the currency in which all amounts on the associated transaction are
expressed"; ``ExchangeRate`` is home-currency units per foreign unit; ``HomeTotalAmt`` /
``HomeBalance`` are convenience fields in the home currency. Without multicurrency
``CurrencyRef`` may be absent: the amounts are in the home currency. Amounts are JSON numbers
(read as Decimal by ``connectors.quickbooks.jsonwire``), never text with separators.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import select

from canonical.models import ExternalRef, Invoice
from canonical.money import Money
from canonical.store import Store
from connectors.base import RawRecord
from connectors.quickbooks.jsonwire import loads
from mappings.base import MappingContext, MappingError
from mappings.quickbooks import MAPPERS
from sync.pull import PageWriter
from sync.settings import SystemOfRecord

USD_HOME = MappingContext(system="quickbooks", home_currency="USD")


def mapped(stream: str, entity: str, text: str, ctx: MappingContext = USD_HOME) -> Any:
    payload = loads(text)
    return MAPPERS[stream](RawRecord(stream, entity, str(payload["Id"]), payload), ctx)


def invoice(total: str, balance: str, currency: str | None, extra: str = "") -> str:
    ref = f'"CurrencyRef": {{"value": "{currency}", "name": "x"}},' if currency else ""
    return f"""{{"Id": "130", "SyncToken": "0", "DocNumber": "1037", "TxnDate": "2026-03-01",
        "CustomerRef": {{"value": "58"}}, {ref} {extra}
        "TotalAmt": {total}, "Balance": {balance}}}"""


def test_eur_invoice_in_a_usd_company_keeps_eur_amounts_not_home_amounts() -> None:
    body = invoice(
        "1250.50",
        "250.50",
        "EUR",
        '"ExchangeRate": 1.0825, "HomeTotalAmt": 1353.67, "HomeBalance": 271.17,',
    )
    record = mapped("invoices", "Invoice", body)
    assert record.total == Money("1250.50", "EUR")
    assert record.balance == Money("250.50", "EUR")


def test_no_currency_ref_is_the_home_currency() -> None:
    gbp_home = MappingContext(system="quickbooks", home_currency="GBP")
    record = mapped("invoices", "Invoice", invoice("99.99", "99.99", None), gbp_home)
    assert record.total == Money("99.99", "GBP")


@pytest.mark.parametrize(
    ("currency", "total", "expected"),
    [
        ("JPY", "150000", Decimal("150000")),
        ("KRW", "2500000", Decimal("2500000")),
        ("KWD", "12.345", Decimal("12.345")),
        ("BHD", "0.125", Decimal("0.125")),
        ("JOD", "7.005", Decimal("7.005")),
        ("TND", "100.100", Decimal("100.100")),
        ("OMR", "1.5", Decimal("1.500")),
    ],
)
def test_currency_exponents(currency: str, total: str, expected: Decimal) -> None:
    record = mapped("invoices", "Invoice", invoice(total, total, currency))
    assert record.total.amount == expected
    assert str(record.total.amount) == str(expected)
    assert record.total.currency == currency


@pytest.mark.parametrize(
    ("currency", "total", "field"),
    [("JPY", "1000.5", "TotalAmt"), ("USD", "10.005", "TotalAmt"), ("KWD", "1.2345", "TotalAmt")],
)
def test_more_decimals_than_the_currency_has_names_the_field(
    currency: str, total: str, field: str
) -> None:
    with pytest.raises(MappingError) as caught:
        mapped("invoices", "Invoice", invoice(total, "0", currency))
    assert caught.value.field == field
    assert "more decimals" in caught.value.reason


def test_negative_zero_balance_is_zero_and_paid() -> None:
    record = mapped("invoices", "Invoice", invoice("10.00", "-0.00", "USD"))
    assert str(record.balance.amount) == "0.00"
    assert record.status.value == "paid"


def test_very_large_amount_is_exact_and_one_beyond_the_store_is_refused() -> None:
    record = mapped("invoices", "Invoice", invoice("92233720368547758.07", "0", "USD"))
    assert record.total.minor == 2**63 - 1
    with pytest.raises(MappingError) as caught:
        mapped("invoices", "Invoice", invoice("92233720368547758.08", "0", "USD"))
    assert caught.value.field == "TotalAmt"
    assert "too large" in caught.value.reason


def test_payment_in_eur_applies_eur_to_eur_invoice_and_credit_memo() -> None:
    body = """{"Id": "300", "SyncToken": "0", "TxnDate": "2026-03-05",
        "CustomerRef": {"value": "58"}, "CurrencyRef": {"value": "EUR", "name": "Euro"},
        "ExchangeRate": 1.0825, "TotalAmt": 900.00, "UnappliedAmt": 100.00,
        "Line": [
          {"Amount": 850.00, "LinkedTxn": [{"TxnId": "130", "TxnType": "Invoice"}]},
          {"Amount": 50.00, "LinkedTxn": [{"TxnId": "131", "TxnType": "CreditMemo"}]}]}"""
    payment = mapped("payments", "Payment", body)
    assert payment.amount == Money("900.00", "EUR")
    assert payment.unapplied == Money("100.00", "EUR")
    assert [(a.target, a.amount) for a in payment.applied] == [
        ("invoice", Money("850.00", "EUR")),
        ("credit_memo", Money("50.00", "EUR")),
    ]


def test_jpy_payment_lines_are_whole_yen() -> None:
    body = """{"Id": "301", "TxnDate": "2026-03-05", "CustomerRef": {"value": "59"},
        "CurrencyRef": {"value": "JPY"}, "TotalAmt": 15000, "UnappliedAmt": 0,
        "Line": [{"Amount": 15000, "LinkedTxn": [{"TxnId": "140", "TxnType": "Invoice"}]}]}"""
    payment = mapped("payments", "Payment", body)
    assert str(payment.amount.amount) == "15000"
    assert payment.applied[0].amount == Money(15000, "JPY")


def test_credit_memo_remaining_credit_in_kwd() -> None:
    body = """{"Id": "131", "DocNumber": "CM-9", "CustomerRef": {"value": "58"},
        "CurrencyRef": {"value": "KWD"}, "TotalAmt": 10.250, "RemainingCredit": 3.125,
        "Balance": 3.125}"""
    memo = mapped("credit_memos", "CreditMemo", body)
    assert memo.total == Money("10.250", "KWD")
    assert memo.balance == Money("3.125", "KWD")


def test_unknown_currency_code_names_the_amount_field() -> None:
    with pytest.raises(MappingError) as caught:
        mapped("invoices", "Invoice", invoice("1.00", "1.00", "EURO"))
    assert caught.value.field == "TotalAmt"
    assert "ISO 4217" in caught.value.reason


def test_huf_invoice_with_filler_maps_and_stores_as_iso_minor_units(store: Store) -> None:
    """QuickBooks keeps HUF at ISO 4217's two decimals: HUF 1234.50 is 123450 minor units,
    stored as such (it was quarantined as too many decimals for CLDR's whole forints)."""
    body = invoice("1234.50", "1234.50", "HUF", '"ExchangeRate": 0.0028,')
    record = mapped("invoices", "Invoice", body)
    assert record.total == Money("1234.50", "HUF")
    assert (record.total.minor, record.balance.minor) == (123450, 123450)
    writer = PageWriter(
        tenant="default",
        system="quickbooks",
        stream="invoices",
        mapper=MAPPERS["invoices"],
        context=USD_HOME,
        system_of_record=SystemOfRecord(),
    )
    payload = loads(body)
    with store.session() as session:
        counts = writer.write(session, [RawRecord("invoices", "Invoice", "130", payload)])
    assert (counts.created, counts.quarantined) == (1, 0)
    with store.session() as session:
        stored = session.exec(select(Invoice)).one()
        ref = session.exec(select(ExternalRef)).one()
    assert (stored.currency, stored.total_minor, stored.balance_minor) == ("HUF", 123450, 123450)
    assert stored.total == Money("1234.50", "HUF")
    assert ref.values["total_minor"] == 123450
