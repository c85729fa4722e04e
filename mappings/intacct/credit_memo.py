"""Intacct ARADJUSTMENT (a credit adjustment) -> CreditMemoIn.

An AR adjustment is either a credit memo (it lowers what the customer owes) or a debit memo
(it raises it). The XML API has no type field for it: the sign of the amounts is the type.
Credit memos carry negative totals; the credit memo's total and open credit are their
magnitudes. A ``Reversal`` entry carries the opposite sign of the document it reverses.

Debit memos are receivables: the invoices stream reads them (its ARADJUSTMENT query keeps
only debit memos) and :mod:`mappings.intacct.invoice` maps them as invoices. The credit-memo
stream's query keeps only credit memos, so a debit memo should never reach this mapper; if
one does (the filter runs on Intacct's base-currency ``TOTALENTERED``, this mapper reads the
document-currency ``TRX_TOTALENTERED``), it is still refused with a :class:`MappingError`
naming its total, so that it is never offered as credit to apply to invoices.
"""

from __future__ import annotations

from canonical.records import CreditMemoIn
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

FIELDS = {
    "number": F("RECORDID", optional_text, required=False, default=""),
    "issue_date": F("WHENCREATED", us_date, required=False),
    "reference": F("DOCNUMBER", optional_text, required=False),
    "memo": F("DESCRIPTION", optional_text, required=False),
}


__all__ = ["FIELDS", "is_debit_memo", "to_canonical"]


def to_canonical(record: RawRecord, ctx: MappingContext) -> CreditMemoIn:
    if record.deleted:
        return deleted_document(CreditMemoIn, origin(record), zero(ctx))
    payload = record.payload
    code = currency(payload, ctx)
    entered = amount(payload, "TOTALENTERED", code)
    if is_debit_memo(payload, entered):
        raise MappingError(
            total_field(payload),
            f"a debit memo ({entered} adds to what the customer owes), not a credit memo: "
            "left out so that it is never applied as credit",
        )
    total = magnitude(entered)
    status, balance = status_and_balance(
        payload, magnitude(amount(payload, "TOTALDUE", code)), code
    )
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
