"""BAI2 cash-management files, read with the ``bai2`` package.

Credit detail records (type codes 100-399: 115 lockbox, 142 ACH credit, 164/165 corporate
trade payments, 195 incoming wire, ...) become remittances, except credits that are not a
customer paying: transfers between one's own accounts (ZBA, sweeps, concentration),
investments, loans and interest, and returns or reversals of one's own items (see
``NOT_RECEIPTS``). A deposited item or ACH debit the bank returns (555, 557) takes back cash
counted before: a reversal naming the item's customer (else bank) reference. Amounts are implied-
decimal minor units in the account's currency (else the group's, else USD). Continuation
(88) text is joined to its detail record. Detail records the package cannot read are
reported by line and left out; the rest of the file is kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from bai2.bai2 import parse_from_lines
from bai2.constants import FundsType, TypeCodes
from bai2.models import Bai2File, TransactionDetail

from connectors.bankfiles.amounts import currency_code, minor_units_amount
from connectors.bankfiles.edi820 import read_remittance_advice
from connectors.bankfiles.records import (
    BankFileError,
    BankFileFormat,
    ControlFigure,
    ParseResult,
    RawRemittance,
    RecordError,
    StructuredRef,
    add_figure,
    clean,
    dedup_key,
    is_name,
    keep_distinct,
    line_location,
    warn_on_control_mismatch,
)
from connectors.bankfiles.x12 import infer_delimiters, split_segments

# credit detail codes that are not a customer paying
NOT_RECEIPTS = frozenset(
    {
        # transfers between one's own accounts: concentration, internal, automatic, ZBA, sweeps
        *("135", "145", "191", "201", "274", "275", "276", "277", "278", "281", "286"),
        *("346", "347"),
        # investments, securities, loans, interest
        *("171", "202", "226", "232", "233", "234", "235", "236", "238", "240", "241"),
        *("242", "243", "244", "246", "247", "248", "249", "263", "306", "342", "345"),
        *("348", "349", "351", "354", "359", "364"),
        # one's own items coming back, reversals and bank corrections
        *("123", "252", "254", "255", "257", "258", "261", "266", "268", "395"),
    }
)
# debit detail codes for an item the bank took back: a deposited check, an ACH debit of ours
RETURNED_ITEMS = frozenset({"555", "557"})
_FUNDS_TYPES = {f.value for f in FundsType}
_LABELS = re.compile(
    r"(?P<label>ORIG CO NAME|ORIG ID|IND NAME|IND ID|ENTRY DESCR|B/O ACCT|BY ORDER OF|B/O"
    r"|ORIGINATOR|REMITTER|IBAN|OBI|TRACE|SEC"
    # tagged continuation records (debtor name/account, creditor, references, ...)
    r"|DBNM|DACT|DABA|DBIC|CRNM|CACT|CABA|EREF|CREF|REMI|IDNM|CHKN)\s*[:=]\s*"
)
_NAME_LABELS = ("ORIG CO NAME", "B/O", "BY ORDER OF", "ORIGINATOR", "REMITTER", "DBNM")
_ACCOUNT_LABELS = ("ORIG ID", "B/O ACCT", "DACT")
_RMR_START = re.compile(r"\bRMR\W")


@dataclass
class _LogicalRecord:
    code: str
    line: int
    lines: list[tuple[int, str]]  # (line number, text) of the record and its 88 continuations


_RECORD_CODES = frozenset({"01", "02", "03", "16", "49", "88", "98", "99"})
# some banks put several records on one physical line, each ended by "/"
_NEXT_RECORD = re.compile(r"(?<=/)\s*(?=(?:0[123]|16|49|88|98|99),)")


def _physical_records(text: str) -> Iterator[tuple[int, str]]:
    """(line number, record text): lines split where one "/"-terminated record follows another."""
    for number, line in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        for piece in _NEXT_RECORD.split(stripped):
            if piece.strip():
                yield number, piece.strip()


def _logical_records(text: str, result: ParseResult | None = None) -> list[_LogicalRecord]:
    """Records with their 88 continuations. A line that starts with no record code continues
    an unterminated record (a wrapped line); after a terminated one it is reported and skipped."""
    records: list[_LogicalRecord] = []
    for number, piece in _physical_records(text):
        code = piece[:2]
        if piece[2:3] != "," or code not in _RECORD_CODES:
            last = records[-1].lines[-1] if records else None
            if last is not None and not last[1].endswith("/"):
                records[-1].lines[-1] = (last[0], f"{last[1]} {piece}")
            elif result is not None:
                result.errors.append(
                    RecordError(
                        result.source_file,
                        line_location(number),
                        "not a BAI2 record (expected a record code 01, 02, 03, 16, 49, 88, 98 "
                        "or 99 and a comma)",
                        piece,
                    )
                )
            continue
        if code == "88" and records:
            records[-1].lines.append((number, piece))
        else:
            records.append(_LogicalRecord(code=code, line=number, lines=[(number, piece)]))
    return records


def _fields(record: _LogicalRecord) -> list[str]:
    """The record's fields after the record code, its 88 continuations joined.

    A physical record ended by "/" closes its last field, so the continuation starts a new
    field; one without "/" is cut inside its (text) field, which the continuation carries on.
    """
    text = ""
    for index, (_, line) in enumerate(record.lines):
        body = line.split(",", 1)[1] if "," in line else ""
        if index:
            text += "," if record.lines[index - 1][1].endswith("/") else " "
        text += body[:-1] if body.endswith("/") else body
    return text.split(",")


def _int_field(value: str) -> bool:
    return bool(re.fullmatch(r"[+-]?\d+", value.strip()))


def _availability(funds: str, rest: list[str]) -> tuple[list[str], list[str], str | None]:
    """(normalised availability fields, remaining fields, problem) for a funds type."""
    if funds == "S":
        values = [v.strip() for v in rest[:3]]
        if len(values) < 3 or not all(v == "" or _int_field(v) for v in values):
            return [], rest, f"funds type S needs three availability amounts, got {values!r}"
        return [v or "0" for v in values], rest[3:], None
    if funds == "V":
        day, time = [*rest, "", ""][:2]
        day, time = day.strip(), time.strip()
        try:
            if day:
                datetime.strptime(day, "%y%m%d")
            if time and time not in ("2400", "9999"):
                datetime.strptime(time, "%H%M")
        except ValueError:
            return [], rest, f"funds type V needs a date YYMMDD and time HHMM: {day!r}, {time!r}"
        return [day, time], rest[2:], None
    if funds == "D":
        count = rest[0].strip() if rest else ""
        if not count.isdigit():
            return [], rest, f"funds type D needs a number of distributions, got {count!r}"
        pairs = [v.strip() for v in rest[1 : 1 + 2 * int(count)]]
        if len(pairs) < 2 * int(count) or not all(_int_field(v) for v in pairs):
            return [], rest, f"funds type D: {count} distributions (days, amount) expected"
        return [count, *pairs], rest[1 + 2 * int(count) :], None
    return [], rest, None


def _normalised_detail(record: _LogicalRecord) -> tuple[str | None, str | None]:
    """(one-line 16 record the package reads, None) or (None, reason it cannot be read).

    A reason of ``None`` with no line is an unknown non-credit code: skipped, not an error.
    """
    fields = _fields(record)
    type_code = fields[0].strip() if fields else ""
    amount = fields[1].strip() if len(fields) > 1 else ""
    funds = fields[2].strip().upper() if len(fields) > 2 else ""
    if not re.fullmatch(r"\d{3}", type_code):
        return None, f"type code must be three digits: {type_code!r}"
    if type_code not in TypeCodes:
        if 100 <= int(type_code) <= 399:
            return None, f"credit type code {type_code} is not a known BAI2 code"
        return None, None  # an unknown non-credit code: not a remittance, not an error
    if amount and not amount.isdigit():
        return None, f"amount must be digits (implied decimals): {amount!r}"
    if funds not in _FUNDS_TYPES and funds != "":
        return None, f"unknown funds type {funds!r}"
    availability, rest, problem = _availability(funds, fields[3:])
    if problem:
        return None, problem
    rest = rest + [""] * (2 - len(rest)) if len(rest) < 2 else rest
    text = ",".join(rest[2:]).strip()
    line = ",".join(["16", type_code, amount, funds, *availability, rest[0], rest[1], text])
    return line.rstrip("/"), None


def parse_bai2(text: str, source_file: str) -> ParseResult:
    """Credit detail records of a BAI2 file as remittances, with per-record errors."""
    result = ParseResult(source_file=source_file, format=BankFileFormat.BAI2)
    records = _logical_records(text, result)
    if not records or records[0].code != "01":
        result.errors.append(
            RecordError(source_file, "line 1", "a BAI2 file must start with a 01 file header")
        )
        return result
    kept_lines: list[str] = []
    kept_details: list[_LogicalRecord] = []
    for record in records:
        if record.code == "16":
            line, problem = _normalised_detail(record)
            if problem:
                result.errors.append(
                    RecordError(
                        source_file,
                        line_location(record.line),
                        problem,
                        "\n".join(t for _, t in record.lines),
                    )
                )
            if line is None:
                continue
            kept_details.append(record)
            kept_lines.append(line)
        elif record.code == "03":
            # the package misreads summaries spread over 88 records and funds types S/V/D;
            # arsync needs only the account and currency from it (totals are checked here)
            fields = _fields(record)
            account = fields[0].strip() if fields else ""
            currency = fields[1].strip() if len(fields) > 1 else ""
            kept_lines.append(f"03,{account},{currency}/")
        else:
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
    _check_control_totals(result, records)
    _collect(result, source_file, parsed, iter(kept_details))
    result.records[:] = keep_distinct(result.records)
    return result


def _summary_total(fields: list[str]) -> int | None:
    """Sum of the 03 summary amounts (type, amount, count, funds type + its availability),
    or ``None`` when they cannot be read. Empty padding fields between summaries are skipped."""
    total = 0
    rest = [f.strip() for f in fields[2:]]
    while rest:
        if rest[0] == "":
            rest = rest[1:]  # trailing or padding commas some banks emit
            continue
        type_code, amount, _count, funds = [*rest, "", "", ""][:4]
        if not type_code.isdigit():
            return None
        if amount:
            if not _int_field(amount):
                return None
            total += int(amount)
        _, rest, problem = _availability(funds.upper(), rest[4:])
        if problem:
            return None
    return total


def _check_control_totals(result: ParseResult, records: list[_LogicalRecord]) -> None:
    """Compare each trailer with what it controls; a mismatch is a warning, records are kept.

    A 49 account control total is the sum of its 03 and 16 amounts. A 98 group control total
    is the sum of the group's 49 control totals, with the number of its accounts (03). A 99
    file control total is the sum of the 98 group control totals, with the number of groups
    (02) and, when given, of records (01 to 99, 88 continuations included).
    """
    total: int | None = 0  # the account's 03 and 16 amounts
    group_total: int | None = 0  # the group's 49 control totals
    file_total: int | None = 0  # the file's 98 control totals
    accounts = groups = count = 0
    group_currency = currency = "USD"
    group_currencies: set[str] = set()
    file_currencies: set[str] = set()
    account = "?"
    for record in records:
        count += len(record.lines)
        parts = [p.strip() for p in _fields(record)]
        location, raw = line_location(record.line), record.lines[0][1]
        if record.code == "02":
            groups += 1
            accounts, group_total, group_currencies = 0, 0, set()
            group_currency = (parts[5] if len(parts) > 5 else "") or "USD"
            currency = group_currency
        elif record.code == "03":
            accounts += 1
            total = _summary_total(parts)
            account = (parts[0] if parts else "") or "?"
            currency = (parts[1] if len(parts) > 1 else "") or group_currency
            group_currencies.add(currency)
            file_currencies.add(currency)
        elif record.code == "16":
            amount = parts[1] if len(parts) > 1 else ""
            if _int_field(amount):
                total = add_figure(total, int(amount))
            elif amount:
                total = None
        elif record.code == "49":
            control = _stated(parts, 0)
            warn_on_control_mismatch(
                result,
                location,
                f"account {account}",
                [
                    ControlFigure(
                        control,
                        total,
                        f"control total {_minor(control, currency)}",
                        f"the sum {_minor(total, currency)} of the account's amounts",
                    )
                ],
                raw,
            )
            group_total = add_figure(group_total, control)
        elif record.code == "98":
            control = _stated(parts, 0)
            ccy = _one(group_currencies)
            warn_on_control_mismatch(
                result,
                location,
                f"group {groups}",
                [
                    ControlFigure(
                        control,
                        group_total,
                        f"control total {_minor(control, ccy)}",
                        f"the sum {_minor(group_total, ccy)} of its account control totals",
                    ),
                    ControlFigure(
                        _stated(parts, 1),
                        accounts,
                        f"number of accounts {_stated(parts, 1)}",
                        f"the {accounts} account{'' if accounts == 1 else 's'} in the group",
                    ),
                ],
                raw,
            )
            file_total = add_figure(file_total, control)
        elif record.code == "99":
            control = _stated(parts, 0)
            ccy = _one(file_currencies)
            warn_on_control_mismatch(
                result,
                location,
                "file",
                [
                    ControlFigure(
                        control,
                        file_total,
                        f"control total {_minor(control, ccy)}",
                        f"the sum {_minor(file_total, ccy)} of its group control totals",
                    ),
                    ControlFigure(
                        _stated(parts, 1),
                        groups,
                        f"number of groups {_stated(parts, 1)}",
                        f"the {groups} group{'' if groups == 1 else 's'} in the file",
                    ),
                    ControlFigure(
                        _stated(parts, 2),
                        count,
                        f"number of records {_stated(parts, 2)}",
                        f"the {count} record{'' if count == 1 else 's'} in the file",
                    ),
                ],
                raw,
            )


def _stated(parts: list[str], index: int) -> int | None:
    """A trailer's figure; ``None`` when absent or not a number (then it is not checked)."""
    value = parts[index] if len(parts) > index else ""
    return int(value) if _int_field(value) else None


def _one(currencies: set[str]) -> str:
    """The currency shared by every account summed, or "" (no major-unit rendering)."""
    return next(iter(currencies)) if len(currencies) == 1 else ""


def _minor(minor: int | None, currency: str) -> str:
    """``27351250 (273512.50 USD)``: a BAI2 amount as stated, and in major units if readable."""
    return "?" if minor is None else f"{minor}{_in_currency(minor, currency)}"


def _in_currency(minor: int, currency: str) -> str:
    """`` (273512.50 USD)``: an implied-decimal BAI2 amount in major units, when readable."""
    try:
        code = currency_code(currency, "")
        return f" ({minor_units_amount(minor, code, '')} {code})"
    except BankFileError:
        return ""


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
                code = detail.type_code.code
                returned = code in RETURNED_ITEMS
                if not detail.amount or code in NOT_RECEIPTS:
                    continue
                if not returned and not 100 <= int(code) <= 399:
                    continue
                try:
                    remittance = _remittance(
                        source_file, logical, detail, group, account, file_id, group_index, position
                    )
                    if returned:
                        remittance = _returned(remittance, detail)
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
    item = (
        account_number,
        group.header.as_of_date,
        detail.type_code.code,
        detail.bank_reference,
        detail.customer_reference,
        detail.amount,
    )
    key = dedup_key(BankFileFormat.BAI2, *file_id, group_index, *item, position)
    earlier_keys: tuple[str, ...] = ()
    if is_name(detail.bank_reference):
        # the bank's reference names the item: its key holds in a resent or corrected file
        earlier_keys, key = (key,), dedup_key("bai2-ref", *item)
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
        also_known_as=earlier_keys,
    )


def _returned(remittance: RawRemittance, detail: TransactionDetail) -> RawRemittance:
    """A returned item as the reversal of the payment its references name."""
    names = remittance.end_to_end_id or remittance.bank_reference or "unknown"
    text = f"{detail.type_code.description.upper()} {remittance.free_text or ''}"
    return replace(
        remittance,
        amount=-remittance.amount,
        reverses=names,
        free_text=clean(text),
        structured_refs=(),
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
