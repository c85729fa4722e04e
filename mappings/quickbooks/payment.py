"""QuickBooks Online Payment -> PaymentIn, with its applications from ``Line[].LinkedTxn``.

A line linking an Invoice pays it; a line linking a CreditMemo takes that credit (a
zero-total Payment with one of each applies a credit memo to an invoice). Lines linking
other transaction types (journal entries, deposits) are not receivables and are skipped, and
so are zero-amount lines (a voided payment keeps its lines with amounts of zero).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from canonical.enums import PaymentStatus
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


def applications(payload: Mapping[str, Any], code: str) -> list[AppliedIn]:
    lines = payload.get("Line") or []
    if not isinstance(lines, list):
        raise MappingError("Line", "is not a list")
    applied: list[AppliedIn] = []
    for index, line in enumerate(lines):
        if not isinstance(line, Mapping):
            raise MappingError(f"Line.{index}", "is not an object")
        links = [
            link
            for link in line.get("LinkedTxn") or []
            if isinstance(link, Mapping) and link.get("TxnType") in TARGETS
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
        applied.append(
            AppliedIn(
                target=TARGETS[links[0]["TxnType"]],  # type: ignore[arg-type]
                target_remote_id=str(target_id),
                amount=share,
            )
        )
    return applied


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
        applied=applications(payload, code),
    )
