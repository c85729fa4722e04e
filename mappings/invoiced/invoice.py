"""Invoiced invoice -> InvoiceIn. A voided invoice keeps its record with status void and
nothing left to pay (Invoiced leaves the old ``balance`` on it); a deleted one (an
``invoice.deleted`` event) maps from whatever the event carried.

An invoice written off as bad debt (status ``bad_debt``, or ``closed: true`` on an invoice
that is neither paid nor voided: "closed and considered bad debt, no further payments are
allowed") owes nothing collectible: it maps to void with a zero balance, whatever
``balance`` still says. Void, not paid: no cash came in for it. A credit note that is
``closed`` has nothing left to apply and maps the same way (see ``credit_memo``).

A paid document (status ``paid`` or ``paid: true``, "paid in full") owes nothing: its
balance maps to zero even where the payload still shows one (the API reference's
``pay`` example answers ``"paid": true`` with ``balance`` equal to ``total``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from canonical.enums import DocumentStatus
from canonical.money import Money
from canonical.records import InvoiceIn
from canonical.terms import discount_fields
from connectors.base import RawRecord
from mappings.base import F, MappingContext, extract, money, optional_text, text, unix_datetime
from mappings.invoiced.common import company_days, currency, customer_ref, origin

FIELDS = {
    "number": F("number", text),
    "issue_date": F("date", unix_datetime, required=False),
    "due_date": F("due_date", unix_datetime, required=False),
    "po_number": F("purchase_order", optional_text, required=False),
    "memo": F("notes", optional_text, required=False),
}
STATUS = {"draft": DocumentStatus.DRAFT, "voided": DocumentStatus.VOID, "paid": DocumentStatus.PAID}
WRITTEN_OFF = ("bad_debt", "closed")  # invoice written off / credit note closed: nothing left
# nothing is owed (or left to apply) on a paid, voided or written-off document
SETTLED = (DocumentStatus.PAID, DocumentStatus.VOID)


def status_of(payload: Mapping[str, Any], balance_is_zero: bool) -> DocumentStatus:
    """Invoiced's status (``not_sent``, ``sent``, ``viewed``, ``past_due``, ``pending``,
    ``bad_debt``; a credit note's ``open``, ``closed``, ...) collapsed to open / paid / void /
    draft. Written off or closed is void: nothing is owed or left to apply, and no cash
    settled it."""
    if payload.get("voided") is True or payload.get("status") == "voided":
        return DocumentStatus.VOID
    if payload.get("draft") is True:
        return DocumentStatus.DRAFT
    status = str(payload.get("status"))
    known = STATUS.get(status)
    if known is not None:
        return known
    if payload.get("paid") is True:
        return DocumentStatus.PAID  # "paid in full", whatever the status string says
    if status in WRITTEN_OFF or (payload.get("closed") is True and payload.get("paid") is not True):
        return DocumentStatus.VOID
    return DocumentStatus.PAID if balance_is_zero else DocumentStatus.OPEN


def standing(payload: Mapping[str, Any], code: str) -> tuple[DocumentStatus, Money]:
    """The document's status and what it still owes (or has left to apply): nothing once it
    is paid, voided or written off, whatever ``balance`` still shows."""
    balance = money(payload.get("balance", payload.get("total")), code, "balance")
    status = status_of(payload, balance.is_zero())
    if status in SETTLED:
        balance = money(0, code, "balance")  # Invoiced may keep the old balance on these
    return status, balance


def to_canonical(record: RawRecord, ctx: MappingContext) -> InvoiceIn:
    payload = record.payload
    code = currency(record, ctx)
    if record.deleted:
        return InvoiceIn(
            **origin(record),
            customer_remote_id=customer_ref(record),
            number=str(payload.get("number") or record.remote_id),
            total=money(payload.get("total") or 0, code, "total"),
            balance=money(0, code, "balance"),
            status=DocumentStatus.DELETED,
        )
    total = money(payload.get("total"), code, "total")
    status, balance = standing(payload, code)
    values = company_days(extract(payload, FIELDS), ctx, "issue_date", "due_date")
    return InvoiceIn(
        **origin(record),
        **values,
        **discount_fields(optional_text(payload.get("payment_terms")), values["issue_date"]),
        customer_remote_id=customer_ref(record),
        total=total,
        balance=balance,
        status=status,
    )
