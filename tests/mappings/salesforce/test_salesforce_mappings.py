"""Salesforce records, as the REST API returns them, mapped to canonical records."""

# ruff: noqa: E501  (vendor payloads are kept on one line per record, as the docs show them)

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from canonical.enums import CustomerStatus, DocumentStatus, PaymentStatus
from canonical.money import Money
from connectors.base import RawRecord
from mappings.base import MappingContext, MappingError
from mappings.salesforce import MAPPERS
from mappings.salesforce.common import date_of
from mappings.salesforce.schema import SalesforceSchema, load_preset

CTX = MappingContext("salesforce", home_currency="USD")


def raw(stream: str, sobject: str, body: str, *, deleted: bool = False) -> RawRecord:
    payload: dict[str, Any] = json.loads(body, parse_float=Decimal)
    record_id = payload.get("Id") or payload["id"]
    return RawRecord(stream, sobject, record_id, payload, deleted=deleted)


ACCOUNT = """{
  "attributes": {"type": "Account", "url": "/services/data/v62.0/sobjects/Account/001R0000003IoVjIAK"},
  "Id": "001R0000003IoVjIAK",
  "SystemModstamp": "2024-05-01T10:15:30.000+0000",
  "LastModifiedDate": "2024-05-01T10:15:30.000+0000",
  "Name": "ACME CORP",
  "AccountNumber": "C-00001",
  "CurrencyIsoCode": "EUR",
  "Credit_Hold__c": false,
  "QuickBooks_Id__c": "58"
}"""

INVOICE_CUSTOM = """{
  "attributes": {"type": "Invoice__c", "url": "/services/data/v62.0/sobjects/Invoice__c/a01R000000AbCdEIAV"},
  "Id": "a01R000000AbCdEIAV",
  "SystemModstamp": "2024-05-02T08:00:00.000+0000",
  "LastModifiedDate": "2024-05-02T07:59:59.000+0000",
  "Invoice_Number__c": "INV-1042",
  "Account__c": "001R0000003IoVjIAK",
  "Amount__c": 1250.00,
  "Balance__c": 250.50,
  "Status__c": "Partially Paid",
  "Invoice_Date__c": "2024-04-01",
  "Due_Date__c": "2024-05-01",
  "CurrencyIsoCode": "EUR",
  "PO_Number__c": "PO-88231",
  "QuickBooks_Id__c": "1042"
}"""

INVOICE_RC = """{
  "attributes": {"type": "Invoice", "url": "/services/data/v62.0/sobjects/Invoice/3ttR00000004CqIYAU"},
  "Id": "3ttR00000004CqIYAU",
  "SystemModstamp": "2024-05-02T08:00:00.000+0000",
  "LastModifiedDate": "2024-05-02T08:00:00.000+0000",
  "DocumentNumber": "INV-1042",
  "BillingAccountId": "001R0000003IoVjIAK",
  "TotalAmountWithTax": 1250.00,
  "Balance": 0.00,
  "Status": "Posted",
  "InvoiceDate": "2024-04-01",
  "DueDate": "2024-05-01",
  "CurrencyIsoCode": "USD",
  "QuickBooks_Id__c": null
}"""

PAYMENT_CUSTOM = """{
  "attributes": {"type": "Payment__c", "url": "/services/data/v62.0/sobjects/Payment__c/a03R0000001xYzAIAU"},
  "Id": "a03R0000001xYzAIAU",
  "SystemModstamp": "2024-05-03T09:00:00.000+0000",
  "LastModifiedDate": "2024-05-03T09:00:00.000+0000",
  "Name": "PAY-000017",
  "Account__c": "001R0000003IoVjIAK",
  "Amount__c": 1000.00,
  "Unapplied_Amount__c": null,
  "Payment_Date__c": "2024-05-03",
  "Payment_Method__c": "ACH",
  "Reference__c": "778812",
  "Status__c": "Posted",
  "CurrencyIsoCode": "USD",
  "QuickBooks_Id__c": "77",
  "Payment_Applications__r": {
    "totalSize": 2, "done": true,
    "records": [
      {"attributes": {"type": "Payment_Application__c", "url": "/services/data/v62.0/sobjects/Payment_Application__c/a04R1"},
       "Id": "a04R1", "Payment__c": "a03R0000001xYzAIAU", "Invoice__c": "a01R1", "Credit_Memo__c": null, "Amount__c": 600.00},
      {"attributes": {"type": "Payment_Application__c", "url": "/services/data/v62.0/sobjects/Payment_Application__c/a04R2"},
       "Id": "a04R2", "Payment__c": "a03R0000001xYzAIAU", "Invoice__c": "a01R2", "Credit_Memo__c": null, "Amount__c": 300.00}
    ]
  }
}"""

PAYMENT_RC = """{
  "attributes": {"type": "Payment", "url": "/services/data/v62.0/sobjects/Payment/0a3R1"},
  "Id": "0a3R1",
  "SystemModstamp": "2024-05-03T09:00:00.000+0000",
  "LastModifiedDate": "2024-05-03T09:00:00.000+0000",
  "PaymentNumber": "PAY-0000042",
  "AccountId": "001R0000003IoVjIAK",
  "Amount": 500.00,
  "Balance": 100.00,
  "Date": "2024-05-03T00:00:00.000+0000",
  "GatewayRefNumber": "ch_1P2",
  "Status": "Processed",
  "CurrencyIsoCode": "USD",
  "QuickBooks_Id__c": null,
  "PaymentLinesInvoice": {
    "totalSize": 2, "done": true,
    "records": [
      {"attributes": {"type": "PaymentLineInvoice", "url": "/x"}, "Id": "0a6R1", "PaymentId": "0a3R1",
       "InvoiceId": "3ttR1", "Amount": 400.00, "HasBeenUnapplied": false},
      {"attributes": {"type": "PaymentLineInvoice", "url": "/x"}, "Id": "0a6R2", "PaymentId": "0a3R1",
       "InvoiceId": "3ttR2", "Amount": 250.00, "HasBeenUnapplied": true}
    ]
  }
}"""

CREDIT_APPLICATION_RC = """{
  "attributes": {"type": "CreditMemoInvApplication", "url": "/x"},
  "Id": "0bXR1",
  "SystemModstamp": "2024-05-04T09:00:00.000+0000",
  "LastModifiedDate": "2024-05-04T09:00:00.000+0000",
  "CreditMemoId": "50gR1",
  "InvoiceId": "3ttR1",
  "Amount": 75.00,
  "AppliedDate": "2024-05-04T09:00:00.000+0000",
  "HasBeenUnapplied": false,
  "CurrencyIsoCode": "USD"
}"""

DELETED = """{"id": "a01R000000AbCdEIAV", "deletedDate": "2024-05-05T10:00:00.000+0000"}"""


def test_account_maps_with_its_quickbooks_link() -> None:
    customer = MAPPERS["customers"](raw("customers", "Account", ACCOUNT), CTX)
    assert customer.name == "ACME CORP"  # type: ignore[attr-defined]
    assert customer.number == "C-00001"  # type: ignore[attr-defined]
    assert customer.currency == "EUR"  # type: ignore[attr-defined]
    assert customer.credit_hold is False  # type: ignore[attr-defined]
    assert customer.links == {"quickbooks": "58"}
    assert customer.modified_at is not None and customer.modified_at.hour == 10


def test_custom_object_invoice() -> None:
    invoice: Any = MAPPERS["invoices"](raw("invoices", "Invoice__c", INVOICE_CUSTOM), CTX)
    assert invoice.number == "INV-1042"
    assert invoice.customer_remote_id == "001R0000003IoVjIAK"
    assert invoice.total == Money("1250.00", "EUR")
    assert invoice.balance == Money("250.50", "EUR")
    assert invoice.status is DocumentStatus.OPEN
    assert str(invoice.due_date) == "2024-05-01"
    assert invoice.po_number == "PO-88231"
    assert invoice.remote_version == "2024-05-02T07:59:59.000+0000"
    assert invoice.links == {"quickbooks": "1042"}


def test_revenue_cloud_invoice_with_nothing_left_is_paid() -> None:
    invoice: Any = MAPPERS["invoices"](raw("invoices", "Invoice", INVOICE_RC), CTX)
    assert invoice.status is DocumentStatus.PAID
    assert invoice.total == Money("1250.00", "USD")
    assert invoice.links == {}


def test_void_status_is_mapped() -> None:
    body = json.loads(INVOICE_CUSTOM, parse_float=Decimal)
    body["Status__c"] = "Void"
    record = RawRecord("invoices", "Invoice__c", body["Id"], body)
    assert MAPPERS["invoices"](record, CTX).status is DocumentStatus.VOID  # type: ignore[attr-defined]


def test_custom_payment_with_applications() -> None:
    payment: Any = MAPPERS["payments"](raw("payments", "Payment__c", PAYMENT_CUSTOM), CTX)
    assert payment.amount == Money("1000.00", "USD")
    assert [(a.target, a.target_remote_id, a.amount.amount) for a in payment.applied] == [
        ("invoice", "a01R1", Decimal("600.00")),
        ("invoice", "a01R2", Decimal("300.00")),
    ]
    assert payment.unapplied == Money("100.00", "USD")  # derived: no unapplied field value
    assert payment.method == "ACH" and payment.reference == "778812"
    assert payment.status is PaymentStatus.POSTED


def test_revenue_cloud_payment_skips_unapplied_lines() -> None:
    payment: Any = MAPPERS["payments"](raw("payments", "Payment", PAYMENT_RC), CTX)
    assert [a.target_remote_id for a in payment.applied] == ["3ttR1"]
    assert payment.unapplied == Money("100.00", "USD")
    assert str(payment.received_on) == "2024-05-03"
    assert payment.reference == "ch_1P2"


def test_credit_memo_application_in_a_custom_payment() -> None:
    body = json.loads(PAYMENT_CUSTOM, parse_float=Decimal)
    body["Amount__c"] = Decimal("0.00")
    body["Payment_Applications__r"]["records"] = [
        {
            "Id": "a04R9",
            "Invoice__c": "a01R1",
            "Credit_Memo__c": "a02R1",
            "Amount__c": Decimal("80.00"),
        }
    ]
    payment: Any = MAPPERS["payments"](RawRecord("payments", "Payment__c", body["Id"], body), CTX)
    assert [(a.target, a.target_remote_id) for a in payment.applied] == [
        ("credit_memo", "a02R1"),
        ("invoice", "a01R1"),
    ]
    assert payment.unapplied == Money("0.00", "USD")


def test_revenue_cloud_credit_memo_application_is_a_zero_payment() -> None:
    record = raw("payments", "CreditMemoInvApplication", CREDIT_APPLICATION_RC)
    payment: Any = MAPPERS["payments"](record, CTX)
    assert payment.amount == Money("0", "USD")
    assert payment.object_type == "CreditMemoInvApplication"
    assert [(a.target, a.target_remote_id, a.amount.amount) for a in payment.applied] == [
        ("credit_memo", "50gR1", Decimal("75.00")),
        ("invoice", "3ttR1", Decimal("75.00")),
    ]


def test_credit_memo_maps() -> None:
    body = """{"attributes": {"type": "Credit_Memo__c", "url": "/x"}, "Id": "a02R1",
      "SystemModstamp": "2024-05-02T08:00:00.000+0000", "LastModifiedDate": "2024-05-02T08:00:00.000+0000",
      "Credit_Memo_Number__c": "CM-5001", "Account__c": "001R1", "Amount__c": 80.00, "Balance__c": 0.00,
      "Status__c": "Applied", "Credit_Date__c": "2024-04-10", "CurrencyIsoCode": null,
      "Reference__c": "PO-1", "QuickBooks_Id__c": "5001"}"""
    memo: Any = MAPPERS["credit_memos"](raw("credit_memos", "Credit_Memo__c", body), CTX)
    assert memo.number == "CM-5001" and memo.status is DocumentStatus.PAID
    assert memo.total == Money("80.00", "USD")  # no currency on the record: home currency
    assert memo.reference == "PO-1"


@pytest.mark.parametrize(
    ("stream", "sobject"),
    [
        ("customers", "Account"),
        ("invoices", "Invoice__c"),
        ("credit_memos", "CreditMemo"),
        ("payments", "Payment__c"),
    ],
)
def test_deleted_records_map_from_their_id_alone(stream: str, sobject: str) -> None:
    record = raw(stream, sobject, DELETED, deleted=True)
    mapped: Any = MAPPERS[stream](record, CTX)
    assert mapped.deleted and mapped.remote_id == "a01R000000AbCdEIAV"
    assert mapped.modified_at is not None and mapped.modified_at.day == 5
    assert mapped.status in (CustomerStatus.DELETED, DocumentStatus.DELETED, PaymentStatus.DELETED)


@pytest.mark.parametrize(
    ("field", "bad", "message"),
    [
        ("Balance__c", "12,5O.00", "not"),
        ("Amount__c", None, "missing"),
        ("Invoice_Date__c", "yesterday", "not a date"),
        ("Status__c", "Disputed", "unknown status 'Disputed'"),
        ("CurrencyIsoCode", "EURO", "currency"),
    ],
)
def test_bad_values_name_the_field(field: str, bad: object, message: str) -> None:
    body = json.loads(INVOICE_CUSTOM, parse_float=Decimal)
    body[field] = bad
    record = RawRecord("invoices", "Invoice__c", body["Id"], body)
    with pytest.raises(MappingError) as info:
        MAPPERS["invoices"](record, CTX)
    assert info.value.field in (field, "Amount__c", "Balance__c")
    assert message in str(info.value)


def test_bad_application_amount_names_its_path() -> None:
    body = json.loads(PAYMENT_CUSTOM, parse_float=Decimal)
    body["Payment_Applications__r"]["records"][1]["Amount__c"] = None
    record = RawRecord("payments", "Payment__c", body["Id"], body)
    with pytest.raises(MappingError) as info:
        MAPPERS["payments"](record, CTX)
    assert info.value.field == "Payment_Applications__r.records.1.Amount__c"


def test_account_without_name_names_the_field() -> None:
    body = json.loads(ACCOUNT, parse_float=Decimal)
    body["Name"] = None
    with pytest.raises(MappingError) as info:
        MAPPERS["customers"](RawRecord("customers", "Account", body["Id"], body), CTX)
    assert info.value.field == "Name"


def test_schema_from_context_overrides_field_names() -> None:
    schema = SalesforceSchema.model_validate({"invoice": {"balance": "Open_Balance__c"}})
    body = json.loads(INVOICE_CUSTOM, parse_float=Decimal)
    body["Open_Balance__c"] = body.pop("Balance__c")
    record = RawRecord("invoices", "Invoice__c", body["Id"], body)
    for options in ({"schema": schema}, {"schema": schema.model_dump()}):
        mapped: Any = MAPPERS["invoices"](record, MappingContext("salesforce", options=options))
        assert mapped.balance == Money("250.50", "EUR")
    with pytest.raises(MappingError):
        MAPPERS["invoices"](record, CTX)  # the default preset expects Balance__c


def test_presets_load_and_reject_bad_names() -> None:
    assert load_preset("revenue_cloud").payment.applications.sobject == "PaymentLineInvoice"
    assert load_preset().invoice.sobject == "Invoice__c"
    with pytest.raises(ValueError, match="unknown Salesforce preset"):
        load_preset("nope")
    with pytest.raises(ValueError, match="not a Salesforce API name"):
        SalesforceSchema.model_validate({"invoice": {"total": "Amount__c, Secret__c"}})


# Revenue Cloud Payment.Status: only Processed is cash that has moved ------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("Processed", PaymentStatus.POSTED),
        ("Draft", PaymentStatus.VOID),  # saved, editable, deletable: not cash yet
        ("Pending", PaymentStatus.VOID),  # asynchronous capture not confirmed by the gateway
        ("Canceled", PaymentStatus.VOID),
    ],
)
def test_revenue_cloud_payment_statuses(status: str, expected: PaymentStatus) -> None:
    body = json.loads(PAYMENT_RC, parse_float=Decimal)
    body["Status"] = status
    payment: Any = MAPPERS["payments"](RawRecord("payments", "Payment", body["Id"], body), CTX)
    assert payment.status is expected
    assert [a.target_remote_id for a in payment.applied] == ["3ttR1"]  # kept, counted by status
    if expected is PaymentStatus.VOID:  # no cash moved: none of its Balance is left to apply
        assert payment.unapplied is not None and payment.unapplied.is_zero()


def test_an_undocumented_payment_status_is_still_refused() -> None:
    body = json.loads(PAYMENT_RC, parse_float=Decimal)
    body["Status"] = "Settled"
    with pytest.raises(MappingError, match="unknown status 'Settled'") as info:
        MAPPERS["payments"](RawRecord("payments", "Payment", body["Id"], body), CTX)
    assert info.value.field == "Status"


def test_written_back_payment_statuses_stay_the_first_listed() -> None:
    from connectors.salesforce.writes import wire_status

    status_map = load_preset("revenue_cloud").payment.status_map
    assert wire_status(status_map, "posted") == "Processed"
    assert wire_status(status_map, "void") == "Canceled"


# currency fields keep the precision the API wrote: rounded to the minor unit, half-even ---------


@pytest.mark.parametrize(
    ("wire", "expected"),
    [("1250.005", "1250.00"), ("1250.015", "1250.02"), ("1250.0151", "1250.02"), ("0.004", "0.00")],
)
def test_currency_fields_with_more_decimals_are_rounded_half_even(wire: str, expected: str) -> None:
    body = json.loads(INVOICE_CUSTOM, parse_float=Decimal)
    body["Amount__c"] = Decimal(wire)
    invoice: Any = MAPPERS["invoices"](RawRecord("invoices", "Invoice__c", body["Id"], body), CTX)
    assert invoice.total == Money(expected, "EUR")


def test_payment_and_application_amounts_are_rounded_the_same_way() -> None:
    body = json.loads(PAYMENT_RC, parse_float=Decimal)
    body["Amount"] = Decimal("500.005")
    body["Balance"] = Decimal("100.0049")
    body["PaymentLinesInvoice"]["records"][0]["Amount"] = Decimal("400.0050")
    payment: Any = MAPPERS["payments"](RawRecord("payments", "Payment", body["Id"], body), CTX)
    assert payment.amount == Money("500.00", "USD")
    assert payment.unapplied == Money("100.00", "USD")
    assert payment.applied[0].amount == Money("400.00", "USD")


def test_a_datetime_mapped_to_a_date_is_the_day_in_the_orgs_time_zone() -> None:
    stamp = {"CreatedDate": "2024-05-01T02:30:00.000+0000"}
    new_york = MappingContext("salesforce", options={"timezone": "America/New_York"})
    assert date_of(stamp, "CreatedDate", new_york) == date(2024, 4, 30)
    assert date_of(stamp, "CreatedDate", CTX) == date(2024, 5, 1)  # UTC by default
    assert date_of({"D": "2024-05-01"}, "D", new_york) == date(2024, 5, 1)  # a date stays
