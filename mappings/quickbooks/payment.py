"""QuickBooks Online Payment -> PaymentIn, with its applications from ``Line[].LinkedTxn``.

A line linking an Invoice pays it; a line linking a CreditMemo takes that credit (a
zero-total Payment with one of each applies a credit memo to an invoice). Zero-amount lines
are skipped (a voided payment keeps its lines with amounts of zero).

A line may also link a transaction arsync does not sync (a JournalEntry, Expense, Check,
CreditCardCredit, Deposit...). Every line's amount is positive, whether it is a charge the
cash pays or a credit the payment uses, so which one it is comes from the totals: the
invoices less the credits is what the payment applied (``TotalAmt - UnappliedAmt``). Such
lines are credits taken (target ``credit``: they pay the invoices before the cash) when the
totals say so, charges paid (left out: no invoice of ours) when they say that, and a mapping
error naming ``Line`` when the totals say neither. Counting a journal entry's credit as cash
would show a 0.00 payment paying an invoice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from canonical.enums import PaymentStatus
from canonical.money import Money, money_sum
from canonical.records import AppliedIn, PaymentIn
from connectors.base import RawRecord
from mappings.base import F, MappingContext, MappingError, extract, iso_date, optional_text
from mappings.quickbooks.common import amount, currency, is_deleted, origin, ref_value, voided, zero

TARGETS = {"Invoice": "invoice", "CreditMemo": "credit_memo"}

FIELDS = {
    "received_on": F("TxnDate", iso_date, required=False),
    "reference": F("PaymentRefNum", optional_text, required=False),
    "method": F("PaymentMethodRef.name", optional_text, required=False),
    "memo": F("PrivateNote", optional_text, required=False),
}


def applications(
    payload: Mapping[str, Any], code: str, total: Money, unapplied: Money | None
) -> list[AppliedIn]:
    lines = payload.get("Line") or []
    if not isinstance(lines, list):
        raise MappingError("Line", "is not a list")
    applied: list[AppliedIn] = []
    others: list[AppliedIn] = []  # lines linking a transaction arsync does not sync
    for index, line in enumerate(lines):
        if not isinstance(line, (dict, Mapping)):
            raise MappingError(f"Line.{index}", "is not an object")
        linked = line.get("LinkedTxn") or []
        if not isinstance(linked, list):  # iterated, an object would link nothing (its keys)
            raise MappingError(f"Line.{index}.LinkedTxn", "is not a list")
        links = [
            link
            for link in linked
            if isinstance(link, (dict, Mapping)) and link.get("TxnType") not in (None, "")
        ]
        if not links:
            continue
        if len(links) > 1:
            raise MappingError(
                f"Line.{index}.LinkedTxn", "links several documents; the amount cannot be split"
            )
        target_id = links[0].get("TxnId")
        if target_id in (None, ""):
            raise MappingError(f"Line.{index}.LinkedTxn.0.TxnId", "is required but missing")
        share = amount(payload, f"Line.{index}.Amount", code)
        if share.is_zero():
            continue  # a void keeps its lines at zero: nothing is applied
        target = TARGETS.get(str(links[0]["TxnType"]), "credit")
        found = AppliedIn(
            target=target,  # type: ignore[arg-type]
            target_remote_id=f"{links[0]['TxnType']}:{target_id}"
            if target == "credit"
            else str(target_id),
            amount=share,
        )
        (others if target == "credit" else applied).append(found)
    if others:
        applied += _credits_taken(others, applied, total, unapplied)
    return applied


def _credits_taken(
    others: list[AppliedIn], applied: list[AppliedIn], total: Money, unapplied: Money | None
) -> list[AppliedIn]:
    """The lines linking unsynced transactions as credits the payment took, or none when they
    are charges it paid; which one, the totals tell."""
    currency = total.currency
    invoices = money_sum([a.amount for a in applied if a.target == "invoice"], currency)
    memos = money_sum([a.amount for a in applied if a.target == "credit_memo"], currency)
    other = money_sum([a.amount for a in others], currency)
    cash = total - (unapplied or Money.zero(currency))
    if invoices - memos - other == cash:
        return others
    if invoices - memos + other == cash:
        return []  # charges the cash paid (a journal entry debiting receivables): not ours
    kinds = sorted({a.target_remote_id.split(":")[0] for a in others})
    raise MappingError(
        "Line",
        f"lines linking {', '.join(kinds)} ({other}) are neither the credits nor the charges "
        f"that make the invoices ({invoices}) less credit memos ({memos}) equal the cash "
        f"applied ({cash})",
    )


def to_canonical(record: RawRecord, ctx: MappingContext) -> PaymentIn:
    if is_deleted(record):
        return PaymentIn(
            **{**origin(record), "deleted": True},
            customer_remote_id=None,
            amount=zero(ctx),
            status=PaymentStatus.DELETED,
        )
    payload = record.payload
    code = currency(payload, ctx)
    total = amount(payload, "TotalAmt", code)
    unapplied = amount(payload, "UnappliedAmt", code) if "UnappliedAmt" in payload else None
    values = extract(payload, FIELDS)
    void = voided(payload, total)
    return PaymentIn(
        **{**origin(record), "deleted": record.deleted},
        customer_remote_id=ref_value(payload, "CustomerRef", required=True),
        amount=total,
        unapplied=unapplied,
        received_on=values["received_on"],
        method=values["method"],
        reference=values["reference"],
        memo=values["memo"],
        status=PaymentStatus.VOID if void else PaymentStatus.POSTED,
        applied=applications(payload, code, total, unapplied),
    )
