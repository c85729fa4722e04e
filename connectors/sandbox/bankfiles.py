"""A bank's side of the sandbox: real bank files (camt.054, BAI2, X12 820) from plain data.

The demo and the benchmarks describe incoming payments as :class:`Payment` values and render
them with :func:`render_camt054`, :func:`render_bai2` or :func:`render_edi820` (or writes
them with the ``write_*`` variants). ``connectors.bankfiles`` reads every field back.

What each format carries: camt.054 carries everything (IBAN, end-to-end id, free text,
structured references with paid/due/discount/adjustment, RF creditor references). BAI2
puts the payer in labelled detail text and the references as X12 RMR/ADX segments in 88
continuation records. The 820 carries references as RMR/ADX, free text as NTE, and the
payer's IBAN or account number in BPR09; it has no end-to-end id. BAI2 and 820 carry RF
creditor references as RMR*ZZ (read back as kind ``rf``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from lxml import etree

from canonical.money import minor_digits

CAMT054_VERSIONS = ("04", "08")


@dataclass(frozen=True)
class InvoiceRef:
    """A document the payer says it pays. ``adjustment`` is signed (negative = deducted)."""

    number: str
    paid: Decimal | None = None
    invoice_amount: Decimal | None = None
    discount: Decimal | None = None
    adjustment: Decimal | None = None
    adjustment_reason: str | None = None
    kind: str = "invoice"  # invoice | credit_memo | rf


@dataclass(frozen=True)
class Payment:
    """One incoming payment as a generator describes it."""

    payer_name: str
    amount: Decimal
    currency: str
    value_date: date
    iban: str | None = None
    account: str | None = None
    free_text: str | None = None
    refs: Sequence[InvoiceRef] = ()
    end_to_end_id: str | None = None
    reference: str | None = None  # the bank's / trace reference


def _fmt(amount: Decimal, currency: str) -> str:
    return f"{amount.quantize(Decimal(1).scaleb(-minor_digits(currency))):f}"


def _minor(amount: Decimal, currency: str) -> int:
    return int(amount.scaleb(minor_digits(currency)).to_integral_value())


def _wrap(text: str, width: int, first: int | None = None) -> list[str]:
    """Split at single spaces into pieces of at most ``width`` (``first`` for the first
    piece); a word longer than that stays whole."""
    pieces: list[str] = []
    current = ""
    for word in " ".join(text.split()).split(" "):
        limit = width if pieces or first is None else first
        if current and len(current) + 1 + len(word) > limit:
            pieces.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        pieces.append(current)
    return pieces


# camt.054 ---------------------------------------------------------------------------


class _Xml:
    """Element building in one namespace."""

    def __init__(self, namespace: str) -> None:
        self.ns = namespace

    def el(
        self, parent: etree._Element, name: str, text: str | None = None, **attrs: str
    ) -> etree._Element:
        node = etree.SubElement(parent, f"{{{self.ns}}}{name}", attrs)
        if text is not None:
            node.text = text
        return node

    def path(self, parent: etree._Element, *names: str, text: str | None = None) -> etree._Element:
        node = parent
        for name in names:
            node = self.el(node, name)
        node.text = text
        return node


def render_camt054(
    payments: Sequence[Payment],
    *,
    account_iban: str,
    message_id: str,
    created: datetime,
    version: str = "08",
) -> bytes:
    """A camt.054.001.<version> notification with one credit entry per payment."""
    if version not in CAMT054_VERSIONS:
        raise ValueError(f"camt.054 version must be one of {CAMT054_VERSIONS}")
    x = _Xml(f"urn:iso:std:iso:20022:tech:xsd:camt.054.001.{version}")
    modern = version >= "08"
    root = etree.Element(f"{{{x.ns}}}Document", nsmap={None: x.ns})  # type: ignore[dict-item]
    container = x.el(root, "BkToCstmrDbtCdtNtfctn")
    header = x.el(container, "GrpHdr")
    x.el(header, "MsgId", message_id)
    x.el(header, "CreDtTm", created.isoformat(timespec="seconds"))
    notification = x.el(container, "Ntfctn")
    x.el(notification, "Id", f"{message_id}-1")
    x.el(notification, "CreDtTm", created.isoformat(timespec="seconds"))
    x.path(x.el(notification, "Acct"), "Id", "IBAN", text=account_iban)
    for number, payment in enumerate(payments, start=1):
        _camt_entry(x, notification, payment, f"{message_id}-{number:06d}", number, modern)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _camt_entry(
    x: _Xml, parent: etree._Element, payment: Payment, default_ref: str, number: int, modern: bool
) -> None:
    amount = _fmt(payment.amount, payment.currency)
    entry = x.el(parent, "Ntry")
    x.el(entry, "NtryRef", f"{number:06d}")
    x.el(entry, "Amt", amount, Ccy=payment.currency)
    x.el(entry, "CdtDbtInd", "CRDT")
    if modern:
        x.path(entry, "Sts", "Cd", text="BOOK")
    else:
        x.el(entry, "Sts", "BOOK")
    x.path(entry, "BookgDt", "Dt", text=payment.value_date.isoformat())
    x.path(entry, "ValDt", "Dt", text=payment.value_date.isoformat())
    x.el(entry, "AcctSvcrRef", payment.reference or default_ref)
    tx = x.el(x.el(entry, "NtryDtls"), "TxDtls")
    x.el(x.el(tx, "Refs"), "EndToEndId", payment.end_to_end_id or "NOTPROVIDED")
    if modern:
        x.el(tx, "Amt", amount, Ccy=payment.currency)
        x.el(tx, "CdtDbtInd", "CRDT")
    else:
        x.path(tx, "AmtDtls", "TxAmt", "Amt", text=amount).set("Ccy", payment.currency)
    parties = x.el(tx, "RltdPties")
    debtor = x.el(parties, "Dbtr")
    x.el(x.el(debtor, "Pty") if modern else debtor, "Nm", payment.payer_name[:140])
    if payment.iban or payment.account:
        account_id = x.path(parties, "DbtrAcct", "Id")
        if payment.iban:
            x.el(account_id, "IBAN", payment.iban)
        else:
            x.path(account_id, "Othr", "Id", text=payment.account)
    if payment.free_text or payment.refs:
        info = x.el(tx, "RmtInf")
        for piece in _wrap(payment.free_text or "", 140):
            x.el(info, "Ustrd", piece)
        for ref in payment.refs:
            _camt_structured(x, info, ref, payment.currency, modern)


def _camt_structured(
    x: _Xml, info: etree._Element, ref: InvoiceRef, currency: str, modern: bool
) -> None:
    strd = x.el(info, "Strd")
    if ref.kind != "rf":
        doc = x.el(strd, "RfrdDocInf")
        x.path(doc, "Tp", "CdOrPrtry", "Cd", text="CREN" if ref.kind == "credit_memo" else "CINV")
        x.el(doc, "Nb", ref.number)
    amounts = x.el(strd, "RfrdDocAmt")
    if ref.invoice_amount is not None:
        x.el(amounts, "DuePyblAmt", _fmt(ref.invoice_amount, currency), Ccy=currency)
    if ref.discount is not None:
        if modern:
            x.el(x.el(amounts, "DscntApldAmt"), "Amt", _fmt(ref.discount, currency), Ccy=currency)
        else:
            x.el(amounts, "DscntApldAmt", _fmt(ref.discount, currency), Ccy=currency)
    credit_note = ref.paid is not None and ref.paid < 0
    if ref.paid is not None and credit_note:
        x.el(amounts, "CdtNoteAmt", _fmt(-ref.paid, currency), Ccy=currency)
    if ref.adjustment is not None:
        adjustment = x.el(amounts, "AdjstmntAmtAndRsn")
        x.el(adjustment, "Amt", _fmt(abs(ref.adjustment), currency), Ccy=currency)
        x.el(adjustment, "CdtDbtInd", "CRDT" if ref.adjustment > 0 else "DBIT")
        if ref.adjustment_reason:
            x.el(adjustment, "Rsn", ref.adjustment_reason[:4])
    if ref.paid is not None and not credit_note:
        x.el(amounts, "RmtdAmt", _fmt(ref.paid, currency), Ccy=currency)
    if len(amounts) == 0:
        strd.remove(amounts)
    if ref.kind == "rf":
        creditor = x.el(strd, "CdtrRefInf")
        x.path(creditor, "Tp", "CdOrPrtry", "Cd", text="SCOR")
        x.el(creditor, "Ref", ref.number)


def write_camt054(
    target: Path,
    payments: Sequence[Payment],
    *,
    account_iban: str,
    message_id: str,
    created: datetime,
    version: str = "08",
) -> Path:
    """Write :func:`render_camt054` to ``target``."""
    target.write_bytes(
        render_camt054(
            payments,
            account_iban=account_iban,
            message_id=message_id,
            created=created,
            version=version,
        )
    )
    return target


# X12 segments shared by BAI2 and 820 ------------------------------------------------

_X12_UNSAFE = re.compile(r"[*~\\>^|]")


def _x12(value: str) -> str:
    return _X12_UNSAFE.sub(" ", value).strip()


def _remittance_segments(refs: Sequence[InvoiceRef], currency: str) -> list[str]:
    """RMR (and ADX after it) per reference, without terminators."""
    segments: list[str] = []
    for ref in refs:
        qualifier = {"invoice": "IV", "credit_memo": "CM", "po": "PO"}.get(ref.kind, "ZZ")
        elements = [
            "RMR",
            qualifier,
            _x12(ref.number),
            "",
            _fmt(ref.paid, currency) if ref.paid is not None else "",
            _fmt(ref.invoice_amount, currency) if ref.invoice_amount is not None else "",
            _fmt(ref.discount, currency) if ref.discount is not None else "",
        ]
        segments.append("*".join(elements).rstrip("*"))
        if ref.adjustment is not None:
            segments.append(
                f"ADX*{_fmt(ref.adjustment, currency)}*{_x12(ref.adjustment_reason or '')}"
            )
    return segments


# BAI2 --------------------------------------------------------------------------------


def render_bai2(
    payments: Sequence[Payment],
    *,
    sender_id: str,
    receiver_id: str,
    account_number: str,
    file_id: str,
    created: datetime,
    line_width: int = 80,
) -> str:
    """A BAI2 file: one group and account per currency, one 142 ACH credit per payment."""
    by_currency: dict[str, list[Payment]] = {}
    for payment in payments:
        by_currency.setdefault(payment.currency, []).append(payment)
    as_of = min((p.value_date for p in payments), default=created.date())
    lines = [
        f"01,{sender_id},{receiver_id},{created:%y%m%d},{created:%H%M},{file_id},{line_width},,2/"
    ]
    file_total = 0
    for currency, group_payments in by_currency.items():
        group_lines = [f"02,{receiver_id},{sender_id},1,{as_of:%y%m%d},2400,{currency},2/"]
        account_lines = [f"03,{account_number},{currency},/"]
        total = 0
        for payment in group_payments:
            minor = _minor(payment.amount, currency)
            total += minor
            account_lines.extend(_bai2_detail(payment, minor, line_width))
        account_lines.append(f"49,{total},{len(account_lines) + 1}/")
        group_lines.extend(account_lines)
        group_lines.append(f"98,{total},1,{len(group_lines) + 1}/")
        lines.extend(group_lines)
        file_total += total
    lines.append(f"99,{file_total},{len(by_currency)},{len(lines) + 1}/")
    return "\n".join(lines) + "\n"


def _bai2_detail(payment: Payment, minor: int, width: int) -> list[str]:
    text_parts = [" ".join((payment.free_text or "").split())]
    text_parts.append(f"ORIG CO NAME:{_bai2_text(payment.payer_name)}")
    if payment.account:
        text_parts.append(f"ORIG ID:{_bai2_text(payment.account)}")
    if payment.iban:
        text_parts.append(f"IBAN:{payment.iban}")
    head = (
        f"16,142,{minor},V,{payment.value_date:%y%m%d},0000,"
        f"{_bai2_text(payment.reference or '')},{_bai2_text(payment.end_to_end_id or '')},"
    )
    text = " ".join(p for p in text_parts if p)
    pieces = _no_trailing_slash(_wrap(text, width - 3, first=max(width - len(head), 10)))
    lines = [head + pieces[0]]
    lines.extend(f"88,{piece}" for piece in pieces[1:])
    lines.extend(
        f"88,{segment}\\" for segment in _remittance_segments(payment.refs, payment.currency)
    )
    return lines


def _no_trailing_slash(pieces: list[str]) -> list[str]:
    """A physical BAI2 line ending in "/" ends the record: carry such a word over."""
    merged: list[str] = []
    for piece in pieces:
        if merged and merged[-1].endswith("/"):
            merged[-1] = f"{merged[-1]} {piece}"
        else:
            merged.append(piece)
    return merged


def _bai2_text(value: str) -> str:
    return " ".join(value.replace(",", " ").replace("/", " ").split())


def write_bai2(
    target: Path,
    payments: Sequence[Payment],
    *,
    sender_id: str,
    receiver_id: str,
    account_number: str,
    file_id: str,
    created: datetime,
) -> Path:
    """Write :func:`render_bai2` to ``target``."""
    target.write_text(
        render_bai2(
            payments,
            sender_id=sender_id,
            receiver_id=receiver_id,
            account_number=account_number,
            file_id=file_id,
            created=created,
        )
    )
    return target


# X12 820 -----------------------------------------------------------------------------


def render_edi820(
    payments: Sequence[Payment],
    *,
    sender_id: str,
    receiver_id: str,
    control_number: int,
    created: datetime,
) -> str:
    """One interchange (ISA/GS) with one 820 transaction set per payment."""
    isa = (
        f"ISA*00*{'':10}*00*{'':10}*ZZ*{sender_id[:15]:<15}*ZZ*{receiver_id[:15]:<15}"
        f"*{created:%y%m%d}*{created:%H%M}*U*00401*{control_number:09d}*0*P*>"
    )
    segments = [
        isa,
        f"GS*RA*{_x12(sender_id)}*{_x12(receiver_id)}*{created:%Y%m%d}*{created:%H%M}"
        f"*{control_number}*X*004010",
    ]
    for number, payment in enumerate(payments, start=1):
        control = f"{number:04d}"
        body = [
            f"ST*820*{control}",
            f"BPR*C*{_fmt(payment.amount, payment.currency)}*C*ACH*CCP*01*000000000*DA"
            f"*{_x12(payment.iban or payment.account or '')}*{_x12(sender_id)}**01*000000000*DA"
            f"*000000000*{payment.value_date:%Y%m%d}",
            f"TRN*1*{_x12(payment.reference or f'{control_number}-{control}')}",
            f"CUR*PR*{payment.currency}",
            f"N1*PR*{_x12(payment.payer_name)[:60]}",
        ]
        body.extend(f"NTE*ADD*{piece}" for piece in _wrap(_x12(payment.free_text or ""), 80))
        if payment.refs:
            body.append("ENT*1")
            body.extend(_remittance_segments(payment.refs, payment.currency))
        body.append(f"SE*{len(body) + 1}*{control}")
        segments.extend(body)
    segments.append(f"GE*{len(payments)}*{control_number}")
    segments.append(f"IEA*1*{control_number:09d}")
    return "~\n".join(segments) + "~\n"


def write_edi820(
    target: Path,
    payments: Sequence[Payment],
    *,
    sender_id: str,
    receiver_id: str,
    control_number: int,
    created: datetime,
) -> Path:
    """Write :func:`render_edi820` to ``target``."""
    target.write_text(
        render_edi820(
            payments,
            sender_id=sender_id,
            receiver_id=receiver_id,
            control_number=control_number,
            created=created,
        )
    )
    return target
