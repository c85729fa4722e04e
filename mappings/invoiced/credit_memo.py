"""Invoiced credit note -> CreditMemoIn (``balance`` is the credit not yet applied).

A voided or ``closed`` credit note (status ``closed``: no further applications are allowed)
has no credit left to apply: it maps to void with a zero balance, whatever ``balance`` says,
so the reconciler never offers it as credit. A paid one (fully applied) has none left either."""

from __future__ import annotations

from canonical.enums import DocumentStatus
from canonical.records import CreditMemoIn
from connectors.base import RawRecord
from mappings.base import F, MappingContext, extract, money, optional_text, text, unix_datetime
from mappings.invoiced.common import company_days, currency, customer_ref, origin
from mappings.invoiced.invoice import standing

FIELDS = {
    "number": F("number", text),
    "issue_date": F("date", unix_datetime, required=False),
    "reference": F("purchase_order", optional_text, required=False),
    "memo": F("notes", optional_text, required=False),
}


def to_canonical(record: RawRecord, ctx: MappingContext) -> CreditMemoIn:
    payload = record.payload
    code = currency(record, ctx)
    if record.deleted:
        return CreditMemoIn(
            **origin(record),
            customer_remote_id=customer_ref(record),
            number=str(payload.get("number") or record.remote_id),
            total=money(payload.get("total") or 0, code, "total"),
            balance=money(0, code, "balance"),
            status=DocumentStatus.DELETED,
        )
    total = money(payload.get("total"), code, "total")
    status, balance = standing(payload, code)  # paid in full, voided or closed: none left
    return CreditMemoIn(
        **origin(record),
        **company_days(extract(payload, FIELDS), ctx, "issue_date"),
        customer_remote_id=customer_ref(record),
        total=total,
        balance=balance,
        status=status,
    )
