"""QuickBooks Online payloads, shaped as Intuit documents them, mapped to canonical records."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from canonical.enums import CustomerStatus, DocumentStatus, PaymentStatus
from canonical.money import Money
from connectors.base import RawRecord
from connectors.quickbooks.streams import raw_record
from mappings.base import MappingContext, MappingError
from mappings.quickbooks import MAPPERS, credit_memo, customer, invoice, payment

CTX = MappingContext(system="quickbooks", home_currency="USD")


def wire(text: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(text, parse_float=Decimal)
    return body


def record(stream: str, entity: str, payload: dict[str, Any]) -> RawRecord:
    return raw_record(stream, entity, payload)


INVOICE = wire(
    """{
  "Id": "130", "SyncToken": "3", "domain": "QBO", "sparse": false,
  "MetaData": {"CreateTime": "2024-03-01T09:15:40-08:00",
               "LastUpdatedTime": "2024-03-12T14:02:11-07:00"},
  "CustomField": [{"DefinitionId": "1", "Name": "P.O. Number", "Type": "StringType",
                   "StringValue": "PO-88123"}],
  "DocNumber": "1037", "TxnDate": "2024-03-01", "DueDate": "2024-03-31",
  "CurrencyRef": {"value": "EUR", "name": "Euro"}, "ExchangeRate": 1.0825,
  "CustomerRef": {"value": "24", "name": "Northwind Traders Inc."},
  "CustomerMemo": {"value": "Thank you for your business."},
  "Line": [{"Id": "1", "LineNum": 1, "Amount": 1250.5, "DetailType": "SalesItemLineDetail",
            "SalesItemLineDetail": {"ItemRef": {"value": "1", "name": "Services"}}},
           {"Amount": 1250.5, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}],
  "TotalAmt": 1250.5, "Balance": 250.5, "LinkedTxn": [{"TxnId": "140", "TxnType": "Payment"}]
}"""
)


def test_invoice_maps_documented_fields() -> None:
    result = invoice.to_canonical(record("invoices", "Invoice", INVOICE), CTX)
    assert result.remote_id == "130"
    assert result.remote_version == "3"
    assert result.modified_at == datetime(2024, 3, 12, 21, 2, 11, tzinfo=UTC)
    assert result.customer_remote_id == "24"
    assert result.number == "1037"
    assert result.total == Money("1250.50", "EUR")
    assert result.balance == Money("250.50", "EUR")
    assert (result.issue_date, result.due_date) == (date(2024, 3, 1), date(2024, 3, 31))
    assert result.status is DocumentStatus.OPEN
    assert result.po_number == "PO-88123"
    assert result.memo == "Thank you for your business."
    assert result.deleted is False


def test_paid_invoice_and_home_currency_without_currency_ref() -> None:
    payload = {**INVOICE, "Balance": 0}
    payload.pop("CurrencyRef")
    result = invoice.to_canonical(record("invoices", "Invoice", payload), CTX)
    assert result.status is DocumentStatus.PAID
    assert result.total.currency == "USD"


def test_voided_invoice_keeps_record_with_status_void() -> None:
    payload = {**INVOICE, "TotalAmt": 0, "Balance": 0, "PrivateNote": "Voided - keep"}
    result = invoice.to_canonical(record("invoices", "Invoice", payload), CTX)
    assert result.status is DocumentStatus.VOID
    assert result.total == Money("0", "EUR")
    assert result.deleted is False  # a void keeps its record


def test_zero_total_invoice_without_void_note_is_not_void() -> None:
    payload = {**INVOICE, "TotalAmt": 0, "Balance": 0, "PrivateNote": "free sample"}
    result = invoice.to_canonical(record("invoices", "Invoice", payload), CTX)
    assert result.status is DocumentStatus.PAID


def test_cdc_deleted_stub_maps_as_deleted() -> None:
    stub = wire(
        '{"domain": "QBO", "status": "Deleted", "Id": "131",'
        ' "MetaData": {"LastUpdatedTime": "2024-03-13T10:00:00-07:00"}}'
    )
    for stream, entity in (
        ("invoices", "Invoice"),
        ("credit_memos", "CreditMemo"),
        ("payments", "Payment"),
        ("customers", "Customer"),
    ):
        raw = record(stream, entity, stub)
        assert raw.deleted is True
        result = MAPPERS[stream](raw, CTX)
        assert result.deleted is True
        assert result.remote_id == "131"
        assert getattr(result, "status").value == "deleted"  # noqa: B009


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"TotalAmt": "12O.00"}, "TotalAmt"),
        ({"Balance": None}, "Balance"),
        ({"CustomerRef": {}}, "CustomerRef.value"),
        ({"CurrencyRef": {"value": "EURO"}}, "TotalAmt"),
        ({"TxnDate": "03/01/2024"}, "TxnDate"),
    ],
)
def test_invoice_bad_values_name_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(MappingError) as caught:
        invoice.to_canonical(record("invoices", "Invoice", {**INVOICE, **change}), CTX)
    assert caught.value.field == field


CUSTOMER = wire(
    """{
  "Id": "24", "SyncToken": "0", "domain": "QBO", "sparse": false,
  "MetaData": {"CreateTime": "2023-11-02T10:00:00-07:00",
               "LastUpdatedTime": "2024-02-01T08:30:00-08:00"},
  "DisplayName": "Northwind Traders Inc.", "CompanyName": "Northwind Traders Inc.",
  "PrimaryEmailAddr": {"Address": "ap@northwind.example.com"}, "Active": true,
  "Balance": 1250.5, "CurrencyRef": {"value": "EUR", "name": "Euro"}
}"""
)


def test_customer_maps_documented_fields() -> None:
    result = customer.to_canonical(record("customers", "Customer", CUSTOMER), CTX)
    assert result.name == "Northwind Traders Inc."
    assert result.email == "ap@northwind.example.com"
    assert result.currency == "EUR"
    assert result.status is CustomerStatus.ACTIVE


def test_inactive_and_deleted_customers() -> None:
    inactive = customer.to_canonical(
        record("customers", "Customer", {**CUSTOMER, "Active": False}), CTX
    )
    assert inactive.status is CustomerStatus.INACTIVE
    assert inactive.deleted is False
    deleted = customer.to_canonical(
        record(
            "customers",
            "Customer",
            {**CUSTOMER, "Active": False, "DisplayName": "Northwind Traders Inc. (deleted)"},
        ),
        CTX,
    )
    assert deleted.status is CustomerStatus.DELETED
    assert deleted.deleted is True
    assert deleted.name == "Northwind Traders Inc."


def test_customer_without_display_name_names_the_field() -> None:
    payload = {k: v for k, v in CUSTOMER.items() if k != "DisplayName"}
    with pytest.raises(MappingError) as caught:
        customer.to_canonical(record("customers", "Customer", payload), CTX)
    assert caught.value.field == "DisplayName"


CREDIT_MEMO = wire(
    """{
  "Id": "150", "SyncToken": "1", "domain": "QBO", "sparse": false,
  "MetaData": {"CreateTime": "2024-03-05T09:00:00-08:00",
               "LastUpdatedTime": "2024-03-06T09:00:00-08:00"},
  "DocNumber": "5007", "TxnDate": "2024-03-05", "CurrencyRef": {"value": "USD"},
  "CustomerRef": {"value": "24"}, "TotalAmt": 125.05, "RemainingCredit": 25.05,
  "Balance": 25.05, "Line": []
}"""
)


def test_credit_memo_open_credit_is_remaining_credit() -> None:
    result = credit_memo.to_canonical(record("credit_memos", "CreditMemo", CREDIT_MEMO), CTX)
    assert result.number == "5007"
    assert result.total == Money("125.05", "USD")
    assert result.balance == Money("25.05", "USD")
    assert result.status is DocumentStatus.OPEN
    used = credit_memo.to_canonical(
        record("credit_memos", "CreditMemo", {**CREDIT_MEMO, "RemainingCredit": 0}), CTX
    )
    assert used.status is DocumentStatus.PAID


PAYMENT = wire(
    """{
  "Id": "140", "SyncToken": "0", "domain": "QBO", "sparse": false,
  "MetaData": {"CreateTime": "2024-03-10T11:00:00-07:00",
               "LastUpdatedTime": "2024-03-10T11:00:00-07:00"},
  "TxnDate": "2024-03-10", "CurrencyRef": {"value": "EUR", "name": "Euro"},
  "CustomerRef": {"value": "24", "name": "Northwind Traders Inc."},
  "PaymentMethodRef": {"value": "2", "name": "Check"}, "PaymentRefNum": "4417",
  "DepositToAccountRef": {"value": "4"}, "TotalAmt": 1100.0, "UnappliedAmt": 100.0,
  "ProcessPayment": false,
  "Line": [{"Amount": 1000.0, "LinkedTxn": [{"TxnId": "130", "TxnType": "Invoice"}],
            "LineEx": {"any": []}}]
}"""
)


def test_payment_with_invoice_application() -> None:
    result = payment.to_canonical(record("payments", "Payment", PAYMENT), CTX)
    assert result.amount == Money("1100", "EUR")
    assert result.unapplied == Money("100", "EUR")
    assert result.method == "Check"
    assert result.reference == "4417"
    assert result.status is PaymentStatus.POSTED
    assert [(a.target, a.target_remote_id, a.amount) for a in result.applied] == [
        ("invoice", "130", Money("1000", "EUR"))
    ]


def test_zero_total_payment_applies_a_credit_memo() -> None:
    payload = {
        **PAYMENT,
        "TotalAmt": 0,
        "UnappliedAmt": 0,
        "Line": [
            {"Amount": Decimal("25.05"), "LinkedTxn": [{"TxnId": "130", "TxnType": "Invoice"}]},
            {
                "Amount": Decimal("25.05"),
                "LinkedTxn": [{"TxnId": "150", "TxnType": "CreditMemo"}],
            },
        ],
    }
    result = payment.to_canonical(record("payments", "Payment", payload), CTX)
    assert result.amount.is_zero()
    assert result.status is PaymentStatus.POSTED
    assert [(a.target, a.target_remote_id, str(a.amount.amount)) for a in result.applied] == [
        ("invoice", "130", "25.05"),
        ("credit_memo", "150", "25.05"),
    ]


def _lines(*lines: tuple[str, str, str]) -> list[dict[str, Any]]:
    return [
        {"Amount": Decimal(amount), "LinkedTxn": [{"TxnId": txn, "TxnType": kind}]}
        for kind, txn, amount in lines
    ]


def test_journal_entry_credit_taken_by_a_payment_is_credit_not_cash() -> None:
    payload = PAYMENT | {
        "TotalAmt": 0,
        "UnappliedAmt": 0,
        "Line": _lines(("Invoice", "70", "40"), ("JournalEntry", "88", "40")),
    }
    result = payment.to_canonical(record("payments", "Payment", payload), CTX)
    assert [(a.target, a.target_remote_id, str(a.amount.amount)) for a in result.applied] == [
        ("invoice", "70", "40.00"),
        ("credit", "JournalEntry:88", "40.00"),
    ]
    part_cash = PAYMENT | {
        "TotalAmt": 60,
        "UnappliedAmt": 0,
        "Line": _lines(("Invoice", "70", "100"), ("JournalEntry", "88", "40")),
    }
    applied = payment.to_canonical(record("payments", "Payment", part_cash), CTX).applied
    assert [a.target for a in applied] == ["invoice", "credit"]


def test_journal_entry_charge_paid_by_a_payment_is_left_out() -> None:
    # a journal entry debiting receivables is a charge the cash pays: not an invoice of ours
    payload = PAYMENT | {
        "TotalAmt": 140,
        "UnappliedAmt": 0,
        "Line": _lines(("Invoice", "70", "100"), ("JournalEntry", "88", "40")),
    }
    result = payment.to_canonical(record("payments", "Payment", payload), CTX)
    assert [(a.target, a.target_remote_id) for a in result.applied] == [("invoice", "70")]


def test_unsynced_lines_the_totals_cannot_explain_name_the_field() -> None:
    payload = PAYMENT | {
        "TotalAmt": 75,
        "UnappliedAmt": 0,
        "Line": _lines(("Invoice", "70", "100"), ("Deposit", "91", "40")),
    }
    with pytest.raises(MappingError) as caught:
        payment.to_canonical(record("payments", "Payment", payload), CTX)
    assert caught.value.field == "Line" and "Deposit" in caught.value.reason


def test_voided_payment() -> None:
    payload = {**PAYMENT, "TotalAmt": 0, "UnappliedAmt": 0, "PrivateNote": "Voided", "Line": []}
    result = payment.to_canonical(record("payments", "Payment", payload), CTX)
    assert result.status is PaymentStatus.VOID
    assert result.deleted is False


def test_voided_payment_keeps_zero_lines_but_applies_nothing() -> None:
    payload = wire(
        """{
  "Id": "311", "SyncToken": "2", "domain": "QBO", "sparse": false,
  "MetaData": {"CreateTime": "2024-05-02T08:00:00-07:00",
               "LastUpdatedTime": "2024-05-03T09:30:00-07:00"},
  "TxnDate": "2024-05-02", "CustomerRef": {"value": "58", "name": "Harbor Supply"},
  "TotalAmt": 0, "UnappliedAmt": 0, "ProcessPayment": false, "PrivateNote": "Voided",
  "Line": [{"Amount": 0, "LinkedTxn": [{"TxnId": "977", "TxnType": "Invoice"}]},
           {"Amount": 0.00, "LinkedTxn": [{"TxnId": "978", "TxnType": "CreditMemo"}]}]
}"""
    )
    result = payment.to_canonical(record("payments", "Payment", payload), CTX)
    assert result.status is PaymentStatus.VOID
    assert result.applied == []


def test_payment_line_amount_error_names_the_line() -> None:
    payload = {
        **PAYMENT,
        "Line": [{"Amount": "abc", "LinkedTxn": [{"TxnId": "130", "TxnType": "Invoice"}]}],
    }
    with pytest.raises(MappingError) as caught:
        payment.to_canonical(record("payments", "Payment", payload), CTX)
    assert caught.value.field == "Line.0.Amount"


def test_invoice_sales_term_with_a_discount() -> None:
    named = INVOICE | {"SalesTermRef": {"value": "4", "name": "2% 10 Net 30"}}
    result = invoice.to_canonical(record("invoices", "Invoice", named), CTX)
    assert (result.terms, result.discount_basis_points) == ("2% 10 Net 30", 200)
    assert result.discount_until == date(2024, 3, 11)


def test_invoice_sales_term_by_id_from_the_configured_names() -> None:
    bare = INVOICE | {"SalesTermRef": {"value": "4"}}
    ctx = MappingContext(system="quickbooks", options={"terms": {"4": "1% 10 Net 30"}})
    result = invoice.to_canonical(record("invoices", "Invoice", bare), ctx)
    assert (result.discount_basis_points, result.discount_until) == (100, date(2024, 3, 11))
    plain = invoice.to_canonical(record("invoices", "Invoice", bare), CTX)
    assert (plain.terms, plain.discount_basis_points, plain.discount_until) == (None, None, None)
