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

:func:`undo` takes back, the same way, an applied decision a person finds wrong (a rule's, or a
person's confirmation of the wrong invoices): the remittance then waits for a person again.
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
    PayerAlias,
    Remittance,
)
from canonical.money import Money
from canonical.store import Store
from canonical.types import utcnow
from reconciler.apply import DecisionSink, Writes
from reconciler.cascade import AUTO, EXCEPTION, Outcome
from reconciler.confirm import ConfirmError, person, returned_by
from reconciler.dismiss import one_line
from reconciler.engine import ADVICE_CONTRADICTS, RECONCILE_LEASE, REVERSAL_RULE

RULE = "reverse_payment"  # the rule of a person's reversal decision (and of an undo)
UNDONE = "decision_undone"  # the exception kind of cash whose applied decision was undone
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
            done = _reversed_by(session, exception) if exception.superseded else None
            if done is not None:
                raise ConfirmError(done)
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
        applications = _in_force(session, original.id)
        if not applications:
            raise ConfirmError(
                f"decision {decision_id}: the original payment (decision {original.id}) "
                "paid nothing that is still in force: nothing to reverse"
            )
        in_flight = None if sink is not None else _in_flight(session, original.id)
        if in_flight is not None:
            raise ConfirmError(
                f"decision {decision_id}: command {in_flight[0]} of the original payment was "
                f"sent to {in_flight[1]} and its answer is not known yet: run "
                "`arsync push`, then reverse again"
            )
        reversal = session.get(Remittance, exception.source_id)
        if reversal is None:
            raise ConfirmError(
                f"remittance {exception.source_id} of decision {decision_id} is gone"
            )
        kept = _written_off(session, original.id)
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


def undo(
    store: Store,
    ref: str,
    *,
    by: str,
    reason: str,
    tenant: str = "default",
    sink: DecisionSink | None = None,
) -> Decision:
    """Take back the applied decision of a remittance that put its cash on the wrong invoices
    (a rule's, or a person's confirmation), as ``by``, for ``reason``. ``ref`` is that decision
    or its remittance.

    In one transaction, as for a return: its applications are reversed, its invoices and the
    credit memos it netted are open again, and the outbox sink cancels the writes never sent
    and voids those written (a write in flight is only looked for). The payer it taught is
    forgotten. A decision by that person supersedes it: an ``exception`` (kind
    ``decision_undone``, rule ``reverse_payment``) naming the decision undone and why, with the
    candidates it had less the invoices undone; the remittance waits for a person again.

    Raises :class:`ConfirmError` naming the remittance and why when there is nothing to undo:
    no applied decision, one already undone, a returned payment (``--reverse``), a payment
    taken back, or cash its remittance advice contradicts (``--reverse`` on the advice's
    exception); and for a decision that wrote off deductions, or a ``by`` that is no person.
    """
    why = one_line(reason)
    # a person's decision and a reconcile run never change the same balances at once
    with lease(store, tenant, RECONCILE_LEASE) as held, store.session() as session:
        original, remittance = _applied(session, ref, tenant)
        named = f"remittance {remittance.id}"
        try:
            by = person(by, "undoes")
        except ConfirmError as exc:
            raise ConfirmError(f"{named}: {exc}") from None
        if not why:
            raise ConfirmError(f"{named}: say why decision {original.id} is undone (--undo REASON)")
        applications = _in_force(session, original.id)
        if not applications:
            raise ConfirmError(
                f"{named}: decision {original.id} applied no cash that is still in force: "
                "nothing to undo"
            )
        kept = _written_off(session, original.id)
        if kept:
            raise ConfirmError(
                f"{named}: decision {original.id} wrote off deductions with its cash "
                f"({', '.join(k['amount'] for k in kept)}); --undo does not undo write-offs: "
                "take them back in each system by hand"
            )
        in_flight = None if sink is not None else _in_flight(session, original.id)
        if in_flight is not None:
            raise ConfirmError(
                f"{named}: command {in_flight[0]} of decision {original.id} was sent to "
                f"{in_flight[1]} and its answer is not known yet: run `arsync push`, then "
                "undo again"
            )
        reversed_lines = _reopen(session, applications)
        undone = {str(line["invoice_id"]) for line in reversed_lines}
        candidates = [c for c in _candidates(session, original) if _invoices_of(c) != undone]
        evidence: dict[str, Any] = {
            "reason": why,
            "undone": original.id,
            "undone_rule": original.rule,
            "undone_by": original.decided_by,
            "replaces": original.id,
            # what the outbox sink reads to cancel or void the undone decision's writes
            "reverses_decision": original.id,
            "original_remittance": remittance.id,
            "event": f"undone by {by}: {why}",
            "applications_reversed": reversed_lines,
        }
        forgotten = _forget_payer(session, original)
        if forgotten:
            evidence["payer_forgotten"] = forgotten
        outcome = Outcome(
            EXCEPTION,
            RULE,
            0,
            exception_kind=UNDONE,
            # the systems holding this customer get the reopened invoices' state
            customer_id=original.customer_id,
            evidence=evidence,
            candidates=candidates,
        )
        writes = Writes(
            tenant=tenant, ruleset_version=original.ruleset_version, sink=sink, lease=held
        )
        new_id = writes.decide(
            source_kind="remittance",
            source_id=remittance.id,
            currency=remittance.currency,
            amount_minor=remittance.amount_minor,
            outcome=outcome,
            decided_by=by,
        )
        writes.remittances[remittance.id] = EXCEPTION
        original.superseded = True
        session.add(original)
        writes.flush(session)
        session.flush()
        return session.execute(select(Decision).where(col(Decision.id) == new_id)).scalar_one()


def _reversed_by(session: Session, exception: Decision) -> str | None:
    """Why a reversal exception a person reversed already cannot be reversed again: who did,
    and the decision that stands; None when no person's reversal replaced it."""
    history = list(
        session.execute(
            select(Decision)
            .where(
                col(Decision.tenant) == exception.tenant,
                col(Decision.source_kind) == exception.source_kind,
                col(Decision.source_id) == exception.source_id,
            )
            .order_by(col(Decision.created_at).desc())
        ).scalars()
    )
    done = next(
        (d for d in history if d.rule == RULE and d.evidence.get("replaces") == exception.id),
        None,
    )
    if done is None:
        return None
    standing = next((d for d in history if not d.superseded), None)
    now = (
        f"decision {standing.id} ({standing.status}, by {standing.decided_by}) stands"
        if standing is not None
        else "its remittance awaits the next reconcile"
    )
    return (
        f"decision {exception.id} is not an open reversal exception: it was already reversed "
        f"by {done.decided_by} (decision {done.id}); {now}"
    )


def _applied(session: Session, ref: str, tenant: str) -> tuple[Decision, Remittance]:
    """The applied decision ``ref`` names (it, or its remittance's standing one) and its
    remittance; raises :class:`ConfirmError` naming the remittance and why there is none."""
    given = session.get(Decision, ref)
    if given is not None and given.tenant == tenant:
        if given.source_kind != "remittance":
            raise ConfirmError(
                f"decision {ref} is a {given.source_kind.replace('_', ' ')}'s, not a "
                "remittance's: --undo takes back the cash of a remittance"
            )
        remittance = session.get(Remittance, given.source_id)
    else:
        given = None
        remittance = session.get(Remittance, ref)
        if remittance is None or remittance.tenant != tenant:
            raise ConfirmError(f"no decision or remittance {ref!r}")
    if remittance is None:
        raise ConfirmError(f"remittance of decision {ref} is gone")
    named = f"remittance {remittance.id}"
    history = list(
        session.execute(
            select(Decision)
            .where(
                col(Decision.tenant) == tenant,
                col(Decision.source_kind) == "remittance",
                col(Decision.source_id) == remittance.id,
            )
            .order_by(col(Decision.created_at).desc())
        ).scalars()
    )
    standing = next((d for d in history if not d.superseded), None)
    if remittance.amount_minor <= 0 or remittance.reverses:
        how = (
            f"undo the payment it takes back with arsync resolve {standing.id} "
            "--by person:NAME --reverse"
            if standing is not None
            and standing.rule == REVERSAL_RULE
            and standing.status == EXCEPTION
            else "it applied no cash, so there is nothing to undo"
        )
        raise ConfirmError(f"{named} is a returned payment (cash taken back): {how}")
    if remittance.status == REVERSED:
        raise ConfirmError(
            f"{named} was taken back by the bank and its payment reversed already: nothing to undo"
        )
    target = given if given is not None and given.superseded else standing
    undoing = next(
        (
            d
            for d in history
            if target is not None
            and d.rule == RULE
            and d.exception_kind == UNDONE
            and (d.id == target.id or d.evidence.get("undone") == target.id)
        ),
        None,
    )
    if undoing is not None:
        now = (
            f"; decision {standing.id} ({standing.status}, by {standing.decided_by}) stands"
            if standing is not None and standing.id != undoing.id
            else f": it waits for a person's decision (arsync resolve {undoing.id} "
            "--by person:NAME --invoice NUMBER)"
        )
        raise ConfirmError(
            f"{named}: decision {undoing.evidence.get('undone')} was already undone by "
            f"{undoing.decided_by} (decision {undoing.id}){now}"
        )
    if given is not None and given.superseded:
        raise ConfirmError(
            f"{named}: decision {given.id} is superseded"
            + (
                f": decision {standing.id} ({standing.status}, by {standing.decided_by}) "
                "stands; act on that one"
                if standing is not None
                else " and no decision stands yet: it awaits the next reconcile"
            )
        )
    if standing is None or standing.status != AUTO:
        state = (
            f"decision {standing.id} is {standing.status}, by {standing.decided_by}"
            if standing is not None
            else "it awaits the next reconcile"
        )
        raise ConfirmError(f"{named}: no applied decision to undo ({state})")
    back = returned_by(session, tenant, remittance.id)
    if back is not None:
        raise ConfirmError(
            f"{named} was taken back (remittance {back.source_id}): undo its payment with "
            f"arsync resolve {back.id} --by person:NAME --reverse"
        )
    advice = contradicted_by(session, tenant, standing.id)
    if advice is not None:
        # the advice's exception settles this cash: undone here, it would be left naming a
        # decision superseded, its --reverse refused, and the advice never placed again
        raise ConfirmError(
            f"{named}: its remittance advice (remittance {advice.source_id}) names other "
            f"invoices than decision {standing.id} paid (decision {advice.id}). If the advice "
            f"is right, `arsync resolve {advice.id} --by person:NAME --reverse` undoes the "
            "cash and the next reconcile applies it as the advice says; if the advice is "
            f"wrong too, close it with `arsync resolve {advice.id} --by person:NAME --dismiss "
            "REASON`, then undo"
        )
    return standing, remittance


def contradicted_by(session: Session, tenant: str, decision_id: str) -> Decision | None:
    """The open ``advice_contradicts_applied`` exception naming applied ``decision_id``."""
    for exception in session.execute(
        select(Decision).where(
            col(Decision.tenant) == tenant,
            col(Decision.rule) == ADVICE_CONTRADICTS,
            col(Decision.exception_kind) == ADVICE_CONTRADICTS,
            col(Decision.status) == EXCEPTION,
            col(Decision.superseded).is_(False),
        )
    ).scalars():
        if (exception.evidence.get("applied_decision") or {}).get("id") == decision_id:
            return exception
    return None


def _candidates(session: Session, decision: Decision) -> list[dict[str, Any]]:
    """The candidates a person saw for ``decision``'s cash: its own, else those of the
    suggestion or exception it replaced (a person's confirmation keeps none)."""
    if decision.candidates:
        return list(decision.candidates)
    replaced = decision.evidence.get("replaces")
    earlier = session.get(Decision, replaced) if replaced else None
    return list(earlier.candidates) if earlier is not None else []


def _invoices_of(candidate: dict[str, Any]) -> set[str]:
    """The invoices a candidate pays, with cash or with a credit memo."""
    lines = list(candidate.get("invoices") or [])
    return {str(line.get("id")) for line in lines} | {
        str(line.get("invoice_id")) for line in candidate.get("credits") or []
    }


def _forget_payer(session: Session, decision: Decision) -> list[str]:
    """Forget the payer's IBAN / account / name ``decision`` taught for its customer (it may
    have been the wrong customer); the kinds forgotten. Those kept as shared stay so."""
    if not decision.customer_id:
        return []
    aliases = list(
        session.execute(
            select(PayerAlias).where(
                col(PayerAlias.tenant) == decision.tenant,
                col(PayerAlias.learned_from) == decision.id,
                col(PayerAlias.customer_id) == decision.customer_id,
            )
        ).scalars()
    )
    for alias in aliases:
        session.delete(alias)
    return sorted(alias.kind for alias in aliases)


def _in_force(session: Session, decision_id: str) -> list[Application]:
    """The decision's applications still applied."""
    return list(
        session.execute(
            select(Application).where(
                col(Application.decision_id) == decision_id,
                col(Application.status) == ApplicationStatus.APPLIED,
            )
        ).scalars()
    )


def _in_flight(session: Session, decision_id: str) -> tuple[str, str] | None:
    """A write of the decision sent whose answer is not known yet: (command, system).

    The outbox sink marks such a write to be only looked for, never sent again, and its void
    waits for what the lookup finds; without a sink nothing would stop it being sent again,
    so taking the decision back waits for a push."""
    row = session.execute(
        select(col(OutboxCommand.id), col(OutboxCommand.system)).where(
            col(OutboxCommand.decision_id) == decision_id,
            col(OutboxCommand.status) == CommandStatus.SENT,
        )
    ).first()
    return None if row is None else (str(row.id), str(row.system))


def _written_off(session: Session, decision_id: str) -> list[dict[str, Any]]:
    """The deductions (a discount, a short pay) the decision wrote off."""
    return [
        {"invoice_id": a.invoice_id, "amount": _shown(a.amount_minor, a.currency)}
        for a in session.execute(
            select(Adjustment).where(col(Adjustment.decision_id) == decision_id)
        ).scalars()
    ]


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
