"""Finance ops close what needs no cash movement:
``arsync resolve ID --by person:NAME --dismiss WHY``.

A bank credit that is no customer paying (a vendor refund, a loan drawdown, an internal
transfer the bank coded as a credit), a ``duplicate_payment`` a person checked, an
``advice_contradicts_applied`` whose applied cash stays where it is, or a suggestion a person
rejects: :func:`dismiss` records that person's decision (status ``dismissed``, with the
reason) and supersedes the open one. Nothing is applied, nothing is written to any system and
no payer is learned. The remittance is ``dismissed`` from then on: a later reconcile never
decides it again (it reads only new remittances, and never reopens a person's decision).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from canonical.enums import ApplicationStatus, RemittanceStatus
from canonical.lease import lease
from canonical.models import Application, Decision
from canonical.money import Money
from canonical.store import Store
from reconciler.apply import DecisionSink, Writes
from reconciler.cascade import AUTO, EXCEPTION, SUGGESTED, Outcome
from reconciler.confirm import ConfirmError, person
from reconciler.engine import RECONCILE_LEASE, REVERSAL_RULE

DISMISSED = RemittanceStatus.DISMISSED  # the status of a person's dismissal and its remittance
RULE = "dismissed_by_person"
_OPEN = (SUGGESTED, EXCEPTION)  # what a person may dismiss


def one_line(reason: str) -> str:
    """The reason as the one line stored and shown: its whitespace and line breaks collapsed."""
    return " ".join(reason.split())


def dismiss(
    store: Store,
    decision_id: str,
    *,
    by: str,
    reason: str,
    tenant: str = "default",
    sink: DecisionSink | None = None,
) -> Decision:
    """Close the open suggestion or exception ``decision_id`` with no cash movement, as
    ``by``, for ``reason``; returns the person's decision that supersedes it.

    Raises :class:`ConfirmError` naming the decision and why for one that applied cash or
    credit (a remittance's is undone with ``--undo`` instead), one already superseded (naming
    the decision that stands), or a returned payment whose payment's applications are still
    in force. ``sink`` (the outbox) is called as for any decision and plans nothing for it.
    """
    by = person(by, "dismisses")
    why = one_line(reason)
    if not why:
        raise ConfirmError(f"decision {decision_id}: say why it is dismissed (--dismiss REASON)")
    # a person's decision and a reconcile run never change the same balances at once
    with lease(store, tenant, RECONCILE_LEASE) as held, store.session() as session:
        decision = session.get(Decision, decision_id)
        if decision is None or decision.tenant != tenant:
            raise ConfirmError(f"no decision {decision_id!r}")
        if decision.superseded:
            raise ConfirmError(_standing(session, decision))
        if decision.status == AUTO:
            applied = Money.from_minor(
                decision.applied_minor + decision.deduction_minor, decision.currency
            )
            how = (
                f"take it back with arsync resolve {decision_id} --by person:NAME --undo REASON"
                if decision.source_kind == "remittance"
                else "--undo takes back a remittance's applied cash only, not a credit memo's"
            )
            raise ConfirmError(
                f"decision {decision_id} applied {applied.amount} {decision.currency} "
                f"({decision.status}, by {decision.decided_by}): a dismissal moves no cash and "
                f"cannot undo it; {how}"
            )
        if decision.status not in _OPEN:
            raise ConfirmError(
                f"decision {decision_id} is not an open suggestion or exception "
                f"({decision.status}, by {decision.decided_by}): nothing to dismiss"
            )
        if decision.rule == REVERSAL_RULE:
            in_force = _still_paid(session, decision)
            if in_force:
                raise ConfirmError(
                    f"decision {decision_id}: the payment it takes back (decision "
                    f"{in_force}) still pays invoices: undo it with "
                    f"arsync resolve {decision_id} --by person:NAME --reverse"
                )
        evidence: dict[str, Any] = {
            "reason": why,
            "dismissed": decision.id,
            "dismissed_status": decision.status,
            "exception_kind": decision.exception_kind,
            "earlier_rule": decision.rule,
        }
        if decision.rule == REVERSAL_RULE and decision.evidence.get("original"):
            # the payment a dismissed return took back stays known: its cash is still gone
            evidence["original"] = decision.evidence["original"]
        outcome = Outcome(
            DISMISSED,
            RULE,
            100,
            # kept as it was: what the dismissed item was stays readable, and the guards that
            # read it (an advice brings no cash) still hold
            exception_kind=decision.exception_kind,
            customer_id=decision.customer_id,
            evidence=evidence,
        )
        writes = Writes(
            tenant=tenant, ruleset_version=decision.ruleset_version, sink=sink, lease=held
        )
        new_id = writes.decide(
            source_kind=decision.source_kind,
            source_id=decision.source_id,
            currency=decision.currency,
            amount_minor=decision.amount_minor,
            outcome=outcome,
            decided_by=by.strip(),
        )
        if decision.source_kind == "remittance":
            writes.remittances[decision.source_id] = DISMISSED
        decision.superseded = True
        session.add(decision)
        writes.flush(session)
        session.flush()
        return session.execute(select(Decision).where(col(Decision.id) == new_id)).scalar_one()


def _standing(session: Session, decision: Decision) -> str:
    """Why a superseded decision cannot be dismissed, naming the decision that stands."""
    current = session.execute(
        select(col(Decision.id), col(Decision.status), col(Decision.decided_by))
        .where(
            col(Decision.tenant) == decision.tenant,
            col(Decision.source_kind) == decision.source_kind,
            col(Decision.source_id) == decision.source_id,
            col(Decision.superseded).is_(False),
        )
        .order_by(col(Decision.created_at).desc())
    ).first()
    if current is None:
        return (
            f"decision {decision.id} is superseded and no decision stands yet: its "
            f"{decision.source_kind.replace('_', ' ')} awaits the next reconcile"
        )
    stands = (
        f"decision {decision.id} is superseded: decision {current.id} ({current.status}, by "
        f"{current.decided_by}) stands"
    )
    if current.status == DISMISSED:  # dismissed already (a repeat): nothing is left to do
        return f"{stands}: it is dismissed already; nothing to do"
    if current.status == RemittanceStatus.REVERSED:
        return f"{stands}: the payment is reversed already; nothing to do"
    if current.status == AUTO and decision.source_kind == "remittance":
        return (
            f"{stands} and applied its cash: a dismissal cannot undo that; take it back with "
            f"arsync resolve {current.id} --by person:NAME --undo REASON"
        )
    return f"{stands}; act on that one"


def _still_paid(session: Session, reversal: Decision) -> str | None:
    """The decision of the payment a ``returned_payment`` takes back, if its applications
    are still in force (then the return is undone with ``--reverse``, not dismissed)."""
    original = (reversal.evidence.get("original") or {}).get("decision")
    if not original:
        return None
    found = session.execute(
        select(col(Application.id)).where(
            col(Application.decision_id) == original,
            col(Application.status) == ApplicationStatus.APPLIED,
        )
    ).first()
    return str(original) if found is not None else None
