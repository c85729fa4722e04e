"""QuickBooks Online Invoice -> InvoiceIn.

Status comes from documented fields only: a void invoice has zero amounts and a PrivateNote
starting "Voided" (it maps with status void and is kept, not deleted); a zero Balance is
paid; a CDC ``status: Deleted`` stub is deleted.
"""

from __future__ import annotations

from canonical.records import InvoiceIn
from canonical.terms import discount_fields
from connectors.base import RawRecord
from mappings.base import F, MappingContext, deleted_document, extract, iso_date, optional_text
from mappings.quickbooks.common import (
    amount,
    currency,
    custom_field,
    document_status,
    is_deleted,
    origin,
    po_field,
    ref_value,
    zero,
)

FIELDS = {
    "number": F("DocNumber", optional_text, required=False, default=""),
    "issue_date": F("TxnDate", iso_date, required=False),
    "due_date": F("DueDate", iso_date, required=False),
    "customer_memo": F("CustomerMemo.value", optional_text, required=False),
    "private_note": F("PrivateNote", optional_text, required=False),
    "term_id": F("SalesTermRef.value", optional_text, required=False),
    "term_name": F("SalesTermRef.name", optional_text, required=False),
}


def to_canonical(record: RawRecord, ctx: MappingContext) -> InvoiceIn:
    if is_deleted(record):
        return deleted_document(InvoiceIn, {**origin(record), "deleted": True}, zero(ctx))
    payload = record.payload
    code = currency(payload, ctx)
    total = amount(payload, "TotalAmt", code)
    balance = amount(payload, "Balance", code)
    values = extract(payload, FIELDS)
    return InvoiceIn(
        **{**origin(record), "deleted": record.deleted},
        customer_remote_id=ref_value(payload, "CustomerRef", required=True),
        number=values["number"] or "",
        total=total,
        balance=balance,
        issue_date=values["issue_date"],
        due_date=values["due_date"],
        status=document_status(payload, total, balance),
        po_number=custom_field(payload, po_field(ctx)),
        memo=values["customer_memo"] or values["private_note"],
        **discount_fields(term_text(values, ctx), values["issue_date"]),
    )


def term_text(values: dict[str, object], ctx: MappingContext) -> str | None:
    """The invoice's sales term as text: the ref's name, or the configured name of its id
    (option ``terms``: id -> text, for companies whose refs carry only the id)."""
    if values["term_name"]:
        return str(values["term_name"])
    named = ctx.option("terms", {}) or {}
    found = named.get(str(values["term_id"])) if values["term_id"] else None
    return str(found) if found else None
