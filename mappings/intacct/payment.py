"""Intacct ARPYMT with its ARPYMTDETAIL rows -> PaymentIn.

Each detail pays one receivable: the invoice ``RECORDKEY`` or, as Intacct documents
ARPYMTDETAIL, the debit memo ``POSADJKEY`` (the ARADJUSTMENT's RECORDNO; a detail pays one
or the other, never both). Debit memos are canonical invoices (see
:mod:`mappings.intacct.invoice`) with their RECORDNO as remote id, so both keys name an
invoice. A detail carries ``TRX_PAYMENTAMOUNT`` of cash and, when ``ADJUSTMENTKEY`` names a
credit adjustment, ``TRX_ADJUSTMENTAMOUNT`` of that credit. Credit yields an invoice entry
of its amount followed by the credit-memo entry (the credit pays that invoice or debit memo);
cash yields an invoice entry of its own. All credit entries come first, in detail order, then
all cash entries: the store pays a payment's invoice entries from its credits in order before
its cash, so this order is what keeps each credit on the document its detail names (one
entry of cash plus credit would let an earlier invoice take a later detail's credit).
Unapplied cash is the total less the cash applied. STATE
Voided/Reversed is a void; the record is kept. The details come as the stream's list, or in
the XML shape ``{"ARPYMTDETAIL": one object or a list}``.

A detail may instead take credit from an advance (``ADVANCEKEY``, ``TRX_POSTEDADVANCEAMOUNT``),
an overpayment (``OVERPAYMENTKEY``), an invoice's inline credit (``INLINEKEY``) or a negative
invoice (``NEGATIVEINVOICEKEY``), as Intacct documents ARPYMTDETAIL. Canonical applications
take credit only from credit memos, so a posted payment with such credit cannot be mapped
faithfully (dropping it would leave the advance looking unapplied, free to be applied again):
it is refused with a :class:`MappingError` naming the detail's amount field and the key.

A payment saved as a Draft is not posted: it has not moved cash and does not touch the
subledger (the invoices it names show STATE Selected until it is posted). Canonical payments
are posted, void or deleted, so a draft maps to void — not cash, applied or unapplied — and
its applications are not counted; when Intacct posts it, the next sync maps it as posted. A
payment in the approval workflow (Submitted, Partially Approved, Approved: not yet posted;
Declined, Unapproved: never to be) is read the same way. Posted, Complete and Reconciled are
posted cash. Any other STATE is refused with a :class:`MappingError` on ``STATE``: read as
posted, a state arsync does not know could apply cash Intacct never received.

A payment received for several customers at once has no CUSTOMERID but a PAYERNAME: it maps
with no customer, its details applying to each customer's invoices.

The payment is received on its payment date. A payment is created with ``PAYMENTDATE`` and
``RECEIPTDATE`` (the day it posts to the GL); read back, the ARPYMT object has no
``PAYMENTDATE`` field: the payment date comes back as ``WHENPAID``, beside ``RECEIPTDATE``.
So the date is ``PAYMENTDATE`` (a create-shaped record), else ``WHENPAID``, else
``RECEIPTDATE``: a payment dated the 16th and posted on the 15th is received on the 16th
whichever way it was read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from canonical.enums import PaymentStatus
from canonical.money import Money
from canonical.records import AppliedIn, PaymentIn
from connectors.base import RawRecord
from mappings.base import (
    F,
    MappingContext,
    MappingError,
    decimal,
    extract,
    optional_text,
    us_date,
)
from mappings.intacct.common import (
    PAYMENT_POSTED_STATES,
    PAYMENT_UNPOSTED_STATES,
    VOID_STATES,
    base_currency_of,
    currency,
    origin,
    text_at,
    zero,
)
from mappings.intacct.common import amount as amount_of

DETAILS = "ARPYMTDETAILS"
DETAIL = "ARPYMTDETAIL"
# credit a detail can take from something other than a credit memo: amount -> (key, what)
OTHER_CREDITS = {
    "POSTEDADVANCEAMOUNT": ("ADVANCEKEY", "an advance"),
    "POSTEDOVERPAYMENTAMOUNT": ("OVERPAYMENTKEY", "an overpayment"),
    "INLINEAMOUNT": ("INLINEKEY", "the inline credit of an invoice"),
    "NEGATIVEINVOICEAMOUNT": ("NEGATIVEINVOICEKEY", "a negative invoice"),
}

FIELDS = {
    "received_on": F("PAYMENTDATE", us_date, required=False),
    "paid_date": F("WHENPAID", us_date, required=False),
    "receipt_date": F("RECEIPTDATE", us_date, required=False),
    "method": F("PAYMENTMETHOD", optional_text, required=False),
    "reference": F("DOCNUMBER", optional_text, required=False),
    "memo": F("DESCRIPTION", optional_text, required=False),
    "state": F("STATE", optional_text, required=False, default=""),
}


def _optional_amount(
    detail: Mapping[str, Any], name: str, code: str, where: str, base: str | None = None
) -> Money:
    if detail.get(f"TRX_{name}") in (None, "") and _nothing(detail.get(name)):
        return Money.zero(code)  # nothing in the base currency is nothing in any
    try:
        return amount_of(detail, name, code, base=base)
    except MappingError as exc:
        raise MappingError(f"{where}.{exc.field}", exc.reason) from None


def _nothing(value: Any) -> bool:
    """An empty amount element, or a zero one."""
    if value in (None, ""):
        return True
    try:
        return decimal(value).is_zero()
    except ValueError:
        return False  # read (and refused, naming the field) as an amount


def refuse_other_credit(
    detail: Mapping[str, Any], code: str, where: str, base: str | None = None
) -> None:
    """A detail taking credit from an advance, overpayment, inline credit or negative invoice
    has no canonical form: refused, naming the amount field and the credit's key."""
    for name, (key, what) in OTHER_CREDITS.items():
        credit = _optional_amount(detail, name, code, where, base)
        if not credit.is_zero():
            field = f"TRX_{name}" if detail.get(f"TRX_{name}") not in (None, "") else name
            source = optional_text(detail.get(key)) or "?"
            raise MappingError(
                f"{where}.{field}",
                f"applies {credit} of credit from {what} ({key} {source}); arsync applies "
                "credit only from credit memos, so this payment is left for review",
            )


def applications(
    payload: Mapping[str, Any], code: str, *, posted: bool = True
) -> tuple[list[AppliedIn], Money]:
    """The applications of a payment's details, and the cash they apply. A posted payment
    taking credit other than a credit memo's is refused (:func:`refuse_other_credit`). The
    details are in the payment's currency: of a foreign-currency payment, only their ``TRX_``
    amounts are read."""
    base = base_currency_of(payload)
    details = payload.get(DETAILS) or []
    if isinstance(details, (dict, Mapping)) and DETAIL in details:
        details = details[DETAIL] or []  # the XML shape: <ARPYMTDETAILS><ARPYMTDETAIL>...
    if isinstance(details, (dict, Mapping)):
        details = [details]  # one element in XML reads as an object, not a list
    if not isinstance(details, list):
        raise MappingError(DETAILS, "is not a list")
    credited: list[AppliedIn] = []  # each credit's invoice entry, then its credit memo's
    paid: list[AppliedIn] = []  # cash entries, after every credit
    cash_applied = Money.zero(code)
    for index, detail in enumerate(details):
        where = f"{DETAILS}.{index}"
        if not isinstance(detail, (dict, Mapping)):
            raise MappingError(where, "is not an object")
        if posted:
            refuse_other_credit(detail, code, where, base)
        cash = _optional_amount(detail, "PAYMENTAMOUNT", code, where, base)
        credit = _optional_amount(detail, "ADJUSTMENTAMOUNT", code, where, base)
        if cash.is_zero() and credit.is_zero():
            continue
        # a debit memo (POSADJKEY) or an invoice (RECORDKEY): both are canonical invoices
        invoice = optional_text(detail.get("POSADJKEY")) or optional_text(detail.get("RECORDKEY"))
        if invoice is None:
            raise MappingError(
                f"{where}.RECORDKEY", "is required but missing (or POSADJKEY for a debit memo)"
            )
        adjustment = optional_text(detail.get("ADJUSTMENTKEY"))
        if not credit.is_zero() and adjustment is None:
            raise MappingError(f"{where}.ADJUSTMENTKEY", "is required with an adjustment amount")
        cash_applied += cash
        if adjustment is not None and not credit.is_zero():
            credited.append(AppliedIn(target="invoice", target_remote_id=invoice, amount=credit))
            credited.append(
                AppliedIn(target="credit_memo", target_remote_id=adjustment, amount=credit)
            )
        if not cash.is_zero():
            paid.append(AppliedIn(target="invoice", target_remote_id=invoice, amount=cash))
    return credited + paid, cash_applied


_POSTED = {state.casefold() for state in PAYMENT_POSTED_STATES}
_NOT_CASH = {state.casefold() for state in (*VOID_STATES, *PAYMENT_UNPOSTED_STATES)}


def is_posted(state: str) -> bool:
    """Whether a payment's STATE means its cash is recorded: True when posted, False when void,
    reversed, a draft or in (or declined by) approval; any other STATE is refused."""
    key = state.strip().casefold()
    if key in _POSTED:
        return True
    if key in _NOT_CASH:
        return False
    raise MappingError(
        "STATE",
        f"is {state!r}, not a payment state arsync knows: not read as posted cash, "
        "so this payment is left for review",
    )


def payer(payload: Mapping[str, Any]) -> str | None:
    """The paying customer's CUSTOMERID; None for a payment received for several customers,
    which Intacct records without CUSTOMERID and with a PAYERNAME (its details name each
    customer's invoices)."""
    customer = text_at(payload, "CUSTOMERID")
    if customer is None and text_at(payload, "PAYERNAME") is None:
        raise MappingError(
            "CUSTOMERID", "is required but missing (and no PAYERNAME of a multi-customer payment)"
        )
    return customer


def to_canonical(record: RawRecord, ctx: MappingContext) -> PaymentIn:
    if record.deleted:
        return PaymentIn(
            **origin(record),
            customer_remote_id=None,
            amount=zero(ctx),
            status=PaymentStatus.DELETED,
        )
    payload = record.payload
    code = currency(payload, ctx)
    total = amount_of(payload, "TOTALENTERED", code)
    values = extract(payload, FIELDS)
    posted = is_posted(values["state"] or "")
    applied, cash_applied = applications(payload, code, posted=posted)
    return PaymentIn(
        **origin(record),
        customer_remote_id=payer(payload),
        amount=total,
        unapplied=total - cash_applied if posted else Money.zero(code),  # no cash moved
        received_on=values["received_on"] or values["paid_date"] or values["receipt_date"],
        method=values["method"],
        reference=values["reference"],
        memo=values["memo"],
        status=PaymentStatus.POSTED if posted else PaymentStatus.VOID,
        applied=applied,
    )
