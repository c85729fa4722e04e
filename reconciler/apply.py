"""Writing decisions: Decision rows, applications, deductions, new balances, learned payers.

Writes are gathered per batch and sent as a few executemany statements in the batch's one
transaction, so a crash never half-applies cash and a large run costs little per decision.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Table, bindparam, update
from sqlmodel import Session

from canonical.bulk import ID_PARAM, insert_rows, select_in, update_rows_by_id
from canonical.enums import ApplicationKind, ApplicationStatus, DocumentStatus
from canonical.ids import new_id
from canonical.keys import name_key
from canonical.lease import Held
from canonical.models import (
    Adjustment,
    Application,
    CreditMemo,
    Decision,
    Invoice,
    PayerAlias,
    Remittance,
)
from canonical.money import Money
from canonical.types import as_utc, utcnow
from reconciler.book import SHARED, Book, OpenItem
from reconciler.cascade import AUTO, Incoming, Outcome
from reconciler.references import is_placeholder_name, paid_through

_DECISION: Table = Decision.__table__  # type: ignore[attr-defined]
_APPLICATION: Table = Application.__table__  # type: ignore[attr-defined]
_ADJUSTMENT: Table = Adjustment.__table__  # type: ignore[attr-defined]
_ALIAS: Table = PayerAlias.__table__  # type: ignore[attr-defined]
_REMITTANCE: Table = Remittance.__table__  # type: ignore[attr-defined]
_INVOICE: Table = Invoice.__table__  # type: ignore[attr-defined]
_CREDIT_MEMO: Table = CreditMemo.__table__  # type: ignore[attr-defined]


class BatchChanged(RuntimeError):
    """What a batch was decided with was changed by another writer before the batch was
    written: nothing of the batch is written (the caller's transaction rolls back), what it
    decided is decided again by the next reconcile with what is stored then. ``changed`` maps
    each record (by id) to what it was read as and what it is now."""

    changed: dict[str, str]
    detail: str  # what changed, record by record


class RemittancesChanged(BatchChanged):
    """Remittances a batch decided were changed or removed by another writer before the batch
    was written (an ingest replaced a camt.053 entry by the camt.054 transactions detailing
    it, or made a stored 820 the advice of new cash): nothing of the batch is written, its
    remittances are decided again by the next reconcile. ``changed`` maps each remittance to
    what it is now."""

    def __init__(self, changed: dict[str, str]) -> None:
        self.changed = changed
        self.detail = "; ".join(f"remittance {rid}: {now}" for rid, now in sorted(changed.items()))
        super().__init__(
            "remittances changed while being decided (not written, decided again next run): "
            + self.detail
        )


class BalancesChanged(BatchChanged):
    """Invoices or credit memos a batch applied cash or credit to had their open balance or
    status changed by another writer after the run read them (a sync pulled the ERP's new
    balance, or its void): nothing of the batch is written, so no cash is applied against a
    balance that is no longer owed; the next reconcile reads the new balances. ``changed`` maps
    each invoice or credit memo id to what it was read as and what it is now."""

    def __init__(self, changed: dict[str, str]) -> None:
        self.changed = changed
        self.detail = "; ".join(now for _, now in sorted(changed.items()))
        super().__init__(
            "invoices or credit memos changed while cash was applied to them (not written, "
            "decided again next run): " + self.detail
        )


@dataclass(frozen=True)
class FlushedBatch:
    """What one flush wrote: decisions, applications and deductions, as inserted rows."""

    decisions: list[dict[str, Any]]
    applications: list[dict[str, Any]]
    adjustments: list[dict[str, Any]]


class DecisionSink(Protocol):
    """Called inside each flush's transaction (e.g. the outbox, which turns applied decisions
    into writes to the other systems, durable with the decisions themselves)."""

    def __call__(self, session: Session, batch: FlushedBatch) -> None: ...


RULES = "reconciler"  # who decided: the rules (a person is "person:<name>")


@dataclass
class Writes:
    """Everything one batch of decisions changes, sent in :meth:`flush`."""

    tenant: str
    ruleset_version: str
    sink: DecisionSink | None = None
    lease: Held | None = None  # renewed in each flush's transaction (see canonical.lease)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    applications: list[dict[str, Any]] = field(default_factory=list)
    adjustments: list[dict[str, Any]] = field(default_factory=list)
    aliases: list[dict[str, Any]] = field(default_factory=list)
    shared: list[tuple[str, str]] = field(default_factory=list)  # aliases found shared
    invoices: dict[str, OpenItem] = field(default_factory=dict)
    credits: dict[str, OpenItem] = field(default_factory=dict)
    remittances: dict[str, str] = field(default_factory=dict)  # id -> status
    # id -> (status, amount) a remittance had when decided: its status is written only while
    # it still has them, else nothing of the batch is (see :class:`RemittancesChanged`)
    read: dict[str, tuple[str, int]] = field(default_factory=dict)
    # id -> balance an invoice / credit memo had when the batch first changed it (stored then:
    # as the run loaded it, or as an earlier batch of the run wrote it): its new balance is
    # written only while it still has that balance and status, else nothing of the batch is
    # (see :class:`BalancesChanged`)
    invoices_read: dict[str, int] = field(default_factory=dict)
    credits_read: dict[str, int] = field(default_factory=dict)

    def set_status(self, remittance_id: str, status: str, *, was: str, amount_minor: int) -> None:
        """Give a remittance decided here its new status, as long as it still has the status
        ``was`` and amount it was decided with when the batch is written."""
        self.remittances[remittance_id] = status
        self.read.setdefault(remittance_id, (was, amount_minor))

    def decide(
        self,
        *,
        source_kind: str,
        source_id: str,
        currency: str,
        amount_minor: int,
        outcome: Outcome,
        decided_by: str = RULES,
    ) -> str:
        """Record a decision (and apply it when auto-applied); returns the decision id."""
        applied = outcome.status == AUTO
        decision_id = new_id()
        now = utcnow()
        self.decisions.append(
            {
                "id": decision_id,
                "tenant": self.tenant,
                "source_kind": source_kind,
                "source_id": source_id,
                "status": outcome.status,
                "exception_kind": outcome.exception_kind,
                "rule": outcome.rule,
                "ruleset_version": self.ruleset_version,
                "confidence": max(0, min(100, outcome.confidence)),
                "customer_id": outcome.customer_id,
                "currency": currency,
                "amount_minor": amount_minor,
                "applied_minor": outcome.applied_minor if applied else 0,
                "deduction_minor": outcome.deduction_minor if applied else 0,
                "unapplied_minor": outcome.unapplied_minor if applied else amount_minor,
                "evidence": outcome.evidence,
                "candidates": outcome.candidates,
                "decided_by": decided_by,
                "superseded": False,
                "created_at": now,
            }
        )
        if applied:
            self._apply(source_kind, source_id, currency, outcome, decision_id)
        return decision_id

    def _apply(
        self, source_kind: str, source_id: str, currency: str, outcome: Outcome, decision_id: str
    ) -> None:
        now = utcnow()
        kind = (
            ApplicationKind.CREDIT_MEMO
            if source_kind == "credit_memo"
            else ApplicationKind.REMITTANCE
        )
        paid: dict[str, int] = defaultdict(int)
        items: dict[str, OpenItem] = {}
        lines = [(kind, source_id, item, amount) for item, amount in outcome.allocations]
        lines += [  # credit memos applied beside the cash, under the same decision
            (ApplicationKind.CREDIT_MEMO, memo.id, invoice, amount)
            for memo, invoice, amount in outcome.credits
        ]
        for line_kind, line_source, item, amount in lines:
            if amount <= 0:
                continue
            self.applications.append(
                {
                    "id": new_id(),
                    "tenant": self.tenant,
                    "kind": line_kind,
                    "source_id": line_source,
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
            paid[item.id] += amount
            items[item.id] = item
        for memo, _, amount in outcome.credits:
            if amount > 0:
                self.close_credit(memo, memo.balance_minor - amount)
        for item, amount, reason in outcome.deductions:
            if amount <= 0:
                continue
            self.adjustments.append(
                {
                    "id": new_id(),
                    "tenant": self.tenant,
                    "invoice_id": item.id,
                    "source_kind": source_kind,
                    "source_id": source_id,
                    "currency": currency,
                    "amount_minor": amount,
                    "reason_code": reason[:32],
                    "decision_id": decision_id,
                    "created_at": now,
                }
            )
            paid[item.id] += amount
            items[item.id] = item
        for invoice_id, amount in paid.items():
            item = items[invoice_id]
            self.invoices_read.setdefault(invoice_id, item.balance_minor)
            item.balance_minor = max(item.balance_minor - amount, 0)
            self.invoices[invoice_id] = item

    def close_credit(self, memo: OpenItem, balance_minor: int) -> None:
        """Leave ``balance_minor`` on a credit memo applied here (written while the memo still
        has the balance and status it has now, see :meth:`flush`)."""
        self.credits_read.setdefault(memo.id, memo.balance_minor)
        memo.balance_minor = balance_minor
        self.credits[memo.id] = memo

    def learn(self, book: Book, remittance: Incoming, customer_id: str, decision_id: str) -> None:
        """Remember the payer's IBAN / account / name for this customer. One that has paid
        for another customer before is shared (a parent company, a payment processor's ACH
        company id): it is kept as ``SHARED`` and says nothing about the payer from then on.

        A payer bearing another customer's exact name pays on that customer's behalf: its
        name is not learned for the customer paid, and its IBAN / account is shared. A payment
        network's name, IBAN and account (:data:`reconciler.references.PAYMENT_NETWORKS`) are
        kept as shared from the start; of a processor's descriptor (PAYPAL *ACME) only the name
        is learned. A customer named like a network paying as itself (its exact name, more than
        the network's) is no network. A payer that paid for another party (camt's ultimate
        debtor) names no customer: its IBAN, account and name are shared, and the name of the
        party it paid for is learned. A bank's placeholder for a name not given (``UNKNOWN
        REMITTER``, :func:`reconciler.references.is_placeholder_name`) is no name: never
        learned, for anyone."""
        payer = _learnable_name(remittance.payer_name)
        ultimate = _learnable_name(remittance.ultimate_payer_name)
        if ultimate and ultimate != payer and customer_id not in book.by_name.get(payer, []):
            self._learn_paid_for(book, remittance, customer_id, decision_id, ultimate)
            return
        network = paid_through(remittance.payer_name, book.by_name)
        named = book.by_name.get(payer, []) if payer else []
        on_behalf = bool(named) and customer_id not in named
        if on_behalf:
            self._note(
                decision_id,
                "payer_paid_for_another",
                {
                    "payer_customers": list(named),
                    "why": "the payer bears another customer's name: its name is not learned "
                    "for the customer paid, its IBAN / account is kept as shared",
                },
            )
        for kind, value in (
            ("iban", remittance.payer_iban),
            ("account", remittance.payer_account),
            ("name", payer),
        ):
            if not value:
                continue
            known = book.aliases.get((kind, value))
            if network is not None and (kind != "name" or network[1] is None):
                if known is None:  # the network's: it names no customer, now or later
                    self._alias(book, kind, value, SHARED, decision_id)
                elif known != SHARED:  # learned before this rule: it names nobody now
                    self._share(book, kind, value)
                continue
            if on_behalf and kind == "name":
                if known == customer_id:  # learned before from a payment on behalf
                    self._share(book, kind, value)
                continue
            if known is not None:
                if known != SHARED and (on_behalf or known != customer_id):
                    self._share(book, kind, value)
                continue
            if kind == "name" and len(named) > 1:
                continue  # several customers share this name: a name says nothing
            self._alias(book, kind, value, SHARED if on_behalf else customer_id, decision_id)

    def _learn_paid_for(
        self,
        book: Book,
        remittance: Incoming,
        customer_id: str,
        decision_id: str,
        ultimate: str,
    ) -> None:
        """Learning from a payment made for another party: the payer's IBAN, account and
        name name nobody (it pays for several), the party's name names the customer."""
        self._note(
            decision_id,
            "payer_paid_for_another",
            {
                "ultimate_payer_name": remittance.ultimate_payer_name,
                "why": "the payer paid for another party: its IBAN, account and name are kept "
                "as shared, the party's name is learned for the customer",
            },
        )
        for kind, value in (
            ("iban", remittance.payer_iban),
            ("account", remittance.payer_account),
            ("name", _learnable_name(remittance.payer_name)),
        ):
            if not value:
                continue
            known = book.aliases.get((kind, value))
            if known is None:
                self._alias(book, kind, value, SHARED, decision_id)
            elif known != SHARED:
                self._share(book, kind, value)
        known = book.aliases.get(("name", ultimate))
        if known is None and len(book.by_name.get(ultimate, [])) <= 1:
            self._alias(book, "name", ultimate, customer_id, decision_id)
        elif known not in (None, SHARED, customer_id):
            self._share(book, "name", ultimate)

    def _alias(self, book: Book, kind: str, value: str, customer_id: str, decision_id: str) -> None:
        book.aliases[(kind, value)] = customer_id
        self.aliases.append(
            {
                "id": new_id(),
                "tenant": self.tenant,
                "kind": kind,
                "value": value[:255],
                "customer_id": customer_id,
                "learned_from": decision_id,
                "created_at": utcnow(),
            }
        )

    def _share(self, book: Book, kind: str, value: str) -> None:
        book.aliases[(kind, value)] = SHARED
        self.shared.append((kind, value[:255]))

    def _note(self, decision_id: str, key: str, value: Any) -> None:
        """Add to the evidence of a decision of this batch, not yet flushed."""
        for decision in reversed(self.decisions):
            if decision["id"] == decision_id:
                decision["evidence"] = {**decision["evidence"], key: value}
                return

    def flush(self, session: Session) -> None:
        """Write the batch in ``session``'s transaction; gathered writes are cleared either
        way. Raises :class:`RemittancesChanged` when a remittance decided here no longer has
        the status and amount it was decided with, and :class:`BalancesChanged` when an
        invoice or credit memo applied to here no longer has the balance and status it was
        read with, before the decisions are written: the caller's transaction must then roll
        back (what was claimed with it)."""
        try:
            if self.lease is not None:
                self.lease.renew(session)
            self._claim(session)
            now = utcnow()
            _balances(session, _INVOICE, "invoice", self.invoices, self.invoices_read, now)
            _balances(session, _CREDIT_MEMO, "credit memo", self.credits, self.credits_read, now)
            self._write(session)
        finally:
            self.discard()

    def _claim(self, session: Session) -> None:
        """Set the status of each remittance decided here while it still is as it was read;
        raise :class:`RemittancesChanged` naming those that are not. In id order, so that
        writers locking several rows (PostgreSQL) take them in one order. On PostgreSQL a row
        another transaction is changing is waited for and read again once that commits."""
        if not self.read:
            return
        rows: list[dict[str, Any]] = [
            {ID_PARAM: rid, "was": was, "amount": amount, "to": self.remittances[rid]}
            for rid, (was, amount) in sorted(self.read.items())
        ]
        claimed = session.execute(
            update(_REMITTANCE)
            .where(
                _REMITTANCE.c.id == bindparam(ID_PARAM),
                _REMITTANCE.c.status == bindparam("was"),
                _REMITTANCE.c.amount_minor == bindparam("amount"),
            )
            .values(status=bindparam("to")),
            rows,
        )
        if claimed.rowcount == len(rows):  # type: ignore[attr-defined]
            return
        now = {
            row.id: row
            for row in select_in(
                session,
                _REMITTANCE,
                ("id", "status", "amount_minor"),
                within={"id": [r[ID_PARAM] for r in rows]},
            )
        }
        changed: dict[str, str] = {}
        for row in rows:
            found = now.get(row[ID_PARAM])
            if found is None:
                changed[row[ID_PARAM]] = "removed (replaced by another record?)"
            elif (found.status, found.amount_minor) != (row["to"], row["amount"]):
                changed[row[ID_PARAM]] = (
                    f"decided as {row['was']} of {row['amount']} (minor units), "
                    f"now {found.status} of {found.amount_minor}"
                )
        raise RemittancesChanged(changed or {r[ID_PARAM]: "changed" for r in rows})

    def _write(self, session: Session) -> None:
        insert_rows(session, _DECISION, self.decisions)
        insert_rows(session, _APPLICATION, self.applications)
        insert_rows(session, _ADJUSTMENT, self.adjustments)
        insert_rows(session, _ALIAS, self.aliases)
        for kind, value in self.shared:
            session.execute(
                update(_ALIAS)
                .where(
                    _ALIAS.c.tenant == self.tenant,
                    _ALIAS.c.kind == kind,
                    _ALIAS.c.value == value,
                )
                .values(customer_id=SHARED)
            )
        if self.sink is not None and self.decisions:
            self.sink(session, FlushedBatch(self.decisions, self.applications, self.adjustments))
        update_rows_by_id(
            session,
            _REMITTANCE,
            [
                {ID_PARAM: rid, "status": status}
                for rid, status in self.remittances.items()
                if rid not in self.read
            ],
        )

    def discard(self) -> None:
        """Forget the writes gathered (written, or rolled back with their transaction)."""
        for collection in (self.decisions, self.applications, self.adjustments, self.aliases):
            collection.clear()
        self.shared.clear()
        self.invoices.clear()
        self.credits.clear()
        self.remittances.clear()
        self.read.clear()
        self.invoices_read.clear()
        self.credits_read.clear()


def _learnable_name(name: str | None) -> str:
    """The ``name_key`` of a payer name to learn; empty for a bank's placeholder, which
    names no one."""
    return "" if is_placeholder_name(name) else name_key(name)


def _status(balance_minor: int) -> DocumentStatus:
    """The status arsync writes beside an invoice's or credit memo's balance."""
    return DocumentStatus.PAID if balance_minor == 0 else DocumentStatus.OPEN


def _balances(
    session: Session,
    table: Table,
    kind: str,
    items: dict[str, OpenItem],
    read: dict[str, int],
    now: Any,
) -> None:
    """Write the new balance (and status) of each of ``items`` while it still has the balance
    it had when the batch first changed it (``read``) and the status arsync reads beside it
    (open; paid once a run of arsync paid it off). One guarded UPDATE, in id order (writers
    locking several rows, on PostgreSQL, take them in one order); a row another transaction is
    changing is waited for and read again once that commits. Raises :class:`BalancesChanged`
    naming those another writer changed (a sync's new balance, a void, a delete): the caller
    rolls back."""
    if not items:
        return
    rows: list[dict[str, Any]] = [
        {
            ID_PARAM: item_id,
            "was_balance": read[item_id],
            "was_status": _status(read[item_id]),
            "to_balance": items[item_id].balance_minor,
            "to_status": _status(items[item_id].balance_minor),
            "now": now,
        }
        for item_id in sorted(items)
    ]
    written = session.execute(
        update(table)
        .where(
            table.c.id == bindparam(ID_PARAM),
            table.c.status == bindparam("was_status"),
            table.c.balance_minor == bindparam("was_balance"),
        )
        .values(
            balance_minor=bindparam("to_balance"),
            status=bindparam("to_status"),
            updated_at=bindparam("now"),
        ),
        rows,
    )
    if written.rowcount == len(rows):  # type: ignore[attr-defined]
        return
    stored = {
        row.id: row
        for row in select_in(
            session,
            table,
            ("id", "status", "balance_minor", "updated_at"),
            within={"id": [r[ID_PARAM] for r in rows]},
        )
    }
    changed: dict[str, str] = {}
    for row in rows:
        item = items[row[ID_PARAM]]
        named = f"{kind} {item.number} ({item.id})"
        found = stored.get(item.id)
        if found is None:
            changed[item.id] = f"{named}: removed"
            continue
        if (found.status, found.balance_minor) == (row["to_status"], row["to_balance"]) and (
            found.updated_at is not None and as_utc(found.updated_at) == now
        ):
            continue  # written by this statement
        changed[item.id] = (
            f"{named}: read as {row['was_status']} owing "
            f"{_shown(row['was_balance'], item.currency)}, now {found.status} owing "
            f"{_shown(found.balance_minor, item.currency)}"
        )
    raise BalancesChanged(changed or {r[ID_PARAM]: f"{kind} {r[ID_PARAM]}: changed" for r in rows})


def _shown(minor: int, currency: str) -> str:
    return f"{Money.from_minor(minor, currency).amount} {currency}"
