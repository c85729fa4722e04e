"""The open receivables, loaded once per run into memory indexes the cascade looks up.

One query per table, no query per remittance: open invoices by document key, by purchase
order and by customer, open credit memos by customer, customers by normalised name, learned
payer aliases.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from canonical.enums import ApplicationStatus, DocumentStatus
from canonical.keys import (
    legal_name_key,
    name_key,
    other_spelling_key,
    umlauts_written_out,
    without_spelled_legal_form,
)
from canonical.models import Application, CreditMemo, Customer, Invoice, PayerAlias, Remittance
from canonical.money import Money
from reconciler.payer_names import payer_name_scores
from reconciler.references import loose_key, po_key


@dataclass(slots=True, eq=False)
class OpenItem:
    """An open invoice (or credit memo) as the cascade sees it; balances move as it applies."""

    id: str
    customer_id: str | None
    number: str
    key: str
    currency: str
    balance_minor: int
    total_minor: int
    issue_date: date | None
    reference: str | None = None  # PO number of an invoice, reference of a credit memo
    is_credit: bool = False
    discount_basis_points: int = 0  # early-payment discount of an invoice's terms ...
    discount_until: date | None = None  # ... if paid by this day


@dataclass(slots=True, eq=False)
class ClosedInvoice:
    """An invoice that exists but owes nothing (paid) or no longer counts (void, deleted),
    with what the store knows paid it: for a payment that names it."""

    id: str
    customer_id: str | None
    number: str
    key: str
    currency: str
    status: str  # paid | void | deleted
    total_minor: int
    # the applications that paid it, latest first: decision, remittance or payment, amount, on
    paid_by: list[dict[str, Any]] = field(default_factory=list)


_CHUNK = 500
# a payer alias's customer when the payer has paid for several customers: it names nobody
SHARED = ""


def open_credit(tenant: str) -> list[Any]:
    """Conditions of a credit memo whose credit can be applied: open, with a balance left, and
    not one arsync created to write off a deduction. That one is used up by its write-off (the
    deduction took the amount off the invoice), though a system shows it open until the
    write-off's application lands there and arsync's book until the next pull reads it."""
    return [
        col(CreditMemo.tenant) == tenant,
        col(CreditMemo.status) == DocumentStatus.OPEN,
        col(CreditMemo.balance_minor) > 0,
        col(CreditMemo.adjustment_id).is_(None),
    ]


@dataclass
class Scope:
    """What a handful of new remittances can touch: document keys, customers, payers."""

    keys: set[str] = field(default_factory=set)
    customers: set[str] = field(default_factory=set)
    aliases: set[tuple[str, str]] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    # names loaded only if a customer bears them exactly (a payer named like a network)
    exact_names: set[str] = field(default_factory=set)
    amounts: set[int] = field(default_factory=set)


@dataclass
class Book:
    invoices: dict[str, OpenItem] = field(default_factory=dict)
    by_key: dict[str, list[OpenItem]] = field(default_factory=lambda: defaultdict(list))
    # INV-2024-00123 ~ 2024-123: keys without the leading zeros inside, where they differ
    by_loose_key: dict[str, list[OpenItem]] = field(default_factory=lambda: defaultdict(list))
    by_po: dict[str, list[OpenItem]] = field(default_factory=lambda: defaultdict(list))
    by_customer: dict[str, list[OpenItem]] = field(default_factory=lambda: defaultdict(list))
    credits_by_customer: dict[str, list[OpenItem]] = field(
        default_factory=lambda: defaultdict(list)
    )
    credits_by_key: dict[str, list[OpenItem]] = field(default_factory=lambda: defaultdict(list))
    customer_names: dict[str, str] = field(default_factory=dict)  # customer id -> name key
    legal_names: dict[str, str] = field(default_factory=dict)  # customer id -> legal name key
    # customer id -> name key and legal name key of its name as a bank may spell it otherwise
    # (Müller GmbH: MUELLER, MUELLER GMBH; see other_spelling_key), where that differs
    also_named: dict[str, str] = field(default_factory=dict)
    also_legal: dict[str, str] = field(default_factory=dict)
    by_name: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    # (kind, value) -> customer, or SHARED when the payer has paid for several customers
    aliases: dict[tuple[str, str], str] = field(default_factory=dict)
    # invoices owing nothing (paid, void, deleted) by document key and loose key, loaded on
    # demand for the keys payments name (:meth:`load_closed`)
    closed_by_key: dict[str, list[ClosedInvoice]] = field(default_factory=lambda: defaultdict(list))
    _closed_keys: set[str] = field(default_factory=set, repr=False)
    # (customer id, name key) by key, either spelling, for names that begin another's; built
    # when first asked
    _sorted_names: list[tuple[str, str]] | None = field(default=None, repr=False)

    @classmethod
    def load(cls, session: Session, tenant: str, scope: Scope | None = None) -> Book:
        """The open book; with a ``scope``, only what those remittances can touch.

        A scope names document keys (from references and free text) and customers (learned
        payers, exact names, credit-memo holders): their open items are loaded, and every
        invoice bearing one of the keys as its number or its purchase order, so the cascade
        sees exactly what a full load would show it for those remittances.
        """
        book = cls()
        customer_query = select(col(Customer.id), col(Customer.name_key), col(Customer.name)).where(
            col(Customer.tenant) == tenant, col(Customer.status) != "deleted"
        )
        names = sorted(scope.names | scope.exact_names) if scope is not None else []
        for start in range(0, len(names), _CHUNK):  # first the payers named exactly ...
            book._load_customers(
                session,
                customer_query.where(col(Customer.name_key).in_(names[start : start + _CHUNK])),
            )
        # ... all when a name may be fuzzy, or may be the start of another customer's (ACME is
        # Acme Inc's name, and the start of Acme Industries')
        if scope is None or scope.names:
            book._load_customers(session, customer_query)
        alias_query = select(
            col(PayerAlias.kind), col(PayerAlias.value), col(PayerAlias.customer_id)
        ).where(col(PayerAlias.tenant) == tenant)
        values = sorted({value for _, value in scope.aliases}) if scope is not None else None
        chunks = (
            [alias_query]
            if values is None
            else [
                alias_query.where(col(PayerAlias.value).in_(values[i : i + _CHUNK]))
                for i in range(0, len(values), _CHUNK)
            ]
        )
        for query in chunks:
            for row in session.execute(query):
                book.aliases[(row.kind, row.value)] = row.customer_id
        invoice_filter = [
            col(Invoice.tenant) == tenant,
            col(Invoice.status) == DocumentStatus.OPEN,
            col(Invoice.balance_minor) > 0,
        ]
        credit_filter = open_credit(tenant)
        if scope is None:
            book._load_invoices(session, invoice_filter)
            book._load_credits(session, credit_filter)
            return book
        customers = set(scope.customers)
        customers |= {book.aliases[a] for a in scope.aliases if a in book.aliases} - {SHARED}
        for name in scope.exact_names:
            customers.update(book.by_name.get(name, []))
        # ACME L L C (Acme, L.L.C.) is looked for as ACME too, as the cascade looks for it
        for name in {*scope.names, *map(without_spelled_legal_form, scope.names)}:
            exact = book.by_name.get(name, [])
            customers.update(exact)
            if exact:  # ACME is Acme Inc's name, and the start of Acme Industries'
                customers.update(book.names_starting(name + " "))
            if not exact:  # the cascade may identify the payer by a similar name
                words = set(name.split())
                for _, cid in payer_name_scores(
                    name, book.customer_names, spellings=book.also_named, score_cutoff=60
                ):
                    customers.add(cid)
                    for spelling in (book.customer_names[cid], book.also_named.get(cid)):
                        if spelling and set(spelling.split()) <= words:
                            # ACME ACCOUNTS PAYABLE: Acme's, or Acme Widgets' cut short
                            customers.update(book.names_starting(spelling + " "))
                # JOHNSON CONTROLS INTER: the start of International's name, or Interiors'
                customers.update(book.names_starting(name))
        keys = sorted(scope.keys)
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            for item in book._load_invoices(
                session, [*invoice_filter, col(Invoice.number_key).in_(chunk)]
            ):
                if item.customer_id:
                    customers.add(item.customer_id)
        for item in book._load_by_po(session, invoice_filter, {po_key(k) for k in keys} - {""}):
            if item.customer_id:
                customers.add(item.customer_id)
        wanted = sorted(customers)
        loaded = set(book.invoices)
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            book._load_invoices(
                session, [*invoice_filter, col(Invoice.customer_id).in_(chunk)], skip=loaded
            )
            book._load_credits(session, [*credit_filter, col(CreditMemo.customer_id).in_(chunk)])
        return book

    def names_starting(self, start: str, skip: Collection[str] = ()) -> list[str]:
        """The customers (but those in ``skip``) whose name key begins with ``start``."""
        if self._sorted_names is None:
            self._sorted_names = sorted(
                [*self.customer_names.items(), *self.also_named.items()],
                key=lambda named: (named[1], named[0]),
            )
        by_key = self._sorted_names
        found: list[str] = []
        for customer_id, key in by_key[bisect_left(by_key, start, key=lambda named: named[1]) :]:
            if not key.startswith(start):
                break
            if customer_id not in skip and customer_id not in found:
                found.append(customer_id)
        return found

    def has_legal_name(self, customer_id: str, legal: str) -> bool:
        """Whether ``legal`` (:func:`legal_name_key`) is the customer's name with its legal
        form, in either spelling."""
        return legal in (self.legal_names.get(customer_id), self.also_legal.get(customer_id))

    def _load_customers(self, session: Session, query: Any) -> None:
        self._sorted_names = None
        for row in session.execute(query):
            if row.id in self.customer_names:
                continue
            key = row.name_key or name_key(row.name)
            self.customer_names[row.id] = key
            self.legal_names[row.id] = legal_name_key(row.name)
            self.by_name[key].append(row.id)
            other = other_spelling_key(row.name)
            if other and other != key:
                self.also_named[row.id] = other
                self.also_legal[row.id] = legal_name_key(umlauts_written_out(row.name) or row.name)
                self.by_name[other].append(row.id)

    def _load_invoices(
        self, session: Session, where: list[Any], skip: set[str] | None = None
    ) -> list[OpenItem]:
        items = []
        for row in session.execute(
            select(
                col(Invoice.id),
                col(Invoice.customer_id),
                col(Invoice.number),
                col(Invoice.number_key),
                col(Invoice.currency),
                col(Invoice.balance_minor),
                col(Invoice.total_minor),
                col(Invoice.issue_date),
                col(Invoice.po_number),
                col(Invoice.discount_basis_points),
                col(Invoice.discount_until),
            ).where(*where)
        ):
            if skip is not None and row.id in skip:
                continue
            item = OpenItem(
                row.id,
                row.customer_id,
                row.number,
                row.number_key,
                row.currency,
                row.balance_minor,
                row.total_minor,
                row.issue_date,
                row.po_number,
                discount_basis_points=row.discount_basis_points or 0,
                discount_until=row.discount_until,
            )
            self.add_invoice(item)
            items.append(item)
        return items

    def _load_by_po(self, session: Session, where: list[Any], keys: set[str]) -> list[OpenItem]:
        """The open invoices whose purchase order is one of ``keys``. A PO is stored as the
        customer wrote it, so its key is compared here: one narrow query of the open POs."""
        if not keys:
            return []
        ids = sorted(
            row.id
            for row in session.execute(
                select(col(Invoice.id), col(Invoice.po_number)).where(
                    *where, col(Invoice.po_number).is_not(None)
                )
            )
            if po_key(row.po_number) in keys and row.id not in self.invoices
        )
        items = []
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            items += self._load_invoices(session, [*where, col(Invoice.id).in_(chunk)])
        return items

    def _load_credits(self, session: Session, where: list[Any]) -> None:
        for row in session.execute(
            select(
                col(CreditMemo.id),
                col(CreditMemo.customer_id),
                col(CreditMemo.number),
                col(CreditMemo.number_key),
                col(CreditMemo.currency),
                col(CreditMemo.balance_minor),
                col(CreditMemo.total_minor),
                col(CreditMemo.issue_date),
                col(CreditMemo.reference),
            ).where(*where)
        ):
            if row.customer_id:
                memo = OpenItem(
                    row.id,
                    row.customer_id,
                    row.number,
                    row.number_key,
                    row.currency,
                    row.balance_minor,
                    row.total_minor,
                    row.issue_date,
                    row.reference,
                    is_credit=True,
                )
                self.credits_by_customer[row.customer_id].append(memo)
                self.credits_by_key[memo.key].append(memo)

    def add_invoice(self, item: OpenItem) -> None:
        self.invoices[item.id] = item
        self.by_key[item.key].append(item)
        loose = loose_key(item.number)
        if loose and loose != item.key:
            self.by_loose_key[loose].append(item)
        if item.reference:
            self.by_po[po_key(item.reference)].append(item)
        if item.customer_id:
            self.by_customer[item.customer_id].append(item)

    def load_closed(self, session: Session, tenant: str, keys: Collection[str]) -> None:
        """Load the invoices bearing these document keys that owe nothing (paid: balance 0;
        void; deleted) and the applications that paid them; each key is queried once a run."""
        wanted = sorted(set(keys) - self._closed_keys - {""})
        self._closed_keys.update(wanted)
        found: dict[str, ClosedInvoice] = {}
        for start in range(0, len(wanted), _CHUNK):
            for row in session.execute(
                select(
                    col(Invoice.id),
                    col(Invoice.customer_id),
                    col(Invoice.number),
                    col(Invoice.number_key),
                    col(Invoice.currency),
                    col(Invoice.status),
                    col(Invoice.balance_minor),
                    col(Invoice.total_minor),
                ).where(
                    col(Invoice.tenant) == tenant,
                    col(Invoice.number_key).in_(wanted[start : start + _CHUNK]),
                    (col(Invoice.balance_minor) <= 0)
                    | col(Invoice.status).in_([DocumentStatus.VOID, DocumentStatus.DELETED]),
                )
            ):
                if row.status == DocumentStatus.DRAFT:
                    continue  # never sent: nobody pays it yet
                status = (
                    str(row.status)
                    if row.status in (DocumentStatus.VOID, DocumentStatus.DELETED)
                    else DocumentStatus.PAID.value
                )
                found[row.id] = ClosedInvoice(
                    row.id,
                    row.customer_id,
                    row.number,
                    row.number_key,
                    row.currency,
                    status,
                    row.total_minor,
                )
        ids = sorted(found)
        for start in range(0, len(ids), _CHUNK):
            for app in session.execute(
                select(
                    col(Application.invoice_id),
                    col(Application.kind),
                    col(Application.source_id),
                    col(Application.decision_id),
                    col(Application.origin),
                    col(Application.amount_minor),
                    col(Application.currency),
                    col(Application.applied_on),
                    col(Application.created_at),
                    col(Remittance.value_date),
                    col(Remittance.payer_name),
                    col(Remittance.source),
                )
                .outerjoin(Remittance, col(Remittance.id) == col(Application.source_id))
                .where(
                    col(Application.tenant) == tenant,
                    col(Application.invoice_id).in_(ids[start : start + _CHUNK]),
                    col(Application.status) == ApplicationStatus.APPLIED,
                    col(Application.amount_minor) > 0,
                )
                .order_by(col(Application.created_at).desc())
            ):
                found[app.invoice_id].paid_by.append(_paid_by(app))
        for invoice in found.values():
            self.closed_by_key[invoice.key].append(invoice)
            loose = loose_key(invoice.number)
            if loose and loose != invoice.key:
                self.closed_by_key[loose].append(invoice)

    def open_invoices(self, customer_id: str, currency: str) -> list[OpenItem]:
        return [
            i
            for i in self.by_customer.get(customer_id, [])
            if i.balance_minor > 0 and i.currency == currency
        ]

    def open_credits(self, customer_id: str, currency: str) -> list[OpenItem]:
        return [
            c
            for c in self.credits_by_customer.get(customer_id, [])
            if c.balance_minor > 0 and c.currency == currency
        ]


def _paid_by(app: Any) -> dict[str, Any]:
    """One application that paid an invoice, as a decision's evidence names it."""
    source = {"remittance": "remittance_id", "credit_memo": "credit_memo_id"}.get(
        str(app.kind), "payment_id"
    )
    shown: dict[str, Any] = {
        "decision_id": app.decision_id,
        source: app.source_id,
        "by": app.origin,
        "amount": str(Money.from_minor(app.amount_minor, app.currency).amount),
        "on": str(app.applied_on or app.created_at.date()),
    }
    if app.value_date is not None or app.payer_name is not None:  # arsync's own remittance
        shown |= {
            "value_date": str(app.value_date) if app.value_date else None,
            "payer": app.payer_name,
            "source": app.source,
        }
    return shown
