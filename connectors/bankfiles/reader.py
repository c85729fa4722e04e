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
from connectors.bankfiles.records import END_PADDING, BankFileFormat, ParseResult, RecordError

# UTF-32's marks first: UTF-32 LE's begins with UTF-16 LE's
_WIDE_ENCODINGS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_DECLARED_ENCODING = re.compile(rb"^(\s*<\?xml[^>]*?\bencoding\s*=\s*)([\"'])[^\"']*\2")


def _wide_encoding(data: bytes) -> tuple[str, bytes] | None:
    """The UTF-16/32 encoding of a file and its body after the byte order mark; a file
    without a mark is UTF-16 when its first characters are ASCII with a NUL beside each (every
    format arsync reads begins with ASCII)."""
    for mark, encoding in _WIDE_ENCODINGS:
        if data.startswith(mark):
            return encoding, data[len(mark) :]
    head = data[:64]
    if len(head) >= 8:
        even, odd = head[0::2], head[1::2]
        if not any(odd) and all(0 < b < 0x80 for b in even):
            return "utf-16-le", data
        if not any(even) and all(0 < b < 0x80 for b in odd):
            return "utf-16-be", data
    return None


def as_utf8(data: bytes) -> bytes:
    """A file saved as UTF-16 or UTF-32 (what Windows calls "Unicode") as UTF-8; an XML
    declaration naming its encoding is made to say UTF-8. Padding a transfer left after it
    that is shorter than one character (a lone Ctrl-Z or NUL) is dropped. Any other file, or
    one that does not decode, is returned as it is."""
    found = _wide_encoding(data)
    if found is None:
        return data
    encoding, body = found
    partial = len(body) % (4 if encoding.startswith("utf-32") else 2)
    if partial and not body[-partial:].strip(END_PADDING.encode()):
        body = body[:-partial]
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError:
        return data
    return _DECLARED_ENCODING.sub(rb"\1\2UTF-8\2", text.encode("utf-8"), count=1)


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
