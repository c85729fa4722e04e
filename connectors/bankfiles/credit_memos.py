"""Credit memo lines (RMR01 CM) of X12 820 remittance detail whose payer wrote the credit taken
as a positive amount paid (RMR04), read alike in a standalone 820 and in NACHA addenda.

A credit memo reduces what is paid. Where the payment amount confirms a credit taken so
written, the amounts paid less those credits adding up to it, the memo lines are turned
negative (RMR04, and RMR05 when positive); otherwise they are kept as stated, and each reader
warns naming where its RMR04 is, with :func:`kept_as_stated`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from connectors.bankfiles.records import RefKind, StructuredRef


@dataclass(frozen=True)
class CreditMemos:
    """The reading of the credit memos some remittance detail states a positive amount paid
    on: ``refs`` and ``paid_total`` as they stand after it; ``kept`` the memos not confirmed,
    kept as stated, and ``why``."""

    refs: list[StructuredRef]
    paid_total: Decimal | None
    kept: list[StructuredRef]
    why: str = ""


def credit_memos_taken(
    refs: list[StructuredRef],
    paid_total: Decimal | None,
    loose_adjustments: Decimal,
    paid: Decimal | None,
    paid_is: str,
    currency: str,
) -> CreditMemos | None:
    """The credit memos of ``refs`` stated with a positive amount paid (RMR01 CM, RMR04 above
    0) taken as credits where ``paid`` (the amount of the cash, ``None``: unknown; ``paid_is``
    names it) confirms it: ``paid_total`` (the sum of the RMR04s, ``None`` when one is left
    out) less twice those credits, with the ``loose_adjustments`` of the payment, adds up to
    it. ``None`` without such a memo."""
    memos = [
        i
        for i, ref in enumerate(refs)
        if ref.kind is RefKind.CREDIT_MEMO and ref.amount_paid is not None and ref.amount_paid > 0
    ]
    if not memos:
        return None
    credits = sum((refs[i].amount_paid or Decimal(0) for i in memos), Decimal(0))
    taken = None if paid_total is None else paid_total - 2 * credits
    if paid is not None and taken is not None and taken + loose_adjustments == paid:
        turned = list(refs)
        for i in memos:
            ref = turned[i]
            memo = ref.invoice_amount
            turned[i] = replace(
                ref,
                amount_paid=-(ref.amount_paid or Decimal(0)),
                invoice_amount=-memo if memo is not None and memo > 0 else memo,
            )
        return CreditMemos(turned, taken, [])
    if paid is None:
        why = "no payment amount (BPR02) to confirm a credit taken by"
    elif taken is None:
        why = "an amount paid left out elsewhere leaves the credit taken unconfirmed"
    else:
        why = (
            f"taken as a credit, the amounts paid would add up to "
            f"{taken + loose_adjustments} {currency}, not to {paid_is}"
        )
    return CreditMemos(list(refs), paid_total, [refs[i] for i in memos], why)


def kept_as_stated(memo: StructuredRef, currency: str, why: str) -> str:
    """Why a credit memo stated positive is kept as stated (``why``, of :class:`CreditMemos`),
    for a warning naming its RMR04."""
    return (
        f"credit memo {memo.ref} (RMR01 CM) states a positive amount paid, {memo.amount_paid} "
        f"{currency} (RMR04), where a credit memo reduces what is paid; {why}: kept as "
        "stated, adding to what is paid (check the remittance with the payer)"
    )
