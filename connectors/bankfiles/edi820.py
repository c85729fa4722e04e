"""EDI X12 820 (Payment Order / Remittance Advice): one transaction set (ST..SE) is one
remittance. The remittance-detail reader is shared with NACHA CTX addenda.

BPR01 (X12 element 305, transaction handling code) says whether the 820 is the payment:
C (payment accompanies remittance advice) and D (make payment only) are cash received. P
(prenotification of future transfers) is no payment and is left out; so is a debit (BPR03
D), with a warning naming its transaction set. Every other code is remittance detail whose
cash arrives separately, if at all, and is stored as advice only, to be matched to the
bank's credit: I (remittance information only), U (split payment and remittance), X
(handling party's option to split payment and remittance), B and E (debit/credit advice
without or with remittance detail), H (notification only), K (reimbursement to follow), N
(check issuance notice), Q (credit due, payment being issued), and A, F, G, J, L, M, O, R,
S, T, Z. Before version 003020 (GS08)
X meant "make payment and send remittance advice", and is read as C there. Whatever BPR01
says, payment method (BPR04) NON (non-payment data) moves no funds: the 820 is advice only.

Remittance detail as payers state it: RMR04 is the amount paid on the document (net of its
discount, RMR06, of the adjustment RMR07/RMR08 and of those, ADX, in its loop), RMR05 the
document's amount, and an ADX01 (or RMR08) is signed (negative: a deduction). An ADX before
any RMR of its ENT loop adjusts the payment, not a document: it is a reference of its own,
named by ADX04 or the REF after it. An RMR naming no document (RMR01 and RMR02 left out;
RMR03 PO, payment on account, PA, payment in advance, ...) is an amount paid that settles no
document: it is named in the text and counts toward BPR02. A credit memo line (RMR01 CM)
reduces what is paid: one whose payer wrote the credit taken as a positive RMR04 is turned
negative (RMR04, and RMR05 when positive) where BPR02 confirms it, the amounts paid less the
credits adding up to it; otherwise it is kept as stated, with a warning naming its transaction
set and RMR04. The amounts paid and those adjustments add up to BPR02; where they do not, a
warning says so and both are kept as stated. A document's DTM whose date cannot be read (an
invoice dated 20240231) leaves out that date only, with a warning naming the segment: the
payment and the rest of its detail are kept; a payment date that cannot be read rejects the
set (it dates and keys the payment). Any other segment that cannot be read rejects its
transaction set, with an error naming the segment and element.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from connectors.bankfiles.amounts import currency_code, decimal_amount, parse_date
from connectors.bankfiles.credit_memos import credit_memos_taken, kept_as_stated
from connectors.bankfiles.records import (
    DATE_LEFT_OUT,
    NOT_A_CUSTOMER_PAYING,
    BankFileError,
    BankFileFormat,
    ControlFigure,
    ParseResult,
    RawRemittance,
    RecordError,
    RefKind,
    StructuredRef,
    clean,
    dedup_key,
    is_iban,
    is_name,
    is_rf_reference,
    keep_distinct,
    warn_detail_left_out,
    warn_left_out,
    warn_on_control_mismatch,
    without_end_padding,
)
from connectors.bankfiles.x12 import (
    Segment,
    infer_delimiters,
    split_interchanges,
    split_segments,
)

_RMR_KINDS = {
    "IV": RefKind.INVOICE,
    "IK": RefKind.INVOICE,
    "OI": RefKind.INVOICE,
    "R7": RefKind.INVOICE,
    "CM": RefKind.CREDIT_MEMO,
    "PO": RefKind.PO,
}
# an X12 date (element 373) by its length: CCYYMMDD from version 004010 on, YYMMDD before it
_DATE_FORMATS = {8: ("%Y%m%d",), 6: ("%y%m%d",)}
# DTM qualifiers that date the payment, best first: settlement, effective, process, created
_PAYMENT_DATE_QUALIFIERS = ("234", "007", "009", "097")
# BPR01 codes of an 820 that is the payment itself (see the module docstring)
_PAYMENT_HANDLING = frozenset({"C", "D"})
_PRENOTIFICATION = "P"
# X12 versions before 003020 define BPR01 X as "make payment and send remittance advice"
_PAYMENT_X_BEFORE = "003020"
# BPR04 payment method "non-payment data": no funds move with the 820
_NO_FUNDS = "NON"
# RMR kinds whose amounts paid are cash applied to the payee's receivables
_CASH_APPLIED = frozenset({RefKind.INVOICE, RefKind.CREDIT_MEMO})


@dataclass
class RemittanceAdvice:
    """What one 820 transaction set (or a CTX addenda set) says."""

    amount: Decimal | None = None
    handling: str = ""  # BPR01 (see the module docstring)
    credit: bool = True
    method: str | None = None
    payment_date: date | None = None
    payment_date_text: str = ""  # as written: BPR16, or the DTM02 it was read from
    payer_account: str | None = None
    trace_type: str = ""  # TRN01: 1 this payment's trace, 2 an earlier one's, 3 reassociation
    trace: str | None = None
    originator_id: str | None = None
    currency: str | None = None
    payer_name: str | None = None
    payer_id: str | None = None
    payee_name: str | None = None
    refs: list[StructuredRef] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    bpr_location: str = ""
    # the sum of the RMR04 amounts paid (None when an RMR states none) and the number of RMRs
    # naming an invoice or credit memo
    paid_total: Decimal | None = Decimal(0)
    invoices: int = 0
    # the sum of the ADX01 adjustments outside any RMR loop (of the payment, not a document)
    loose_adjustments: Decimal = Decimal(0)


class DetailError(BankFileError):
    """A segment of remittance detail that cannot be read; ``segment`` is the one."""

    def __init__(self, segment: Segment, location: str, reason: str) -> None:
        super().__init__(location, reason)
        self.segment = segment


def read_remittance_advice(
    segments: list[Segment], dates_left_out: list[DetailError] | None = None
) -> RemittanceAdvice:
    """Read BPR/TRN/CUR/N1/RMR/ADX/REF/DTM/NTE from the segments of one transaction set.

    A segment that cannot be read raises :class:`DetailError`. With ``dates_left_out`` (the
    payer's detail of a bank's credit, whose own date stands) a document's DTM whose date
    cannot be read is left out and added to that list instead: the rest of the detail is
    sound. A payment date (a DTM before any RMR) that cannot be read is an error.
    """
    advice = RemittanceAdvice()
    current: int | None = None  # index of the last RMR's reference: REF/DTM/ADX describe it
    loose: int | None = None  # index of an ADX outside any RMR still without a reference
    # DTM before any RMR, by qualifier: its date and text
    header_dates: dict[str, tuple[date, str]] = {}
    for seg in segments:
        try:
            current, loose = _read_segment(advice, seg, current, loose, header_dates)
        except BankFileError as exc:
            error = DetailError(seg, exc.location, exc.reason)
            # a document's date is left out alone; the payment's (before any RMR) dates the
            # payment and keys it, so one that cannot be read still rejects the set
            if seg.tag != "DTM" or dates_left_out is None or current is None:
                raise error from exc
            dates_left_out.append(error)
            loose = None  # as the DTM, had it been read, would have left it
    if advice.payment_date is None:  # BPR16 left out: the header's settlement/effective date
        advice.payment_date, advice.payment_date_text = next(
            (header_dates[q] for q in _PAYMENT_DATE_QUALIFIERS if q in header_dates), (None, "")
        )
    return advice


def _read_segment(
    advice: RemittanceAdvice,
    seg: Segment,
    current: int | None,
    loose: int | None,
    header_dates: dict[str, tuple[date, str]],
) -> tuple[int | None, int | None]:
    """One segment into ``advice``; returns the new ``current`` RMR and ``loose`` ADX."""
    loc = seg.location
    if seg.tag != "REF":  # only a REF right after it names a payment adjustment
        loose = None
    if seg.tag == "BPR":
        advice.bpr_location = loc
        advice.handling = seg.get(1).upper()
        advice.amount = decimal_amount(seg.get(2), f"{loc}, BPR02")
        flag = seg.get(3).upper()
        if flag not in ("", "C", "D"):
            raise BankFileError(f"{loc}, BPR03", f"credit/debit flag must be C or D: {flag!r}")
        advice.credit = flag != "D"
        advice.method = seg.get(4) or None
        advice.payer_account = seg.get(9) or None
        advice.payment_date = _x12_date(seg.get(16), f"{loc}, BPR16")
        advice.payment_date_text = seg.get(16).strip()
    elif seg.tag == "TRN":
        advice.trace_type = seg.get(1)
        advice.trace = seg.get(2) or None
        advice.originator_id = seg.get(3) or None
    elif seg.tag == "CUR":
        advice.currency = currency_code(seg.get(2), f"{loc}, CUR02")
    elif seg.tag == "N1":
        role = seg.get(1).upper()
        if role == "PR" or (role == "RM" and advice.payer_name is None):
            # PR payer; RM remitter, the payer of HIX 820s (005010X306) that name no PR
            advice.payer_name = clean(seg.get(2))
            advice.payer_id = seg.get(4) or None
        elif role == "PE":
            advice.payee_name = clean(seg.get(2))
    elif seg.tag == "ENT":  # a new entity: an ADX before its first RMR is the entity's
        current = None
    elif seg.tag == "RMR" and not seg.get(1) and not seg.get(2):
        # no document named (RMR03 PO, payment on account, ...): an amount paid, no ref
        on_account = _paid_without_document(seg)
        what = _PAID_WITHOUT_DOCUMENT.get(seg.get(3).upper(), "paid naming no document")
        advice.notes.append(f"{what} {on_account}")
        current = None  # an ADX after it adjusts the payment, not the document before
        if advice.paid_total is not None:
            advice.paid_total += on_account
    elif seg.tag == "RMR":
        ref = _rmr(seg)
        advice.refs.append(ref)
        current = len(advice.refs) - 1
        advice.invoices += ref.kind in _CASH_APPLIED
        if advice.paid_total is not None:
            paid = ref.amount_paid
            advice.paid_total = None if paid is None else advice.paid_total + paid
    elif seg.tag == "ADX":
        loose = _apply_adx(advice, seg, current)
    elif seg.tag == "REF":
        if loose is not None and seg.get(2):  # names the adjustment before it
            advice.refs[loose] = replace(advice.refs[loose], ref=seg.get(2))
            loose = None
        elif current is not None and seg.get(1).upper() == "PO" and seg.get(2):
            advice.refs.append(StructuredRef(kind=RefKind.PO, ref=seg.get(2)))
        elif seg.get(2) or seg.get(3):  # REF02 a reference, REF03 a description of it
            advice.notes.append(" ".join(e for e in map(seg.get, (1, 2, 3)) if e))
    elif seg.tag == "DTM":
        if current is not None and seg.get(1) == "003":
            when = _x12_date(seg.get(2), f"{loc}, DTM02")
            advice.refs[current] = replace(advice.refs[current], document_date=when)
        elif current is None and seg.get(1) in _PAYMENT_DATE_QUALIFIERS:
            header_date = _x12_date(seg.get(2), f"{loc}, DTM02")
            if header_date is not None:
                header_dates.setdefault(seg.get(1), (header_date, seg.get(2).strip()))
    elif seg.tag == "NTE" and seg.get(2):
        advice.notes.append(seg.get(2))
    return current, loose


# how versions before 58e2945 read an X12 date, eight digits or six alike (the first format
# that parses): a six-digit YYMMDD became a four-digit year (240115 was 2401-01-05)
_DATE_FORMATS_BEFORE = ("%Y%m%d", "%y%m%d")


def _date_read_before(text: str) -> date | None:
    """The date versions before 58e2945 read from a six-digit X12 date (see
    ``_DATE_FORMATS_BEFORE``); ``None`` for any other text, or one they could not read."""
    if len(text) != 6 or not text.isdigit():
        return None
    try:
        return parse_date(text, _DATE_FORMATS_BEFORE, "")
    except BankFileError:
        return None


def _x12_date(value: str, location: str) -> date | None:
    """An X12 date of eight digits (CCYYMMDD) or six (YYMMDD, before version 004010); any
    other length is no date (``2026116`` could be 6 November or 16 January)."""
    text = value.strip()
    formats = _DATE_FORMATS.get(len(text), ()) if text.isdigit() else ()
    return parse_date(text, formats, location)


# RMR03 (X12 element 482, payment action code) of an amount paid without a document
_PAID_WITHOUT_DOCUMENT = {
    "PO": "payment on account",
    "PA": "payment in advance",
    "PR": "progress payment",
    "PP": "partial payment",
    "FL": "final payment",
    "AJ": "adjustment",
    "ER": "evaluated receipts settlement",
    "NS": "payment of unspecified type",
}


def _paid_without_document(seg: Segment) -> Decimal:
    """RMR04 of an RMR naming no document (RMR01 and RMR02 left out): X12 lets a payer
    pay on account, in advance, ... so (RMR03 says how), and then requires the amount."""
    if not seg.get(4):
        raise BankFileError(
            f"{seg.location}, RMR02",
            "the referenced document number is missing, and no amount paid without one "
            "(RMR04) is stated",
        )
    return decimal_amount(seg.get(4), f"{seg.location}, RMR04")


def _rmr(seg: Segment) -> StructuredRef:
    """An RMR naming a document: RMR04 paid, RMR05 the document's amount, RMR06 the discount
    taken, and RMR07/RMR08 an adjustment's reason code and its amount (signed as stated, as
    an ADX01 is: negative when the payer deducted it), which the RMR04 paid is already net
    of."""
    loc = seg.location
    ref = seg.get(2)
    if not ref:
        raise BankFileError(f"{loc}, RMR02", "the referenced document number is missing")
    kind = _RMR_KINDS.get(seg.get(1).upper(), RefKind.OTHER)
    if kind is RefKind.OTHER and is_rf_reference(ref):
        kind = RefKind.RF
    return StructuredRef(
        kind=kind,
        ref=ref,
        amount_paid=decimal_amount(seg.get(4), f"{loc}, RMR04") if seg.get(4) else None,
        invoice_amount=decimal_amount(seg.get(5), f"{loc}, RMR05") if seg.get(5) else None,
        discount=decimal_amount(seg.get(6), f"{loc}, RMR06") if seg.get(6) else None,
        adjustment=decimal_amount(seg.get(8), f"{loc}, RMR08") if seg.get(8) else None,
        adjustment_reason=seg.get(7) or None,
    )


def _apply_adx(advice: RemittanceAdvice, seg: Segment, current: int | None) -> int | None:
    """An ADX adjusts the document of the RMR before it (several add up; ADX03/ADX04, the
    adjustment's own reference, go to the notes). Outside any RMR loop it adjusts the payment:
    a reference of its own, named by ADX04; the index of that reference while it has no name
    yet (a REF after it may give one)."""
    amount = decimal_amount(seg.get(1), f"{seg.location}, ADX01")
    reason = seg.get(2) or None
    own = seg.get(4)
    if current is None:
        advice.loose_adjustments += amount
        advice.refs.append(
            StructuredRef(kind=RefKind.OTHER, ref=own, adjustment=amount, adjustment_reason=reason)
        )
        return None if own else len(advice.refs) - 1
    if own:
        advice.notes.append(" ".join(e for e in (seg.get(3), own) if e))
    last = advice.refs[current]
    total = amount if last.adjustment is None else last.adjustment + amount
    reasons = ",".join(r for r in (last.adjustment_reason, reason) if r) or None
    advice.refs[current] = replace(last, adjustment=total, adjustment_reason=reasons)
    return None


def parse_edi820(text: str, source_file: str) -> ParseResult:
    """Every 820 transaction set in an interchange (several ISA/GS envelopes allowed)."""
    result = ParseResult(source_file=source_file, format=BankFileFormat.EDI_820)
    body = text.lstrip("\ufeff\r\n\t ")
    # keep line numbers true to the file even when it started with blank lines
    first_line = text[: len(text) - len(body)].count("\n") + 1
    body = without_end_padding(body)  # an end-of-file mark after the last segment is none
    try:
        if body.startswith("ISA"):  # each interchange with the delimiters of its own ISA
            segments = split_interchanges(body, first_line)
        else:
            segments = split_segments(body, infer_delimiters(body), first_line, unwrap=True)
    except BankFileError as exc:
        result.errors.append(RecordError(source_file, exc.location, exc.reason))
        return result
    isa: Segment | None = None
    gs: Segment | None = None
    current: list[Segment] | None = None
    set_number = 0
    envelopes = _Envelopes(result)
    for seg in segments:
        if seg.tag in _ENVELOPE_TAGS and current is not None:
            _unterminated(result, source_file, current)  # the set ends at its envelope's edge
            current = None
        envelopes.see(seg)
        if seg.tag == "ISA":
            isa, gs = seg, None
        elif seg.tag == "GS":
            gs = seg
        elif seg.tag == "ST":
            if current is not None:
                _unterminated(result, source_file, current)
            current = [seg]
        elif current is not None:
            current.append(seg)
            if seg.tag == "SE":
                set_number += 1
                _transaction_set(result, source_file, current, isa, gs, set_number)
                current = None
        elif seg.tag not in ("GE", "IEA"):
            result.errors.append(
                RecordError(source_file, seg.location, "segment outside a transaction set", seg.raw)
            )
    if current is not None:
        _unterminated(result, source_file, current)
    envelopes.finish()
    result.records[:] = keep_distinct(result.records)
    return result


_ENVELOPE_TAGS = frozenset({"ISA", "GS", "GE", "IEA"})


@dataclass
class _Envelope:
    """An open functional group (GS) or interchange (ISA) and what it holds so far."""

    header: Segment
    count: int = 0  # transaction sets (ST) of a group, functional groups (GS) of an interchange


class _Envelopes:
    """GE and IEA trailers checked against the GS group and ISA interchange they close.

    GE01 must count the group's transaction sets and GE02 repeat GS06; IEA01 must count the
    interchange's functional groups and IEA02 repeat ISA13. A figure that does not add up, or
    a missing GE or IEA (a file cut short), is a warning: the transaction sets are kept.
    Bare ST..SE text (no ISA or GS) has no envelope to check.
    """

    def __init__(self, result: ParseResult) -> None:
        self.result = result
        self.group: _Envelope | None = None
        self.interchange: _Envelope | None = None

    def see(self, seg: Segment) -> None:
        """Every segment in order."""
        if seg.tag == "ISA":
            self._no_trailer(at_end=False)
            self.interchange = _Envelope(seg)
        elif seg.tag == "GS":
            self._no_group_trailer(at_end=False)
            self.group = _Envelope(seg)
            if self.interchange is not None:
                self.interchange.count += 1
        elif seg.tag == "ST" and self.group is not None:
            self.group.count += 1
        elif seg.tag == "GE" and self.group is not None:
            self._group_trailer(self.group, seg)
            self.group = None
        elif seg.tag == "IEA":
            self._no_group_trailer(at_end=False)
            if self.interchange is not None:
                self._interchange_trailer(self.interchange, seg)
                self.interchange = None

    def finish(self) -> None:
        """The text ends: a group or interchange still open lost its trailer."""
        self._no_trailer(at_end=True)

    def _group_trailer(self, group: _Envelope, ge: Segment) -> None:
        self._trailer(group, ge, "functional group", "GS06", "transaction set", "group")

    def _interchange_trailer(self, interchange: _Envelope, iea: Segment) -> None:
        self._trailer(interchange, iea, "interchange", "ISA13", "functional group", "interchange")

    def _trailer(
        self,
        envelope: _Envelope,
        trailer: Segment,
        name: str,
        header_element: str,
        counted: str,
        number_name: str,
    ) -> None:
        """A trailer's count (element 1) against what its envelope held, and its control
        number (element 2) against the header's (``header_element``)."""
        number = envelope.header.get(int(header_element[len(envelope.header.tag) :]))
        found = envelope.count
        tag = trailer.tag
        warn_on_control_mismatch(
            self.result,
            f"{trailer.location}, {tag}01",
            f"{name} {number or '?'}",
            [
                ControlFigure(
                    _count(trailer.get(1)),
                    found,
                    f"{tag}01 {counted} count {trailer.get(1)}",
                    f"the {found} {counted}{'' if found == 1 else 's'} found",
                )
            ],
            trailer.raw,
        )
        if not _same_control_number(trailer.get(2), number):
            self._warn(
                f"{trailer.location}, {tag}02",
                f"{number_name} control number {trailer.get(2)} does not match "
                f"{header_element} {number} (records kept)",
                trailer.raw,
            )

    def _no_trailer(self, at_end: bool) -> None:
        """The open group and interchange end without their GE and IEA."""
        self._no_group_trailer(at_end)
        if self.interchange is None:
            return
        isa, self.interchange = self.interchange.header, None
        self._warn(
            isa.location,
            f"interchange {isa.get(13) or '?'} has no IEA trailer{_CUT_SHORT if at_end else ''} "
            "(records kept; check the file is complete)",
        )

    def _no_group_trailer(self, at_end: bool) -> None:
        if self.group is None:
            return
        gs, self.group = self.group.header, None
        self._warn(
            gs.location,
            f"functional group {gs.get(6) or '?'} has no GE trailer{_CUT_SHORT if at_end else ''} "
            "(records kept; check the file is complete)",
        )

    def _warn(self, location: str, reason: str, raw: str = "") -> None:
        self.result.warnings.append(RecordError(self.result.source_file, location, reason, raw))


_CUT_SHORT = ": the file may be cut short"


def _count(value: str) -> int | None:
    """A count element; ``None`` (not checked) when blank or not digits."""
    return int(value) if value.isdigit() else None


def _same_control_number(trailer: str, header: str) -> bool:
    """Whether a trailer repeats its header's control number (``000000905`` is ``905``);
    a blank side is not checked."""
    if not trailer or not header:
        return True
    if trailer.isdigit() and header.isdigit():
        return int(trailer) == int(header)
    return trailer == header


def _unterminated(result: ParseResult, source_file: str, segments: list[Segment]) -> None:
    result.errors.append(
        RecordError(
            source_file,
            segments[0].location,
            "transaction set has no SE trailer (truncated file?)",
            "\n".join(s.raw for s in segments),
        )
    )


def _transaction_set(
    result: ParseResult,
    source_file: str,
    segments: list[Segment],
    isa: Segment | None,
    gs: Segment | None,
    set_number: int,
) -> None:
    st, se = segments[0], segments[-1]
    raw = "\n".join(s.raw for s in segments)
    dates_left_out: list[DetailError] = []  # a DTM whose date cannot be read: that date only
    try:
        if st.get(1) != "820":
            raise BankFileError(
                f"{st.location}, ST01", f"not an 820 transaction set: {st.get(1)!r}"
            )
        advice = read_remittance_advice(segments, dates_left_out)
        if advice.amount is None:
            raise BankFileError(st.location, "transaction set has no BPR segment")
        if advice.amount < 0:
            raise BankFileError(
                f"{advice.bpr_location}, BPR02",
                f"the payment amount {advice.amount} is negative: BPR02 is unsigned, BPR03 "
                "(C or D) says which way the money goes",
            )
    except BankFileError as exc:
        result.errors.append(RecordError(source_file, exc.location, exc.reason, raw))
        return
    # the set was read to its SE: a trailer that miscounts it is a warning, the payment kept
    figures = []
    if se.get(1) and se.get(1).isdigit():
        figures.append(
            ControlFigure(
                int(se.get(1)),
                len(segments),
                f"SE01 segment count {se.get(1)}",
                f"the {len(segments)} segments found",
            )
        )
    if se.get(2) and st.get(2) and se.get(2) != st.get(2):
        result.warnings.append(
            RecordError(
                source_file,
                f"{se.location}, SE02",
                f"control number {se.get(2)} does not match ST02 {st.get(2)} (record kept)",
                se.raw,
            )
        )
    warn_on_control_mismatch(result, f"{se.location}, SE01", "transaction set", figures, se.raw)
    if not advice.handling:
        result.errors.append(
            RecordError(
                source_file,
                f"{advice.bpr_location}, BPR01",
                "the transaction handling code is missing: cannot tell whether the payment "
                "comes with this remittance advice or separately",
                raw,
            )
        )
        return
    if not advice.credit:
        _warn_debit(result, advice, st, raw)
        return
    if advice.handling == _PRENOTIFICATION:
        return  # a test before payments begin: no money moves
    if advice.amount == 0:
        result.warnings.append(
            RecordError(
                source_file,
                st.location,
                f"transaction set {st.get(2) or '?'} carries no payment amount (BPR02 "
                f"{advice.amount}): no remittance is made from it, its remittance detail is "
                "not imported",
                raw,
            )
        )
        return
    currency = advice.currency or "USD"
    _credit_memos_taken(result, advice, segments, currency, raw)
    _warn_on_unbalanced(result, advice, st, currency, se.raw)
    account = (advice.payer_account or "").replace(" ", "").upper()
    iban = account if is_iban(account) else None
    advice_only = advice.method == _NO_FUNDS or not _is_payment(
        advice.handling, gs.get(8) if gs else ""
    )
    key, earlier_keys = _key(advice, currency, advice_only, isa, gs, st, set_number)
    result.records.append(
        RawRemittance(
            format=BankFileFormat.EDI_820,
            source_file=source_file,
            location=st.location,
            line=st.line,
            amount=advice.amount,
            currency=currency,
            dedup_key=key,
            also_known_as=earlier_keys,
            raw=raw,
            value_date=advice.payment_date,
            payer_name=advice.payer_name,
            payer_account=None if iban else (advice.payer_account or advice.payer_id),
            payer_iban=iban,
            bank_reference=advice.trace,
            free_text=clean(" ".join(advice.notes)),
            structured_refs=tuple(advice.refs),
            advice_only=advice_only,
        )
    )
    kept = f"{'remittance advice' if advice_only else 'payment'} of {advice.amount} {currency}"
    for error in dates_left_out:
        warn_detail_left_out(result, error.location, error.reason, DATE_LEFT_OUT, kept, raw)


def _warn_debit(result: ParseResult, advice: RemittanceAdvice, st: Segment, raw: str) -> None:
    """A warning naming a transaction set that is a debit (BPR03 D): money going out of the
    payee's account, read and left out."""
    trace = f", trace {advice.trace}" if advice.trace else ""
    payer = f" from {advice.payer_name}" if advice.payer_name else ""
    warn_left_out(
        result,
        f"{advice.bpr_location}, BPR03",
        f"transaction set {st.get(2) or '?'}{trace}{payer} is a debit (BPR03 D) of "
        f"{advice.amount} {advice.currency or 'USD'}",
        f"money going out, {NOT_A_CUSTOMER_PAYING}",
        raw,
    )


# TRN01 2: TRN02 is the trace of an earlier transaction this one refers to, not its own
_REFERENCED_TRACE = "2"


def _key(
    advice: RemittanceAdvice,
    currency: str,
    advice_only: bool,
    isa: Segment | None,
    gs: Segment | None,
    st: Segment,
    set_number: int,
) -> tuple[str, tuple[str, ...]]:
    """A transaction set's de-duplication key, and the keys earlier versions stored it under.

    The trace (TRN02: the check or EFT trace number that reassociates cash and advice, with
    TRN03 the company that originated it) names the payment: with the payer, the amount,
    currency and payment date it keys the payment in any interchange, so an 820 sent again
    under new control numbers (ISA13, GS06, ST02: a VAN's or bank's retransmission) is the
    same remittance. The payer is N1*PR's (or *RM's) identification, else its name, else the
    interchange's sender. Without a trace of its own (no TRN, a placeholder, or TRN01 2
    naming an earlier transaction) the envelope and the set's position in the file key it.
    Earlier keys: that position, and the named key with a six-digit payment date as versions
    before 58e2945 read it (see ``_DATE_FORMATS_BEFORE``).
    """
    positional = dedup_key(
        BankFileFormat.EDI_820,
        isa.get(6) if isa else "",
        isa.get(13) if isa else "",
        gs.get(6) if gs else "",
        st.get(2),
        set_number,
        advice.trace or "",
        advice.amount,
    )
    if not is_name(advice.trace) or advice.trace_type == _REFERENCED_TRACE:
        return positional, ()
    sender = f"{isa.get(5)}:{isa.get(6)}" if isa else ""
    payer = advice.payer_id or (advice.payer_name or "").upper() or sender
    amount = format((advice.amount or Decimal(0)).normalize(), "f")

    def named(paid_on: date | None) -> str:
        return dedup_key(
            "edi820-trace",
            advice.trace,
            advice.originator_id or "",
            payer,
            amount,
            currency,
            paid_on or "",
            "advice" if advice_only else "payment",
        )

    # a six-digit payment date read otherwise before keyed it otherwise: that key is earlier
    before = _date_read_before(advice.payment_date_text)
    if before is None or before == advice.payment_date:
        return named(advice.payment_date), (positional,)
    return named(advice.payment_date), (positional, named(before))


def _is_payment(handling: str, version: str) -> bool:
    """Whether BPR01 ``handling`` makes the 820 the payment itself in X12 ``version`` (GS08,
    ``004010``; blank for bare ST..SE text), not remittance detail of cash sent apart."""
    release = version[:6]
    return handling in _PAYMENT_HANDLING or (
        handling == "X" and release.isdigit() and release < _PAYMENT_X_BEFORE
    )


def _credit_memos_taken(
    result: ParseResult,
    advice: RemittanceAdvice,
    segments: list[Segment],
    currency: str,
    raw: str,
) -> None:
    """Credit memo lines stated with a positive amount paid (RMR01 CM, RMR04 above 0) turned
    negative in ``advice`` where its payment amount (BPR02) confirms the credit taken (see
    :func:`credit_memos_taken`); otherwise kept as stated, each with a warning naming its
    transaction set and RMR04."""
    bpr02 = f"the payment of {advice.amount} {currency} (BPR02)"
    memos = credit_memos_taken(
        advice.refs, advice.paid_total, advice.loose_adjustments, advice.amount, bpr02, currency
    )
    if memos is None:
        return
    advice.refs, advice.paid_total = memos.refs, memos.paid_total
    st = segments[0]
    lines = [
        s
        for s in segments
        if s.tag == "RMR" and s.get(1).upper() == "CM" and not s.get(4).startswith("-")
    ]
    for memo in memos.kept:
        # its RMR: the first credit memo line naming it not yet named
        seg = next((s for s in lines if s.get(2) == memo.ref), None)
        if seg is not None:
            lines.remove(seg)
        result.warnings.append(
            RecordError(
                result.source_file,
                f"{seg.location if seg else st.location}, RMR04",
                f"transaction set {st.get(2) or '?'}: {kept_as_stated(memo, currency, memos.why)}",
                raw,
            )
        )


def _warn_on_unbalanced(
    result: ParseResult, advice: RemittanceAdvice, st: Segment, currency: str, raw: str
) -> None:
    """A warning when the amounts paid on the documents (RMR04) and the adjustments of the
    payment (ADX outside any RMR loop) do not add up to the payment (BPR02). Checked when the
    detail names an invoice or credit memo (cash application relies on it) and every RMR
    states its amount paid."""
    if not advice.invoices or advice.paid_total is None or advice.amount is None:
        return
    if advice.paid_total + advice.loose_adjustments == advice.amount:
        return
    adjusted = (
        f" and the adjustments outside any document (ADX01) to {advice.loose_adjustments} "
        f"{currency}"
        if advice.loose_adjustments
        else ""
    )
    result.warnings.append(
        RecordError(
            result.source_file,
            f"{advice.bpr_location}, BPR02",
            f"transaction set {st.get(2) or '?'}: the amounts paid (RMR04) add up to "
            f"{advice.paid_total} {currency}{adjusted}, not to the payment of {advice.amount} "
            f"{currency} (BPR02); record kept with the amounts as stated, check the remittance "
            "detail",
            raw,
        )
    )
