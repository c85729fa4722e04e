"""BAI2 files in the shapes public bank samples show (values our own): several files sent in
one transmission, NatWest's text cut at 80 characters mid-word without a record length in
its 01 header, and credit type codes that are the bank's own or one's own items coming back
(BAI2 "Cash Management Balance Reporting Specifications Version 2", Appendix A)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from connectors.bankfiles.reader import parse_bank_bytes
from connectors.bankfiles.records import ParseResult


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


def test_natwest_text_cut_mid_word_at_80_characters_is_joined() -> None:
    """The invoice number cut across the two 88s was read as two words ("INV 202 64471")."""
    whole = (
        "TFR XBANKGO26007680SJ CAT EUR 2 GBPXBANKGO26007680BGC HARBOURVIEW LTD INV 20264471 AC TFR"
    )
    first = whole[: 80 - len("88,")]
    assert first.endswith("INV 202")
    result = _parse(_natwest([first, whole[len(first) :]]))
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
