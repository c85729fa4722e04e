"""NACHA CCD+/CTX: credit entries with addenda; CTX addenda read as an 820."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from connectors.bankfiles import BankFileFormat, RefKind, parse_bank_bytes, parse_bank_file

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bankfiles"


def test_ccd_plus_and_ctx_entries() -> None:
    result = parse_bank_file(FIXTURES / "nacha_ccd_ctx.ach")
    assert result.format is BankFileFormat.NACHA
    assert result.errors == []
    # the prenote (23) and the debit (27) are not remittances
    ccd_rmr, ccd_text, ctx = result.records
    assert ccd_rmr.amount == Decimal("1875.00") and ccd_rmr.currency == "USD"
    assert ccd_rmr.payer_name == "GLOBEX CORP"
    assert ccd_rmr.payer_account == "1234567890"
    assert ccd_rmr.bank_reference == "021000020000001"  # trace number
    assert ccd_rmr.end_to_end_id == "GLX-AP-55012"
    assert ccd_rmr.value_date == date(2026, 11, 20)
    assert [(r.kind, r.ref, r.amount_paid) for r in ccd_rmr.structured_refs] == [
        (RefKind.INVOICE, "INV-1003", Decimal("1875.00"))
    ]
    assert ccd_rmr.free_text == "PAYMENT"
    assert ccd_rmr.raw.splitlines()[1].startswith("705RMR*IV*INV-1003")

    assert ccd_text.structured_refs == ()
    assert ccd_text.free_text == "PAYMENT PAYMENT FOR INVOICE 1004 AND 1005 THANK YOU"

    assert ctx.amount == Decimal("937.50")
    assert ctx.payer_name == "INITECH LLC"  # N1*PR from the 820 in the addenda
    assert ctx.line == 11
    assert len(ctx.raw.splitlines()) == 1 + 4  # the entry and its four addenda
    first, second = ctx.structured_refs
    assert (first.ref, first.invoice_amount, first.discount, first.document_date) == (
        "INV-1010",
        Decimal("510.00"),
        Decimal("10.00"),
        date(2026, 10, 15),
    )
    assert (second.ref, second.adjustment, second.adjustment_reason) == (
        "INV-1011",
        Decimal("-12.50"),
        "01",
    )


def test_keys_are_stable_and_distinct() -> None:
    first = parse_bank_file(FIXTURES / "nacha_ccd_ctx.ach").records
    again = parse_bank_file(FIXTURES / "nacha_ccd_ctx.ach").records
    assert [r.dedup_key for r in first] == [r.dedup_key for r in again]
    assert len({r.dedup_key for r in first}) == 3


def test_unbroken_records_without_newlines() -> None:
    lines = (FIXTURES / "nacha_ccd_ctx.ach").read_text().splitlines()
    result = parse_bank_bytes("".join(lines).encode(), "flat.ach")
    assert result.errors == []
    assert [r.amount for r in result.records] == [
        Decimal("1875.00"),
        Decimal("640.00"),
        Decimal("937.50"),
    ]


def test_malformed_records_name_the_line() -> None:
    result = parse_bank_file(FIXTURES / "nacha_malformed.ach")
    assert [r.end_to_end_id for r in result.records] == ["SOY-1"]
    reasons = {e.location: e.reason for e in result.errors}
    assert reasons == {
        "line 5, amount": "not an amount in minor units: '00000X9900'",
        "line 6": "record is 96 characters long, NACHA records are 94",
        "line 8": "addenda record without an entry",
    }


def test_missing_file_header_is_one_error() -> None:
    body = (FIXTURES / "nacha_ccd_ctx.ach").read_text().splitlines()[1:]
    result = parse_bank_bytes("\n".join(body).encode(), "noheader.ach")
    assert result.records == []
    assert [e.location for e in result.errors] == ["file"]  # not recognised as NACHA at all
