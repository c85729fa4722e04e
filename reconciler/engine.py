"""``reconcile()``: new remittances through the cascade, then open credit memos, incrementally.

Only remittances not yet decided are read; the open book is loaded once. Running it twice in
a row changes nothing the second time.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Row, Table, select
from sqlmodel import Session, col

from canonical.batch_gc import frozen_heap, loading_without_gc
from canonical.enums import ApplicationStatus, RemittanceStatus
from canonical.keys import document_key, name_key
from canonical.models import Application, CreditMemo, Decision, Invoice, Remittance
from canonical.money import Money
from canonical.store import Store
from canonical.types import utcnow
from reconciler.apply import DecisionSink, Writes
from reconciler.book import Book, OpenItem, Scope, open_credit
from reconciler.cascade import AUTO, EXCEPTION, SUGGESTED, Cascade, Incoming, Outcome
from reconciler.references import (
    credit_prefix,
    payer_behind,
    read_references,
    rf_reference,
    text_tokens,
)
from reconciler.rules import RuleSet, load_rules

log = logging.getLogger("arsync.reconciler")

BATCH = 2000
REMITTANCE: Table = Remittance.__table__  # type: ignore[attr-defined]
DECISION: Table = Decision.__table__  # type: ignore[attr-defined]
SCOPED_LOAD_LIMIT = 5000  # up to this many new remittances, load only what they can touch
DUPLICATE_WINDOW_DAYS = 5
LEARN_FROM_CONFIDENCE = 95
REVERSAL_RULE = "reversal"  # the rule of a returned_payment exception for cash taken back
NOT_INCOMING_CASH = "not_incoming_cash"  # rule and exception kind of a zero or negative amount
CREDIT_MEMOS_HELD = "credit_memos_held"  # evidence: memos a pending remittance names


@dataclass
class ReconcileSummary:
    """What a reconcile run decided."""

    remittances: int = 0
    auto_applied: int = 0
    suggested: int = 0
    exceptions: Counter[str] = field(default_factory=Counter)
    credit_memos_applied: int = 0
    credit_memos_suggested: int = 0
    reopened: int = 0  # cash decided before its remittance advice arrived, decided again
    reversals: int = 0  # cash taken back (chargebacks, failures, returns): each for a person
    cash: dict[str, dict[str, int]] = field(default_factory=dict)  # currency -> minor totals
    ruleset_version: str = ""

    @property
    def match_rate(self) -> Decimal:
        if not self.remittances:
            return Decimal(0)
        return (Decimal(self.auto_applied) * 100 / self.remittances).quantize(Decimal("0.1"))

    def add_cash(self, currency: str, **amounts: int) -> None:
        totals = self.cash.setdefault(
            currency, {"received": 0, "applied": 0, "deductions": 0, "unapplied": 0}
        )
        for key, value in amounts.items():
            totals[key] += value

    def as_dict(self) -> dict[str, Any]:
        return {
            "remittances": self.remittances,
            "auto_applied": self.auto_applied,
            "suggested": self.suggested,
            "exceptions": dict(self.exceptions),
            "credit_memos_applied": self.credit_memos_applied,
            "credit_memos_suggested": self.credit_memos_suggested,
            "reopened": self.reopened,
            "reversals": self.reversals,
            "match_rate": str(self.match_rate),
            "ruleset_version": self.ruleset_version,
            "cash": {
                currency: {k: str(Money.from_minor(v, currency).amount) for k, v in totals.items()}
                for currency, totals in self.cash.items()
            },
        }

    def __str__(self) -> str:
        exceptions = ", ".join(f"{k} {v}" for k, v in sorted(self.exceptions.items())) or "none"
        return (
            f"{self.remittances} remittances: {self.auto_applied} applied, {self.suggested} "
            f"suggested, {sum(self.exceptions.values())} exceptions ({exceptions}); "
            f"match rate {self.match_rate}%; credit memos applied {self.credit_memos_applied}"
            + (f"; {self.reopened} decided again with their advice" if self.reopened else "")
            + (f"; {self.reversals} payments taken back" if self.reversals else "")
        )


def incoming_from(row: Remittance | Row[Any]) -> Incoming:
    return Incoming(
        id=row.id,
        currency=row.currency,
        amount_minor=row.amount_minor,
        payer_name=row.payer_name,
        payer_iban=row.payer_iban,
        payer_account=row.payer_account,
        free_text=row.free_text,
        structured_refs=list(row.structured_refs or []),
        received_on=row.value_date,
    )


def _fingerprint(r: Incoming) -> tuple[Any, ...]:
    """Who paid what for which documents: the same payment seen twice has the same print.

    The payer is its normalised name, which every format carries (an IBAN is in some and
    not in others, so the same payment in two formats would otherwise look different).
    """
    payer = name_key(r.payer_name) or r.payer_iban or r.payer_account
    refs = frozenset(document_key(str(ref.get("ref") or "")) for ref in r.structured_refs)
    return (payer, r.currency, r.amount_minor, refs, (r.free_text or "").strip().upper())


def reconcile(
    store: Store,
    *,
    tenant: str = "default",
    rules_path: Path | None = None,
    now: datetime | None = None,
    sink: DecisionSink | None = None,
) -> ReconcileSummary:
    """Decide every new remittance, then apply open credit memos per the policy.

    ``sink`` sees each batch of decisions inside its transaction (the outbox uses it).
    """
    with frozen_heap():
        return _reconcile(store, tenant, rules_path, now, sink)


def _reconcile(
    store: Store,
    tenant: str,
    rules_path: Path | None,
    now: datetime | None,
    sink: DecisionSink | None,
) -> ReconcileSummary:
    rules = load_rules(rules_path)
    summary = ReconcileSummary(ruleset_version=rules.version)
    with store.session() as session:
        advices = Advices.load(session, tenant)
        summary.reopened = advices.reopen(session, tenant)
        scope = _scope(session, tenant, advices)
        with loading_without_gc():
            book = Book.load(session, tenant, scope)
        seen = _recent_fingerprints(
            session, tenant, (now or utcnow()).date(), scope.amounts if scope else None
        )
    cascade = Cascade(book, rules)
    writes = Writes(tenant=tenant, ruleset_version=rules.version, sink=sink)
    while True:
        with store.session() as session:
            rows = list(
                session.execute(
                    select(REMITTANCE)
                    .where(
                        col(Remittance.tenant) == tenant,
                        col(Remittance.status) == RemittanceStatus.NEW,
                    )
                    .order_by(
                        col(Remittance.value_date), col(Remittance.created_at), col(Remittance.id)
                    )
                    .limit(BATCH)
                )
            )
            if not rows:
                break
            previous = _superseded(session, tenant, [row.id for row in rows])
            reversals = [row for row in rows if row.reverses]
            taken_back = _taken_back(rows)
            for row in rows:
                if row.reverses:
                    continue
                back = taken_back.get(row.id)
                if back is not None:
                    _decide_taken_back(row, back, summary, writes)
                else:
                    _decide_one(row, cascade, book, seen, summary, writes, advices, previous)
            writes.flush(session)
            # after the cash of this batch is decided, so a reversal sees what its payment did
            originals = _originals(session, tenant, reversals)
            for row in reversals:
                _decide_reversal(row, originals.get(row.reverses), summary, writes)
            writes.flush(session)
    _apply_credit_memos(store, tenant, book, rules, summary, sink)
    log.info("reconcile: %s", summary)
    return summary


def reconsiderable(
    session: Session, tenant: str, remittance_ids: Collection[str]
) -> dict[str, str]:
    """Remittances whose current decision the reconciler may take back, with that decision:
    its own suggestion or exception, never a person's decision and never a duplicate."""
    if not remittance_ids:
        return {}
    found: dict[str, str] = {}
    for row in session.execute(
        select(
            col(Decision.id),
            col(Decision.source_id),
            col(Decision.status),
            col(Decision.decided_by),
            col(Decision.exception_kind),
        ).where(
            col(Decision.tenant) == tenant,
            col(Decision.source_kind) == "remittance",
            col(Decision.source_id).in_(list(remittance_ids)),
            col(Decision.superseded).is_(False),
        )
    ):
        if (
            row.status in (SUGGESTED, EXCEPTION)
            and row.decided_by == "reconciler"
            and row.exception_kind != "duplicate_payment"
        ):
            found[row.source_id] = row.id
    return found


def supersede(session: Session, decisions: Mapping[str, str]) -> None:
    """Send remittances back to be decided again: ``decisions`` maps each remittance to the
    current decision (from :func:`reconsiderable`) the next reconcile replaces. Nothing was
    written to any system for those decisions, so nothing needs undoing."""
    if not decisions:
        return
    session.execute(
        DECISION.update().where(DECISION.c.id.in_(list(decisions.values()))).values(superseded=True)
    )
    session.execute(
        REMITTANCE.update()
        .where(REMITTANCE.c.id.in_(list(decisions)))
        .values(status=RemittanceStatus.NEW)
    )


def _superseded(session: Session, tenant: str, remittance_ids: list[str]) -> dict[str, str]:
    """The decision each remittance decided again last had (for the new decision's evidence)."""
    latest: dict[str, str] = {}
    for row in session.execute(
        select(col(Decision.id), col(Decision.source_id))
        .where(
            col(Decision.tenant) == tenant,
            col(Decision.source_kind) == "remittance",
            col(Decision.source_id).in_(remittance_ids),
            col(Decision.superseded).is_(True),
        )
        .order_by(col(Decision.created_at), col(Decision.id))
    ):
        latest[row.source_id] = row.id
    return latest


@dataclass
class Advices:
    """Remittance advice whose cash comes separately (EDI 820 with BPR01 ``I``).

    The cash arrives in a bank file with little or no detail; the advice names the invoices.
    A payment of the same currency and amount whose trace (or, failing that, payer) matches
    exactly one advice borrows its references; the advice is then used up.
    """

    by_amount: dict[tuple[str, int], list[Row[Any]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    reopened: dict[str, str] = field(default_factory=dict)  # remittance -> superseded decision

    @classmethod
    def load(cls, session: Session, tenant: str) -> Advices:
        advices = cls()
        for row in session.execute(
            select(REMITTANCE).where(
                col(Remittance.tenant) == tenant,
                col(Remittance.status) == RemittanceStatus.ADVICE,
            )
        ):
            advices.by_amount[(row.currency, row.amount_minor)].append(row)
        return advices

    def rows(self) -> list[Row[Any]]:
        return [row for rows in self.by_amount.values() for row in rows]

    def reopen(self, session: Session, tenant: str) -> int:
        """Cash the reconciler could not decide before its advice arrived goes back to new.

        Only cash without references of its own, whose current decision is the reconciler's
        suggestion or exception (never a person's, never a duplicate), and only where one
        cash payment and one waiting advice describe each other.
        """
        keys = sorted(self.by_amount)
        waiting: list[Row[Any]] = []
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            waiting.extend(
                session.execute(
                    select(REMITTANCE).where(
                        col(Remittance.tenant) == tenant,
                        col(Remittance.status).in_([SUGGESTED, EXCEPTION]),
                        col(Remittance.amount_minor).in_({amount for _, amount in chunk}),
                    )
                )
            )
        if not waiting:
            return 0
        current = reconsiderable(session, tenant, [row.id for row in waiting])
        claims: dict[str, list[Row[Any]]] = defaultdict(list)
        for cash in waiting:
            if cash.id not in current:
                continue
            found = self.take(cash, remove=False)
            if found is not None:
                claims[found[0].id].append(cash)
        for cash_rows in claims.values():
            if len(cash_rows) != 1:
                continue  # two payments fit one advice: a person must say which
            cash = cash_rows[0]
            self.reopened[cash.id] = current[cash.id]
        supersede(session, self.reopened)
        if self.reopened:
            log.info("reconcile: %d payments decided again with their advice", len(self.reopened))
        return len(self.reopened)

    def take(self, cash: Row[Any], remove: bool = True) -> tuple[Row[Any], str] | None:
        """The one advice describing this payment, and what matched; removed when found."""
        if cash.structured_refs:
            return None
        pool = self.by_amount.get((cash.currency, cash.amount_minor))
        if not pool:
            return None
        said = " ".join(
            str(v) for v in (cash.bank_reference, cash.end_to_end_id, cash.free_text) if v
        ).upper()
        by_trace = [a for a in pool if a.bank_reference and a.bank_reference.upper() in said]
        payer = name_key(cash.payer_name)
        by_payer = [a for a in pool if payer and name_key(a.payer_name) == payer]
        for found, why in ((by_trace, "trace number"), (by_payer, "payer and amount")):
            if len(found) == 1:
                if remove:
                    pool.remove(found[0])
                return found[0], why
            if found:
                return None  # several advice fit: a person must say which
        return None


def _scope(session: Session, tenant: str, advices: Advices) -> Scope | None:
    """What the new remittances can touch, when they are few; None: load the whole book."""
    new = list(
        session.execute(
            select(Remittance)
            .where(col(Remittance.tenant) == tenant, col(Remittance.status) == RemittanceStatus.NEW)
            .limit(SCOPED_LOAD_LIMIT + 1)
        ).scalars()
    )
    if len(new) > SCOPED_LOAD_LIMIT:
        return None
    scope = Scope()
    for row in [*new, *advices.rows()]:
        for ref in row.structured_refs or []:
            raw = str(ref.get("ref") or "")
            scope.keys.add(document_key(rf_reference(raw) or raw))
        scope.keys.update(key for _, key in text_tokens(row.free_text))
        for kind, value in (
            ("iban", row.payer_iban),
            ("account", row.payer_account),
            ("name", name_key(row.payer_name)),
        ):
            if value:
                scope.aliases.add((kind, value))
        if row.payer_name:
            scope.names.add(name_key(row.payer_name))
            behind = payer_behind(row.payer_name)  # PAYPAL *ACME: ACME too
            if behind:
                scope.names.add(name_key(behind[1]))
        scope.amounts.add(row.amount_minor)
    decided = select(col(Decision.source_id)).where(
        col(Decision.tenant) == tenant, col(Decision.source_kind) == "credit_memo"
    )
    scope.customers.update(
        cid
        for cid in session.execute(
            select(col(CreditMemo.customer_id)).where(
                *open_credit(tenant), col(CreditMemo.id).not_in(decided)
            )
        ).scalars()
        if cid
    )
    scope.keys.discard("")
    return scope


def _decide_one(
    row: Row[Any],
    cascade: Cascade,
    book: Book,
    seen: dict[tuple[Any, ...], _Seen],
    summary: ReconcileSummary,
    writes: Writes,
    advices: Advices,
    previous: dict[str, str],
) -> None:
    incoming = incoming_from(row)
    borrowed = advices.take(row) if row.amount_minor > 0 else None
    if borrowed is not None:
        advice = borrowed[0]
        text = " ".join(t for t in (row.free_text, advice.free_text) if t) or None
        incoming = replace(incoming, structured_refs=list(advice.structured_refs), free_text=text)
        writes.remittances[advice.id] = RemittanceStatus.ADVICE_USED
    fingerprint = _fingerprint(incoming)
    earlier = seen.get(fingerprint)
    if row.amount_minor <= 0:  # a reversal never gets here: it names the payment it reverses
        outcome = _not_incoming_cash(incoming)
    elif earlier is not None and _close(earlier.value_date, row.value_date):
        outcome = Outcome(
            EXCEPTION,
            "duplicate_payment",
            0,
            exception_kind="duplicate_payment",
            evidence={
                "fingerprint": "same payer, amount, currency and references "
                "as a payment already applied",
                "value_date": str(row.value_date),
                "duplicate_of": {
                    "remittance_id": earlier.remittance_id,
                    "value_date": str(earlier.value_date),
                },
            },
        )
    else:
        outcome = cascade.decide(incoming)
    if row.id in previous:
        outcome.evidence["supersedes_decision"] = previous[row.id]
    if outcome.status != AUTO:
        held = _named_credit_memos(book, incoming, outcome.customer_id)
        if held:  # left open for the person deciding: the credit memo policy skips them
            outcome.evidence[CREDIT_MEMOS_HELD] = held
    if borrowed is not None:
        outcome.evidence["remittance_advice"] = {
            "id": borrowed[0].id,
            "source_file": borrowed[0].source_file,
            "trace": borrowed[0].bank_reference,
            "matched_on": borrowed[1],
        }
    decision_id = _decide(row, outcome, writes)
    summary.remittances += 1
    summary.add_cash(row.currency, received=row.amount_minor)
    if outcome.status == AUTO:
        summary.auto_applied += 1
        summary.add_cash(
            row.currency,
            applied=outcome.applied_minor,
            deductions=outcome.deduction_minor,
            unapplied=outcome.unapplied_minor,
        )
        seen[fingerprint] = _Seen(row.value_date, row.id)
        if outcome.customer_id and outcome.confidence >= LEARN_FROM_CONFIDENCE:
            writes.learn(book, incoming, outcome.customer_id, decision_id)
    else:
        summary.add_cash(row.currency, unapplied=row.amount_minor)
        if outcome.status == SUGGESTED:
            summary.suggested += 1
        else:
            summary.exceptions[outcome.exception_kind or "exception"] += 1


def _not_incoming_cash(r: Incoming) -> Outcome:
    """A remittance that brings no cash in (a zero-amount prenote, a refund or fee going out)
    is never matched: there is nothing to apply, and netting credits against it is wrong."""
    why = (
        "a zero amount moves no cash (a prenote or an account check)"
        if r.amount_minor == 0
        else "a negative amount that names no payment it reverses: cash going out "
        "(a refund, a fee), not a customer's payment"
    )
    return Outcome(
        EXCEPTION,
        NOT_INCOMING_CASH,
        100,
        exception_kind=NOT_INCOMING_CASH,
        evidence={
            "amount": _shown(r.amount_minor, r.currency),
            "currency": r.currency,
            "payer_name": r.payer_name,
            "payer_iban": r.payer_iban,
            "text": r.free_text,
            "why": why,
            "action": "nothing to apply: check the bank entry",
        },
    )


def _named_credit_memos(book: Book, r: Incoming, customer_id: str | None) -> list[dict[str, str]]:
    """The open credit memos a remittance names, in its structured references or its text;
    of its customer when it names that customer's, else every open memo of that number."""
    keys: set[str] = set()
    for ref in r.structured_refs:
        raw = str(ref.get("ref") or "")
        if ref.get("kind") == "credit_memo" or credit_prefix(raw):
            keys.add(document_key(raw))
    for text_ref in read_references(r.free_text).refs if r.free_text else []:
        if text_ref.kind == "credit":
            keys.update(key for key, _ in text_ref.keys)
    held: list[dict[str, str]] = []
    for key in sorted(keys - {""}):
        memos = [m for m in book.credits_by_key.get(key, []) if m.balance_minor > 0]
        mine = [m for m in memos if customer_id and m.customer_id == customer_id]
        held.extend({"id": m.id, "number": m.number} for m in mine or memos)
    return held


@dataclass
class _Original:
    """The payment a reversal takes back, what was decided for it and what it paid."""

    remittance: Row[Any]
    decision: Row[Any] | None
    paid: list[dict[str, str]]  # {"invoice", "amount"} of each application still in force


def _originals(session: Session, tenant: str, reversals: list[Row[Any]]) -> dict[str, _Original]:
    """The payments the reversals name, by what names them (source key, then end-to-end id,
    then trace); a name two payments share names neither."""
    names = {row.reverses for row in reversals}
    if not names:
        return {}
    found: dict[str, list[Row[Any]]] = defaultdict(list)
    for column in ("source_key", "end_to_end_id", "bank_reference"):
        wanted = [name for name in names if name not in found]
        if not wanted:
            break
        for row in session.execute(
            select(REMITTANCE).where(
                REMITTANCE.c.tenant == tenant,
                REMITTANCE.c[column].in_(wanted),
                REMITTANCE.c.amount_minor > 0,
            )
        ):
            found[getattr(row, column)].append(row)
    originals = {name: rows[0] for name, rows in found.items() if len(rows) == 1}
    if not originals:
        return {}
    decisions = {
        row.source_id: row
        for row in session.execute(
            select(DECISION).where(
                DECISION.c.tenant == tenant,
                DECISION.c.source_kind == "remittance",
                DECISION.c.source_id.in_([r.id for r in originals.values()]),
                DECISION.c.superseded.is_(False),
            )
        )
    }
    paid: dict[str, list[dict[str, str]]] = defaultdict(list)
    applied = [d.id for d in decisions.values() if d.status == AUTO]
    if applied:
        for row in session.execute(
            select(
                col(Application.decision_id),
                col(Application.amount_minor),
                col(Application.currency),
                col(Invoice.number),
            )
            .join(Invoice, col(Invoice.id) == col(Application.invoice_id))
            .where(
                col(Application.decision_id).in_(applied),
                col(Application.status) == ApplicationStatus.APPLIED,
            )
        ):
            paid[row.decision_id].append(
                {"invoice": row.number, "amount": _shown(row.amount_minor, row.currency)}
            )
    out = {}
    for name, remittance in originals.items():
        decision = decisions.get(remittance.id)
        out[name] = _Original(remittance, decision, paid.get(decision.id, []) if decision else [])
    return out


def _taken_back(rows: list[Row[Any]]) -> dict[str, Row[Any]]:
    """The payments of a batch whose cash a reversal in the same batch takes all back before
    it is applied, by payment id. A reversal names its payment by source key, end-to-end id
    or trace; it takes back one payment at most, and a name several payments of the batch
    bear (an originator's constant identification number) names none of them."""
    reversals = {row.reverses: row for row in rows if row.reverses}
    named: dict[str, list[Row[Any]]] = defaultdict(list)  # reversal id -> payments it names
    for row in rows:
        if row.reverses:
            continue
        for name in (row.source_key, row.end_to_end_id, row.bank_reference):
            back = reversals.get(name) if name else None
            if (
                back is not None
                and back.currency == row.currency
                and -back.amount_minor >= row.amount_minor
            ):
                named[back.id].append(row)
                break
    by_id = {row.id: row for row in reversals.values()}
    return {
        payments[0].id: by_id[back_id] for back_id, payments in named.items() if len(payments) == 1
    }


def _decide_taken_back(
    row: Row[Any], back: Row[Any], summary: ReconcileSummary, writes: Writes
) -> None:
    """Cash taken back before it was applied is never applied."""
    outcome = Outcome(
        EXCEPTION,
        "taken_back",
        100,
        exception_kind="returned_payment",
        evidence={
            "taken_back_by": back.id,
            "reversal": back.free_text,
            "action": "the cash was taken back before it was applied: nothing to do",
        },
    )
    _returned(row, outcome, summary, writes)
    summary.remittances += 1


def _decide(row: Row[Any], outcome: Outcome, writes: Writes) -> str:
    """Record the decision on a remittance and the status it gives it; returns its id."""
    decision_id = writes.decide(
        source_kind="remittance",
        source_id=row.id,
        currency=row.currency,
        amount_minor=row.amount_minor,
        outcome=outcome,
    )
    writes.remittances[row.id] = outcome.status
    return decision_id


def _returned(row: Row[Any], outcome: Outcome, summary: ReconcileSummary, writes: Writes) -> None:
    """Record a returned_payment decision: nothing applied, the cash counted as unapplied."""
    _decide(row, outcome, writes)
    summary.exceptions["returned_payment"] += 1
    summary.add_cash(row.currency, received=row.amount_minor, unapplied=row.amount_minor)


def _decide_reversal(
    row: Row[Any], original: _Original | None, summary: ReconcileSummary, writes: Writes
) -> None:
    """Cash taken back is never applied: a person reverses what the payment paid, in arsync's
    systems too. The decision says which payment it was and what it paid."""
    evidence: dict[str, Any] = {
        "reverses": row.reverses,
        "amount": _shown(-row.amount_minor, row.currency),
        "event": row.free_text,
    }
    customer_id = None
    if original is None:
        evidence["original"] = None
        evidence["action"] = "no payment found under that name: check the bank or processor"
    else:
        cash, decided = original.remittance, original.decision
        customer_id = decided.customer_id if decided is not None else None
        evidence["original"] = {
            "remittance": cash.id,
            "source": cash.source,
            "amount": _shown(cash.amount_minor, cash.currency),
            "value_date": str(cash.value_date) if cash.value_date else None,
            "payer": cash.payer_name,
            "status": cash.status,
            "decision": decided.id if decided is not None else None,
            "rule": decided.rule if decided is not None else None,
        }
        evidence["paid"] = original.paid
        evidence["action"] = (
            "reverse these applications in every system: the invoices are open again"
            if original.paid
            else "the payment paid no invoice: nothing to reverse; its cash is gone"
        )
    outcome = Outcome(
        EXCEPTION,
        REVERSAL_RULE,
        100 if original is not None else 0,
        exception_kind="returned_payment",
        customer_id=customer_id,
        evidence=evidence,
    )
    _returned(row, outcome, summary, writes)
    summary.reversals += 1


def _shown(minor: int, currency: str) -> str:
    return str(Money.from_minor(minor, currency).amount)


def _close(earlier: date | None, current: date | None) -> bool:
    if earlier is None or current is None:
        return True
    return abs((current - earlier).days) <= DUPLICATE_WINDOW_DAYS


@dataclass(frozen=True)
class _Seen:
    """A payment applied lately: when it was received, and which it was."""

    value_date: date | None
    remittance_id: str


def _recent_fingerprints(
    session: Session, tenant: str, today: date, amounts: set[int] | None
) -> dict[tuple[Any, ...], _Seen]:
    """Fingerprints of cash applied lately, to catch the same payment arriving twice.

    With ``amounts`` (a scoped run), only payments of those amounts can match a new one.
    """
    since = today - timedelta(days=60)
    query = select(Remittance).where(
        col(Remittance.tenant) == tenant,
        col(Remittance.status) == AUTO,
        (col(Remittance.value_date) >= since) | col(Remittance.value_date).is_(None),
    )
    found: dict[tuple[Any, ...], _Seen] = {}
    if amounts is None:
        for row in session.execute(query).scalars():
            found[_fingerprint(incoming_from(row))] = _Seen(row.value_date, row.id)
        return found
    wanted = sorted(amounts)
    for start in range(0, len(wanted), 500):
        chunk = query.where(col(Remittance.amount_minor).in_(wanted[start : start + 500]))
        for row in session.execute(chunk).scalars():
            found[_fingerprint(incoming_from(row))] = _Seen(row.value_date, row.id)
    return found


def _apply_credit_memos(
    store: Store,
    tenant: str,
    book: Book,
    rules: RuleSet,
    summary: ReconcileSummary,
    sink: DecisionSink | None = None,
) -> None:
    """Open credit memos against open invoices of the same customer and currency; a memo a
    remittance awaiting a person names is left for that person."""
    policy = rules.credit_memo_policy
    writes = Writes(tenant=tenant, ruleset_version=rules.version, sink=sink)
    with store.session() as session:
        decided = set(
            session.execute(
                select(col(Decision.source_id)).where(
                    col(Decision.tenant) == tenant,
                    col(Decision.source_kind) == "credit_memo",
                    col(Decision.superseded).is_(False),
                )
            ).scalars()
        )
        held = _held_credit_memos(session, tenant) if book.credits_by_customer else set()
        if held:
            log.info("reconcile: %d credit memos named by payments awaiting a person", len(held))
        for customer_id, credits in book.credits_by_customer.items():
            for memo in sorted(credits, key=lambda c: (c.issue_date is None, c.issue_date)):
                if memo.balance_minor <= 0 or memo.id in decided or memo.id in held:
                    continue
                targets = _credit_targets(book, memo, customer_id, policy)
                if not targets:
                    continue
                plan: list[tuple[OpenItem, int]] = []
                left = memo.balance_minor
                for invoice in targets:
                    take = min(left, invoice.balance_minor)
                    if take > 0:
                        plan.append((invoice, take))
                        left -= take
                    if left == 0:
                        break
                referenced = bool(memo.reference) and targets[0].reference == memo.reference
                outcome = Outcome(
                    SUGGESTED if policy == "suggest" else AUTO,
                    "credit_memo_reference" if referenced else "credit_memo_oldest",
                    95 if referenced else 80,
                    customer_id=customer_id,
                    allocations=plan,
                    evidence={
                        "credit_memo": memo.number,
                        "policy": policy,
                        "matched_on": "same reference" if referenced else "oldest open invoice",
                        "reference": memo.reference,
                    },
                )
                if outcome.status != AUTO:
                    outcome.candidates = [
                        {
                            "invoices": [
                                {
                                    "id": i.id,
                                    "number": i.number,
                                    "amount": str(Money.from_minor(a, memo.currency).amount),
                                }
                                for i, a in plan
                            ],
                            "score": outcome.confidence,
                            "why": outcome.evidence["matched_on"],
                        }
                    ]
                writes.decide(
                    source_kind="credit_memo",
                    source_id=memo.id,
                    currency=memo.currency,
                    amount_minor=memo.balance_minor,
                    outcome=outcome,
                )
                if outcome.status == AUTO:
                    writes.close_credit(memo, left)
                    summary.credit_memos_applied += 1
                else:
                    summary.credit_memos_suggested += 1
        writes.flush(session)


def _held_credit_memos(session: Session, tenant: str) -> set[str]:
    """Credit memos named by remittances whose decision waits for a person (this run's or an
    earlier one's): applying them elsewhere would leave what the payment names short."""
    held: set[str] = set()
    for evidence in session.execute(
        select(col(Decision.evidence)).where(
            col(Decision.tenant) == tenant,
            col(Decision.source_kind) == "remittance",
            col(Decision.status).in_([SUGGESTED, EXCEPTION]),
            col(Decision.superseded).is_(False),
        )
    ).scalars():
        held.update(memo["id"] for memo in (evidence or {}).get(CREDIT_MEMOS_HELD, []))
    return held


def _credit_targets(book: Book, memo: OpenItem, customer_id: str, policy: str) -> list[OpenItem]:
    invoices = sorted(
        book.open_invoices(customer_id, memo.currency),
        key=lambda i: (i.issue_date is None, i.issue_date),
    )
    if policy != "oldest" and memo.reference:
        key = document_key(memo.reference)
        same = [i for i in invoices if i.reference == memo.reference or (key and i.key == key)]
        if same:
            return same + [i for i in invoices if i not in same]
    return invoices
