"""NACHA CCD+/CTX: credit entries with addenda; CTX addenda read as an 820."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.bankfiles import BankFileFormat, RefKind, parse_bank_bytes, parse_bank_file

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bankfiles"


def test_ccd_plus_and_ctx_entries() -> None:
    result = parse_bank_file(FIXTURES / "nacha_ccd_ctx.ach")
    assert result.format is BankFileFormat.NACHA
    assert result.errors == [] and result.warnings == []  # its 8 and 9 records add up
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
    assert result.errors == [] and result.warnings == []  # 20 records: still two blocks
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
    # a batch with a record too long to read has no figures to check its control against
    assert result.warnings == []


def test_missing_file_header_is_one_error() -> None:
    body = (FIXTURES / "nacha_ccd_ctx.ach").read_text().splitlines()[1:]
    result = parse_bank_bytes("\n".join(body).encode(), "noheader.ach")
    assert result.records == []
    # recognised by its batch header: the error says what is missing
    assert [(e.location, e.reason) for e in result.errors] == [
        (
            "line 1",
            "file does not start with a file header (1) record but with a batch header (5) "
            "record: not read (is it part of a file?)",
        )
    ]


def _record(*fields: tuple[int, str]) -> str:
    """A 94-character record from (start column, text) pairs, blanks elsewhere."""
    chars = [" "] * 94
    for start, text in fields:
        chars[start : start + len(text)] = text
    return "".join(chars)


def _entry(code: str, amount_cents: int, ident: str, name: str, trace: str, addenda: bool) -> str:
    return _record(
        (0, "6" + code + "07100001" + "3"),
        (12, "88120456"),
        (29, f"{amount_cents:010d}"),
        (39, ident),
        (54, name),
        (78, "1" if addenda else "0"),
        (79, trace),
    )


def test_returns_notices_of_change_and_stripped_trailing_blanks() -> None:
    header = _record((0, "101 071000013 0440000362612040815A094101FIRST LAKE BANK   ACME PARTS"))
    lines = [
        header.rstrip(),  # trailing blanks stripped in transit: still NACHA, padded back
        _record(
            (0, "5220HARBOR FOODS INC"),
            (40, "1445566778CCDPAYMENT"),
            (69, "261204"),
            (75, "   1071000010000001"),
        ).rstrip(),
        _entry("22", 1250000, "HF-REMIT-88", "ACME PARTS", "071000010000001", True),
        _record((0, "705RMR*IV*INV-8841**12500.00\\"), (83, "00010000001")),
        _record(
            (0, "822000000200071000010000000000000000012500001445566778"), (79, "071000010000001")
        ),
        # a return batch: no effective date, a credit with a 99 addenda is not a receipt
        _record(
            (0, "5220PINE VALLEY COOP"),
            (40, "1992233445CCDPAYMENT"),
            (69, "000000"),
            (75, "   1071000010000002"),
        ),
        _entry("22", 40000, "PV-77", "ACME PARTS", "071000010000003", True),
        _record((0, "799R01071000010000099      07100001"), (79, "071000010000003")),
        _entry("22", 9900, "PV-78", "ACME PARTS", "071000010000004", False),
        _record(
            (0, "822000000300142000020000000000000000000499001992233445"), (79, "071000010000002")
        ),
        # a notification of change batch
        _record(
            (0, "5220PINE VALLEY COOP"),
            (40, "1992233445CORVENDOR PAY"),
            (69, "      "),
            (75, "   1071000010000003"),
        ),
        _entry("22", 0, "PV-79", "ACME PARTS", "071000010000005", True),
        _record((0, "798C01071000010000088      07100001"), (79, "071000010000005")),
        _record(
            (0, "822000000200071000010000000000000000000000001992233445"), (79, "071000010000003")
        ),
        _record((0, "9000003000002000000070028400004000000000000000001299900")),
        "9" * 94,
        "9" * 94,
    ]
    data = "\r\n".join(lines).encode()
    result = parse_bank_bytes(data, "received.ach")
    assert result.format is BankFileFormat.NACHA
    assert result.errors == []  # returns and NOCs count too: the controls add up
    # neither the returned credit nor the notification of change is a receipt: both warn
    assert [(w.location, w.reason) for w in result.warnings] == [
        (
            "line 7",
            "a return of a credit we sent, a credit of 400.00 USD returning the entry with "
            "trace 071000010000099 (return reason R01): not a customer paying, left out",
        ),
        (
            "line 12",
            "notification of change C01 (incorrect account number) of the entry with trace "
            "071000010000088 to ACME PARTS: no corrected data; no money moves, not a payment "
            "(correct the receiver's details)",
        ),
    ]
    harbor, pine = result.records
    assert (harbor.amount, harbor.payer_name, harbor.value_date) == (
        Decimal("12500.00"),
        "HARBOR FOODS INC",
        date(2026, 12, 4),
    )
    assert [(s.kind, s.ref) for s in harbor.structured_refs] == [(RefKind.INVOICE, "INV-8841")]
    assert (pine.amount, pine.end_to_end_id, pine.value_date) == (Decimal("99.00"), "PV-78", None)


def test_ctx_with_a_whole_interchange_split_over_addenda() -> None:
    isa = (
        "ISA*00*          *00*          *ZZ*BRIGHTWATER    *ZZ*ACMEPARTS      "
        "*261204*0815*U*00401*000000311*0*P*>"
    )
    edi = (
        isa + "\\GS*RA*BRIGHTWATER*ACMEPARTS*20261204*0815*311*X*004010\\ST*820*0311\\"
        "BPR*C*2210.00*C*ACH*CTX*01*071000013*DA*55001*1445566778**01*071000039*DA*88120456"
        "*20261204\\TRN*1*BW-311*1445566778\\N1*PR*BRIGHTWATER LLC\\ENT*1\\"
        "RMR*IV*INV-9001**1500.00*1500.00\\RMR*IV*INV-9002**710.00*750.00\\ADX*-40.00*CS\\"
        "SE*10*0311\\GE*1*311\\IEA*1*000000311\\"
    )
    chunks = [edi[i : i + 80] for i in range(0, len(edi), 80)]
    lines = [
        _record((0, "101 071000013 0440000362612040815A094101FIRST LAKE BANK        ACME PARTS")),
        _record(
            (0, "5220BRIGHTWATER LLC"),
            (40, "1445566778CTXPAYMENT"),
            (69, "261204"),
            (75, "   1071000010000001"),
        ),
        _record(
            (0, "622071000013"),
            (12, "88120456"),
            (29, "0000221000"),
            (39, "BW-311"),
            (54, f"{len(chunks):04d}ACME PARTS"),
            (78, "1071000010000011"),
        ),
        *(
            _record((0, "705" + chunk), (83, f"{n:04d}0000011"))
            for n, chunk in enumerate(chunks, start=1)
        ),
        _record((0, "8220"), (79, "071000010000001")),
        _record((0, "9000001")),
    ]
    result = parse_bank_bytes("\n".join(lines).encode(), "ctx_isa.ach")
    assert result.errors == []
    (entry,) = result.records
    assert entry.amount == Decimal("2210.00")
    assert entry.payer_name == "BRIGHTWATER LLC"
    assert [(s.ref, s.amount_paid, s.adjustment) for s in entry.structured_refs] == [
        ("INV-9001", Decimal("1500.00"), None),
        ("INV-9002", Decimal("710.00"), Decimal("-40.00")),
    ]


_CCD_CTX = (FIXTURES / "nacha_ccd_ctx.ach").read_text().splitlines()


def _without(*numbers: int) -> bytes:
    """The sample file without the records on these (1-based) lines."""
    return "\n".join(r for n, r in enumerate(_CCD_CTX, start=1) if n not in numbers).encode()


@pytest.mark.parametrize("separator", ["*", "\u00a6"], ids=["asterisk", "broken-bar"])
def test_the_payer_of_a_ctx_entry_is_its_820s_payer_not_the_batch_company(separator: str) -> None:
    lines = list(_CCD_CTX)
    assert lines[9].startswith("5220INITECH LLC ") and "N1*PR*INITE" in lines[12]
    lines[9] = lines[9].replace("INITECH LLC", "INITECH XYZ")
    for n in range(11, 15):  # the 820 in the CTX addenda, with this element separator
        lines[n] = lines[n][:83].replace("*", separator) + lines[n][83:]
    result = parse_bank_bytes("\n".join(lines).encode(), "renamed.ach")
    assert result.errors == [] and result.warnings == []
    ctx = result.records[2]
    assert ctx.payer_name == "INITECH LLC"  # N1*PR, read with the 820's header (TRN, CUR)
    assert ctx.payer_account == "9876543210"  # the batch's company identification
    assert [(r.ref, r.amount_paid) for r in ctx.structured_refs] == [
        ("INV-1010", Decimal("500.00")),
        ("INV-1011", Decimal("437.50")),
    ]
    assert ctx.free_text == "AP PAYMENT"


def test_addenda_text_naming_rmr_is_free_text_and_rmr_segments_still_read() -> None:
    lines = list(_CCD_CTX)
    assert lines[3].startswith("705RMR*IV*INV-1003") and lines[5].startswith("705PAYMENT FOR")
    lines[3] = "705" + "MARCH RENT RMR*IV*1001**100.00\\".ljust(80) + lines[3][83:]
    lines[5] = "705" + "RMR-2231 MARCH RENT UNIT 4".ljust(80) + lines[5][83:]
    result = parse_bank_bytes("\n".join(lines).encode(), "rmr_words.ach")
    assert result.errors == [] and result.warnings == []
    segments, words, _ = result.records
    assert [(r.kind, r.ref, r.amount_paid) for r in segments.structured_refs] == [
        (RefKind.INVOICE, "1001", Decimal("100.00"))
    ]
    assert segments.free_text == "PAYMENT MARCH RENT"
    assert (words.amount, words.structured_refs) == (Decimal("640.00"), ())
    assert words.free_text == "PAYMENT RMR-2231 MARCH RENT UNIT 4"


def test_an_altered_entry_amount_is_named_by_its_batch_control() -> None:
    text = "\n".join(_CCD_CTX).replace("0000187500GLX-AP-55012", "0000195000GLX-AP-55012")
    result = parse_bank_bytes(text.encode(), "altered.ach")
    assert result.errors == []
    assert [r.amount for r in result.records] == [
        Decimal("1950.00"),  # kept as it reads
        Decimal("640.00"),
        Decimal("937.50"),
    ]
    (warning,) = result.warnings  # the 9 record agrees with the 8 records it sums
    assert (warning.file, warning.location) == ("altered.ach", "line 9")
    assert warning.raw == _CCD_CTX[8].rstrip()
    assert warning.reason == (
        "batch 0000001 control total credit amount 251500 (2515.00 USD) does not match the "
        "sum 259000 (2590.00 USD) of its credit entries (records kept; check the file is complete)"
    )


def test_a_lost_entry_is_named_by_its_batch_control() -> None:
    result = parse_bank_bytes(_without(5, 6), "lost_entry.ach")  # GLX-AP-55013 and its addenda
    assert result.errors == []
    assert [r.end_to_end_id for r in result.records] == ["GLX-AP-55012", "INI0000457"]
    (warning,) = result.warnings
    assert warning.location == "line 7"
    assert warning.reason == (
        "batch 0000001 control entry/addenda count 6 does not match the 4 entry and addenda "
        "records in the batch; entry hash 0008400008 does not match the sum 0006300006 of its "
        "entries' routing numbers; total credit amount 251500 (2515.00 USD) does not match the "
        "sum 187500 (1875.00 USD) of its credit entries (records kept; check the file is "
        "complete)"
    )


def test_a_debit_total_is_checked_apart_from_credits() -> None:
    text = "\n".join(_CCD_CTX).replace("0000001500FEE", "0000002500FEE")
    (warning,) = parse_bank_bytes(text.encode(), "fee.ach").warnings
    assert warning.reason.startswith(
        "batch 0000001 control total debit amount 1500 (15.00 USD) does not match the sum "
        "2500 (25.00 USD) of its debit entries"
    )


def test_a_file_control_that_does_not_add_up_names_each_figure() -> None:
    lines = list(_CCD_CTX)
    assert lines[16].startswith("9000002000002")
    lines[16] = "9000003000001000000120010500011000000001500000000345251" + " " * 39
    result = parse_bank_bytes("\n".join(lines).encode(), "file_control.ach")
    assert result.errors == [] and len(result.records) == 3
    (warning,) = result.warnings
    assert warning.location == "line 17"
    assert warning.reason == (
        "file control batch count 3 does not match the 2 batches in the file; block count 1 "
        "does not match the 2 blocks of its 20 records (10 a block); entry/addenda count 12 "
        "does not match the sum 11 of the batch controls' counts; entry hash 0010500011 does "
        "not match the sum 0010500010 of the batch controls' entry hashes; total credit amount "
        "345251 (3452.51 USD) does not match the sum 345250 (3452.50 USD) of the batch "
        "controls' credit totals (records kept; check the file is complete)"
    )


def test_entry_hash_keeps_the_rightmost_ten_digits() -> None:
    # 1300 entries for routing 99999999: the sum 129999998700 overflows ten digits
    header = _CCD_CTX[0]
    batch = _record(
        (0, "5220BIG PAYROLL CO"),
        (40, "1234567890CCDPAYMENT"),
        (69, "261120"),
        (75, "   1021000020000001"),
    )
    entries = [
        _record(
            (0, "622999999999"),
            (12, "12345678"),
            (29, "0000000100"),
            (39, f"P{n:05d}"),
            (54, "ACME WIDGETS INC"),
            (79, f"0210000200{n:05d}"),
        )
        for n in range(1300)
    ]
    control = _record(
        (0, "822000130099999987000000000000000000001300001234567890"),
        (79, "02100002"),
        (87, "0000001"),
    )
    file_control = _record((0, "9000001000131000013009999998700000000000000000000130000"))
    records = [header, batch, *entries, control, file_control]
    records += ["9" * 94] * (-len(records) % 10)
    result = parse_bank_bytes("\n".join(records).encode(), "payroll.ach")
    assert result.errors == [] and result.warnings == []
    assert len(result.records) == 1300


def test_a_file_cut_short_is_kept_with_warnings() -> None:
    # the transfer stopped after the CTX addenda: no batch control, no file control
    result = parse_bank_bytes("\n".join(_CCD_CTX[:15]).encode(), "cut.ach")
    assert result.errors == []
    assert len(result.records) == 3  # every entry read is kept, the CTX one with its 820
    assert [(w.location, w.reason) for w in result.warnings] == [
        (
            "line 10",
            "batch 0000002 has no batch control (8) record "
            "(records kept; check the file is complete)",
        ),
        (
            "file",
            "no file control (9) record: the file may be cut short "
            "(records kept; check the file is complete)",
        ),
    ]


def test_a_missing_batch_control_leaves_the_file_sums_unchecked() -> None:
    result = parse_bank_bytes(_without(9), "no_batch_control.ach")
    assert result.errors == [] and len(result.records) == 3
    (warning,) = result.warnings  # the 9's sums need every batch control: not checked
    assert (warning.location, warning.reason) == (
        "line 2",
        "batch 0000001 has no batch control (8) record (records kept; check the file is complete)",
    )


def test_a_returned_debit_takes_back_the_cash_its_original_entry_collected() -> None:
    header = _record((0, "101 071000013 0440000362612040815A094101FIRST LAKE BANK   ACME PARTS"))
    lines = [
        header,
        _record(
            (0, "5200ACME PARTS"),
            (40, "1445566778PPDRETURN"),
            (69, "000000"),
            (75, "   1071000010000001"),
        ),
        _entry("26", 48000, "CUST-4471", "HARBOR FOODS INC", "071000010000011", True),
        _record((0, "799R01071000019999001      07100001"), (79, "071000010000011")),
        _entry("26", 15000, "CUST-4472", "PINE VALLEY COOP", "071000010000012", True),
        _record((0, "799R61071000019999002      07100001"), (79, "071000010000012")),
        _entry("21", 9900, "VEND-9", "SUPPLIER CO", "071000010000013", True),
        _record((0, "799R03071000019999003      07100001"), (79, "071000010000013")),
        _record((0, "8200000006")),
        _record((0, "9")),
    ]
    result = parse_bank_bytes("\n".join(lines).encode(), "returns.ach")
    assert result.errors == []
    # R61 (a dishonored return) and a returned credit of ours are not cash taken back
    [returned] = result.records
    assert (returned.amount, returned.reverses) == (Decimal("-480.00"), "071000019999001")
    assert returned.payer_name == "HARBOR FOODS INC"
    assert returned.free_text == "ACH RETURN R01 OF TRACE 071000019999001"
