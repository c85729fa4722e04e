"""Read any supported bank file: detect its format, then parse it."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from connectors.bankfiles.bai2file import parse_bai2
from connectors.bankfiles.camt import parse_camt
from connectors.bankfiles.detect import detect_format
from connectors.bankfiles.edi820 import parse_edi820
from connectors.bankfiles.nacha import parse_nacha
from connectors.bankfiles.records import BankFileFormat, ParseResult, RecordError

# UTF-32's marks first: UTF-32 LE's begins with UTF-16 LE's
_WIDE_ENCODINGS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_DECLARED_ENCODING = re.compile(rb"^(\s*<\?xml[^>]*?\bencoding\s*=\s*)([\"'])[^\"']*\2")


def as_utf8(data: bytes) -> bytes:
    """A file saved as UTF-16 or UTF-32 (what Windows calls "Unicode"), told by its byte
    order mark, as UTF-8; an XML declaration naming its encoding is made to say UTF-8. Any
    other file, or one that does not decode, is returned as it is."""
    for mark, encoding in _WIDE_ENCODINGS:
        if data.startswith(mark):
            try:
                text = data[len(mark) :].decode(encoding)
            except UnicodeDecodeError:
                return data
            return _DECLARED_ENCODING.sub(rb"\1\2UTF-8\2", text.encode("utf-8"), count=1)
    return data


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def parse_bank_bytes(data: bytes, source_file: str) -> ParseResult:
    """Detect and parse the content of one bank file named ``source_file``."""
    data = as_utf8(data)
    fmt = detect_format(data)
    if fmt is None:
        result = ParseResult(source_file=source_file, format=None)
        result.errors.append(
            RecordError(
                source_file,
                "file",
                "not a recognised bank file (BAI2, camt.052, camt.053, camt.054, NACHA or X12 820)",
            )
        )
        return result
    if fmt in (BankFileFormat.CAMT_052, BankFileFormat.CAMT_053, BankFileFormat.CAMT_054):
        result = parse_camt(data, source_file)
        result.format = result.format or fmt
        return result
    if fmt is BankFileFormat.BAI2:
        return parse_bai2(_text(data), source_file)
    if fmt is BankFileFormat.NACHA:
        return parse_nacha(_text(data), source_file)
    return parse_edi820(_text(data), source_file)


def parse_bank_file(path: Path) -> ParseResult:
    """Detect and parse one bank file on disk; an unreadable file is one error."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        result = ParseResult(source_file=path.name, format=None)
        result.errors.append(RecordError(path.name, "file", f"cannot read: {exc.strerror}"))
        return result
    return parse_bank_bytes(data, path.name)
