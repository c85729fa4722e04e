"""Invoiced documents through their lifecycle, shaped as the API reference shows them (invoice
``status`` draft / not_sent / sent / viewed / past_due / pending / paid / voided, with the
``draft``, ``closed``, ``paid`` flags; credit notes draft / open / paid / closed / voided),
lower-case currencies and unix dates that are days in the company's time zone."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from canonical.enums import DocumentStatus, PaymentStatus
from canonical.money import Money
from canonical.records import CreditMemoIn, InvoiceIn, PaymentIn
from connectors.base import RawRecord
from mappings.base import MappingContext
from mappings.invoiced import MAPPERS

CTX = MappingContext("invoiced", options={"company_timezone": "America/Chicago"})


def raw(stream: str, body: str, **changes: Any) -> RawRecord:
    payload: dict[str, Any] = json.loads(body, parse_float=Decimal)
    payload.update(changes)
    return RawRecord(stream, stream, str(payload["id"]), payload)


INVOICE = """{"id": 46230, "object": "invoice", "customer": 15444, "number": "INV-0021",
  "currency": "eur", "date": 1717218000, "due_date": 1719810000, "payment_terms": "NET 30",
  "draft": false, "sent": true, "closed": false, "paid": false, "voided": false,
  "status": "sent", "subtotal": 880, "total": 880, "balance": 880, "purchase_order": null,
  "notes": null, "metadata": {}, "created_at": 1717218000, "updated_at": 1717218100}"""


def invoice(**changes: Any) -> InvoiceIn:
    result = MAPPERS["invoices"](raw("invoices", INVOICE, **changes), CTX)
    assert isinstance(result, InvoiceIn)
    return result


def test_sent_invoice_is_open_in_its_currency_dated_in_the_company_zone() -> None:
    result = invoice()
    assert result.status is DocumentStatus.OPEN
    assert result.total == Money("880", "EUR") and result.balance == Money("880.00", "EUR")
    # 1717218000 is 2024-06-01 05:00 UTC: 00:00 in Chicago
    assert (result.issue_date, result.due_date) == (date(2024, 6, 1), date(2024, 7, 1))


def test_draft_invoice_is_a_draft_not_open_receivable() -> None:
    result = invoice(draft=True, sent=False, status="draft")
    assert result.status is DocumentStatus.DRAFT


@pytest.mark.parametrize("status", ["not_sent", "viewed", "past_due", "pending"])
def test_issued_invoices_awaiting_cash_are_open(status: str) -> None:
    result = invoice(status=status, sent=status != "not_sent")
    assert result.status is DocumentStatus.OPEN
    assert result.balance == Money("880", "EUR")


def test_partly_paid_pending_invoice_keeps_what_is_still_owed() -> None:
    result = invoice(status="pending", balance=Decimal("80"))
    assert result.status is DocumentStatus.OPEN and result.balance == Money("80", "EUR")


def test_paid_and_closed_invoice_is_paid_with_nothing_owed() -> None:
    result = invoice(status="paid", paid=True, closed=True, balance=0)
    assert result.status is DocumentStatus.PAID and result.balance.is_zero()


def test_voided_invoice_owes_nothing() -> None:
    result = invoice(status="voided", voided=True, closed=True)
    assert result.status is DocumentStatus.VOID and result.balance == Money("0", "EUR")


CREDIT_NOTE = """{"id": 2048, "object": "credit_note", "customer": 15444, "invoice": 46230,
  "number": "CN-0007", "currency": "eur", "date": 1717304400, "draft": false, "closed": false,
  "paid": false, "status": "open", "total": 100, "balance": 100, "metadata": {},
  "created_at": 1717304400, "updated_at": 1717304500}"""


@pytest.mark.parametrize(
    ("changes", "status", "balance"),
    [
        ({}, DocumentStatus.OPEN, "100"),
        ({"status": "draft", "draft": True}, DocumentStatus.DRAFT, "100"),
        ({"status": "paid", "paid": True, "balance": 0}, DocumentStatus.PAID, "0"),
        ({"status": "closed", "closed": True}, DocumentStatus.VOID, "0"),
        ({"status": "voided", "voided": True}, DocumentStatus.VOID, "0"),
    ],
)
def test_credit_note_statuses(
    changes: dict[str, Any], status: DocumentStatus, balance: str
) -> None:
    result = MAPPERS["credit_memos"](raw("credit_notes", CREDIT_NOTE, **changes), CTX)
    assert isinstance(result, CreditMemoIn)
    assert result.status is status and result.balance == Money(balance, "EUR")


PAYMENT = """{"id": 40100, "object": "payment", "customer": 15444, "date": 1717390800,
  "currency": "eur", "amount": 905.00, "balance": 0, "voided": false, "method": "credit_card",
  "reference": "ch_1PN", "source": "customer_portal", "notes": null, "metadata": {},
  "created_at": 1717390800, "updated_at": 1717390900,
  "applied_to": [
    {"type": "invoice", "invoice": 46230, "amount": 780.00},
    {"type": "convenience_fee", "amount": 25.00},
    {"type": "credit", "amount": 100.00},
    {"type": "credit_note", "credit_note": 2048, "document_type": "invoice",
     "invoice": 46230, "amount": 100.00}]}"""


def test_card_payment_with_a_fee_credit_balance_and_a_credit_note() -> None:
    result = MAPPERS["payments"](raw("payments", PAYMENT), CTX)
    assert isinstance(result, PaymentIn)
    assert result.status is PaymentStatus.POSTED
    assert [(a.target, a.target_remote_id, a.amount) for a in result.applied] == [
        ("credit_memo", "2048", Money("100.00", "EUR")),  # credits first, with their invoice
        ("invoice", "46230", Money("100.00", "EUR")),
        ("invoice", "46230", Money("780.00", "EUR")),
    ]
    # the fee pays no invoice; the credit entry is cash left on the customer's credit balance
    assert result.unapplied == Money("100.00", "EUR")
    assert result.received_on == date(2024, 6, 3)  # 05:00 UTC is midnight in Chicago


CHARGE = {"id": 46374, "object": "charge", "amount": 905.00, "currency": "eur"}


@pytest.mark.parametrize(
    ("charge_status", "status", "unapplied"),
    [
        ("succeeded", PaymentStatus.POSTED, "100.00"),
        ("pending", PaymentStatus.POSTED, "100.00"),  # applied by Invoiced until it fails
        ("failed", PaymentStatus.VOID, "0.00"),  # no cash came in
    ],
)
def test_a_processed_payment_is_cash_unless_its_charge_failed(
    charge_status: str, status: PaymentStatus, unapplied: str
) -> None:
    charge = {**CHARGE, "status": charge_status}
    result = MAPPERS["payments"](raw("payments", PAYMENT, charge=charge), CTX)
    assert isinstance(result, PaymentIn)
    assert result.status is status and result.unapplied == Money(unapplied, "EUR")
    assert result.amount == Money("905.00", "EUR")
