"""BAI2 files sent as fixed-length physical records without line breaks.

Mainframe transfers send BAI2 as blocks of the record length the 01 header states (80 by
default), each padded with blanks. BAI2 lets a 16 or 88 record's text end without "/": such a
record ends where its block does. Errors and warnings name the record's number in the file.
"""

from __future__ import annotations

from decimal import Decimal

from connectors.bankfiles import parse_bank_bytes

_RECORDS = [
    "01,021000021,NORTHWINDCO,260115,0200,1,80,1,2/",
    "02,NORTHWINDCO,021000021,1,260114,2400,USD,2/",
    "03,000123456789,USD,010,1500000,,/",
    "16,165,425000,0,ACH0001,INV1001,PREAUTHORIZED ACH CREDIT ACME CORP",
    "88,PMT FOR INVOICES 1001 AND 1002",
    "16,195,1250000,0,FW0002,,FEDWIRE CREDIT B/O: GLOBEX LTD",
    "16,142,9O00,0,ACH0003,,ACH CREDIT",
    "49,3175000,6/",
    "98,3175000,1,8/",
    "99,3175000,1,10/",
]


def _blocks(records: list[str], size: int = 80) -> bytes:
    return "".join(record.ljust(size) for record in records).encode()


def test_a_detail_text_without_slash_ends_with_its_block() -> None:
    result = parse_bank_bytes(_blocks(_RECORDS), "fixed.bai")
    assert [(r.location, r.amount, r.bank_reference) for r in result.records] == [
        ("record 4", Decimal("4250.00"), "ACH0001"),
        ("record 6", Decimal("12500.00"), "FW0002"),
    ]
    first, wire = result.records
    assert first.free_text == "PREAUTHORIZED ACH CREDIT ACME CORP PMT FOR INVOICES 1001 AND 1002"
    assert wire.payer_name == "GLOBEX LTD"
    assert first.line == wire.line == 1
    (error,) = result.errors
    assert error.location == "record 7"
    assert "9O00" in error.reason
    assert result.warnings == []


def test_blocks_without_any_slash_and_of_another_stated_length() -> None:
    records = [r.rstrip("/").replace(",80,", ",100,") for r in _RECORDS]
    result = parse_bank_bytes(_blocks(records, 100), "fixed100.bai")
    assert [(r.location, r.amount) for r in result.records] == [
        ("record 4", Decimal("4250.00")),
        ("record 6", Decimal("12500.00")),
    ]
    assert [e.location for e in result.errors] == ["record 7"]


def test_records_of_a_file_on_one_line_are_named_by_their_number() -> None:
    text = "/".join(r.rstrip("/") for r in _RECORDS[:3]) + "/"
    text += "16,165,425000,0,ACH0001,INV1001,ACME/16,142,9O00,0,ACH0003,,ACH CREDIT/"
    text += "49,3175000,5/98,3175000,1,7/99,3175000,1,9/"
    result = parse_bank_bytes(text.encode(), "oneline.bai")
    assert [(r.location, r.line) for r in result.records] == [("record 4", 1)]
    assert [e.location for e in result.errors] == ["record 5"]


def test_a_long_record_of_a_file_with_line_breaks_is_never_cut_into_blocks() -> None:
    """A file of one record a line whose 16 runs past 80 (or 160) characters with ``01,`` or
    ``16,`` where a block would start is one record: the file was read as blocks, lost all
    its credits ("a second 01 file header") or cut the wire's text and invoice."""
    for words in ("DATED JAN 01, 2026 AND INVOICE 4480", "DATED DEC 16, 2025 AND INVOICE 4480"):
        head = "16,195,1016250,0,FW0001,,WIRE IN PMT DET:INVOICE 4471 "
        wire = head + " " * (80 - len(head) - 10) + words
        for padded in (wire + "/", (wire + "/").ljust(160)):
            text = "\n".join(
                [
                    "01,021000021,NORTHWINDCO,260115,0200,1,,,2/",
                    "02,NORTHWINDCO,021000021,1,260114,2400,USD,2/",
                    "03,000123456789,USD,010,1500000,,/",
                    "16,165,425000,0,ACH0001,,PREAUTHORIZED ACH CREDIT ACME CORP/",
                    padded,
                    "49,2941250,4/",
                    "98,2941250,1,6/",
                    "99,2941250,1,8/",
                ]
            )
            result = parse_bank_bytes(text.encode(), "long.bai")
            assert (result.errors, result.warnings) == ([], [])
            assert [(r.location, r.amount) for r in result.records] == [
                ("line 4", Decimal("4250.00")),
                ("line 5", Decimal("10162.50")),
            ]
            assert (result.records[1].free_text or "").endswith(words)
