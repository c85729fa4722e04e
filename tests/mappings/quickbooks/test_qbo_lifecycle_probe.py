"""QuickBooks Online documents through their lifecycle, shaped as the API reference shows them:
paid, voided (zero amounts, "Voided" before the PrivateNote), CDC-deleted, in a foreign
currency (``CurrencyRef`` + ``ExchangeRate``, ``HomeBalance`` / ``HomeTotalAmt`` in the home
currency), and a payment spread over several invoices and a credit memo."""

# ruff: noqa: E501  (vendor payloads are kept as the API reference shows them)

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from canonical.enums import DocumentStatus, PaymentStatus
from canonical.money import Money
from canonical.records import CreditMemoIn, InvoiceIn, PaymentIn
from connectors.base import RawRecord
from connectors.quickbooks.client import last_updated
from mappings.base import MappingContext, MappingError
from mappings.quickbooks import MAPPERS

CTX = MappingContext("quickbooks", home_currency="USD")


def raw(stream: str, kind: str, body: str, **changes: Any) -> RawRecord:
    payload: dict[str, Any] = json.loads(body, parse_float=Decimal)
    payload.update(changes)
    return RawRecord(
        stream,
        kind,
        str(payload["Id"]),
        payload,
        modified_at=last_updated(payload),
        remote_version=payload.get("SyncToken"),
    )


EUR_INVOICE = """{
  "Id": "231", "SyncToken": "3", "domain": "QBO", "sparse": false,
  "MetaData": {"CreateTime": "2024-03-01T09:12:40-08:00", "LastUpdatedTime": "2024-03-20T16:05:02-07:00"},
  "DocNumber": "1088", "TxnDate": "2024-03-01", "DueDate": "2024-03-31",
  "CurrencyRef": {"value": "EUR", "name": "Euro"}, "ExchangeRate": 1.0865,
  "CustomerRef": {"value": "58", "name": "Brasserie Lumiere"},
  "TotalAmt": 1500.00, "Balance": 0, "HomeTotalAmt": 1629.75, "HomeBalance": 0,
  "PrivateNote": "march order",
  "Line": [{"Id": "1", "LineNum": 1, "Amount": 1500.00, "DetailType": "SalesItemLineDetail",
            "SalesItemLineDetail": {"ItemRef": {"value": "7", "name": "Consulting"}}}],
  "LinkedTxn": [{"TxnId": "240", "TxnType": "Payment"}]
}"""


def test_paid_foreign_invoice_is_paid_in_its_own_currency_with_utc_stamp() -> None:
    result = MAPPERS["invoices"](raw("invoices", "Invoice", EUR_INVOICE), CTX)
    assert isinstance(result, InvoiceIn)
    assert result.status is DocumentStatus.PAID
    assert result.total == Money("1500.00", "EUR") and result.balance == Money("0", "EUR")
    assert (result.issue_date, result.due_date) == (date(2024, 3, 1), date(2024, 3, 31))
    assert result.modified_at == datetime(2024, 3, 20, 23, 5, 2, tzinfo=UTC)
    assert result.remote_version == "3"


def test_partly_paid_foreign_invoice_owes_its_balance_not_the_home_balance() -> None:
    result = MAPPERS["invoices"](
        raw(
            "invoices",
            "Invoice",
            EUR_INVOICE,
            Balance=Decimal("500.00"),
            HomeBalance=Decimal("543.25"),
        ),
        CTX,
    )
    assert isinstance(result, InvoiceIn)
    assert result.status is DocumentStatus.OPEN
    assert result.balance == Money("500.00", "EUR")


def test_voided_foreign_invoice_is_void_with_nothing_owed() -> None:
    result = MAPPERS["invoices"](
        raw(
            "invoices",
            "Invoice",
            EUR_INVOICE,
            TotalAmt=0,
            Balance=0,
            HomeTotalAmt=0,
            HomeBalance=0,
            PrivateNote="Voided - march order",
        ),
        CTX,
    )
    assert isinstance(result, InvoiceIn)
    assert result.status is DocumentStatus.VOID
    assert result.balance == Money("0", "EUR") and result.total == Money("0", "EUR")


CREDIT_MEMO = """{
  "Id": "305", "SyncToken": "1", "domain": "QBO",
  "MetaData": {"CreateTime": "2024-04-02T10:00:00-07:00", "LastUpdatedTime": "2024-04-09T10:00:00-07:00"},
  "DocNumber": "CM-1006", "TxnDate": "2024-04-02",
  "CustomerRef": {"value": "58", "name": "Brasserie Lumiere"},
  "TotalAmt": 0, "Balance": 0, "RemainingCredit": 0, "PrivateNote": "Voided",
  "Line": [{"Id": "1", "Amount": 0, "DetailType": "SalesItemLineDetail",
            "SalesItemLineDetail": {"ItemRef": {"value": "7"}}}]
}"""


def test_voided_credit_memo_is_void_and_offers_no_credit() -> None:
    result = MAPPERS["credit_memos"](raw("credit_memos", "CreditMemo", CREDIT_MEMO), CTX)
    assert isinstance(result, CreditMemoIn)
    assert result.status is DocumentStatus.VOID
    assert result.balance == Money("0", "USD")


def test_cdc_deleted_credit_memo_is_deleted() -> None:
    body = """{"Id": "305", "status": "Deleted",
    "MetaData": {"LastUpdatedTime": "2024-04-10T08:00:00-07:00"}}"""
    record = RawRecord("credit_memos", "CreditMemo", "305", json.loads(body), deleted=True)
    result = MAPPERS["credit_memos"](record, CTX)
    assert isinstance(result, CreditMemoIn)
    assert result.deleted and result.status is DocumentStatus.DELETED
    assert result.balance.is_zero()


PAYMENT = """{
  "Id": "410", "SyncToken": "0", "domain": "QBO",
  "MetaData": {"CreateTime": "2024-05-06T12:00:00-07:00", "LastUpdatedTime": "2024-05-06T12:00:00-07:00"},
  "TxnDate": "2024-05-06", "CurrencyRef": {"value": "USD", "name": "United States Dollar"},
  "CustomerRef": {"value": "58", "name": "Brasserie Lumiere"},
  "PaymentRefNum": "10442", "PaymentMethodRef": {"value": "2", "name": "Check"},
  "DepositToAccountRef": {"value": "4"},
  "TotalAmt": 1000.00, "UnappliedAmt": 125.00, "ProcessPayment": false,
  "Line": [
    {"Amount": 600.00, "LinkedTxn": [{"TxnId": "231", "TxnType": "Invoice"}],
     "LineEx": {"any": [{"name": "{http://schema.intuit.com/finance/v3}NameValue",
       "declaredType": "com.intuit.schema.finance.v3.NameValue", "scope": "javax.xml.bind.JAXBElement$GlobalScope",
       "value": {"Name": "txnOpenBalance", "Value": "600.00"}, "nil": false, "globalScope": true, "typeSubstituted": false}]}},
    {"Amount": 400.00, "LinkedTxn": [{"TxnId": "232", "TxnType": "Invoice"}]},
    {"Amount": 125.00, "LinkedTxn": [{"TxnId": "305", "TxnType": "CreditMemo"}]}
  ]
}"""


def test_payment_over_two_invoices_and_a_credit_memo_with_cash_left_unapplied() -> None:
    result = MAPPERS["payments"](raw("payments", "Payment", PAYMENT), CTX)
    assert isinstance(result, PaymentIn)
    assert result.status is PaymentStatus.POSTED
    assert [(a.target, a.target_remote_id, a.amount) for a in result.applied] == [
        ("invoice", "231", Money("600.00", "USD")),
        ("invoice", "232", Money("400.00", "USD")),
        ("credit_memo", "305", Money("125.00", "USD")),
    ]
    # 1000 cash + 125 credit pay 1000 of invoices: 125 of the cash is left
    assert result.amount == Money("1000.00", "USD")
    assert result.unapplied == Money("125.00", "USD")
    assert (result.reference, result.method) == ("10442", "Check")
    assert result.received_on == date(2024, 5, 6)


def test_voided_payment_keeps_its_record_and_applies_nothing() -> None:
    voided = json.loads(PAYMENT, parse_float=Decimal)
    voided.update(TotalAmt=0, UnappliedAmt=0, PrivateNote="Voided")
    for line in voided["Line"]:
        line["Amount"] = 0
    result = MAPPERS["payments"](
        RawRecord("payments", "Payment", "410", voided, remote_version="1"), CTX
    )
    assert isinstance(result, PaymentIn)
    assert result.status is PaymentStatus.VOID
    assert result.applied == [] and result.unapplied == Money("0", "USD")


def test_payment_line_linking_an_invoice_without_its_id_names_the_line() -> None:
    broken = json.loads(PAYMENT, parse_float=Decimal)
    broken["Line"][1]["LinkedTxn"][0]["TxnId"] = ""
    with pytest.raises(MappingError) as caught:
        MAPPERS["payments"](RawRecord("payments", "Payment", "410", broken), CTX)
    assert caught.value.field == "Line.1.LinkedTxn.0.TxnId"
