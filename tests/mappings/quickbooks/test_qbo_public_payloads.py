"""QuickBooks Online query rows in the shapes a production integration reads (Invoiced's QBO
sync fixtures, github.com/chriscouch/invoiced-mcp ``tests/Integrations/QuickBooksOnline/json``,
and Intuit's Payment reference), values our own, through the stream's RawRecord and mappings."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from canonical.enums import DocumentStatus, PaymentStatus
from canonical.money import Money
from connectors.quickbooks.streams import raw_record
from mappings.base import MappingContext
from mappings.quickbooks import MAPPERS

CTX = MappingContext(system="quickbooks", home_currency="USD")
ENTITY = {"invoices": "Invoice", "credit_memos": "CreditMemo", "payments": "Payment"}


def rows(stream: str, text: str) -> list[Any]:
    body: dict[str, Any] = json.loads(text, parse_float=Decimal)
    entity = ENTITY[stream]
    found = body["QueryResponse"][entity]
    return [MAPPERS[stream](raw_record(stream, entity, row), CTX) for row in found]


def test_payments_page_mixing_invoices_credit_memos_and_an_unapplied_payment() -> None:
    first, second = rows(
        "payments",
        """{"QueryResponse": {"startPosition": 1, "maxResults": 2, "Payment": [
          {"Id": "612", "SyncToken": "1", "TxnDate": "2024-03-04", "TotalAmt": 30.00,
           "CustomerRef": {"name": "Blue Fern", "value": "2"},
           "MetaData": {"LastUpdatedTime": "2024-03-04T10:00:00-08:00"},
           "Line": [
             {"Amount": 55.25, "LinkedTxn": [{"TxnId": "81", "TxnType": "Invoice"}],
              "LineEx": {"any": [{"name": "{http://schema.intuit.com/finance/v3}NameValue",
                                  "value": {"Name": "txnId", "Value": "81"}}]}},
             {"Amount": 25.25, "LinkedTxn": [{"TxnId": "89", "TxnType": "CreditMemo"}]}]},
          {"Id": "613", "SyncToken": "0", "TxnDate": "2024-03-05", "TotalAmt": 120.00,
           "UnappliedAmt": 120.00, "PaymentRefNum": "CHK-9917",
           "PaymentMethodRef": {"value": "2"}, "DepositToAccountRef": {"value": "4"},
           "CustomerRef": {"value": "2"}, "ProcessPayment": false, "Line": [],
           "MetaData": {"LastUpdatedTime": "2024-03-05T10:00:00-08:00"}}]}}""",
    )
    assert first.amount == Money("30.00", "USD") and first.unapplied is None
    assert [(a.target, a.target_remote_id, a.amount) for a in first.applied] == [
        ("invoice", "81", Money("55.25", "USD")),
        ("credit_memo", "89", Money("25.25", "USD")),
    ]
    assert second.status is PaymentStatus.POSTED and second.applied == []
    assert second.unapplied == Money("120.00", "USD") and second.reference == "CHK-9917"
    assert second.method is None  # the method ref carries only an id


def test_credit_memo_and_partly_paid_invoice_of_a_query_page() -> None:
    (memo,) = rows(
        "credit_memos",
        """{"QueryResponse": {"startPosition": 1, "CreditMemo": [
          {"Id": "158", "SyncToken": "2", "DocNumber": "CN-1039", "TxnDate": "2024-02-20",
           "TotalAmt": 52.00, "Balance": 12.00, "RemainingCredit": 12.00,
           "CustomerRef": {"value": "1"},
           "Line": [{"Id": "1", "Amount": 52.00, "DetailType": "SalesItemLineDetail",
                     "SalesItemLineDetail": {"ItemRef": {"value": "22"}, "Qty": null}}],
           "MetaData": {"LastUpdatedTime": "2024-02-21T09:00:00-08:00"}}]}}""",
    )
    assert memo.status is DocumentStatus.OPEN
    assert (memo.total, memo.balance) == (Money("52.00", "USD"), Money("12.00", "USD"))
    (invoice,) = rows(
        "invoices",
        """{"QueryResponse": {"startPosition": 1, "Invoice": [
          {"Id": "456", "SyncToken": "5", "DocNumber": "INV-1012", "TxnDate": "2024-01-12",
           "DueDate": "2024-02-11", "TotalAmt": 396.00, "Balance": 393.49, "Deposit": 0,
           "CustomerRef": {"value": "1"}, "TxnTaxDetail": {"TotalTax": 26.00},
           "Line": [{"Amount": 370.00, "DetailType": "SalesItemLineDetail",
                     "SalesItemLineDetail": {"ItemRef": {"value": "1"}}},
                    {"Amount": 18.50, "DetailType": "DiscountLineDetail",
                     "DiscountLineDetail": {"PercentBased": true, "DiscountPercent": 5}},
                    {"Amount": 370.00, "DetailType": "SubTotalLineDetail",
                     "SubTotalLineDetail": {}}],
           "LinkedTxn": [{"TxnId": "3833", "TxnType": "Payment"}],
           "MetaData": {"LastUpdatedTime": "2024-01-20T09:00:00-08:00"}}]}}""",
    )
    assert (invoice.total, invoice.balance) == (Money("396.00", "USD"), Money("393.49", "USD"))
    assert invoice.status is DocumentStatus.OPEN and invoice.remote_version == "5"
