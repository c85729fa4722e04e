"""QuickBooks Online CreditMemo -> CreditMemoIn (open credit is ``RemainingCredit``)."""

from __future__ import annotations

from canonical.records import CreditMemoIn
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
    "customer_memo": F("CustomerMemo.value", optional_text, required=False),
    "private_note": F("PrivateNote", optional_text, required=False),
}


def to_canonical(record: RawRecord, ctx: MappingContext) -> CreditMemoIn:
    if is_deleted(record):
        return deleted_document(CreditMemoIn, {**origin(record), "deleted": True}, zero(ctx))
    payload = record.payload
    code = currency(payload, ctx)
    total = amount(payload, "TotalAmt", code)
    remaining = "RemainingCredit" if payload.get("RemainingCredit") is not None else "Balance"
    balance = amount(payload, remaining, code)
    values = extract(payload, FIELDS)
    return CreditMemoIn(
        **{**origin(record), "deleted": record.deleted},
        customer_remote_id=ref_value(payload, "CustomerRef", required=True),
        number=values["number"] or "",
        total=total,
        balance=balance,
        issue_date=values["issue_date"],
        status=document_status(payload, total, balance),
        reference=custom_field(payload, po_field(ctx)),
        memo=values["customer_memo"] or values["private_note"],
    )
