"""Invoiced payment -> PaymentIn with its ``applied_to`` entries.

* ``invoice``: cash applied to the invoice.
* ``credit_note`` with ``document_type: invoice``: the credit note applied to the invoice
  (two applications: taken from the credit memo, given to the invoice). One naming no
  document at all moves the credit note's balance to the customer's credit balance (how
  Invoiced marks a credit note paid by issuing a credit for it): unapplied as far as invoices
  go, and no application (the credit note's own balance shows it used).
* ``applied_credit`` with an invoice: the customer's credit balance applied to the invoice.
  That credit is no cash of the payment (a payment spending only credit has an amount of
  0): a ``credit`` application (``credit_balance:<customer>``) pays the invoice, so the store
  never counts it as cash the payment applied.
* ``credit``: cash put on the customer's credit balance — unapplied as far as invoices go,
  like the payment's own ``balance``.
* ``convenience_fee`` and ``estimate`` deposits touch no invoice.

``document_type`` ("one of ``estimate`` or ``invoice``, used with ``type=credit_note`` or
``type=applied_credit``") may be absent or null: the entry then goes to the document it
names. An entry for an invoice that names none is refused, naming the field.

A voided payment keeps its ``amount`` and ``balance`` (the API reference's void example):
it maps as void with nothing unapplied, since no cash is left to apply. So does a payment
processed through Invoiced whose ``charge`` failed (its ``status`` on the gateway): no cash
came in. A pending charge (ACH not yet cleared) is a payment Invoiced has applied; should it
fail, the payment changes and the next pull reads it again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from canonical.enums import PaymentStatus
from canonical.money import Money
from canonical.records import AppliedIn, PaymentIn
from connectors.base import RawRecord
from mappings.base import (
    F,
    MappingContext,
    MappingError,
    extract,
    money,
    optional_text,
    unix_datetime,
)
from mappings.invoiced.common import company_days, currency, customer_id, customer_ref, origin

FIELDS = {
    "received_on": F("date", unix_datetime, required=False),
    "method": F("method", optional_text, required=False),
    "reference": F("reference", optional_text, required=False),
    "memo": F("notes", optional_text, required=False),
}
IGNORED = ("convenience_fee", "estimate")


def _document(entry: Mapping[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if value in (None, ""):
        raise MappingError(f"{where}.{key}", f"is required for a {entry.get('type')} entry")
    return str(value)


def document_type(entry: Mapping[str, Any]) -> str | None:
    """What a ``credit_note`` or ``applied_credit`` entry is applied to: its ``document_type``,
    else the document it names (only an ``estimate`` id: an estimate), else None."""
    kind = entry.get("document_type")
    if kind not in (None, ""):
        return str(kind)
    if entry.get("invoice"):
        return "invoice"
    return "estimate" if entry.get("estimate") else None


def applications(payload: Mapping[str, Any], code: str) -> tuple[list[AppliedIn], Money]:
    """The invoice, credit memo and credit balance applications, and the amount put on
    credit balance. Every credit's pair of entries (the credit, then the invoice it pays)
    comes before any invoice paid in cash: the store pays a payment's invoice entries from
    its credits in order before its cash, so this keeps each credit on its own invoice."""
    credited: list[AppliedIn] = []
    paid: list[AppliedIn] = []
    balance_ref = f"credit_balance:{customer_id(payload) or ''}"
    to_credit = money(0, code, "applied_to")
    entries = payload.get("applied_to") or []
    if not isinstance(entries, list):
        raise MappingError("applied_to", "is not a list")
    for index, entry in enumerate(entries):
        where = f"applied_to.{index}"
        if not isinstance(entry, dict):
            raise MappingError(where, "is not an object")
        kind = entry.get("type")
        amount = money(entry.get("amount"), code, f"{where}.amount")
        if kind == "invoice":
            invoice = _document(entry, "invoice", where)
            paid.append(AppliedIn(target="invoice", target_remote_id=invoice, amount=amount))
        elif kind == "credit_note":
            note = _document(entry, "credit_note", where)
            target = document_type(entry)
            if target is None:  # to the customer's credit balance: no invoice is paid
                to_credit = to_credit + amount
                continue
            if target != "invoice":
                continue  # applied to an estimate: no invoice balance moves
            invoice = _document(entry, "invoice", where)
            credited.append(AppliedIn(target="credit_memo", target_remote_id=note, amount=amount))
            credited.append(AppliedIn(target="invoice", target_remote_id=invoice, amount=amount))
        elif kind == "applied_credit":
            if document_type(entry) in ("invoice", None):  # naming none: refused below
                invoice = _document(entry, "invoice", where)
                credited.append(
                    AppliedIn(target="credit", target_remote_id=balance_ref, amount=amount)
                )
                credited.append(
                    AppliedIn(target="invoice", target_remote_id=invoice, amount=amount)
                )
        elif kind == "credit":
            to_credit = to_credit + amount
        elif kind not in IGNORED:
            raise MappingError(f"{where}.type", f"unknown application type {kind!r}")
    return credited + paid, to_credit


def to_canonical(record: RawRecord, ctx: MappingContext) -> PaymentIn:
    payload = record.payload
    code = currency(record, ctx)
    if record.deleted:
        return PaymentIn(
            **origin(record),
            customer_remote_id=customer_ref(record),
            amount=money(payload.get("amount") or 0, code, "amount"),
            status=PaymentStatus.DELETED,
        )
    amount = money(payload.get("amount"), code, "amount")
    applied, to_credit = applications(payload, code)
    balance = money(payload.get("balance") or 0, code, "balance")
    charge = payload.get("charge")
    failed = isinstance(charge, (dict, Mapping)) and charge.get("status") == "failed"
    void = payload.get("voided") is True or failed
    return PaymentIn(
        **origin(record),
        **company_days(extract(payload, FIELDS), ctx, "received_on"),
        customer_remote_id=customer_ref(record),
        amount=amount,
        unapplied=money(0, code, "balance") if void else balance + to_credit,
        status=PaymentStatus.VOID if void else PaymentStatus.POSTED,
        applied=applied,
    )
