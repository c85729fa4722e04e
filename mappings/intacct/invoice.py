"""Intacct ARINVOICE, and ARADJUSTMENT debit memos, -> InvoiceIn.

RECORDID is the invoice number, DOCNUMBER the customer's reference (PO). A reversed
invoice stays a record with status void; a deleted one (from the audit trail) carries only
its key.

A debit memo (an ARADJUSTMENT with a positive total, or the negative Reversal entry of one)
raises what the customer owes: it is a receivable document like an invoice, so the invoices
stream reads it too (``RawRecord.object_type`` ``ARADJUSTMENT``) and it maps to an invoice:
number RECORDID, dates WHENCREATED / WHENDUE, total and balance the magnitudes of
``TRX_TOTALENTERED`` / ``TRX_TOTALDUE``, status from STATE like any document (a Reversed
debit memo and the Reversal entry that cancels it are void, owing nothing). Its remote id is
its RECORDNO: AR record numbers are one sequence across ARINVOICE and ARADJUSTMENT (the
legacy ``apply_arpayment`` takes either in the same ``invoicekey``), so it cannot collide
with an invoice's. Payments name it in ``POSADJKEY`` (see :mod:`mappings.intacct.payment`).
It is marked ``debit_memo``, so ``ADJ5025`` never links by number to another system's invoice
``5025`` of the same customer.
A credit memo reaching this mapper is refused, never counted as something owed, and so is
a negative ARINVOICE that is not a Reversal entry: Intacct's way of giving a customer credit
(a payment applies it by ``NEGATIVEINVOICEKEY``), which an open invoice with a negative
balance would hide from credit application and from the customer's balance alike.
"""

from __future__ import annotations

from canonical.enums import DocumentStatus
from canonical.records import InvoiceIn
from canonical.terms import discount_fields
from connectors.base import RawRecord
from mappings.base import (
    F,
    MappingContext,
    MappingError,
    deleted_document,
    extract,
    optional_text,
    us_date,
)
from mappings.intacct.common import (
    ADJUSTMENT,
    amount,
    currency,
    is_debit_memo,
    magnitude,
    origin,
    required_text,
    status_and_balance,
    total_field,
    zero,
)

DEBIT_MEMO_FIELDS = {  # what an invoice and a debit memo share
    "number": F("RECORDID", optional_text, required=False, default=""),
    "issue_date": F("WHENCREATED", us_date, required=False),
    "due_date": F("WHENDUE", us_date, required=False),
    "po_number": F("DOCNUMBER", optional_text, required=False),
    "memo": F("DESCRIPTION", optional_text, required=False),
}
FIELDS = {
    **DEBIT_MEMO_FIELDS,
    "terms": F("TERMNAME", optional_text, required=False),
    "discount_date": F("WHENDISCOUNT", us_date, required=False),
}


def to_canonical(record: RawRecord, ctx: MappingContext) -> InvoiceIn:
    if record.deleted:
        return deleted_document(InvoiceIn, origin(record), zero(ctx))
    if record.object_type == ADJUSTMENT:
        return debit_memo(record, ctx)
    payload = record.payload
    code = currency(payload, ctx)
    total = amount(payload, "TOTALENTERED", code)
    balance = amount(payload, "TOTALDUE", code)
    status, balance = status_and_balance(payload, balance, code)
    if status is not DocumentStatus.VOID and total.amount < 0:
        raise MappingError(
            total_field(payload),
            f"a negative invoice ({total}) is credit the customer holds, not something owed: "
            "left out so that it is never counted as an open invoice (arsync takes credits from "
            "AR adjustments; apply it in Intacct or record it as a credit adjustment)",
        )
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


def debit_memo(record: RawRecord, ctx: MappingContext) -> InvoiceIn:
    """A debit-memo ARADJUSTMENT as the invoice it is to the customer."""
    payload = record.payload
    code = currency(payload, ctx)
    entered = amount(payload, "TOTALENTERED", code)
    if not is_debit_memo(payload, entered):
        raise MappingError(
            total_field(payload),
            f"a credit memo ({entered} lowers what the customer owes), not a debit memo: "
            "left out so that it is never counted as owed",
        )
    status, balance = status_and_balance(
        payload, magnitude(amount(payload, "TOTALDUE", code)), code
    )
    values = extract(payload, DEBIT_MEMO_FIELDS)
    return InvoiceIn(
        **origin(record),
        customer_remote_id=required_text(payload, "CUSTOMERID"),
        number=values["number"] or "",
        total=magnitude(entered),
        balance=balance,
        issue_date=values["issue_date"],
        due_date=values["due_date"],
        status=status,
        po_number=values["po_number"],
        memo=values["memo"],
        debit_memo=True,
    )
