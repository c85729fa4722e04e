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
    assert result.errors == [] and result.warnings == []
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


def test_control_total_mismatch_is_a_warning_on_the_trailer_line() -> None:
    text = (FIXTURES / "bai2_lockbox_ach.bai").read_text().replace("49,27351250,14/", "49,1,14/")
    result = parse_bank_bytes(text.encode(), "tampered.bai")
    assert len(result.records) == 7  # every record is kept: it is not an error
    assert result.errors == []
    (warning,) = result.warnings
    assert (warning.file, warning.location) == ("tampered.bai", "line 16")
    assert warning.reason == (
        "account 0012345678 control total 1 (0.01 USD) does not match the sum 27351250 "
        "(273512.50 USD) of the account's amounts (records kept; check the file is complete)"
    )
    assert warning.raw == "49,1,14/"


def test_a_file_without_trailers_is_one_error() -> None:
    result = parse_bank_bytes(b"01,x,y,261120,0600,1,,,2/\n16,142,100,0,,,TEXT\n", "cut.bai")
    assert result.records == []
    (error,) = result.errors
    assert error.file == "cut.bai" and "not a readable BAI2 file" in error.reason


# 03 summaries run on over 88 records (a "/" ends a field before the continuation), use funds
# types V, S and D with their availability fields and end with padding commas; details use
# S with an empty immediate amount, V with a value date and D with two distributions.
_FUNDS_TYPES_FILE = """\
01,071000039,ACMEPARTS,261203,0715,4,,,2/
02,ACMEPARTS,071000039,1,261202,2400,,2/
03,40017733,USD,010,+125000,,,015,+250000,,,/
88,100,1340075,3,V,261202,,400,150000,1,S,100000,50000,0/
88,190,75000,1,D,2,0,50000,1,25000/
16,115,640000,S,,400000,240000,LBX7781,CHK 20417,LOCKBOX DEPOSIT BATCH 3/
16,195,625075,V,261203,0930,FW2612030042,,INCOMING WIRE/
88,B/O: DELTA MARINE SUPPLY INC/
16,142,75000,D,2,0,50000,1,25000,ACH7719,,ORIG CO NAME:BRIGHTWATER LLC ORIG ID:4455667788/
16,475,150000,0,CK000311,311,CHECK PAID/
49,3430150,7/
98,3430150,1,9/
99,3430150,1,11/
"""


def test_summaries_over_88_records_and_distributed_availability() -> None:
    result = parse_bank_bytes(_FUNDS_TYPES_FILE.encode(), "funds_types.bai")
    assert result.errors == [] and result.warnings == []  # the control total reconciles
    lockbox, wire, ach = result.records
    assert (lockbox.amount, lockbox.value_date) == (Decimal("6400.00"), date(2026, 12, 2))
    assert lockbox.bank_reference == "LBX7781" and lockbox.end_to_end_id == "CHK 20417"
    assert lockbox.free_text == "LOCKBOX DEPOSIT BATCH 3"
    assert (wire.amount, wire.value_date) == (Decimal("6250.75"), date(2026, 12, 3))
    assert wire.payer_name == "DELTA MARINE SUPPLY INC"
    assert ach.amount == Decimal("750.00")
    assert (ach.payer_name, ach.payer_account) == ("BRIGHTWATER LLC", "4455667788")


def test_a_wrong_control_total_is_still_reported_with_88_summaries() -> None:
    text = _FUNDS_TYPES_FILE.replace("49,3430150,7/", "49,3430151,7/")
    result = parse_bank_bytes(text.encode(), "off_by_one.bai")
    assert len(result.records) == 3 and result.errors == []
    (warning,) = result.warnings
    assert warning.location == "line 11"
    assert "control total 3430151 (34301.51 USD)" in warning.reason
    assert "sum 3430150 (34301.50 USD)" in warning.reason


def test_records_sharing_a_line_wrapped_lines_and_junk_lines() -> None:
    text = (
        "01,121000358,NORTHWINDCO,261204,2200,7,,,2/ 02,NORTHWINDCO,121000358,1,261204,,USD,2/\n"
        "03,88120456,,010,5000,,,400,,,/\n"
        "16,142,120000,Z,,,ACH CREDIT HARBOR FOODS CCD/ 16,142,4550,Z,,,ACH CREDIT PINE\n"
        "VALLEY CO-OP CCD/\n"
        "16,169,99000,Z,,,ACH CREDIT/ 49,228550,4/\n"
        "GARBLED LINE FROM A BROKEN TRANSFER\n"
        "98,228550,1,7/\n"
        "99,228550,1,9/\n"
    )
    result = parse_bank_bytes(text.encode(), "one_line.bai")
    assert [(r.line, r.amount) for r in result.records] == [
        (3, Decimal("1200.00")),
        (3, Decimal("45.50")),
        (5, Decimal("990.00")),
    ]
    assert result.records[1].free_text == "ACH CREDIT PINE VALLEY CO-OP CCD"
    (error,) = result.errors
    assert (error.file, error.location) == ("one_line.bai", "line 6")
    assert "not a BAI2 record" in error.reason


def test_unreadable_availability_rejects_only_that_detail() -> None:
    text = (
        "01,071000039,ACMEPARTS,261203,0715,5,,,2/\n"
        "02,ACMEPARTS,071000039,1,261202,,USD,2/\n"
        "03,40017733,USD,010,0,,/\n"
        "16,115,50000,S,ABC,1,2,LBX1,,BAD DISTRIBUTION/\n"
        "16,195,70000,V,261340,,FW1,,BAD VALUE DATE/\n"
        "16,142,30000,D,3,0,10000,1,20000,ACH1,,TWO OF THREE DISTRIBUTIONS/\n"
        "16,142,25000,Z,ACH2,,GOOD/\n"
        "49,175000,6/\n"
        "98,175000,1,8/\n"
        "99,175000,1,10/\n"
    )
    result = parse_bank_bytes(text.encode(), "availability.bai")
    assert [r.bank_reference for r in result.records] == ["ACH2"]
    reasons = {e.location: e.reason for e in result.errors}
    assert set(reasons) == {"line 4", "line 5", "line 6"}
    assert reasons["line 4"].startswith("funds type S")
    assert reasons["line 5"].startswith("funds type V")
    assert reasons["line 6"].startswith("funds type D")
    assert all(e.file == "availability.bai" for e in result.errors)


def test_tagged_continuation_records_name_the_payer() -> None:
    text = (
        "01,026015079,ACMEPARTS,261205,0600,1,,,2/\n"
        "02,ACMEPARTS,026015079,1,261204,,USD,2/\n"
        "03,77001234,USD,,,,/\n"
        "16,195,1250000,,FT26120400017,PAYREF-5521,Incoming Wire\n"
        "88,EREF: PAYREF-5521\n"
        "88,DBNM: SEAFARER LOGISTICS GMBH\n"
        "88,DACT: 9930012277\n"
        "88,REMI: INVOICES 4471 4472\n"
        "49,1250000,6/\n"
        "98,1250000,1,8/\n"
        "99,1250000,1,10/\n"
    )
    result = parse_bank_bytes(text.encode(), "tagged.bai")
    assert result.errors == []
    (wire,) = result.records
    assert (wire.payer_name, wire.payer_account) == ("SEAFARER LOGISTICS GMBH", "9930012277")
    assert wire.free_text is not None and "INVOICES 4471 4472" in wire.free_text
