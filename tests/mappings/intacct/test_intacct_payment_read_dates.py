"""The date an Intacct AR payment was received, as readByQuery returns an ARPYMT.

A payment is created with ``PAYMENTDATE`` and ``RECEIPTDATE`` (the day it posts to the GL),
but the ARPYMT object read back has no ``PAYMENTDATE`` field: its header carries
``WHENCREATED``, ``RECEIPTDATE`` and ``WHENPAID`` (the payment date), beside the amounts and
``STATE`` (the object's field list, as integrations generated from its definition list it). The
rows below are shaped as a readByQuery of ARPYMT answers (fields of that list, empty ones as
empty elements, ARPYMTDETAIL rows attached as the payments stream attaches them); the values
are our own.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from canonical.enums import PaymentStatus
from canonical.money import Money
from mappings.base import MappingError
from mappings.intacct import VERSION
from tests.mappings.intacct.test_intacct_documented_shapes import mapped, read_by_query

DETAIL = (
    "<ARPYMTDETAILS><ARPYMTDETAIL><RECORDNO>88</RECORDNO><PAYMENTKEY>3101</PAYMENTKEY>"
    "<RECORDKEY>2051</RECORDKEY><ENTRYKEY></ENTRYKEY><POSADJKEY></POSADJKEY>"
    "<INLINEKEY></INLINEKEY><TRX_INLINEAMOUNT></TRX_INLINEAMOUNT>"
    "<DISCOUNTKEY></DISCOUNTKEY><TRX_DISCOUNTAMOUNT></TRX_DISCOUNTAMOUNT>"
    "<ADVANCEKEY></ADVANCEKEY><TRX_POSTEDADVANCEAMOUNT></TRX_POSTEDADVANCEAMOUNT>"
    "<OVERPAYMENTKEY></OVERPAYMENTKEY><TRX_POSTEDOVERPAYMENTAMOUNT></TRX_POSTEDOVERPAYMENTAMOUNT>"
    "<NEGATIVEINVOICEKEY></NEGATIVEINVOICEKEY><TRX_NEGATIVEINVOICEAMOUNT></TRX_NEGATIVEINVOICEAMOUNT>"
    "<ADJUSTMENTKEY></ADJUSTMENTKEY><TRX_ADJUSTMENTAMOUNT></TRX_ADJUSTMENTAMOUNT>"
    "<PAYMENTAMOUNT>250.00</PAYMENTAMOUNT><TRX_PAYMENTAMOUNT>250.00</TRX_PAYMENTAMOUNT>"
    "<CURRENCY>USD</CURRENCY><STATE>Complete</STATE></ARPYMTDETAIL></ARPYMTDETAILS>"
)


def payment_row(*, receipt: str, paid: str, created: str) -> str:
    return (
        "<arpymt><RECORDNO>3101</RECORDNO><PRBATCHKEY>412</PRBATCHKEY><RECORDTYPE>rp</RECORDTYPE>"
        "<FINANCIALENTITY>BOA-CHK</FINANCIALENTITY><STATE>Complete</STATE>"
        "<PAYMENTMETHOD>Printed Check</PAYMENTMETHOD>"
        "<CUSTOMERID>C-0007</CUSTOMERID><CUSTOMERNAME>Nordwind GmbH</CUSTOMERNAME>"
        "<PAYERNAME>Nordwind GmbH</PAYERNAME><DOCNUMBER>CHK 10442</DOCNUMBER>"
        f"<DESCRIPTION></DESCRIPTION><WHENCREATED>{created}</WHENCREATED>"
        f"<RECEIPTDATE>{receipt}</RECEIPTDATE><WHENPAID>{paid}</WHENPAID>"
        "<BASECURR>USD</BASECURR><CURRENCY>USD</CURRENCY><EXCH_RATE_DATE></EXCH_RATE_DATE>"
        "<TOTALENTERED>250.00</TOTALENTERED><TOTALPAID>250.00</TOTALPAID><TOTALDUE>0</TOTALDUE>"
        "<TRX_TOTALENTERED>250.00</TRX_TOTALENTERED><TRX_TOTALPAID>250.00</TRX_TOTALPAID>"
        "<TRX_TOTALDUE>0</TRX_TOTALDUE><WHENMODIFIED>05/16/2019 18:02:11</WHENMODIFIED>"
        "<CLEARED>false</CLEARED><CLRDATE></CLRDATE><RECORDID></RECORDID>"
        f"{DETAIL}</arpymt>"
    )


def test_a_payment_read_back_is_received_on_its_payment_date_not_its_gl_date() -> None:
    """Paid on the 16th, posted to the GL on the 15th: received on the 16th, as the same
    payment mapped from its create fields (PAYMENTDATE) is. HEAD read RECEIPTDATE: the 15th."""
    (row,) = read_by_query(
        "arpymt", payment_row(receipt="05/15/2019", paid="05/16/2019", created="05/15/2019")
    )
    assert "PAYMENTDATE" not in row
    payment = mapped("payments", "ARPYMT", row)
    assert payment.received_on == date(2019, 5, 16)
    # every other field of the read-back shape maps as before
    assert payment.customer_remote_id == "C-0007"
    assert payment.amount == Money(Decimal("250.00"), "USD")
    assert payment.unapplied == Money(Decimal("0.00"), "USD")
    assert payment.status is PaymentStatus.POSTED
    assert payment.reference == "CHK 10442" and payment.method == "Printed Check"
    assert [(a.target, a.target_remote_id, a.amount) for a in payment.applied] == [
        ("invoice", "2051", Money(Decimal("250.00"), "USD"))
    ]


def test_a_payment_without_a_payment_date_is_received_on_its_receipt_date() -> None:
    """A draft has no WHENPAID yet: the receipt date stands in, as before."""
    body = payment_row(receipt="05/15/2019", paid="", created="05/15/2019")
    body = body.replace(
        "<STATE>Complete</STATE><PAYMENTMETHOD>", "<STATE>Draft</STATE><PAYMENTMETHOD>"
    )
    (row,) = read_by_query("arpymt", body)
    payment = mapped("payments", "ARPYMT", row)
    assert payment.received_on == date(2019, 5, 15)
    assert payment.status is PaymentStatus.VOID and payment.unapplied.is_zero()


def test_a_create_shaped_payment_date_still_wins() -> None:
    """PAYMENTDATE, where a record carries it (the create shape), is still the date."""
    body = payment_row(receipt="05/15/2019", paid="05/17/2019", created="05/15/2019").replace(
        "<RECEIPTDATE>", "<PAYMENTDATE>05/16/2019</PAYMENTDATE><RECEIPTDATE>"
    )
    (row,) = read_by_query("arpymt", body)
    assert mapped("payments", "ARPYMT", row).received_on == date(2019, 5, 16)


def test_the_mapping_version_says_stored_payments_map_differently() -> None:
    assert VERSION >= 12


def test_a_foreign_currency_detail_with_a_zero_base_adjustment_takes_no_credit() -> None:
    """A EUR payment's detail whose base-currency ADJUSTMENTAMOUNT is 0 and whose
    TRX_ADJUSTMENTAMOUNT is empty takes no credit: zero is zero in any currency (HEAD refused
    the payment: TRX_ADJUSTMENTAMOUNT missing). A non-zero base amount is still refused."""
    body = payment_row(receipt="05/15/2019", paid="05/16/2019", created="05/15/2019")
    body = body.replace("<CURRENCY>USD</CURRENCY><EXCH", "<CURRENCY>EUR</CURRENCY><EXCH")
    body = body.replace("<CURRENCY>USD</CURRENCY><STATE>", "<CURRENCY>EUR</CURRENCY><STATE>")
    body = body.replace(
        "<TRX_ADJUSTMENTAMOUNT></TRX_ADJUSTMENTAMOUNT>",
        "<ADJUSTMENTAMOUNT>0</ADJUSTMENTAMOUNT><TRX_ADJUSTMENTAMOUNT></TRX_ADJUSTMENTAMOUNT>",
    )
    (row,) = read_by_query("arpymt", body)
    payment = mapped("payments", "ARPYMT", row)
    assert [(a.target, a.target_remote_id, a.amount) for a in payment.applied] == [
        ("invoice", "2051", Money(Decimal("250.00"), "EUR"))
    ]
    (row,) = read_by_query(
        "arpymt",
        body.replace(
            "<ADJUSTMENTAMOUNT>0</ADJUSTMENTAMOUNT>", "<ADJUSTMENTAMOUNT>5.00</ADJUSTMENTAMOUNT>"
        ).replace("<ADJUSTMENTKEY></ADJUSTMENTKEY>", "<ADJUSTMENTKEY>77</ADJUSTMENTKEY>"),
    )
    with pytest.raises(MappingError) as refused:
        mapped("payments", "ARPYMT", row)
    assert "TRX_ADJUSTMENTAMOUNT" in refused.value.field
