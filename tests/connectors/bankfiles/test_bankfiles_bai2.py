"""BAI2: credit details become remittances, 88 text is joined, errors name the line."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from connectors.bankfiles import BankFileFormat, RefKind, parse_bank_bytes, parse_bank_file

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bankfiles"


def test_lockbox_ach_wire_credits_are_read() -> None:
    result = parse_bank_file(FIXTURES / "bai2_lockbox_ach.bai")
    assert result.format is BankFileFormat.BAI2
    assert result.errors == []
    # 8 detail records: the 475 check paid (a debit) is not a remittance
    assert [r.line for r in result.records] == [4, 6, 9, 11, 14, 15, 20]
    lockbox, ach, ctp, wire = result.records[:4]

    assert lockbox.amount == Decimal("4250.00") and lockbox.currency == "USD"
    assert lockbox.bank_reference == "LBX0000123401"
    assert lockbox.end_to_end_id == "0000004711"
    assert lockbox.value_date == date(2026, 11, 19)
    assert lockbox.free_text is not None
    assert "CHECK 4711 NORTHWIND TRADERS REMITTANCE STUB INV-1001" in lockbox.free_text
    assert lockbox.raw.splitlines()[1].startswith("88,REMITTANCE STUB")

    assert ach.payer_name == "GLOBEX CORP"
    assert ach.payer_account == "1234567890"
    assert [(s.kind, s.ref, s.amount_paid) for s in ach.structured_refs] == [
        (RefKind.INVOICE, "INV-1003", Decimal("1875.00"))
    ]
    assert ach.free_text is not None and "RMR" not in ach.free_text

    assert ctp.amount == Decimal("937.50")
    first, second = ctp.structured_refs
    assert (first.invoice_amount, first.discount) == (Decimal("510.00"), Decimal("10.00"))
    assert (second.adjustment, second.adjustment_reason) == (Decimal("-12.50"), "01")

    assert wire.payer_name == "UMBRELLA CORP LTD"
    assert wire.payer_account == "987001234"
    assert wire.value_date == date(2026, 11, 19)  # value-dated funds (V)
    assert wire.free_text == "OBI:INVOICES 1020 AND 1021"


def test_currency_from_group_when_account_has_none_and_implied_decimals() -> None:
    cad = parse_bank_file(FIXTURES / "bai2_lockbox_ach.bai").records[-1]
    assert (cad.amount, cad.currency) == (Decimal("12345.67"), "CAD")


def test_identical_looking_payments_get_distinct_stable_keys() -> None:
    first = parse_bank_file(FIXTURES / "bai2_lockbox_ach.bai").records
    again = parse_bank_file(FIXTURES / "bai2_lockbox_ach.bai").records
    twins = [r for r in first if r.payer_name == "HOOLI INC"]
    assert len(twins) == 2 and twins[0].amount == twins[1].amount
    assert twins[0].dedup_key != twins[1].dedup_key
    assert [r.dedup_key for r in first] == [r.dedup_key for r in again]
    assert len({r.dedup_key for r in first}) == len(first)


def test_bad_detail_records_are_reported_by_line_and_the_rest_kept() -> None:
    result = parse_bank_file(FIXTURES / "bai2_malformed_records.bai")
    assert [r.payer_name for r in result.records] == ["SOYLENT CORP"]
    by_location = {e.location: e for e in result.errors}
    assert set(by_location) == {"line 4", "line 5", "line 8, remittance text"}
    assert "12A50" in by_location["line 4"].reason
    assert "199" in by_location["line 5"].reason
    assert "2X2.00" in by_location["line 8, remittance text"].reason
    assert all(e.file == "bai2_malformed_records.bai" for e in result.errors)
    assert by_location["line 4"].raw.startswith("16,142,12A50")


def test_control_total_mismatch_is_reported_on_the_trailer_line() -> None:
    text = (FIXTURES / "bai2_lockbox_ach.bai").read_text().replace("49,27351250,14/", "49,1,14/")
    result = parse_bank_bytes(text.encode(), "tampered.bai")
    assert len(result.records) == 7
    (error,) = result.errors
    assert error.location == "line 16"
    assert "control total 1" in error.reason


def test_a_file_without_trailers_is_one_error() -> None:
    result = parse_bank_bytes(b"01,x,y,261120,0600,1,,,2/\n16,142,100,0,,,TEXT\n", "cut.bai")
    assert result.records == []
    (error,) = result.errors
    assert error.file == "cut.bai" and "not a readable BAI2 file" in error.reason
