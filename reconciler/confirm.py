"""Finance ops decide what the reconciler could not: confirm a suggestion or name invoices.

A confirmation supersedes the earlier decision with one made by a person, applies the cash
exactly as a rule would (applications, balances, remittance status) and teaches the payer
memory, so the next payment from the same IBAN or name is recognised.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from canonical.models import Decision, Remittance
from canonical.store import Store
from reconciler.apply import DecisionSink, Writes
from reconciler.book import Book, OpenItem
from reconciler.cascade import AUTO, Outcome
from reconciler.engine import incoming_from


class ConfirmError(ValueError):
    """The confirmation cannot be carried out; the message says why."""


def confirm(
    store: Store,
    decision_id: str,
    *,
    by: str,
    invoice_numbers: list[str] | None = None,
    tenant: str = "default",
    sink: DecisionSink | None = None,
) -> Decision:
    """Apply a remittance to the given invoices (default: the top candidate) as ``by``."""
    if not by.strip():
        raise ConfirmError("say who confirms (e.g. --by 'person:ana')")
    with store.session() as session:
        decision = session.get(Decision, decision_id)
        if decision is None or decision.tenant != tenant:
            raise ConfirmError(f"no decision {decision_id!r}")
        if decision.superseded or decision.status == AUTO or decision.source_kind != "remittance":
            raise ConfirmError(f"decision {decision_id} is not an open suggestion or exception")
        remittance = session.get(Remittance, decision.source_id)
        if remittance is None:
            raise ConfirmError(f"remittance {decision.source_id} of decision {decision_id} is gone")
        if remittance.amount_minor <= 0:
            # cash taken back (a return, a chargeback) is never applied: applying it would
            # send a negative payment to every system
            raise ConfirmError(
                f"decision {decision_id}: remittance {remittance.id} takes cash back "
                f"({remittance.amount}"
                + (f", reversing {remittance.reverses}" if remittance.reverses else "")
                + "); it cannot be applied: reverse the original payment's applications in "
                "the systems (the report names them)"
            )
        if invoice_numbers is None:
            if not decision.candidates:
                raise ConfirmError(f"decision {decision_id} has no candidate: name the invoices")
            invoice_numbers = [i["number"] for i in decision.candidates[0].get("invoices", [])]
        book = Book.load(session, tenant)
        chosen: list[OpenItem] = []
        for number in invoice_numbers:
            matches = [
                i
                for i in book.invoices.values()
                if i.number == number and i.currency == remittance.currency
            ]
            if len(matches) != 1:
                raise ConfirmError(
                    f"invoice {number!r}: {len(matches)} open invoices in "
                    f"{remittance.currency} have that number"
                )
            chosen.append(matches[0])
        left = remittance.amount_minor
        allocations: list[tuple[OpenItem, int]] = []
        for item in chosen:
            take = min(item.balance_minor, left)
            if take > 0:
                allocations.append((item, take))
                left -= take
        customers = {i.customer_id for i in chosen}
        outcome = Outcome(
            AUTO,
            "confirmed_by_person",
            100,
            customer_id=next(iter(customers)) if len(customers) == 1 else None,
            allocations=allocations,
            unapplied_minor=left,
            evidence={
                "confirmed": invoice_numbers,
                "replaces": decision_id,
                "earlier_rule": decision.rule,
                "earlier_status": decision.status,
            },
        )
        writes = Writes(tenant=tenant, ruleset_version=decision.ruleset_version, sink=sink)
        new_id = writes.decide(
            source_kind="remittance",
            source_id=remittance.id,
            currency=remittance.currency,
            amount_minor=remittance.amount_minor,
            outcome=outcome,
            decided_by=by,
        )
        writes.remittances[remittance.id] = AUTO
        if outcome.customer_id:
            writes.learn(book, incoming_from(remittance), outcome.customer_id, new_id)
        decision.superseded = True
        session.add(decision)
        writes.flush(session)
        session.flush()
        confirmed = session.execute(select(Decision).where(col(Decision.id) == new_id)).scalar_one()
        return confirmed
