"""Invoiced records and events shaped like the API reference's own examples
(developer.invoiced.com/api, source github.com/Invoiced/api ``data/``), values our own,
run through the real webhook parsing and mappings down to exact canonical values."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from canonical.enums import CustomerStatus, DocumentStatus, PaymentStatus
from canonical.money import Money
from canonical.records import CreditMemoIn, CustomerIn, InvoiceIn, PaymentIn
from connectors.base import RawRecord
from connectors.invoiced.config import InvoicedConfig
from connectors.invoiced.webhooks import parse
from mappings.base import MappingContext, MappingError
from mappings.invoiced import MAPPERS

CTX = MappingContext(system="invoiced")


def raw(stream: str, payload: dict[str, Any]) -> RawRecord:
    return RawRecord(
        stream=stream, object_type=stream, remote_id=str(payload["id"]), payload=payload
    )


def wire(text: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(text, parse_float=Decimal)
    return body


# events / webhooks ---------------------------------------------------------------------------

# The reference's Event example: an ``invoice.paid`` event whose invoice carries its customer
# expanded, with ``previous`` beside ``data`` (the attribute table puts it inside ``data``).
INVOICE_PAID_EVENT = b"""{
  "data": {"object": {
      "customer": {"id": 90417, "object": "customer", "name": "Harbor Optics",
                   "number": "CUST-0412", "currency": "cad", "credit_hold": false,
                   "metadata": {}, "created_at": 1700000000, "updated_at": 1700000000},
      "id": 77120, "object": "invoice", "name": null, "currency": "cad", "draft": false,
      "closed": false, "paid": true, "status": "paid", "number": "INV-2207",
      "date": 1714521600, "due_date": 1717200000, "payment_terms": "NET 30",
      "purchase_order": "PO-5531", "notes": null, "subtotal": 1180, "discounts": [],
      "taxes": [{"id": 1, "object": "tax", "amount": 59.00, "tax_rate": null}],
      "total": 1239.00, "balance": 0, "metadata": {"quickbooks_id": "8812"},
      "created_at": 1714521600, "updated_at": 1715000000}},
  "previous": {"balance": 1239.00, "paid": false, "status": "sent"},
  "id": 5550123, "timestamp": 1715000001, "type": "invoice.paid",
  "user": {"id": -2, "email": null}
}"""


def test_documented_event_example_maps_its_invoice_and_keeps_previous() -> None:
    event = parse(INVOICE_PAID_EVENT)
    assert (event.id, event.type, event.timestamp) == ("5550123", "invoice.paid", 1715000001)
    assert event.previous == {"balance": Decimal("1239.00"), "paid": False, "status": "sent"}
    record = event.record()
    assert record is not None and record.stream == "invoices" and not record.deleted
    assert record.modified_at == datetime.fromtimestamp(1715000000, UTC)
    result = MAPPERS["invoices"](record, CTX)
    assert isinstance(result, InvoiceIn)
    assert result.customer_remote_id == "90417"  # expanded customer
    assert result.total == Money("1239.00", "CAD")
    assert result.balance == Money("0", "CAD")
    assert result.status is DocumentStatus.PAID
    assert result.number == "INV-2207"
    assert result.po_number == "PO-5531"
    assert result.issue_date == date(2024, 5, 1)
    assert result.links == {"quickbooks": "8812"}


def test_previous_inside_data_wins_over_one_beside_it() -> None:
    event = parse(
        b'{"id": 1, "type": "invoice.updated", "timestamp": 2, "data": {"object": {"id": 3},'
        b' "previous": {"status": "sent"}}, "previous": {"status": "draft"}}'
    )
    assert event.previous == {"status": "sent"}


def test_deleted_payment_event_maps_as_deleted_with_its_amount() -> None:
    event = parse(
        b'{"id": 5550200, "type": "payment.deleted", "timestamp": 1715100000, "data": {"object":'
        b' {"id": 40021, "object": "payment", "customer": 90417, "currency": "usd",'
        b' "amount": 125.40, "balance": 0, "voided": false, "updated_at": 1715000000}}}'
    )
    record = event.record()
    assert record is not None and record.deleted
    assert record.modified_at == datetime.fromtimestamp(1715100000, UTC)  # the event's time
    result = MAPPERS["payments"](record, CTX)
    assert isinstance(result, PaymentIn)
    assert result.deleted and result.status is PaymentStatus.DELETED
    assert result.amount == Money("125.40", "USD")
    assert result.applied == []


# payments ------------------------------------------------------------------------------------

PAYMENT = wire(
    """{"id": 40022, "object": "payment", "customer": 90417, "date": 1715000000,
    "currency": "usd", "amount": 1000.00, "balance": 0, "matched": null, "voided": false,
    "method": "check", "ach_sender_id": null, "reference": "7781", "source": "keyed",
    "notes": "lockbox", "charge": null, "pdf_url": "https://x.example/pdf",
    "created_at": 1715000000, "updated_at": 1715000500,
    "applied_to": [
      {"type": "invoice", "invoice": 77120, "amount": 610.25},
      {"type": "credit_note", "credit_note": 3301, "document_type": "invoice",
       "invoice": 77121, "amount": 89.75},
      {"type": "applied_credit", "document_type": "invoice", "invoice": 77122,
       "amount": 40.00},
      {"type": "estimate", "estimate": 512, "amount": 150.00},
      {"type": "convenience_fee", "amount": 9.75},
      {"type": "credit", "amount": 230.00}]}"""
)


def test_payment_with_every_documented_application_type() -> None:
    result = MAPPERS["payments"](raw("payments", PAYMENT), CTX)
    assert isinstance(result, PaymentIn)
    assert result.customer_remote_id == "90417"
    assert result.amount == Money("1000.00", "USD")
    assert [(a.target, a.target_remote_id, a.amount.minor) for a in result.applied] == [
        ("credit_memo", "3301", 8975),  # credits first, each with its invoice
        ("invoice", "77121", 8975),
        ("credit", "credit_balance:90417", 4000),
        ("invoice", "77122", 4000),
        ("invoice", "77120", 61025),
    ]
    assert result.unapplied == Money("230.00", "USD")
    assert result.received_on == date(2024, 5, 6)
    assert (result.method, result.reference, result.memo) == ("check", "7781", "lockbox")
    assert result.status is PaymentStatus.POSTED


def test_bank_feed_payment_without_a_customer_is_all_unapplied() -> None:
    # the reference's Payment example: from a bank feed, no customer yet, nothing applied
    payload = wire(
        """{"amount": 39, "balance": 39, "created_at": 1586880432, "currency": "usd",
        "customer": null, "date": 1586880431, "id": 61, "matched": true, "method": "other",
        "notes": null, "object": "payment", "reference": null, "ach_sender_id": null,
        "source": "bank_feed", "voided": false}"""
    )
    result = MAPPERS["payments"](raw("payments", payload), CTX)
    assert isinstance(result, PaymentIn)
    assert result.customer_remote_id is None
    assert result.amount == Money("39.00", "USD")
    assert result.unapplied == Money("39.00", "USD")
    assert result.applied == [] and result.status is PaymentStatus.POSTED
    assert result.modified_at is None  # the example has no updated_at


def test_voided_payment_keeps_its_amount_but_leaves_nothing_unapplied() -> None:
    # the reference's void example: ``voided: true`` and the old ``balance`` still there
    payload = wire(
        """{"amount": 39, "balance": 39, "created_at": 1586880432, "charge": null,
        "currency": "usd", "customer": 15444, "date": 1586880431, "id": 61, "matched": true,
        "method": "other", "notes": null, "object": "payment", "reference": null,
        "source": "bank_feed", "voided": true, "applied_to": []}"""
    )
    result = MAPPERS["payments"](raw("payments", payload), CTX)
    assert isinstance(result, PaymentIn)
    assert result.status is PaymentStatus.VOID
    assert result.amount == Money("39.00", "USD")
    assert result.unapplied == Money("0", "USD")


def test_processed_charge_payment_fully_applied() -> None:
    payload = wire(
        """{"ach_sender_id": null, "amount": 2000, "balance": 0,
        "charge": {"amount": 2000, "amount_refunded": 0, "currency": "usd",
                   "customer": 401558, "gateway": "test", "id": 46374, "status": "succeeded",
                   "refunded": false, "disputed": false, "refunds": []},
        "currency": "usd", "customer": 401558, "date": 1607152637, "id": 32554,
        "matched": null, "method": "credit_card", "notes": null, "object": "payment",
        "reference": "5d9e31d812151", "source": "api", "voided": false,
        "created_at": 1607152637, "updated_at": 1607152637,
        "applied_to": [{"type": "invoice", "invoice": 2112620, "amount": 1710},
                       {"type": "invoice", "invoice": 2112622, "amount": 290}]}"""
    )
    result = MAPPERS["payments"](raw("payments", payload), CTX)
    assert isinstance(result, PaymentIn)
    assert [(a.target_remote_id, a.amount) for a in result.applied] == [
        ("2112620", Money("1710", "USD")),
        ("2112622", Money("290", "USD")),
    ]
    assert result.unapplied == Money("0", "USD")
    assert result.reference == "5d9e31d812151"


def test_credit_note_entry_with_a_null_document_type_applies_to_its_invoice() -> None:
    payload = {
        **PAYMENT,
        "amount": 0,
        "applied_to": [
            {
                "type": "credit_note",
                "credit_note": 3301,
                "document_type": None,
                "invoice": 77121,
                "estimate": None,
                "amount": Decimal("89.75"),
            }
        ],
    }
    result = MAPPERS["payments"](raw("payments", payload), CTX)
    assert isinstance(result, PaymentIn)
    assert [(a.target, a.target_remote_id, a.amount.minor) for a in result.applied] == [
        ("credit_memo", "3301", 8975),
        ("invoice", "77121", 8975),
    ]


def test_credit_note_moved_to_the_customers_credit_balance() -> None:
    # no document_type and no document: the credit note's balance becomes customer credit
    payload = {
        **PAYMENT,
        "amount": 0,
        "balance": 0,
        "applied_to": [
            {"id": 5551, "type": "credit_note", "credit_note": 2048, "amount": Decimal("51.15")}
        ],
    }
    result = MAPPERS["payments"](raw("payments", payload), CTX)
    assert isinstance(result, PaymentIn)
    assert result.applied == []  # it pays no invoice, and cash paying one is never netted
    assert result.unapplied == Money("51.15", "USD")


@pytest.mark.parametrize(
    "entry",
    [
        {"type": "credit_note", "credit_note": 3301, "estimate": 512, "amount": 5},
        {"type": "applied_credit", "document_type": "estimate", "estimate": 512, "amount": 5},
        {"type": "applied_credit", "estimate": 512, "amount": 5},
    ],
)
def test_credit_applied_to_an_estimate_moves_no_invoice(entry: dict[str, Any]) -> None:
    result = MAPPERS["payments"](raw("payments", {**PAYMENT, "applied_to": [entry]}), CTX)
    assert isinstance(result, PaymentIn)
    assert result.applied == []


def test_applied_credit_for_an_invoice_without_its_id_names_the_field() -> None:
    payload = {
        **PAYMENT,
        "applied_to": [{"type": "applied_credit", "document_type": "invoice", "amount": 20}],
    }
    with pytest.raises(MappingError) as caught:
        MAPPERS["payments"](raw("payments", payload), CTX)
    assert caught.value.field == "applied_to.0.invoice"


# documents and customers -----------------------------------------------------------------------


def test_documented_voided_invoice_and_credit_note() -> None:
    invoice = wire(
        """{"id": 46225, "object": "invoice", "customer": 15444, "ship_to": null,
        "name": "July Paper Delivery", "currency": "usd", "draft": false, "closed": false,
        "paid": false, "status": "voided", "number": "INV-0016", "date": 1416290400,
        "due_date": 1417500000, "payment_terms": "NET 14", "purchase_order": null,
        "notes": "Delivered on Jul 20", "subtotal": 55, "total": 51.15, "balance": 51.15,
        "metadata": {}, "created_at": 1415229884, "updated_at": 1415229884}"""
    )
    result = MAPPERS["invoices"](raw("invoices", invoice), CTX)
    assert isinstance(result, InvoiceIn)
    assert result.status is DocumentStatus.VOID
    assert (result.total, result.balance) == (Money("51.15", "USD"), Money("0", "USD"))
    assert result.deleted is False
    note = wire(
        """{"id": 2048, "object": "credit_note", "customer": 15444, "name": null,
        "currency": "usd", "draft": false, "closed": false, "paid": false,
        "status": "voided", "number": "CN-0016", "date": 1416290400, "notes": null,
        "total": 51.15, "balance": 51.15, "metadata": {}, "created_at": 1415229884}"""
    )
    memo = MAPPERS["credit_memos"](raw("credit_memos", note), CTX)
    assert isinstance(memo, CreditMemoIn)
    assert memo.status is DocumentStatus.VOID
    assert (memo.total, memo.balance) == (Money("51.15", "USD"), Money("0", "USD"))


def test_documented_open_credit_note() -> None:
    note = wire(
        """{"id": 2048, "object": "credit_note", "customer": 15444, "name": null,
        "currency": "usd", "draft": false, "closed": false, "paid": false, "status": "open",
        "number": "CN-0016", "date": 1416290400, "notes": null, "subtotal": 55,
        "taxes": [{"id": 20554, "object": "tax", "amount": 3.85, "tax_rate": null}],
        "total": 51.15, "balance": 51.15, "metadata": {}, "created_at": 1415229884}"""
    )
    memo = MAPPERS["credit_memos"](raw("credit_memos", note), CTX)
    assert isinstance(memo, CreditMemoIn)
    assert memo.status is DocumentStatus.OPEN
    assert memo.balance == Money("51.15", "USD")
    assert memo.issue_date == date(2014, 11, 18)
    assert memo.modified_at is None  # no updated_at on this example


def test_documented_customer() -> None:
    customer = wire(
        """{"id": 15444, "object": "customer", "name": "Acme", "number": "CUST-0001",
        "email": "billing@acmecorp.example", "autopay": true, "payment_terms": null,
        "payment_source": {"id": 850, "object": "card", "brand": "Visa", "last4": "4242"},
        "taxes": [], "type": "company", "country": "US", "currency": null, "tax_id": null,
        "notes": null, "updated_at": 1415222128, "created_at": 1415222128,
        "metadata": {"icp_number": "1234567890", "account_rep": "Jan"}, "chase": true,
        "credit_hold": false, "credit_limit": null, "owner": null, "parent_customer": null}"""
    )
    result = MAPPERS["customers"](raw("customers", customer), CTX)
    assert isinstance(result, CustomerIn)
    assert (result.name, result.number, result.email) == (
        "Acme",
        "CUST-0001",
        "billing@acmecorp.example",
    )
    assert result.currency is None and result.credit_hold is False
    assert result.status is CustomerStatus.ACTIVE
    assert result.links == {}  # metadata without quickbooks_id


# dates: calendar days in the company's time zone ----------------------------------------------


def _in(zone: str) -> MappingContext:
    return MappingContext(system="invoiced", options={"company_timezone": zone})


def test_document_dates_are_days_in_the_companys_time_zone() -> None:
    # the API reference's sample date 1416290400 is 18 Nov 2014, 00:00 US Central
    invoice = {
        "id": 1,
        "customer": 2,
        "number": "INV-1",
        "currency": "usd",
        "total": 10,
        "balance": 10,
        "status": "sent",
        "date": 1416290400,
        "due_date": 1417500000,
    }
    central = MAPPERS["invoices"](raw("invoices", invoice), _in("America/Chicago"))
    assert isinstance(central, InvoiceIn)
    assert central.issue_date == date(2014, 11, 18)
    # a Tokyo company's 1 May 06:00 is 30 April in UTC; a Chicago due date kept at 18:00 is
    # the next day in UTC
    tokyo = {**invoice, "date": 1714510800, "due_date": 1706745600}
    mapped = MAPPERS["invoices"](raw("invoices", tokyo), _in("Asia/Tokyo"))
    assert isinstance(mapped, InvoiceIn)
    assert mapped.issue_date == date(2024, 5, 1)
    chicago = MAPPERS["invoices"](raw("invoices", tokyo), _in("America/Chicago"))
    assert isinstance(chicago, InvoiceIn) and chicago.due_date == date(2024, 1, 31)
    utc = MAPPERS["invoices"](raw("invoices", tokyo), CTX)  # no zone configured: UTC
    assert isinstance(utc, InvoiceIn) and utc.issue_date == date(2024, 4, 30)


def test_payment_and_credit_note_dates_are_days_in_the_companys_time_zone() -> None:
    sydney = _in("Australia/Sydney")
    paid = MAPPERS["payments"](raw("payments", {**PAYMENT, "date": 1719777600}), sydney)
    assert isinstance(paid, PaymentIn) and paid.received_on == date(2024, 7, 1)
    note = {
        "id": 9,
        "customer": 2,
        "number": "CN-1",
        "currency": "usd",
        "total": 5,
        "balance": 5,
        "status": "open",
        "date": 1719777600,
    }
    memo = MAPPERS["credit_memos"](raw("credit_memos", note), sydney)
    assert isinstance(memo, CreditMemoIn) and memo.issue_date == date(2024, 7, 1)


def test_an_unknown_company_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        InvoicedConfig(api_key="k", company_timezone="Mars/Olympus")  # type: ignore[arg-type]
