"""``reconcile()``: new remittances through the cascade, then open credit memos, incrementally.

Only remittances not yet decided are read, and those the reconciler left waiting for advice,
an invoice or a customer that has since arrived; the open book is loaded once. They are
decided in value-date order, those only an amount places after the rest, so that a guess
never takes an invoice a later remittance names. Running it twice in a row changes nothing
the second time.
"""

from __future__ import annotations

import copy
import logging
from collections import Counter, defaultdict
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Row, Table, select
from sqlmodel import Session, col

from canonical.batch_gc import frozen_heap, loading_without_gc
from canonical.enums import ApplicationStatus, DocumentStatus, RemittanceStatus
from canonical.keys import document_key, name_key, other_spelling_key
from canonical.lease import Held, lease
from canonical.models import (
    Application,
    CreditMemo,
    Customer,
    Decision,
    Invoice,
    PayerAlias,
    Remittance,
)
from canonical.money import Money
from canonical.store import Store
from canonical.types import utcnow
from reconciler.apply import BalancesChanged, BatchChanged, DecisionSink, Writes
from reconciler.book import SHARED, Book, ClosedInvoice, OpenItem, Scope, open_credit
from reconciler.cascade import (
    AUTO,
    EXCEPTION,
    SUGGESTED,
    Cascade,
    Incoming,
    Outcome,
    _candidate,
)
from reconciler.payer_names import payer_name_scores
from reconciler.references import (
    credit_prefix,
    is_network_name,
    loose_key,
    paid_through,
    payer_behind,
    read_references,
    rf_reference,
    text_tokens,
)
from reconciler.rules import RuleSet, load_rules

log = logging.getLogger("arsync.reconciler")
_T = TypeVar("_T")

BATCH = 2000
RECONCILE_LEASE = "reconcile"
REMITTANCE: Table = Remittance.__table__  # type: ignore[attr-defined]
DECISION: Table = Decision.__table__  # type: ignore[attr-defined]
SCOPED_LOAD_LIMIT = 5000  # up to this many new remittances, load only what they can touch
DUPLICATE_WINDOW_DAYS = 5
LEARN_FROM_CONFIDENCE = 95
REVERSAL_RULE = "reversal"  # the rule of a returned_payment exception for cash taken back
# exception kind (rule REVERSAL_RULE) of a return that, with the returns already standing
# against its payment, takes back more than the payment: it takes nothing back until a person
# decides (the same return reported twice, or the bank took the money twice)
RETURN_EXCEEDS_PAYMENT = "return_exceeds_payment"
NOT_INCOMING_CASH = "not_incoming_cash"  # rule and exception kind of a zero or negative amount
CREDIT_MEMOS_HELD = "credit_memos_held"  # evidence: memos a pending remittance names
# the kinds of rule that place a payment by its amount alone, decided after those by reference
AMOUNT_RULES = ("customer_amount", "customer_subset", "oldest_first")
# rule and exception kind of an advice naming other invoices than its cash, already applied,
# paid: never moved on its own, a person reverses the applied decision (reconciler/reverse.py)
ADVICE_CONTRADICTS = "advice_contradicts_applied"
# decisions no later document changes: the same payment again, cash taken back, no cash, an
# advice that contradicts applied cash
NEVER_DECIDED_AGAIN = frozenset(
    {
        "duplicate_payment",
        "returned_payment",
        RETURN_EXCEEDS_PAYMENT,
        NOT_INCOMING_CASH,
        ADVICE_CONTRADICTS,
    }
)
# exception kinds of what is no payment to match, out of the match rate (as in the report)
NO_PAYMENT_TO_MATCH = ("returned_payment", RETURN_EXCEEDS_PAYMENT, NOT_INCOMING_CASH)
# rule and exception kinds of a payment naming invoices that exist but owe nothing: paid
# already (balance 0), or void / deleted. For a person: the same payment again, or meant
# for another invoice; never placed on the payer's other invoices by default
INVOICE_NOT_OPEN = "invoice_not_open"
ALREADY_PAID = "invoice_already_paid"
INVOICE_VOID = "invoice_void"


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
    late: int = 0  # cash decided before the invoice or customer it names was known, again
    reversals: int = 0  # cash taken back (chargebacks, failures, returns): each for a person
    cash: dict[str, dict[str, int]] = field(default_factory=dict)  # currency -> minor totals
    ruleset_version: str = ""
    # remittances changed or removed by another writer (an ingest) while this run decided
    # them, with what they are now: the run stopped there, writing nothing of that batch;
    # those and the rest are decided by the next run
    changed: dict[str, str] = field(default_factory=dict)
    # invoices and credit memos whose balance or status another writer (a sync pulling the
    # ERP's new balance or its void) changed after this run read them, while it applied cash
    # or credit to them, by id, with what they were read as and are now: the run stopped
    # there, writing nothing of that batch; the next run reads the new balances
    balances_changed: dict[str, str] = field(default_factory=dict)

    @property
    def matchable(self) -> int:
        """Remittances decided that are payments to match: not cash going out (a return,
        a fee, a refund). An advice contradicting applied cash is no remittance decided here
        (its cash is another): it is in ``exceptions`` alone."""
        return self.remittances - sum(self.exceptions[kind] for kind in NO_PAYMENT_TO_MATCH)

    @property
    def match_rate(self) -> Decimal:
        """Auto-applied over :attr:`matchable`, as the report's ``match_rate``."""
        if not self.matchable:
            return Decimal(0)
        return (Decimal(self.auto_applied) * 100 / self.matchable).quantize(Decimal("0.1"))

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
            "late": self.late,
            "reversals": self.reversals,
            "match_rate": str(self.match_rate),
            "ruleset_version": self.ruleset_version,
            "changed": dict(self.changed),
            "balances_changed": dict(self.balances_changed),
            "cash": {
                currency: {k: str(Money.from_minor(v, currency).amount) for k, v in totals.items()}
                for currency, totals in self.cash.items()
            },
        }

    def __str__(self) -> str:
        """Remittances decided = applied + suggested + exceptions; those decided again are
        among them. Advices contradicting applied cash are counted apart."""
        payments = {k: v for k, v in self.exceptions.items() if k != ADVICE_CONTRADICTS}
        advices = self.exceptions[ADVICE_CONTRADICTS]
        exceptions = ", ".join(f"{k} {v}" for k, v in sorted(payments.items())) or "none"
        return (
            f"{self.remittances} remittances: {self.auto_applied} applied, {self.suggested} "
            f"suggested, {sum(payments.values())} exceptions ({exceptions}); "
            + (f"match rate {self.match_rate}%; " if self.matchable else "")
            + f"credit memos applied {self.credit_memos_applied}"
            + (
                f"; of those remittances, {self.reopened} decided again with their advice"
                if self.reopened
                else ""
            )
            + (
                f"; of those remittances, {self.late} decided again now their invoice or "
                "payer is known (or their learned payer no longer is)"
                if self.late
                else ""
            )
            + (f"; {self.reversals} payments taken back" if self.reversals else "")
            + (f"; {advices} advices contradict applied cash" if advices else "")
            + (
                f"; stopped early: {len(self.changed)} remittances changed while being "
                "decided (an ingest replaced or paired them), the rest decided next run"
                if self.changed
                else ""
            )
            + (
                f"; stopped early: {len(self.balances_changed)} invoices or credit memos "
                "changed while cash was applied to them (a sync pulled a new balance or a "
                "void), the rest decided next run"
                if self.balances_changed
                else ""
            )
        )


# what incoming_from reads of a remittance, not the raw record
_INCOMING_COLUMNS = (
    "id",
    "currency",
    "amount_minor",
    "payer_name",
    "ultimate_payer_name",
    "payer_iban",
    "payer_account",
    "free_text",
    "structured_refs",
    "value_date",
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
        ultimate_payer_name=row.ultimate_payer_name,
    )


def _fingerprint(r: Incoming) -> tuple[Any, ...]:
    """Who paid what for which documents: the same payment seen twice has the same print.

    The payer is its normalised name, which every format carries (an IBAN is in some and
    not in others, so the same payment in two formats would otherwise look different).
    """
    payer = name_key(r.payer_name) or r.payer_iban or r.payer_account
    refs = frozenset(document_key(str(ref.get("ref") or "")) for ref in r.structured_refs)
    text = " ".join((r.free_text or "").split()).upper()  # a re-sent file spaced otherwise
    return (payer, r.currency, r.amount_minor, refs, text)


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
    One reconcile runs at a time per tenant, whoever starts it: another raises
    :class:`~canonical.lease.LeaseHeld` before deciding anything.
    """
    with lease(store, tenant, RECONCILE_LEASE) as held, frozen_heap():
        return _reconcile(store, tenant, rules_path, now, sink, held)


def _reconcile(
    store: Store,
    tenant: str,
    rules_path: Path | None,
    now: datetime | None,
    sink: DecisionSink | None,
    held: Held,
) -> ReconcileSummary:
    rules = load_rules(rules_path)
    summary = ReconcileSummary(ruleset_version=rules.version)
    with store.session() as session:
        advices = Advices.load(session, tenant)
        summary.reopened = advices.reopen(session, tenant)
        late = _reopen_late(session, tenant, rules.customer_min_score)
        summary.late = len(late)
        held.renew(session)  # what was reopened commits only under this run's lease
        scope = _scope(session, tenant, advices)
        with loading_without_gc():
            book = Book.load(session, tenant, scope)
        seen = _recent_fingerprints(
            session, tenant, (now or utcnow()).date(), scope.amounts if scope else None
        )
        order = list(
            session.execute(
                select(col(Remittance.id))
                .where(
                    col(Remittance.tenant) == tenant, col(Remittance.status) == RemittanceStatus.NEW
                )
                .order_by(
                    col(Remittance.value_date), col(Remittance.created_at), col(Remittance.id)
                )
            ).scalars()
        )
    run = _Run(
        cascade=Cascade(book, rules),
        book=book,
        seen=seen,
        summary=summary,
        writes=Writes(tenant=tenant, ruleset_version=rules.version, sink=sink, lease=held),
        advices=advices,
        late=late,
        by_amount=frozenset(
            {r.id for r in rules.rules if r.kind in AMOUNT_RULES} | {"oldest_first"}
        ),
    )
    try:
        _decide_all(store, tenant, order, run)
        _apply_credit_memos(store, tenant, book, rules, summary, sink, held)
    except BatchChanged as exc:
        # what this run knows (open balances, learned payers) now holds decisions never
        # written: it decides nothing more, the next run decides the rest with what is stored
        if isinstance(exc, BalancesChanged):
            summary.balances_changed = exc.changed
        else:
            summary.changed = exc.changed
        log.warning("reconcile: stopped early, %s", exc)
        return summary
    log.info("reconcile: %s", summary)
    return summary


def _decide_all(store: Store, tenant: str, order: list[str], run: _Run) -> None:
    """Decide the remittances of ``order``, a batch per transaction (see :func:`_batch`)."""
    by_amount: list[Row[Any]] = []  # payments only amounts place, decided after the rest
    reversals: list[Row[Any]] = []
    summary = run.summary
    for ids in _batches(order):
        with _batch(store, run) as session:
            rows = _new_rows(session, ids)
            previous = _superseded(session, tenant, [row.id for row in rows])
            taken_back = _taken_back(rows)
            for row in rows:
                back = taken_back.get(row.id)
                if row.reverses:
                    reversals.append(row)
                elif back is not None:
                    _decide_taken_back(row, back, summary, run.writes)
                elif not _decide_one(row, run, previous, session, first_pass=True):
                    by_amount.append(row)
    # a payment placed by its amount alone never takes an invoice a later one names
    for rows in _batches(by_amount):
        with _batch(store, run) as session:
            previous = _superseded(session, tenant, [row.id for row in rows])
            for row in rows:
                _decide_one(row, run, previous, session, first_pass=False)
    # after the cash is decided, so a reversal sees what its payment did
    taking: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)  # payment -> returns
    for rows in _batches(reversals):
        with _batch(store, run) as session:
            originals = _originals(session, tenant, rows)
            for row in rows:
                _decide_reversal(row, originals.get(row.reverses), taking, summary, run.writes)
    # advice left waiting whose cash was applied already (before it came): confirmed, or
    # contradicted, for a person
    if run.advices.by_amount:
        with _batch(store, run) as session:
            _advice_after_applied(session, tenant, run)


@contextmanager
def _batch(store: Store, run: _Run) -> Iterator[Session]:
    """A transaction deciding remittances, their decisions written at its end. When one of
    them, or an invoice or credit memo they apply to, changed meanwhile
    (:class:`~reconciler.apply.BatchChanged`) nothing of the batch is written and the summary
    no longer counts it; the error goes on to the caller."""
    before = copy.deepcopy(run.summary)
    try:
        with store.session() as session:
            yield session
            run.writes.flush(session)
    except BatchChanged:
        vars(run.summary).update(vars(before))
        raise


def _batches(items: list[_T]) -> list[list[_T]]:
    return [items[start : start + BATCH] for start in range(0, len(items), BATCH)]


def _new_rows(session: Session, ids: list[str]) -> list[Row[Any]]:
    """The remittances of ``ids`` still new, in that order (all but the raw record)."""
    found: dict[str, Row[Any]] = {}
    read = [column for column in REMITTANCE.c if column.name != "raw"]
    for start in range(0, len(ids), 500):
        for row in session.execute(
            select(*read).where(
                REMITTANCE.c.id.in_(ids[start : start + 500]),
                REMITTANCE.c.status == RemittanceStatus.NEW,
            )
        ):
            found[row.id] = row
    return [found[i] for i in ids if i in found]


def reconsiderable(
    session: Session, tenant: str, remittance_ids: Collection[str]
) -> dict[str, str]:
    """Remittances whose current decision the reconciler may take back, with that decision:
    its own suggestion or exception, never a person's decision, a duplicate, or an advice
    contradicting applied cash."""
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
            and row.exception_kind not in ("duplicate_payment", ADVICE_CONTRADICTS)
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


def _reopen_late(session: Session, tenant: str, min_name_score: int) -> dict[str, dict[str, Any]]:
    """Send back to be decided again the payments the reconciler left waiting for an invoice
    or a customer it did not know, now that it has arrived; returns what arrived, by
    remittance.

    Its own suggestion or exception (never a person's decision, a duplicate, or cash taken
    back) that names invoice numbers not found, when an open invoice of such a number has
    appeared (or changed) since; or that found no payer, when a customer the cascade would
    recognise by the payer's name has (its exact normalised name, or a name the cascade's
    name matching scores at least ``min_name_score``: ``ACME TOOLS A/P`` for ``Acme-Tools,
    Inc.``), or its IBAN, account or name has since been learned for one. Nothing was
    written to any system for those decisions, so nothing is applied twice.
    """
    waiting = [
        row
        for row in session.execute(
            select(
                col(Decision.id),
                col(Decision.source_id),
                col(Decision.exception_kind),
                col(Decision.evidence),
                col(Decision.created_at),
            ).where(
                col(Decision.tenant) == tenant,
                col(Decision.source_kind) == "remittance",
                col(Decision.status).in_([SUGGESTED, EXCEPTION]),
                col(Decision.superseded).is_(False),
                col(Decision.decided_by) == "reconciler",
            )
        )
        if row.exception_kind not in NEVER_DECIDED_AGAIN
    ]
    unlearned = _learned_no_more(session, tenant, waiting)
    wanted: dict[str, set[str]] = {}  # decision -> the document keys it did not find
    for row in waiting:
        named = [
            str(ref)
            for key in ("labelled_not_found", "unresolved_refs")
            for ref in (row.evidence or {}).get(key, [])
        ]
        keys = {
            k for ref in named for k in (document_key(rf_reference(ref) or ref), loose_key(ref))
        }
        if keys - {""}:
            wanted[row.id] = keys - {""}
    arrived = _invoices_since(session, tenant, set().union(*wanted.values()) if wanted else set())
    unidentified = [row for row in waiting if row.exception_kind == "unidentified_payer"]
    known = _payers_since(
        session,
        tenant,
        [row.source_id for row in unidentified],
        min((row.created_at for row in unidentified), default=None),
        min_name_score,
    )
    late: dict[str, dict[str, Any]] = {}
    decisions: dict[str, str] = {}
    for row in waiting:
        numbers = sorted(
            {
                number
                for key in wanted.get(row.id, ())
                for number, at in arrived.get(key, [])
                if at > row.created_at
            }
        )
        payer = [why for why, at in known.get(row.source_id, []) if at > row.created_at]
        gone = unlearned.get(row.source_id)
        if not numbers and not payer and not gone:
            continue
        decisions[row.source_id] = row.id
        late[row.source_id] = {"decision": row.id}
        if numbers:
            late[row.source_id]["invoices_now_open"] = numbers
        if payer:
            late[row.source_id]["payer_now_known"] = payer[0]
        if gone:
            late[row.source_id]["payer_no_longer_known"] = gone
    supersede(session, decisions)
    if late:
        log.info(
            "reconcile: %d payments decided again now their invoice or payer is known", len(late)
        )
    return late


def _learned_no_more(session: Session, tenant: str, waiting: list[Row[Any]]) -> dict[str, str]:
    """The decisions of ``waiting`` whose customer came from a learned IBAN, account or name
    that names no customer now (found shared since: it paid for several customers; or
    forgotten when the decision it was learned from was undone): why, by remittance."""
    kinds = {f"learned {kind}": kind for kind in ("iban", "account", "name")}
    resting = {
        row.source_id: kinds[found]
        for row in waiting
        if (found := (row.evidence or {}).get("customer_from")) in kinds
    }
    if not resting:
        return {}
    read = [REMITTANCE.c[name] for name in _INCOMING_COLUMNS]
    keys: dict[str, tuple[str, str]] = {}  # remittance -> the alias its customer came from
    ids = sorted(resting)
    for start in range(0, len(ids), 500):
        for row in session.execute(
            select(*read).where(REMITTANCE.c.id.in_(ids[start : start + 500]))
        ):
            payer, _ = _payer_seen(incoming_from(row))
            kind = resting[row.id]
            for key in _alias_keys(payer):
                if key[0] == kind:
                    keys[row.id] = (kind, key[1][:255])  # as stored
    naming: dict[tuple[str, str], str] = {}
    values = sorted({value for _, value in keys.values()})
    for start in range(0, len(values), 500):
        for alias in session.execute(
            select(col(PayerAlias.kind), col(PayerAlias.value), col(PayerAlias.customer_id)).where(
                col(PayerAlias.tenant) == tenant,
                col(PayerAlias.value).in_(values[start : start + 500]),
            )
        ):
            naming[(alias.kind, alias.value)] = alias.customer_id
    gone: dict[str, str] = {}
    for rid, key in keys.items():
        now = naming.get(key)
        if now == SHARED:
            gone[rid] = f"its {key[0]} was found paying for several customers"
        elif now is None:
            gone[rid] = f"its {key[0]} was forgotten (the decision it was learned from undone)"
    return gone


def _invoices_since(
    session: Session, tenant: str, keys: set[str]
) -> dict[str, list[tuple[str, datetime]]]:
    """The open invoices bearing these document keys: number and last change, by key."""
    found: dict[str, list[tuple[str, datetime]]] = defaultdict(list)
    wanted = sorted(keys)
    for start in range(0, len(wanted), 500):
        for row in session.execute(
            select(col(Invoice.number_key), col(Invoice.number), col(Invoice.updated_at)).where(
                col(Invoice.tenant) == tenant,
                col(Invoice.status) == DocumentStatus.OPEN,
                col(Invoice.balance_minor) > 0,
                col(Invoice.number_key).in_(wanted[start : start + 500]),
            )
        ):
            found[row.number_key].append((row.number, row.updated_at))
    return found


def _payers_since(
    session: Session,
    tenant: str,
    remittance_ids: list[str],
    since: datetime | None,
    min_name_score: int,
) -> dict[str, list[tuple[str, datetime]]]:
    """What now names the payer of each remittance, and since when: a customer bearing its
    exact name, a customer its IBAN, account or name was learned for, or a customer changed
    after ``since`` whose name the cascade's name matching scores at least ``min_name_score``
    against the payer's."""
    if not remittance_ids:
        return {}
    names: dict[str, list[str]] = defaultdict(list)  # name key -> remittances
    similar: dict[str, list[str]] = defaultdict(list)  # name key -> remittances, by similarity
    aliases: dict[tuple[str, str], list[str]] = defaultdict(list)
    read = [REMITTANCE.c[name] for name in _INCOMING_COLUMNS]
    for start in range(0, len(remittance_ids), 500):
        for row in session.execute(
            select(*read).where(REMITTANCE.c.id.in_(remittance_ids[start : start + 500]))
        ):
            incoming = incoming_from(row)
            payer, network = _payer_seen(incoming)  # a network's names no customer
            behind = payer_behind(payer.payer_name)
            for name in {
                name_key(payer.payer_name),
                name_key(behind[1]) if behind else "",
                name_key(incoming.ultimate_payer_name),  # whom it paid for
            } - {""}:
                names[name].append(row.id)
                similar[name].append(row.id)
            own = name_key(incoming.payer_name)
            if network is not None and network[1] is None and not is_network_name(own):
                names[own].append(row.id)  # a customer named like a network, paying as itself
            for key in _alias_keys(payer):
                aliases[key].append(row.id)
    known: dict[str, list[tuple[str, datetime]]] = defaultdict(list)
    keys = sorted(names)
    for start in range(0, len(keys), 500):
        for row in session.execute(
            select(col(Customer.name_key), col(Customer.updated_at)).where(
                col(Customer.tenant) == tenant,
                col(Customer.status) != "deleted",
                col(Customer.name_key).in_(keys[start : start + 500]),
            )
        ):
            for rid in names[row.name_key]:
                known[rid].append(("a customer of that name", row.updated_at))
    values = sorted({value for _, value in aliases})
    for start in range(0, len(values), 500):
        for row in session.execute(
            select(
                col(PayerAlias.kind),
                col(PayerAlias.value),
                col(PayerAlias.customer_id),
                col(PayerAlias.created_at),
            ).where(
                col(PayerAlias.tenant) == tenant,
                col(PayerAlias.value).in_(values[start : start + 500]),
                col(PayerAlias.customer_id) != SHARED,
            )
        ):
            for rid in aliases.get((row.kind, row.value), []):
                known[rid].append((f"its {row.kind} learned for a customer", row.created_at))
    if similar and since is not None:
        for rid, found in _similar_customers_since(
            session, tenant, similar, since, min_name_score
        ).items():
            known[rid].extend(found)
    return known


def _similar_customers_since(
    session: Session,
    tenant: str,
    payers: Mapping[str, list[str]],
    since: datetime,
    min_name_score: int,
) -> dict[str, list[tuple[str, datetime]]]:
    """The customers changed after ``since`` whose name the cascade's name matching
    (:func:`payer_name_scores`) scores at least ``min_name_score`` against a payer's name:
    ``payers`` maps each payer's name key to its remittances."""
    changed: dict[str, tuple[str, datetime]] = {}  # customer -> name key, last change
    spellings: dict[str, str] = {}  # customer -> its name's other spelling (other_spelling_key)
    for row in session.execute(
        select(
            col(Customer.id), col(Customer.name), col(Customer.name_key), col(Customer.updated_at)
        ).where(
            col(Customer.tenant) == tenant,
            col(Customer.status) != "deleted",
            col(Customer.updated_at) > since,
        )
    ):
        changed[row.id] = (row.name_key or name_key(row.name), row.updated_at)
        if other := other_spelling_key(row.name):
            spellings[row.id] = other
    if not changed:
        return {}
    choices = {cid: key for cid, (key, _) in changed.items()}
    found: dict[str, list[tuple[str, datetime]]] = defaultdict(list)
    for key, remittances in payers.items():
        for score, cid in payer_name_scores(
            key, choices, limit=None, score_cutoff=min_name_score, spellings=spellings
        ):
            if score < min_name_score or choices[cid] == key:
                continue  # lowered below the line; or the same name, found already
            for rid in remittances:
                found[rid].append(("a customer of a similar name", changed[cid][1]))
    return found


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


def stated_references(cash: Any) -> str:
    """What a payment says of itself (bank reference, end-to-end id, free text), upper-cased:
    where :func:`names_trace` looks for an advice's trace number. ``cash`` is any record with
    those three attributes (a stored row, a ``Remittance``)."""
    return " ".join(
        str(v) for v in (cash.bank_reference, cash.end_to_end_id, cash.free_text) if v
    ).upper()


def names_trace(trace: str | None, stated: str) -> bool:
    """Whether a payment stating ``stated`` (see :func:`stated_references`) names ``trace``,
    the trace number (EDI 820 ``TRN02``) of an advice: the one comparison of an advice with
    its cash, for the reconciler and for ingest alike."""
    return bool(trace) and str(trace).upper() in stated


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
        said = stated_references(cash)
        by_trace = [a for a in pool if names_trace(a.bank_reference, said)]
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


def _advice_after_applied(session: Session, tenant: str, run: _Run) -> None:
    """Advice still waiting whose cash the reconciler (or a person) already applied, because
    the cash came first: the applied payment of the same currency and amount, received within
    the duplicate window, that :meth:`Advices.take` pairs with exactly one advice (by trace
    number, else payer and amount), as it pairs new cash.

    An advice naming the very invoices the cash paid confirms it: it is used, and the applied
    decision's evidence says so (``confirmed_by_advice``). One naming others than cash its
    amount alone placed is an
    ``advice_contradicts_applied`` exception on the advice for a person (it counts no cash):
    nothing is reversed or applied again here; ``arsync resolve ID --reverse`` undoes the
    applied decision, and the next reconcile places the cash by the advice. An advice naming
    no invoice, or already decided, is left as it is."""
    pool = run.advices
    # an advice without a date could be any payment's: only dated ones are compared
    dates = [
        advice.value_date
        for rows in pool.by_amount.values()
        for advice in rows
        if advice.value_date
    ]
    amounts = sorted(
        {amount for (_, amount), rows in pool.by_amount.items() if any(r.value_date for r in rows)}
    )
    if not amounts:
        return
    window = timedelta(days=DUPLICATE_WINDOW_DAYS)
    cash: list[Row[Any]] = []
    for start in range(0, len(amounts), 500):
        cash.extend(
            session.execute(
                select(REMITTANCE).where(
                    REMITTANCE.c.tenant == tenant,
                    REMITTANCE.c.status == AUTO,
                    REMITTANCE.c.amount_minor.in_(amounts[start : start + 500]),
                    REMITTANCE.c.value_date.between(min(dates) - window, max(dates) + window),
                )
            )
        )
    claims: dict[str, list[tuple[Row[Any], Row[Any], str]]] = defaultdict(list)
    for row in cash:
        found = pool.take(row, remove=False)
        if (
            found is not None
            and found[0].value_date is not None
            and row.value_date is not None
            and _close(found[0].value_date, row.value_date)
        ):
            claims[found[0].id].append((found[0], row, found[1]))
    pairs = [found[0] for found in claims.values() if len(found) == 1]
    if not pairs:
        return  # two payments fit one advice: it waits (a person can tell them apart)
    advice_ids = [advice.id for advice, _, _ in pairs]
    cash_ids = [row.id for _, row, _ in pairs]
    current: dict[str, Row[Any]] = {}
    decided: set[str] = set()
    for start in range(0, len(pairs), 500):
        for d in session.execute(
            select(DECISION).where(
                DECISION.c.tenant == tenant,
                DECISION.c.source_kind == "remittance",
                DECISION.c.source_id.in_(
                    cash_ids[start : start + 500] + advice_ids[start : start + 500]
                ),
                DECISION.c.superseded.is_(False),
            )
        ):
            if d.source_id in advice_ids:
                decided.add(d.source_id)
            elif d.status == AUTO:
                current[d.source_id] = d
    paid = _paid_by(session, [d.id for d in current.values()])
    for advice, row, matched_on in pairs:
        decision = current.get(row.id)
        lines = paid.get(decision.id, []) if decision is not None else []
        if decision is None or not lines or advice.id in decided:
            continue
        evidence = decision.evidence or {}
        if "confirmed_by_advice" in evidence or "remittance_advice" in evidence:
            continue  # its own advice is known already: this one is another payment's
        named = _named_invoice_keys(incoming_from(advice))
        if not named:
            continue  # names no invoice (a PO, its own reference): nothing to compare
        named = [keys | {loose_key(key) for key in keys} for keys in named]
        said = [line["keys"] for line in lines]
        if all(any(keys & other for other in said) for keys in named) and all(
            any(keys & other for other in named) for keys in said
        ):
            _confirmed_by_advice(session, decision, advice, matched_on, lines)
            run.writes.set_status(
                advice.id,
                RemittanceStatus.ADVICE_USED,
                was=advice.status,
                amount_minor=advice.amount_minor,
            )
            continue
        if decision.rule not in run.by_amount:
            # cash its own references placed, or a person: an advice naming other invoices
            # is more likely another payment's, its cash still to come; it keeps waiting
            continue
        outcome = _contradicting(session, tenant, advice, row, decision, matched_on, lines)
        run.writes.decide(
            source_kind="remittance",
            source_id=advice.id,
            currency=advice.currency,
            amount_minor=advice.amount_minor,
            outcome=outcome,
        )
        run.writes.set_status(
            advice.id, EXCEPTION, was=advice.status, amount_minor=advice.amount_minor
        )
        run.summary.exceptions[ADVICE_CONTRADICTS] += 1


def _paid_by(session: Session, decision_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """What each applied decision's applications still in force paid: invoice number, its
    keys and the amount, by decision."""
    paid: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for start in range(0, len(decision_ids), 500):
        for row in session.execute(
            select(
                col(Application.decision_id),
                col(Application.amount_minor),
                col(Application.currency),
                col(Invoice.number),
                col(Invoice.number_key),
            )
            .join(Invoice, col(Invoice.id) == col(Application.invoice_id))
            .where(
                col(Application.decision_id).in_(decision_ids[start : start + 500]),
                col(Application.status) == ApplicationStatus.APPLIED,
            )
            .order_by(col(Invoice.number))
        ):
            paid[row.decision_id].append(
                {
                    "invoice": row.number,
                    "amount": _shown(row.amount_minor, row.currency),
                    "keys": {row.number_key, loose_key(row.number)} - {""},
                }
            )
    return paid


def _advice_seen(advice: Row[Any], matched_on: str) -> dict[str, Any]:
    return {
        "id": advice.id,
        "source": advice.source,
        "source_file": advice.source_file,
        "trace": advice.bank_reference,
        "value_date": str(advice.value_date) if advice.value_date else None,
        "matched_on": matched_on,
    }


def _confirmed_by_advice(
    session: Session,
    decision: Row[Any],
    advice: Row[Any],
    matched_on: str,
    lines: list[dict[str, Any]],
) -> None:
    """Note on the applied decision that its payment's advice names what it paid."""
    evidence = dict(decision.evidence or {})
    evidence["confirmed_by_advice"] = {
        **_advice_seen(advice, matched_on),
        "invoices": [line["invoice"] for line in lines],
    }
    session.execute(DECISION.update().where(DECISION.c.id == decision.id).values(evidence=evidence))


def _contradicting(
    session: Session,
    tenant: str,
    advice: Row[Any],
    cash: Row[Any],
    decision: Row[Any],
    matched_on: str,
    lines: list[dict[str, Any]],
) -> Outcome:
    """The exception of an advice naming other invoices than its applied cash paid: the
    applied decision, what the advice says, and the advice's invoices as the candidate."""
    currency = advice.currency
    stated: list[dict[str, Any]] = []
    keys: set[str] = set()
    for ref in advice.structured_refs or []:
        if ref.get("kind") not in ("invoice", "rf") or not (raw := str(ref.get("ref") or "")):
            continue
        key = document_key(rf_reference(raw) or raw)
        keys.update({key, loose_key(raw)})
        amount = ref.get("amount")
        stated.append(
            {
                "invoice": raw,
                "amount": _shown(Money(Decimal(str(amount)), currency).minor, currency)
                if amount not in (None, "")
                else None,
                "keys": {key, loose_key(raw)} - {""},
            }
        )
    found: list[Row[Any]] = []
    wanted = sorted(keys - {""})
    for start in range(0, len(wanted), 500):
        found.extend(
            session.execute(
                select(
                    col(Invoice.id),
                    col(Invoice.number),
                    col(Invoice.number_key),
                    col(Invoice.customer_id),
                    col(Invoice.currency),
                    col(Invoice.balance_minor),
                    col(Invoice.status),
                ).where(
                    col(Invoice.tenant) == tenant,
                    col(Invoice.number_key).in_(wanted[start : start + 500]),
                )
            )
        )
    if decision.customer_id and any(i.customer_id == decision.customer_id for i in found):
        found = [i for i in found if i.customer_id == decision.customer_id]
    candidate: list[dict[str, Any]] = []
    not_open: list[str] = []
    for line in stated:
        invoices = [i for i in found if i.number_key in line["keys"]]
        if len(invoices) != 1:
            not_open.append(line["invoice"])  # not ours, or several of that number
            continue
        invoice = invoices[0]
        if (
            invoice.status != DocumentStatus.OPEN
            or invoice.balance_minor <= 0
            or invoice.currency != currency
        ):
            not_open.append(line["invoice"])
        amount = line["amount"] or _shown(invoice.balance_minor, currency)
        candidate.append(
            {
                "id": invoice.id,
                "number": invoice.number,
                "amount": amount,
                "balance": _shown(invoice.balance_minor, invoice.currency),
            }
        )
    evidence: dict[str, Any] = {
        "why": "the remittance advice of this payment names other invoices than the cash, "
        "already applied, paid: the cash was not moved",
        "applied_decision": {
            "id": decision.id,
            "remittance": cash.id,
            "source": cash.source,
            "value_date": str(cash.value_date) if cash.value_date else None,
            "rule": decision.rule,
            "decided_by": decision.decided_by,
            "confidence": decision.confidence,
            "paid": [{"invoice": line["invoice"], "amount": line["amount"]} for line in lines],
        },
        "advice_invoices": [
            {"invoice": line["invoice"], "amount": line["amount"]} for line in stated
        ],
        "remittance_advice": _advice_seen(advice, matched_on),
        "matched_on": matched_on,
        "trace": advice.bank_reference,
        "action": "if the advice is right, undo the applied decision with "
        "`arsync resolve THIS_DECISION --by person:NAME --reverse`: the next reconcile applies "
        "the cash as the advice says; if the cash is where it belongs, leave it",
    }
    if not_open:
        evidence["advice_invoices_not_open"] = not_open
    return Outcome(
        EXCEPTION,
        ADVICE_CONTRADICTS,
        0,
        exception_kind=ADVICE_CONTRADICTS,
        customer_id=decision.customer_id,
        evidence=evidence,
        candidates=[
            {
                "invoices": candidate,
                "currency": currency,
                "customer_id": decision.customer_id,
                "score": 0,
                "why": "the invoices the remittance advice names",
            }
        ]
        if candidate
        else [],
    )


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
        incoming = incoming_from(row)
        scope.aliases.update(_alias_keys(incoming))  # a network's too: learning reads them
        payer, network = _payer_seen(incoming)  # a network's name names no customer ...
        if incoming.ultimate_payer_name:  # whom it paid for
            scope.names.add(name_key(incoming.ultimate_payer_name))
        if payer.payer_name:
            scope.names.add(name_key(payer.payer_name))
            behind = payer_behind(payer.payer_name)  # PAYPAL *ACME: ACME too
            if behind:
                scope.names.add(name_key(behind[1]))
        elif network is not None and not is_network_name(own := name_key(incoming.payer_name)):
            scope.exact_names.add(own)  # ... unless a customer bears it (PayPal Holdings)
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


@dataclass
class _Run:
    """What one reconcile run decides with, and what it knows of the payments decided so far."""

    cascade: Cascade
    book: Book
    seen: _Recent
    summary: ReconcileSummary
    writes: Writes
    advices: Advices
    late: dict[str, dict[str, Any]]  # remittance -> what has arrived since it was decided
    by_amount: frozenset[str]  # the rules that place a payment by its amount alone
    # what the first pass found for a payment placed by its amount, and when: kept for the
    # second pass unless what it rests on (its customers' items, its payer's aliases) changed
    waiting: dict[str, tuple[int, Outcome]] = field(default_factory=dict)
    applied: int = 0  # cash decisions applied so far: the clock of the two below
    items_changed: dict[str, int] = field(default_factory=dict)  # customer -> when
    aliases_changed: dict[tuple[str, str], int] = field(default_factory=dict)
    # invoice id -> what this run applied to it, in order: (decision, remittance, amount,
    # currency, value date, payer, source); shown as ClosedInvoice's ``paid_by`` only for a
    # payment naming it (see _paid_here_by)
    paid_here: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    day: str = field(default_factory=lambda: str(utcnow().date()))  # the day it applies

    def changed(self, outcome: Outcome, learned: Incoming | None) -> None:
        """Note what an applied decision changed: its customers' items, and the aliases of the
        payer it ``learned`` from."""
        self.applied += 1
        items = [item for item, _ in outcome.allocations]
        items += [item for item, _, _ in outcome.deductions]
        items += [item for memo, invoice, _ in outcome.credits for item in (memo, invoice)]
        for item in items:
            if item.customer_id:
                self.items_changed[item.customer_id] = self.applied
        for key in _alias_keys(learned) if learned is not None else []:
            self.aliases_changed[key] = self.applied

    def unchanged(self, since: int, outcome: Outcome, payer: Incoming) -> bool:
        """Whether nothing an amount-placed outcome rests on has changed since it was found:
        the open items of the customers it names or the payer's name names, the aliases of
        the payer's IBAN, account and name."""
        names = [name_key(payer.payer_name)]
        behind = payer_behind(payer.payer_name)
        if behind:
            names.append(name_key(behind[1]))
        customers = {outcome.customer_id, *(c.get("customer_id") for c in outcome.candidates)}
        customers.update(c for name in names for c in self.book.by_name.get(name, []))
        return all(self.items_changed.get(c, 0) <= since for c in customers if c) and all(
            self.aliases_changed.get(key, 0) <= since for key in _alias_keys(payer)
        )


def _alias_keys(r: Incoming) -> list[tuple[str, str]]:
    found = (("iban", r.payer_iban), ("account", r.payer_account), ("name", name_key(r.payer_name)))
    return [(kind, value) for kind, value in found if value]


def _decide_one(
    row: Row[Any], run: _Run, previous: dict[str, str], session: Session, *, first_pass: bool
) -> bool:
    """Decide a remittance; False (nothing recorded) when on the first pass only its amount
    places it: it is decided after the payments whose references name their invoices."""
    incoming = incoming_from(row)
    borrowed = run.advices.take(row) if row.amount_minor > 0 else None
    if borrowed is not None:
        advice = borrowed[0]
        text = " ".join(t for t in (row.free_text, advice.free_text) if t) or None
        incoming = replace(incoming, structured_refs=list(advice.structured_refs), free_text=text)
    fingerprint = _fingerprint(incoming)
    earlier = run.seen.prints.get(fingerprint)
    if row.amount_minor <= 0:  # a reversal never gets here: it names the payment it reverses
        outcome = _not_incoming_cash(incoming)
    elif earlier is not None and _close(earlier.value_date, row.value_date):
        outcome = Outcome(
            EXCEPTION,
            "duplicate_payment",
            0,
            exception_kind="duplicate_payment",
            customer_id=earlier.customer_id,  # the customer of the payment it duplicates
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
        payer, network = _payer_seen(incoming, run.book.by_name)
        found = run.waiting.pop(row.id, None)
        if found is not None and run.unchanged(found[0], found[1], payer):
            outcome = found[1]
        else:
            outcome = run.cascade.decide(payer)
        if first_pass and borrowed is None and outcome.rule in run.by_amount:
            run.waiting[row.id] = (run.applied, outcome)
            return False
        outcome = _copy_of_applied(outcome, row, run)
        outcome = _copy_naming_what_was_paid(outcome, incoming, row, run)
        outcome = _names_invoices_not_open(outcome, incoming, run, session)
        outcome = _copy_naming_other_invoices(outcome, row, run)
        _note_possible_copy(outcome, row, run)
        if network is not None:
            _note_network(outcome, incoming, network)
        elif (like := paid_through(incoming.payer_name)) is not None:
            outcome.evidence["payer_named_like_network"] = {
                "network": like[0],
                "why": "the payer bears a customer's exact name, more than the network's: "
                "that customer paying as itself, identified like any payer",
            }
    if borrowed is not None:
        advice = borrowed[0]
        run.writes.set_status(
            advice.id,
            RemittanceStatus.ADVICE_USED,
            was=advice.status,
            amount_minor=advice.amount_minor,
        )
    if row.id in previous:
        outcome.evidence["supersedes_decision"] = previous[row.id]
    if row.id in run.late:
        outcome.evidence["decided_again"] = run.late[row.id]
    if outcome.status != AUTO:
        held = _named_credit_memos(run.book, incoming, outcome.customer_id)
        if held:  # left open for the person deciding: the credit memo policy skips them
            outcome.evidence[CREDIT_MEMOS_HELD] = held
        _with_plan(outcome, row.currency)
    if borrowed is not None:
        outcome.evidence["remittance_advice"] = {
            "id": borrowed[0].id,
            "source_file": borrowed[0].source_file,
            "trace": borrowed[0].bank_reference,
            "matched_on": borrowed[1],
        }
    if outcome.status == AUTO and outcome.unapplied_minor > 0:
        _note_unapplied(outcome, row.currency)
    decision_id = _decide(row, outcome, run.writes)
    summary = run.summary
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
        run.seen.add(
            fingerprint,
            _Seen(
                row.value_date,
                row.id,
                row.source,
                outcome.rule,
                outcome.customer_id,
                tuple(sorted({item.number for item, amount in outcome.allocations if amount > 0})),
            ),
            row.currency,
            row.amount_minor,
            outcome.customer_id,
            {item.id for item, amount in outcome.allocations if amount > 0},
            {item.key for item, amount in outcome.allocations if amount > 0},
        )
        _note_paid_here(outcome, row, decision_id, run)
        learned = None
        if outcome.customer_id and outcome.confidence >= LEARN_FROM_CONFIDENCE:
            run.writes.learn(run.book, incoming, outcome.customer_id, decision_id)
            learned = incoming
        run.changed(outcome, learned)
    else:
        summary.add_cash(row.currency, unapplied=row.amount_minor)
        if outcome.status == SUGGESTED:
            summary.suggested += 1
        else:
            summary.exceptions[outcome.exception_kind or "exception"] += 1
    return True


def _copy_of_applied(outcome: Outcome, row: Row[Any], run: _Run) -> Outcome:
    """The same payment come through another channel (a processor's webhook and the bank's
    line of it, a re-sent file worded otherwise): its fingerprint differs, but what it
    would do is what a payment applied within days did. Cash putting the same amount on
    the same invoices again is a duplicate for a person; cash its amount alone places, of
    an amount the same customer has just paid through another channel, is only suggested
    (one channel's copies are caught where they are ingested)."""
    if outcome.status != AUTO:
        return outcome
    invoices = frozenset(item.id for item, amount in outcome.allocations if amount > 0)
    same = run.seen.applied.get((row.currency, row.amount_minor, invoices)) if invoices else None
    if (
        same is not None
        and same.source != row.source  # one channel's copies are caught by their fingerprint
        and _close(same.value_date, row.value_date)
    ):
        would = _candidate(
            outcome.allocations,
            outcome.confidence,
            "what the payment would pay, were it new cash",
            row.currency,
        )
        return _duplicate_of(
            same,
            outcome,
            row,
            "same amount, currency and invoices as a payment already applied, in another form",
            [would],
        )
    earlier = (
        run.seen.paid.get((outcome.customer_id, row.currency, row.amount_minor))
        if outcome.customer_id and outcome.rule in run.by_amount
        else None
    )
    if (
        earlier is not None
        and earlier.source != row.source  # one channel never carries a payment twice
        and _close(earlier.value_date, row.value_date)
    ):
        outcome.evidence["possible_duplicate_of"] = {
            "remittance_id": earlier.remittance_id,
            "value_date": str(earlier.value_date),
            "source": earlier.source,
        }
        outcome.status = SUGGESTED
        outcome.confidence = min(outcome.confidence, 50)
        why = (
            "placed by its amount alone, and the customer paid this amount within days: "
            "it may be the same payment again"
        )
        outcome.evidence["not_applied_because"] = why
        outcome.candidates = [
            _candidate(outcome.allocations, outcome.confidence, why, row.currency)
        ]
    return outcome


def _copy_naming_other_invoices(outcome: Outcome, row: Row[Any], run: _Run) -> Outcome:
    """The mirror of :func:`_copy_of_applied`: a payment whose references name invoices, of
    an amount the same customer paid within days through another channel where only its
    amount placed it (the bank's bare line applied by its amount, then the processor's event
    naming other invoices). It may be that very payment, its first copy on the wrong
    invoices: applying it too would count the cash twice. Only suggested, naming the copy;
    if it is the same payment, the copy's application is what a person corrects."""
    if outcome.status != AUTO or outcome.rule in run.by_amount or not outcome.customer_id:
        return outcome
    invoices = tuple(sorted({item.number for item, amount in outcome.allocations if amount > 0}))
    copies = [
        seen
        for seen in run.seen.copies.get((row.currency, row.amount_minor), [])
        if seen.source != row.source
        and seen.rule in run.by_amount
        and seen.customer_id == outcome.customer_id
        and seen.invoices != invoices
        and seen.remittance_id != row.id
        and _close(seen.value_date, row.value_date)
    ]
    if not copies:
        return outcome
    copy = copies[-1]
    why = (
        "a payment of this amount from the customer came through another channel within days "
        f"and was applied by its amount alone to {', '.join(copy.invoices)}: it may be this "
        "same payment, applied to other invoices"
    )
    outcome.evidence["possible_duplicate_of"] = {**copy.shown(), "rule": copy.rule}
    outcome.evidence["not_applied_because"] = why
    outcome.status = SUGGESTED
    outcome.confidence = min(outcome.confidence, 50)
    outcome.candidates = [_candidate(outcome.allocations, outcome.confidence, why, row.currency)]
    return outcome


# the exceptions of a payment that names nothing it could be placed by
_UNPLACED = ("no_matching_invoice", "unidentified_payer")


def _note_possible_copy(outcome: Outcome, row: Row[Any], run: _Run) -> None:
    """A payment left as an exception because nothing placed it (the bank's bare line of a
    payment whose processor event, naming the invoice, was applied first: the invoice is no
    longer open) names, in its evidence, the one payment of the same currency and amount
    applied within days through another channel (of its customer, when it is known). Only a
    hint for the person: an amount alone does not make it the same payment, and the payment
    is decided again like any exception when its invoice or payer arrives."""
    if (
        outcome.status != EXCEPTION
        or outcome.exception_kind not in _UNPLACED
        or "possible_duplicate_of" in outcome.evidence
    ):
        return
    copies = [
        seen
        for seen in run.seen.copies.get((row.currency, row.amount_minor), [])
        if seen.source != row.source
        and seen.remittance_id != row.id
        and (outcome.customer_id is None or seen.customer_id == outcome.customer_id)
        and _close(seen.value_date, row.value_date)
    ]
    if len({seen.remittance_id for seen in copies}) == 1:
        outcome.evidence["possible_duplicate_of"] = copies[0].shown()


def _named_invoice_keys(r: Incoming) -> list[set[str]]:
    """The invoice numbers a remittance names (its structured references, the numbers it
    labels in text), each as the keys it may be read by."""
    named = [
        {document_key(rf_reference(raw) or raw)}
        for ref in r.structured_refs
        if ref.get("kind") in ("invoice", "rf") and (raw := str(ref.get("ref") or ""))
    ]
    named += [
        {key for key, _ in ref.keys}
        for ref in read_references(r.free_text).refs
        if ref.labelled and ref.kind == "invoice"
    ]
    return named


def _copy_naming_what_was_paid(outcome: Outcome, r: Incoming, row: Row[Any], run: _Run) -> Outcome:
    """The same payment come through another channel after its first copy was applied
    (the bank's line placed by its amount, then the processor's webhook naming the
    invoice): the invoices it names are no longer open because that copy paid them. Not
    a payment naming nothing open, nor a fit for another invoice: a duplicate for a
    person, naming the copy applied."""
    if outcome.status == AUTO or not outcome.evidence.get("labelled_not_found"):
        return outcome
    named = _named_invoice_keys(r)
    if not named:
        return outcome
    # the copy: through another channel, within days, of the same customer when it is known
    # (invoice numbers are unique per customer only), the latest when several fit
    copies = [
        seen
        for keys, seen in run.seen.named.get((row.currency, row.amount_minor), [])
        if all(ref & keys for ref in named)
        and keys <= set().union(*named)
        and seen.source != row.source
        and _close(seen.value_date, row.value_date)
        and (outcome.customer_id is None or seen.customer_id == outcome.customer_id)
    ]
    if not copies:
        return outcome
    return _duplicate_of(
        max(copies, key=lambda seen: seen.value_date or date.min),
        outcome,
        row,
        "same amount and currency as a payment already applied, in another form, to the very "
        "invoices this one names",
        outcome.candidates,
    )


def _note_unapplied(outcome: Outcome, currency: str) -> None:
    """Why applied cash leaves some unapplied, in plain words: the customer's credit on the
    payment, which a person refunds or applies to another invoice."""
    numbers = list(dict.fromkeys(item.number for item, _ in outcome.allocations))
    paid = ("invoices " if len(numbers) > 1 else "invoice ") + ", ".join(numbers)
    left = f"{_shown(outcome.unapplied_minor, currency)} {currency}"
    what = (
        f"over-payment of {paid} by {left}"
        if "over_payment" in outcome.evidence
        else f"{left} left after paying {paid}"
    )
    outcome.evidence["unapplied_because"] = (
        f"{what}: left unapplied on the payment as the customer's credit, to refund or to "
        "apply to another invoice"
    )


def _note_paid_here(outcome: Outcome, row: Row[Any], decision_id: str, run: _Run) -> None:
    """Remember what this applied decision paid, for a later payment naming those invoices
    (kept lean: a run applies to hundreds of thousands of invoices)."""
    for item, amount in outcome.allocations:
        if amount > 0:
            run.paid_here.setdefault(item.id, []).append(
                (
                    decision_id,
                    row.id,
                    amount,
                    row.currency,
                    row.value_date,
                    row.payer_name,
                    row.source,
                )
            )


def _paid_here_by(run: _Run, invoice_id: str) -> list[dict[str, Any]]:
    """What this run applied to an invoice, latest first, as ClosedInvoice's ``paid_by``."""
    return [
        {
            "decision_id": decision_id,
            "remittance_id": remittance_id,
            "by": "reconciler",
            "amount": _shown(amount, currency),
            "on": run.day,
            "value_date": str(value_date) if value_date else None,
            "payer": payer,
            "source": source,
        }
        for decision_id, remittance_id, amount, currency, value_date, payer, source in reversed(
            run.paid_here.get(invoice_id, [])
        )
    ]


def _names_an_open_invoice(r: Incoming, book: Book) -> bool:
    """Whether an invoice reference the payer labelled bears the key of an open invoice."""
    keys = {
        document_key(rf_reference(raw) or raw)
        for ref in r.structured_refs
        if ref.get("kind") in ("invoice", "rf") and (raw := str(ref.get("ref") or ""))
    }
    keys |= {
        key
        for ref in read_references(r.free_text).refs
        if ref.labelled and ref.kind == "invoice"
        for key, _ in ref.keys
    }
    # an invoice this run paid stays in the book at a balance of 0: it is open no more
    return any(i.balance_minor > 0 for key in keys - {""} for i in book.by_key.get(key, ()))


def _named_not_found(r: Incoming, missing: Collection[str]) -> list[tuple[str, set[str]]]:
    """The invoice references a payer labelled that found no open invoice, each as written
    and with the keys it may be read by."""
    named = [
        (raw, {document_key(rf_reference(raw) or raw)})
        for ref in r.structured_refs
        if ref.get("kind") in ("invoice", "rf") and (raw := str(ref.get("ref") or "")) in missing
    ]
    named += [
        (ref.written, {key for key, _ in ref.keys})
        for ref in read_references(r.free_text).refs
        if ref.labelled and ref.kind == "invoice" and ref.written in missing
    ]
    return [(written, keys - {""}) for written, keys in named if keys - {""}]


def _closed_named(run: _Run, keys: set[str], customer_id: str | None) -> list[ClosedInvoice]:
    """The invoices bearing one of ``keys`` that owe nothing: paid or void before this run
    (the store), or paid by this run; the payer's own when the payer is known."""
    found: dict[str, ClosedInvoice] = {}
    for key in keys:
        for item in [*run.book.by_key.get(key, []), *run.book.by_loose_key.get(key, [])]:
            if item.balance_minor <= 0 and not item.is_credit:  # paid by this run
                found[item.id] = ClosedInvoice(
                    item.id,
                    item.customer_id,
                    item.number,
                    item.key,
                    item.currency,
                    DocumentStatus.PAID.value,
                    item.total_minor,
                    _paid_here_by(run, item.id),
                )
        for closed in run.book.closed_by_key.get(key, []):
            found.setdefault(closed.id, closed)
    hits = list(found.values())
    if customer_id is not None:
        hits = [c for c in hits if c.customer_id == customer_id]
    return hits


def _exact_fit(candidate: dict[str, Any], amount_minor: int, currency: str) -> bool:
    """Whether a candidate settles open invoices exactly with the cash: each its whole
    balance, together the payment."""
    lines = candidate.get("invoices") or []
    if not lines or candidate.get("currency", currency) != currency:
        return False
    whole = all(Decimal(line["amount"]) == Decimal(line["balance"]) for line in lines)
    paid = sum((Decimal(line["amount"]) for line in lines), Decimal(0))
    return whole and Money(paid, currency).minor == amount_minor


def _names_invoices_not_open(outcome: Outcome, r: Incoming, run: _Run, session: Session) -> Outcome:
    """A payment whose named invoices found none open, because they exist but owe nothing
    (paid already, void), is an exception of its own: its evidence names each invoice and
    what paid it, when the store knows (the application, its decision and payment). The
    payer's oldest open invoices are no answer to it: only a candidate the cash settles
    exactly (the number may be a slip for it) is kept; else a person names the invoice,
    or dismisses it. The same payment come again is caught before, as ``duplicate_payment``.
    With such a candidate the decision is a suggestion of this kind, else an exception."""
    missing = outcome.evidence.get("labelled_not_found")
    if (
        outcome.status == AUTO
        or not missing
        or outcome.exception_kind in NEVER_DECIDED_AGAIN
        or "matched" in outcome.evidence  # it names open invoices too: they decide
        or "other_customers_invoices" in outcome.evidence
    ):
        return outcome
    if _names_an_open_invoice(r, run.book):  # those decide (a short pay, another currency)
        return outcome
    named = _named_not_found(r, missing)
    run.book.load_closed(session, run.writes.tenant, {k for _, keys in named for k in keys})
    found: list[tuple[str, ClosedInvoice]] = []
    for written, keys in named:
        hits = _closed_named(run, keys, outcome.customer_id)
        if len(hits) == 1 and all(hits[0] is not c for _, c in found):
            found.append((written, hits[0]))
    if not found:
        return outcome
    shown = [
        {
            "written": written,
            "invoice": closed.number,
            "invoice_id": closed.id,
            "customer_id": closed.customer_id,
            "status": closed.status,
            "total": _shown(closed.total_minor, closed.currency),
            "currency": closed.currency,
            "paid_by": closed.paid_by,
        }
        for written, closed in found
    ]
    paid = any(closed.status == DocumentStatus.PAID for _, closed in found)
    customers = {closed.customer_id for _, closed in found}
    customer_id = outcome.customer_id or (customers.pop() if len(customers) == 1 else None)
    why = (
        "exactly what this invoice owes; the invoice named owes nothing: it may be a slip "
        "for this one"
    )
    candidates = [
        {**c, "why": why}
        for c in outcome.candidates
        if _exact_fit(c, r.amount_minor, r.currency)
        and (customer_id is None or c.get("customer_id") in (None, customer_id))
    ]
    fits = bool(candidates)
    candidates += [c for c in outcome.candidates if not c.get("invoices")]  # payers named
    return Outcome(
        # a fit is offered as a suggestion of this kind (listed among the exceptions)
        SUGGESTED if fits else EXCEPTION,
        INVOICE_NOT_OPEN,
        min(outcome.confidence, 50) if fits else 0,
        exception_kind=ALREADY_PAID if paid else INVOICE_VOID,
        customer_id=customer_id,
        evidence={
            **outcome.evidence,
            "invoices_not_open": shown,
            "would_be_decided_by": outcome.rule,
            "action": _not_open_action(found, paid),
        },
        candidates=candidates,
    )


def _not_open_action(found: list[tuple[str, ClosedInvoice]], paid: bool) -> str:
    """What a person reads: which invoices owe nothing, what paid them, what to check."""
    parts = []
    for _, closed in found:
        if closed.status != DocumentStatus.PAID:
            parts.append(f"invoice {closed.number} is {closed.status}")
            continue
        by = closed.paid_by[0] if closed.paid_by else None
        if by is None:
            parts.append(
                f"invoice {closed.number} is paid already (no payment of it is recorded in arsync)"
            )
        elif by.get("remittance_id"):
            received = f" received {by['value_date']}" if by.get("value_date") else ""
            parts.append(
                f"invoice {closed.number} was paid {by['amount']} {closed.currency} by the "
                f"payment{received} (remittance {by['remittance_id']}), applied on {by['on']} "
                f"by decision {by['decision_id']}"
            )
        else:
            what = "credit memo" if by.get("credit_memo_id") else "payment"
            parts.append(
                f"invoice {closed.number} was paid {by['amount']} {closed.currency} on "
                f"{by['on']} by {what} {by.get('credit_memo_id') or by.get('payment_id')} "
                f"({by['by']})"
            )
    check = (
        "check for a duplicate payment (refund it or hold it as the customer's credit) or a "
        "payment meant for another invoice"
        if paid
        else "check with the payer which invoice it pays, or refund it"
    )
    return (
        "; ".join(parts)
        + f": nothing applied. {check[0].upper()}{check[1:]}, then resolve with --invoice "
        "NUMBER, or --dismiss REASON if no cash moves in arsync"
    )


def _duplicate_of(
    same: _Seen,
    outcome: Outcome,
    row: Row[Any],
    fingerprint: str,
    candidates: list[dict[str, Any]],
) -> Outcome:
    """A ``duplicate_payment`` exception for a person: the payment ``same`` already applied
    came through another channel as ``row``; what ``outcome`` would have done is kept."""
    return Outcome(
        EXCEPTION,
        "duplicate_payment",
        0,
        exception_kind="duplicate_payment",
        customer_id=outcome.customer_id,
        evidence={
            **outcome.evidence,
            "fingerprint": fingerprint,
            "would_be_decided_by": outcome.rule,
            "value_date": str(row.value_date),
            "duplicate_of": {
                "remittance_id": same.remittance_id,
                "value_date": str(same.value_date),
                "source": same.source,
            },
        },
        candidates=candidates,
    )


def _payer_seen(
    r: Incoming, customer_names: Collection[str] = frozenset()
) -> tuple[Incoming, tuple[str, str | None] | None]:
    """The remittance as the cascade may see it, and the payment network it came through: a
    network's name, account and IBAN are the network's and name no customer (the merchant
    behind a processor's descriptor, PAYPAL *ACME, is kept). A payer bearing one of the
    ``customer_names`` (name keys) exactly, more than a network's name, is that customer."""
    network = paid_through(r.payer_name, customer_names)
    if network is None:
        return r, None
    name = r.payer_name if network[1] else None
    return replace(r, payer_name=name, payer_iban=None, payer_account=None), network


def _note_network(outcome: Outcome, r: Incoming, network: tuple[str, str | None]) -> None:
    """What the payer is, in the evidence of a payment that came through a network."""
    via, behind = network
    outcome.evidence["payer_name"] = r.payer_name
    outcome.evidence["payer_iban"] = r.payer_iban
    kinds = ("iban", "account", "name")
    own = (r.payer_iban, r.payer_account, None if behind else r.payer_name)
    networks = [kind for kind, value in zip(kinds, own, strict=True) if value]
    # the network's, so shared: they say nothing of who paid
    shared = {*networks, *outcome.evidence.get("payer_shared", [])}
    if shared:
        outcome.evidence["payer_shared"] = [kind for kind in kinds if kind in shared]
    outcome.evidence["payer_network"] = {
        "network": via,
        "payer_behind": behind,
        "why": "a payment network pays for many customers: its name, account and IBAN "
        "name none of them; references still name invoices",
    }


def _with_plan(outcome: Outcome, currency: str) -> None:
    """The top candidate of a suggestion carries the credit memos and deductions its rule
    would apply with the cash, so that confirming it applies all of it."""
    if not outcome.candidates or not (outcome.credits or outcome.deductions):
        return
    top = outcome.candidates[0]
    if {i.get("id") for i in top.get("invoices", [])} != {i.id for i, _ in outcome.allocations}:
        return  # the candidate is not what the rule would apply
    top["credits"] = [
        {
            "credit_memo": memo.number,
            "id": memo.id,
            "invoice_number": invoice.number,
            "invoice_id": invoice.id,
            "amount": _shown(amount, currency),
        }
        for memo, invoice, amount in outcome.credits
        if amount > 0
    ]
    top["deductions"] = [
        {
            "invoice_number": item.number,
            "invoice_id": item.id,
            "reason_code": reason,
            "amount": _shown(amount, currency),
        }
        for item, amount, reason in outcome.deductions
        if amount > 0
    ]


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
    # the returns decided before that take it back, by return remittance id
    returns: dict[str, dict[str, Any]] = field(default_factory=dict)


def _originals(session: Session, tenant: str, reversals: list[Row[Any]]) -> dict[str, _Original]:
    """The payments the reversals name, by what names them (source key, then end-to-end id,
    then trace); a name two payments share names neither. An advice (an 820 whose cash the
    bank reported apart, under the same trace) is no payment."""
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
                # an advice moved no cash: the bank's record of the payment is the original
                REMITTANCE.c.status.not_in((RemittanceStatus.ADVICE, RemittanceStatus.ADVICE_USED)),
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
    standing = _standing_returns(session, tenant, list(originals.values()), reversals)
    out = {}
    for name, remittance in originals.items():
        decision = decisions.get(remittance.id)
        out[name] = _Original(
            remittance,
            decision,
            paid.get(decision.id, []) if decision else [],
            standing.get(remittance.id, {}),
        )
    return out


def _standing_returns(
    session: Session, tenant: str, payments: list[Row[Any]], deciding: list[Row[Any]]
) -> dict[str, dict[str, dict[str, Any]]]:
    """The returns decided before that take back each payment, by payment id then return id:
    one still open, one a person dismissed (its cash is gone all the same) and one a person
    reversed; none of ``deciding``. A return exceeding its payment takes nothing back."""
    # dismiss and reverse build on this module
    from reconciler.dismiss import RULE as DISMISSAL_RULE
    from reconciler.reverse import RULE as REVERSE_RULE

    names = {
        name
        for payment in payments
        for name in (payment.source_key, payment.end_to_end_id, payment.bank_reference)
        if name
    }
    ids = {payment.id for payment in payments}
    skip = {row.id for row in deciding}
    out: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    if not names:
        return out
    for row in session.execute(
        select(
            REMITTANCE.c.id,
            REMITTANCE.c.source,
            REMITTANCE.c.currency,
            REMITTANCE.c.amount_minor,
            REMITTANCE.c.free_text,
            DECISION.c.id.label("decision_id"),
            DECISION.c.rule,
            DECISION.c.status,
            DECISION.c.exception_kind,
            DECISION.c.evidence,
        )
        .join(
            DECISION,
            (DECISION.c.source_kind == "remittance")
            & (DECISION.c.source_id == REMITTANCE.c.id)
            & DECISION.c.superseded.is_(False),
        )
        .where(
            REMITTANCE.c.tenant == tenant,
            REMITTANCE.c.amount_minor < 0,
            REMITTANCE.c.reverses.in_(names),
        )
    ):
        if row.id in skip:
            continue
        evidence = row.evidence or {}
        if row.rule == REVERSE_RULE and row.status == RemittanceStatus.REVERSED:
            payment = evidence.get("original_remittance")
        elif row.exception_kind == "returned_payment" and (
            (row.rule == REVERSAL_RULE and row.status == EXCEPTION)
            or (row.rule == DISMISSAL_RULE and evidence.get("earlier_rule") == REVERSAL_RULE)
        ):
            payment = (evidence.get("original") or {}).get("remittance")
        else:
            continue
        if isinstance(payment, str) and payment in ids:
            out[payment][row.id] = _return_seen(row, row.decision_id, row.status)
    return out


def _return_seen(row: Row[Any], decision_id: str | None, status: str) -> dict[str, Any]:
    """A return standing against a payment, as a return exceeding it names it."""
    return {
        "remittance": row.id,
        "source": row.source,
        "currency": row.currency,
        "amount_minor": -row.amount_minor,
        "event": row.free_text,
        "decision": decision_id,
        "status": status,
    }


def _taken_back(rows: list[Row[Any]]) -> dict[str, Row[Any]]:
    """The payments of a batch whose cash a reversal in the same batch takes all back before
    it is applied, by payment id. A reversal names its payment by source key, end-to-end id
    or trace; it takes back one payment at most, and a name several payments of the batch
    bear (an originator's constant identification number) names none of them."""
    reversals: dict[str, Row[Any]] = {}
    for row in rows:
        if row.reverses:
            # the first in order, as reversals are decided: a later one may exceed the payment
            reversals.setdefault(row.reverses, row)
    named: dict[str, list[Row[Any]]] = defaultdict(list)  # reversal id -> payments it names
    for row in rows:
        if row.reverses:
            continue
        for name in (row.source_key, row.end_to_end_id, row.bank_reference):
            back = reversals.get(name) if name else None
            if (
                back is not None
                and back.currency == row.currency
                # one taking back more than the payment takes nothing back (a person looks)
                and -back.amount_minor == row.amount_minor
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
    writes.set_status(row.id, outcome.status, was=row.status, amount_minor=row.amount_minor)
    return decision_id


def _returned(row: Row[Any], outcome: Outcome, summary: ReconcileSummary, writes: Writes) -> None:
    """Record a returned_payment decision: nothing applied, the cash counted as unapplied."""
    _decide(row, outcome, writes)
    summary.exceptions["returned_payment"] += 1
    summary.add_cash(row.currency, received=row.amount_minor, unapplied=row.amount_minor)


def _decide_reversal(
    row: Row[Any],
    original: _Original | None,
    taking: dict[str, dict[str, dict[str, Any]]],
    summary: ReconcileSummary,
    writes: Writes,
) -> None:
    """Cash taken back is never applied: a person reverses what the payment paid, in arsync's
    systems too. The decision says which payment it was and what it paid. A return that,
    with those standing against its payment (``taking``: by payment id, the returns decided
    this run), takes back more than the payment takes nothing back: a person looks."""
    evidence: dict[str, Any] = {
        "reverses": row.reverses,
        "amount": _shown(-row.amount_minor, row.currency),
        "event": row.free_text,
    }
    customer_id = None
    kind = "returned_payment"
    if original is None:
        evidence["original"] = None
        evidence["action"] = "no payment found under that name: check the bank or processor"
    else:
        cash, decided = original.remittance, original.decision
        customer_id = decided.customer_id if decided is not None else None
        payment = {
            "remittance": cash.id,
            "source": cash.source,
            "amount": _shown(cash.amount_minor, cash.currency),
            "value_date": str(cash.value_date) if cash.value_date else None,
            "payer": cash.payer_name,
            "status": cash.status,
            "decision": decided.id if decided is not None else None,
            "rule": decided.rule if decided is not None else None,
        }
        standing = {**original.returns, **taking[cash.id]}
        standing.pop(row.id, None)
        taken = sum(r["amount_minor"] for r in standing.values() if r["currency"] == row.currency)
        if row.currency == cash.currency and taken - row.amount_minor > cash.amount_minor:
            kind = RETURN_EXCEEDS_PAYMENT
            # no "original": nothing of the payment's cash is taken back by this return
            evidence["payment"] = payment
            evidence["payment_amount"] = payment["amount"]
            evidence["returns_standing"] = [
                {k: v for k, v in r.items() if k != "amount_minor"}
                | {"amount": _shown(r["amount_minor"], r["currency"])}
                for r in standing.values()
            ]
            evidence["returns_total"] = _shown(taken, row.currency)
            evidence["exceeds_by"] = _shown(
                taken - row.amount_minor - cash.amount_minor, row.currency
            )
            evidence["action"] = (
                f"with the returns standing ({evidence['returns_total']}) it takes back more "
                f"than the payment ({payment['amount']}): if it is one of them reported again "
                "(another file or format, the same trace), dismiss it; if the bank took the "
                "money twice, claim it back from the bank"
            )
        else:
            evidence["original"] = payment
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
        exception_kind=kind,
        customer_id=customer_id,
        evidence=evidence,
    )
    decision_id = _decide(row, outcome, writes)
    if original is not None and kind == "returned_payment":
        taking[original.remittance.id][row.id] = _return_seen(row, decision_id, EXCEPTION)
    summary.exceptions[kind] += 1
    summary.add_cash(row.currency, received=row.amount_minor, unapplied=row.amount_minor)
    summary.remittances += 1  # a remittance decided (cash going out: no payment to match)
    if kind != RETURN_EXCEEDS_PAYMENT:
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
    source: str = ""  # the channel it came through: bai2, camt.054, stripe, ...
    rule: str = ""  # the rule that applied it
    customer_id: str | None = None
    invoices: tuple[str, ...] = ()  # the numbers of the invoices it paid

    def shown(self) -> dict[str, Any]:
        """The copy, as a decision's evidence names it."""
        return {
            "remittance_id": self.remittance_id,
            "value_date": str(self.value_date),
            "source": self.source,
            "invoices": list(self.invoices),
        }


_Applied = tuple[str, int, frozenset[str]]  # currency, amount, the invoices it paid
_Paid = tuple[str, str, int]  # customer, currency, amount
_Named = tuple[frozenset[str], _Seen]  # the number keys of the invoices a payment paid


@dataclass
class _Recent:
    """Cash applied lately, three ways: by its fingerprint (the same payment seen twice in
    one form), by what it paid (the same amount on the same invoices, whatever channel it
    came through: a processor's webhook and the bank's line of that payment), by the
    numbers of the invoices it paid (for a copy naming them once they are paid) and by who
    paid how much (the customer's payment of that amount, for a copy naming nothing)."""

    prints: dict[tuple[Any, ...], _Seen] = field(default_factory=dict)
    applied: dict[_Applied, _Seen] = field(default_factory=dict)
    paid: dict[_Paid, _Seen] = field(default_factory=dict)
    named: dict[tuple[str, int], list[_Named]] = field(  # by currency and amount
        default_factory=lambda: defaultdict(list)
    )
    copies: dict[tuple[str, int], list[_Seen]] = field(  # every one, by currency and amount
        default_factory=lambda: defaultdict(list)
    )

    def add(
        self,
        fingerprint: tuple[Any, ...],
        seen: _Seen,
        currency: str,
        amount_minor: int,
        customer_id: str | None,
        invoice_ids: Collection[str],
        invoice_keys: Collection[str] = (),
    ) -> None:
        self.prints[fingerprint] = seen
        self.copies[(currency, amount_minor)].append(seen)
        if invoice_ids:
            self.applied[(currency, amount_minor, frozenset(invoice_ids))] = seen
        if invoice_keys:
            self.named[(currency, amount_minor)].append((frozenset(invoice_keys), seen))
        if customer_id:
            self.paid[(customer_id, currency, amount_minor)] = seen


def _recent_fingerprints(
    session: Session, tenant: str, today: date, amounts: set[int] | None
) -> _Recent:
    """Cash applied lately, to catch the same payment arriving twice.

    Cash whose applied decision a person undid counts as applied to the invoices undone:
    a copy of it is still a copy, and never to be applied where the person said it was wrong.
    With ``amounts`` (a scoped run), only payments of those amounts can match a new one.
    """
    since = today - timedelta(days=60)
    undone = dict(  # remittance -> the decision undone, while it waits for a person
        session.execute(
            select(col(Decision.source_id), col(Decision.evidence)).where(
                col(Decision.tenant) == tenant,
                col(Decision.source_kind) == "remittance",
                col(Decision.exception_kind) == "decision_undone",  # reconciler.reverse.UNDONE
                col(Decision.status) == EXCEPTION,
                col(Decision.superseded).is_(False),
            )
        ).all()
    )
    undone_decisions = [str(e.get("undone")) for e in undone.values() if e.get("undone")]
    query = select(Remittance).where(
        col(Remittance.tenant) == tenant,
        (col(Remittance.status) == AUTO)
        | ((col(Remittance.status) == EXCEPTION) & col(Remittance.id).in_(list(undone))),
        (col(Remittance.value_date) >= since) | col(Remittance.value_date).is_(None),
    )
    rows: list[Remittance] = []
    if amounts is None:
        rows = list(session.execute(query).scalars())
    else:
        wanted = sorted(amounts)
        for start in range(0, len(wanted), 500):
            chunk = query.where(col(Remittance.amount_minor).in_(wanted[start : start + 500]))
            rows.extend(session.execute(chunk).scalars())
    paid: dict[str, set[str]] = defaultdict(set)
    keys: dict[str, set[str]] = defaultdict(set)
    numbers: dict[str, set[str]] = defaultdict(set)
    customers: dict[str, str | None] = {}
    rules: dict[str, str] = {}
    ids = [row.id for row in rows]
    for start in range(0, len(ids), 500):
        chunk_ids = ids[start : start + 500]
        for source_id, invoice_id, number_key, number in session.execute(
            select(
                col(Application.source_id),
                col(Application.invoice_id),
                col(Invoice.number_key),
                col(Invoice.number),
            )
            .join(Invoice, col(Invoice.id) == col(Application.invoice_id))
            .where(
                col(Application.tenant) == tenant,
                col(Application.source_id).in_(chunk_ids),
                (col(Application.status) == ApplicationStatus.APPLIED)
                | col(Application.decision_id).in_(undone_decisions),
            )
        ).all():
            paid[source_id].add(invoice_id)
            keys[source_id].add(number_key)
            numbers[source_id].add(number)
        for source_id, customer_id, rule in session.execute(
            select(col(Decision.source_id), col(Decision.customer_id), col(Decision.rule)).where(
                col(Decision.tenant) == tenant,
                col(Decision.source_kind) == "remittance",
                col(Decision.source_id).in_(chunk_ids),
                (col(Decision.status) == AUTO)  # or an undone one's undo
                | (col(Decision.status) == EXCEPTION) & col(Decision.source_id).in_(list(undone)),
                col(Decision.superseded).is_(False),
            )
        ).all():
            customers[source_id] = customer_id
            rules[source_id] = rule
    found = _Recent()
    for row in rows:
        found.add(
            _fingerprint(incoming_from(row)),
            _Seen(
                row.value_date,
                row.id,
                row.source,
                rules.get(row.id, ""),
                customers.get(row.id),
                tuple(sorted(numbers.get(row.id, ()))),
            ),
            row.currency,
            row.amount_minor,
            customers.get(row.id),
            paid.get(row.id, ()),
            keys.get(row.id, ()),
        )
    return found


def _apply_credit_memos(
    store: Store,
    tenant: str,
    book: Book,
    rules: RuleSet,
    summary: ReconcileSummary,
    sink: DecisionSink | None = None,
    run_lease: Held | None = None,
) -> None:
    """Open credit memos against open invoices of the same customer and currency; a memo a
    remittance awaiting a person names is left for that person. When a memo or invoice
    applied here changed meanwhile (:class:`~reconciler.apply.BalancesChanged`: a sync pulled
    a new balance or a void) nothing is written and the summary no longer counts it; the
    error goes on to the caller."""
    policy = rules.credit_memo_policy
    writes = Writes(tenant=tenant, ruleset_version=rules.version, sink=sink, lease=run_lease)
    before = (summary.credit_memos_applied, summary.credit_memos_suggested)
    try:
        _credit_memos_in_one_batch(store, tenant, book, policy, summary, writes)
    except BatchChanged:
        summary.credit_memos_applied, summary.credit_memos_suggested = before
        raise


def _credit_memos_in_one_batch(
    store: Store,
    tenant: str,
    book: Book,
    policy: str,
    summary: ReconcileSummary,
    writes: Writes,
) -> None:
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
                            "currency": memo.currency,
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
