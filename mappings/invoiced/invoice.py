"""Invoiced invoice -> InvoiceIn. A voided invoice keeps its record with status void and
nothing left to pay (Invoiced leaves the old ``balance`` on it); a deleted one (an
``invoice.deleted`` event) maps from whatever the event carried."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from canonical.enums import DocumentStatus
from canonical.records import InvoiceIn
from canonical.terms import discount_fields
from connectors.base import RawRecord
from mappings.base import F, MappingContext, extract, money, optional_text, text, unix_date
from mappings.invoiced.common import currency, customer_ref, origin

FIELDS = {
    "number": F("number", text),
    "issue_date": F("date", unix_date, required=False),
    "due_date": F("due_date", unix_date, required=False),
    "po_number": F("purchase_order", optional_text, required=False),
    "memo": F("notes", optional_text, required=False),
}
STATUS = {"draft": DocumentStatus.DRAFT, "voided": DocumentStatus.VOID, "paid": DocumentStatus.PAID}


def status_of(payload: Mapping[str, Any], balance_is_zero: bool) -> DocumentStatus:
    """Invoiced's status (``not_sent``, ``sent``, ``viewed``, ``past_due``, ``pending``, ...)
    collapsed to open / paid / void / draft."""
    if payload.get("voided") is True or payload.get("status") == "voided":
        return DocumentStatus.VOID
    if payload.get("draft") is True:
        return DocumentStatus.DRAFT
    known = STATUS.get(str(payload.get("status")))
    if known is not None:
        return known
    return DocumentStatus.PAID if balance_is_zero else DocumentStatus.OPEN


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
    balance = money(payload.get("balance", payload.get("total")), code, "balance")
    values = extract(payload, FIELDS)
    status = status_of(payload, balance.is_zero())
    if status is DocumentStatus.VOID:
        balance = money(0, code, "balance")  # Invoiced keeps the old balance on a voided one
    return InvoiceIn(
        **origin(record),
        **values,
        **discount_fields(optional_text(payload.get("payment_terms")), values["issue_date"]),
        customer_remote_id=customer_ref(record),
        total=total,
        balance=balance,
        status=status,
    )
