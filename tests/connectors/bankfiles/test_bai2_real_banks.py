"""BAI2 files in the shapes public bank samples show (values our own): several files sent in
one transmission, NatWest's text cut at 80 characters mid-word without a record length in
its 01 header, and credit type codes that are the bank's own or one's own items coming back
(BAI2 "Cash Management Balance Reporting Specifications Version 2", Appendix A)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import select, update

from canonical.models import Remittance
from canonical.store import Store
from connectors.bankfiles.reader import parse_bank_bytes
from connectors.bankfiles.records import ParseResult
from sync.ingest import ingest_file


def _file(creation: str, as_of: str, details: list[str], modifier: str = "2") -> list[str]:
    """One BAI2 file (01 to 99) of one account whose 16 records are ``details``; its
    trailers add up."""
    total = sum(int(d.split(",")[2]) for d in details if d.startswith("16,"))
    return [
        f"01,121140399,NWTRADERS,{creation},1,,,2/",
        f"02,NWTRADERS,121140399,1,{as_of},2400,USD,{modifier}/",
        "03,000123456789,USD,010,500000,,/",
        *details,
        f"49,{total + 500000},{len(details) + 2}/",
        f"98,{total + 500000},1,{len(details) + 4}/",
        f"99,{total + 500000},1,{len(details) + 6}/",
    ]


def _parse(lines: list[str], name: str = "bank.bai") -> ParseResult:
    return parse_bank_bytes(("\r\n".join(lines) + "\r\n").encode(), name)


# --- several files in one transmission ------------------------------------------------------


def test_every_file_of_a_transmission_is_read() -> None:
    """Two files, each 01 to 99, one after the other: the second's credits were dropped
    without a word (the reader stopped at the first 99)."""
    first = _file("260318,0600", "260317", ["16,142,490100,,ACH0001,,NORTHWIND ACH PMT/"])
    second = _file("260319,0600", "260318", ["16,195,1250000,0,FW0002,,ORG=BETA LLC/"])
    result = _parse(first + second)
    assert (result.errors, result.warnings) == ([], [])
    assert [(r.location, r.amount, r.value_date, r.bank_reference) for r in result.records] == [
        ("line 4", Decimal("4901.00"), date(2026, 3, 17), "ACH0001"),
        ("line 11", Decimal("12500.00"), date(2026, 3, 18), "FW0002"),
    ]
    assert result.records[1].payer_name == "BETA LLC"


def test_a_file_cut_short_before_the_next_file_keeps_both() -> None:
    first = _file("260318,0600", "260317", ["16,142,490100,,ACH0001,,NORTHWIND ACH PMT/"])[:4]
    second = _file("260319,0600", "260318", ["16,195,1250000,0,FW0002,,ORG=BETA LLC/"])
    result = _parse(first + second)
    assert [(r.location, r.amount) for r in result.records] == [
        ("line 4", Decimal("4901.00")),
        ("line 8", Decimal("12500.00")),
    ]
    assert result.errors == []
    assert "ends without its 99 file trailer" in result.warnings[-1].reason


def test_the_same_item_in_an_interim_and_the_final_file_keeps_one_key() -> None:
    """An interim report and the day's final one sent together: the item both list under one
    bank reference is one item (one key), not two kept apart by their places."""
    detail = "16,195,1250000,0,FW0002,,ORG=BETA LLC/"
    interim = _file("260317,1200", "260317", [detail], modifier="3")
    final = _file("260318,0600", "260317", [detail], modifier="2")
    records = _parse(interim + final).records
    assert len(records) == 2
    assert records[0].dedup_key == records[1].dedup_key


def test_records_after_the_file_trailer_are_an_error_naming_the_line() -> None:
    """A group after the 99 with no 01 before it belongs to no file: it is left out, named."""
    lines = _file("260318,0600", "260317", ["16,142,490100,,ACH0001,,NORTHWIND ACH PMT/"])
    lines += [
        "02,NWTRADERS,121140399,1,260318,2400,USD,2/",
        "03,000123456789,USD/",
        "16,195,1250000,0,FW0002,,ORG=BETA LLC/",
        "49,1250000,3/",
        "98,1250000,1,5/",
    ]
    result = _parse(lines)
    assert [(r.location, r.amount) for r in result.records] == [("line 4", Decimal("4901.00"))]
    assert [(e.location, e.reason) for e in result.errors] == [
        (
            "line 8",
            "a 02 group header after the 99 file trailer (no 01 file header before it): it and "
            "the records after it up to the next 01 are left out",
        )
    ]


# --- NatWest: text cut at 80 characters, no record length stated ---------------------------


def _natwest(text_lines: list[str]) -> list[str]:
    """NatWest's layout: no physical record length in the 01, a 16 ended before its text and
    the text in 88 records; a 399 of 0.89 GBP."""
    return [
        "01,NWBKGB2L,7654321,260318,14:59:35,2215,,,2/",
        "02,7654321,NWBKGB2L,1,260317,2400,,/",
        "03,60000412345678,GBP,010,36521,,/",
        "16,399,89,,,/",
        *(f"88,{t}" for t in text_lines),
        f"49,36610,{len(text_lines) + 3}/",
        f"98,36610,1,{len(text_lines) + 5}/",
        f"99,36610,1,{len(text_lines) + 7}/",
    ]


def test_natwest_text_cut_once_at_80_characters_keeps_its_blank() -> None:
    """NatWest's own sample: one 88 cut at 80 mid-word, no other text carried on. A bank
    wrapping at words ends a wrapped line at 80 as often as a word ends there, so one full
    line is no proof of a cut: the blank is kept (an invoice number split in two leaves the
    credit to a person; two numbers glued into one could apply it to the wrong invoice)."""
    whole = (
        "TFR XBANKGO26007680SJ CAT EUR 2 GBPXBANKGO26007680BGC HARBOURVIEW LTD INV 20264471 AC TFR"
    )
    first = whole[: 80 - len("88,")]
    assert first.endswith("INV 202")
    result = _parse(_natwest([first, whole[len(first) :]]))
    assert (result.errors, result.warnings) == ([], [])
    [record] = result.records
    assert (record.amount, record.currency) == (Decimal("0.89"), "GBP")
    assert record.free_text == whole.replace("INV 202", "INV 202 ")


def test_natwest_text_cut_mid_word_at_80_characters_is_joined() -> None:
    """Two lines carried on, each filling the 80 characters: the bank cuts at 80, mid-word
    ("INV 202" / "64471" is INV 20264471)."""
    whole = (
        "TFR XBANKGO26007680SJ CAT EUR 2 GBPXBANKGO26007680BGC HARBOURVIEW LTD INV 20264471 AC "
        "TFR XBANKGO26007681SJ CAT EUR 2 GBPXBANKGO26007681BGC HARBOURVIEW LTD CLIENT SECCY"
    )
    cut = 80 - len("88,")
    lines = [whole[:cut], whole[cut : 2 * cut], whole[2 * cut :]]
    assert [len(f"88,{t}") for t in lines[:2]] == [80, 80] and lines[0].endswith("INV 202")
    assert not lines[1].endswith(" ") and not lines[2].startswith(" ")
    result = _parse(_natwest(lines))
    assert (result.errors, result.warnings) == ([], [])
    [record] = result.records
    assert (record.amount, record.currency, record.free_text) == (Decimal("0.89"), "GBP", whole)


@pytest.mark.parametrize("longer", ["", "X" * 20])
def test_text_wrapped_at_words_keeps_its_blank(longer: str) -> None:
    """A line shorter than 80 (or a file with lines past 80: records of any length) ended
    where a word did: the continuation is another word."""
    first = "TFR XBANKGO26007680SJ CAT EUR 2 GBP INV-5373 HARBOURVIEW" + longer
    result = _parse(_natwest([first, "CLIENT SECCY"]))
    assert [r.free_text for r in result.records] == [f"{first} CLIENT SECCY"]


# --- credit type codes that are no customer paying ------------------------------------------


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("168", "ACH Return Item or Adjustment Settlement"),
        ("397", "Float Adjustment"),
        ("398", "Miscellaneous Fee Refund"),
    ],
)
def test_returned_ach_settlement_float_adjustment_and_fee_refund_are_no_receipts(
    code: str, name: str
) -> None:
    details = [f"16,{code},125000,0,BK0001,,SETTLEMENT/", "16,165,42500,0,ACH0002,,ACME CORP/"]
    result = _parse(_file("260318,0600", "260317", details))
    assert [(r.amount, r.bank_reference) for r in result.records] == [
        (Decimal("425.00"), "ACH0002")
    ]
    assert [(w.location, w.reason) for w in result.warnings] == [
        (
            "line 4",
            f"a credit of 1250.00 USD with type code {code} ({name}): not a customer paying, "
            "left out",
        )
    ]


# --- a bank wrapping at words, and keys the reading before stored ---------------------------

# SVB's layout: no record length in the 01, as-of-date modifier 2, an ACH credit with no bank
# reference (the customer's alone): the credit is keyed by its account, day, amount and text.
# Its one wrapped line happens to end at column 80, where a word ends.
SVB_WRAPPED_AT_A_WORD = """\
01,121140399,121140399,260318,0754,1,,,2/
02,121140399,121140399,1,260317,,USD,2/
03,1234567890,USD,010,34726979,,,015,35217175,,,/
16,142,490196,,,172629,/
88,ACME CORP. ACH PMT INVOICES PAID INV 4471 INV 4472 INV 4473 INV 4474 INV 4475
88,4476 INV 4477 THANK YOU
49,70434350,5/
98,70434350,1,7/
99,70434350,1,9/
"""
# the key the reader before fd21fca stored it under (text joined with a blank)
SVB_WRAPPED_KEY = "bai2-day:4399a4e74a0044f31eb2a769dece6bd8b20e67386d15bba9"

# the same layout from a bank cutting at 80 mid-word: both lines carried on fill 80
SVB_CUT_AT_80 = """\
01,121140399,121140399,260318,0754,1,,,2/
02,121140399,121140399,1,260317,,USD,2/
03,1234567890,USD,010,34726979,,,015,35217175,,,/
16,142,490196,,,172629,/
88,ACME CORP ACH PMT CTX INVOICES PAID INV 4471 INV 4472 INV 4473 INV 4474 INV 4
88,4755 INV 4476 INV 4477 INV 4478 INV 4479 INV 4480 INV 44811 INV 4482 INV 4483
88,3 THANK YOU
49,70434350,6/
98,70434350,1,8/
99,70434350,1,10/
"""
# the key the reader before fd21fca stored it under ("INV 4 4755 ... INV 4483 3 THANK YOU")
SVB_CUT_KEY_BEFORE = "bai2-day:6a0236fe1ba2221eb135d8540bcbd3493f7399a84470c1b9"


def test_a_line_wrapped_at_a_word_ending_at_column_80_keeps_its_blank() -> None:
    """ "INV 4475" / "4476" was glued into a made-up invoice number INV 44754476."""
    result = parse_bank_bytes(SVB_WRAPPED_AT_A_WORD.encode(), "svb.bai")
    assert (result.errors, result.warnings) == ([], [])
    [record] = result.records
    assert (record.amount, record.value_date, record.end_to_end_id) == (
        Decimal("4901.96"),
        date(2026, 3, 17),
        "172629",
    )
    assert record.free_text == (
        "ACME CORP. ACH PMT INVOICES PAID INV 4471 INV 4472 INV 4473 INV 4474 INV 4475 4476 "
        "INV 4477 THANK YOU"
    )
    assert record.dedup_key == SVB_WRAPPED_KEY


def test_text_cut_at_80_is_joined_and_keeps_the_key_it_was_stored_under_before() -> None:
    result = parse_bank_bytes(SVB_CUT_AT_80.encode(), "svb.bai")
    assert (result.errors, result.warnings) == ([], [])
    [record] = result.records
    assert record.amount == Decimal("4901.96")
    assert record.free_text == (
        "ACME CORP ACH PMT CTX INVOICES PAID INV 4471 INV 4472 INV 4473 INV 4474 INV 44755 "
        "INV 4476 INV 4477 INV 4478 INV 4479 INV 4480 INV 44811 INV 4482 INV 44833 THANK YOU"
    )
    assert record.dedup_key != SVB_CUT_KEY_BEFORE
    assert SVB_CUT_KEY_BEFORE in record.also_known_as
    assert record.also_known_as[0].startswith("bai2:")  # its place's key stays first


def _stored(store: Store) -> list[Remittance]:
    with store.session() as session:
        return list(session.exec(select(Remittance)).all())


@pytest.mark.parametrize(
    ("text", "key_before"),
    [(SVB_WRAPPED_AT_A_WORD, SVB_WRAPPED_KEY), (SVB_CUT_AT_80, SVB_CUT_KEY_BEFORE)],
    ids=["wrapped-at-a-word", "cut-at-80"],
)
def test_a_file_stored_by_the_reading_before_is_a_duplicate_when_ingested_again(
    store: Store, tmp_path: Path, text: str, key_before: str
) -> None:
    """The credit was stored under the key the reader before fd21fca gave it; ingesting the
    file again stored its cash a second time."""
    path = tmp_path / "svb.bai"
    path.write_text(text)
    assert ingest_file(store, path).new == 1
    with store.session() as session:  # as the reader before stored it
        session.exec(update(Remittance).values(source_key=key_before))
    again = ingest_file(store, path)
    assert (again.new, again.duplicate, again.rejected) == (0, 1, 0)
    rows = _stored(store)
    assert [(r.source_key, r.amount_minor) for r in rows] == [(key_before, 490196)]


# --- findings of a later file of a transmission ---------------------------------------------

TWO_FILES_SECOND_CUT = """\
01,121140399,NWTRADERS,260318,0600,1,,,2/
02,NWTRADERS,121140399,1,260317,2400,USD,2/
03,000123456789,USD,010,500000,,/
16,142,490100,,ACH0001,,NORTHWIND ACH PMT/
49,990100,3/
98,990100,1,5/
99,990100,1,7/
01,121140399,NWTRADERS,260319,0600,2,,,2/
02,NWTRADERS,121140399,1,260318,2400,USD,2/
03,000123456789,USD,010,500000,,/
16,195,1250000,0,FW0002,,ORG=BETA LLC/
49,1750000,3/
98,1750000,1,5/
"""


def test_a_later_file_without_its_99_is_named_by_its_01_line() -> None:
    """The warning said "file", as if of the transmission's first file."""
    result = parse_bank_bytes(TWO_FILES_SECOND_CUT.encode(), "transmission.bai")
    assert [(r.location, r.amount) for r in result.records] == [
        ("line 4", Decimal("4901.00")),
        ("line 11", Decimal("12500.00")),
    ]
    assert result.errors == []
    assert [(w.location, w.reason) for w in result.warnings] == [
        (
            "line 8",
            "BAI2 file ends without its 99 file trailer (cut short?) (records kept; check the "
            "file is complete)",
        )
    ]


# --- an earlier key never another credit's own ---------------------------------------------

_CUT_HEAD = "88,ACME CORP ACH PMT CTX INVOICES PAID SEE REMITTANCE ADVICE SENT BY EMAIL INV 1\n"
INTERIM_B = (
    "01,121140399,121140399,230214,0754,1,,,2/\n"
    "02,121140399,121140399,1,220201,,USD,1/\n"
    "03,1234567890,USD,010,34726979,,,015,35217175,,,/\n"
    "16,142,100000,,,,/\n" + _CUT_HEAD + "88, 34 PAID\n"
    "49,100000,5/\n98,100000,1,7/\n99,100000,1,9/\n"
)
FINAL_ABC = (
    "01,121140399,121140399,230214,0754,1,,,2/\n"
    "02,121140399,121140399,1,220201,,USD,2/\n"
    "03,1234567890,USD,010,34726979,,,015,35217175,,,/\n"
    "16,142,100000,,,,/\n" + _CUT_HEAD + "88,34 PAID\n"
    "16,142,100000,,,,/\n" + _CUT_HEAD + "88, 34 PAID\n"
    "16,142,100000,,,,/\n"
    "88,BETA LLC ACH PMT CTX REMITTANCE FOR INVOICES LISTED BELOW WITH THANKS, INV 56\n"
    "88,8 DONE\n"
    "49,300000,11/\n98,300000,1,13/\n99,300000,1,15/\n"
)


def test_a_credits_earlier_key_is_never_another_credits_own(store: Store, tmp_path: Path) -> None:
    """Credit A (cut mid-number, INV 134) kept, as its reading before the cut, the key credit
    B (INV 1 34) has now: the interim report's B stored, the final report's A was taken for
    it and its 1000.00 lost."""
    interim, final = tmp_path / "interim.bai", tmp_path / "final.bai"
    interim.write_text(INTERIM_B)
    final.write_text(FINAL_ABC)
    assert ingest_file(store, interim).new == 1
    again = ingest_file(store, final)
    assert (again.new, again.duplicate) == (2, 1)
    assert sum(r.amount_minor for r in _stored(store)) == 300000
