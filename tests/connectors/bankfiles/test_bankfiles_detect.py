"""Format detection reads the content, not the file name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from connectors.bankfiles import BankFileFormat, detect_format, parse_bank_bytes

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bankfiles"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("bai2_lockbox_ach.bai", BankFileFormat.BAI2),
        ("camt052_v08_intraday.xml", BankFileFormat.CAMT_052),
        ("camt052_v08_intraday_later.xml", BankFileFormat.CAMT_052),
        ("camt053_v02_statement.xml", BankFileFormat.CAMT_053),
        ("camt053_v08_statement.xml", BankFileFormat.CAMT_053),
        ("camt054_v04_notification.xml", BankFileFormat.CAMT_054),
        ("camt054_v08_structured.xml", BankFileFormat.CAMT_054),
        ("nacha_ccd_ctx.ach", BankFileFormat.NACHA),
        ("edi820_remittance.edi", BankFileFormat.EDI_820),
        ("not_a_bank_file.csv", None),
    ],
)
def test_fixture_formats(name: str, expected: BankFileFormat | None) -> None:
    assert detect_format((FIXTURES / name).read_bytes()) is expected


def test_extension_does_not_matter(tmp_path: Path) -> None:
    disguised = tmp_path / "statement.txt"
    disguised.write_bytes((FIXTURES / "camt054_v08_structured.xml").read_bytes())
    assert detect_format(disguised.read_bytes()) is BankFileFormat.CAMT_054


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xef\xbb\xbf01,021000021,ACME,261120,0600,1,80,,2/\n", BankFileFormat.BAI2),
        (b"\r\n  ST*820*0001~BPR*C*1*C*ACH~SE*3*0001~", BankFileFormat.EDI_820),
        (b"<?xml version='1.0'?><Document xmlns='urn:x'><Other/></Document>", None),
        (b"ISA*00*" + b" " * 120 + b"ST*810*1~", None),
        (b"", None),
    ],
)
def test_edge_content(data: bytes, expected: BankFileFormat | None) -> None:
    assert detect_format(data) is expected


def test_nacha_header_with_trailing_blanks_stripped() -> None:
    header = b"101 071000013 0440000362612040815A094101FIRST LAKE BANK        ACME PARTS"
    assert detect_format(header + b"\r\n5220HARBOR FOODS INC\r\n") is BankFileFormat.NACHA
    assert detect_format(header + b"\n5220HARBOR FOODS INC\n") is BankFileFormat.NACHA


@pytest.mark.parametrize("version", [f"{v:02d}" for v in range(2, 14)])
def test_camt052_by_namespace_any_version(version: str) -> None:
    namespace = f"urn:iso:std:iso:20022:tech:xsd:camt.052.001.{version}"
    prefixed = f'<?xml version="1.0"?><r:Document xmlns:r="{namespace}"><r:BkToCstmrAcctRpt>'
    assert detect_format(prefixed.encode()) is BankFileFormat.CAMT_052
    # the namespace alone decides when the root element is not one arsync knows
    unknown_root = f'<Document xmlns="{namespace}"><Unexpected/></Document>'
    assert detect_format(unknown_root.encode()) is BankFileFormat.CAMT_052


def test_root_element_wins_over_a_namespace_mentioned_elsewhere() -> None:
    data = (
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.052.001.08">'
        b"<BkToCstmrAcctRpt><GrpHdr><AddtlInf>replaces camt.053.001.08 STM-1</AddtlInf>"
    )
    assert detect_format(data) is BankFileFormat.CAMT_052


@pytest.mark.parametrize(
    "name",
    [
        "camt053_v08_statement.xml",
        "bai2_chase_ach_text.bai",
        "edi820_remittance.edi",
        "nacha_ccd_ctx.ach",
    ],
)
@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le"])
def test_a_file_saved_as_unicode_reads_as_its_utf8_self(name: str, encoding: str) -> None:
    """Windows tools save "Unicode" text as UTF-16 (or UTF-32) with a byte order mark; an
    XML declaration then names that encoding. The file reads as it does in UTF-8: same
    records, same keys."""
    raw = (FIXTURES / name).read_bytes()
    text = raw.decode("utf-8-sig").replace('encoding="UTF-8"', f'encoding="{encoding[:6]}"')
    wide = "\ufeff".encode(encoding) + text.encode(encoding)
    expected = parse_bank_bytes(raw, name)
    got = parse_bank_bytes(wide, name)
    assert expected.records and not got.errors
    assert (got.format, got.records) == (expected.format, expected.records)


@pytest.mark.parametrize(
    ("name", "wide"),
    [
        # a lone Ctrl-Z after a UTF-16 body: padding shorter than one character
        ("bai2_chase_ach_text.bai", lambda text: b"\xff\xfe" + text.encode("utf-16-le") + b"\x1a"),
        ("nacha_ccd_ctx.ach", lambda text: b"\xfe\xff" + text.encode("utf-16-be") + b"\x00"),
        # no byte order mark: ASCII with a NUL beside each character
        ("edi820_remittance.edi", lambda text: text.encode("utf-16-le")),
        ("bai2_chase_ach_text.bai", lambda text: text.encode("utf-16-be")),
    ],
)
def test_a_unicode_file_padded_or_without_its_mark_reads_too(
    name: str, wide: Callable[[str], bytes]
) -> None:
    raw = (FIXTURES / name).read_bytes()
    expected = parse_bank_bytes(raw, name)
    got = parse_bank_bytes(wide(raw.decode("utf-8-sig")), name)
    assert expected.records and not got.errors
    assert got.records == expected.records
