"""BAI2 cash-management files, read with the ``bai2`` package.

Only credit detail records (type codes 100-399: 115 lockbox, 142 ACH credit, 164/165
corporate trade payments, 195 incoming wire, ...) become remittances. Amounts are implied-
decimal minor units in the account's currency (else the group's, else USD). Continuation
(88) text is joined to its detail record. Detail records the package cannot read are
reported by line and left out; the rest of the file is kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from bai2.bai2 import parse_from_lines
from bai2.constants import FundsType, TypeCodes
from bai2.models import Bai2File, TransactionDetail

from connectors.bankfiles.amounts import currency_code, minor_units_amount
from connectors.bankfiles.edi820 import read_remittance_advice
from connectors.bankfiles.records import (
    BankFileError,
    BankFileFormat,
    ParseResult,
    RawRemittance,
    RecordError,
    StructuredRef,
    clean,
    dedup_key,
    line_location,
)
from connectors.bankfiles.x12 import infer_delimiters, split_segments

_FUNDS_TYPES = {f.value for f in FundsType}
_LABELS = re.compile(
    r"(?P<label>ORIG CO NAME|ORIG ID|IND NAME|IND ID|ENTRY DESCR|B/O ACCT|BY ORDER OF|B/O"
    r"|ORIGINATOR|REMITTER|IBAN|OBI|TRACE|SEC)\s*[:=]\s*"
)
_NAME_LABELS = ("ORIG CO NAME", "B/O", "BY ORDER OF", "ORIGINATOR", "REMITTER")
_ACCOUNT_LABELS = ("ORIG ID", "B/O ACCT")
_RMR_START = re.compile(r"\bRMR\W")


@dataclass
class _LogicalRecord:
    code: str
    line: int
    lines: list[tuple[int, str]]  # (line number, text) of the record and its 88 continuations


def _logical_records(text: str) -> list[_LogicalRecord]:
    records: list[_LogicalRecord] = []
    for number, line in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        code = stripped[:2]
        if code == "88" and records:
            records[-1].lines.append((number, stripped))
        else:
            records.append(_LogicalRecord(code=code, line=number, lines=[(number, stripped)]))
    return records


def _detail_problem(record: _LogicalRecord) -> tuple[bool, str | None]:
    """(keep, reason): whether the package can read this 16 record, and why not."""
    fields = record.lines[0][1].rstrip("/").split(",")
    type_code = fields[1].strip() if len(fields) > 1 else ""
    amount = fields[2].strip() if len(fields) > 2 else ""
    funds = fields[3].strip() if len(fields) > 3 else ""
    if not re.fullmatch(r"\d{3}", type_code):
        return False, f"type code must be three digits: {type_code!r}"
    if type_code not in TypeCodes:
        if 100 <= int(type_code) <= 399:
            return False, f"credit type code {type_code} is not a known BAI2 code"
        return False, None  # an unknown non-credit code: not a remittance, not an error
    if amount and not amount.isdigit():
        return False, f"amount must be digits (implied decimals): {amount!r}"
    if funds not in _FUNDS_TYPES and funds != "":
        return False, f"unknown funds type {funds!r}"
    return True, None


def parse_bai2(text: str, source_file: str) -> ParseResult:
    """Credit detail records of a BAI2 file as remittances, with per-record errors."""
    result = ParseResult(source_file=source_file, format=BankFileFormat.BAI2)
    records = _logical_records(text)
    if not records or records[0].code != "01":
        result.errors.append(
            RecordError(source_file, "line 1", "a BAI2 file must start with a 01 file header")
        )
        return result
    kept_lines: list[str] = []
    kept_details: list[_LogicalRecord] = []
    for record in records:
        if record.code == "16":
            keep, problem = _detail_problem(record)
            if problem:
                result.errors.append(
                    RecordError(
                        source_file,
                        line_location(record.line),
                        problem,
                        "\n".join(t for _, t in record.lines),
                    )
                )
            if not keep:
                continue
            kept_details.append(record)
        kept_lines.extend(t for _, t in record.lines)
    try:
        parsed: Bai2File = parse_from_lines(kept_lines, check_integrity=False)
    except Exception as exc:  # the package raises several unrelated types for a broken file
        result.errors.append(
            RecordError(
                source_file, "file", f"not a readable BAI2 file: {exc or type(exc).__name__}"
            )
        )
        return result
    _check_account_totals(result, source_file, records)
    _collect(result, source_file, parsed, iter(kept_details))
    return result


def _check_account_totals(
    result: ParseResult, source_file: str, records: list[_LogicalRecord]
) -> None:
    """Compare each 49 control total with the sum of its 03 and 16 amounts."""
    total = 0
    readable = True
    for record in records:
        fields = ",".join(t.split(",", 1)[1] if "," in t else "" for _, t in record.lines)
        parts = [p.strip().rstrip("/") for p in fields.split(",")]
        if record.code == "03":
            total, readable = 0, True
            # summaries after account number and currency: type, amount, count, funds, ...
            for i in range(2, len(parts) - 1, 4):
                amount = parts[i + 1]
                if amount.lstrip("+-").isdigit():
                    total += int(amount)
        elif record.code == "16":
            amount = parts[1] if len(parts) > 1 else ""
            if amount.lstrip("+-").isdigit():
                total += int(amount)
            elif amount == "":
                continue
            else:
                readable = False
        elif record.code == "49" and readable:
            control = parts[0] if parts else ""
            if control.lstrip("+-").isdigit() and int(control) != total:
                result.errors.append(
                    RecordError(
                        source_file,
                        line_location(record.line),
                        f"account control total {control} does not match the sum {total} of "
                        "the account's amounts (records kept; check the file is complete)",
                        record.lines[0][1],
                    )
                )


def _collect(
    result: ParseResult,
    source_file: str,
    parsed: Bai2File,
    details: Iterator[_LogicalRecord],
) -> None:
    """Remittances for the credit details, paired in order with their logical records."""
    header = parsed.header
    file_id = (
        header.sender_id,
        header.receiver_id,
        header.creation_date,
        header.creation_time,
        header.file_id,
    )
    for group_index, group in enumerate(parsed.children, start=1):
        for account in group.children:
            position = 0
            for detail in account.children:
                logical = next(details)
                position += 1
                if not detail.amount or not 100 <= int(detail.type_code.code) <= 399:
                    continue
                try:
                    remittance = _remittance(
                        source_file, logical, detail, group, account, file_id, group_index, position
                    )
                except BankFileError as exc:
                    result.errors.append(
                        RecordError(
                            source_file,
                            exc.location,
                            exc.reason,
                            "\n".join(t for _, t in logical.lines),
                        )
                    )
                    continue
                result.records.append(remittance)


def _remittance(
    source_file: str,
    logical: _LogicalRecord,
    detail: TransactionDetail,
    group: Any,
    account: Any,
    file_id: tuple[Any, ...],
    group_index: int,
    position: int,
) -> RawRemittance:
    loc = line_location(logical.line)
    currency = currency_code(
        account.header.currency or group.header.currency or "USD", f"{loc}, currency"
    )
    amount = minor_units_amount(detail.amount or 0, currency, f"{loc}, amount")
    value_date: date | None = group.header.as_of_date
    if detail.availability and isinstance(detail.availability.get("date"), date):
        value_date = detail.availability["date"]
    text = (detail.text or "").strip().strip(",/").strip()
    fields, remainder = _labelled_fields(text)
    refs, remainder = _embedded_remittance(remainder, loc)
    account_number = account.header.customer_account_number
    key = dedup_key(
        BankFileFormat.BAI2,
        *file_id,
        group_index,
        account_number,
        group.header.as_of_date,
        detail.type_code.code,
        detail.bank_reference,
        detail.customer_reference,
        detail.amount,
        position,
    )
    return RawRemittance(
        format=BankFileFormat.BAI2,
        source_file=source_file,
        location=loc,
        line=logical.line,
        amount=amount,
        currency=currency,
        dedup_key=key,
        raw="\n".join(t for _, t in logical.lines),
        value_date=value_date,
        payer_name=next((fields[k] for k in _NAME_LABELS if fields.get(k)), None),
        payer_account=next((fields[k] for k in _ACCOUNT_LABELS if fields.get(k)), None),
        payer_iban=(fields.get("IBAN") or "").replace(" ", "") or None,
        bank_reference=clean(detail.bank_reference),
        end_to_end_id=clean(detail.customer_reference),
        free_text=clean(remainder),
        structured_refs=refs,
    )


def _labelled_fields(text: str) -> tuple[dict[str, str], str]:
    """``LABEL:value`` pairs banks put in detail text; returns them and the other text."""
    matches = list(_LABELS.finditer(text))
    if not matches:
        return {}, text
    fields: dict[str, str] = {}
    rest = [text[: matches[0].start()]]
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        value = text[match.end() : end]
        label = match.group("label")
        rmr = _RMR_START.search(value)
        segments = value[rmr.start() :] if rmr else ""  # remittance segments end a value
        value = value[: rmr.start()] if rmr else value
        cleaned = clean(value)
        if label in _NAME_LABELS or label in _ACCOUNT_LABELS or label == "IBAN":
            if cleaned and label not in fields:
                fields[label] = cleaned
        else:
            rest.append(f"{label}:{value}")
        rest.append(segments)
    return fields, " ".join(rest)


def _embedded_remittance(text: str, loc: str) -> tuple[tuple[StructuredRef, ...], str]:
    """X12 RMR/ADX segments some banks pass through in the detail text."""
    start = _RMR_START.search(text)
    if not start:
        return (), text
    segment_text = text[start.start() :]
    try:
        segments = split_segments(segment_text, infer_delimiters(segment_text))
        advice = read_remittance_advice(segments)
    except BankFileError as exc:
        raise BankFileError(f"{loc}, remittance text", exc.reason) from exc
    return tuple(advice.refs), " ".join([text[: start.start()], *advice.notes])
