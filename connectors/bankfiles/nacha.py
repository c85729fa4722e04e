"""NACHA ACH files (CCD, CCD+ and CTX): 94-character records 1, 5, 6, 7, 8 and 9.

In a file of received entries the batch header names the originator (our customer, the
payer) and each credit entry is one remittance. CCD+ carries one addenda of free text (often
a single X12 RMR segment); CTX addenda concatenate to an X12 820 transaction set. CTX addenda
that open no 820 (plain text, as some originators send) are read as CCD+ addenda are: free
text, perhaps ending in RMR segments, text between or after them kept as free text. The
entry (amount, effective date, originator, trace) is the bank's; its addenda are what the
payer wrote: X12 in them that cannot be read (an RMR04 that is no amount, a bad BPR) leaves
the detail out, its text kept as free text, and a DTM date that cannot be read leaves that
date out; either is a warning naming the addenda line and element, and the credit is kept.
An entry amount that cannot be read is an error. The entry's amount is the cash: an 820 in
its addenda whose payment amount (BPR02) differs, or whose amounts paid (RMR04) do not add
up to it, is a warning naming the entry's trace. A credit memo line (RMR*CM) reduces what is
paid: one whose payer wrote the credit taken as a positive RMR04 is read as negative where the
entry's amount (an advice's BPR02) confirms it, the amounts paid less the credits adding up to
it; otherwise it is kept as written, with a warning naming the trace and the RMR04. An addenda
record repeated record for record (its sequence number and all: sent twice) is read once, with
a warning naming the entry's trace.

Batch control (8) and file control (9) records are checked against what they control; a
figure that does not add up, or a missing control record (a file cut short), is a warning:
the records are kept.

An IAT (international) entry names its parties in mandatory addenda instead: the originator
(the payer) in the 711 record, the receiver's identification number in the 715, and carries
payment-related information in up to two 717 records (a 718 names a correspondent bank, no
party). Its entry's positions 40-74 are the receiver's account number, not an identification.
Its batch header has a layout of its own: its amounts are in the ISO destination currency
code it states (positions 67-69; one that is no ISO 4217 code is a warning, the amounts read
as USD), and so are its batch control's totals in a control warning. Other batches are in
USD. Without a conversion (FF) the 710 addenda's foreign payment amount is what the receiver
is to get: one that differs from the entry's amount is a warning, the amount credited stands.

A zero-dollar entry (24, 34: CCD or CTX remittance sent apart from its cash, or a credit for
0.00) moves no money. When its remittance states the amount of the cash it describes (its
820's BPR02, else its RMR amounts paid) it is kept as advice only, for the reconciler to lend
its invoice references to that cash; any other remittance text, and a prenotification's
(23, 33), is a warning naming the text.

A notification of change (98 addenda, or any entry of a COR batch) moves no money: it is a
warning naming the change code (C01-C14; C61-C69 refuse one), the entry's original trace and
the corrected data. A return (99 addenda) of a credit we sent brings our own money back and
a dishonored (R61-R70) or contested dishonored (R71-R77) return concerns a return read when
it came: each is left out with a warning. A return whose reason code is not R and two digits
still takes the cash back, with a warning; so does a return (26, 36, 46, 56) without its 99
addenda, naming no payment, and one of a credit we sent (21, 31, 41, 51) is left out with a
warning. Files come with CRLF, LF or CR, without line breaks or blocked (ten records a
line); codes are read whatever their case. A transmission of several files one after the
other is read file by file, each checked by its own controls; a file repeated record for
record (sent twice) is an error and not read again.
An entry whose transaction code is none the Rules define is an error naming that field
(credit or debit cannot be told).

A CIE (customer-initiated) entry is a consumer paying a bill through its bank's bill-payment
service: the batch names that service, the entry names the consumer (positions 40-54) and the
consumer's account number with the biller (55-76). ADV (automated accounting advice) batches
carry no payments; their entries and controls have wider amount fields.

A debit that takes back a credit is a reversal (a negative remittance naming the payment it
takes back): a return (99 addenda) of a debit of ours, whose addenda names the original
trace; and a reversing entry, which the NACHA Operating Rules let an originator send within
five banking days to undo an erroneous entry (a duplicate, the wrong receiver or amount, a
credit sent later than intended). A reversing entry's batch says "REVERSAL" in its Company
Entry Description; its SEC code, company identification and amount are those of the
erroneous entry, its other fields change only as its processing needs (the transaction code
from credit to debit), and it gets a trace number of its own: it names no original trace.
A reversing debit therefore names the credit by the individual identification number they
share (what the credit's remittance is found under as its end-to-end id), or by the credit's
key when that credit is in the same file. Transaction code 55 (automated loan account debit)
is for reversals only, whatever the batch says. A credit in a REVERSAL batch (an originator
giving back what it debited from us in error) is cash received and is read like any other
credit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from math import ceil
from typing import Any

from connectors.bankfiles.amounts import currency_code, minor_units_amount, parse_date
from connectors.bankfiles.credit_memos import credit_memos_taken, kept_as_stated
from connectors.bankfiles.edi820 import DetailError, RemittanceAdvice, read_remittance_advice
from connectors.bankfiles.records import (
    DATE_LEFT_OUT,
    DETAIL_LEFT_OUT,
    NOT_A_CUSTOMER_PAYING,
    BankFileError,
    BankFileFormat,
    ControlFigure,
    ParseResult,
    RawRemittance,
    RecordError,
    RefKind,
    add_figure,
    clean,
    dedup_key,
    is_name,
    keep_distinct,
    line_location,
    warn_detail_left_out,
    warn_left_out,
    warn_on_control_mismatch,
)
from connectors.bankfiles.x12 import (
    RMR_SEGMENT,
    START_820,
    Segment,
    infer_delimiters,
    split_segments,
)

RECORD_LENGTH = 94
# returns of debits (the original 27, 37, 47, 55): cash a debit of ours collected, taken back
RETURNED_DEBIT_CODES = frozenset({"26", "36", "46", "56"})
# returns (or notifications of change) of credits (the original 22, 32, 42, 52): our own money
RETURNED_CREDIT_CODES = frozenset({"21", "31", "41", "51"})
CREDIT_CODES = frozenset({"22", "32", "42", "52"})  # live credits; prenotes (23, 33, ...) excluded
# zero-dollar credits that carry remittance data (CCD, CTX): checking, savings, GL, loan
ZERO_DOLLAR_CODES = frozenset({"24", "34", "44", "54"})
# prenotifications of credits: an originator testing the account before paying into it
PRENOTE_CODES = frozenset({"23", "33", "43", "53"})
# a live debit reversing a live credit, by account type: checking, savings, general ledger, and
# the loan account debit (55) that the Rules allow for reversals only
REVERSED_CREDIT_CODES = {"27": "22", "37": "32", "47": "42", "55": "52"}
# every transaction code the Rules define: checking (2x), savings (3x) and general ledger (4x)
# accounts, loan accounts (51-56) and ADV entries (81-88); any other is a damaged record
TRANSACTION_CODES = frozenset(
    {
        *(f"{account}{kind}" for account in "234" for kind in "12346789"),
        *("51", "52", "53", "54", "55", "56"),
        *(f"8{kind}" for kind in "12345678"),
    }
)
_REVERSAL = "REVERSAL"  # the Company Entry Description of a batch of reversing entries
_LOAN_REVERSAL = "55"
# dishonored returns (R61-R70, the originator's bank refusing a return) and contested
# dishonored returns (R71-R77, the receiver's bank insisting on it): the return they concern
# was read as cash taken back when it came; neither takes anything back again
_DISHONORED_OR_CONTESTED = ("R6", "R7")
_RETURN_REASON = re.compile(r"R\d\d")  # a return reason code (R01-R85)
_NOT_PAYMENTS = frozenset({"COR"})  # batches of notifications of change
# what a notification of change (98 addenda) says is wrong in the entry it answers; its
# corrected data (positions 36-64) gives the right value(s). C61-C69 refuse a NOC.
CHANGE_CODES = {
    "C01": "incorrect account number",
    "C02": "incorrect routing number",
    "C03": "incorrect routing number and account number",
    "C04": "incorrect receiver name",
    "C05": "incorrect transaction code",
    "C06": "incorrect account number and transaction code",
    "C07": "incorrect routing number, account number and transaction code",
    "C08": "incorrect receiving bank identification (IAT)",
    "C09": "incorrect individual identification number",
    "C10": "incorrect company name",
    "C11": "incorrect company identification",
    "C12": "incorrect company name and company identification",
    "C13": "addenda format error",
    "C14": "incorrect SEC code for an outbound international payment",
}
# the standard entry class codes of the NACHA Operating Rules
SEC_CODES = frozenset(
    {
        *("ACK", "ADV", "ARC", "ATX", "BOC", "CCD", "CIE", "COR", "CTX", "DNE", "ENR", "IAT"),
        *("MTE", "POP", "POS", "PPD", "RCK", "SHR", "TEL", "TRC", "TRX", "WEB", "XCK"),
    }
)
_NAME_FIRST = frozenset({"CIE", "MTE"})  # individual name at 40-54, identification at 55-76


@dataclass
class _Batch:
    line: int
    company_name: str
    company_id: str
    sec_code: str
    entry_description: str
    effective_date: date | None
    batch_number: str
    currency: str = "USD"  # an IAT batch's ISO destination currency code (67-69), else USD
    fx_indicator: str = ""  # an IAT batch's foreign exchange indicator (21-22): FF, FV, VF
    originating_currency: str = ""  # an IAT batch's ISO originating currency code (64-66)


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
    repeats: list[tuple[int, str, str]] = field(default_factory=list)  # addenda sent twice
    addenda_types: set[str] = field(default_factory=set)
    return_addenda: str | None = None  # the 799 record of a return
    change_addenda: str | None = None  # the 798 record of a notification of change
    originator_name: str = ""  # IAT: the 711 addenda's originator name
    foreign_amount: str | None = None  # IAT: the 710 addenda's foreign payment amount (7-24)


def records_of(text: str) -> list[tuple[int, str]]:
    """(line number, record) pairs; unbroken 94-character records are split apart.

    Records come one a line (CRLF, LF, or CR alone as some midrange systems write them),
    without line breaks at all, or blocked: ten records (940 characters) a line. Unbroken and
    blocked records are numbered in order, as if each were a line. An end-of-file mark
    (Ctrl-Z) some systems append is not a record.
    """
    body = text.lstrip("\ufeff").rstrip("\x1a\r\n")
    lines = [line.rstrip("\r") for line in body.split("\n" if "\n" in body else "\r")]
    if _blocked(lines):
        flat = "".join(lines)
        return [
            (i // RECORD_LENGTH + 1, flat[i : i + RECORD_LENGTH])
            for i in range(0, len(flat), RECORD_LENGTH)
        ]
    return list(enumerate(lines, start=1))


def _copies(records: list[tuple[int, str]]) -> dict[int, int]:
    """Files of a transmission that repeat an earlier one record for record (a file sent
    twice in one transmission): the line of each copy's file header -> the first's."""
    files: list[tuple[int, list[str]]] = []
    for line_no, raw_line in records:
        if raw_line[:1] == "1" and len(raw_line.rstrip()) <= RECORD_LENGTH:
            files.append((line_no, []))
        if files and raw_line.strip():
            files[-1][1].append(raw_line.rstrip())
    first: dict[tuple[str, ...], int] = {}
    copies: dict[int, int] = {}
    for line_no, lines in files:
        seen = first.setdefault(tuple(lines), line_no)
        if seen != line_no:
            copies[line_no] = seen
    return copies


def _blocked(lines: list[str]) -> bool:
    """Whether the lines hold several whole records each: one line longer than a record (a
    file without line breaks), or every line but the last a multiple of 94 characters (one
    at least longer), each 94-character piece opening with a record type. The last line may
    end short: the trailing blanks of its last record (a file control) trimmed in transit."""
    if len(lines) == 1:
        return len(lines[0]) > RECORD_LENGTH  # a whole file without line breaks
    if any(len(line) % RECORD_LENGTH or not line for line in lines[:-1]) or not lines[-1]:
        return False
    for line in lines:
        if any(line[i] not in _RECORD_TYPES for i in range(0, len(line), RECORD_LENGTH)):
            return False
    return any(len(line) > RECORD_LENGTH for line in lines)


def parse_nacha(text: str, source_file: str) -> ParseResult:
    """Credit entries of CCD/CCD+/CTX (and other SEC codes) batches as remittances."""
    result = ParseResult(source_file=source_file, format=BankFileFormat.NACHA)
    header: str | None = None
    batch: _Batch | None = None
    entry: _Entry | None = None
    position = 0
    controls = _Controls(result)
    unreadable_batch: int | None = None  # the line of a batch header that could not be read
    dropped_entry = False  # the last entry was reported as not read: its addenda go with it
    records = records_of(text)
    copies = _copies(records)
    repeated = False  # within a copy of a file already read: its records are not read again

    def finish() -> None:
        nonlocal entry, position
        if entry is not None and header is not None:
            position += 1
            _emit(result, source_file, header, entry, position)
        entry = None

    for line_no, raw_line in records:
        if not raw_line.strip():
            continue
        if len(raw_line) > RECORD_LENGTH and not raw_line[RECORD_LENGTH:].strip():
            raw_line = raw_line[:RECORD_LENGTH]  # trailing blanks added in transit
        controls.see(line_no, raw_line)
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
        if repeated and kind != "1":
            continue
        if kind == "7" and dropped_entry:
            continue  # an addenda of an entry already reported as not read
        dropped_entry = False
        if header is None and kind != "1":
            found = _RECORD_NAMES.get(kind, f"a record of unknown type {kind!r}")
            result.errors.append(
                RecordError(
                    source_file,
                    loc,
                    f"file does not start with a file header (1) record but with {found}: "
                    "not read (is it part of a file?)",
                    raw_line,
                )
            )
            return result
        if kind == "1":
            finish()  # an entry of the file before, in a transmission of several
            batch, unreadable_batch = None, None
            header = rec
            repeated = line_no in copies
            if repeated:
                result.errors.append(
                    RecordError(
                        source_file,
                        loc,
                        f"a copy of the file whose header is on line {copies[line_no]} (every "
                        "record the same): its entries are not read twice",
                        raw_line,
                    )
                )
        elif kind == "5":
            finish()
            try:
                batch = _batch(rec, line_no, result)
                unreadable_batch = None
            except BankFileError as exc:
                batch, unreadable_batch = None, line_no
                result.errors.append(RecordError(source_file, exc.location, exc.reason, raw_line))
        elif kind == "6":
            finish()
            if batch is None:
                reason = (
                    "entry detail outside a valid batch"
                    if unreadable_batch is None
                    else f"entry detail of the batch whose header (line {unreadable_batch}) "
                    "cannot be read: not read"
                )
                result.errors.append(RecordError(source_file, loc, reason, raw_line))
                dropped_entry = True
                continue
            entry = _entry(rec, line_no, batch)
            entry.lines.append(raw_line)
        elif kind == "7":
            if entry is None:
                result.errors.append(
                    RecordError(source_file, loc, "addenda record without an entry", raw_line)
                )
                continue
            entry.lines.append(raw_line)
            entry.addenda_types.add(rec[1:3])
            if rec[1:3] == "05" or (rec[1:3] == "17" and entry.batch.sec_code == "IAT"):
                read = (line_no, rec[83:87], rec[3:83])
                if _repeated_addenda(result, entry, line_no, rec):
                    entry.repeats.append(read)
                else:
                    entry.addenda.append(read)
            elif rec[1:3] == "99":
                entry.return_addenda = rec
            elif rec[1:3] == "98":
                entry.change_addenda = rec
            elif entry.batch.sec_code == "IAT":
                _iat_addenda(entry, rec)
        elif kind == "8":
            finish()
            batch, unreadable_batch = None, None
        elif kind == "9":
            finish()
        else:
            finish()
            result.errors.append(
                RecordError(source_file, loc, f"unknown record type {kind!r}", raw_line)
            )
    finish()
    controls.finish()
    result.records[:] = _originals_in_file(keep_distinct(result.records))
    return result


_MODULUS = 10**10  # an entry hash keeps its rightmost ten digits
_BLOCKING_FACTOR = 10
_PADDING = "9" * RECORD_LENGTH
_RECORD_TYPES = frozenset("156789")


@dataclass
class _Figures:
    """What a batch's entries (or the file's batch controls) add up to.

    ``None`` where a record could not be read: that figure is not checked.
    """

    count: int | None = 0  # entry (6) and addenda (7) records
    entry_hash: int | None = 0
    debit: int | None = 0
    credit: int | None = 0

    def spoil(self) -> None:
        self.count = self.entry_hash = self.debit = self.credit = None


@dataclass
class _OpenBatch:
    line: int
    number: str
    adv: bool = False  # an ADV batch: its amounts and totals are wider
    currency: str = "USD"  # what its amounts are in (an IAT batch's destination currency)
    figures: _Figures = field(default_factory=_Figures)


class _Controls:
    """Batch control (8) and file control (9) records checked against what they control.

    A batch control's entry/addenda count, entry hash (the sum of its entries' 8-digit
    receiving DFI routing numbers, modulo 10^10) and debit and credit totals must match its
    entries. The file control's must match the sums of the batch controls' figures, its batch
    count the batch headers and its block count the records (10 a block, padding included).
    ADV entries state 12-digit amounts (positions 28-39, odd transaction codes credits), ADV
    batch and file controls 20-digit totals. A transmission of several files (a file header
    after the first) has each file checked on its own.
    """

    def __init__(self, result: ParseResult) -> None:
        self.result = result
        self._start_file()

    def _start_file(self) -> None:
        self.batch: _OpenBatch | None = None
        self.batches = 0
        self.adv_batches = 0
        self.records = 0
        self.sums = _Figures()  # of the batch controls' stated figures
        self.file_control: tuple[int, str] | None = None
        self.currencies: set[str] = set()  # of the batches, for the file control's totals

    def see(self, line_no: int, raw_line: str) -> None:
        """Every non-blank record in order, unreadable ones included."""
        rec = raw_line.ljust(RECORD_LENGTH)
        kind = rec[0]
        if kind == "1" and self.records and len(raw_line) <= RECORD_LENGTH:
            # the file before this one's header ends here: a transmission of several files
            self.finish(f"the file ending before the file header on line {line_no}")
            self._start_file()
        self.records += 1
        if self.file_control is not None:
            return  # block padding after the file control
        if len(raw_line) > RECORD_LENGTH or kind not in _RECORD_TYPES:
            if self.batch is not None:
                self.batch.figures.spoil()  # it may have been one of the batch's entries
        elif kind == "5":
            self._no_batch_control()
            self.batches += 1
            adv = rec[50:53] == "ADV"
            self.adv_batches += adv
            currency = _batch_currency(rec)
            self.currencies.add(currency)
            self.batch = _OpenBatch(line_no, rec[87:94].strip(), adv, currency)
        elif kind in ("6", "7") and self.batch is not None:
            _add_record(self.batch.figures, rec, self.batch.adv)
        elif kind == "8":
            self._batch_control(line_no, rec)
        elif kind == "9" and rec != _PADDING:
            self._no_batch_control()
            self.file_control = (line_no, rec)

    def finish(self, location: str = "file") -> None:
        """Check the file control once every record (block padding included) is counted;
        ``location`` names the file in a warning that it has none."""
        self._no_batch_control()
        if self.file_control is None:
            self._incomplete(location, "no file control (9) record: the file may be cut short")
            return
        line_no, rec = self.file_control
        batches, blocks = _number(rec[1:7]), _number(rec[7:13])
        adv = 0 < self.batches == self.adv_batches  # an ADV file's control has wider totals
        found_blocks = ceil(self.records / _BLOCKING_FACTOR)
        sums = self.sums
        warn_on_control_mismatch(
            self.result,
            line_location(line_no),
            "file control",
            [
                ControlFigure(
                    batches,
                    self.batches,
                    f"batch count {batches}",
                    f"the {self.batches} batch{'' if self.batches == 1 else 'es'} in the file",
                ),
                ControlFigure(
                    blocks,
                    found_blocks,
                    f"block count {blocks}",
                    f"the {found_blocks} block{'' if found_blocks == 1 else 's'} of its "
                    f"{self.records} records ({_BLOCKING_FACTOR} a block)",
                ),
                *_sum_figures(
                    _stated(rec[13:21], rec[21:31], rec[31:51], rec[51:71])
                    if adv
                    else _stated(rec[13:21], rec[21:31], rec[31:43], rec[43:55]),
                    sums,
                    f"the sum {sums.count} of the batch controls' counts",
                    (
                        "the batch controls' entry hashes",
                        "the batch controls' debit totals",
                        "the batch controls' credit totals",
                    ),
                    next(iter(self.currencies)) if len(self.currencies) == 1 else None,
                ),
            ],
            rec.rstrip(),
        )

    def _batch_control(self, line_no: int, rec: str) -> None:
        batch, self.batch = self.batch, None
        adv = batch.adv if batch is not None else rec[1:4] == "280"
        stated = (
            _stated(rec[4:10], rec[10:20], rec[20:40], rec[40:60])
            if adv
            else _stated(rec[4:10], rec[10:20], rec[20:32], rec[32:44])
        )
        self.sums.count = add_figure(self.sums.count, stated.count)
        self.sums.entry_hash = add_figure(self.sums.entry_hash, stated.entry_hash, _MODULUS)
        self.sums.debit = add_figure(self.sums.debit, stated.debit)
        self.sums.credit = add_figure(self.sums.credit, stated.credit)
        if batch is None:
            return  # no open batch header: nothing to check it against
        found = batch.figures
        warn_on_control_mismatch(
            self.result,
            line_location(line_no),
            f"batch {batch.number or rec[87:94].strip() or '?'} control",
            _sum_figures(
                stated,
                found,
                f"the {found.count} entry and addenda records in the batch",
                ("its entries' routing numbers", "its debit entries", "its credit entries"),
                batch.currency,
            ),
            rec.rstrip(),
        )

    def _no_batch_control(self) -> None:
        """The open batch ends without its batch control (8) record."""
        if self.batch is None:
            return
        batch, self.batch = self.batch, None
        self.sums.spoil()  # the file control's sums cannot be checked without it
        self._incomplete(
            line_location(batch.line),
            f"batch {batch.number or '?'} has no batch control (8) record",
        )

    def _incomplete(self, location: str, finding: str) -> None:
        self.result.warnings.append(
            RecordError(
                self.result.source_file,
                location,
                f"{finding} (records kept; check the file is complete)",
            )
        )


def _add_record(figures: _Figures, rec: str, adv: bool = False) -> None:
    """Count an entry (6) or addenda (7) record into its batch's figures."""
    figures.count = add_figure(figures.count, 1)
    if rec[0] != "6":
        return
    figures.entry_hash = add_figure(figures.entry_hash, _number(rec[3:11]), _MODULUS)
    amount, code = _number(rec[27:39] if adv else rec[29:39]), rec[1:3]
    if not code.isdigit():
        figures.debit = figures.credit = None
    elif adv:  # 81, 83, 85, 87 credits; 82, 84, 86, 88 debits
        if int(code) % 2:
            figures.credit = add_figure(figures.credit, amount)
        else:
            figures.debit = add_figure(figures.debit, amount)
    elif code[1] in "01234":  # credits: returns, live, prenotes, zero-dollar remittance
        figures.credit = add_figure(figures.credit, amount)
    else:
        figures.debit = add_figure(figures.debit, amount)


def _stated(count: str, entry_hash: str, debit: str, credit: str) -> _Figures:
    """The figures a batch or file control record states (its fields, as text)."""
    return _Figures(_number(count), _number(entry_hash), _number(debit), _number(credit))


def _sum_figures(
    stated: _Figures,
    found: _Figures,
    count_text: str,
    of: tuple[str, str, str],
    currency: str | None = "USD",
) -> list[ControlFigure]:
    """A control record's count, hash and totals beside what it controls adds up to;
    ``of`` names what the hash, debit and credit totals are sums of, ``currency`` what the
    totals are in (``None``: batches in several currencies)."""
    hashes, debits, credits = of
    return [
        ControlFigure(stated.count, found.count, f"entry/addenda count {stated.count}", count_text),
        ControlFigure(
            stated.entry_hash,
            found.entry_hash,
            f"entry hash {_hash(stated.entry_hash)}",
            f"the sum {_hash(found.entry_hash)} of {hashes}",
        ),
        ControlFigure(
            stated.debit,
            found.debit,
            f"total debit amount {_money(stated.debit, currency)}",
            f"the sum {_money(found.debit, currency)} of {debits}",
        ),
        ControlFigure(
            stated.credit,
            found.credit,
            f"total credit amount {_money(stated.credit, currency)}",
            f"the sum {_money(found.credit, currency)} of {credits}",
        ),
    ]


def _number(field_text: str) -> int | None:
    """A zero-padded numeric field; ``None`` when blank or not digits (then not checked)."""
    text = field_text.strip()
    return int(text) if re.fullmatch(r"[0-9]+", text) else None


def _hash(value: int | None) -> str:
    return "?" if value is None else f"{value:010d}"


def _money(minor: int | None, currency: str | None) -> str:
    """``251500 (2515.00 USD)``: a NACHA total as stated and in its batch's currency; only as
    stated (``251500 (minor units, batches in several currencies)``) when ``currency`` is
    ``None``: a file control summing batches in several currencies."""
    if minor is None:
        return "?"
    if currency is None:
        return f"{minor} (minor units, batches in several currencies)"
    return f"{minor} ({minor_units_amount(minor, currency, '')} {currency})"


def _batch_currency(rec: str) -> str:
    """What a batch header's amounts are in: an IAT batch's ISO destination currency code
    (positions 67-69), else (or when that is no ISO 4217 code) USD."""
    if rec[50:53].upper() != "IAT":
        return "USD"
    try:
        return currency_code(rec[66:69], "")
    except BankFileError:
        return "USD"  # the batch header's reading warns of it


_RECORD_NAMES = {
    "5": "a batch header (5) record",
    "6": "an entry detail (6) record",
    "7": "an addenda (7) record",
    "8": "a batch control (8) record",
    "9": "a file control (9) record",
}


def _batch(rec: str, line_no: int, result: ParseResult) -> _Batch:
    """A batch header; raises :class:`BankFileError` when its SEC code is not one NACHA
    defines (the layout of its entries is then unknown: a shifted record, most often).
    An unreadable effective entry date is a warning: the batch is read without one."""
    loc = line_location(line_no)
    sec_code = rec[50:53].strip().upper()
    if sec_code not in SEC_CODES:
        raise BankFileError(
            f"{loc}, standard entry class code (positions 51-53)",
            f"{rec[50:53]!r} is not a NACHA SEC code (is the record shifted?): "
            "the batch is not read",
        )
    try:
        effective_date = _effective_date(rec[69:75], loc)
    except BankFileError as exc:
        effective_date = None
        result.warnings.append(
            RecordError(
                result.source_file,
                exc.location + " (positions 70-75)",
                f"{exc.reason}: the batch's entries are read without a value date",
                rec.rstrip(),
            )
        )
    currency = "USD"
    if sec_code == "IAT":  # its amounts are in the currency the batch header names
        try:
            currency = currency_code(rec[66:69], f"{loc}, ISO destination currency code")
        except BankFileError as exc:
            result.warnings.append(
                RecordError(
                    result.source_file,
                    exc.location + " (positions 67-69)",
                    f"{exc.reason}: the batch's amounts are read as USD",
                    rec.rstrip(),
                )
            )
    return _Batch(
        line=line_no,
        company_name=rec[4:20].strip(),
        company_id=rec[40:50].strip(),
        sec_code=sec_code,
        entry_description=rec[53:63].strip(),
        effective_date=effective_date,
        batch_number=rec[87:94].strip(),
        currency=currency,
        fx_indicator=rec[20:22].strip().upper() if sec_code == "IAT" else "",
        originating_currency=rec[63:66].strip().upper() if sec_code == "IAT" else "",
    )


def _entry(rec: str, line_no: int, batch: _Batch) -> _Entry:
    """An entry detail record's fields, where its batch's SEC code puts them."""
    identification, receiver_name, originator_name = rec[39:54], rec[54:76], ""
    if batch.sec_code == "IAT":  # identification and names are in its addenda
        identification = receiver_name = ""
    elif batch.sec_code == "CTX":  # 55-58 number of addenda records, 59-74 receiving company
        receiver_name = rec[58:74]
    elif batch.sec_code == "CIE":  # the consumer paying, and its account with the biller
        originator_name, identification, receiver_name = rec[39:54], rec[54:76], ""
    elif batch.sec_code in _NAME_FIRST:
        receiver_name, identification = rec[39:54], rec[54:76]
    return _Entry(
        line=line_no,
        batch=batch,
        transaction_code=rec[1:3],
        amount_field=rec[29:39],
        identification=identification.strip(),
        receiver_name=receiver_name.strip(),
        trace=rec[79:94].strip(),
        lines=[],
        originator_name=originator_name.strip(),
    )


def _name(value: str | None) -> str | None:
    """A name field's text; ``None`` when blank or only zeros (a placeholder, not a name)."""
    text = clean(value)
    return None if text is None or set(text) <= {"0"} else text


def _effective_date(value: str, loc: str) -> date | None:
    """The batch's effective entry date; blank or zeros (returns, NOCs) mean none stated."""
    if not value.strip().strip("0"):
        return None
    return parse_date(value, ("%y%m%d",), f"{loc}, effective entry date")


def _emit(result: ParseResult, source_file: str, header: str, entry: _Entry, position: int) -> None:
    loc = line_location(entry.line)
    raw = "\n".join(entry.lines)
    if entry.transaction_code not in TRANSACTION_CODES:  # credit or debit cannot be told
        result.errors.append(
            RecordError(
                source_file,
                f"{loc}, transaction code (positions 2-3)",
                f"{entry.transaction_code!r} is not a NACHA transaction code: the entry is "
                "not read",
                raw,
            )
        )
        return
    if entry.change_addenda is not None or entry.batch.sec_code in _NOT_PAYMENTS:
        _warn_change(result, source_file, entry)  # moves no money whatever its amount says
        return
    if entry.return_addenda is not None:
        _emit_return(result, source_file, header, entry, position)
        return
    if entry.transaction_code in RETURNED_DEBIT_CODES | RETURNED_CREDIT_CODES:
        _emit_return_without_addenda(result, source_file, header, entry, position)
        return
    if _is_reversing_debit(entry):
        _emit_reversal(result, source_file, header, entry, position)
        return
    code = entry.transaction_code
    moves_no_money = code in ZERO_DOLLAR_CODES or code in PRENOTE_CODES
    if code not in CREDIT_CODES and not moves_no_money:
        return  # any other debit is not our cash
    addenda_text = "".join(text for _, _, text in _in_sequence(entry))
    addenda_text = addenda_text.rstrip()
    try:  # the bank's amount: unreadable, the cash itself is unknown
        amount = minor_units_amount(entry.amount_field, entry.batch.currency, f"{loc}, amount")
    except BankFileError as exc:
        if moves_no_money:  # no cash is left out: its text is named instead
            _emit_remittance_only(result, source_file, header, entry, position, addenda_text)
        else:
            result.errors.append(RecordError(source_file, exc.location, exc.reason, raw))
        return
    cash = not moves_no_money and amount != 0
    dates_left_out: list[DetailError] = []
    try:  # the payer's remittance detail (of cash: a bad date leaves that date out)
        free, advice = _remittance(addenda_text, entry, dates_left_out if cash else None)
    except BankFileError as exc:
        if not cash:  # no cash is left out: its text is named instead
            _emit_remittance_only(result, source_file, header, entry, position, addenda_text)
            return
        # the credit the bank states stands: the payer's detail is left out, its text kept
        _warn_detail(result, entry, exc, amount, DETAIL_LEFT_OUT)
        free, advice = addenda_text, RemittanceAdvice()
    if not cash:
        _emit_remittance_only(
            result, source_file, header, entry, position, addenda_text, (free, advice)
        )
        return
    for error in dates_left_out:
        _warn_detail(result, entry, error, amount, DATE_LEFT_OUT)
    credited = f"the {amount} {entry.batch.currency} credited"
    advice = _credit_memos_taken(result, entry, advice, amount, addenda_text, credited)
    _check_advised_payment(result, entry, amount, advice, addenda_text)
    if entry.batch.sec_code == "IAT":
        _check_foreign_amount(result, entry, amount)
    free_parts = [entry.batch.entry_description, free, *advice.notes, *_trn(entry, advice, free)]
    result.records.append(
        _record(
            source_file,
            header,
            entry,
            position,
            amount,
            payer_name=advice.payer_name or _originator(entry),
            payer_account=_payer_account(entry),
            end_to_end_id=entry.identification or None,
            free_text=clean(" ".join(p for p in free_parts if p)),
            structured_refs=tuple(advice.refs),
        )
    )


def _trn(entry: _Entry, advice: RemittanceAdvice, free: str) -> list[str]:
    """``TRN <trace>`` for the free text of a credit whose 820 (CTX addenda) names its payment
    by a trace (``TRN02``) the entry states nowhere else; else nothing.

    The payer's 820 may also come on its own (a bank's EDI service delivers the CTX's 820 as
    an 820 file): that 820 and this entry are one payment, told by the 820's trace in what the
    entry states (the trace of another payment, ``TRN01`` 2, is not this one's)."""
    trace = advice.trace if is_name(advice.trace) and advice.trace_type != "2" else None
    stated = " ".join((entry.identification, entry.trace, free, *advice.notes)).upper()
    return [f"TRN {trace}"] if trace and trace.upper() not in stated else []


def _remittance(
    addenda_text: str, entry: _Entry, dates_left_out: list[DetailError] | None = None
) -> tuple[str, RemittanceAdvice]:
    """An entry's addenda text as free text and the X12 segments it carries: a whole 820 in
    CTX addenda, else free text perhaps ending in RMR segments. Segments an originator wrote
    in lower case (X12 is upper case) are read upper-cased; the free text is kept as it is.
    Raises :class:`BankFileError` naming the addenda line and element of a segment that cannot
    be read (a date, with ``dates_left_out``, is left out instead: see
    :func:`read_remittance_advice`)."""
    found = _x12_in(addenda_text, entry)
    if found is None:
        return addenda_text, RemittanceAdvice()
    x12, cut = found
    advice = _addenda_advice(x12, entry, cut, dates_left_out)
    if not cut and entry.batch.sec_code == "CTX" and START_820.match(x12):
        return "", advice  # a whole 820, its payer and all
    free = [addenda_text[:cut], *_not_segments(addenda_text[cut:])]
    return " ".join(p for p in free if p.strip()), advice


def _x12_in(addenda_text: str, entry: _Entry) -> tuple[str, int] | None:
    """The X12 an entry's addenda text carries (upper-cased when its segments are written in
    lower case) and the character it starts at: the whole text of a CTX that opens an 820,
    else from the first RMR segment on; ``None`` without any."""
    for text in (addenda_text, addenda_text.upper()):
        if entry.batch.sec_code == "CTX" and START_820.match(text):
            return text, 0
        segments_at = RMR_SEGMENT.search(text)
        if segments_at:
            return text[segments_at.start() :], segments_at.start()
    return None


# the segment identifiers of an 820 (4010/5010) and its envelope: text an originator wrote
# that starts with any other word and an element separator (``INV*502 400.00``) is no segment
_SEGMENT_IDS = frozenset(
    {"ISA", "GS", "ST", "BPR", "NTE", "TRN", "CUR", "REF", "DTM", "N1", "N2", "N3", "N4", "PER"}
    | {"RDM", "ENT", "NM1", "ADX", "RMR", "IT1", "TXP", "TXI", "SAC", "SLN", "PID", "TDS", "LX"}
    | {"SE", "GE", "IEA"}
)


def _not_segments(text: str) -> list[str]:
    """Free text an originator wrote between or after the RMR segments of its addenda
    (``RMR*IV*501**100.00\\THANK YOU``): pieces that are no segment (no element separator,
    or no 820 segment identifier before it), which the 820 reader passes over."""
    delimiters = infer_delimiters(text)
    pieces = [
        seg.raw[: -len(delimiters.segment)]
        for seg in split_segments(text, delimiters)
        if not seg.elements or seg.tag not in _SEGMENT_IDS
    ]
    return [piece for piece in pieces if any(c.isalnum() for c in piece)]


def _advised_amount(advice: RemittanceAdvice) -> Decimal | None:
    """The amount of the cash a remittance sent apart describes: its 820's BPR02, else the
    sum of what its RMR segments say is paid (RMR04: on an invoice, a purchase order, or on
    account naming no document) when every RMR states it and no adjustment of the whole
    payment (an ADX before any RMR) leaves the total in doubt. ``None`` when it states no
    positive amount."""
    if advice.amount is not None:
        return advice.amount if advice.credit and advice.amount > 0 else None
    total = advice.paid_total  # None: an RMR states no amount paid
    # a reference without an amount paid that no REF*PO gave: an ADX of the whole payment
    loose = any(r.amount_paid is None and r.kind is not RefKind.PO for r in advice.refs)
    if total is None or loose:
        return None
    return total if total > 0 else None


def _advised_before(advice: RemittanceAdvice) -> Decimal | None:
    """The amount :func:`_advised_amount` read before 81cbd17, which keyed the advice: the
    amounts paid on the documents an RMR names other than a purchase order, when each states
    it (nothing paid on a purchase order or on account counted)."""
    if advice.amount is not None:
        return _advised_amount(advice)
    documents = [r for r in advice.refs if r.kind is not RefKind.PO]
    if not documents or any(r.amount_paid is None for r in documents):
        return None
    total = sum((r.amount_paid or Decimal(0) for r in documents), Decimal(0))
    return total if total > 0 else None


def _keyed_before(entry: _Entry, advice: RemittanceAdvice) -> tuple[Decimal | None, ...]:
    """The earlier amounts keying an advice (:func:`_advised_before`); of an entry with an
    addenda record sent twice, those read before such a copy was read once too (its RMR04s
    counted twice), so that a file imported then is still known."""
    earlier = (_advised_before(advice),)
    if not entry.repeats or advice.amount is not None:
        return earlier
    records = sorted(entry.addenda + entry.repeats, key=lambda a: (a[1], a[0]))
    try:
        _, before = _remittance("".join(text for _, _, text in records).rstrip(), entry)
    except BankFileError:
        return earlier
    return (*earlier, _advised_amount(before), _advised_before(before))


def _says_nothing_paid(free: str, advice: RemittanceAdvice) -> bool:
    """Whether a zero-dollar remittance only restates that nothing was paid: no free text,
    and every amount its segments state zero (``RMR*IV*INV-7003**0.00``)."""
    amounts = [advice.amount, *(r.amount_paid for r in advice.refs)]
    stated = [a for a in amounts if a is not None]
    return not clean(free) and not advice.notes and bool(stated) and not any(stated)


def _emit_remittance_only(
    result: ParseResult,
    source_file: str,
    header: str,
    entry: _Entry,
    position: int,
    addenda_text: str,
    read: tuple[str, RemittanceAdvice] | None = None,
) -> None:
    """An entry that moves no money but may carry remittance: a zero-dollar entry (24, 34,
    or a credit for 0.00) or a prenotification (23, 33).

    A zero-dollar entry whose remittance states the amount of the cash it describes (its
    820's BPR02, or its RMR amounts paid) is remittance advice of that cash, sent apart: an
    advice-only record the reconciler lends to the payment it describes (same currency and
    amount, and its trace or payer). Any other remittance text is a warning naming it (a
    prenotification's too: it moves no money, the payer is only testing the account); an
    entry without addenda, or one whose remittance only says nothing was paid, is silent.
    """
    code = entry.transaction_code
    free, advice = read if read is not None else (addenda_text, RemittanceAdvice())
    advised = _advised_amount(advice) if code not in PRENOTE_CODES else None
    batch = entry.batch
    if advised is not None:
        # the amount of the cash it describes confirms credit memos taken: its BPR02 only
        # (the amounts paid are what advise it otherwise)
        stated = advised if advice.amount is not None else None
        bpr02 = f"its payment amount {advised} {advice.currency or batch.currency} (BPR02)"
        advice = _credit_memos_taken(result, entry, advice, stated, addenda_text, bpr02)
        trace = advice.trace if is_name(advice.trace) and advice.trace_type != "2" else None
        free_parts = [batch.entry_description, free, *advice.notes]
        result.records.append(
            _record(
                source_file,
                header,
                entry,
                position,
                advised,
                currency=advice.currency or batch.currency,
                payer_name=advice.payer_name or _originator(entry),
                payer_account=_payer_account(entry),
                end_to_end_id=entry.identification or None,
                # the trace its cash will name (TRN02), else the entry's own
                bank_reference=trace or entry.trace or None,
                free_text=clean(" ".join(p for p in free_parts if p)),
                structured_refs=tuple(advice.refs),
                advice_only=True,
                keyed_before=_keyed_before(entry, advice),
            )
        )
        return
    text = clean(addenda_text)
    if text is None or (code not in PRENOTE_CODES and _says_nothing_paid(free, advice)):
        return
    kind = "a prenotification" if code in PRENOTE_CODES else "a zero-dollar entry"
    payer = _originator(entry)
    why = (
        "it moves no money (the payer is testing the account before paying into it)"
        if code in PRENOTE_CODES
        else "it moves no money and states no amount to find the cash it describes by"
    )
    warn_left_out(
        result,
        line_location(entry.line),
        f"{kind} (transaction code {code}){f' from {payer}' if payer else ''} with trace "
        f"{entry.trace or '?'} carrying remittance text {text!r}",
        why,
        "\n".join(entry.lines),
    )


def _check_advised_payment(
    result: ParseResult, entry: _Entry, amount: Decimal, advice: RemittanceAdvice, text: str
) -> None:
    """The payment amount (BPR02) of the 820 a CTX entry's addenda carry beside the amount
    credited: a difference is a warning naming the entry's trace and both amounts. The
    entry's amount, what the bank credited, is the cash either way. As in an 820 read on its
    own, amounts paid on documents (RMR04, with the payment's ADX adjustments) that do not add
    up to BPR02 are a warning too; they are kept as stated."""
    if advice.amount is None:
        return
    location = _bpr_location(entry, text)
    if location is None:
        return  # several 820 sets in one entry: no one payment amount to compare
    currency = advice.currency or entry.batch.currency
    entry_is = f"{entry.batch.sec_code} entry with trace {entry.trace or '?'}"
    if advice.amount != amount:
        result.warnings.append(
            RecordError(
                result.source_file,
                location,
                f"{entry_is}: the payment amount of the 820 in its addenda, {advice.amount} "
                f"{currency}, does not match the {amount} {entry.batch.currency} credited; the "
                f"entry is kept at the {amount} {entry.batch.currency} credited (check the "
                "remittance with the payer)",
                "\n".join(entry.lines),
            )
        )
    paid = advice.paid_total
    if not advice.invoices or paid is None or paid + advice.loose_adjustments == advice.amount:
        return
    adjusted = f" (with {advice.loose_adjustments} of ADX adjustments)" * bool(
        advice.loose_adjustments
    )
    result.warnings.append(
        RecordError(
            result.source_file,
            location,
            f"{entry_is}: the amounts paid (RMR04) of the 820 in its addenda add up to "
            f"{paid + advice.loose_adjustments} {currency}{adjusted}, not to its payment amount "
            f"{advice.amount} {currency} (BPR02); kept with the amounts as stated, check the "
            "remittance detail",
            "\n".join(entry.lines),
        )
    )


def _credit_memos_taken(
    result: ParseResult,
    entry: _Entry,
    advice: RemittanceAdvice,
    paid: Decimal | None,
    addenda_text: str,
    paid_is: str = "",
) -> RemittanceAdvice:
    """``advice`` with the credit memos it states a positive amount paid on (RMR01 CM, RMR04
    above 0) taken as credits: negative, reducing what is paid, as X12 has a credit memo line.
    Some payers write the credit taken unsigned. Only where ``paid`` (the amount of the cash,
    ``None``: unknown; ``paid_is`` names it) confirms it, the amounts paid less the credits
    adding up to it, are they turned; otherwise they are kept as stated, each with a warning
    naming the entry's trace and the RMR04 (see :func:`credit_memos_taken`)."""
    currency = advice.currency or entry.batch.currency
    memos = credit_memos_taken(
        advice.refs, advice.paid_total, advice.loose_adjustments, paid, paid_is, currency
    )
    if memos is None:
        return advice
    if not memos.kept:
        return replace(advice, refs=memos.refs, paid_total=memos.paid_total)
    found = _x12_in(addenda_text, entry)
    segments = [] if found is None else split_segments(found[0], infer_delimiters(found[0]))
    for ref in memos.kept:
        location = _rmr04_location(entry, found, segments, ref.ref)
        result.warnings.append(
            RecordError(
                result.source_file,
                location,
                f"{entry.batch.sec_code} entry with trace {entry.trace or '?'}: "
                f"{kept_as_stated(ref, currency, memos.why)}",
                "\n".join(entry.lines),
            )
        )
    return advice


def _rmr04_location(
    entry: _Entry, found: tuple[str, int] | None, segments: list[Segment], ref: str
) -> str:
    """Where the RMR04 of the credit memo line naming ``ref`` is: ``line 14 (addenda), segment
    9 (RMR), RMR04``; the entry's line when it cannot be found."""
    for seg in segments:
        if seg.tag == "RMR" and seg.get(1).upper() == "CM" and seg.get(2) == ref and found:
            here = DetailError(seg, f"{seg.location}, RMR04", "")
            return _on_addenda_line(here, entry, found[0], found[1]).location
    return f"{line_location(entry.line)} (addenda), RMR04"


def _bpr_location(entry: _Entry, text: str) -> str | None:
    """Where the one BPR of the 820 in an entry's addenda ``text`` is: ``line 14 (addenda),
    segment 4 (BPR), BPR02``; None unless there is exactly one."""
    upper = text.upper()
    segments = split_segments(upper, infer_delimiters(upper))
    bprs = [seg for seg in segments if seg.tag == "BPR"]
    if len(bprs) != 1:
        return None
    bpr = bprs[0]
    here = DetailError(bpr, f"{bpr.location}, BPR02", "")
    return _on_addenda_line(here, entry, upper, 0).location


def _check_foreign_amount(result: ParseResult, entry: _Entry, amount: Decimal) -> None:
    """An IAT entry's 710 foreign payment amount beside the amount credited.

    Without a conversion (foreign exchange indicator FF, or the same ISO originating and
    destination currency) the 710 states what the receiver is to get, in the currency the
    entry's amount is read in: a difference (fees taken on the way, an error) is a warning
    naming both. Across a conversion (FV, VF) it is the other side's amount (an FV entry's
    fixed originated amount, in the originating currency) and is not compared; blank or zero
    it states nothing. The entry's amount, what was credited, stands either way.
    """
    batch = entry.batch
    field_text = (entry.foreign_amount or "").strip()
    same_currency = batch.fx_indicator == "FF" or batch.originating_currency == batch.currency
    if not same_currency or not field_text.strip("0"):
        return
    loc = line_location(entry.line)
    credited = f"{amount} {batch.currency}"
    if not field_text.isdigit():
        finding = f"is not an amount: {field_text!r}"
    else:
        foreign = minor_units_amount(int(field_text), batch.currency, loc)
        if foreign == amount:
            return
        finding = f"{foreign} {batch.currency} does not match the {credited} credited"
    result.warnings.append(
        RecordError(
            result.source_file,
            loc,
            f"IAT entry with trace {entry.trace or '?'}: its 710 addenda's foreign payment "
            f"amount {finding} (foreign exchange indicator {batch.fx_indicator or '?'}, "
            f"{batch.originating_currency or '?'} to {batch.currency}); the entry is kept at "
            f"the {credited} credited (check fees or a conversion with the payer)",
            "\n".join(entry.lines),
        )
    )


def _originator(entry: _Entry) -> str | None:
    """Who sent the entry: the IAT 711 addenda's or the CIE consumer's name, else the batch's
    company (a CIE batch names the bill-payment service, an IAT batch no payer)."""
    batch = entry.batch
    return _name(entry.originator_name) or (
        _name(batch.company_name) if batch.sec_code not in ("IAT", "CIE") else None
    )


def _payer_account(entry: _Entry) -> str | None:
    """The originator's identification; for CIE the consumer's account number with the
    biller (its batch's company is the bill-payment service)."""
    batch = entry.batch
    return (entry.identification if batch.sec_code == "CIE" else batch.company_id) or None


def _is_reversing_debit(entry: _Entry) -> bool:
    """A live debit that reverses a credit: in a REVERSAL batch, or a loan reversal (55)."""
    code = entry.transaction_code
    return code in REVERSED_CREDIT_CODES and (
        code == _LOAN_REVERSAL or entry.batch.entry_description.upper() == _REVERSAL
    )


def _emit_reversal(
    result: ParseResult, source_file: str, header: str, entry: _Entry, position: int
) -> None:
    """A reversing entry: an originator takes back a credit it sent us in error. It names no
    original trace; the credit is named by the identification number they share (the credit's
    end-to-end id), else "unknown" (see :func:`_originals_in_file` for one in the same file)."""
    amount = _taken_amount(result, source_file, entry)
    if not amount:
        return
    identification = entry.identification if is_name(entry.identification) else None
    result.records.append(
        _record(
            source_file,
            header,
            entry,
            position,
            -amount,
            payer_name=_originator(entry),
            payer_account=_payer_account(entry),
            free_text=f"REVERSAL OF {identification or 'unknown'}",
            reverses=identification or "unknown",
        )
    )


def _taken_amount(result: ParseResult, source_file: str, entry: _Entry) -> Decimal | None:
    """The amount a return or reversal takes back; None when it cannot be read (the error,
    naming the line, is recorded)."""
    try:
        return minor_units_amount(
            entry.amount_field, entry.batch.currency, f"{line_location(entry.line)}, amount"
        )
    except BankFileError as exc:
        result.errors.append(
            RecordError(source_file, exc.location, exc.reason, "\n".join(entry.lines))
        )
        return None


def _originals_in_file(records: list[RawRemittance]) -> list[RawRemittance]:
    """A reversing entry whose erroneous credit is in the same file (a same-day reversal)
    names that credit by its key: the credit of the matching account type, from the same
    originator (company identification), whose entry is the same from the receiving bank to
    the receiver's name (routing, account, amount, identification, name). A credit two
    reversals fit, or a reversal two credits fit, keeps the identification name."""

    def same(record: RawRemittance, code: str) -> tuple[str, str | None, str]:
        entry_record = record.raw.split("\n", 1)[0].ljust(RECORD_LENGTH)
        return code, record.payer_account, entry_record[3:76]

    credits: dict[tuple[str, str | None, str], list[RawRemittance]] = {}
    reversals: dict[tuple[str, str | None, str], int] = {}
    for record in records:
        code = record.raw[1:3]
        if record.reverses is None:
            credits.setdefault(same(record, code), []).append(record)
        elif code in REVERSED_CREDIT_CODES:
            key = same(record, REVERSED_CREDIT_CODES[code])
            reversals[key] = reversals.get(key, 0) + 1
    named = []
    for record in records:
        code = record.raw[1:3]
        if record.reverses is not None and code in REVERSED_CREDIT_CODES:
            key = same(record, REVERSED_CREDIT_CODES[code])
            fits = credits.get(key, [])
            if len(fits) == 1 and reversals[key] == 1:
                record = replace(record, reverses=fits[0].dedup_key)
        named.append(record)
    return named


def _repeated_addenda(result: ParseResult, entry: _Entry, line_no: int, rec: str) -> bool:
    """Whether an 05 (or IAT 17) addenda ``rec``, the entry's last line, repeats one of its
    entry's earlier addenda record for record, sequence number (positions 84-87, unique within
    an entry) and all: a record sent twice, whose text would count twice. It is read once,
    with a warning naming the entry's trace."""
    sequence = rec[83:87]
    if not sequence.isdigit():
        return False  # no sequence number to tell a copy from a record of its own
    if rec not in {line.ljust(RECORD_LENGTH) for line in entry.lines[1:-1]}:
        return False
    first_line = next(
        (line for line, seen, text in entry.addenda if (seen, text) == (sequence, rec[3:83])),
        None,
    )
    result.warnings.append(
        RecordError(
            result.source_file,
            f"{line_location(line_no)} (addenda), addenda sequence number (positions 84-87)",
            f"{entry.batch.sec_code} entry with trace {entry.trace or '?'}: addenda sequence "
            f"number {sequence} repeats, the record the same as "
            f"{line_location(first_line) if first_line else 'an earlier one'}: a record sent "
            "twice, read once",
            rec.rstrip(),
        )
    )
    return True


def _iat_addenda(entry: _Entry, rec: str) -> None:
    """The parties an IAT entry's mandatory addenda name (710 receiver, 711 originator,
    715 receiver identification)."""
    kind = rec[1:3]
    if kind == "10":
        entry.receiver_name = rec[46:81].strip()
        entry.foreign_amount = rec[6:24]
    elif kind == "11":
        entry.originator_name = rec[3:38].strip()
    elif kind == "15":
        entry.identification = rec[3:18].strip()


def _record(
    source_file: str,
    header: str,
    entry: _Entry,
    position: int,
    amount: Decimal,
    keyed_before: Decimal | tuple[Decimal | None, ...] | None = None,
    **fields: Any,
) -> RawRemittance:
    """An entry's remittance: where it is, its amount, its keys and the entry's own text
    (``fields`` may name another currency or bank reference than the batch's and trace).
    ``keyed_before``: other amounts earlier versions read, whose keys are earlier keys."""
    key, earlier_keys = _key(header, entry, position, amount)
    befores = keyed_before if isinstance(keyed_before, tuple) else (keyed_before,)
    for before_amount in dict.fromkeys(befores):
        if before_amount is not None and before_amount != amount:
            before, before_earlier = _key(header, entry, position, before_amount)
            earlier_keys = (*earlier_keys, before, *before_earlier)
    fields.setdefault("currency", entry.batch.currency)
    fields.setdefault("bank_reference", entry.trace or None)
    return RawRemittance(
        format=BankFileFormat.NACHA,
        source_file=source_file,
        location=line_location(entry.line),
        line=entry.line,
        amount=amount,
        dedup_key=key,
        also_known_as=earlier_keys,
        raw="\n".join(entry.lines),
        value_date=entry.batch.effective_date,
        **fields,
    )


def _key(header: str, entry: _Entry, position: int, amount: Decimal) -> tuple[str, tuple[str, ...]]:
    """An entry's de-duplication key, and the key earlier versions stored it under.

    The trace number names an entry (the originating bank's routing number and its own
    sequence, unique in a file): with the originator, effective date and amount it keys the
    entry in a resent or corrected file too. Without a trace, the file and position do.
    """
    positional = dedup_key(
        BankFileFormat.NACHA,
        header[3:13],
        header[13:23],
        header[23:33],
        header[33],
        entry.batch.batch_number,
        entry.trace,
        position,
        amount,
    )
    if not is_name(entry.trace):
        return positional, ()
    batch = entry.batch
    named = dedup_key(
        "nacha-trace",
        header[13:23].strip(),
        batch.company_id,
        entry.trace,
        batch.effective_date or "",
        amount,
    )
    return named, (positional,)


def _emit_return(
    result: ParseResult, source_file: str, header: str, entry: _Entry, position: int
) -> None:
    """A debit of ours the customer's bank returned (R01 insufficient funds, ...): the cash
    it collected is taken back. Its 799 addenda names the original entry's trace number."""
    addenda = entry.return_addenda or ""
    reason, original_trace = addenda[3:6].strip().upper(), addenda[6:21].strip()
    amount = _taken_amount(result, source_file, entry)
    if amount is None:
        return
    what = (
        f"{_amount_text(entry, amount)} returning the entry with trace {original_trace or '?'} "
        f"(return reason {reason or '?'})"
    )
    if reason.startswith(_DISHONORED_OR_CONTESTED):
        # about a return read when it came: the originator's bank refusing it (R61-R70) or
        # the receiver's bank insisting on it (R71-R77); neither is cash taken back again
        kind = "dishonored" if reason < "R71" else "contested dishonored"
        warn_left_out(
            result,
            line_location(entry.line),
            f"a {kind} return, {what}",
            "it concerns a return read when it came (check whether that return stands)",
            "\n".join(entry.lines),
        )
        return
    if entry.transaction_code not in RETURNED_DEBIT_CODES:
        # a credit we sent (a refund, a vendor payment) coming back: our own money
        warn_left_out(
            result,
            line_location(entry.line),
            f"a return of a credit we sent, {what}",
            NOT_A_CUSTOMER_PAYING,
            "\n".join(entry.lines),
        )
        return
    if not amount:
        return
    if not _RETURN_REASON.fullmatch(reason):
        # the cash is taken back all the same: the entry says so by its code and addenda
        result.warnings.append(
            RecordError(
                source_file,
                f"{line_location(entry.line)} (addenda), return reason code",
                f"return reason code {reason or '(blank)'!r} is not R and two digits: "
                f"{what} is read as a return of unknown reason (check it)",
                "\n".join(entry.lines),
            )
        )
    result.records.append(
        _record(
            source_file,
            header,
            entry,
            position,
            -amount,
            payer_name=_name(entry.receiver_name),
            payer_account=entry.identification or None,
            free_text=clean(f"ACH RETURN {reason} OF TRACE {original_trace}"),
            reverses=original_trace or entry.trace or "unknown",
        )
    )


def _emit_return_without_addenda(
    result: ParseResult, source_file: str, header: str, entry: _Entry, position: int
) -> None:
    """A return or notification of change entry (21, 26, 31, ...) without the 99 (or 98)
    addenda the Rules require of it: the original trace and return reason are unknown. Read
    as a return with a 99 addenda of unknown reason is (see :func:`_emit_return`): a return of
    a debit of ours takes the cash back, naming no original; a return of a credit we sent is
    our own money, left out; one of 0.00 (a notification of change without its change) moves
    no money. Each is a warning naming the entry's trace."""
    amount = _taken_amount(result, source_file, entry)
    if amount is None:
        return
    code, loc, raw = entry.transaction_code, line_location(entry.line), "\n".join(entry.lines)
    what = (
        f"a return entry (transaction code {code}) with trace {entry.trace or '?'}, "
        f"{_amount_text(entry, amount)}, without its return (99) addenda: the returned "
        "entry's trace and the return reason are unknown"
    )
    if not amount:
        warn_left_out(
            result,
            loc,
            what.replace("a return entry", "a return or notification of change entry", 1),
            "it moves no money",
            raw,
        )
        return
    if code in RETURNED_CREDIT_CODES:  # a credit we sent coming back: our own money
        warn_left_out(result, loc, what, NOT_A_CUSTOMER_PAYING, raw)
        return
    result.warnings.append(
        RecordError(
            source_file,
            loc,
            f"{what}; the cash is taken back as a return of unknown reason naming no "
            "payment (check it with the bank)",
            raw,
        )
    )
    result.records.append(
        _record(
            source_file,
            header,
            entry,
            position,
            -amount,
            payer_name=_name(entry.receiver_name),
            payer_account=entry.identification or None,
            free_text=clean(f"ACH RETURN WITHOUT ADDENDA, TRACE {entry.trace or '?'}"),
            reverses="unknown",
        )
    )


def _amount_text(entry: _Entry, amount: Decimal) -> str:
    """``a credit of 99.00 USD``: an entry's direction and amount."""
    code = entry.transaction_code
    side = "credit" if code[1:] and code[1] in "01234" else "debit"
    return f"a {side} of {amount} {entry.batch.currency}"


def _warn_change(result: ParseResult, source_file: str, entry: _Entry) -> None:
    """A notification of change (98 addenda, a COR batch): the receiver's bank says an entry
    of ours named the receiver's account (or name, ...) wrongly and gives the corrected
    data; it moves no money. A warning names the change code and the corrected data, for
    the receiver's details to be updated before the next entry."""
    addenda = (entry.change_addenda or "").ljust(RECORD_LENGTH)
    code, original_trace = addenda[3:6].strip().upper(), addenda[6:21].strip()
    corrected = clean(addenda[35:64])
    if code.startswith("C6"):
        meaning = "a refused notification of change"
    else:
        meaning = CHANGE_CODES.get(code, "change code unknown")
    receiver = _name(entry.receiver_name)
    result.warnings.append(
        RecordError(
            source_file,
            line_location(entry.line),
            f"notification of change {code or '?'} ({meaning}) of the entry with trace "
            f"{original_trace or '?'}{f' to {receiver}' if receiver else ''}: "
            f"{f'corrected data {corrected!r}' if corrected else 'no corrected data'}; "
            "no money moves, not a payment (correct the receiver's details)",
            "\n".join(entry.lines),
        )
    )


def _addenda_advice(
    text: str, entry: _Entry, start: int, dates_left_out: list[DetailError] | None = None
) -> RemittanceAdvice:
    """X12 segments carried in the addenda (``text``, from character ``start`` of their text
    on), read with the 820 reader. A segment that cannot be read is named by the line of the
    addenda record it starts in."""
    found: list[DetailError] = []
    try:
        segments = split_segments(text, infer_delimiters(text))
        advice = read_remittance_advice(segments, found if dates_left_out is not None else None)
    except DetailError as exc:
        raise _on_addenda_line(exc, entry, text, start) from exc
    except BankFileError as exc:
        first_line = entry.addenda[0][0] if entry.addenda else entry.line
        raise BankFileError(
            f"line {first_line} (addenda), {exc.location.replace('line 1, ', '')}",
            exc.reason,
        ) from exc
    if dates_left_out is not None:
        dates_left_out.extend(_on_addenda_line(e, entry, text, start) for e in found)
    if advice.amount is None and advice.paid_total is None:  # no BPR02: the RMR04s advise
        advice.paid_total = _paid_stated(segments)
    return advice


def _paid_stated(segments: list[Segment]) -> Decimal | None:
    """What the RMR ``segments`` say is paid when an RMR naming a purchase order states no
    amount (``RMR*PO*PO-9``): it says nothing is paid, as a REF*PO does, so the sum of the
    other RMR04s stands. ``None`` while another RMR states no amount paid."""
    stating = [
        seg for seg in segments if seg.tag == "RMR" and (seg.get(4) or seg.get(1).upper() != "PO")
    ]
    return read_remittance_advice(stating).paid_total


def _on_addenda_line(error: DetailError, entry: _Entry, text: str, start: int) -> DetailError:
    """``error`` located on the addenda record its segment starts in (``line 14 (addenda),
    segment 9 (DTM), DTM02``): each addenda record holds 80 characters of the text."""
    at = 0
    segment = error.segment
    delimiters = infer_delimiters(text)
    for seg in split_segments(text, delimiters):
        body = seg.raw[: -len(delimiters.segment)]
        found = text.find(body, at)
        at = found if found >= 0 else at
        if seg.index == segment.index:
            break
        at += len(body)
    records = _in_sequence(entry)
    index = min((start + at) // _ADDENDA_TEXT, len(records) - 1) if records else 0
    line = records[index][0] if records else entry.line
    where = error.location.replace(f"line {segment.line}, ", "", 1)
    return DetailError(segment, f"line {line} (addenda), {where}", error.reason)


_ADDENDA_TEXT = 80  # characters of text an addenda record carries (positions 4-83)


def _in_sequence(entry: _Entry) -> list[tuple[int, str, str]]:
    """An entry's 05 (or IAT 17) addenda records in the order of their sequence numbers."""
    return sorted(entry.addenda, key=lambda a: a[1])


def _warn_detail(
    result: ParseResult, entry: _Entry, error: BankFileError, amount: Decimal, left_out: str
) -> None:
    """A warning for payer-written detail of a credit that cannot be read: the credit (the
    bank's amount, date and parties) is kept, what ``left_out`` says is not."""
    warn_detail_left_out(
        result,
        error.location,
        error.reason,
        left_out,
        f"{amount} {entry.batch.currency} credit",
        "\n".join(entry.lines),
    )
