"""What the bank-file parsers produce: raw remittance records and per-record errors.

Amounts are ``Decimal`` in major units with their ISO currency code, exactly as the file
states them; translation into the canonical model happens in ``mappings.bankfiles``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum


class BankFileFormat(StrEnum):
    """The bank-file formats arsync reads."""

    BAI2 = "bai2"
    CAMT_052 = "camt.052"
    CAMT_053 = "camt.053"
    CAMT_054 = "camt.054"
    NACHA = "nacha"
    EDI_820 = "edi820"


class RefKind(StrEnum):
    """What a structured reference points at."""

    INVOICE = "invoice"
    CREDIT_MEMO = "credit_memo"
    RF = "rf"  # ISO 11649 creditor reference
    PO = "po"
    OTHER = "other"


@dataclass(frozen=True)
class StructuredRef:
    """One document the payer says this payment settles, with the amounts it states.

    ``adjustment`` is signed: negative when the payer reduced what it paid (a deduction).
    """

    kind: RefKind
    ref: str
    amount_paid: Decimal | None = None
    invoice_amount: Decimal | None = None
    discount: Decimal | None = None
    adjustment: Decimal | None = None
    adjustment_reason: str | None = None
    document_date: date | None = None


@dataclass(frozen=True)
class RawRemittance:
    """One incoming payment as a bank file states it, or (``reverses`` set, a negative
    amount) a payment the bank took back: a returned direct debit or ACH debit."""

    format: BankFileFormat
    source_file: str
    location: str  # "line 12" or an XML element path with its line
    line: int | None
    amount: Decimal
    currency: str
    dedup_key: str
    raw: str
    value_date: date | None = None
    payer_name: str | None = None
    # the party the payer paid for, where it names another (camt UltmtDbtr, SEPA ABWA+): a
    # shared-service centre or a parent pays, the customer is this one
    ultimate_payer_name: str | None = None
    payer_account: str | None = None
    payer_iban: str | None = None
    bank_reference: str | None = None
    end_to_end_id: str | None = None
    free_text: str | None = None
    structured_refs: tuple[StructuredRef, ...] = ()
    advice_only: bool = False  # remittance detail, its cash sent apart (820 BPR01 not C or D)
    # a returned collection (negative ``amount``): what names the payment it takes back
    reverses: str | None = None
    # keys this record may already be stored under (those of earlier versions of arsync, or
    # the first transaction of a batch entry it is the whole of)
    also_known_as: tuple[str, ...] = ()
    # a transaction of a batch entry: the key the entry is stored under when a report booked
    # it as one amount without its transactions; the transactions replace that record
    details_of: str | None = None


@dataclass(frozen=True)
class RecordError:
    """A record (or a whole file) that could not be read, and why; also the shape of a
    warning about records that were kept (see :class:`ParseResult`)."""

    file: str
    location: str
    reason: str
    raw: str = ""

    def __str__(self) -> str:
        return f"{self.file}: {self.location}: {self.reason}"


@dataclass
class ParseResult:
    """Everything read from one file: the good records, the per-record errors and warnings.

    An error means something was left out (a record, or the whole file). A warning is a
    finding about records that were kept anyway, such as a control total that does not add
    up: the caller reports it but must not count it as a rejected record.
    """

    source_file: str
    format: BankFileFormat | None
    records: list[RawRemittance] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)
    warnings: list[RecordError] = field(default_factory=list)


@dataclass(frozen=True)
class ControlFigure:
    """One figure a trailer record states, beside the figure the file's records give.

    ``None`` on either side means it could not be read (an unreadable field or record, already
    reported on its own): that figure is not checked.
    """

    stated: int | None
    found: int | None
    stated_text: str  # "control total 1 (0.01 USD)"
    found_text: str  # "the sum 27351250 (273512.50 USD) of the account's amounts"

    @property
    def mismatched(self) -> bool:
        return self.stated is not None and self.found is not None and self.stated != self.found


def add_figure(total: int | None, figure: int | None, modulus: int | None = None) -> int | None:
    """A running control figure plus one more; ``None`` (not checked) once either is unreadable.

    ``modulus`` keeps the rightmost digits of a hash (NACHA entry hashes keep ten).
    """
    if total is None or figure is None:
        return None
    return (total + figure) % modulus if modulus else total + figure


def warn_on_control_mismatch(
    result: ParseResult,
    location: str,
    subject: str,
    figures: list[ControlFigure],
    raw: str = "",
) -> None:
    """One warning for a trailer whose stated figures do not match the file's records.

    A warning, not an error: every record is kept (each was read on its own), but the file
    may be incomplete or altered, so the person ingesting it must hear of it.
    """
    wrong = [f"{f.stated_text} does not match {f.found_text}" for f in figures if f.mismatched]
    if wrong:
        result.warnings.append(
            RecordError(
                result.source_file,
                location,
                f"{subject} {'; '.join(wrong)} (records kept; check the file is complete)",
                raw,
            )
        )


NOT_A_CUSTOMER_PAYING = "not a customer paying"


def warn_left_out(result: ParseResult, location: str, what: str, why: str, raw: str = "") -> None:
    """One warning for a record about cash that is read and left out on purpose: ``what`` it
    is (``a credit of 500.00 USD with type code 275 (ZBA Credit)``) and ``why`` it is no
    remittance (``not a customer paying``).

    A warning, not an error: nothing in the file is wrong, but the person ingesting it must
    hear of money that moved and that arsync does not count (the same for every format).
    """
    result.warnings.append(
        RecordError(result.source_file, location, f"{what}: {why}, left out", raw)
    )


# what is left out of a bank's credit whose payer-written remittance detail (X12 segments in
# ACH addenda or BAI2 text, a camt structured remittance) cannot be read: the cash stands
DETAIL_LEFT_OUT = "the payer's remittance detail is left out (its text is kept as free text)"
DATE_LEFT_OUT = "this date is left out, the rest of the payer's remittance detail is kept"
AMOUNTS_LEFT_OUT = (
    "the amounts stated with it are left out, the documents the payer names and the rest of "
    "its remittance detail are kept"
)


def warn_detail_left_out(
    result: ParseResult, location: str, finding: str, left_out: str, credit: str, raw: str = ""
) -> None:
    """One warning for payer-written detail of a bank's credit that cannot be read: ``finding``
    (``not an amount: '1O0.00'``) at ``location`` (the line or element and the field), what is
    ``left_out`` (:data:`DETAIL_LEFT_OUT`, :data:`DATE_LEFT_OUT`,
    :data:`AMOUNTS_LEFT_OUT`) and the ``credit`` kept
    (``1250.00 USD credit``).

    A warning, not an error: the bank's amount, date, account and references are certain and
    the cash is kept; only what the payer wrote about it is doubtful, and a person (and the
    reconciler, from the text) must apply it without that detail.
    """
    result.warnings.append(
        RecordError(
            result.source_file, location, f"{finding}: {left_out}; the {credit} is kept", raw
        )
    )


def warn_details_left_out(
    result: ParseResult, left_out: list[tuple[BankFileError, str]], remittance: RawRemittance
) -> None:
    """One :func:`warn_detail_left_out` for each finding a parser collected about the payer's
    detail of ``remittance`` (the error naming where, and what was left out)."""
    for error, what in left_out:
        warn_detail_left_out(
            result,
            error.location,
            error.reason,
            what,
            f"{remittance.amount} {remittance.currency} credit",
            remittance.raw,
        )


class BankFileError(ValueError):
    """A record or file is malformed; ``location`` names the line or element."""

    def __init__(self, location: str, reason: str) -> None:
        self.location = location
        self.reason = reason
        super().__init__(f"{location}: {reason}")


def dedup_key(fmt: BankFileFormat | str, *parts: object) -> str:
    """A stable key from the content that identifies one transaction.

    Where the bank names the transaction (a NACHA trace number, a BAI2 bank reference, a camt
    entry's own reference) the parts are that name, the account and the amount: the same
    transaction keeps its key in a resent or corrected file, and in another report of the
    same day. Otherwise they include the transaction's position in its file, so that two
    identical-looking payments in one file stay distinct; the same file read twice yields
    the same keys.
    """
    family = fmt.value if isinstance(fmt, BankFileFormat) else fmt
    digest = hashlib.sha256("\x1f".join(str(p) for p in (family, *parts)).encode()).hexdigest()
    return f"{family}:{digest[:48]}"


_PLACEHOLDERS = frozenset({"NONREF", "NOTPROVIDED", "NONE", "NA", "N/A", "0", "UNKNOWN"})


def is_name(reference: str | None) -> bool:
    """Whether a bank reference names one transaction (not blank, not a placeholder)."""
    text = (reference or "").strip().upper()
    return bool(text) and text not in _PLACEHOLDERS and set(text) != {"0"}


def keep_distinct(records: list[RawRemittance]) -> list[RawRemittance]:
    """A reference two records of one file share does not name either (lockbox items under
    the batch's reference, a bank repeating a trace): those records fall back to the key of
    their file and position (their first earlier key), so neither is taken for the other."""
    seen: dict[str, int] = {}
    for record in records:
        seen[record.dedup_key] = seen.get(record.dedup_key, 0) + 1
    return [
        replace(record, dedup_key=record.also_known_as[0], also_known_as=())
        if seen[record.dedup_key] > 1 and record.also_known_as
        else record
        for record in records
    ]


def clean(value: str | None) -> str | None:
    """Collapse whitespace; ``None`` for empty text."""
    if value is None:
        return None
    text = " ".join(value.split())
    return text or None


# what a transfer may leave after a file's last record: a DOS end-of-file mark (Ctrl-Z), NUL
# bytes filling its last block, line breaks and blanks
END_PADDING = "\x1a\x00\r\n\t "


def without_end_padding(text: str) -> str:
    """``text`` without the padding a transfer left after its last record (``END_PADDING``)."""
    return text.rstrip(END_PADDING)


def line_location(line: int) -> str:
    return f"line {line}"


_IBAN = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$")


def is_iban(value: str | None) -> bool:
    """Whether ``value`` is a well-formed IBAN with valid ISO 13616 check digits."""
    compact = (value or "").replace(" ", "").upper()
    if not _IBAN.match(compact):
        return False
    digits = "".join(str(int(c, 36)) for c in compact[4:] + compact[:4])
    return int(digits) % 97 == 1


_RF = re.compile(r"^RF\d{2}[A-Z0-9]{1,21}$")


def is_rf_reference(value: str | None) -> bool:
    """Whether ``value`` is an ISO 11649 creditor reference (``RF`` + valid check digits)."""
    compact = (value or "").replace(" ", "").upper()
    if not _RF.match(compact):
        return False
    digits = "".join(str(int(c, 36)) for c in compact[4:] + compact[:4])
    return int(digits) % 97 == 1
