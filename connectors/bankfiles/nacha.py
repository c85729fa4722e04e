"""NACHA ACH files (CCD, CCD+ and CTX): 94-character records 1, 5, 6, 7, 8 and 9.

In a file of received entries the batch header names the originator (our customer, the
payer) and each credit entry is one remittance. CCD+ carries one addenda of free text (often
a single X12 RMR segment); CTX addenda concatenate to an X12 820 transaction set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from connectors.bankfiles.amounts import minor_units_amount, parse_date
from connectors.bankfiles.edi820 import RemittanceAdvice, read_remittance_advice
from connectors.bankfiles.records import (
    BankFileError,
    BankFileFormat,
    ParseResult,
    RawRemittance,
    RecordError,
    clean,
    dedup_key,
    line_location,
)
from connectors.bankfiles.x12 import infer_delimiters, split_segments

RECORD_LENGTH = 94
_RMR_START = re.compile(r"\bRMR\W")
CREDIT_CODES = frozenset({"22", "32", "42", "52"})  # live credits; prenotes (23, 33, ...) excluded
_RETURN_ADDENDA = frozenset({"98", "99"})  # 98 notification of change, 99 return
_NOT_PAYMENTS = frozenset({"COR"})  # batches of notifications of change


@dataclass
class _Batch:
    line: int
    company_name: str
    company_id: str
    sec_code: str
    entry_description: str
    effective_date: date | None
    batch_number: str


@dataclass
class _Entry:
    line: int
    batch: _Batch
    transaction_code: str
    amount_field: str
    identification: str
    receiver_name: str
    trace: str
    lines: list[str]
    addenda: list[tuple[int, str, str]] = field(default_factory=list)  # line, seq, text
    addenda_types: set[str] = field(default_factory=set)


def records_of(text: str) -> list[tuple[int, str]]:
    """(line number, record) pairs; unbroken 94-character blocks are split into records."""
    body = text.lstrip("\ufeff")
    if "\n" not in body.strip("\r\n") and len(body.strip("\r\n")) > RECORD_LENGTH:
        flat = body.strip("\r\n")
        return [
            (i // RECORD_LENGTH + 1, flat[i : i + RECORD_LENGTH])
            for i in range(0, len(flat), RECORD_LENGTH)
        ]
    return [(n, line.rstrip("\r\n")) for n, line in enumerate(body.split("\n"), start=1)]


def parse_nacha(text: str, source_file: str) -> ParseResult:
    """Credit entries of CCD/CCD+/CTX (and other SEC codes) batches as remittances."""
    result = ParseResult(source_file=source_file, format=BankFileFormat.NACHA)
    header: str | None = None
    batch: _Batch | None = None
    entry: _Entry | None = None
    position = 0

    def finish() -> None:
        nonlocal entry, position
        if entry is not None and header is not None:
            position += 1
            _emit(result, source_file, header, entry, position)
        entry = None

    for line_no, raw_line in records_of(text):
        if not raw_line.strip():
            continue
        loc = line_location(line_no)
        if len(raw_line) > RECORD_LENGTH:
            finish()
            result.errors.append(
                RecordError(
                    source_file,
                    loc,
                    f"record is {len(raw_line)} characters long, NACHA records are 94",
                    raw_line,
                )
            )
            continue
        rec = raw_line.ljust(RECORD_LENGTH)
        kind = rec[0]
        if header is None and kind != "1":
            result.errors.append(
                RecordError(source_file, loc, "file does not start with a file header (1) record")
            )
            return result
        if kind == "1":
            header = rec
        elif kind == "5":
            finish()
            try:
                batch = _batch(rec, line_no)
            except BankFileError as exc:
                batch = None
                result.errors.append(RecordError(source_file, exc.location, exc.reason, raw_line))
        elif kind == "6":
            finish()
            if batch is None:
                result.errors.append(
                    RecordError(source_file, loc, "entry detail outside a valid batch", raw_line)
                )
                continue
            entry = _Entry(
                line=line_no,
                batch=batch,
                transaction_code=rec[1:3],
                amount_field=rec[29:39],
                identification=rec[39:54].strip(),
                receiver_name=(rec[58:74] if batch.sec_code == "CTX" else rec[54:76]).strip(),
                trace=rec[79:94].strip(),
                lines=[raw_line],
            )
        elif kind == "7":
            if entry is None:
                result.errors.append(
                    RecordError(source_file, loc, "addenda record without an entry", raw_line)
                )
                continue
            entry.lines.append(raw_line)
            entry.addenda_types.add(rec[1:3])
            if rec[1:3] == "05":
                entry.addenda.append((line_no, rec[83:87], rec[3:83]))
        elif kind == "8":
            finish()
            batch = None
        elif kind == "9":
            finish()
        else:
            finish()
            result.errors.append(
                RecordError(source_file, loc, f"unknown record type {kind!r}", raw_line)
            )
    finish()
    return result


def _batch(rec: str, line_no: int) -> _Batch:
    loc = line_location(line_no)
    return _Batch(
        line=line_no,
        company_name=rec[4:20].strip(),
        company_id=rec[40:50].strip(),
        sec_code=rec[50:53].strip().upper(),
        entry_description=rec[53:63].strip(),
        effective_date=_effective_date(rec[69:75], loc),
        batch_number=rec[87:94].strip(),
    )


def _effective_date(value: str, loc: str) -> date | None:
    """The batch's effective entry date; blank or zeros (returns, NOCs) mean none stated."""
    if not value.strip().strip("0"):
        return None
    return parse_date(value, ("%y%m%d",), f"{loc}, effective entry date")


def _emit(result: ParseResult, source_file: str, header: str, entry: _Entry, position: int) -> None:
    loc = line_location(entry.line)
    raw = "\n".join(entry.lines)
    if entry.transaction_code not in CREDIT_CODES:
        return
    if entry.batch.sec_code in _NOT_PAYMENTS or entry.addenda_types & _RETURN_ADDENDA:
        return  # a return, dishonored return or notification of change is not a receipt
    try:
        amount = minor_units_amount(entry.amount_field, "USD", f"{loc}, amount")
        addenda_text = "".join(
            text for _, _, text in sorted(entry.addenda, key=lambda a: a[1])
        ).rstrip()
        advice = RemittanceAdvice()
        segments_at = _RMR_START.search(addenda_text)
        if addenda_text and (segments_at or entry.batch.sec_code == "CTX"):
            advice = _addenda_advice(
                addenda_text[segments_at.start() if segments_at else 0 :], entry
            )
    except BankFileError as exc:
        result.errors.append(RecordError(source_file, exc.location, exc.reason, raw))
        return
    if amount == 0:
        return
    batch = entry.batch
    free_parts = [batch.entry_description]
    if entry.batch.sec_code != "CTX" and addenda_text:
        free_parts.append(addenda_text[: segments_at.start()] if segments_at else addenda_text)
    free_parts.extend(advice.notes)
    key = dedup_key(
        BankFileFormat.NACHA,
        header[3:13],
        header[13:23],
        header[23:33],
        header[33],
        batch.batch_number,
        entry.trace,
        position,
        amount,
    )
    result.records.append(
        RawRemittance(
            format=BankFileFormat.NACHA,
            source_file=source_file,
            location=loc,
            line=entry.line,
            amount=amount,
            currency="USD",
            dedup_key=key,
            raw=raw,
            value_date=batch.effective_date,
            payer_name=advice.payer_name or clean(batch.company_name),
            payer_account=batch.company_id or None,
            bank_reference=entry.trace or None,
            end_to_end_id=entry.identification or None,
            free_text=clean(" ".join(p for p in free_parts if p)),
            structured_refs=tuple(advice.refs),
        )
    )


def _addenda_advice(text: str, entry: _Entry) -> RemittanceAdvice:
    """X12 segments carried in the addenda, read with the 820 reader."""
    first_line = entry.addenda[0][0] if entry.addenda else entry.line
    try:
        segments = split_segments(text, infer_delimiters(text))
        return read_remittance_advice(segments)
    except BankFileError as exc:
        raise BankFileError(
            f"line {first_line} (addenda), {exc.location.replace('line 1, ', '')}",
            exc.reason,
        ) from exc
