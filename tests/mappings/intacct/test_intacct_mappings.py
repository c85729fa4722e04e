"""Intacct payloads, shaped as readByQuery returns them (strings), -> canonical records."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from canonical.enums import CustomerStatus, DocumentStatus, PaymentStatus
from canonical.money import Money
from canonical.records import InvoiceIn
from connectors.base import RawRecord
from connectors.intacct.xmlwire import parse, to_dict
from mappings.base import MappingContext, MappingError
from mappings.intacct import MAPPERS
from mappings.intacct import credit_memo as credit_memo_map
from mappings.intacct import customer as customer_map
from mappings.intacct import invoice as invoice_map
from mappings.intacct import payment as payment_map

CTX = MappingContext(system="intacct", home_currency="USD")
STAMP = datetime(2026, 3, 2, 17, 4, 5, tzinfo=UTC)

CUSTOMER_XML = b"""<CUSTOMER>
  <RECORDNO>12</RECORDNO><CUSTOMERID>C-00012</CUSTOMERID><NAME>Acme Foods</NAME>
  <STATUS>active</STATUS><ONHOLD>true</ONHOLD><CURRENCY>EUR</CURRENCY><TAXID>DE123</TAXID>
  <DISPLAYCONTACT><CONTACTNAME>Acme Foods (C-00012)</CONTACTNAME>
    <EMAIL1>ap@acme.example.com</EMAIL1></DISPLAYCONTACT>
  <WHENMODIFIED>03/02/2026 09:04:05</WHENMODIFIED>
</CUSTOMER>"""

INVOICE: dict[str, Any] = {
    "RECORDNO": "7001",
    "RECORDID": "INV1042",
    "CUSTOMERID": "C-00012",
    "DOCNUMBER": "PO-55120",
    "DESCRIPTION": "March services",
    "WHENCREATED": "03/01/2026",
    "WHENDUE": "03/31/2026",
    "STATE": "Partially Paid",
    "CURRENCY": "EUR",
    "BASECURR": "USD",
    "TRX_TOTALENTERED": "1000.00",
    "TRX_TOTALPAID": "400.00",
    "TRX_TOTALDUE": "600.00",
    "TOTALENTERED": "1080.00",
    "TOTALPAID": "432.00",
    "TOTALDUE": "648.00",
    "WHENMODIFIED": "03/02/2026 09:04:05",
}

ADJUSTMENT: dict[str, Any] = {
    "RECORDNO": "7002",
    "RECORDID": "ADJ5003",
    "CUSTOMERID": "C-00012",
    "DOCNUMBER": "PO-55120",
    "WHENCREATED": "03/05/2026",
    "STATE": "Posted",
    "CURRENCY": "USD",
    "TRX_TOTALENTERED": "-50.00",
    "TRX_TOTALDUE": "-50.00",
}

PAYMENT: dict[str, Any] = {
    "RECORDNO": "7003",
    "CUSTOMERID": "C-00012",
    "PAYMENTMETHOD": "Printed Check",
    "DOCNUMBER": "104233",
    "PAYMENTDATE": "03/10/2026",
    "STATE": "Posted",
    "CURRENCY": "USD",
    "TRX_TOTALENTERED": "450.00",
    "ARPYMTDETAILS": [
        {
            "RECORDNO": "1",
            "PAYMENTKEY": "7003",
            "RECORDKEY": "7001",
            "TRX_PAYMENTAMOUNT": "400.00",
            "ADJUSTMENTKEY": "7002",
            "TRX_ADJUSTMENTAMOUNT": "50.00",
        }
    ],
}


def raw(stream: str, object_type: str, payload: dict[str, Any], remote_id: str) -> RawRecord:
    return RawRecord(stream, object_type, remote_id, payload, modified_at=STAMP)


def test_customer_from_the_wire() -> None:
    payload = to_dict(parse(CUSTOMER_XML))
    customer = customer_map.to_canonical(raw("customers", "CUSTOMER", payload, "C-00012"), CTX)
    assert customer.model_dump(include={"remote_id", "number", "name", "email", "currency"}) == {
        "remote_id": "C-00012",
        "number": "C-00012",
        "name": "Acme Foods",
        "email": "ap@acme.example.com",
        "currency": "EUR",
    }
    assert customer.status is CustomerStatus.ACTIVE
    assert customer.credit_hold is True
    assert customer.modified_at == STAMP


def test_inactive_customer_and_missing_name() -> None:
    inactive = customer_map.to_canonical(
        raw(
            "customers", "CUSTOMER", {"CUSTOMERID": "C-1", "NAME": "X", "STATUS": "inactive"}, "C-1"
        ),
        CTX,
    )
    assert inactive.status is CustomerStatus.INACTIVE
    with pytest.raises(MappingError) as caught:
        customer_map.to_canonical(raw("customers", "CUSTOMER", {"NAME": ""}, "C-1"), CTX)
    assert caught.value.field == "NAME"


def test_invoice_uses_document_currency_amounts() -> None:
    invoice = invoice_map.to_canonical(raw("invoices", "ARINVOICE", INVOICE, "7001"), CTX)
    assert invoice.number == "INV1042"
    assert invoice.customer_remote_id == "C-00012"
    assert invoice.total == Money(Decimal("1000.00"), "EUR")
    assert invoice.balance == Money(Decimal("600.00"), "EUR")
    assert invoice.issue_date == date(2026, 3, 1)
    assert invoice.due_date == date(2026, 3, 31)
    assert invoice.status is DocumentStatus.OPEN
    assert invoice.po_number == "PO-55120"


def test_invoice_without_multicurrency_uses_base_amounts() -> None:
    plain = {k: v for k, v in INVOICE.items() if not k.startswith("TRX_") and k != "CURRENCY"} | {
        "STATE": "Paid",
        "TOTALDUE": "0.00",
    }
    invoice = invoice_map.to_canonical(raw("invoices", "ARINVOICE", plain, "7001"), CTX)
    assert invoice.total == Money(Decimal("1080.00"), "USD")
    assert invoice.status is DocumentStatus.PAID


def test_reversed_invoice_is_void_and_kept() -> None:
    reversed_ = INVOICE | {"STATE": "Reversed", "TRX_TOTALDUE": "0.00"}
    invoice = invoice_map.to_canonical(raw("invoices", "ARINVOICE", reversed_, "7001"), CTX)
    assert invoice.status is DocumentStatus.VOID
    assert not invoice.deleted


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"TRX_TOTALENTERED": "1O0.00"}, "TRX_TOTALENTERED"),
        ({"CUSTOMERID": ""}, "CUSTOMERID"),
        ({"WHENDUE": "2026-31-03x"}, "WHENDUE"),
    ],
)
def test_bad_invoice_values_name_the_field(changes: dict[str, str], field: str) -> None:
    with pytest.raises(MappingError) as caught:
        invoice_map.to_canonical(raw("invoices", "ARINVOICE", INVOICE | changes, "7001"), CTX)
    assert caught.value.field == field


@pytest.mark.parametrize("stream", ["customers", "invoices", "credit_memos", "payments"])
def test_deleted_record_from_the_audit_trail_maps_with_its_key_only(stream: str) -> None:
    audit = {"OBJECTTYPE": "arinvoice", "OBJECTKEY": "7001", "ACCESSMODE": "D"}
    record = RawRecord(stream, "ARINVOICE", "7001", audit, modified_at=STAMP, deleted=True)
    mapped = MAPPERS[stream](record, CTX)
    assert mapped.deleted and mapped.remote_id == "7001"


def test_credit_adjustment_totals_are_magnitudes() -> None:
    memo = credit_memo_map.to_canonical(
        raw("credit_memos", "ARADJUSTMENT", ADJUSTMENT, "7002"), CTX
    )
    assert memo.number == "ADJ5003"
    assert memo.total == Money(Decimal("50.00"), "USD")
    assert memo.balance == Money(Decimal("50.00"), "USD")
    assert memo.status is DocumentStatus.OPEN
    assert memo.reference == "PO-55120"


def test_payment_with_cash_and_credit_on_one_invoice() -> None:
    payment = payment_map.to_canonical(raw("payments", "ARPYMT", PAYMENT, "7003"), CTX)
    applied = [(a.target, a.target_remote_id, a.amount.amount) for a in payment.applied]
    assert applied == [
        ("invoice", "7001", Decimal("50.00")),
        ("credit_memo", "7002", Decimal("50.00")),
        ("invoice", "7001", Decimal("400.00")),
    ]
    assert payment.amount == Money(Decimal("450.00"), "USD")
    assert payment.unapplied == Money(Decimal("50.00"), "USD")
    assert payment.received_on == date(2026, 3, 10)
    assert payment.method == "Printed Check"
    assert payment.status is PaymentStatus.POSTED


def test_voided_payment_and_bad_detail_amount() -> None:
    voided = payment_map.to_canonical(
        raw("payments", "ARPYMT", PAYMENT | {"STATE": "Voided"}, "7003"), CTX
    )
    assert voided.status is PaymentStatus.VOID
    broken = PAYMENT | {
        "ARPYMTDETAILS": [{"RECORDKEY": "7001", "TRX_PAYMENTAMOUNT": "four hundred"}]
    }
    with pytest.raises(MappingError) as caught:
        payment_map.to_canonical(raw("payments", "ARPYMT", broken, "7003"), CTX)
    assert caught.value.field == "ARPYMTDETAILS.0.TRX_PAYMENTAMOUNT"
    orphan = PAYMENT | {"ARPYMTDETAILS": [{"TRX_PAYMENTAMOUNT": "10.00"}]}
    with pytest.raises(MappingError) as caught:
        payment_map.to_canonical(raw("payments", "ARPYMT", orphan, "7003"), CTX)
    assert caught.value.field == "ARPYMTDETAILS.0.RECORDKEY"


def test_invoice_terms_and_the_systems_own_discount_date() -> None:
    termed = INVOICE | {"TERMNAME": "2/10 Net 30", "WHENDISCOUNT": "03/12/2026"}
    invoice = invoice_map.to_canonical(raw("invoices", "ARINVOICE", termed, "7001"), CTX)
    assert (invoice.terms, invoice.discount_basis_points) == ("2/10 Net 30", 200)
    assert invoice.discount_until == date(2026, 3, 12)  # WHENDISCOUNT wins over 03/01 + 10
    net = invoice_map.to_canonical(
        raw("invoices", "ARINVOICE", INVOICE | {"TERMNAME": "Net 30"}, "7001"), CTX
    )
    assert (net.terms, net.discount_basis_points, net.discount_until) == ("Net 30", None, None)


PAYMENT_XML = b"""<arpymt>
  <RECORDNO>8120</RECORDNO><STATE>Complete</STATE><PAYMENTMETHOD>EFT</PAYMENTMETHOD>
  <CUSTOMERID>C-00031</CUSTOMERID><DOCNUMBER>EFT-5521</DOCNUMBER><DESCRIPTION/>
  <RECEIPTDATE>04/18/2026</RECEIPTDATE><BASECURR>USD</BASECURR><CURRENCY>USD</CURRENCY>
  <TOTALENTERED>180.00</TOTALENTERED><TRX_TOTALENTERED>180.00</TRX_TOTALENTERED>
  <ARPYMTDETAILS>
    <ARPYMTDETAIL><PAYMENTKEY>8120</PAYMENTKEY><RECORDKEY>8101</RECORDKEY>
      <TRX_PAYMENTAMOUNT>120.00</TRX_PAYMENTAMOUNT></ARPYMTDETAIL>
    <ARPYMTDETAIL><PAYMENTKEY>8120</PAYMENTKEY><RECORDKEY>8101</RECORDKEY>
      <ADJUSTMENTKEY>8105</ADJUSTMENTKEY><TRX_ADJUSTMENTAMOUNT>15.00</TRX_ADJUSTMENTAMOUNT>
      <TRX_PAYMENTAMOUNT/></ARPYMTDETAIL>
    <ARPYMTDETAIL><PAYMENTKEY>8120</PAYMENTKEY><POSADJKEY>8107</POSADJKEY>
      <TRX_PAYMENTAMOUNT>40.00</TRX_PAYMENTAMOUNT></ARPYMTDETAIL>
  </ARPYMTDETAILS>
</arpymt>"""


def test_payment_details_in_the_xml_shape() -> None:
    payload = to_dict(parse(PAYMENT_XML))
    result = payment_map.to_canonical(raw("payments", "ARPYMT", payload, "8120"), CTX)
    applied = [(a.target, a.target_remote_id, a.amount) for a in result.applied]
    assert applied == [
        ("invoice", "8101", Money("15.00", "USD")),
        ("credit_memo", "8105", Money("15.00", "USD")),
        ("invoice", "8101", Money("120.00", "USD")),
        ("invoice", "8107", Money("40.00", "USD")),  # POSADJKEY: the debit memo it pays
    ]
    assert result.unapplied == Money("20.00", "USD")


def test_single_payment_detail_in_the_xml_shape() -> None:
    payload = to_dict(
        parse(
            b"<arpymt><RECORDNO>8121</RECORDNO><CUSTOMERID>C-00031</CUSTOMERID>"
            b"<CURRENCY>USD</CURRENCY><TRX_TOTALENTERED>99.95</TRX_TOTALENTERED>"
            b"<ARPYMTDETAILS><ARPYMTDETAIL><RECORDKEY>8102</RECORDKEY>"
            b"<TRX_PAYMENTAMOUNT>99.95</TRX_PAYMENTAMOUNT></ARPYMTDETAIL></ARPYMTDETAILS>"
            b"</arpymt>"
        )
    )
    result = payment_map.to_canonical(raw("payments", "ARPYMT", payload, "8121"), CTX)
    assert [(a.target_remote_id, a.amount) for a in result.applied] == [
        ("8102", Money("99.95", "USD"))
    ]
    assert result.unapplied == Money("0", "USD")


def test_reversed_invoice_owes_nothing() -> None:
    payload = {
        "RECORDNO": "8130",
        "RECORDID": "INV-8130",
        "STATE": "Reversed",
        "CUSTOMERID": "C-00031",
        "WHENCREATED": "04/02/2026",
        "CURRENCY": "USD",
        "TOTALENTERED": "310.00",
        "TOTALDUE": "310.00",
        "TRX_TOTALENTERED": "310.00",
        "TRX_TOTALDUE": "310.00",
    }
    result = invoice_map.to_canonical(raw("invoices", "ARINVOICE", payload, "8130"), CTX)
    assert result.status is DocumentStatus.VOID
    assert result.total == Money("310.00", "USD") and result.balance == Money("0", "USD")


# AR adjustments: credit memo or debit memo ------------------------------------------------------
# The XML API has no adjustment-type field: a credit memo's amounts are negative, a debit memo's
# (which raises what the customer owes) positive; a Reversal entry has the opposite sign of the
# document it reverses.

DEBIT_MEMO_XML = b"""<aradjustment>
  <RECORDNO>7010</RECORDNO><RECORDID>ADJ5010</RECORDID><CUSTOMERID>C-00012</CUSTOMERID>
  <DOCNUMBER>FREIGHT-APR</DOCNUMBER><DESCRIPTION>Freight not charged on INV1042</DESCRIPTION>
  <WHENCREATED>04/03/2026</WHENCREATED><STATE>Posted</STATE>
  <BASECURR>USD</BASECURR><CURRENCY>USD</CURRENCY>
  <TOTALENTERED>75.00</TOTALENTERED><TOTALPAID>0</TOTALPAID><TOTALDUE>75.00</TOTALDUE>
  <TRX_TOTALENTERED>75.00</TRX_TOTALENTERED><TRX_TOTALPAID>0</TRX_TOTALPAID>
  <TRX_TOTALDUE>75.00</TRX_TOTALDUE>
  <WHENMODIFIED>04/03/2026 10:12:00</WHENMODIFIED>
</aradjustment>"""


def test_debit_memo_is_refused_as_credit_naming_its_total() -> None:
    payload = to_dict(parse(DEBIT_MEMO_XML))
    with pytest.raises(MappingError) as caught:
        credit_memo_map.to_canonical(raw("credit_memos", "ARADJUSTMENT", payload, "7010"), CTX)
    assert caught.value.field == "TRX_TOTALENTERED"
    assert "debit memo" in caught.value.reason and "75.00 USD" in caught.value.reason


def test_debit_memo_without_multicurrency_names_the_base_total() -> None:
    plain = {
        k: v
        for k, v in to_dict(parse(DEBIT_MEMO_XML)).items()
        if not str(k).startswith("TRX_") and k != "CURRENCY"
    }
    with pytest.raises(MappingError) as caught:
        credit_memo_map.to_canonical(raw("credit_memos", "ARADJUSTMENT", plain, "7010"), CTX)
    assert caught.value.field == "TOTALENTERED"


@pytest.mark.parametrize("state", ["Posted", "Partially Paid", "Paid", "Draft", "Reversed"])
def test_a_debit_memo_is_never_a_credit_memo_whatever_its_state(state: str) -> None:
    payload = to_dict(parse(DEBIT_MEMO_XML)) | {"STATE": state}
    with pytest.raises(MappingError, match="debit memo"):
        credit_memo_map.to_canonical(raw("credit_memos", "ARADJUSTMENT", payload, "7010"), CTX)


def test_reversal_entries_take_the_type_of_what_they_reverse() -> None:
    # the Reversal of a credit memo carries a positive total: still a credit memo, void, no credit
    reversal = ADJUSTMENT | {
        "STATE": "Reversal",
        "TRX_TOTALENTERED": "50.00",
        "TRX_TOTALDUE": "0.00",
    }
    memo = credit_memo_map.to_canonical(raw("credit_memos", "ARADJUSTMENT", reversal, "7011"), CTX)
    assert memo.status is DocumentStatus.VOID
    assert memo.total == Money("50.00", "USD") and memo.balance.is_zero()
    # the Reversal of a debit memo carries a negative total: a debit memo, refused
    debit_reversal = to_dict(parse(DEBIT_MEMO_XML)) | {
        "STATE": "Reversal",
        "TRX_TOTALENTERED": "-75.00",
        "TRX_TOTALDUE": "0",
    }
    with pytest.raises(MappingError, match="debit memo"):
        credit_memo_map.to_canonical(
            raw("credit_memos", "ARADJUSTMENT", debit_reversal, "7012"), CTX
        )


def test_credit_memo_in_the_xml_shape_is_still_a_credit_memo() -> None:
    payload = to_dict(
        parse(
            DEBIT_MEMO_XML.replace(b">75.00<", b">-75.00<").replace(
                b"<TRX_TOTALDUE>-75.00", b"<TRX_TOTALDUE>-25.00"
            )
        )
    )
    memo = credit_memo_map.to_canonical(raw("credit_memos", "ARADJUSTMENT", payload, "7010"), CTX)
    assert memo.total == Money("75.00", "USD") and memo.balance == Money("25.00", "USD")
    assert memo.status is DocumentStatus.OPEN


# payment STATE Draft: saved, not posted, no cash moved ------------------------------------------

DRAFT_PAYMENT_XML = b"""<arpymt>
  <RECORDNO>8140</RECORDNO><STATE>Draft</STATE><PAYMENTMETHOD>Printed Check</PAYMENTMETHOD>
  <CUSTOMERID>C-00031</CUSTOMERID><DOCNUMBER>10455</DOCNUMBER><DESCRIPTION/>
  <PAYMENTDATE>04/20/2026</PAYMENTDATE><RECEIPTDATE>04/20/2026</RECEIPTDATE>
  <BASECURR>USD</BASECURR><CURRENCY>USD</CURRENCY>
  <TOTALENTERED>250.00</TOTALENTERED><TRX_TOTALENTERED>250.00</TRX_TOTALENTERED>
  <ARPYMTDETAILS>
    <ARPYMTDETAIL><PAYMENTKEY>8140</PAYMENTKEY><RECORDKEY>8101</RECORDKEY>
      <TRX_PAYMENTAMOUNT>200.00</TRX_PAYMENTAMOUNT></ARPYMTDETAIL>
  </ARPYMTDETAILS>
</arpymt>"""


def test_draft_payment_is_not_cash() -> None:
    payload = to_dict(parse(DRAFT_PAYMENT_XML))
    draft = payment_map.to_canonical(raw("payments", "ARPYMT", payload, "8140"), CTX)
    assert draft.status is PaymentStatus.VOID  # the canonical status that is not cash
    assert draft.unapplied == Money("0", "USD")  # nothing moved: not even unapplied cash
    assert draft.amount == Money("250.00", "USD")
    # what it would apply is kept; the store records it as reversed, never as applied cash
    assert [(a.target_remote_id, a.amount) for a in draft.applied] == [
        ("8101", Money("200.00", "USD"))
    ]
    posted = payment_map.to_canonical(
        raw("payments", "ARPYMT", payload | {"STATE": "Posted"}, "8140"), CTX
    )
    assert posted.status is PaymentStatus.POSTED
    assert posted.unapplied == Money("50.00", "USD")


@pytest.mark.parametrize("state", ["Posted", "Complete", "Paid", "Partially Paid", ""])
def test_other_payment_states_are_posted(state: str) -> None:
    payload = to_dict(parse(DRAFT_PAYMENT_XML)) | {"STATE": state}
    result = payment_map.to_canonical(raw("payments", "ARPYMT", payload, "8140"), CTX)
    assert result.status is PaymentStatus.POSTED


# amounts finer than the currency's minor unit ------------------------------------------------


@pytest.mark.parametrize(
    ("wire", "expected"),
    [("1000.005", "1000.00"), ("1000.015", "1000.02"), ("1000.0049", "1000.00"), ("600", "600")],
)
def test_sub_cent_amounts_are_rounded_half_even(wire: str, expected: str) -> None:
    payload = INVOICE | {"TRX_TOTALENTERED": wire, "TRX_TOTALDUE": wire}
    invoice = invoice_map.to_canonical(raw("invoices", "ARINVOICE", payload, "7001"), CTX)
    assert invoice.total == Money(expected, "EUR") and invoice.balance == Money(expected, "EUR")


def test_zero_decimal_currency_rounds_to_whole_units() -> None:
    payload = INVOICE | {"CURRENCY": "JPY", "TRX_TOTALENTERED": "1250.5", "TRX_TOTALDUE": "1251.5"}
    invoice = invoice_map.to_canonical(raw("invoices", "ARINVOICE", payload, "7001"), CTX)
    assert (invoice.total, invoice.balance) == (Money("1250", "JPY"), Money("1252", "JPY"))


def test_payment_detail_amount_is_rounded_and_a_bad_one_still_named() -> None:
    payload = to_dict(parse(DRAFT_PAYMENT_XML)) | {"STATE": "Posted"}
    payload["ARPYMTDETAILS"]["ARPYMTDETAIL"]["TRX_PAYMENTAMOUNT"] = "199.995"
    result = payment_map.to_canonical(raw("payments", "ARPYMT", payload, "8140"), CTX)
    assert result.applied[0].amount == Money("200.00", "USD")
    payload["ARPYMTDETAILS"]["ARPYMTDETAIL"]["TRX_PAYMENTAMOUNT"] = "1.2.3"
    with pytest.raises(MappingError) as caught:
        payment_map.to_canonical(raw("payments", "ARPYMT", payload, "8140"), CTX)
    assert caught.value.field == "ARPYMTDETAILS.0.TRX_PAYMENTAMOUNT"


# debit memos: receivables, read by the invoices stream and mapped as invoices ------------------


def debit_memo(payload: dict[str, Any], remote_id: str = "7010") -> Any:
    return invoice_map.to_canonical(raw("invoices", "ARADJUSTMENT", payload, remote_id), CTX)


def test_debit_memo_maps_to_an_invoice() -> None:
    payload = to_dict(parse(DEBIT_MEMO_XML)) | {"WHENDUE": "04/18/2026"}
    result = MAPPERS["invoices"](raw("invoices", "ARADJUSTMENT", payload, "7010"), CTX)
    assert isinstance(result, InvoiceIn)
    assert result.object_type == "ARADJUSTMENT" and result.remote_id == "7010"
    assert (result.number, result.customer_remote_id) == ("ADJ5010", "C-00012")
    assert result.total == Money("75.00", "USD") and result.balance == Money("75.00", "USD")
    assert (result.issue_date, result.due_date) == (date(2026, 4, 3), date(2026, 4, 18))
    assert result.status is DocumentStatus.OPEN
    assert result.po_number == "FREIGHT-APR"
    assert result.memo == "Freight not charged on INV1042"


def test_debit_memo_without_multicurrency_uses_base_amounts() -> None:
    plain = {
        k: v
        for k, v in to_dict(parse(DEBIT_MEMO_XML)).items()
        if not str(k).startswith("TRX_") and k != "CURRENCY"
    }
    result = debit_memo(plain | {"TOTALDUE": "25.00", "STATE": "Partially Paid"})
    assert result.total == Money("75.00", "USD") and result.balance == Money("25.00", "USD")
    assert result.status is DocumentStatus.OPEN and result.due_date is None


def test_paid_debit_memo_is_paid() -> None:
    paid = to_dict(parse(DEBIT_MEMO_XML)) | {"STATE": "Paid", "TRX_TOTALDUE": "0.00"}
    assert debit_memo(paid).status is DocumentStatus.PAID


def test_reversed_debit_memo_and_its_reversal_entry_are_void() -> None:
    reversed_memo = to_dict(parse(DEBIT_MEMO_XML)) | {"STATE": "Reversed"}
    result = debit_memo(reversed_memo)
    assert result.status is DocumentStatus.VOID
    assert result.total == Money("75.00", "USD") and result.balance.is_zero()
    entry = to_dict(parse(DEBIT_MEMO_XML)) | {
        "STATE": "Reversal",
        "RECORDNO": "7013",
        "TRX_TOTALENTERED": "-75.00",
        "TRX_TOTALDUE": "0",
    }
    cancelled = debit_memo(entry, "7013")
    assert cancelled.status is DocumentStatus.VOID
    assert cancelled.total == Money("75.00", "USD") and cancelled.balance.is_zero()


@pytest.mark.parametrize(
    ("state", "total"), [("Posted", "-75.00"), ("Reversal", "75.00"), ("Paid", "0.00")]
)
def test_a_credit_memo_is_never_an_invoice(state: str, total: str) -> None:
    payload = to_dict(parse(DEBIT_MEMO_XML)) | {"STATE": state, "TRX_TOTALENTERED": total}
    with pytest.raises(MappingError) as caught:
        debit_memo(payload)
    assert caught.value.field == "TRX_TOTALENTERED" and "credit memo" in caught.value.reason


def test_deleted_debit_memo_maps_with_its_key_only() -> None:
    gone = RawRecord(
        "invoices", "ARADJUSTMENT", "7010", {"OBJECTKEY": "7010"}, modified_at=STAMP, deleted=True
    )
    result = invoice_map.to_canonical(gone, CTX)
    assert result.deleted and result.status is DocumentStatus.DELETED


DEBIT_MEMO_PAYMENT_XML = b"""<arpymt>
  <RECORDNO>8150</RECORDNO><STATE>Posted</STATE><PAYMENTMETHOD>EFT</PAYMENTMETHOD>
  <CUSTOMERID>C-00012</CUSTOMERID><DOCNUMBER>EFT-7781</DOCNUMBER>
  <RECEIPTDATE>04/21/2026</RECEIPTDATE><BASECURR>USD</BASECURR><CURRENCY>USD</CURRENCY>
  <TOTALENTERED>65.00</TOTALENTERED><TRX_TOTALENTERED>65.00</TRX_TOTALENTERED>
  <ARPYMTDETAILS>
    <ARPYMTDETAIL><PAYMENTKEY>8150</PAYMENTKEY><RECORDKEY/><POSADJKEY>7010</POSADJKEY>
      <POSADJENTRYKEY>7011</POSADJENTRYKEY><TRX_PAYMENTAMOUNT>65.00</TRX_PAYMENTAMOUNT>
    </ARPYMTDETAIL>
    <ARPYMTDETAIL><PAYMENTKEY>8150</PAYMENTKEY><POSADJKEY>7010</POSADJKEY>
      <ADJUSTMENTKEY>7002</ADJUSTMENTKEY><TRX_ADJUSTMENTAMOUNT>10.00</TRX_ADJUSTMENTAMOUNT>
    </ARPYMTDETAIL>
  </ARPYMTDETAILS>
</arpymt>"""


def test_payment_of_a_debit_memo_applies_cash_and_credit_to_it() -> None:
    payload = to_dict(parse(DEBIT_MEMO_PAYMENT_XML))
    result = payment_map.to_canonical(raw("payments", "ARPYMT", payload, "8150"), CTX)
    assert [(a.target, a.target_remote_id, a.amount) for a in result.applied] == [
        ("invoice", "7010", Money("10.00", "USD")),
        ("credit_memo", "7002", Money("10.00", "USD")),
        ("invoice", "7010", Money("65.00", "USD")),
    ]
    assert result.unapplied is not None
    assert result.unapplied.is_zero()


def test_detail_naming_neither_an_invoice_nor_a_debit_memo_is_refused() -> None:
    payload = PAYMENT | {
        "ARPYMTDETAILS": [{"RECORDKEY": "", "POSADJKEY": "", "TRX_PAYMENTAMOUNT": "5.00"}]
    }
    with pytest.raises(MappingError) as caught:
        payment_map.to_canonical(raw("payments", "ARPYMT", payload, "7003"), CTX)
    assert caught.value.field == "ARPYMTDETAILS.0.RECORDKEY"


def test_a_negative_invoice_is_credit_refused_never_an_open_invoice() -> None:
    negative = INVOICE | {
        "STATE": "Posted",
        "TRX_TOTALENTERED": "-250.00",
        "TRX_TOTALPAID": "0",
        "TRX_TOTALDUE": "-250.00",
        "TOTALENTERED": "-270.00",
        "TOTALDUE": "-270.00",
    }
    with pytest.raises(MappingError) as caught:
        invoice_map.to_canonical(raw("invoices", "ARINVOICE", negative, "7020"), CTX)
    assert caught.value.field == "TRX_TOTALENTERED"
    assert "-250.00 EUR" in caught.value.reason and "credit" in caught.value.reason
    # the Reversal entry of a reversed invoice is negative too: void, not refused
    reversal = negative | {"STATE": "Reversal"}
    mapped = invoice_map.to_canonical(raw("invoices", "ARINVOICE", reversal, "7021"), CTX)
    assert mapped.status is DocumentStatus.VOID and mapped.balance.is_zero()
