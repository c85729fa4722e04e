"""Intacct ARADJUSTMENT (a credit adjustment) -> CreditMemoIn.

An AR adjustment is either a credit memo (it lowers what the customer owes) or a debit memo
(it raises it). The XML API has no type field for it: the sign of the amounts is the type.
Credit memos carry negative totals; the credit memo's total and open credit are their
magnitudes. A ``Reversal`` entry carries the opposite sign of the document it reverses.

A debit memo is not credit and must never be offered as credit to apply to invoices. The
credit-memo stream can only yield credit memos, so a debit memo is refused with a
:class:`MappingError` naming its total: the run quarantines it with that reason (visible in
the report) and goes on. Payments of debit memos (``POSADJKEY`` details) are handled in
:mod:`mappings.intacct.payment`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from canonical.enums import DocumentStatus
from canonical.money import Money
from canonical.records import CreditMemoIn
from connectors.base import RawRecord
from mappings.base import F, MappingContext, MappingError, extract, optional_text, us_date
from mappings.intacct.common import (
    REVERSAL_STATE,
    amount,
    currency,
    document_status,
    origin,
    required_text,
    text_at,
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


def is_debit_memo(payload: Mapping[str, Any], entered: Money) -> bool:
    """A debit memo: a positive total, or a negative one on the Reversal entry of one."""
    sign = entered.amount
    if text_at(payload, "STATE") == REVERSAL_STATE:
        sign = -sign
    return sign > 0


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
    entered = amount(payload, "TOTALENTERED", code)
    if is_debit_memo(payload, entered):
        field = "TRX_TOTALENTERED" if text_at(payload, "TRX_TOTALENTERED") else "TOTALENTERED"
        raise MappingError(
            field,
            f"a debit memo ({entered} adds to what the customer owes), not a credit memo: "
            "left out so that it is never applied as credit",
        )
    total = _magnitude(entered)
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
