"""NACHA CTX entries whose addenda carry an 820 of a version before 004010, as originators on
older translators still send them: its dates (DTM02) have six digits, YYMMDD."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from connectors.bankfiles import parse_bank_bytes
from connectors.bankfiles.records import RefKind
from tests.connectors.bankfiles.test_bankfiles_nacha_realworld import _ctx, _file, _header
from tests.support.nacha_records import OUR_ACCOUNT


def _820(invoice_date: str) -> str:
    """A bare 820 (ST..SE, '*' elements, '\\' terminators) paying two invoices."""
    segments = [
        "ST*820*0001",
        "BPR*C*2210.00*C*ACH*CTX*01*061000104*DA*44556677*1710415188**01*071000013*DA*"
        f"{OUR_ACCOUNT}*260316",
        "TRN*1*0004410778*1710415188",
        "N1*PR*WAL-MART STORES INC",
        "ENT*1",
        "RMR*IV*7731042**1710.00*1750.00*40.00",
        f"DTM*003*{invoice_date}",
        "RMR*IV*7731043**500.00*500.00",
        "SE*9*0001",
    ]
    return "\\".join(segments) + "\\"


def test_a_ctx_820_of_version_003020_reads_its_six_digit_invoice_date_as_yymmdd() -> None:
    header = _header("CTX", "WAL-MART STORES", "1710415188", "EDI PYMNTS", 1)
    result = parse_bank_bytes(_file([(header, _ctx(_820("260215"), 221000, 60))]).encode(), "a")
    assert result.errors == [] and result.warnings == []
    [credit] = result.records
    assert credit.amount == Decimal("2210.00") and credit.currency == "USD"
    assert credit.value_date == date(2026, 3, 16)
    assert credit.payer_name == "WAL-MART STORES INC"
    first, second = credit.structured_refs
    assert (first.kind, first.ref, first.amount_paid, first.discount) == (
        RefKind.INVOICE,
        "7731042",
        Decimal("1710.00"),
        Decimal("40.00"),
    )
    assert first.document_date == date(2026, 2, 15)
    assert (second.ref, second.amount_paid, second.document_date) == (
        "7731043",
        Decimal("500.00"),
        None,
    )


def test_a_ctx_820_invoice_date_of_seven_digits_is_left_out_naming_the_addenda_and_dtm02() -> None:
    header = _header("CTX", "WAL-MART STORES", "1710415188", "EDI PYMNTS", 1)
    result = parse_bank_bytes(_file([(header, _ctx(_820("2602150"), 221000, 60))]).encode(), "a")
    assert result.errors == []
    [credit] = result.records
    assert credit.amount == Decimal("2210.00")
    assert [r.document_date for r in credit.structured_refs] == [None, None]
    assert [r.amount_paid for r in credit.structured_refs] == [
        Decimal("1710.00"),
        Decimal("500.00"),
    ]
    [warning] = result.warnings
    assert "(addenda)" in warning.location and warning.location.endswith("(DTM), DTM02")
    assert "2602150" in warning.reason
