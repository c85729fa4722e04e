"""Intacct AR documents through their lifecycle, as readByQuery returns them: ARINVOICE STATE
Draft / Posted / Selected (named by a draft payment) / Partially Paid / Paid / Reversed, a
foreign-currency invoice (``CURRENCY`` EUR on ``BASECURR`` USD: the ``TRX_`` amounts are the
document's), MM/DD/YYYY dates, WHENMODIFIED in the company's zone, and ARPYMT with its
ARPYMTDETAIL rows (partial, overpaid, reversed)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from canonical.enums import DocumentStatus, PaymentStatus
from canonical.money import Money
from canonical.records import InvoiceIn, PaymentIn
from connectors.base import RawRecord
from connectors.intacct.xmlwire import parse_timestamp
from mappings.base import MappingContext
from mappings.intacct import MAPPERS

CTX = MappingContext("intacct", home_currency="USD")
ZONE = ZoneInfo("America/Los_Angeles")


def invoice_row(**changes: str) -> dict[str, Any]:
    row = {
        "RECORDNO": "7105",
        "RECORDID": "INV-2291",
        "CUSTOMERID": "C-0042",
        "STATE": "Posted",
        "WHENCREATED": "06/01/2024",
        "WHENDUE": "07/01/2024",
        "WHENMODIFIED": "06/03/2024 17:45:09",
        "CURRENCY": "EUR",
        "BASECURR": "USD",
        "TOTALENTERED": "1086.50",
        "TOTALDUE": "1086.50",
        "TRX_TOTALENTERED": "1000.00",
        "TRX_TOTALDUE": "1000.00",
        "DOCNUMBER": "PO-77",
    }
    row.update(changes)
    return row


def invoice(**changes: str) -> InvoiceIn:
    row = invoice_row(**changes)
    record = RawRecord(
        "invoices",
        "ARINVOICE",
        row["RECORDNO"],
        row,
        modified_at=parse_timestamp(row["WHENMODIFIED"], ZONE),
    )
    result = MAPPERS["invoices"](record, CTX)
    assert isinstance(result, InvoiceIn)
    return result


def test_posted_foreign_invoice_is_open_in_its_own_currency() -> None:
    result = invoice()
    assert result.status is DocumentStatus.OPEN
    assert result.total == Money("1000.00", "EUR") and result.balance == Money("1000.00", "EUR")
    assert (result.issue_date, result.due_date) == (date(2024, 6, 1), date(2024, 7, 1))
    assert result.modified_at == datetime(2024, 6, 4, 0, 45, 9, tzinfo=UTC)


@pytest.mark.parametrize("state", ["Selected", "Partially Paid"])
def test_selected_and_partly_paid_invoices_owe_their_trx_due(state: str) -> None:
    result = invoice(STATE=state, TRX_TOTALDUE="400.00", TOTALDUE="434.60")
    assert result.status is DocumentStatus.OPEN and result.balance == Money("400.00", "EUR")


def test_paid_invoice_is_paid() -> None:
    result = invoice(STATE="Paid", TRX_TOTALDUE="0.00", TOTALDUE="0.00")
    assert result.status is DocumentStatus.PAID and result.balance.is_zero()


def test_draft_invoice_is_a_draft() -> None:
    assert invoice(STATE="Draft").status is DocumentStatus.DRAFT


def test_reversed_invoice_owes_nothing_whatever_totaldue_says() -> None:
    result = invoice(STATE="Reversed")
    assert result.status is DocumentStatus.VOID and result.balance == Money("0", "EUR")


def payment_row(**changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "RECORDNO": "9120",
        "CUSTOMERID": "C-0042",
        "STATE": "Posted",
        "PAYMENTMETHOD": "Printed Check",
        "DOCNUMBER": "5521",
        "PAYMENTDATE": "06/10/2024",
        "RECEIPTDATE": "06/09/2024",
        "CURRENCY": "USD",
        "BASECURR": "USD",
        "TOTALENTERED": "1500.00",
        "TRX_TOTALENTERED": "1500.00",
        "ARPYMTDETAILS": {
            "ARPYMTDETAIL": [
                {"RECORDKEY": "7105", "TRX_PAYMENTAMOUNT": "1000.00"},
                {"RECORDKEY": "7106", "TRX_PAYMENTAMOUNT": "250.00"},
            ]
        },
    }
    row.update(changes)
    return row


def payment(**changes: Any) -> PaymentIn:
    row = payment_row(**changes)
    result = MAPPERS["payments"](RawRecord("payments", "ARPYMT", row["RECORDNO"], row), CTX)
    assert isinstance(result, PaymentIn)
    return result


def test_overpayment_leaves_the_rest_unapplied() -> None:
    result = payment()
    assert result.status is PaymentStatus.POSTED
    assert [(a.target_remote_id, a.amount) for a in result.applied] == [
        ("7105", Money("1000.00", "USD")),
        ("7106", Money("250.00", "USD")),
    ]
    assert result.unapplied == Money("250.00", "USD")
    assert result.received_on == date(2024, 6, 10)


@pytest.mark.parametrize("state", ["Voided", "Reversed"])
def test_voided_or_reversed_payment_is_not_cash(state: str) -> None:
    result = payment(STATE=state)
    assert result.status is PaymentStatus.VOID and result.unapplied == Money("0", "USD")


def test_reversal_entry_of_a_payment_is_not_cash() -> None:
    details = {
        "ARPYMTDETAIL": [
            {"RECORDKEY": "7105", "TRX_PAYMENTAMOUNT": "-1000.00"},
            {"RECORDKEY": "7106", "TRX_PAYMENTAMOUNT": "-250.00"},
        ]
    }
    result = payment(
        STATE="Reversal",
        TOTALENTERED="-1500.00",
        TRX_TOTALENTERED="-1500.00",
        ARPYMTDETAILS=details,
    )
    assert result.status is PaymentStatus.VOID and result.unapplied == Money("0", "USD")
