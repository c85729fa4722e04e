"""Regressions from a sweep of publicly published BAI2 and NACHA files through the reader.

Each fixture or inline record holds our own values in the layout of the public sample named
beside it (tests/fixtures/bankfiles/README.md lists the fixtures and their sources).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from connectors.bankfiles.reader import parse_bank_bytes
from connectors.bankfiles.records import BankFileFormat, ParseResult

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bankfiles"


def _parse(name: str) -> ParseResult:
    return parse_bank_bytes((FIXTURES / name).read_bytes(), name)


def _record(*fields: tuple[int, str]) -> str:
    """A 94-character record from (start column, text) pairs, blanks elsewhere."""
    chars = [" "] * 94
    for start, text in fields:
        chars[start : start + len(text)] = text
    return "".join(chars)


_HEADER = _record((0, "101"), (3, " 231380104"), (13, "0313000129"), (23, "250305"), (34, "094101"))


def _batch(sec: str, company: str = "HARBOUR LTD", effective: str = "250306") -> str:
    return (
        _record(
            (0, "5220"),
            (4, company),
            (40, "1234567890"),
            (50, sec),
            (53, "PAYMENT"),
            (69, effective),
        )
        + "\n"
    )


def _credit(amount: str = "0000012500", trace: str = "031300010000001") -> str:
    return _record((0, "622231380104"), (12, "77001234"), (29, amount), (39, "INV-88"), (79, trace))


# --- NACHA -----------------------------------------------------------------------------------


def test_masked_routing_header_is_read_as_nacha_and_returns_reverse() -> None:
    """moov-io/ach test/issues/testdata/issue702.ach: a Fiserv return file (PIMRET) whose
    immediate destination is masked with letters and whose header lost trailing blanks."""
    result = _parse("nacha_masked_header_returns.ach")
    assert result.format is BankFileFormat.NACHA
    assert result.errors == []  # controls add up, CRLF endings
    # the 21 (R04 on a credit of ours) is not cash, left out with a warning; each 26 takes
    # back a debit we collected
    assert [(w.location, w.reason) for w in result.warnings] == [
        (
            "line 3",
            "a return of a credit we sent, a credit of 25.00 USD returning the entry with "
            "trace 065400130000001 (return reason R04): not a customer paying, left out",
        )
    ]
    assert [
        (r.location, r.amount, r.reverses, r.payer_name, r.payer_account) for r in result.records
    ] == [
        ("line 7", Decimal("-45.67"), "065400130000417", "Riley Stone", "WEB-INV-20931"),
        ("line 9", Decimal("-12.00"), "065400130000418", "Morgan Lake", "WEB-INV-20944"),
    ]
    assert [r.free_text for r in result.records] == [
        "ACH RETURN R01 OF TRACE 065400130000417",
        "ACH RETURN R03 OF TRACE 065400130000418",
    ]
    assert all(r.value_date == date(2025, 3, 3) for r in result.records)


def test_cie_entry_names_the_consumer_and_its_account_with_the_biller() -> None:
    """moov-io/ach examples/testdata/cie-credit.ach (and its reader, entryDetail.go): a CIE
    entry has the individual name at 40-54 and the identification at 55-76; the batch names
    the bill-payment service, which must not become every consumer's payer account."""
    result = _parse("nacha_cie_bill_payments.ach")
    assert result.errors == [] and result.warnings == []
    assert [
        (r.amount, r.payer_name, r.payer_account, r.end_to_end_id, r.bank_reference, r.free_text)
        for r in result.records
    ] == [
        (
            Decimal("150.75"),
            "HARPER ELLIS",
            "ACCT 40021-7",
            "ACCT 40021-7",
            "031300010000001",
            "ONLINE PMT INV 2025-0311",
        ),
        (
            Decimal("88.00"),
            "OKAFOR NNAMDI",
            "ACCT 40388-2",
            "ACCT 40388-2",
            "031300010000002",
            "ONLINE PMT",
        ),
    ]
    assert all(r.value_date == date(2025, 3, 6) for r in result.records)


def test_adv_controls_are_checked_with_the_adv_layout() -> None:
    """moov-io/ach test/testdata/adv.ach: ADV entries carry 12-digit amounts (81 credit,
    82 debit) and their batch and file controls 20-digit totals. They are not payments."""
    result = _parse("nacha_adv_advices.ach")
    assert result.format is BankFileFormat.NACHA
    assert result.records == [] and result.errors == []
    assert result.warnings == []  # the totals add up when read where ADV puts them


def test_adv_control_mismatch_is_still_found() -> None:
    text = (FIXTURES / "nacha_adv_advices.ach").read_text().splitlines()
    control = text[4]
    text[4] = control[:40] + "00000000000001234568" + control[60:]  # credit total off by one
    result = parse_bank_bytes("\n".join(text).encode(), "adv.ach")
    assert [w.location for w in result.warnings] == ["line 5", "line 6"]
    assert "total credit amount 1234568 (12345.68 USD) does not match the sum 1234567" in (
        result.warnings[0].reason
    )


def test_trailing_blanks_after_a_record_are_not_an_error() -> None:
    """moov-io/ach test/testdata/long-line.ach: records padded past 94 with blanks."""
    text = _HEADER + "   \n" + _batch("CCD") + _credit() + "       \n"
    result = parse_bank_bytes(text.encode(), "padded.ach")
    assert result.errors == []
    assert [(r.amount, r.end_to_end_id) for r in result.records] == [(Decimal("125.00"), "INV-88")]
    assert result.records[0].raw == _credit()


def test_longer_record_with_text_past_94_is_still_an_error() -> None:
    text = _HEADER + "\n" + _batch("CCD") + _credit() + "  X\n"
    result = parse_bank_bytes(text.encode(), "long.ach")
    assert [(e.location, e.reason) for e in result.errors] == [
        ("line 3", "record is 97 characters long, NACHA records are 94")
    ]


def test_unknown_sec_code_names_the_field_and_leaves_the_batch_out() -> None:
    """moov-io/ach test/testdata/20110729A-invalid.ach: batch headers shifted by one column
    (SEC code read as 'PDT'); the entries and their addenda are left out, one error each entry,
    and the next valid batch is read."""
    header = _batch("PPD")
    shifted = header[:20] + header[21:94] + " \n"  # one blank short in the discretionary data
    addenda = _record((0, "705"), (3, "NOTE"), (83, "0001"), (87, "0000001"))
    text = (
        _HEADER
        + "\n"
        + shifted
        + _credit()
        + "\n"
        + addenda
        + "\n"
        + _batch("CCD")
        + _credit("0000000700", "031300010000009")
        + "\n"
    )
    result = parse_bank_bytes(text.encode(), "shifted.ach")
    assert [(e.location, e.reason) for e in result.errors] == [
        (
            "line 2, standard entry class code (positions 51-53)",
            "'PDP' is not a NACHA SEC code (is the record shifted?): the batch is not read",
        ),
        ("line 3", "entry detail of the batch whose header (line 2) cannot be read: not read"),
    ]
    assert [(r.location, r.amount) for r in result.records] == [("line 6", Decimal("7.00"))]


def test_unreadable_effective_date_keeps_the_batch_without_a_value_date() -> None:
    """moov-io/ach test/testdata/txp-credit.ach: the effective entry date field holds '16    '."""
    text = _HEADER + "\n" + _batch("CCD", effective="16") + _credit() + "\n"
    result = parse_bank_bytes(text.encode(), "baddate.ach")
    assert result.errors == []
    first = result.warnings[0]  # then: no batch control, no file control (a bare batch)
    assert (first.location, first.reason) == (
        "line 2, effective entry date (positions 70-75)",
        "not a date: '16    ': the batch's entries are read without a value date",
    )
    assert [(r.amount, r.value_date) for r in result.records] == [(Decimal("125.00"), None)]


def test_company_name_of_zeros_is_no_payer_name() -> None:
    """moov-io/ach test/issues/testdata/issue1600/2lCompanyNameAllZeros.txt."""
    text = _HEADER + "\n" + _batch("CCD", company="00000000000") + _credit() + "\n"
    result = parse_bank_bytes(text.encode(), "zeros.ach")
    assert [(r.amount, r.payer_name, r.payer_account) for r in result.records] == [
        (Decimal("125.00"), None, "1234567890")
    ]


def test_batch_without_file_header_is_named_not_unrecognised() -> None:
    """moov-io/ach test/issues/testdata/issue751.ach: a return batch with no file header."""
    text = _batch("WEB") + _credit() + "\n"
    result = parse_bank_bytes(text.encode(), "fragment.ach")
    assert result.format is BankFileFormat.NACHA
    assert result.records == []
    assert [(e.location, e.reason) for e in result.errors] == [
        (
            "line 1",
            "file does not start with a file header (1) record but with a batch header (5) "
            "record: not read (is it part of a file?)",
        )
    ]


def test_ctx_addenda_in_plain_text_are_the_free_text() -> None:
    """moov-io/ach test/ach-ctx-read/ctx-debit.ach, its debit made a credit (controls moved to
    the credit side): CTX addenda carrying text, not an 820, are kept as CCD+ addenda are."""
    result = _parse("nacha_ctx_text_addenda.ach")
    assert result.errors == [] and result.warnings == []
    (credit,) = result.records
    assert (credit.amount, credit.end_to_end_id) == (Decimal("1000000.00"), "45689033")
    assert credit.free_text == "ACH CTX Debit First Account Debit Second Account"
    assert credit.structured_refs == ()


def test_ctx_text_addenda_ending_in_rmr_segments_keep_both() -> None:
    lines = (FIXTURES / "nacha_ctx_text_addenda.ach").read_text().splitlines()
    lines[4] = "705" + "RMR*IV*INV-5520**1000000.00\\".ljust(80) + lines[4][83:]
    (credit,) = parse_bank_bytes("\n".join(lines).encode(), "ctx_rmr.ach").records
    assert credit.free_text == "ACH CTX Debit First Account"
    assert [(r.ref, r.amount_paid) for r in credit.structured_refs] == [
        ("INV-5520", Decimal("1000000.00"))
    ]


# --- BAI2 ------------------------------------------------------------------------------------


def test_bai2_191_incoming_internal_transfer_is_a_receipt() -> None:
    """ministryofjustice/bai2 tests/data/citi_example.bai2: Citi UK reports an incoming
    Faster Payment from a third party as 191, its details on unterminated 88 records."""
    result = _parse("bai2_citi_uk_191.bai")
    assert result.errors == []
    assert [(w.location, w.reason) for w in result.warnings] == [
        (
            "line 12",
            "a credit of 50.00 GBP with type code 275 (ZBA Credit): not a customer paying, "
            "left out",
        )
    ]
    assert [
        (r.location, r.amount, r.currency, r.bank_reference, r.end_to_end_id, r.value_date)
        for r in result.records
    ] == [
        (
            "line 4",
            Decimal("125.50"),
            "GBP",
            "9876543210",
            "FP25030900001234",
            date(2025, 3, 9),
        )
    ]  # the 275 ZBA credit is still an own-account transfer, left out
    text = result.records[0].free_text or ""
    assert text.startswith("FR:FP SIP INCOMING ENDT:20250309")
    assert "PY:INV-4471 HARBOUR LTD" in text


def test_jpmorgan_ach_text_labels_each_end_their_value() -> None:
    """JPMorgan Chase's BAI2 text of an ACH credit (the 16 text of bai2_chase_ach_text.bai is
    a published Chase ACH descriptor of a Square payout): each labelled value ends at the
    next label, CO ENTRY DESCR is one label, and TRACE# is the ACH trace number."""
    result = _parse("bai2_chase_ach_text.bai")
    assert result.errors == [] and result.warnings == []
    (record,) = result.records
    assert (record.payer_name, record.payer_account) == ("Square Inc", "9424300002")
    assert record.bank_reference == "091000019999999"  # the 16 record's own reference
    assert record.free_text == (
        "DESC DATE:260723 CO ENTRY DESCR:SQ260723 SEC:PPD TRACE#:021000028611043 "
        "EED:260723 IND ID: IND NAME:TERRIER POINT BREWING TRN:2048611043TC"
    )
    # without a bank reference on the 16 record, the trace number is the bank's name for it
    data = (FIXTURES / "bai2_chase_ach_text.bai").read_bytes().replace(b",091000019999999,", b",,")
    (unreferenced,) = parse_bank_bytes(data, "no_bank_ref.bai").records
    assert unreferenced.bank_reference == "021000028611043"
    assert unreferenced.payer_account == "9424300002"


def test_a_label_wrapped_onto_a_continuation_still_ends_the_value_before_it() -> None:
    text = (FIXTURES / "bai2_chase_ach_text.bai").read_text()
    wrapped = text.replace(" CO ENTRY DESCR:SQ260723", " CO ENTRY\n88,DESCR:SQ260723")
    (record,) = parse_bank_bytes(wrapped.encode(), "wrapped.bai").records
    assert record.payer_account == "9424300002"
    assert "DESC DATE:260723 CO ENTRY DESCR:SQ260723 SEC:PPD" in (record.free_text or "")


def test_an_interim_report_and_the_final_one_of_the_day_state_the_same_items() -> None:
    """moov-io/bai2 test/testdata/sample3.txt, a final previous-day report (as-of-date
    modifier 2) whose details carry no bank reference, and the same day's interim report
    (modifier 3, 14:00, file 3): each item keeps its key in both, and the interim report is
    a warning (an item the bank drops by the final report stays stored)."""
    final = _parse("bai2_moov_sample3_final.bai")
    interim = _parse("bai2_moov_sample3_interim.bai")
    assert final.errors == interim.errors == [] and final.warnings == []
    assert len(final.records) == 13
    assert [r.dedup_key for r in interim.records] == [r.dedup_key for r in final.records]
    assert len({r.dedup_key for r in final.records}) == 13
    (warning,) = interim.warnings
    assert (warning.location, warning.reason) == (
        "line 1",
        "as-of-date modifier 3 (interim same-day data) for account(s) 1111111, 11111111 on "
        "2022-09-19: its details are kept and the final report's same items are recognised, "
        "but an item the final report leaves out or states otherwise is not removed: check "
        "them against it",
    )
    # what earlier versions stored them under (the file and position) is still known
    assert all(len(r.also_known_as) == 1 for r in final.records)


def test_items_alike_in_one_report_stay_two_and_a_group_without_modifier_keeps_file_keys() -> None:
    text = (FIXTURES / "bai2_moov_sample3_final.bai").read_text()
    line = "16,142,100,Z,,,Ext Trnsfr JPMorgan Chase     PPD/\n"
    twice = text.replace(line, line + line).replace("49,-1600,11/", "49,-1500,12/")
    records = parse_bank_bytes(twice.encode(), "twice.bai").records
    assert len({r.dedup_key for r in records}) == len(records) == 14
    # a group that does not say whether its data are interim or final: keyed by its file
    plain = text.replace("USD,2/", "USD,/")
    again = plain.replace("220919,2112,4,", "220920,0700,5,")  # the same file sent again
    keys = [r.dedup_key for r in parse_bank_bytes(plain.encode(), "a.bai").records]
    other = [r.dedup_key for r in parse_bank_bytes(again.encode(), "b.bai").records]
    assert set(keys).isdisjoint(other)


def test_bank_of_america_ach_text_names_the_originator_first_and_indn_is_the_receiver() -> None:
    """Bank of America's ACH text (bai2_bofa_ach_text.bai, in the layout of the descriptors
    Bank of America prints: ``<company name> DES:<entry description> ID:<identification>
    INDN:<receiver's name> CO ID:<company id> <SEC> PMT INFO:<addenda>``): the payer is the
    originating company named first, unlabelled, never INDN (that is the receiver: us), its
    company id is the payer's account, and the description, ID and addenda stay the text."""
    result = _parse("bai2_bofa_ach_text.bai")
    assert result.errors == [] and result.warnings == []  # trailers add up
    ccd, web, ctx = result.records
    assert [(r.payer_name, r.payer_account) for r in result.records] == [
        ("ACME WIDGETS INC", "1234567890"),
        ("BLUE HERON CAFE", "9000123456"),
        ("GLOBEX CORP", "1987654321"),
    ]
    assert ccd.bank_reference == "904316000123456"
    # the addenda (PMT INFO on the 88 continuation) carries an RMR: a structured reference
    assert [(r.ref, r.amount_paid) for r in ccd.structured_refs] == [("30071", Decimal("1250.00"))]
    assert ccd.free_text == "DES:PAYMENTS ID:0000471193 INDN:NORTHWIND TRADERS LLC CCD PMT INFO:"
    assert web.free_text == "DES:BILL PAY ID:NW-CUST-0088 INDN:NORTHWIND TRADERS WEB"
    assert ctx.free_text == (
        "DES:EDI PYMNTS ID:PAY-88213 INDN:NORTHWIND TRADERS LLC CTX PMT INFO:INV 30075 INV 30076"
    )


def test_bank_of_america_labels_are_whole_words() -> None:
    """ID is not the end of ORIG ID, CO ID, TRID or CLIENT REF ID glued to a word, DES not that
    of CODES; and text without DES first has no unlabelled payer name."""
    text = (FIXTURES / "bai2_bofa_ach_text.bai").read_text()
    odd = text.replace(
        "PMT INFO:INV 30075 INV 30076", "PMT INFO:PROMO CODES:X7 TRID:55 VENDORID:9"
    ).replace("GLOBEX CORP DES:", "DES:")
    records = parse_bank_bytes(odd.encode(), "odd.bai").records
    assert (records[2].payer_name, records[2].payer_account) == (None, "1987654321")
    assert records[2].free_text == (
        "DES:EDI PYMNTS ID:PAY-88213 INDN:NORTHWIND TRADERS LLC CTX "
        "PMT INFO:PROMO CODES:X7 TRID:55 VENDORID:9"
    )
    # JPMorgan's text still reads label by label beside them
    (chase,) = _parse("bai2_chase_ach_text.bai").records
    assert (chase.payer_name, chase.payer_account) == ("Square Inc", "9424300002")
