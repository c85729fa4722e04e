"""Intacct ARADJUSTMENT (a credit adjustment) -> CreditMemoIn.

Credit adjustments carry negative totals; the credit memo's total and open credit are
their magnitudes.
"""

from __future__ import annotations

from canonical.enums import DocumentStatus
from canonical.money import Money
from canonical.records import CreditMemoIn
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
    "reference": F("DOCNUMBER", optional_text, required=False),
    "memo": F("DESCRIPTION", optional_text, required=False),
}


def _magnitude(value: Money) -> Money:
    return Money(abs(value.amount), value.currency)


def to_canonical(record: RawRecord, ctx: MappingContext) -> CreditMemoIn:
    if record.deleted:
        nothing = zero(ctx)
        return CreditMemoIn(
            **origin(record),
            customer_remote_id=None,
            number="",
            total=nothing,
            balance=nothing,
            status=DocumentStatus.DELETED,
        )
    payload = record.payload
    code = currency(payload, ctx)
    total = _magnitude(amount(payload, "TOTALENTERED", code))
    balance = _magnitude(amount(payload, "TOTALDUE", code))
    status = document_status(payload, balance)
    if status is DocumentStatus.VOID:
        balance = Money.zero(code)  # a reversed document owes nothing, whatever TOTALDUE says
    values = extract(payload, FIELDS)
    return CreditMemoIn(
        **origin(record),
        customer_remote_id=required_text(payload, "CUSTOMERID"),
        number=values["number"] or "",
        total=total,
        balance=balance,
        issue_date=values["issue_date"],
        status=status,
        reference=values["reference"],
        memo=values["memo"],
    )
