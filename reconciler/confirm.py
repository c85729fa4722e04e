"""Finance ops decide what the reconciler could not: confirm a suggestion or name invoices.

A confirmation supersedes the earlier decision with one made by a person, applies the cash
exactly as a rule would (applications, balances, remittance status) and teaches the payer
memory, so the next payment from the same IBAN or name is recognised. Confirming the
suggested invoices carries out the whole suggestion: its amounts, the credit memos the payer
netted off and the deductions (a discount, a short pay) it writes off, each no more than the
balances left now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from canonical.enums import RemittanceStatus
from canonical.keys import document_key, split_prefix
from canonical.lease import lease
from canonical.models import Decision, Invoice, Remittance
from canonical.money import Money
from canonical.store import Store
from reconciler.apply import RULES, DecisionSink, Writes
from reconciler.book import Book, OpenItem
from reconciler.cascade import AUTO, EXCEPTION, SUGGESTED, Outcome
from reconciler.engine import ADVICE_CONTRADICTS, RECONCILE_LEASE, REVERSAL_RULE, incoming_from


class ConfirmError(ValueError):
    """The confirmation cannot be carried out; the message says why."""


_OPEN = (SUGGESTED, EXCEPTION)  # what a person may confirm
PERSON = "person:"  # who decides, when a person does: person:<name> (the rules are RULES)
NAME_THE_INVOICES = (
    "name the invoices (--invoice NUMBER, repeated for several), or close it with "
    "--dismiss REASON if it needs no cash movement"
)


def person(by: str, verb: str) -> str:
    """``by`` as a person's decision records it: ``person:<name>``. Anything else is refused:
    a decision recorded as another's (``reconciler``: the rules') would be taken back or
    counted as the rules' own."""
    who = by.strip()
    if not who.startswith(PERSON) or not who[len(PERSON) :].strip() or who == RULES:
        raise ConfirmError(f"say who {verb} as person:NAME (e.g. --by 'person:ana'), not {by!r}")
    return who


def find_invoice(
    session: Any,
    book: Book,
    number: str,
    currency: str,
    *,
    tenant: str,
    whose: str | None = None,
) -> list[OpenItem]:
    """The open invoice in ``currency`` a person means by ``number``: the one numbered so,
    else the one whose document key is its (``INV-02856``, ``inv 2856`` and ``2856`` name one
    invoice) when no other invoice, open or not, could be meant; of customer ``whose`` when
    given. Raises :class:`ConfirmError` saying what there is (none, several, one paid, one
    in another currency) when not exactly one."""
    wanted = number.strip()
    key = document_key(wanted)
    invoices = [i for i in book.invoices.values() if not i.is_credit]
    named = [i for i in invoices if i.number == wanted]
    if not named:
        # every invoice of the key, open or not: a paid INV-0100 is never read as another's 100
        stored = session.execute(
            select(col(Invoice.id), col(Invoice.number), col(Invoice.status)).where(
                col(Invoice.tenant) == tenant, col(Invoice.number_key) == key
            )
        ).all()
        open_ids = {i.id for i in invoices}
        closed = [row for row in stored if row.id not in open_ids]
        exact = [row for row in closed if row.number == wanted]
        if exact:
            raise ConfirmError(
                f"invoice {number!r} owes nothing now ({exact[0].status}): name an open "
                "invoice, or close this with --dismiss REASON if the cash pays none (a "
                "payment made twice, to refund)"
            )
        named = [i for i in invoices if key and i.key == key and _same_kind(wanted, i.number)]
        if named and closed:
            numbers = sorted({i.number for i in named} | {row.number for row in closed})
            raise ConfirmError(
                f"invoice {number!r}: several invoices have that number ({', '.join(numbers)}): "
                "name it as written in the systems"
            )
    if whose is not None:
        named = [i for i in named if i.customer_id == whose]
    found = [i for i in named if i.currency == currency]
    if len(found) == 1:
        return found
    if not found and named:
        elsewhere = sorted({i.currency for i in named})
        raise ConfirmError(
            f"invoice {number!r} is in {', '.join(elsewhere)}, the cash in {currency}: arsync "
            "converts no currency; apply it in the systems by hand, or name an invoice in "
            f"{currency}"
        )
    if found:
        raise ConfirmError(
            f"invoice {number!r}: {len(found)} open invoices in {currency} have that number "
            f"({', '.join(sorted(i.number for i in found))}): name it as written in the systems"
        )
    raise ConfirmError(f"invoice {number!r}: no open invoice in {currency} has that number")


_CREDIT_PREFIXES = ("CM", "CN", "CR", "ADJ")


def _same_kind(typed: str, number: str) -> bool:
    """Whether ``typed`` may name invoice ``number`` by their document key: not when it is
    written as another kind of document (``CM-100`` is no invoice ``100``)."""
    prefix, _ = split_prefix(typed)
    theirs, _ = split_prefix(number)
    return prefix == theirs or not any(mark in prefix for mark in _CREDIT_PREFIXES)


def confirm(
    store: Store,
    decision_id: str,
    *,
    by: str,
    invoice_numbers: list[str] | None = None,
    tenant: str = "default",
    sink: DecisionSink | None = None,
) -> Decision:
    """Apply a remittance, or a credit memo the reconciler only suggested, to the given
    invoices (default: the top candidate) as ``by``."""
    by = person(by, "confirms")
    # a person's decision and a reconcile run never change the same balances at once
    with lease(store, tenant, RECONCILE_LEASE) as held, store.session() as session:
        decision = session.get(Decision, decision_id)
        if decision is None or decision.tenant != tenant:
            raise ConfirmError(f"no decision {decision_id!r}")
        if decision.superseded and decision.source_kind == "remittance":
            raise ConfirmError(_superseded(session, decision))
        if decision.status not in _OPEN or decision.superseded:
            raise ConfirmError(_not_open(decision))
        writes = Writes(
            tenant=tenant, ruleset_version=decision.ruleset_version, sink=sink, lease=held
        )
        if decision.source_kind == "credit_memo":
            new_id = _confirm_credit_memo(session, decision, by, invoice_numbers, writes)
            return _superseded_by(session, decision, new_id, writes)
        if decision.source_kind != "remittance":
            raise ConfirmError(f"decision {decision_id} is not an open suggestion or exception")
        if decision.exception_kind == ADVICE_CONTRADICTS:
            # the advice moved no cash: its payment's cash is applied already, elsewhere
            applied = (decision.evidence.get("applied_decision") or {}).get("id")
            raise ConfirmError(
                f"decision {decision_id}: a remittance advice brings no cash; its payment is "
                f"applied by decision {applied}. To move that cash where the advice says, "
                f"undo it: arsync resolve {decision_id} --by person:NAME --reverse"
            )
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
        back = returned_by(session, tenant, remittance.id)
        if back is not None:
            raise ConfirmError(_taken_back(decision, remittance, back))
        invoice_numbers = _numbers(decision, invoice_numbers)
        book = Book.load(session, tenant)
        chosen = [
            found
            for number in invoice_numbers
            for found in find_invoice(session, book, number, remittance.currency, tenant=tenant)
        ]
        customers = {i.customer_id for i in chosen}
        if len(customers) > 1:
            # no system's payment pays two customers' invoices: nothing would be written
            raise ConfirmError(
                f"decision {decision_id}: the invoices named are of {len(customers)} customers "
                f"({', '.join(sorted(book.customer_names.get(c or '', '?') for c in customers))})"
                ": arsync applies a payment to one customer's invoices. Name one customer's "
                "(the rest stays unapplied), or record the split in the systems by hand and "
                "close this with --dismiss REASON"
            )
        top = decision.candidates[0] if decision.candidates else {}
        suggested = {line.get("id") for line in top.get("invoices", [])}
        as_suggested = bool(suggested) and {i.id for i in chosen} == suggested
        plan = _Plan(remittance.amount_minor, remittance.currency, chosen)
        if as_suggested:
            plan.carry_out(top, book)
        else:
            plan.fill()
        evidence: dict[str, Any] = {
            "confirmed": invoice_numbers,
            "replaces": decision_id,
            "earlier_rule": decision.rule,
            "earlier_status": decision.status,
            "as_suggested": as_suggested,
        }
        if plan.changed:
            evidence["changed_since_suggested"] = plan.changed
        outcome = Outcome(
            AUTO,
            "confirmed_by_person",
            100,
            customer_id=next(iter(customers)) if len(customers) == 1 else None,
            allocations=plan.allocations,
            deductions=plan.deductions,
            credits=plan.credits,
            unapplied_minor=plan.left,
            evidence=evidence,
        )
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
        return _superseded_by(session, decision, new_id, writes)


RETURNED_PAYMENT = "returned_payment"  # the exception kind of a return, and of its dismissal


def returned_by(session: Any, tenant: str, remittance_id: str) -> Decision | None:
    """The standing decision of a return (a bank's or processor's) taking back the cash of
    remittance ``remittance_id``, if any: its open ``returned_payment`` exception, or a
    person's dismissal of it (the cash is gone all the same)."""
    from reconciler.dismiss import RULE as DISMISSAL_RULE  # dismiss builds on this module

    for standing in session.execute(
        select(Decision).where(
            col(Decision.tenant) == tenant,
            # a dismissal keeps the kind of what it dismissed: only returns are read, not
            # every item a person ever dismissed
            col(Decision.exception_kind) == RETURNED_PAYMENT,
            ((col(Decision.rule) == REVERSAL_RULE) & (col(Decision.status) == EXCEPTION))
            | (col(Decision.rule) == DISMISSAL_RULE),
            col(Decision.superseded).is_(False),
        )
    ).scalars():
        if standing.rule == DISMISSAL_RULE and standing.evidence.get("earlier_rule") != (
            REVERSAL_RULE
        ):
            continue
        if (standing.evidence.get("original") or {}).get("remittance") == remittance_id:
            return standing
    return None


def _taken_back(decision: Decision, remittance: Remittance, back: Decision) -> str:
    """Why the cash of ``remittance``, which the return of exception ``back`` takes back, is
    not applied, and what a person does instead."""
    amount = Money.from_minor(remittance.amount_minor, remittance.currency)
    taken = Money.from_minor(-back.amount_minor, back.currency)
    told = (
        f"decision {decision.id}: the bank took back {taken.amount} {taken.currency} of "
        f"remittance {remittance.id} ({amount.amount} {amount.currency}; return "
        f"{back.source_id}, decision {back.id}): cash taken back is not applied. "
    )
    close = f"close both with --dismiss REASON (decisions {back.id} and {decision.id})"
    if back.currency != remittance.currency:
        return told + f"Apply what is left in the systems by hand, then {close}"
    left = remittance.amount_minor + back.amount_minor
    if left <= 0:
        return told + f"No cash is left: {close}"
    shown = Money.from_minor(left, remittance.currency)
    return told + (
        f"Apply the {shown.amount} {shown.currency} left to its invoices in the systems by "
        f"hand, then {close}"
    )


def _numbers(decision: Decision, invoice_numbers: list[str] | None) -> list[str]:
    """The invoice numbers a person named, else those of the decision's top candidate."""
    if invoice_numbers is not None:
        return invoice_numbers
    if not decision.candidates:
        raise ConfirmError(f"decision {decision.id} has no candidate: {NAME_THE_INVOICES}")
    numbers = [str(i["number"]) for i in decision.candidates[0].get("invoices", [])]
    if not numbers:
        raise ConfirmError(
            f"decision {decision.id}: its top candidate is a customer with no invoice named: "
            + NAME_THE_INVOICES
        )
    return numbers


def _superseded_by(session: Any, decision: Decision, new_id: str, writes: Writes) -> Decision:
    """Replace ``decision`` by the person's decision ``new_id`` (in ``writes``): commit both
    in this transaction, and return the new one."""
    decision.superseded = True
    session.add(decision)
    writes.flush(session)
    session.flush()
    return session.execute(select(Decision).where(col(Decision.id) == new_id)).scalar_one()


def _confirm_credit_memo(
    session: Any,
    decision: Decision,
    by: str,
    invoice_numbers: list[str] | None,
    writes: Writes,
) -> str:
    """Apply a credit memo the reconciler only suggested (the ``suggest`` policy, or a memo it
    could not place) to its customer's open invoices in its currency: the suggestion's, or
    those named, in that order, never more than each owes or the memo holds now. Returns the
    new decision's id (in ``writes``, not yet flushed)."""
    book = Book.load(session, decision.tenant)
    memo = next(
        (
            m
            for held in book.credits_by_customer.values()
            for m in held
            if m.id == decision.source_id
        ),
        None,
    )
    if memo is None or memo.balance_minor <= 0:
        raise ConfirmError(
            f"the credit memo of decision {decision.id} is no longer open: nothing to apply"
        )
    chosen: list[OpenItem] = []
    numbers = _numbers(decision, invoice_numbers)  # the suggestion's when none are named
    for number in numbers:
        try:
            chosen += find_invoice(
                session, book, number, memo.currency, tenant=decision.tenant, whose=memo.customer_id
            )
        except ConfirmError:
            find_invoice(session, book, number, memo.currency, tenant=decision.tenant)  # or raises
            raise ConfirmError(
                f"invoice {number!r} is another customer's: credit memo {memo.number} pays its "
                "own customer's invoices"
            ) from None
    left = memo.balance_minor
    allocations: list[tuple[OpenItem, int]] = []
    for item in chosen:
        take = min(left, item.balance_minor)
        if take > 0:
            allocations.append((item, take))
            left -= take
    if not allocations:
        raise ConfirmError(f"credit memo {memo.number}: the invoices named owe nothing now")
    outcome = Outcome(
        AUTO,
        "confirmed_by_person",
        100,
        customer_id=memo.customer_id,
        allocations=allocations,
        unapplied_minor=left,
        evidence={
            "credit_memo": memo.number,
            "confirmed": numbers,
            "replaces": decision.id,
            "earlier_rule": decision.rule,
            "earlier_status": decision.status,
        },
    )
    new_id = writes.decide(
        source_kind="credit_memo",
        source_id=memo.id,
        currency=memo.currency,
        amount_minor=memo.balance_minor,
        outcome=outcome,
        decided_by=by,
    )
    writes.close_credit(memo, left)
    return new_id


@dataclass
class _Plan:
    """What a confirmation applies: cash, credit memos and deductions over the chosen invoices,
    never more than an invoice owes, a credit memo holds or the payment brings."""

    left: int  # cash not yet applied
    currency: str
    chosen: list[OpenItem]
    allocations: list[tuple[OpenItem, int]] = field(default_factory=list)
    credits: list[tuple[OpenItem, OpenItem, int]] = field(default_factory=list)
    deductions: list[tuple[OpenItem, int, str]] = field(default_factory=list)
    changed: list[dict[str, str]] = field(default_factory=list)  # lines cut short, and why
    owed: dict[str, int] = field(init=False)  # what each chosen invoice still owes

    def __post_init__(self) -> None:
        self.owed = {item.id: item.balance_minor for item in self.chosen}

    def fill(self) -> None:
        """The cash over the invoices a person named, in that order."""
        for item in self.chosen:
            self._cash(item, self.owed[item.id])

    def carry_out(self, candidate: dict[str, Any], book: Book) -> None:
        """The candidate as suggested: its cash per invoice, then its credit memos, then its
        deductions, each cut to the balances left now (and the cut named)."""
        invoices = {item.id: item for item in self.chosen}
        for line in candidate.get("invoices", []):
            item = invoices[line["id"]]
            wanted = self._minor(line.get("amount"), self.owed[item.id])
            self._note(f"cash on {item.number}", wanted, self._cash(item, wanted))
        memos = {m.id: m for held in book.credits_by_customer.values() for m in held}
        holds = {memo_id: memo.balance_minor for memo_id, memo in memos.items()}
        for line in candidate.get("credits", []):
            memo, target = memos.get(line["id"]), invoices.get(line["invoice_id"])
            wanted, take = self._minor(line["amount"], 0), 0
            if memo is not None and target is not None and memo.currency == self.currency:
                take = max(min(wanted, holds[memo.id], self.owed[target.id]), 0)
                if take:
                    self.credits.append((memo, target, take))
                    holds[memo.id] -= take
                    self.owed[target.id] -= take
            self._note(
                f"credit memo {line['credit_memo']} on {line['invoice_number']}", wanted, take
            )
        for line in candidate.get("deductions", []):
            target = invoices.get(line["invoice_id"])
            wanted, take = self._minor(line["amount"], 0), 0
            if target is not None:
                take = max(min(wanted, self.owed[target.id]), 0)
                if take:
                    self.deductions.append((target, take, str(line["reason_code"])))
                    self.owed[target.id] -= take
            self._note(f"{line['reason_code']} on {line['invoice_number']}", wanted, take)

    def _cash(self, item: OpenItem, wanted: int) -> int:
        take = max(min(wanted, self.owed[item.id], self.left), 0)
        if take:
            self.allocations.append((item, take))
            self.owed[item.id] -= take
            self.left -= take
        return take

    def _minor(self, amount: Any, default: int) -> int:
        return default if amount in (None, "") else Money(str(amount), self.currency).minor

    def _note(self, line: str, wanted: int, applied: int) -> None:
        if applied != wanted:
            self.changed.append(
                {
                    "line": line,
                    "suggested": str(Money.from_minor(wanted, self.currency).amount),
                    "applied": str(Money.from_minor(applied, self.currency).amount),
                    "why": "no more than the invoice owes, the credit memo holds and the cash "
                    "left now",
                }
            )


def _not_open(decision: Decision) -> str:
    """Why a decision that is no open suggestion or exception cannot be confirmed: a dismissal
    names who closed it and why (it left nothing to apply)."""
    if decision.status == RemittanceStatus.DISMISSED and not decision.superseded:
        reason = (decision.evidence or {}).get("reason") or "no reason given"
        return (
            f"decision {decision.id} was dismissed by {decision.decided_by} ({reason}): "
            "closed with no cash; nothing to apply"
        )
    return (
        f"decision {decision.id} is not an open suggestion or exception "
        f"({decision.status}, by {decision.decided_by})"
    )


def _superseded(session: Any, decision: Decision) -> str:
    """Why a superseded decision cannot be confirmed, naming the one that replaced it (its
    payment was decided again: late advice, or the invoice or payer it waited for arrived)."""
    current = session.execute(
        select(col(Decision.id), col(Decision.status), col(Decision.decided_by)).where(
            col(Decision.tenant) == decision.tenant,
            col(Decision.source_kind) == "remittance",
            col(Decision.source_id) == decision.source_id,
            col(Decision.superseded).is_(False),
        )
    ).first()
    if current is None:
        return f"decision {decision.id} was replaced; its payment awaits the next reconcile"
    if current.decided_by != RULES:
        return (
            f"decision {decision.id} was already resolved by {current.decided_by}: decision "
            f"{current.id} ({current.status}) settles its payment"
        )
    return (
        f"decision {decision.id} was replaced by decision {current.id} ({current.status}) when "
        "its payment was decided again: see that one"
    )
