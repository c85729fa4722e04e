"""Invoiced payment -> PaymentIn with its ``applied_to`` entries.

``invoice`` entries apply cash; a ``credit_note`` entry with ``document_type: invoice``
applies the credit note to the invoice; ``credit`` is the unapplied remainder kept as
customer credit; ``applied_credit`` and ``convenience_fee`` move no invoice balance here.
"""

from __future__ import annotations

from canonical.enums import PaymentStatus
from canonical.records import AppliedIn, PaymentIn
from connectors.base import RawRecord
from mappings.base import F, MappingContext, MappingError, extract, money, optional_text, unix_date
from mappings.invoiced.common import currency, customer_ref, origin

FIELDS = {
    "received_on": F("date", unix_date, required=False),
    "method": F("method", optional_text, required=False),
    "reference": F("reference", optional_text, required=False),
    "memo": F("notes", optional_text, required=False),
}


def to_canonical(record: RawRecord, ctx: MappingContext) -> PaymentIn:
    payload = dict(record.payload)
    code = currency(record, ctx)
    if record.deleted:
        return PaymentIn(
            **origin(record),
            customer_remote_id=customer_ref(record),
            amount=money(payload.get("amount") or 0, code, "amount"),
            status=PaymentStatus.DELETED,
        )
    applied: list[AppliedIn] = []
    unapplied = money(0, code, "applied_to")
    for index, entry in enumerate(payload.get("applied_to") or []):
        where = f"applied_to.{index}"
        if not isinstance(entry, dict):
            raise MappingError(where, "is not an object")
        kind = entry.get("type")
        amount = money(entry.get("amount"), code, f"{where}.amount")
        if kind == "invoice":
            if entry.get("invoice") is None:
                raise MappingError(f"{where}.invoice", "is required for an invoice entry")
            applied.append(
                AppliedIn(target="invoice", target_remote_id=str(entry["invoice"]), amount=amount)
            )
        elif kind == "credit_note" and entry.get("document_type", "invoice") == "invoice":
            if entry.get("credit_note") is None or entry.get("invoice") is None:
                raise MappingError(where, "a credit note entry needs credit_note and invoice")
            applied.append(
                AppliedIn(
                    target="credit_memo", target_remote_id=str(entry["credit_note"]), amount=amount
                )
            )
            applied.append(
                AppliedIn(target="invoice", target_remote_id=str(entry["invoice"]), amount=amount)
            )
        elif kind == "credit":
            unapplied = unapplied + amount
    return PaymentIn(
        **origin(record),
        **extract(payload, FIELDS),
        customer_remote_id=customer_ref(record),
        amount=money(payload.get("amount"), code, "amount"),
        unapplied=unapplied,
        status=PaymentStatus.VOID if payload.get("voided") else PaymentStatus.POSTED,
        applied=applied,
    )
