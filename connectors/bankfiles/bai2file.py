"""BAI2 cash-management files, read with the ``bai2`` package.

Credit detail records (type codes 100-399: 115 lockbox, 142 ACH credit, 164/165 corporate
trade payments, 195 incoming wire, ...) become remittances, except credits that are not a
customer paying: transfers between one's own accounts (ZBA, sweeps, concentration),
investments, loans and interest, and returns or reversals of one's own items (see
``NOT_RECEIPTS``): each is left out with a warning, as a camt credit whose bank transaction
code says so. A debit that takes back a credit counted before (``RETURNED_ITEMS``: a
deposited item or an ACH debit of ours returned, an ACH reversing entry, a credit or deposit
the bank reverses) is a reversal naming the item's customer (else bank) reference; one that
may take back such cash but not as one item (``ADJUSTMENTS``: a settlement total, a
correction) is left out with a warning; any other debit is a payment of ours. A credit
under a bank-specific type code (920-959, which BAI leaves to each bank) is left out with a
warning. A lockbox deposit (115) followed by its items (116, "Item in Lockbox Deposit":
each check of it) that add up to it is the same cash: the items are kept, each naming the
deposit (``details_of``: stored from a report without them, it is replaced); items that
do not add up to it are kept with it, a warning naming both sums. Amounts are
implied-decimal minor units in the account's currency (else the group's, else USD).
A file sent without line breaks, as fixed-length blocks of the record length its 01 header
states (else 80) or as "/"-terminated records on one line, is read record by record, a 16 or
88 whose text has no "/" ending with its block; its findings name the record's number
(``record 7``). A transmission of several files (01 to 99 each, one after another) is read
file by file, a finding about a whole file naming its 01's line; records after a 99 before
any next 01 are an error and left out.
Continuation (88) text is joined to its detail record, straight on where a line filling the
record length was cut mid-word (a file whose 01 states no length is taken as cut at 80 when
two lines carried on fill 80 and none ends short of it: see :func:`_cut_at_length`); its
labelled values (JPMorgan's ``ORIG CO NAME:``, Bank of America's ``DES:``/``INDN:``/
``CO ID:``, tagged 88s, and incoming wires' text: JPMorgan's ``B/O:``/``REF:``/``OBI=``/
``IMAD:``, Bank of America's ``ORIG:``/``ID:``/
``SND BK:``/``PMT DET:``, Wells Fargo's ``/ORG=``/``TRN#``, the Fedwire ``ORG=``/``OGB=``/``BNF=``)
are read label by label: the payer is the originator, never the beneficiary (the account
holder) or a bank; a wire's IMAD (else OMAD, else the bank's TRN) names an item whose 16
record has no bank reference, which does not change its key. Detail records the package
cannot read are reported by line and left out; the rest of the file is kept. X12 segments
in a credit's text are the payer's: ones that cannot be read are left out (a DTM, its date
alone), the text kept, with a warning naming the line and element; the credit is kept. Trailers (49,
98, 99) are checked against what they control; one that is missing (a file cut short) is
completed so that the package reads the records before it, and reported as a warning; one short of
figures, or stating one that is not a number, is read, and reported as a warning that it
cannot be checked. A 02 group header may end before its optional fields (as-of time, currency,
as-of-date modifier); one whose status or as-of date cannot be read leaves out its group's
details alone, an error naming the field (see :func:`_group_header`).

A group's status (02 record) says how its data are to be processed: the details of an update
(1) or a correction (3) are posted, those of a deletion (2) or a test-only (4) group are not
(BAI2 "Group Status Code Processing Matrix"). A deletion or correction asks the receiver to
remove data it holds from earlier files for the group's accounts and as-of date; arsync does
not remove stored remittances on its own: each such group is a warning to check them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from bai2.constants import AsOfDateModifier, FundsType, GroupStatus, TypeCodes
from bai2.helpers import IteratorHelper
from bai2.models import Bai2File, TransactionDetail
from bai2.parsers import Bai2FileParser, TransactionDetailParser
from bai2.utils import parse_date, parse_time

from connectors.bankfiles.amounts import currency_code, minor_units_amount
from connectors.bankfiles.bai_codes import ADJUSTMENTS, NOT_RECEIPTS, RETURNED_ITEMS
from connectors.bankfiles.edi820 import DetailError, read_remittance_advice
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
    StructuredRef,
    add_figure,
    clean,
    dedup_key,
    is_name,
    keep_distinct,
    line_location,
    warn_details_left_out,
    warn_left_out,
    warn_on_control_mismatch,
    without_end_padding,
)
from connectors.bankfiles.x12 import RMR_SEGMENT, infer_delimiters, split_segments

# group statuses whose details are not posted: a deletion, a test-only transmission
_NOT_POSTED = {GroupStatus.deletion: "deletion", GroupStatus.test_only: "test only"}
_FUNDS_TYPES = {f.value for f in FundsType}
# the labels banks put before values in detail text; a value ends where the next label
# starts. JPMorgan's ACH text: ORIG CO NAME, ORIG ID, DESC DATE, CO ENTRY DESCR, SEC, TRACE#,
# EED, IND ID, IND NAME, TRN
_LABEL_NAMES = (
    *("ORIG CO NAME", "ORIG ID", "DESC DATE", "CO ENTRY DESCR", "ENTRY DESCR", "SEC", "TRACE#"),
    *("TRACE", "EED", "IND ID", "IND NAME", "TRN", "B/O ACCT", "BY ORDER OF", "B/O"),
    *("ORIGINATOR", "REMITTER", "IBAN", "OBI"),
    # tagged continuation records (debtor name/account, creditor, references, ...)
    *("DBNM", "DACT", "DABA", "DBIC", "CRNM", "CACT", "CABA", "EREF", "CREF", "REMI", "IDNM"),
    "CHKN",
    # Bank of America's ACH text: the originating company's name unlabelled, then DES (the
    # company entry description), ID (the identification number the originator gives the
    # receiver: a customer, vendor or payment number), INDN (the receiver's name: the
    # account holder itself, or the merchant of a card settlement; never the payer), CO ID
    # (the originator's company identification) followed by the bare SEC code (CCD, PPD,
    # CTX, WEB), and PMT INFO (the addenda's payment-related information)
    *("DES", "ID", "INDN", "CO ID", "PMT INFO"),
    # wires, in the Fedwire party names: ORG the originator (the payer), OGB its bank, BNF
    # the beneficiary (the account holder: us, never the payer), RFB the reference for the
    # beneficiary, OBI the originator-to-beneficiary information, BBI the bank-to-bank
    # information, IMAD and OMAD the Fedwire input and output message accountability data
    # (the Federal Reserve's names for the message). JPMorgan's Fedwire credit: "FEDWIRE
    # CREDIT VIA: <sending bank>/<routing> B/O: <originator> REF: <the beneficiary: CHASE
    # NYC/CTR/BNF=...> RFB= OBI= BBI= IMAD: TRN:"
    *("ORG", "OGB", "BNF", "RFB", "BBI", "IMAD", "OMAD", "REF"),
    # Bank of America's wire: "WIRE TYPE:WIRE IN DATE: TIME: TRN:<its reference> SEQ:
    # ORIG:<originator> ID:<its account> SND BK:<sending bank> ID:<bank id> PMT DET:<details>"
    # (ORIG BK for the originator's bank of an international wire, BNF and BNF BK on wires
    # out)
    *("ORIG", "SND BK", "ORIG BK", "BNF BK", "PMT DET", "SEQ"),
    # Wells Fargo's wire: "WT FED#<sequence> <sending bank> /ORG=<originator> SRF#<sender's
    # reference> TRN#<its reference> RFB#<reference for the beneficiary>" (/BNF= on wires out)
    *("/ORG", "/BNF"),
    # the same NACHA fields as other banks and exports spell them: the originator's company
    # id (ORIG CO ID), the entry description (CO ENTRY DESC), the trace (TRACE NO), the
    # receiver's reference (CUST REF)
    *("ORIG CO ID", "CO ENTRY DESC", "ENTRY DESC", "TRACE NO", "TRACE NUMBER", "CUST REF"),
    *("CUSTOMER REF", "YOUR REF", "OUR REF"),
    # the payer's remittance, labelled: addenda, additional and remittance information
    *("ADDENDA", "ADDL INFO", "ADDTL INFO", "RMT INFO", "REMIT INFO", "REMITTANCE INFO"),
    *("REMITTANCE", "RMR"),
    # wires' parties in words (the originator, its account and bank; the beneficiary is us)
    *("ORIGINATOR NAME", "ORIGINATOR ACCT", "ORIGINATOR ACCOUNT", "ORIG ACCT", "ORIG BANK"),
    *("ORIGINATOR BANK", "BENEFICIARY", "BENEFICIARY NAME", "BENEFICIARY ACCT", "BENE"),
    *("BENEFICIARY BANK", "RECEIVER", "RECEIVER NAME", "CREDITOR NAME"),
    # the Fedwire reference (the bank's name for the message, as IMAD)
    *("FED REF", "FED REF NO", "FED REF NUM", "FED REFERENCE"),
    # instant payments (RTP, FedNow): the sender (debtor) and its account, the network's
    # message id, the sender's end-to-end id, the instruction id
    *("SENDER", "SENDER NAME", "SENDER ACCT", "SENDER ACCOUNT", "DEBTOR", "DEBTOR NAME"),
    *("DEBTOR ACCT", "DEBTOR ACCOUNT", "PAYER", "PAYER NAME", "SENDER BANK", "DEBTOR BANK"),
    *("MSG ID", "MESSAGE ID", "END TO END ID", "E2E ID", "INSTR ID", "TXN ID"),
)
# labels followed by "#" and their value (Wells Fargo's wire references), not ":" or "="
_HASH_LABEL_NAMES = ("SRF", "TRN", "RFB")


def _alternatives(names: tuple[str, ...]) -> str:
    """Labels for a regex, longest first (ORIG CO NAME before ORIG), in any case, their
    words apart by any blanks."""
    ordered = sorted(names, key=len, reverse=True)
    return "|".join(r"\s+".join(map(re.escape, name.split())) for name in ordered)


def _label_key(written: str) -> str:
    """A label as the tables name it: ``Orig  CO Name`` is ``ORIG CO NAME``."""
    return " ".join(written.upper().split())


# a label is whole words: ENTRY DESCR is not the end of CO ENTRY DESCR, ID not the end of
# ORIG ID, CO ID or TRID, DES not that of CODES, REF not that of EREF, BNF not the end of
# Chase's CTR/BNF (part of a REF value), and REFERENCE, ORGANIZATION or ORIGINAL are no REF,
# ORG or ORIG (a label is followed by its ":", "=" or "#")
_LABELS = re.compile(
    r"(?<![\w/#])(?:(?P<label>"
    + _alternatives(_LABEL_NAMES)
    + r")\s*[:=]|(?P<hash_label>"
    + _alternatives(_HASH_LABEL_NAMES)
    + r")#)\s*",
    re.IGNORECASE,
)
# X12 segments in detail text, in any case (originators' software writes "rmr*iv*")
_RMR_ANY_CASE = re.compile(RMR_SEGMENT.pattern, re.IGNORECASE)
# a Fedwire party's identifier before its name ("ORG=/000123456789 ACME CORP")
_PARTY_IDENTIFIER = re.compile(r"^/(?P<id>\S+)\s+(?=\S)")
# Bank of America's text starts with the originating company's name, unlabelled: the text
# before a first DES label is kept as the value of this (made-up) label
_NAME_BEFORE_DES = "COMPANY NAME BEFORE DES"
_NAME_LABELS = (
    *("ORIG CO NAME", "B/O", "BY ORDER OF", "ORIGINATOR", "REMITTER", "ORIG", "ORG", "/ORG"),
    *("DBNM", _NAME_BEFORE_DES, "ORIGINATOR NAME", "SENDER NAME", "SENDER", "DEBTOR NAME"),
    *("DEBTOR", "PAYER NAME", "PAYER"),
)
_ACCOUNT_LABELS = (
    *("ORIG ID", "B/O ACCT", "DACT", "CO ID", "ORIG CO ID", "ORIGINATOR ACCT", "ORIG ACCT"),
    *("ORIGINATOR ACCOUNT", "SENDER ACCT", "SENDER ACCOUNT", "DEBTOR ACCT", "DEBTOR ACCOUNT"),
)
# the originator's identifier, from its name's value, where no label states its account
_PARTY_ID = "PARTY IDENTIFIER"
# the sender's end-to-end id (instant payments), where the 16 record has no customer reference
_END_TO_END_LABELS = ("END TO END ID", "E2E ID")
# an ID right after these labels is the account of the party they name (Bank of America's
# ORIG:<name> ID:<account>); after any other (a sending bank's ID, Bank of America's ACH ID)
# it is other text
_ID_OF = {"ORIG": "ORIG ID"}
# the labels of a wire's parties, each followed by the party's ID (Bank of America's wire)
_WIRE_PARTIES = ("ORIG", "ORIG BK", "SND BK", "BNF", "BNF BK")
# labels whose value is one word; what follows is other text (the SEC code after a CO ID, a
# "FF" or "YOUR REF" after a TRN)
_ONE_WORD_LABELS = (
    *("CO ID", "ORIG CO ID", "IMAD", "OMAD", "TRN", "FED REF", "FED REF NO", "FED REF NUM"),
    *("FED REFERENCE", "MSG ID", "MESSAGE ID", "END TO END ID", "E2E ID"),
)
# an ACH trace number: the bank's name for the item
_TRACE_LABELS = ("TRACE#", "TRACE", "TRACE NO", "TRACE NUMBER")
# a wire's names, after an ACH trace: the Fedwire message's (IMAD, else OMAD, else the
# Fedwire reference), an instant payment's message id, else the bank's own transaction
# reference (JPMorgan's TRN:, Bank of America's TRN:, Wells Fargo's TRN#)
_REFERENCE_LABELS = (
    *_TRACE_LABELS,
    *("IMAD", "OMAD", "FED REF", "FED REF NO", "FED REF NUM", "FED REFERENCE", "MSG ID"),
    *("MESSAGE ID", "TRN"),
)
# a SWIFT party's name line ("1/<name>" in an MT103 field 50F) as some banks pass it on
_NAME_LINE = re.compile(r"^1/\s*")


@dataclass
class _LogicalRecord:
    code: str
    line: int
    lines: list[tuple[int, str]]  # (line number, text) of the record and its 88 continuations
    # for each of ``lines``: whether it fills the physical record length the 01 record states,
    # ending in neither a blank nor "/" (the bank cut it where the length ran out, perhaps
    # mid-word)
    full: list[bool] = field(default_factory=list)
    # whether ``full`` rests on the 80 characters taken for a file whose 01 states no length
    # (read before as never cut: each line carried on after a blank)
    cut_assumed: bool = False


_RECORD_CODES = frozenset({"01", "02", "03", "16", "49", "88", "98", "99"})
# some banks put several records on one physical line, each ended by "/"
_NEXT_RECORD = re.compile(r"(?<=/)\s*(?=(?:0[123]|16|49|88|98|99),)")


@dataclass(frozen=True)
class _Physical:
    """The physical records of a file: (number, record text, the whole line or block as
    sent) each, and the line each number is on. A record's number is its line's, unless the
    file is of fixed-length blocks or all on one line (sent without line breaks): then every
    record is numbered in the file's order, as the 99 file trailer counts them."""

    records: list[tuple[int, str, str]]
    by_record: bool = False
    line_of: dict[int, int] = field(default_factory=dict)


def _physical_records(text: str) -> _Physical:
    """The file's physical records: lines split into the fixed-length blocks the 01 header
    states (see :func:`_blocks`), else where one "/"-terminated record follows another; the
    padding after the last record (an end-of-file mark) is none."""
    lines = without_end_padding(text.lstrip("\ufeff")).splitlines()
    length = _record_length(lines[0].strip()) if lines else None
    found: list[tuple[int, str, str]] = []
    in_blocks = False
    size = _block_size(lines, length)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        blocks = _blocks(line, size) if size else None
        if blocks:
            in_blocks = True
            found.extend((number, block.strip(), block) for block in blocks if block.strip())
            continue
        for piece in _NEXT_RECORD.split(line.strip()):
            if piece.strip():
                found.append((number, piece.strip(), line))
    one_line = len(found) > 1 and len({number for number, _, _ in found}) == 1
    if not (in_blocks or one_line):
        return _Physical(found)
    return _Physical(
        [(ordinal, piece, sent) for ordinal, (_, piece, sent) in enumerate(found, start=1)],
        by_record=True,
        line_of={ordinal: number for ordinal, (number, _, _) in enumerate(found, start=1)},
    )


_RECORD_START = re.compile(r"(?:0[123]|16|49|88|98|99),")


def _block_size(lines: list[str], length: int | None) -> int | None:
    """The record length of a file sent as fixed-length blocks without line breaks (the
    length its 01 header states, else 80): every line but the last a whole number of blocks,
    and one at least holding several. ``None`` for a file of one record a line, whose long
    records (text holding ``16,`` or ``01,`` where a block would start) are never cut."""
    written = [line for line in lines if line.strip()]
    for size in dict.fromkeys(n for n in (length, 80) if n):
        if all(len(line) % size == 0 for line in written[:-1]) and any(
            len(line.rstrip()) > size for line in written
        ):
            return size
    return None


def _blocks(line: str, size: int) -> list[str] | None:
    """The fixed-length blocks of one line of a blocked file (see :func:`_block_size`), when
    each starts with a record code. A record whose text is not ended by "/" (as BAI2 lets a
    16 or 88 end) ends where its block does. ``None`` for any other line."""
    if len(line.rstrip()) <= size:
        return None
    blocks = [line[start : start + size] for start in range(0, len(line), size)]
    if all(_RECORD_START.match(b) or not b.strip() for b in blocks):
        return blocks
    return None


def _record_length(piece: str) -> int | None:
    """The physical record length a 01 file header states (its sixth field), if any."""
    fields = piece.rstrip("/").split(",")
    value = fields[6].strip() if len(fields) > 6 else ""
    return int(value) if value.isdigit() and int(value) > 0 else None


def _fills(line: str, length: int | None) -> bool:
    """Whether a physical line was cut at the record length: as long, ending in a character
    of text (a line padded with blanks, or ended by "/", ends where its words end)."""
    return (
        length is not None
        and len(line) == length
        and not line[-1].isspace()
        and (not line.endswith("/"))
    )


def _logical_records(
    physical: _Physical, result: ParseResult | None = None
) -> list[_LogicalRecord]:
    """Records with their 88 continuations. A line that starts with no record code continues
    an unterminated record (a wrapped line); after a terminated one it is reported and skipped."""
    records: list[_LogicalRecord] = []
    length: int | None = None
    assumed = False  # the 01 states no length: 80 is taken, pending evidence
    for number, piece, line in physical.records:
        code = piece[:2]
        full = piece == line and _fills(line, length)
        if piece[2:3] != "," or code not in _RECORD_CODES:
            last = records[-1].lines[-1] if records else None
            if last is not None and not last[1].endswith("/"):
                records[-1].lines[-1] = (last[0], f"{last[1]} {piece}")
                records[-1].full[-1] = full
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
        if code == "01" and not records:
            length = _record_length(piece)
            if length is None:
                length = _unstated_length(physical)
                assumed = length is not None
        if code == "88" and records:
            records[-1].lines.append((number, piece))
            records[-1].full.append(full)
        else:
            records.append(_LogicalRecord(code, number, [(number, piece)], [full]))
    if _wraps_at_words(records) or (assumed and not _cut_at_length(records)):
        for record in records:  # a line as long as the record ended where a word did
            record.full = [False] * len(record.lines)
    elif assumed:
        for record in records:
            record.cut_assumed = any(record.full[:-1])
    return records


def _unstated_length(physical: _Physical) -> int | None:
    """The record length of a file whose 01 header states none: 80 (the card length BAI2
    files keep to, some banks cutting text there mid-word, as NatWest does) when no record
    runs past it, else ``None`` (records of any length). The file's lines are taken as cut
    there only with the evidence :func:`_cut_at_length` asks for."""
    longest = max((len(line.rstrip()) for _, _, line in physical.records), default=0)
    return 80 if longest <= 80 else None


# lines carried on, each filling the 80 characters, that show a file stating no record length
# is cut there. A bank wrapping at words ends a wrapped line at 80 as often as a word ends
# there (about one line in six); a line it wraps short of 80 shows it (see _wraps_at_words).
# One full line alone is no evidence: gluing two words makes up an invoice number that may
# apply cash wrongly, while two words a cut kept apart only leave the cash to a person.
_CUTS_SHOWING_LENGTH = 2


def _cut_at_length(records: list[_LogicalRecord]) -> bool:
    """Whether a file whose 01 states no record length shows its bank cutting its text at
    80 characters: ``_CUTS_SHOWING_LENGTH`` lines carried on fill them (and none ends short of
    them, see :func:`_wraps_at_words`)."""
    cuts = sum(sum(record.full[:-1]) for record in records)
    return cuts >= _CUTS_SHOWING_LENGTH


def _wraps_at_words(records: list[_LogicalRecord]) -> bool:
    """Whether the file's bank wraps long text at word boundaries, dropping the blank: a text
    it carried on in an 88 record ended short of the record length. A bank that cuts at the
    length (mid-word as often as not) fills every line it carries on."""
    return any(
        not full and not line.endswith("/")
        for record in records
        for (_, line), full in zip(record.lines[:-1], record.full[:-1], strict=True)
    )


def _continues_word(before: str, after: str, full: bool) -> bool:
    """Whether a continuation carries on the word its record was cut in: the record filled
    its physical length (and the continuation does not start with a label), or the cut
    splits a label (``ORIG I`` / ``D:1234``), which is whole only without a blank."""
    if not before or not after or before[-1].isspace() or after[0].isspace():
        return False
    if full:
        return not _LABELS.match(after)
    tail, head = before[-24:], after[:24]
    for match in _LABELS.finditer(tail + head):
        name = "label" if match.group("label") else "hash_label"
        if match.start(name) < len(tail) < match.end(name):
            return True
    return False


def _fields(record: _LogicalRecord) -> list[str]:
    """The record's fields after the record code, its 88 continuations joined.

    A physical record ended by "/" closes its last field, so the continuation starts a new
    field; one without "/" is cut inside its (text) field, which the continuation carries on:
    after a blank, or straight on where it was cut mid-word (see :func:`_continues_word`).
    """
    text = ""
    full = record.full or [False] * len(record.lines)
    for index, (_, line) in enumerate(record.lines):
        body = line.split(",", 1)[1] if "," in line else ""
        if index and record.lines[index - 1][1].endswith("/"):
            text += ","
        elif index and not _continues_word(text, body, full[index - 1]):
            text += " "
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


# BAI's "Lockbox Deposit" and "Item in Lockbox Deposit" (one check of such a deposit)
_LOCKBOX_DEPOSIT, _LOCKBOX_ITEM = "115", "116"
# BAI reserves type codes 920-959 for credits each bank defines itself (900-919 for status,
# 960-999 for debits): Canadian and US banks report their own receipt types under them
_CUSTOM_CREDITS = range(920, 960)


def _warn_on_custom_credit(result: ParseResult, record: _LogicalRecord, currency: str) -> None:
    """A warning for a detail under a bank-specific credit type code (920-959): money came
    in that may be a customer paying, but only the bank's own guide says what the code is,
    so it is left out and the person ingesting must hear of it. ``currency`` is the
    account's, else the group's (USD when neither states one)."""
    fields = _fields(record)
    code = fields[0].strip() if fields else ""
    if not code.isdigit() or int(code) not in _CUSTOM_CREDITS:
        return
    amount = fields[1].strip() if len(fields) > 1 else ""
    try:
        code_of = currency_code(currency or "USD", "")
        stated = f"{minor_units_amount(amount, code_of, '')} {code_of}"
    except BankFileError:
        stated = f"{amount or '?'} (minor units, currency {currency!r} unknown)"
    warn_left_out(
        result,
        line_location(record.line),
        f"a credit of {stated} with the bank-specific type code {code}",
        "BAI2 leaves what it is to the bank (check the bank's type code list)",
        "\n".join(t for _, t in record.lines),
    )


# the fields of a 02 group header, in order
_GROUP_FIELDS = (
    *("ultimate receiver identification", "originator identification", "group status"),
    *("as-of date", "as-of time", "currency code", "as-of-date modifier"),
)


def _group_header(record: _LogicalRecord, result: ParseResult) -> tuple[str, bool]:
    """(the 02 record as the package reads it, whether its group's details can be read).

    BAI2 lets a record end ("/") before optional fields it leaves unspecified (the as-of
    time, currency code and as-of-date modifier of a 02): they are given blank. A group
    status or as-of date that cannot be read leaves the group's details out (whether they
    are to be posted, and of which day, cannot be told), an error naming the field; an
    as-of time or as-of-date modifier that cannot be read is read as unspecified, a warning.
    The rest of the file is read either way."""
    fields = [f.strip() for f in _fields(record)]
    fields += [""] * (len(_GROUP_FIELDS) - len(fields))
    read = True
    checks: tuple[tuple[int, Any, str], ...] = (
        (2, GroupStatus, "not a BAI2 group status (1 to 4)"),
        (3, parse_date, "not a date YYMMDD"),
        (4, parse_time, "not a time HHMM (2400 or 9999: end of day)"),
        (6, AsOfDateModifier, "not a BAI2 as-of-date modifier (1 to 4)"),
    )
    if not fields[3]:
        result.warnings.append(
            RecordError(
                result.source_file,
                f"{line_location(record.line)}, {_GROUP_FIELDS[3]}",
                "is not stated: the group's credits are kept without a date",
                "\n".join(t for _, t in record.lines),
            )
        )
    for index, reader, expected in checks:
        value = fields[index]
        try:
            if value:
                reader(value)
        except ValueError:
            fields[index] = ""
            left_out = index in (2, 3)
            read = read and not left_out
            consequence = (
                "the group's details are left out (the rest of the file is read)"
                if left_out
                else "read as not stated (the group's details are kept)"
            )
            findings = result.errors if left_out else result.warnings
            findings.append(
                RecordError(
                    result.source_file,
                    f"{line_location(record.line)}, {_GROUP_FIELDS[index]}",
                    f"{expected}: {value!r}: {consequence}",
                    "\n".join(t for _, t in record.lines),
                )
            )
    return f"02,{','.join(fields[: len(_GROUP_FIELDS)])}/", read


def parse_bai2(text: str, source_file: str) -> ParseResult:
    """Credit detail records of a BAI2 file as remittances, with per-record errors."""
    physical = _physical_records(text)
    result = _read_records(physical, source_file)
    if physical.by_record:
        _name_records(result, physical.line_of)
    return result


def _read_records(physical: _Physical, source_file: str) -> ParseResult:
    """The remittances, errors and warnings of a file's physical records, located by their
    number (``line N``)."""
    result = ParseResult(source_file=source_file, format=BankFileFormat.BAI2)
    records = _logical_records(physical, result)
    if not records or records[0].code != "01":
        result.errors.append(
            RecordError(source_file, "line 1", "a BAI2 file must start with a 01 file header")
        )
        return result
    files = _files(records)
    for file in files:
        _read_file(file, result, several=len(files) > 1)
    return result


def _files(records: list[_LogicalRecord]) -> list[list[_LogicalRecord]]:
    """The records of each BAI2 file (01 to 99) in a transmission that holds several, one
    after another (some banks send a day's files, or a customer joins them, in one)."""
    files: list[list[_LogicalRecord]] = []
    for record in records:
        if record.code == "01" or not files:
            files.append([])
        files[-1].append(record)
    return files


def _read_file(records: list[_LogicalRecord], result: ParseResult, several: bool) -> None:
    """The remittances, errors and warnings of one file's records (from its 01), added to
    ``result``. A finding about the whole file names its 01's line when the transmission
    holds ``several`` files."""
    source_file = result.source_file
    whole_file = line_location(records[0].line) if several else "file"
    package: list[tuple[_LogicalRecord, list[str]]] = []  # each record, the lines the package reads
    kept_details: list[_LogicalRecord] = []
    unread_groups: set[int] = set()  # the 02 lines of groups whose details are left out
    group_currency = account_currency = ""  # of the group and account read, for a warning
    for record in records:
        if record.code == "02":
            group_fields = _fields(record)
            group_currency = group_fields[5].strip() if len(group_fields) > 5 else ""
            account_currency = ""
            header, read = _group_header(record, result)
            if not read:
                unread_groups.add(record.line)
            package.append((record, [header]))
        elif record.code == "16":
            line, problem = _normalised_detail(record)
            if line is None and problem is None:
                _warn_on_custom_credit(result, record, account_currency or group_currency)
            if problem:
                result.errors.append(
                    RecordError(
                        source_file,
                        line_location(record.line),
                        problem,
                        "\n".join(t for _, t in record.lines),
                    )
                )
            if line is not None:
                kept_details.append(record)
            package.append((record, [] if line is None else [line]))
        elif record.code == "03":
            account_fields = _fields(record)
            account_currency = account_fields[1].strip() if len(account_fields) > 1 else ""
            # the package misreads summaries spread over 88 records and funds types S/V/D;
            # arsync needs only the account and currency from it (totals are checked here)
            fields = _fields(record)
            account = fields[0].strip() if fields else ""
            currency = fields[1].strip() if len(fields) > 1 else ""
            package.append((record, [f"03,{account},{currency}/"]))
        else:
            package.append((record, [t for _, t in record.lines]))
    trailers = _Trailers(source_file)
    try:
        parsed = _read_package(trailers.read(package))
    except BankFileError as exc:
        location = whole_file if exc.location == "file" else exc.location
        result.errors.append(RecordError(source_file, location, exc.reason))
        return
    for findings, found in (
        (result.errors, trailers.findings.errors),
        (result.warnings, trailers.findings.warnings),
    ):
        findings.extend(
            replace(f, location=whole_file) if f.location == "file" else f for f in found
        )
    start = len(result.records)
    deposits = _collect(
        result, source_file, parsed, iter(kept_details), trailers.group_lines, unread_groups
    )
    # a reference shared within one file names no item; the same one in two files is one item
    result.records[start:] = _own_keys_apart(keep_distinct(result.records[start:]))
    _items_for_deposits(result, deposits)


def _items_for_deposits(result: ParseResult, deposits: list[tuple[int, list[int]]]) -> None:
    """Each lockbox deposit (115) whose items (116, right after it: ``deposits`` holds the
    places of both in ``result.records``) add up to it replaced by them, each naming it
    (``details_of``); one they do not add up to is kept with them, a warning naming both sums."""
    replaced: set[int] = set()
    for at, places in deposits:
        if not places:
            continue
        deposit = result.records[at]
        total = sum((result.records[i].amount for i in places), Decimal(0))
        if total == deposit.amount:
            replaced.add(at)
            for i in places:
                result.records[i] = replace(result.records[i], details_of=deposit.dedup_key)
            continue
        result.warnings.append(
            RecordError(
                result.source_file,
                deposit.location,
                f"lockbox deposit (type code 115) of {deposit.amount} {deposit.currency} is "
                f"followed by {len(places)} item(s) in lockbox deposit (116) adding up to "
                f"{total} {deposit.currency}: all are kept, so cash the items repeat is counted "
                "twice (check them in the bank's report)",
                deposit.raw,
            )
        )
    result.records[:] = [r for i, r in enumerate(result.records) if i not in replaced]


def _own_keys_apart(records: list[RawRemittance]) -> list[RawRemittance]:
    """The records with no earlier key that is another record's own key in the file: a
    reading before this one may number look-alike credits otherwise, and a record stored
    under that key is the other one (its cash would be taken for this one's)."""
    own = {record.dedup_key for record in records}
    return [
        replace(
            record,
            also_known_as=tuple(
                k for k in record.also_known_as if k not in own or k == record.dedup_key
            ),
        )
        if any(k in own and k != record.dedup_key for k in record.also_known_as)
        else record
        for record in records
    ]


_NUMBERED = re.compile(r"^line (\d+)")


def _name_records(result: ParseResult, line_of: dict[int, int]) -> None:
    """Locations of a file whose lines hold several records named by the record's number
    (``record 5``, ``record 5, remittance text, ...``), not ``line 5``; each remittance's
    ``line`` is the line its record is on."""

    def named(location: str) -> str:
        return _NUMBERED.sub(r"record \1", location)

    result.records[:] = [
        replace(r, location=named(r.location), line=line_of.get(r.line or 0, r.line))
        for r in result.records
    ]
    for findings in (result.errors, result.warnings):
        findings[:] = [replace(f, location=named(f.location)) for f in findings]


_RECORD_NAMES = {
    "01": "01 file header",
    "02": "02 group header",
    "03": "03 account identifier",
    "16": "16 transaction detail",
    "49": "49 account trailer",
    "98": "98 group trailer",
    "99": "99 file trailer",
}


def _read_package(lines: list[tuple[int, str]]) -> Bai2File:
    """The ``bai2`` package's reading of the (completed) lines; a record it cannot read makes
    the file unreadable, reported as one error naming that record's line."""
    helper: IteratorHelper | None = None
    try:
        helper = IteratorHelper(text for _, text in lines)
        parsed: Bai2File = Bai2FileParser(helper, check_integrity=False).parse()
        return parsed
    except Exception as exc:  # the package raises several unrelated types for a broken record
        failed = helper.current_record if helper is not None else None
        detail = str(exc) or type(exc).__name__
        if isinstance(exc, IndexError):
            detail = "too few fields"
        elif isinstance(exc, ValueError):  # int(), a date or time, a code the package lists
            field = _failed_field(failed.code.value, failed.fields) if failed else None
            detail = f"its {field} is not valid" if field else f"a field is not valid: {detail}"
        if failed is None:
            raise BankFileError("file", f"not a readable BAI2 file: {detail}") from exc
        code, body = failed.rows[0][0].value, failed.rows[0][1]
        line = next((n for n, t in lines if t[:2] == code and t[3:] == body), None)
        raise BankFileError(
            "file" if line is None else line_location(line),
            f"not a readable BAI2 file: its {_RECORD_NAMES.get(code, code)} cannot be read "
            f"({detail})",
        ) from exc


# the fields of the records the package reads whole, as it reads each: by a function raising
# ValueError, or as text (None); 02 headers (see :func:`_group_header`), 16 details and
# trailers' figures are checked before the package reads them
_PACKAGE_FIELDS: dict[str, tuple[tuple[str, Any], ...]] = {
    "01": (
        *(("sender identification", None), ("receiver identification", None)),
        *(("file creation date", parse_date), ("file creation time", parse_time)),
        *(("file identification number", None), ("physical record length", int)),
        *(("block size", int), ("version number", int)),
    ),
}


def _failed_field(code: str, values: list[str]) -> str | None:
    """The name and value of a record's first field the package cannot read, if known."""
    for (name, reader), value in zip(_PACKAGE_FIELDS.get(code, ()), values, strict=False):
        try:
            if reader is not None and value:
                reader(value)
        except ValueError:
            return f"{name} ({value!r})"
    return None


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


@dataclass
class _Section:
    """A file, group or account not yet closed by its trailer, as the package will read it."""

    line: int  # its header's line
    start: int  # where its header is among the lines for the package
    name: str = "file"  # "group 2", "account 0012345678"
    total: int = 0  # what the package sums for its trailer: details, accounts' or groups' totals
    children: int = 0  # the groups of the file, the accounts of a group


class _Trailers:
    """Each trailer compared with what it controls; a mismatch is a warning, records are kept.

    A 49 account control total is the sum of its 03 and 16 amounts. A 98 group control total
    is the sum of the group's 49 control totals, with the number of its accounts (03). A 99
    file control total is the sum of the 98 group control totals, with the number of groups
    (02) and, when given, of records (01 to 99, 88 continuations included).

    A trailer the file leaves out (a file cut short, or a lost record) is a warning too, and
    is completed for the package with the figures the package itself computes, so that it
    reads the records before it. A completed trailer is not checked; the sums and record
    count of the trailers above it are then not checked either (they could not agree). A
    trailer short of figures (``98,26407244,27/``: which one is left out cannot be told) is
    a warning and is not checked, nor are the sums above it; the package reads it blank. A
    record out of place (a 16 outside an account, ...) makes the file unreadable.
    """

    def __init__(self, source_file: str) -> None:
        self.findings = ParseResult(source_file=source_file, format=BankFileFormat.BAI2)
        self.lines: list[tuple[int, str]] = []  # (line number, text) for the package
        self.file: _Section | None = None
        self.group: _Section | None = None
        self.account: _Section | None = None
        self.ended = False  # the 99 was read
        # the file's own figures; None once one cannot be known (then it is not checked)
        self.total: int | None = 0  # the account's 03 and 16 amounts
        self.group_total: int | None = 0  # the group's 49 control totals
        self.file_total: int | None = 0  # the file's 98 control totals
        self.count: int | None = 0  # the file's records
        self.accounts = self.groups = 0
        self.group_lines: list[int] = []  # the 02 line of each group the package reads
        self.group_currency = self.currency = "USD"
        self.group_currencies: set[str] = set()
        self.file_currencies: set[str] = set()

    def read(self, package: list[tuple[_LogicalRecord, list[str]]]) -> list[tuple[int, str]]:
        """The lines for the package, missing trailers completed; raises
        :class:`BankFileError` when nothing can be read."""
        for record, lines in package:
            if self.ended:  # the package reads no further than the 99
                self._after_file_trailer(record)
                break
            self._see(record, lines)
        file = self.file
        if file is not None and not self.ended:
            self._no_file_trailer()
        if file is None or file.children == 0:
            raise BankFileError(
                line_location(package[0][0].line),
                "not a readable BAI2 file: it ends before any account (03) in a group (02) "
                "(cut short?)"
                if not self.ended
                else "not a readable BAI2 file: no group (02) holds an account (03)",
            )
        return self.lines

    def _see(self, record: _LogicalRecord, lines: list[str]) -> None:
        code = record.code
        location, raw = line_location(record.line), record.lines[0][1]
        parts = [p.strip() for p in _fields(record)]
        self.count = add_figure(self.count, len(record.lines))
        if code in ("02", "03", "98", "99"):
            self._no_account_trailer(cut=False)
        if code in ("02", "99"):
            self._no_group_trailer(cut=False)
        in_place = {
            "01": self.file is None,
            "03": self.group is not None,
            "16": self.account is not None,
            "49": self.account is not None,
            "98": self.group is not None,
        }
        if not in_place.get(code, True):
            raise BankFileError(location, f"not a readable BAI2 file: {_OUT_OF_PLACE[code]}")
        figures = _TRAILER_FIGURES.get(code, ())
        if len(parts) < len(figures):
            self._short_trailer(location, code, len(parts), raw)
            parts = [""] * len(figures)
            lines = [f"{code},{','.join(parts)}/"]
        unread = [
            i for i, value in enumerate(parts[: len(figures)]) if value and not _int_field(value)
        ]
        if unread:  # read blank by the package, not checked
            self._unread_figures(location, code, [(figures[i], parts[i]) for i in unread], raw)
            parts = ["" if i in unread else value for i, value in enumerate(parts)]
            lines = [f"{code},{','.join(parts[: len(figures)])}/"]
        self.lines.extend((record.line, text) for text in lines)
        if code == "01":
            self.file = _Section(record.line, 0)
        elif code == "02":
            self.groups += 1
            self.accounts, self.group_total, self.group_currencies = 0, 0, set()
            self.group_currency = (parts[5] if len(parts) > 5 else "") or "USD"
            self.currency = self.group_currency
            self.group = _Section(record.line, len(self.lines) - len(lines), f"group {self.groups}")
        elif code == "03":
            self.accounts += 1
            self.total = _summary_total(parts)
            self.currency = (parts[1] if len(parts) > 1 else "") or self.group_currency
            self.group_currencies.add(self.currency)
            self.file_currencies.add(self.currency)
            self.account = _Section(
                record.line, len(self.lines) - len(lines), f"account {parts[0] or '?'}"
            )
        elif code == "16":
            self._detail(parts, lines)
        elif code == "49":
            self._account_trailer(location, parts, raw)
        elif code == "98":
            self._group_trailer(location, parts, raw)
        elif code == "99":
            self._file_trailer(location, parts, raw)

    def _detail(self, parts: list[str], lines: list[str]) -> None:
        amount = parts[1] if len(parts) > 1 else ""
        if _int_field(amount):
            self.total = add_figure(self.total, int(amount))
        elif amount:
            self.total = None
        if lines and self.account is not None:  # the package sums the details it reads
            self.account.total += int(lines[0].split(",")[2] or 0)

    def _account_trailer(self, location: str, parts: list[str], raw: str) -> None:
        control = _stated(parts, 0)
        name = self.account.name if self.account else "account ?"
        warn_on_control_mismatch(
            self.findings,
            location,
            name,
            [
                ControlFigure(
                    control,
                    self.total,
                    f"control total {_minor(control, self.currency)}",
                    f"the sum {_minor(self.total, self.currency)} of the account's amounts",
                )
            ],
            raw,
        )
        self.group_total = add_figure(self.group_total, control)
        self._close_account(control or 0)

    def _group_trailer(self, location: str, parts: list[str], raw: str) -> None:
        control = _stated(parts, 0)
        ccy = _one(self.group_currencies)
        accounts = self.accounts
        warn_on_control_mismatch(
            self.findings,
            location,
            f"group {self.groups}",
            [
                ControlFigure(
                    control,
                    self.group_total,
                    f"control total {_minor(control, ccy)}",
                    f"the sum {_minor(self.group_total, ccy)} of its account control totals",
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
        self.file_total = add_figure(self.file_total, control)
        self._close_group(control or 0)

    def _file_trailer(self, location: str, parts: list[str], raw: str) -> None:
        control = _stated(parts, 0)
        ccy = _one(self.file_currencies)
        groups, count = self.groups, self.count
        warn_on_control_mismatch(
            self.findings,
            location,
            "file",
            [
                ControlFigure(
                    control,
                    self.file_total,
                    f"control total {_minor(control, ccy)}",
                    f"the sum {_minor(self.file_total, ccy)} of its group control totals",
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
        self.ended = True

    def _after_file_trailer(self, record: _LogicalRecord) -> None:
        """An error for the records after the 99 file trailer before any next 01 file header:
        they belong to no file, and are left out."""
        self.findings.errors.append(
            RecordError(
                self.findings.source_file,
                line_location(record.line),
                f"a {_RECORD_NAMES.get(record.code, record.code)} after the 99 file trailer "
                "(no 01 file header before it): it and the records after it up to the next "
                "01 are left out",
                "\n".join(t for _, t in record.lines),
            )
        )

    def _short_trailer(self, location: str, code: str, stated: int, raw: str) -> None:
        """A trailer stating fewer figures than it has: which one is left out cannot be told."""
        figures = _TRAILER_FIGURES[code]
        owner = {"49": self.account, "98": self.group}.get(code)
        trailer = _RECORD_NAMES[code] + (f" of {owner.name}" if owner else "")
        self.findings.warnings.append(
            RecordError(
                self.findings.source_file,
                location,
                f"{trailer} states {stated} of its {len(figures)} figures "
                f"({', '.join(figures)}): it cannot be checked "
                "(records kept; check the file is complete)",
                raw,
            )
        )

    def _unread_figures(
        self, location: str, code: str, unread: list[tuple[str, str]], raw: str
    ) -> None:
        """A trailer figure that is not a number: it, and the sums above it, are not checked."""
        owner = {"49": self.account, "98": self.group}.get(code)
        trailer = _RECORD_NAMES[code] + (f" of {owner.name}" if owner else "")
        stated = ", ".join(f"{name} {value!r}" for name, value in unread)
        self.findings.warnings.append(
            RecordError(
                self.findings.source_file,
                f"{location}, {unread[0][0]}",
                f"{trailer} states a figure that is not a number ({stated}): it cannot be "
                "checked (records kept)",
                raw,
            )
        )

    def _close_account(self, control: int) -> None:
        """The account's trailer was read (or completed): ``control`` is its total."""
        if self.account is not None and self.group is not None:
            self.group.total += control
            self.group.children += 1
        self.account = None

    def _close_group(self, control: int) -> None:
        """The group's trailer was read (or completed). A group without accounts holds nothing
        to read, and the package refuses it: it is left out of the package's lines."""
        group, self.group = self.group, None
        if group is None or self.file is None:
            return
        if group.children == 0:
            del self.lines[group.start :]
            return
        self.group_lines.append(group.line)
        self.file.total += control
        self.file.children += 1

    def _no_account_trailer(self, cut: bool) -> None:
        """The open account ends without its 49: one is completed for the package."""
        account = self.account
        if account is None:
            return
        self._complete(f"49,{account.total},{len(self.lines) - account.start + 1}/")
        self.group_total = None  # the group trailer's sum cannot be checked without it
        self._missing(
            line_location(account.line),
            f"BAI2 file ends without the 49 account trailer of {account.name} (cut short?)"
            if cut
            else f"{account.name} has no 49 account trailer",
        )
        self._close_account(account.total)

    def _no_group_trailer(self, cut: bool) -> None:
        """The open group ends without its 98: one is completed for the package."""
        self._no_account_trailer(cut)
        group = self.group
        if group is None:
            return
        rows = len(self.lines) - group.start + 1
        self._complete(f"98,{group.total},{group.children},{rows}/")
        self.file_total = None  # the file trailer's sum cannot be checked without it
        self._missing(
            line_location(group.line),
            f"BAI2 file ends without the 98 group trailer of {group.name} (cut short?)"
            if cut
            else f"{group.name} has no 98 group trailer",
        )
        self._close_group(group.total)

    def _no_file_trailer(self) -> None:
        """The file ends without its 99: one is completed for the package."""
        self._no_group_trailer(cut=True)
        if self.file is None:
            return
        file = self.file
        self._complete(f"99,{file.total},{file.children},{len(self.lines) + 1}/")
        self._missing("file", "BAI2 file ends without its 99 file trailer (cut short?)")

    def _complete(self, trailer: str) -> None:
        """A trailer the file leaves out, made for the package (never checked)."""
        self.lines.append((self.lines[-1][0] if self.lines else 1, trailer))
        self.count = None  # the file trailer's record count cannot be checked without it

    def _missing(self, location: str, finding: str) -> None:
        self.findings.warnings.append(
            RecordError(
                self.findings.source_file,
                location,
                f"{finding} (records kept; check the file is complete)",
            )
        )


_TRAILER_FIGURES = {  # what each trailer states, in order
    "49": ("control total", "number of records"),
    "98": ("control total", "number of accounts", "number of records"),
    "99": ("control total", "number of groups", "number of records"),
}
_OUT_OF_PLACE = {  # why a record cannot be where it is
    "01": "a second 01 file header before the 99 file trailer",
    "03": "a 03 account identifier outside a group (no 02 group header before it)",
    "16": "a 16 transaction detail outside an account (no 03 account identifier before it)",
    "49": "a 49 account trailer outside an account (no 03 account identifier before it)",
    "98": "a 98 group trailer outside a group (no 02 group header before it)",
}


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


def _major(minor: int, currency: str) -> str:
    """``273512.50 USD``: an implied-decimal BAI2 amount in major units, else as stated."""
    return _in_currency(minor, currency)[2:-1] or f"{minor} (currency {currency!r} unknown)"


def _collect(
    result: ParseResult,
    source_file: str,
    parsed: Bai2File,
    details: Iterator[_LogicalRecord],
    group_lines: list[int],
    unread_groups: set[int],
) -> list[tuple[int, list[int]]]:
    """Remittances for the credit details, paired in order with their logical records; the
    details of a group whose header (at one of ``unread_groups``) cannot be read are left out.
    Returns each lockbox deposit's place in ``result.records`` with those of the items in
    lockbox deposit read right after it (see :func:`_items_for_deposits`)."""
    deposits: list[tuple[int, list[int]]] = []
    header = parsed.header
    file_id = (
        header.sender_id,
        header.receiver_id,
        header.creation_date,
        header.creation_time,
        header.file_id,
    )
    seen: dict[tuple[Any, ...], int] = {}  # how many items of the day looked the same so far
    for group_index, group in enumerate(parsed.children, start=1):
        line = group_lines[group_index - 1] if group_index <= len(group_lines) else None
        posted = line not in unread_groups and _group_status(result, group, line)
        if posted:
            _interim(result, group, line)
        for account in group.children:
            position = 0
            deposit: tuple[int, list[int]] | None = None  # the lockbox deposit items may follow
            unpaired: list[int] = []  # items in lockbox deposit not right after one
            reports_deposit = False
            for detail in account.children:
                logical = next(details)
                position += 1
                before, deposit = deposit, None
                if not posted:
                    continue
                code = detail.type_code.code
                returned = code in RETURNED_ITEMS
                if not detail.amount:
                    continue
                if code in NOT_RECEIPTS or code in ADJUSTMENTS:
                    _left_out(result, logical, detail, group, account)
                    continue
                if not returned and not 100 <= int(code) <= 399:
                    continue
                left_out: list[tuple[BankFileError, str]] = []
                try:
                    remittance = _remittance(
                        source_file,
                        logical,
                        detail,
                        group,
                        account,
                        (file_id, group_index, position),
                        seen,
                        left_out,
                    )
                    if returned:  # its text's remittance detail is not read: nothing left out
                        remittance, left_out = _returned(remittance, detail), []
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
                warn_details_left_out(result, left_out, remittance)
                if code == _LOCKBOX_DEPOSIT:
                    deposit = (len(result.records) - 1, [])
                    deposits.append(deposit)
                    reports_deposit = True
                elif code == _LOCKBOX_ITEM and before is not None:
                    before[1].append(len(result.records) - 1)
                    deposit = before
                elif code == _LOCKBOX_ITEM:
                    unpaired.append(len(result.records) - 1)
            if reports_deposit:
                _warn_unpaired_items(result, unpaired)
    return deposits


def _warn_unpaired_items(result: ParseResult, places: list[int]) -> None:
    """A warning for each item in lockbox deposit (116) of an account that reports a lockbox
    deposit (115), but not right after it (another record between, or before it): both are
    kept, so the cash the item repeats may be counted twice."""
    for at in places:
        item = result.records[at]
        result.warnings.append(
            RecordError(
                result.source_file,
                item.location,
                f"item in lockbox deposit (type code 116) of {item.amount} {item.currency} "
                "does not follow a lockbox deposit (115), though this account reports one: "
                "both are kept, so if it is a check of that deposit its cash is counted twice "
                "(check them in the bank's report)",
                item.raw,
            )
        )


def _left_out(
    result: ParseResult,
    logical: _LogicalRecord,
    detail: TransactionDetail,
    group: Any,
    account: Any,
) -> None:
    """A warning for a credit that is no customer paying (``NOT_RECEIPTS``) or a debit that may
    take back cash counted before without being one item taken back (``ADJUSTMENTS``)."""
    code = detail.type_code
    currency = account.header.currency or group.header.currency or "USD"
    amount = _major(detail.amount or 0, currency)
    if code.code in NOT_RECEIPTS:
        what, why = f"a credit of {amount}", NOT_A_CUSTOMER_PAYING
    else:
        what = f"a debit of {amount}"
        why = (
            "it may take back cash counted before, though not as one item taken back whole "
            "(check it in the bank's report)"
        )
    warn_left_out(
        result,
        line_location(logical.line),
        f"{what} with type code {code.code} ({code.description})",
        why,
        "\n".join(t for _, t in logical.lines),
    )


def _interim(result: ParseResult, group: Any, line: int | None) -> None:
    """A warning for a group of interim data (as-of-date modifier 1 or 3): the final report
    of the day repeats its items, but one the bank drops or changes by then stays stored."""
    modifier = group.header.as_of_date_modifier
    if modifier not in (AsOfDateModifier.interim_previous_day, AsOfDateModifier.interim_same_day):
        return
    numbers = dict.fromkeys(str(a.header.customer_account_number) for a in group.children)
    accounts = ", ".join(numbers) or "?"
    kind = "previous-day" if modifier is AsOfDateModifier.interim_previous_day else "same-day"
    location = line_location(line) if line is not None else f"group {group.header.originator_id}"
    result.warnings.append(
        RecordError(
            result.source_file,
            location,
            f"as-of-date modifier {modifier.value} (interim {kind} data) for account(s) "
            f"{accounts} on {group.header.as_of_date}: its details are kept and the final "
            "report's same items are recognised, but an item the final report leaves out or "
            "states otherwise is not removed: check them against it",
        )
    )


def _group_status(result: ParseResult, group: Any, line: int | None) -> bool:
    """Whether the group's details are posted; a warning for a deletion, correction or
    test-only group (its status, accounts and as-of date)."""
    status = group.header.group_status
    if status in (None, GroupStatus.update):
        return True
    accounts = ", ".join(str(a.header.customer_account_number) for a in group.children) or "?"
    as_of = group.header.as_of_date
    what = f"group status {status.value} ({_NOT_POSTED.get(status, status.name)})"
    if status is GroupStatus.test_only:
        finding = f"{what}: a test transmission, its details are not remittances (left out)"
    elif status is GroupStatus.deletion:
        finding = (
            f"{what}: the bank withdraws what it reported for account(s) {accounts} on "
            f"{as_of}; its details are left out, and remittances stored from earlier files for "
            "those accounts and date are not removed: check them"
        )
    else:
        finding = (
            f"{what}: it replaces what the bank reported for account(s) {accounts} on {as_of}; "
            "its details are kept, and remittances stored from earlier files for those accounts "
            "and date that it no longer lists are not removed: check them"
        )
    location = line_location(line) if line is not None else f"group {group.header.originator_id}"
    result.warnings.append(RecordError(result.source_file, location, finding))
    return status not in _NOT_POSTED


def _remittance(
    source_file: str,
    logical: _LogicalRecord,
    detail: TransactionDetail,
    group: Any,
    account: Any,
    place: tuple[tuple[Any, ...], int, int],
    seen: dict[tuple[Any, ...], int],
    left_out: list[tuple[BankFileError, str]],
) -> RawRemittance:
    """One detail's remittance. ``place`` is where it is (the file's identification, the
    group's and the detail's position); ``seen`` counts the file's items so far by looks.
    Raises :class:`BankFileError` for a bank field that cannot be read (the amount, the
    currency); remittance detail in the text that cannot be read is left out instead (its
    text kept), each finding with what was left out added to ``left_out``.

    The bank's reference names an item: with the account, as-of date, type, customer
    reference and amount it keys the item in any file. An item without one, in a group that
    states its as-of-date modifier, is the n-th item of its account and as-of date that looks
    so (same bank, type, references, amount and text): the same in the interim reports of a
    day (modifier 1 or 3, each repeating the ones before), its final report (2 or 4) and a
    resent file, while two such items in one file stay two. Otherwise its file and position
    key it. Text a file stating no record length cuts at 80 characters was read before with a
    blank at each cut: the key that reading gave is an earlier one.
    """
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
    refs, remainder = _embedded_remittance(remainder, logical, left_out)
    key, earlier_keys = _item_key(detail, group, account, place, seen, "")
    # the keys a reading that never took the lines as cut gave it (see _LogicalRecord)
    before, earlier_before = _item_key(
        _read_without_cuts(logical) or detail, group, account, place, seen, "never cut"
    )
    earlier_keys = tuple(
        dict.fromkeys(k for k in (*earlier_keys, before, *earlier_before) if k != key)
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
        payer_account=next(
            (fields[k] for k in (*_ACCOUNT_LABELS, _PARTY_ID) if fields.get(k)), None
        ),
        payer_iban=(fields.get("IBAN") or "").replace(" ", "") or None,
        bank_reference=clean(detail.bank_reference)
        or next((fields[k] for k in _REFERENCE_LABELS if fields.get(k)), None),
        end_to_end_id=clean(detail.customer_reference)
        or next((fields[k] for k in _END_TO_END_LABELS if fields.get(k)), None),
        free_text=clean(remainder),
        structured_refs=refs,
        also_known_as=earlier_keys,
    )


def _item_key(
    detail: TransactionDetail,
    group: Any,
    account: Any,
    place: tuple[tuple[Any, ...], int, int],
    seen: dict[tuple[Any, ...], int],
    reading: str,
) -> tuple[str, tuple[str, ...]]:
    """A detail's key and the keys earlier versions gave it, its place's first (see
    :func:`_remittance`). ``seen`` counts the items that looked the same so far in the
    ``reading`` of the file's lines."""
    item = (
        account.header.customer_account_number,
        group.header.as_of_date,
        detail.type_code.code,
        detail.bank_reference,
        detail.customer_reference,
        detail.amount,
    )
    file_id, group_index, position = place
    place_key = dedup_key(BankFileFormat.BAI2, *file_id, group_index, *item, position)
    if is_name(detail.bank_reference):
        return dedup_key("bai2-ref", *item), (place_key,)
    if group.header.as_of_date_modifier is not None and group.header.as_of_date is not None:
        # without its day, a credit and the same credit of another day look alike
        looks = (group.header.originator_id, *item, clean(detail.text) or "")
        count = seen[(reading, *looks)] = seen.get((reading, *looks), 0) + 1
        return dedup_key("bai2-day", *looks, count), (place_key,)
    return place_key, ()


def _read_without_cuts(record: _LogicalRecord) -> TransactionDetail | None:
    """The 16 record as read when its lines were never taken as cut at an assumed length
    (each line carried on after a blank), where that differs; ``None`` otherwise."""
    if not record.cut_assumed:
        return None
    line, _ = _normalised_detail(replace(record, full=[False] * len(record.lines)))
    if line is None:
        return None
    try:
        detail: TransactionDetail = TransactionDetailParser(IteratorHelper(iter([line]))).parse()
    except Exception:  # the package raises several unrelated types for a broken record
        return None
    return detail


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


@dataclass(frozen=True)
class _Label:
    label: str
    shown: str  # how it is put back in the free text: the label and ":" (or "#")
    start: int
    end: int  # where its value starts


def _label_matches(text: str) -> list[_Label]:
    """The labels of a detail text in order, in any case (``Orig CO Name:`` is ORIG CO NAME,
    shown as written). A "CO ID:" right after a wire party's name is that name's last word
    (CO, company) and its ID ("ORIG:SUMMIT PEAK SUPPLY CO ID:555..."), not Bank of America's
    ACH company identification."""
    labels: list[_Label] = []
    for match in _LABELS.finditer(text):
        written = " ".join((match.group("label") or match.group("hash_label")).split())
        label = _label_key(written)
        shown = f"{written}{':' if match.group('label') else '#'}"
        start = match.start()
        if label == "CO ID" and labels and labels[-1].label in _WIRE_PARTIES:
            start = match.start() + match.group("label").upper().rindex("ID")
            label, shown = "ID", f"{written[-2:]}:"
        labels.append(_Label(label, shown, start, match.end()))
    return labels


def _value(text: str) -> str | None:
    """A labelled value without the blanks and commas around it (``ORIG ID=123,DESC ...``)."""
    return clean(text.strip().strip(","))


def _labelled_fields(text: str) -> tuple[dict[str, str], str]:
    """``LABEL:value`` pairs banks put in detail text; returns them and the other text."""
    matches = _label_matches(text)
    if not matches:
        return {}, text
    fields: dict[str, str] = {}
    leading = text[: matches[0].start]
    if matches[0].label == "DES" and clean(leading):
        fields[_NAME_BEFORE_DES], leading = clean(leading) or "", ""
    rest = [leading]
    previous = None
    for i, match in enumerate(matches):
        end = matches[i + 1].start if i + 1 < len(matches) else len(text)
        value = text[match.end : end]
        label, shown = match.label, match.shown
        rmr = _RMR_ANY_CASE.search(value)
        segments = value[rmr.start() :] if rmr else ""  # remittance segments end a value
        value = value[: rmr.start()] if rmr else value
        after = ""
        if label in _ONE_WORD_LABELS:
            word = re.match(r"\s*[^\s,]*", value)
            cut = word.end() if word else 0
            value, after = value[:cut], value[cut:]
        key = _ID_OF.get(previous or "", label) if label == "ID" else label
        previous = label
        cleaned = _value(value)
        if cleaned and key in _NAME_LABELS:
            cleaned = _value(_NAME_LINE.sub("", cleaned))
            identifier = _PARTY_IDENTIFIER.match(cleaned or "")
            if cleaned and identifier:  # "/<account> <name>": the Fedwire party's identifier
                fields.setdefault(_PARTY_ID, identifier.group("id"))
                cleaned = cleaned[identifier.end() :]
        party = key in _NAME_LABELS or key in _ACCOUNT_LABELS or key == "IBAN"
        kept = party or key in _REFERENCE_LABELS or key in _END_TO_END_LABELS
        if kept and cleaned and key not in fields:
            fields[key] = cleaned
        if not party:
            rest.append(f"{shown}{value}")
        rest.extend((after, segments))
    return fields, " ".join(rest)


def _embedded_remittance(
    text: str, logical: _LogicalRecord, left_out: list[tuple[BankFileError, str]]
) -> tuple[tuple[StructuredRef, ...], str]:
    """X12 RMR/ADX segments some banks pass through in the detail text (read upper-cased
    where an originator wrote them in lower case), and the rest of the text.

    Segments that cannot be read are the payer's detail, not the bank's: they are left out,
    the text kept whole, and the finding (located on the record whose text the segments
    start in) added to ``left_out``; a date that cannot be read is left out alone."""
    start = _RMR_ANY_CASE.search(text)
    if not start:
        return (), text
    segment_text = text[start.start() :].upper()  # X12 is upper case
    where = line_location(_line_of_segments(logical))
    dates: list[DetailError] = []
    try:
        segments = split_segments(segment_text, infer_delimiters(segment_text))
        advice = read_remittance_advice(segments, dates)
    except BankFileError as exc:
        location = f"{where}, remittance text, {exc.location.replace('line 1, ', '')}"
        left_out.append((BankFileError(location, exc.reason), DETAIL_LEFT_OUT))
        return (), text
    for date_error in dates:
        location = f"{where}, remittance text, {date_error.location.replace('line 1, ', '')}"
        left_out.append((BankFileError(location, date_error.reason), DATE_LEFT_OUT))
    return tuple(advice.refs), " ".join([text[: start.start()], *advice.notes])


def _line_of_segments(logical: _LogicalRecord) -> int:
    """The line of the record (the 16 or one of its 88s) whose text the X12 segments start in."""
    return next((n for n, t in logical.lines if _RMR_ANY_CASE.search(t)), logical.line)
