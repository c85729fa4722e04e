"""Intacct XML responses shaped as developer.intacct.com documents them, read by the
connector's XML parser and mapped by the real mappings (values are our own)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from canonical.enums import DocumentStatus, PaymentStatus
from canonical.money import Money
from connectors.base import RawRecord
from connectors.intacct.client import IntacctClient
from connectors.intacct.xmlwire import parse, parse_timestamp, to_dict
from mappings.base import MappingContext, MappingError
from mappings.intacct import MAPPERS

CTX = MappingContext(system="intacct", home_currency="USD")


def read_by_query(listtype: str, records: str, *, remaining: int = 0) -> list[dict[str, Any]]:
    """The records of a documented readByQuery response, read as the client reads them."""
    body = f"""<?xml version="1.0" encoding="UTF-8"?>
<response>
  <control><status>success</status><senderid>sender</senderid><controlid>c1</controlid>
    <uniqueid>false</uniqueid><dtdversion>3.0</dtdversion></control>
  <operation>
    <authentication><status>success</status><userid>api</userid><companyid>acme</companyid>
      <locationid></locationid><sessiontimestamp>2026-04-20T10:00:00-07:00</sessiontimestamp>
    </authentication>
    <result><status>success</status><function>readByQuery</function><controlid>r1</controlid>
      <data listtype="{listtype}" count="1" totalcount="{1 + remaining}"
            numremaining="{remaining}" resultId="{"rid-1" if remaining else ""}">{records}</data>
    </result>
  </operation>
</response>"""
    data = IntacctClient._data(parse(body.encode()), listtype)
    assert int(data.get("numremaining") or 0) == remaining
    return [to_dict(row) for row in data]


def mapped(stream: str, obj: str, row: dict[str, Any]) -> Any:
    record = RawRecord(stream, obj, str(row.get("RECORDNO")), row)
    return MAPPERS[stream](record, CTX)


MULTI_CURRENCY_INVOICE = """<arinvoice>
  <RECORDNO>2051</RECORDNO><RECORDID>INV-2051</RECORDID><STATE>Partially Paid</STATE>
  <CUSTOMERID>C-0007</CUSTOMERID><CUSTOMERNAME>Nordwind GmbH</CUSTOMERNAME>
  <DOCNUMBER>PO-4471</DOCNUMBER><DESCRIPTION></DESCRIPTION><TERMNAME>N30</TERMNAME>
  <WHENCREATED>04/01/2026</WHENCREATED><WHENDUE>05/01/2026</WHENDUE>
  <WHENPAID></WHENPAID><WHENDISCOUNT></WHENDISCOUNT>
  <BASECURR>USD</BASECURR><CURRENCY>EUR</CURRENCY>
  <TOTALENTERED>1084.60</TOTALENTERED><TOTALPAID>650.76</TOTALPAID><TOTALDUE>433.84</TOTALDUE>
  <TRX_TOTALENTERED>1000.00</TRX_TOTALENTERED><TRX_TOTALPAID>600.00</TRX_TOTALPAID>
  <TRX_TOTALDUE>400.00</TRX_TOTALDUE>
  <WHENMODIFIED>04/20/2026 10:15:30</WHENMODIFIED>
</arinvoice>"""


def test_multi_currency_invoice_maps_document_currency_amounts() -> None:
    (row,) = read_by_query("arinvoice", MULTI_CURRENCY_INVOICE)
    invoice = mapped("invoices", "ARINVOICE", row)
    assert invoice.remote_id == "2051" and invoice.number == "INV-2051"
    assert invoice.customer_remote_id == "C-0007"
    assert invoice.total == Money(Decimal("1000.00"), "EUR")
    assert invoice.balance == Money(Decimal("400.00"), "EUR")
    assert invoice.total.minor == 100000 and invoice.balance.minor == 40000
    assert invoice.status is DocumentStatus.OPEN
    assert invoice.issue_date == date(2026, 4, 1) and invoice.due_date == date(2026, 5, 1)
    assert invoice.po_number == "PO-4471" and invoice.memo is None
    stamp = parse_timestamp(row["WHENMODIFIED"], ZoneInfo("America/Los_Angeles"))
    assert stamp == datetime(2026, 4, 20, 17, 15, 30, tzinfo=UTC)


def test_base_currency_only_invoice_uses_the_plain_amounts() -> None:
    (row,) = read_by_query(
        "arinvoice",
        "<arinvoice><RECORDNO>2052</RECORDNO><RECORDID>INV-2052</RECORDID><STATE>Posted</STATE>"
        "<CUSTOMERID>C-0008</CUSTOMERID><WHENCREATED>04/02/2026</WHENCREATED>"
        "<TOTALENTERED>125.50</TOTALENTERED><TOTALDUE>125.50</TOTALDUE></arinvoice>",
    )
    invoice = mapped("invoices", "ARINVOICE", row)
    assert invoice.total == Money(Decimal("125.50"), "USD")
    assert invoice.balance.minor == 12550
    assert invoice.status is DocumentStatus.OPEN


@pytest.mark.parametrize(
    ("state", "due", "status", "balance"),
    [
        ("Paid", "0.00", DocumentStatus.PAID, "0.00"),
        ("Selected", "80.00", DocumentStatus.OPEN, "80.00"),
        ("Draft", "80.00", DocumentStatus.DRAFT, "80.00"),
        ("Reversed", "80.00", DocumentStatus.VOID, "0.00"),
    ],
)
def test_invoice_states(state: str, due: str, status: DocumentStatus, balance: str) -> None:
    (row,) = read_by_query(
        "arinvoice",
        f"<arinvoice><RECORDNO>2053</RECORDNO><RECORDID>INV-2053</RECORDID><STATE>{state}</STATE>"
        "<CUSTOMERID>C-0008</CUSTOMERID><CURRENCY>USD</CURRENCY><BASECURR>USD</BASECURR>"
        f"<TRX_TOTALENTERED>80.00</TRX_TOTALENTERED><TRX_TOTALDUE>{due}</TRX_TOTALDUE>"
        "</arinvoice>",
    )
    invoice = mapped("invoices", "ARINVOICE", row)
    assert invoice.status is status
    assert invoice.balance == Money(Decimal(balance), "USD")


def test_credit_memo_applied_to_a_debit_memo_line() -> None:
    """The documented ARPYMTDETAIL paying a debit memo (POSADJKEY) with a credit memo."""
    (row,) = read_by_query(
        "arpymt",
        "<arpymt><RECORDNO>3001</RECORDNO><CUSTOMERID>Customer_022</CUSTOMERID>"
        "<STATE>Complete</STATE><PAYMENTMETHOD>Cash</PAYMENTMETHOD><DOCNUMBER>INV-001</DOCNUMBER>"
        "<RECEIPTDATE>05/15/2019</RECEIPTDATE><PAYMENTDATE>05/16/2019</PAYMENTDATE>"
        "<CURRENCY>USD</CURRENCY><TRX_TOTALENTERED>0.00</TRX_TOTALENTERED>"
        "<ARPYMTDETAILS><ARPYMTDETAIL><POSADJKEY>104</POSADJKEY><POSADJENTRYKEY>204</POSADJENTRYKEY>"
        "<ADJUSTMENTKEY>105</ADJUSTMENTKEY><ADJUSTMENTENTRYKEY>205</ADJUSTMENTENTRYKEY>"
        "<TRX_ADJUSTMENTAMOUNT>10</TRX_ADJUSTMENTAMOUNT></ARPYMTDETAIL></ARPYMTDETAILS></arpymt>",
    )
    payment = mapped("payments", "ARPYMT", row)
    assert [(a.target, a.target_remote_id, a.amount.minor) for a in payment.applied] == [
        ("invoice", "104", 1000),
        ("credit_memo", "105", 1000),
    ]
    assert payment.amount.minor == 0 and payment.unapplied.minor == 0
    assert payment.received_on == date(2019, 5, 16)
    assert payment.status is PaymentStatus.POSTED


def test_multi_customer_payment_maps_without_a_customer() -> None:
    """Documented: omit CUSTOMERID and name the PAYERNAME to pay several customers' invoices."""
    (row,) = read_by_query(
        "arpymt",
        "<arpymt><RECORDNO>3002</RECORDNO><CUSTOMERID></CUSTOMERID>"
        "<PAYERNAME>ABC LLC group payment</PAYERNAME><STATE>Complete</STATE>"
        "<PAYMENTMETHOD>Cash</PAYMENTMETHOD><DOCNUMBER>Multiple customers invoices</DOCNUMBER>"
        "<RECEIPTDATE>11/02/2022</RECEIPTDATE><PAYMENTDATE>11/02/2022</PAYMENTDATE>"
        "<CURRENCY>USD</CURRENCY><TRX_TOTALENTERED>300.00</TRX_TOTALENTERED>"
        "<ARPYMTDETAILS>"
        "<ARPYMTDETAIL><RECORDKEY>599</RECORDKEY><TRX_PAYMENTAMOUNT>100</TRX_PAYMENTAMOUNT>"
        "</ARPYMTDETAIL>"
        "<ARPYMTDETAIL><RECORDKEY>615</RECORDKEY><TRX_PAYMENTAMOUNT>200</TRX_PAYMENTAMOUNT>"
        "</ARPYMTDETAIL>"
        "</ARPYMTDETAILS></arpymt>",
    )
    payment = mapped("payments", "ARPYMT", row)
    assert payment.customer_remote_id is None
    assert [(a.target_remote_id, a.amount.minor) for a in payment.applied] == [
        ("599", 10000),
        ("615", 20000),
    ]
    assert payment.unapplied == Money(Decimal("0.00"), "USD")
    assert payment.reference == "Multiple customers invoices"


def test_payment_without_customer_or_payer_names_customerid() -> None:
    row = {"RECORDNO": "3003", "STATE": "Complete", "TRX_TOTALENTERED": "5.00"}
    with pytest.raises(MappingError) as info:
        mapped("payments", "ARPYMT", row)
    assert info.value.field == "CUSTOMERID"


ADVANCE_DETAIL = (
    "<ARPYMTDETAILS><ARPYMTDETAIL><RECORDKEY>100</RECORDKEY><ADVANCEKEY>78</ADVANCEKEY>"
    "<ADVANCEENTRYKEY>202</ADVANCEENTRYKEY><TRX_POSTEDADVANCEAMOUNT>15</TRX_POSTEDADVANCEAMOUNT>"
    "</ARPYMTDETAIL></ARPYMTDETAILS>"
)


def advance_payment(state: str) -> dict[str, Any]:
    (row,) = read_by_query(
        "arpymt",
        f"<arpymt><RECORDNO>3004</RECORDNO><CUSTOMERID>JHC</CUSTOMERID><STATE>{state}</STATE>"
        "<PAYMENTMETHOD>Check</PAYMENTMETHOD><RECEIPTDATE>05/15/2019</RECEIPTDATE>"
        f"<CURRENCY>USD</CURRENCY><TRX_TOTALENTERED>0</TRX_TOTALENTERED>{ADVANCE_DETAIL}</arpymt>",
    )
    return row


def test_posted_payment_applying_an_advance_is_refused_naming_the_detail() -> None:
    """Before: the detail was silently skipped (the advance stayed unapplied in arsync)."""
    with pytest.raises(MappingError) as info:
        mapped("payments", "ARPYMT", advance_payment("Complete"))
    assert info.value.field == "ARPYMTDETAILS.0.TRX_POSTEDADVANCEAMOUNT"
    assert "ADVANCEKEY 78" in info.value.reason and "15.00" in info.value.reason


@pytest.mark.parametrize(
    ("key", "amount"),
    [
        ("OVERPAYMENTKEY", "TRX_POSTEDOVERPAYMENTAMOUNT"),
        ("INLINEKEY", "TRX_INLINEAMOUNT"),
        ("NEGATIVEINVOICEKEY", "TRX_NEGATIVEINVOICEAMOUNT"),
    ],
)
def test_other_documented_credits_are_refused(key: str, amount: str) -> None:
    detail = {"RECORDKEY": "347", key: "348", amount: "33"}
    row: dict[str, Any] = {
        "RECORDNO": "3005",
        "CUSTOMERID": "JHC",
        "STATE": "Complete",
        "CURRENCY": "USD",
    }
    row |= {"TRX_TOTALENTERED": "0", "ARPYMTDETAILS": {"ARPYMTDETAIL": detail}}
    with pytest.raises(MappingError) as info:
        mapped("payments", "ARPYMT", row)
    assert info.value.field == f"ARPYMTDETAILS.0.{amount}"
    assert f"{key} 348" in info.value.reason


def test_draft_payment_applying_an_advance_is_not_cash_and_not_refused() -> None:
    payment = mapped("payments", "ARPYMT", advance_payment("Draft"))
    assert payment.status is PaymentStatus.VOID
    assert payment.applied == []
