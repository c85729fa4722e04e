"""Writing a decision: the Decision row, its applications and deductions, new balances.

A decision and everything it changes commit together; a crash never half-applies cash.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlmodel import Session

from canonical.enums import ApplicationKind, ApplicationStatus, DocumentStatus
from canonical.ids import new_id
from canonical.keys import name_key
from canonical.models import Adjustment, Application, CreditMemo, Decision, Invoice, PayerAlias
from canonical.types import utcnow
from reconciler.book import Book
from reconciler.cascade import AUTO, Incoming, Outcome


def record_decision(
    session: Session,
    *,
    tenant: str,
    source_kind: str,
    source_id: str,
    currency: str,
    amount_minor: int,
    outcome: Outcome,
    ruleset_version: str,
    decided_by: str = "reconciler",
) -> Decision:
    """Store a decision; when it is auto-applied, apply it (balances, applications)."""
    decision = Decision(
        tenant=tenant,
        source_kind=source_kind,
        source_id=source_id,
        status=outcome.status,
        exception_kind=outcome.exception_kind,
        rule=outcome.rule,
        ruleset_version=ruleset_version,
        confidence=max(0, min(100, outcome.confidence)),
        customer_id=outcome.customer_id,
        currency=currency,
        amount_minor=amount_minor,
        applied_minor=outcome.applied_minor if outcome.status == AUTO else 0,
        deduction_minor=outcome.deduction_minor if outcome.status == AUTO else 0,
        unapplied_minor=outcome.unapplied_minor if outcome.status == AUTO else amount_minor,
        evidence=outcome.evidence,
        candidates=outcome.candidates,
        decided_by=decided_by,
    )
    session.add(decision)
    if outcome.status == AUTO:
        apply_outcome(session, tenant, source_kind, source_id, currency, outcome, decision.id)
    return decision


def apply_outcome(
    session: Session,
    tenant: str,
    source_kind: str,
    source_id: str,
    currency: str,
    outcome: Outcome,
    decision_id: str,
) -> None:
    """Applications, deductions and the invoices' new balances for an applied decision."""
    now = utcnow()
    kind = (
        ApplicationKind.CREDIT_MEMO if source_kind == "credit_memo" else ApplicationKind.REMITTANCE
    )
    rows: list[dict[str, Any]] = []
    owed: dict[str, int] = {}
    for item, amount in outcome.allocations:
        if amount <= 0:
            continue
        rows.append(
            {
                "id": new_id(),
                "tenant": tenant,
                "kind": kind,
                "source_id": source_id,
                "invoice_id": item.id,
                "currency": currency,
                "amount_minor": amount,
                "applied_on": now.date(),
                "origin": "reconciler",
                "decision_id": decision_id,
                "status": ApplicationStatus.APPLIED,
                "created_at": now,
            }
        )
        owed[item.id] = owed.get(item.id, 0) + amount
    if rows:
        session.execute(Application.__table__.insert(), rows)  # type: ignore[attr-defined]
    deductions = [
        {
            "id": new_id(),
            "tenant": tenant,
            "invoice_id": item.id,
            "source_kind": source_kind,
            "source_id": source_id,
            "currency": currency,
            "amount_minor": amount,
            "reason_code": reason[:32],
            "decision_id": decision_id,
            "created_at": now,
        }
        for item, amount, reason in outcome.deductions
        if amount > 0
    ]
    if deductions:
        session.execute(Adjustment.__table__.insert(), deductions)  # type: ignore[attr-defined]
        for row in deductions:
            owed[row["invoice_id"]] = owed.get(row["invoice_id"], 0) + row["amount_minor"]
    items = {item.id: item for item, _ in outcome.allocations}
    items.update({item.id: item for item, _, _ in outcome.deductions})
    for invoice_id, paid in owed.items():
        item = items[invoice_id]
        item.balance_minor = max(item.balance_minor - paid, 0)
        values: dict[str, Any] = {"balance_minor": item.balance_minor, "updated_at": now}
        if item.balance_minor == 0:
            values["status"] = DocumentStatus.PAID
        session.execute(update(Invoice).where(Invoice.id == invoice_id).values(**values))  # type: ignore[arg-type]


def close_credit(session: Session, memo_id: str, balance_minor: int) -> None:
    values: dict[str, Any] = {"balance_minor": balance_minor, "updated_at": utcnow()}
    if balance_minor == 0:
        values["status"] = DocumentStatus.PAID
    session.execute(update(CreditMemo).where(CreditMemo.id == memo_id).values(**values))  # type: ignore[arg-type]


def learn(
    session: Session,
    book: Book,
    tenant: str,
    remittance: Incoming,
    customer_id: str,
    decision_id: str,
) -> None:
    """Remember the payer's IBAN / account / name for this customer (first answer wins)."""
    for kind, value in (
        ("iban", remittance.payer_iban),
        ("account", remittance.payer_account),
        ("name", name_key(remittance.payer_name)),
    ):
        if not value or (kind, value) in book.aliases:
            continue
        if kind == "name" and len(book.by_name.get(value, [])) > 1:
            continue  # several customers share this name: a name says nothing
        book.aliases[(kind, value)] = customer_id
        session.add(
            PayerAlias(
                tenant=tenant,
                kind=kind,
                value=value,
                customer_id=customer_id,
                learned_from=decision_id,
            )
        )
