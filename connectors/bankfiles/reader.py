"""Read any supported bank file: detect its format, then parse it."""

from __future__ import annotations

import codecs
import re
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from canonical.money import Money, MoneyError
from connectors.bankfiles.bai2file import parse_bai2
from connectors.bankfiles.camt import parse_camt
from connectors.bankfiles.detect import detect_format
from connectors.bankfiles.edi820 import parse_edi820
from connectors.bankfiles.nacha import parse_nacha
from connectors.bankfiles.records import (
    END_PADDING,
    BankFileFormat,
    ParseResult,
    RawRemittance,
    RecordError,
    StructuredRef,
    warn_detail_left_out,
)

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


# the amounts a payer states of one document, by the field of a structured reference
_DETAIL_AMOUNTS = ("amount_paid", "invoice_amount", "discount", "adjustment")
_DETAIL_AMOUNT_LEFT_OUT = (
    "this amount is left out, the document and the rest of the payer's remittance detail are kept"
)


def _storable(value: Decimal, currency: str) -> str | None:
    """Why ``value`` cannot be stored as an amount in ``currency`` (more decimals than the
    currency has, too large); ``None`` when it can."""
    try:
        Money(value, currency, exact=True)
    except MoneyError as exc:
        return str(exc)
    return None


def _detail_in_currency(result: ParseResult, record: RawRemittance) -> RawRemittance:
    """``record`` without the amounts of its payer-written detail that cannot be stored in its
    currency, each left out with a warning.

    ISO 20022 amounts carry up to five decimals and X12's as many as the payer writes: an
    invoice amount of ``1000.125`` EUR, a discount of ``20.005`` USD. Such an amount says
    nothing certain in cents, and the bank's credit it came with must not be lost over it (the
    canonical model stores every amount of a remittance in its currency's minor units)."""
    refs: list[StructuredRef] = []
    for index, ref in enumerate(record.structured_refs, start=1):
        kept: dict[str, Decimal | None] = {}
        for name in _DETAIL_AMOUNTS:
            value: Decimal | None = getattr(ref, name)
            why = _storable(value, record.currency) if value is not None else None
            kept[name] = value if why is None else None
            if why is not None:
                warn_detail_left_out(
                    result,
                    f"{record.location}, structured reference {index} ({ref.ref}), {name}",
                    why,
                    _DETAIL_AMOUNT_LEFT_OUT,
                    f"{record.amount} {record.currency} "
                    + ("credit" if record.amount > 0 else "return"),
                    record.raw,
                )
        refs.append(
            replace(
                ref,
                amount_paid=kept["amount_paid"],
                invoice_amount=kept["invoice_amount"],
                discount=kept["discount"],
                adjustment=kept["adjustment"],
            )
        )
    if refs == list(record.structured_refs):
        return record
    return replace(record, structured_refs=tuple(refs))


def _with_storable_detail(result: ParseResult) -> ParseResult:
    """``result`` with every record's payer-written amounts storable (see
    :func:`_detail_in_currency`); a record whose own amount cannot be stored stays as it is (the
    bank's amount is never changed: storing it is refused, naming it)."""
    result.records = [
        _detail_in_currency(result, record)
        if _storable(record.amount, record.currency) is None
        else record
        for record in result.records
    ]
    return result


def parse_bank_bytes(data: bytes, source_file: str) -> ParseResult:
    """Detect and parse the content of one bank file named ``source_file``; the amounts a
    payer states of its documents are left out where they cannot be stored in the currency
    (see :func:`_detail_in_currency`)."""
    return _with_storable_detail(_parsed(data, source_file))


def _parsed(data: bytes, source_file: str) -> ParseResult:
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
