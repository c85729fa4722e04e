"""Invoiced payloads, shaped as the API documents them, become canonical records."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from canonical.enums import DocumentStatus
from canonical.money import Money
from connectors.base import RawRecord
from mappings.base import MappingContext, MappingError
from mappings.invoiced import MAPPERS

CTX = MappingContext(system="invoiced")


def raw(stream: str, text: str, deleted: bool = False) -> RawRecord:
    payload = json.loads(text, parse_float=Decimal)
    return RawRecord(
        stream=stream,
        object_type=stream,
        remote_id=str(payload["id"]),
        payload=payload,
        deleted=deleted,
    )


def test_invoice() -> None:
    result = MAPPERS["invoices"](
        raw(
            "invoices",
            """{"id": 46225, "object": "invoice",
        "customer": 15444, "number": "INV-0016", "currency": "usd", "date": 1416290400,
        "due_date": 1417500000, "total": 51.15, "balance": 51.15, "status": "not_sent",
        "paid": false, "closed": false, "voided": false, "purchase_order": "PO-1",
        "metadata": {"quickbooks_id": "130"}, "updated_at": 1416290401}""",
        ),
        CTX,
    )
    assert result.total == Money("51.15", "USD") and result.status is DocumentStatus.OPEN
    assert result.customer_remote_id == "15444" and result.links == {"quickbooks": "130"}
    assert str(result.due_date) == "2014-12-02" and result.po_number == "PO-1"


def test_voided_invoice_is_kept_as_void() -> None:
    result = MAPPERS["invoices"](
        raw(
            "invoices",
            """{"id": 1, "customer": 2, "number": "INV-1",
        "currency": "eur", "total": 10, "balance": 0, "status": "voided", "voided": true}""",
        ),
        CTX,
    )
    assert result.status is DocumentStatus.VOID and result.deleted is False


def test_payment_with_invoice_credit_note_and_credit_entries() -> None:
    result = MAPPERS["payments"](
        raw(
            "payments",
            """{"id": 20939, "customer": 15460,
        "currency": "usd", "amount": 800, "date": 1410843600, "method": "check",
        "reference": "1450", "applied_to": [
          {"type": "invoice", "invoice": 44648, "amount": 700},
          {"type": "credit_note", "credit_note": 2231, "document_type": "invoice",
           "invoice": 44649, "amount": 50},
          {"type": "credit", "amount": 100}]}""",
        ),
        CTX,
    )
    assert [(a.target, a.target_remote_id, str(a.amount.amount)) for a in result.applied] == [
        ("invoice", "44648", "700.00"),
        ("credit_memo", "2231", "50.00"),
        ("invoice", "44649", "50.00"),
    ]
    assert result.unapplied == Money("100", "USD")


def test_bad_amount_names_the_field() -> None:
    with pytest.raises(MappingError) as caught:
        MAPPERS["payments"](
            raw(
                "payments",
                """{"id": 1, "customer": 2, "currency": "usd",
            "amount": 5, "applied_to": [{"type": "invoice", "invoice": 3, "amount": "lots"}]}""",
            ),
            CTX,
        )
    assert caught.value.field == "applied_to.0.amount"
    with pytest.raises(MappingError, match="currency"):
        MAPPERS["invoices"](
            raw(
                "invoices",
                """{"id": 1, "customer": 2, "number": "X",
            "currency": "zzz", "total": 1}""",
            ),
            CTX,
        )
