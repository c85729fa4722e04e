"""X12 820s in the versions payers still send: before 004010 an X12 date (element 373: BPR16,
DTM02) has six digits, YYMMDD; from 004010 on it has eight, CCYYMMDD. Each is read by its
length, so 261015 is 15 October 2026, not 5 January 2610."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from connectors.bankfiles import parse_bank_bytes
from connectors.bankfiles.records import RefKind


def _interchange(version: str, bpr16: str, invoice_date: str) -> bytes:
    """A CTX payment's 820 as a payer's AP system sends it beside the ACH credit."""
    isa = "*".join(
        [
            "ISA",
            "00",
            " " * 10,
            "00",
            " " * 10,
            "ZZ",
            "GLOBEXAP".ljust(15),
            "ZZ",
            "ACMEPARTS".ljust(15),
            "261016",
            "0815",
            "U",
            "00302" if version < "004010" else "00401",
            "000000318",
            "0",
            "P",
            ">",
        ]
    )
    body = [
        f"BPR*C*1480.00*C*ACH*CTX*01*091000019*DA*5550001234*1234567890**01*071000013*DA*"
        f"88120456*{bpr16}",
        "TRN*1*GLX0010318*1234567890",
        "N1*PR*GLOBEX CORPORATION",
        "ENT*1",
        "RMR*IV*INV-2210**1480.00*1500.00*20.00",
        f"DTM*003*{invoice_date}",
    ]
    segments = [
        isa,
        f"GS*RA*GLOBEXAP*ACMEPARTS*261016*0815*318*X*{version}",
        "ST*820*0001",
        *body,
        f"SE*{len(body) + 2}*0001",
        "GE*1*318",
        "IEA*1*000000318",
    ]
    return ("~\r\n".join(segments) + "~\r\n").encode()


def test_six_digit_dates_of_a_version_003020_820_are_yymmdd() -> None:
    result = parse_bank_bytes(_interchange("003020", "261016", "261001"), "globex.edi")
    assert result.errors == [] and result.warnings == []
    [payment] = result.records
    assert payment.amount == Decimal("1480.00") and payment.currency == "USD"
    assert payment.value_date == date(2026, 10, 16)
    assert payment.bank_reference == "GLX0010318" and payment.payer_name == "GLOBEX CORPORATION"
    [invoice] = payment.structured_refs
    assert (invoice.kind, invoice.ref) == (RefKind.INVOICE, "INV-2210")
    assert (invoice.amount_paid, invoice.invoice_amount, invoice.discount) == (
        Decimal("1480.00"),
        Decimal("1500.00"),
        Decimal("20.00"),
    )
    assert invoice.document_date == date(2026, 10, 1)


def test_eight_digit_dates_of_a_version_004010_820_are_ccyymmdd() -> None:
    result = parse_bank_bytes(_interchange("004010", "20261016", "20261001"), "globex.edi")
    assert result.errors == [] and result.warnings == []
    [payment] = result.records
    assert payment.value_date == date(2026, 10, 16)
    assert payment.structured_refs[0].document_date == date(2026, 10, 1)


def test_a_seven_digit_payment_date_is_an_error_naming_bpr16() -> None:
    result = parse_bank_bytes(_interchange("004010", "2026116", "20261001"), "globex.edi")
    assert result.records == []
    [error] = result.errors
    assert error.location.endswith("(BPR), BPR16") and "2026116" in error.reason
