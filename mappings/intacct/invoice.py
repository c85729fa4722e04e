"""Intacct ARINVOICE -> InvoiceIn.

RECORDID is the invoice number, DOCNUMBER the customer's reference (PO). A reversed
invoice stays a record with status void; a deleted one (from the audit trail) carries only
its key.
"""

from __future__ import annotations

from canonical.enums import DocumentStatus
from canonical.money import Money
from canonical.records import InvoiceIn
from canonical.terms import discount_fields
from connectors.base import RawRecord
from mappings.base import F, MappingContext, extract, optional_text, us_date
from mappings.intacct.common import (
    amount,
    currency,
    document_status,
    origin,
    required_text,
    zero,
)

FIELDS = {
    "number": F("RECORDID", optional_text, required=False, default=""),
    "issue_date": F("WHENCREATED", us_date, required=False),
    "due_date": F("WHENDUE", us_date, required=False),
    "po_number": F("DOCNUMBER", optional_text, required=False),
    "memo": F("DESCRIPTION", optional_text, required=False),
    "terms": F("TERMNAME", optional_text, required=False),
    "discount_date": F("WHENDISCOUNT", us_date, required=False),
}


def to_canonical(record: RawRecord, ctx: MappingContext) -> InvoiceIn:
    if record.deleted:
        nothing = zero(ctx)
        return InvoiceIn(
            **origin(record),
            customer_remote_id=None,
            number="",
            total=nothing,
            balance=nothing,
            status=DocumentStatus.DELETED,
        )
    payload = record.payload
    code = currency(payload, ctx)
    total = amount(payload, "TOTALENTERED", code)
    balance = amount(payload, "TOTALDUE", code)
    status = document_status(payload, balance)
    if status is DocumentStatus.VOID:
        balance = Money.zero(code)  # a reversed document owes nothing, whatever TOTALDUE says
    values = extract(payload, FIELDS)
    return InvoiceIn(
        **origin(record),
        customer_remote_id=required_text(payload, "CUSTOMERID"),
        number=values["number"] or "",
        total=total,
        balance=balance,
        issue_date=values["issue_date"],
        due_date=values["due_date"],
        status=status,
        po_number=values["po_number"],
        memo=values["memo"],
        **discount_fields(values["terms"], values["issue_date"], values["discount_date"]),
    )
