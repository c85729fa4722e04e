"""Finance ops undo a payment the bank or processor took back (a return, a chargeback).

A reversal is never applied (it would be a negative payment): the reconciler reports it as a
``returned_payment`` exception naming the original payment, its decision and what it paid.
:func:`reverse` is a person agreeing to undo it: the original decision's applications are
marked reversed and their invoices (and any credit memo the payer netted off) are open
again in arsync's book, and a decision by that person supersedes the exception. The outbox
sink then undoes the writes in the other systems (cancels what was never sent, voids what
was), in the same transaction. A write still in flight or whose reply was lost does not hold
the reversal up: the sink makes it one that is only looked for, never sent again, and its
void waits for what the lookup finds (voided if it landed, both cancelled if not).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session, col

from canonical.enums import ApplicationKind, ApplicationStatus, CommandStatus, DocumentStatus
from canonical.enums import RemittanceStatus as RS
from canonical.lease import lease
from canonical.models import (
    Adjustment,
    Application,
    CreditMemo,
    Decision,
    Invoice,
    OutboxCommand,
    Remittance,
)
from canonical.money import Money
from canonical.store import Store
from canonical.types import utcnow
from reconciler.apply import DecisionSink, Writes
from reconciler.cascade import AUTO, EXCEPTION, Outcome
from reconciler.confirm import ConfirmError, person
from reconciler.engine import ADVICE_CONTRADICTS, RECONCILE_LEASE, REVERSAL_RULE

RULE = "reverse_payment"  # the rule of a person's reversal decision
REVERSED = RS.REVERSED.value  # its status, and that of both remittances
_REVERSIBLE = {DocumentStatus.OPEN, DocumentStatus.PAID}  # a void or deleted one stays so


def reverse(
    store: Store,
    decision_id: str,
    *,
    by: str,
    tenant: str = "default",
    sink: DecisionSink | None = None,
) -> Decision:
    """Undo the payment a ``returned_payment`` reversal exception takes back, as ``by``.

    Or undo the applied decision an ``advice_contradicts_applied`` exception names (the cash
    went on other invoices than its remittance advice says): its applications are reversed
    here and voided in every system as for a return, the applied decision is superseded, and
    the cash goes back to be decided again with the advice (the next reconcile applies it
    where the advice says; the person's decision is on the advice).

    Raises :class:`ConfirmError` naming the decision and why when there is nothing to undo.
    """
    by = person(by, "reverses")
    # a person's decision and a reconcile run never change the same balances at once
    with lease(store, tenant, RECONCILE_LEASE) as held, store.session() as session:
        exception = session.get(Decision, decision_id)
        if exception is None or exception.tenant != tenant:
            raise ConfirmError(f"no decision {decision_id!r}")
        misapplied = (
            exception.exception_kind == ADVICE_CONTRADICTS and exception.rule == ADVICE_CONTRADICTS
        )
        if (
            exception.superseded
            or exception.status != EXCEPTION
            or not (
                misapplied
                or (
                    exception.exception_kind == "returned_payment"
                    and exception.rule == REVERSAL_RULE
                )
            )
        ):
            state = "superseded" if exception.superseded else exception.status
            raise ConfirmError(
                f"decision {decision_id} is not an open reversal exception "
                f"({state}, rule {exception.rule}): only a returned payment, or cash its "
                "remittance advice contradicts, can be reversed"
            )
        original_info = (
            exception.evidence.get("applied_decision" if misapplied else "original") or {}
        )
        original_id = original_info.get("id" if misapplied else "decision")
        original = session.get(Decision, original_id) if original_id else None
        if original is None:
            raise ConfirmError(
                f"decision {decision_id}: the payment it takes back was not found "
                f"({exception.evidence.get('reverses')!r}): check the bank or processor"
            )
        if original.status != AUTO or original.superseded:
            raise ConfirmError(
                f"decision {decision_id}: the original payment's decision {original.id} is "
                f"{'superseded' if original.superseded else original.status}: it applied "
                "nothing, so there is nothing to reverse"
            )
        applications = list(
            session.execute(
                select(Application).where(
                    col(Application.decision_id) == original.id,
                    col(Application.status) == ApplicationStatus.APPLIED,
                )
            ).scalars()
        )
        if not applications:
            raise ConfirmError(
                f"decision {decision_id}: the original payment (decision {original.id}) "
                "paid nothing that is still in force: nothing to reverse"
            )
        # a write whose answer is not known yet is the outbox's to settle: the sink marks it
        # to be only looked for, never sent again, and its void waits for what the lookup
        # finds. Without a sink nothing would stop it being sent again: push first then.
        in_flight = session.execute(
            select(col(OutboxCommand.id), col(OutboxCommand.system)).where(
                col(OutboxCommand.decision_id) == original.id,
                col(OutboxCommand.status) == CommandStatus.SENT,
            )
        ).first()
        if in_flight is not None and sink is None:
            raise ConfirmError(
                f"decision {decision_id}: command {in_flight.id} of the original payment was "
                f"sent to {in_flight.system} and its answer is not known yet: run "
                "`arsync push`, then reverse again"
            )
        reversal = session.get(Remittance, exception.source_id)
        if reversal is None:
            raise ConfirmError(
                f"remittance {exception.source_id} of decision {decision_id} is gone"
            )
        kept = [
            {"invoice_id": a.invoice_id, "amount": _shown(a.amount_minor, a.currency)}
            for a in session.execute(
                select(Adjustment).where(col(Adjustment.decision_id) == original.id)
            ).scalars()
        ]
        if misapplied and kept:
            # a discount or short pay was written off because this cash paid those invoices;
            # placed elsewhere, the write-off would stand with nothing to justify it
            raise ConfirmError(
                f"decision {decision_id}: the applied cash (decision {original.id}) wrote off "
                f"deductions with it ({', '.join(k['amount'] for k in kept)}); --reverse does "
                "not undo write-offs: take them back in each system, then apply the advice's "
                "invoices by hand"
            )
        reversed_lines = _reopen(session, applications)
        evidence: dict[str, Any] = {
            "replaces": decision_id,
            "reverses_decision": original.id,
            "original_remittance": original.source_id,
            "original_rule": original.rule,
            "reversal": reversal.id,
            "event": reversal.free_text,
            "applications_reversed": reversed_lines,
        }
        if misapplied:
            named = ", ".join(
                str(line.get("invoice")) for line in exception.evidence.get("advice_invoices", [])
            )
            del evidence["reversal"]
            evidence["advice"] = reversal.id
            evidence["event"] = (
                f"applied to other invoices than its remittance advice names: {named}"
            )
            evidence["next"] = "the cash is decided again with the advice at the next reconcile"
        if kept:
            evidence["deductions_kept"] = kept  # written off with the payment; not undone here
        outcome = Outcome(
            REVERSED,
            RULE,
            100,
            customer_id=original.customer_id or exception.customer_id,
            evidence=evidence,
        )
        writes = Writes(
            tenant=tenant, ruleset_version=exception.ruleset_version, sink=sink, lease=held
        )
        new_id = writes.decide(
            source_kind="remittance",
            source_id=reversal.id,
            currency=reversal.currency,
            amount_minor=reversal.amount_minor,
            outcome=outcome,
            decided_by=by,
        )
        if misapplied:
            # the advice waits to be lent to its cash again, the cash to be decided again
            writes.remittances[reversal.id] = RS.ADVICE.value
            writes.remittances[original.source_id] = RS.NEW.value
            original.superseded = True
            session.add(original)
        else:
            writes.remittances[reversal.id] = REVERSED
            writes.remittances[original.source_id] = REVERSED
        exception.superseded = True
        session.add(exception)
        writes.flush(session)
        session.flush()
        return session.execute(select(Decision).where(col(Decision.id) == new_id)).scalar_one()


def _reopen(session: Session, applications: list[Application]) -> list[dict[str, Any]]:
    """Mark the applications reversed and give their amounts back to the invoices and to
    the credit memos they took credit from; what was reversed, for the evidence."""
    now = utcnow()
    back: dict[str, int] = defaultdict(int)
    credit_back: dict[str, int] = defaultdict(int)
    lines: list[dict[str, Any]] = []
    for a in applications:
        back[a.invoice_id] += a.amount_minor
        if a.kind == ApplicationKind.CREDIT_MEMO:
            credit_back[a.source_id] += a.amount_minor
    invoices = {
        i.id: i
        for i in session.execute(select(Invoice).where(col(Invoice.id).in_(list(back)))).scalars()
    }
    for a in applications:
        line: dict[str, Any] = {
            "application": a.id,
            "kind": str(a.kind),
            "invoice_id": a.invoice_id,
            "invoice": invoices[a.invoice_id].number if a.invoice_id in invoices else None,
            "amount": _shown(a.amount_minor, a.currency),
        }
        if a.kind == ApplicationKind.CREDIT_MEMO:
            line["credit_memo_id"] = a.source_id
        lines.append(line)
    session.execute(
        update(Application)
        .where(col(Application.id).in_([a.id for a in applications]))
        .values(status=ApplicationStatus.REVERSED)
    )
    documents: list[tuple[Invoice | CreditMemo | None, int]] = [
        (session.get(Invoice, doc_id), amount) for doc_id, amount in back.items()
    ] + [(session.get(CreditMemo, doc_id), amount) for doc_id, amount in credit_back.items()]
    for doc, amount in documents:
        if doc is not None:
            doc.balance_minor = min(doc.balance_minor + amount, doc.total_minor)
            if doc.status in _REVERSIBLE:
                doc.status = DocumentStatus.OPEN if doc.balance_minor else DocumentStatus.PAID
            doc.updated_at = now
            session.add(doc)
    return lines


def _shown(minor: int, currency: str) -> str:
    return str(Money.from_minor(minor, currency).amount)
