"""Salesforce payment with its application rows -> PaymentIn.

A payment record carries its applications in the child subquery (``Payment_Applications__r``
or ``PaymentLinesInvoice``); rows flagged as unapplied are reversals and are left out. In
Revenue Cloud, unapplying a line adds a line of ``Type`` ``Unapplied`` (its ``HasBeenUnapplied``
is the picklist value ``NA``) and sets the original line's ``HasBeenUnapplied`` to ``Yes``:
both lines are left out, so the pair applies nothing. A row
naming a credit memo (custom objects) means the credit memo, not cash, pays the invoice: it
yields a credit-memo entry and an invoice entry of the same amount. In Revenue Cloud such an
application is its own object (``CreditMemoInvApplication``), mapped to a zero-amount
payment with those two entries.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from canonical.enums import PaymentStatus
from canonical.money import Money
from canonical.records import AppliedIn, PaymentIn
from connectors.base import RawRecord
from mappings.base import MappingContext, MappingError, boolean
from mappings.salesforce.common import (
    amount,
    currency,
    date_of,
    links,
    optional_amount,
    origin,
    same_currency,
    schema_for,
    text_of,
    value,
    zero,
)
from mappings.salesforce.schema import ApplicationSpec, CreditApplicationSpec, PaymentSpec


def to_canonical(record: RawRecord, ctx: MappingContext) -> PaymentIn:
    if record.deleted:
        return PaymentIn(
            **origin(record),
            customer_remote_id=None,
            amount=zero(ctx),
            status=PaymentStatus.DELETED,
        )
    schema = schema_for(record, ctx)
    credit = schema.credit_application
    if credit is not None and record.object_type == credit.sobject:
        return _credit_application(record, credit, ctx)
    return _payment(record, schema.payment, ctx)


def _payment(record: RawRecord, spec: PaymentSpec, ctx: MappingContext) -> PaymentIn:
    payload = record.payload
    code = currency(payload, spec.currency, ctx)
    total = amount(payload, spec.amount, code)
    applied = _applications(payload, spec.applications, code, spec.currency)
    status = _status(payload, spec)
    unapplied = optional_amount(payload, spec.unapplied, code)
    if status is not PaymentStatus.POSTED:
        unapplied = Money.zero(code)  # no cash moved: nothing is left to apply
    elif unapplied is None:
        cash = [a.amount for a in applied if a.target == "invoice"]
        taken = [a.amount for a in applied if a.target == "credit_memo"]
        unapplied = total - sum(cash, Money.zero(code)) + sum(taken, Money.zero(code))
    return PaymentIn(
        **origin(record),
        links=links(payload, spec.links),
        customer_remote_id=text_of(payload, spec.account),
        amount=total,
        unapplied=unapplied,
        received_on=date_of(payload, spec.date, ctx),
        method=text_of(payload, spec.method),
        reference=text_of(payload, spec.reference) or text_of(payload, spec.number),
        status=status,
        applied=applied,
    )


def _status(payload: Mapping[str, Any], spec: PaymentSpec) -> PaymentStatus:
    wire = text_of(payload, spec.status)
    if not spec.status or wire is None:
        return PaymentStatus.POSTED
    mapped = spec.status_map.get(wire)
    if mapped is None:
        known = ", ".join(sorted(spec.status_map)) or "none configured"
        raise MappingError(spec.status, f"unknown status {wire!r} (configured: {known})")
    try:
        return PaymentStatus(mapped)
    except ValueError as exc:
        raise MappingError(spec.status, f"status_map gives {mapped!r}: {exc}") from exc


def _applications(
    payload: Mapping[str, Any], spec: ApplicationSpec, code: str, currency_field: str | None
) -> list[AppliedIn]:
    """The payment's application rows, in the payment's currency (a row whose own
    ``currency_field`` says otherwise is refused, naming it). Every credit row's pair (the
    memo, then the invoice it pays) comes before the invoices paid in cash: the store pays a
    payment's invoice entries from its credits in order before its cash."""
    children = value(payload, spec.relationship)
    if children is None:
        return []
    if not isinstance(children, (dict, Mapping)) or not isinstance(children.get("records"), list):
        raise MappingError(spec.relationship, "expected a subquery result with records")
    credited: list[AppliedIn] = []
    paid: list[AppliedIn] = []
    for index, row in enumerate(children["records"]):
        where = f"{spec.relationship}.records.{index}"
        if _reversed(row, spec.line_type, spec.reversing_types, spec.unapplied_flag, where):
            continue
        same_currency(row, currency_field, code, where)
        share = amount(row, spec.amount, code) if value(row, spec.amount) is not None else None
        if share is None:
            raise MappingError(f"{where}.{spec.amount}", "is required but missing")
        memo = text_of(row, spec.credit_memo)
        invoice = text_of(row, spec.invoice)
        if not memo and not invoice:
            raise MappingError(f"{where}.{spec.invoice}", "names no invoice or credit memo")
        entries = credited if memo else paid
        if memo:
            entries.append(AppliedIn(target="credit_memo", target_remote_id=memo, amount=share))
        if invoice:
            entries.append(AppliedIn(target="invoice", target_remote_id=invoice, amount=share))
    return credited + paid


def _credit_application(
    record: RawRecord, spec: CreditApplicationSpec, ctx: MappingContext
) -> PaymentIn:
    payload = record.payload
    code = currency(payload, spec.currency, ctx)
    share = amount(payload, spec.amount, code)
    memo = text_of(payload, spec.credit_memo)
    invoice = text_of(payload, spec.invoice)
    if not memo:
        raise MappingError(spec.credit_memo, "is required but missing")
    if not invoice:
        raise MappingError(spec.invoice, "is required but missing")
    reversed_ = _reversed(payload, spec.line_type, spec.reversing_types, spec.unapplied_flag, "")
    applied = (
        []
        if reversed_
        else [
            AppliedIn(target="credit_memo", target_remote_id=memo, amount=share),
            AppliedIn(target="invoice", target_remote_id=invoice, amount=share),
        ]
    )
    return PaymentIn(
        **origin(record),
        links=links(payload, spec.links),
        customer_remote_id=text_of(payload, spec.account),
        amount=Money(Decimal(0), code),
        unapplied=Money(Decimal(0), code),
        received_on=date_of(payload, spec.date, ctx),
        method="credit",
        status=PaymentStatus.VOID if reversed_ else PaymentStatus.POSTED,
        applied=applied,
    )


NOT_APPLICABLE = "NA"  # HasBeenUnapplied of an Unapplied line


def _reversed(
    row: Mapping[str, Any],
    type_field: str | None,
    reversing_types: tuple[str, ...],
    flag: str | None,
    where: str,
) -> bool:
    """Whether an application line applies nothing: a line whose type is one that reverses
    another (``Unapplied`` in Revenue Cloud; the schema names the org's values), or an applied
    line whose unapplied flag is set (a checkbox, or the ``Yes`` / ``No`` / ``NA`` picklist of
    Revenue Cloud, where ``NA`` marks an Unapplied line)."""
    if type_field and text_of(row, type_field) in reversing_types:
        return True
    raw = value(row, flag)
    if raw is None:
        return False
    if isinstance(raw, str) and raw.strip() == NOT_APPLICABLE:
        return True
    try:
        return boolean(raw)
    except ValueError as exc:
        raise MappingError(f"{where}.{flag}" if where else str(flag), str(exc)) from exc
