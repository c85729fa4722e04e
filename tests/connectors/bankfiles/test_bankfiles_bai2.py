"""BAI2: credit details become remittances, 88 text is joined, errors name the line."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

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


def test_implied_decimals_are_iso_4217_minor_units() -> None:
    """HUF 123450 is 1234.50 forints (ISO 4217: 2 decimals), JPY 5000 is 5000 yen."""
    text = (
        "01,x,y,261120,0600,1,,,2/\n02,y,x,1,261119,2400,,2/\n"
        "03,111,HUF,010,0,,/\n16,195,123450,0,,,WIRE/\n49,123450,2/\n"
        "03,222,JPY,010,0,,/\n16,195,5000,0,,,WIRE/\n49,5000,2/\n"
        "98,128450,2,8/\n99,128450,1,10/\n"
    )
    result = parse_bank_bytes(text.encode(), "iso.bai")
    assert result.errors == [] and result.warnings == []
    assert [(r.amount, r.currency) for r in result.records] == [
        (Decimal("1234.50"), "HUF"),
        (Decimal("5000"), "JPY"),
    ]


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
    # the credit whose payer-written RMR text is bad is kept (the bank's amount stands), its
    # detail left out and its text kept; only the records whose bank fields are bad are errors
    assert [r.payer_name for r in result.records] == ["SOYLENT CORP", "BAD REMIT CO"]
    by_location = {e.location: e for e in result.errors}
    assert set(by_location) == {"line 4", "line 5"}
    assert "12A50" in by_location["line 4"].reason
    assert "199" in by_location["line 5"].reason
    (warning,) = result.warnings
    assert warning.location == "line 9, remittance text, segment 1 (RMR), RMR04"
    assert warning.reason.startswith("not an amount: '2X2.00'")
    assert warning.reason.endswith("the 222.00 USD credit is kept")
    assert result.records[1].structured_refs == ()
    assert result.records[1].free_text == "RMR*IV*INV-1101**2X2.00\\"
    assert all(e.file == "bai2_malformed_records.bai" for e in result.errors)
    assert by_location["line 4"].raw.startswith("16,142,12A50")


def test_control_total_mismatch_is_a_warning_on_the_trailer_line() -> None:
    text = (FIXTURES / "bai2_lockbox_ach.bai").read_text().replace("49,27351250,14/", "49,1,14/")
    result = parse_bank_bytes(text.encode(), "tampered.bai")
    assert len(result.records) == 7  # every record is kept: it is not an error
    assert result.errors == []
    # the altered 49 disagrees with its details and with its group's 98, which still has
    # the original figure: both trailers are named
    account, group = result.warnings
    assert (account.file, account.location) == ("tampered.bai", "line 16")
    assert account.reason == (
        "account 0012345678 control total 1 (0.01 USD) does not match the sum 27351250 "
        "(273512.50 USD) of the account's amounts (records kept; check the file is complete)"
    )
    assert account.raw == "49,1,14/"
    assert (group.file, group.location, group.raw) == (
        "tampered.bai",
        "line 17",
        "98,27351250,1,16/",
    )
    assert group.reason == (
        "group 1 control total 27351250 (273512.50 USD) does not match the sum 1 (0.01 USD) "
        "of its account control totals (records kept; check the file is complete)"
    )


def test_a_detail_outside_any_account_is_one_clear_error() -> None:
    result = parse_bank_bytes(b"01,x,y,261120,0600,1,,,2/\n16,142,100,0,,,TEXT\n", "cut.bai")
    assert result.records == [] and result.warnings == []
    (error,) = result.errors
    assert (error.file, error.location, error.reason) == (
        "cut.bai",
        "line 2",
        "not a readable BAI2 file: a 16 transaction detail outside an account "
        "(no 03 account identifier before it)",
    )


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
98,3430150,1,11/
99,3430150,1,13/
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
    account, group = result.warnings
    assert account.location == "line 11"
    assert "control total 3430151 (34301.51 USD)" in account.reason
    assert "sum 3430150 (34301.50 USD)" in account.reason
    assert group.location == "line 12"
    assert group.reason.startswith(
        "group 1 control total 3430150 (34301.50 USD) does not match the sum 3430151 "
        "(34301.51 USD) of its account control totals"
    )


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
    assert result.warnings == []  # 9 records: the wrapped line and the junk line are none
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
        "99,1250000,1,11/\n"
    )
    result = parse_bank_bytes(text.encode(), "tagged.bai")
    assert result.errors == [] and result.warnings == []
    (wire,) = result.records
    assert (wire.payer_name, wire.payer_account) == ("SEAFARER LOGISTICS GMBH", "9930012277")
    assert wire.free_text is not None and "INVOICES 4471 4472" in wire.free_text


def test_detail_text_naming_rmr_is_free_text_and_rmr_segments_still_read() -> None:
    text = (
        "01,121000248,RECEIVER,250305,0800,1,,,2/\n"
        "02,RECEIVER,121000248,1,250304,,USD,2/\n"
        "03,4000123456,USD,010,100000,,/\n"
        "16,142,250000,0,ACH0001,,ORIG CO NAME:RMR GROUP INC ORIG ID:1234567890 "
        "ENTRY DESCR:PAYMENT SEC:CCD/\n"
        "16,142,125000,0,ACH0002,,ORIG CO NAME:ACME INC ORIG ID:99 "
        "ENTRY DESCR:PAYMENT FOR RMR 2231/\n"
        "16,142,10000,0,ACH0003,,ORIG CO NAME:GLOBEX CORP ENTRY DESCR:PAYMENT "
        "RMR*IV*1001**100.00\\/\n"
        "49,485000,5/\n"
        "98,485000,1,7/\n"
        "99,485000,1,9/\n"
    )
    result = parse_bank_bytes(text.encode(), "rmr_words.bai")
    assert result.errors == [] and result.warnings == []
    group, rent, globex = result.records
    assert (group.amount, group.payer_name, group.payer_account) == (
        Decimal("2500.00"),
        "RMR GROUP INC",
        "1234567890",
    )
    assert (group.free_text, group.structured_refs) == ("ENTRY DESCR:PAYMENT SEC:CCD", ())
    assert (rent.amount, rent.payer_name) == (Decimal("1250.00"), "ACME INC")
    assert (rent.free_text, rent.structured_refs) == ("ENTRY DESCR:PAYMENT FOR RMR 2231", ())
    assert [(r.kind, r.ref, r.amount_paid) for r in globex.structured_refs] == [
        (RefKind.INVOICE, "1001", Decimal("100.00"))
    ]
    assert globex.free_text == "ENTRY DESCR:PAYMENT"


_LOCKBOX = (FIXTURES / "bai2_lockbox_ach.bai").read_text()


def test_trailers_that_add_up_give_no_warning() -> None:
    # group 1 (USD) and group 2 (CAD): each 98 is its 49, the 99 their sum, 2 groups, 24 records
    assert parse_bank_file(FIXTURES / "bai2_lockbox_ach.bai").warnings == []
    # the malformed file's one warning is its unreadable RMR text (a credit kept), no trailer
    warnings = parse_bank_file(FIXTURES / "bai2_malformed_records.bai").warnings
    assert [w.location for w in warnings] == ["line 9, remittance text, segment 1 (RMR), RMR04"]


def test_a_lost_group_is_named_by_the_file_trailer() -> None:
    lines = _LOCKBOX.splitlines()
    assert lines[17].startswith("02,") and lines[22].startswith("98,")
    text = "\n".join(lines[:17] + lines[23:]) + "\n"  # the CAD group went missing
    result = parse_bank_bytes(text.encode(), "lost_group.bai")
    assert result.errors == [] and len(result.records) == 6  # the records are kept
    (warning,) = result.warnings
    assert (warning.file, warning.location, warning.raw) == (
        "lost_group.bai",
        "line 18",
        "99,32585817,2,24/",
    )
    assert warning.reason == (
        "file control total 32585817 (325858.17 USD) does not match the sum 27351250 "
        "(273512.50 USD) of its group control totals; number of groups 2 does not match the "
        "1 group in the file; number of records 24 does not match the 18 records in the file "
        "(records kept; check the file is complete)"
    )


def test_a_file_trailer_over_groups_in_several_currencies_states_plain_figures() -> None:
    text = _LOCKBOX.replace("99,32585817,2,24/", "99,32585818,2,24/")
    (warning,) = parse_bank_bytes(text.encode(), "mixed.bai").warnings
    assert warning.location == "line 24"
    assert warning.reason.startswith(  # USD and CAD groups: no single currency to show
        "file control total 32585818 does not match the sum 32585817 of its group control totals"
    )


def test_the_file_trailer_record_count_is_checked_only_where_given() -> None:
    text = _LOCKBOX.replace("99,32585817,2,24/", "99,32585817,2,/")
    result = parse_bank_bytes(text.encode(), "no_count.bai")
    assert result.errors == [] and result.warnings == []


# the shape of Commonwealth Bank's CommBiz sample: AUD, six credits and a cheque paid, in two
# accounts; each trailer here states all its figures, and they add up
_COMMBIZ = """\
01,CBA,CLIENTNM,260107,0137,1,,,2/
02,,CBA,1,260106,,AUD,2/
03,301010011001,AUD/
16,399,118100,,AGN,54,/
16,399,139840,,AGN,935892,POINT OF SALE/
16,399,26500,,AGN,55,/
16,399,92272,,MIS,,9791112535 AMEX GR/
16,699,15300,,CHQ,000000160,/
49,392012,7/
03,300010011010,AUD/
16,399,118100,,AGN,57,/
16,399,139840,,AGN,935893,POINT OF SALE/
49,257940,4/
98,649952,2,13/
99,649952,1,15/
"""


@pytest.mark.parametrize(
    ("whole", "short", "location", "trailer"),
    [
        (  # CommBiz publishes its group trailer so: 98,26407244,27/
            "98,649952,2,13/",
            "98,649952,13/",
            "line 14",
            "98 group trailer of group 1 states 2 of its 3 figures (control total, number of "
            "accounts, number of records)",
        ),
        (
            "49,257940,4/",
            "49,257940/",
            "line 13",
            "49 account trailer of account 300010011010 states 1 of its 2 figures (control "
            "total, number of records)",
        ),
        (
            "99,649952,1,15/",
            "99,649952/",
            "line 15",
            "99 file trailer states 1 of its 3 figures (control total, number of groups, number "
            "of records)",
        ),
    ],
    ids=["group", "account", "file"],
)
def test_a_trailer_short_of_a_figure_is_read_and_reported_as_not_checked(
    whole: str, short: str, location: str, trailer: str
) -> None:
    assert parse_bank_bytes(_COMMBIZ.encode(), "commbiz.bai").warnings == []
    result = parse_bank_bytes(_COMMBIZ.replace(whole, short).encode(), "commbiz.bai")
    assert result.errors == []
    assert [(r.line, str(r.amount), r.currency) for r in result.records] == [
        (4, "1181.00", "AUD"),
        (5, "1398.40", "AUD"),
        (6, "265.00", "AUD"),
        (7, "922.72", "AUD"),
        (11, "1181.00", "AUD"),
        (12, "1398.40", "AUD"),
    ]
    # which figure is left out cannot be told: none is checked, nor the sum above it
    (warning,) = result.warnings
    assert (warning.location, warning.raw) == (location, short)
    assert warning.reason == (
        f"{trailer}: it cannot be checked (records kept; check the file is complete)"
    )


# two accounts in one group; a transfer that lost the second account's records leaves the
# group trailer short of an account and its total, and the file short of five records
_TWO_ACCOUNTS = """\
01,121000358,NORTHWINDCO,261207,0600,12,,,2/
02,NORTHWINDCO,121000358,1,261206,2400,USD,2/
03,88120456,USD,010,2500000,,/
16,142,120000,Z,ACH0001,,ORIG CO NAME:HARBOR FOODS INC ENTRY DESCR:PAYMENT/
16,115,330000,0,LBX0042,CHK 1188,LOCKBOX DEPOSIT/
49,2950000,4/
03,88120499,USD,010,800000,,/
16,195,410000,0,FW0077,,INCOMING WIRE/
88,B/O: PINE VALLEY COOP/
16,142,25000,Z,ACH0002,,ORIG CO NAME:SEAFARER LOGISTICS/
49,1235000,5/
98,4185000,2,11/
99,4185000,1,13/
"""


def test_two_accounts_that_add_up_give_no_warning() -> None:
    result = parse_bank_bytes(_TWO_ACCOUNTS.encode(), "two_accounts.bai")
    assert result.errors == [] and result.warnings == []
    assert len(result.records) == 4


def test_a_lost_account_is_named_by_the_group_and_file_trailers() -> None:
    lines = _TWO_ACCOUNTS.splitlines()
    text = "\n".join(lines[:6] + lines[11:]) + "\n"
    result = parse_bank_bytes(text.encode(), "lost_account.bai")
    assert result.errors == [] and len(result.records) == 2
    group, file = result.warnings
    assert (group.location, group.raw) == ("line 7", "98,4185000,2,11/")
    assert group.reason == (
        "group 1 control total 4185000 (41850.00 USD) does not match the sum 2950000 "
        "(29500.00 USD) of its account control totals; number of accounts 2 does not match "
        "the 1 account in the group (records kept; check the file is complete)"
    )
    # the 99 agrees with the 98 it sums: only its record count shows the loss again
    assert (file.location, file.reason) == (
        "line 8",
        "file number of records 13 does not match the 8 records in the file "
        "(records kept; check the file is complete)",
    )


_NOT_ALL_CREDITS_ARE_PAYMENTS = """\
01,121000358,NORTHWINDCO,261207,0600,12,,,2/
02,NORTHWINDCO,121000358,1,261206,2400,USD,2/
03,88120456,USD,010,0,,/
16,115,330000,0,LBX0042,CHK 1188,LOCKBOX DEPOSIT/
16,275,900000,0,ZBA0001,,ZBA CREDIT FROM 88120499/
16,354,1234,0,INT0001,,INTEREST/
16,257,25000,0,ACHR001,,RETURNED ITEM/
16,555,48000,0,RTN0042,CHK 1188,DEPOSITED ITEM RETURNED/
49,1304234,7/
98,1304234,1,9/
99,1304234,1,11/
"""


def test_transfers_interest_and_own_returns_are_not_payments_returned_items_reverse() -> None:
    result = parse_bank_bytes(_NOT_ALL_CREDITS_ARE_PAYMENTS.encode(), "prior_day.bai")
    assert result.errors == []
    # a ZBA transfer, interest and an ACH item of ours coming back are not customers paying:
    # each is left out with a warning, as camt's credits whose bank transaction code says so
    assert [(w.location, w.reason) for w in result.warnings] == [
        (
            "line 5",
            "a credit of 9000.00 USD with type code 275 (ZBA Credit): not a customer paying, "
            "left out",
        ),
        (
            "line 6",
            "a credit of 12.34 USD with type code 354 (Interest Credit): not a customer "
            "paying, left out",
        ),
        (
            "line 7",
            "a credit of 250.00 USD with type code 257 (Individual ACH Return Item): not a "
            "customer paying, left out",
        ),
    ]
    assert result.warnings[0].raw == "16,275,900000,0,ZBA0001,,ZBA CREDIT FROM 88120499/"
    lockbox, returned = result.records
    assert (lockbox.amount, lockbox.reverses) == (Decimal("3300.00"), None)
    # the customer's check bounced: the cash counted for it is taken back
    assert (returned.amount, returned.reverses) == (Decimal("-480.00"), "CHK 1188")
    assert returned.free_text is not None
    assert returned.free_text.startswith("DEPOSITED ITEM RETURNED")


def test_items_sharing_their_lockbox_reference_stay_distinct() -> None:
    text = """\
01,121000358,NORTHWINDCO,261207,0600,12,,,2/
02,NORTHWINDCO,121000358,1,261206,2400,USD,2/
03,88120456,USD,010,0,,/
16,116,50000,0,LBX0042,,ITEM IN LOCKBOX/
16,116,50000,0,LBX0042,,ITEM IN LOCKBOX/
16,116,72500,0,LBX0042,,ITEM IN LOCKBOX/
49,172500,5/
98,172500,1,7/
99,172500,1,9/
"""
    first, second, third = parse_bank_bytes(text.encode(), "lockbox.bai").records
    assert len({first.dedup_key, second.dedup_key, third.dedup_key}) == 3
    assert first.also_known_as == () and first.dedup_key.startswith("bai2:")
