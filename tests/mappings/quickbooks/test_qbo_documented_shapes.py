"""QuickBooks Online objects shaped like Intuit's documented samples (API reference, the
linked-transactions guide, the Intuit Developer Relations Payment sample), values our own,
run through the stream's RawRecord and the real mappings down to exact canonical values."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from canonical.enums import CustomerStatus, DocumentStatus, PaymentStatus
from canonical.money import Money
from connectors.quickbooks.streams import raw_record
from mappings.base import MappingContext
from mappings.quickbooks import MAPPERS

CTX = MappingContext(system="quickbooks", home_currency="USD")
ENTITY = {
    "customers": "Customer",
    "invoices": "Invoice",
    "credit_memos": "CreditMemo",
    "payments": "Payment",
}


def wire(text: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(text, parse_float=Decimal)
    return body


def mapped(stream: str, payload: dict[str, Any], ctx: MappingContext = CTX) -> Any:
    return MAPPERS[stream](raw_record(stream, ENTITY[stream], payload), ctx)


def applied(result: Any) -> list[tuple[str, str, Money]]:
    return [(a.target, a.target_remote_id, a.amount) for a in result.applied]


def test_payment_sample_with_an_unapplied_amount_and_line_ex() -> None:
    payment = wire(
        """{"CustomerRef": {"value": "20", "name": "Red Rock Diner"},
        "DepositToAccountRef": {"value": "4"}, "TotalAmt": 65.0, "UnappliedAmt": 10.0,
        "ProcessPayment": false, "domain": "QBO", "sparse": false, "Id": "163",
        "SyncToken": "0", "MetaData": {"CreateTime": "2015-01-16T15:08:12-08:00",
        "LastUpdatedTime": "2015-01-16T15:08:12-08:00"}, "TxnDate": "2015-01-16",
        "Line": [{"Amount": 55.0, "LinkedTxn": [{"TxnId": "70", "TxnType": "Invoice"}],
          "LineEx": {"any": [
            {"name": "{http://schema.intuit.com/finance/v3}NameValue",
             "declaredType": "com.intuit.schema.finance.v3.NameValue",
             "scope": "javax.xml.bind.JAXBElement$GlobalScope",
             "value": {"Name": "txnId", "Value": "70"}, "nil": false,
             "globalScope": true, "typeSubstituted": false},
            {"name": "{http://schema.intuit.com/finance/v3}NameValue",
             "declaredType": "com.intuit.schema.finance.v3.NameValue",
             "scope": "javax.xml.bind.JAXBElement$GlobalScope",
             "value": {"Name": "txnOpenBalance", "Value": "71.00"}, "nil": false,
             "globalScope": true, "typeSubstituted": false}]}}]}"""
    )
    result = mapped("payments", payment)
    assert (result.remote_id, result.remote_version) == ("163", "0")
    assert result.modified_at == datetime(2015, 1, 16, 23, 8, 12, tzinfo=UTC)
    assert result.customer_remote_id == "20"
    assert result.amount == Money("65.00", "USD")
    assert result.unapplied == Money("10.00", "USD")
    assert result.received_on == date(2015, 1, 16)
    assert result.status is PaymentStatus.POSTED
    assert applied(result) == [("invoice", "70", Money("55.00", "USD"))]


def test_multicurrency_invoice_maps_in_its_own_currency_not_the_home_amounts() -> None:
    invoice = wire(
        """{"Id": "212", "SyncToken": "2", "domain": "QBO", "sparse": false,
        "MetaData": {"CreateTime": "2024-06-03T08:00:00-07:00",
                     "LastUpdatedTime": "2024-06-04T09:15:00-07:00"},
        "DocNumber": "2041", "TxnDate": "2024-06-03", "DueDate": "2024-07-03",
        "CurrencyRef": {"value": "CAD", "name": "Canadian Dollar"}, "ExchangeRate": 0.7321,
        "CustomerRef": {"value": "61", "name": "Maple Freight Ltd"},
        "Line": [{"Id": "1", "LineNum": 1, "Amount": 1045.25,
                  "DetailType": "SalesItemLineDetail",
                  "SalesItemLineDetail": {"ItemRef": {"value": "7"}}},
                 {"Amount": 1045.25, "DetailType": "SubTotalLineDetail",
                  "SubTotalLineDetail": {}}],
        "TotalAmt": 1045.25, "HomeTotalAmt": 765.23, "Balance": 645.25,
        "HomeBalance": 472.39, "Deposit": 0, "EmailStatus": "EmailSent",
        "LinkedTxn": [{"TxnId": "230", "TxnType": "Payment"}]}"""
    )
    result = mapped("invoices", invoice)
    assert result.total == Money("1045.25", "CAD")
    assert result.balance == Money("645.25", "CAD")
    assert (result.total.minor, result.balance.minor) == (104525, 64525)
    assert result.status is DocumentStatus.OPEN
    assert (result.issue_date, result.due_date) == (date(2024, 6, 3), date(2024, 7, 3))
    assert (result.number, result.customer_remote_id) == ("2041", "61")


def test_multicurrency_payment_paying_an_invoice_with_a_credit_memo_and_cash_left_over() -> None:
    payment = wire(
        """{"Id": "230", "SyncToken": "0", "domain": "QBO", "sparse": false,
        "MetaData": {"CreateTime": "2024-06-04T09:10:00-07:00",
                     "LastUpdatedTime": "2024-06-04T09:15:00-07:00"},
        "TxnDate": "2024-06-04", "CurrencyRef": {"value": "CAD", "name": "Canadian Dollar"},
        "ExchangeRate": 0.7321, "CustomerRef": {"value": "61", "name": "Maple Freight Ltd"},
        "PaymentRefNum": "EFT-88", "TotalAmt": 450.00, "UnappliedAmt": 50.00,
        "ProcessPayment": false,
        "Line": [
          {"Amount": 400.00, "LinkedTxn": [{"TxnId": "212", "TxnType": "Invoice"}]},
          {"Amount": 0.00, "LinkedTxn": [{"TxnId": "213", "TxnType": "Invoice"}]},
          {"Amount": 75.50, "LinkedTxn": [{"TxnId": "214", "TxnType": "Invoice"}]},
          {"Amount": 75.50, "LinkedTxn": [{"TxnId": "301", "TxnType": "CreditMemo"}]}]}"""
    )
    result = mapped("payments", payment)
    assert result.amount == Money("450.00", "CAD")
    assert result.unapplied == Money("50.00", "CAD")
    assert result.reference == "EFT-88"
    assert applied(result) == [
        ("invoice", "212", Money("400.00", "CAD")),
        ("invoice", "214", Money("75.50", "CAD")),
        ("credit_memo", "301", Money("75.50", "CAD")),
    ]


def test_zero_total_payment_applying_a_credit_memo_to_an_invoice() -> None:
    payment = wire(
        """{"Id": "231", "SyncToken": "0", "domain": "QBO", "sparse": false,
        "MetaData": {"LastUpdatedTime": "2024-06-05T10:00:00-07:00"},
        "TxnDate": "2024-06-05", "CustomerRef": {"value": "24"}, "TotalAmt": 0,
        "UnappliedAmt": 0, "ProcessPayment": false,
        "Line": [{"Amount": 125.05, "LinkedTxn": [{"TxnId": "130", "TxnType": "Invoice"}]},
                 {"Amount": 125.05, "LinkedTxn": [{"TxnId": "150", "TxnType": "CreditMemo"}]}]}"""
    )
    result = mapped("payments", payment)
    assert result.amount == Money("0", "USD") and result.unapplied == Money("0", "USD")
    assert result.status is PaymentStatus.POSTED
    assert applied(result) == [
        ("invoice", "130", Money("125.05", "USD")),
        ("credit_memo", "150", Money("125.05", "USD")),
    ]


def test_reference_invoice_sample_with_term_id_only_and_other_custom_fields() -> None:
    invoice = wire(
        """{"TxnDate": "2014-09-19", "domain": "QBO", "PrintStatus": "NeedToPrint",
        "SalesTermRef": {"value": "3"}, "TotalAmt": 362.07,
        "Line": [{"LineNum": 1, "Amount": 362.07, "SalesItemLineDetail": {
                   "TaxCodeRef": {"value": "NON"}, "ItemRef": {"name": "Services",
                   "value": "1"}}, "Id": "1", "DetailType": "SalesItemLineDetail"},
                 {"DetailType": "SubTotalLineDetail", "Amount": 362.07,
                  "SubTotalLineDetail": {}}],
        "DueDate": "2014-10-19", "ApplyTaxAfterDiscount": false, "DocNumber": "1037",
        "sparse": false, "CustomerMemo": {"value": "Thank you for your business"},
        "Deposit": 0, "Balance": 362.07,
        "CustomerRef": {"name": "Sonnenschein Family Store", "value": "24"},
        "TxnTaxDetail": {"TotalTax": 0}, "SyncToken": "0",
        "LinkedTxn": [{"TxnId": "100", "TxnType": "Estimate"}],
        "BillEmail": {"Address": "family@store.example"}, "EmailStatus": "NotSet",
        "MetaData": {"CreateTime": "2014-09-19T13:16:17-07:00",
                     "LastUpdatedTime": "2014-09-19T13:16:17-07:00"},
        "CustomField": [{"DefinitionId": "1", "StringValue": "102", "Type": "StringType",
                         "Name": "Crew #"}], "Id": "130"}"""
    )
    result = mapped("invoices", invoice)
    assert (result.remote_id, result.number, result.customer_remote_id) == ("130", "1037", "24")
    assert result.total == Money("362.07", "USD") and result.balance == Money("362.07", "USD")
    assert result.status is DocumentStatus.OPEN
    assert result.po_number is None  # "Crew #" is not the P.O. field
    assert result.memo == "Thank you for your business"
    assert result.terms is None  # only the term's id, and no configured name for it
    assert result.modified_at == datetime(2014, 9, 19, 20, 16, 17, tzinfo=UTC)


def test_voided_invoice_and_payment_as_the_void_operations_return_them() -> None:
    invoice = wire(
        """{"Id": "129", "SyncToken": "1", "domain": "QBO", "sparse": false,
        "MetaData": {"LastUpdatedTime": "2024-06-06T11:00:00-07:00"},
        "DocNumber": "1036", "TxnDate": "2024-06-01", "CustomerRef": {"value": "24"},
        "PrivateNote": "Voided", "TotalAmt": 0, "Balance": 0,
        "Line": [{"Id": "1", "Amount": 0, "DetailType": "SalesItemLineDetail",
                  "SalesItemLineDetail": {"ItemRef": {"value": "1"}}},
                 {"Amount": 0, "DetailType": "SubTotalLineDetail",
                  "SubTotalLineDetail": {}}]}"""
    )
    void_invoice = mapped("invoices", invoice)
    assert void_invoice.status is DocumentStatus.VOID
    assert void_invoice.total == Money("0", "USD") and void_invoice.balance == Money("0", "USD")
    assert void_invoice.deleted is False
    payment = wire(
        """{"Id": "232", "SyncToken": "2", "domain": "QBO", "sparse": false,
        "MetaData": {"LastUpdatedTime": "2024-06-06T11:05:00-07:00"},
        "TxnDate": "2024-06-02", "CustomerRef": {"value": "24"},
        "DepositToAccountRef": {"value": "4"}, "PrivateNote": "Voided", "TotalAmt": 0,
        "UnappliedAmt": 0, "ProcessPayment": false, "Line": []}"""
    )
    void_payment = mapped("payments", payment)
    assert void_payment.status is PaymentStatus.VOID
    assert void_payment.amount == Money("0", "USD") and void_payment.applied == []
    assert void_payment.deleted is False


def test_reference_credit_memo_sample_fully_used() -> None:
    memo = wire(
        """{"TxnDate": "2014-09-02", "domain": "QBO", "PrintStatus": "NeedToPrint",
        "TotalAmt": 100.0, "RemainingCredit": 0,
        "Line": [{"Description": "Pest Control Services", "DetailType":
                  "SalesItemLineDetail", "SalesItemLineDetail": {"TaxCodeRef":
                  {"value": "NON"}, "Qty": 1, "UnitPrice": 100, "ItemRef":
                  {"name": "Pest Control", "value": "10"}}, "LineNum": 1,
                  "Amount": 100.0, "Id": "1"}],
        "ApplyTaxAfterDiscount": false, "DocNumber": "1026", "sparse": false,
        "CustomerMemo": {"value": "Updated customer memo."}, "Balance": 0,
        "CustomerRef": {"name": "Amy's Bird Sanctuary", "value": "1"},
        "TxnTaxDetail": {"TotalTax": 0}, "SyncToken": "3", "Id": "73",
        "MetaData": {"CreateTime": "2014-09-18T12:51:27-07:00",
                     "LastUpdatedTime": "2015-07-01T09:16:28-07:00"}}"""
    )
    result = mapped("credit_memos", memo)
    assert (result.number, result.customer_remote_id) == ("1026", "1")
    assert result.total == Money("100.00", "USD") and result.balance == Money("0", "USD")
    assert result.status is DocumentStatus.PAID
    assert result.memo == "Updated customer memo."
    assert result.issue_date == date(2014, 9, 2)


def test_reference_customer_sample_and_a_sub_customer() -> None:
    customer = wire(
        """{"domain": "QBO", "FamilyName": "King", "DisplayName": "King's Groceries",
        "DefaultTaxCodeRef": {"value": "2"}, "PrimaryEmailAddr": {"Address":
        "jdrew@groceries.example"}, "PreferredDeliveryMethod": "Print",
        "GivenName": "James", "FullyQualifiedName": "King's Groceries",
        "BillWithParent": false, "Job": false, "BalanceWithJobs": 0,
        "PrimaryPhone": {"FreeFormNumber": "(555) 555-5555"}, "Active": true,
        "MetaData": {"CreateTime": "2015-07-23T10:58:12-07:00",
                     "LastUpdatedTime": "2015-07-23T10:58:12-07:00"},
        "Taxable": true, "Balance": 0, "SyncToken": "0", "CompanyName": "King Groceries",
        "CurrencyRef": {"value": "USD", "name": "United States Dollar"}, "Id": "67"}"""
    )
    result = mapped("customers", customer)
    assert (result.remote_id, result.name) == ("67", "King's Groceries")
    assert (result.email, result.currency) == ("jdrew@groceries.example", "USD")
    assert result.status is CustomerStatus.ACTIVE and result.deleted is False
    job = {
        **customer,
        "Id": "68",
        "DisplayName": "Remodel",
        "FullyQualifiedName": "King's Groceries:Remodel",
        "Job": True,
        "ParentRef": {"value": "67"},
        "Level": 1,
    }
    assert mapped("customers", job).name == "Remodel"


def test_cdc_rows_of_every_entity_including_a_deleted_payment() -> None:
    stamp = "2024-06-07T12:00:00-07:00"
    rows = {
        "payments": {"domain": "QBO", "status": "Deleted", "Id": "233",
                     "MetaData": {"LastUpdatedTime": stamp}},
        "credit_memos": {"domain": "QBO", "status": "Deleted", "Id": "302",
                         "MetaData": {"LastUpdatedTime": stamp}},
    }  # fmt: skip
    for stream, row in rows.items():
        result = mapped(stream, row)
        assert result.deleted is True and result.remote_id == row["Id"]
        assert result.status.value == "deleted"
        assert result.modified_at == datetime(2024, 6, 7, 19, 0, tzinfo=UTC)
