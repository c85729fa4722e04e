"""Invoiced objects in the shapes of the public API reference's samples (github.com/Invoiced/api
``data/invoicing/invoices/pay.json`` and ``object.json``, ``data/credit_notes/object.json``,
``data/payments/charge.json``), values our own, read as the list stream reads them and mapped."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from canonical.enums import DocumentStatus, PaymentStatus
from canonical.money import Money
from connectors.base import RawRecord
from connectors.invoiced.streams import moment
from mappings.base import MappingContext
from mappings.invoiced import MAPPERS

CTX = MappingContext(system="invoiced")
OBJECT = {"invoices": "invoice", "credit_memos": "credit_note", "payments": "payment"}


def wire(text: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(text, parse_float=Decimal)
    return body


def mapped(stream: str, body: str | dict[str, Any]) -> Any:
    """The payload as the stream builds its RawRecord (``updated_at`` as the stamp)."""
    payload = wire(body) if isinstance(body, str) else body
    record = RawRecord(
        stream=stream,
        object_type=OBJECT[stream],
        remote_id=str(payload["id"]),
        payload=payload,
        modified_at=moment(payload.get("updated_at")),
    )
    return MAPPERS[stream](record, CTX)


# ``pay.json``: the invoice returned by POST /invoices/:id/pay is paid: true, status paid,
# and still shows balance equal to total.
PAID_INVOICE = """{"id": 88120, "object": "invoice", "customer": 4410, "ship_to": null,
  "name": null, "currency": "usd", "draft": false, "closed": false, "paid": true,
  "status": "paid", "autopay": true, "attempt_count": 1, "next_payment_attempt": null,
  "subscription": null, "number": "INV-3107", "date": 1717200000, "due_date": null,
  "payment_terms": "AutoPay", "purchase_order": null,
  "items": [{"id": 31, "object": "line_item", "catalog_item": null, "type": "product",
             "name": "Toner", "description": null, "quantity": 4, "unit_cost": 61.5,
             "amount": 246, "discountable": true, "discounts": [], "taxable": true,
             "taxes": [], "metadata": {}}],
  "notes": null, "subtotal": 246, "discounts": [],
  "taxes": [{"id": 7001, "object": "tax", "amount": 20.3, "tax_rate": null}],
  "total": 266.3, "balance": 266.3, "updated_at": 1717200360, "created_at": 1717200300,
  "metadata": {}, "payment_plan": null}"""


def test_paid_invoice_owes_nothing_even_when_balance_still_shows_the_total() -> None:
    invoice = mapped("invoices", PAID_INVOICE)
    assert invoice.status is DocumentStatus.PAID
    assert invoice.total == Money("266.30", "USD")
    assert invoice.balance == Money("0.00", "USD")
    assert (invoice.number, invoice.customer_remote_id) == ("INV-3107", "4410")
    assert invoice.issue_date == date(2024, 6, 1) and invoice.due_date is None
    assert invoice.modified_at == datetime(2024, 6, 1, 0, 6, tzinfo=UTC)


def test_paid_flag_alone_means_paid_in_full() -> None:
    body = wire(PAID_INVOICE)
    body.pop("status")
    invoice = mapped("invoices", body)
    assert invoice.status is DocumentStatus.PAID and invoice.balance.is_zero()


def test_open_invoice_with_tax_and_past_due_keeps_its_balance() -> None:
    body = wire(PAID_INVOICE)
    body.update(paid=False, status="past_due", balance=Decimal("106.30"), autopay=False)
    invoice = mapped("invoices", body)
    assert invoice.status is DocumentStatus.OPEN
    assert invoice.balance == Money("106.30", "USD")


def test_fully_applied_credit_note_has_no_credit_left() -> None:
    note = mapped(
        "credit_memos",
        """{"id": 5120, "object": "credit_note", "customer": 4410, "name": null,
        "currency": "eur", "draft": false, "closed": false, "paid": true, "status": "paid",
        "number": "CN-0311", "date": 1717286400, "purchase_order": "PO-77",
        "items": [], "notes": null, "subtotal": 40, "discounts": [], "taxes": [],
        "total": 40, "balance": 40, "url": "https://example.invoiced.com/credit_notes/x",
        "updated_at": 1717286460, "created_at": 1717286400, "metadata": {}}""",
    )
    assert note.status is DocumentStatus.PAID
    assert (note.total, note.balance) == (Money("40.00", "EUR"), Money("0.00", "EUR"))
    assert note.reference == "PO-77"


def test_processed_charge_payment_with_nothing_unapplied_and_no_applied_to() -> None:
    payment = mapped(
        "payments",
        """{"ach_sender_id": null, "amount": 1250, "balance": 0,
        "charge": {"amount": 1250, "amount_refunded": 0, "currency": "usd", "customer": 4410,
                   "disputed": false, "failure_message": null, "gateway": "test",
                   "gateway_id": "ch_9f2", "id": 7731, "receipt_email": null,
                   "refunded": false, "status": "succeeded", "refunds": []},
        "updated_at": 1717372800, "created_at": 1717372800, "currency": "usd",
        "customer": 4410, "date": 1717372800, "id": 9051, "matched": null,
        "method": "credit_card", "notes": null, "object": "payment", "reference": "ch_9f2",
        "source": "api", "voided": false}""",
    )
    assert payment.status is PaymentStatus.POSTED
    assert payment.amount == Money("1250.00", "USD")
    assert payment.unapplied == Money("0.00", "USD") and payment.applied == []
    assert (payment.method, payment.reference) == ("credit_card", "ch_9f2")
