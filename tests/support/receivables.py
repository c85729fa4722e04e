"""A small receivables book in a store, and what tests read back of the reconciler's work."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from canonical.keys import document_key, name_key
from canonical.models import Application, CreditMemo, Customer, Decision, Invoice, Remittance
from canonical.money import Money
from canonical.store import Store
from canonical.terms import discount_fields


class Book:
    """Builds a small receivables book in the store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.n = 0

    def customer(self, name: str) -> str:
        with self.store.session() as s:
            c = Customer(name=name, name_key=name_key(name))
            s.add(c)
        return c.id

    def invoice(
        self,
        customer: str,
        number: str,
        amount: str,
        currency: str = "USD",
        issued: date = date(2026, 10, 1),
        po: str | None = None,
        terms: str | None = None,
    ) -> str:
        minor = Money(amount, currency).minor
        with self.store.session() as s:
            i = Invoice(
                customer_id=customer,
                number=number,
                number_key=document_key(number),
                currency=currency,
                total_minor=minor,
                balance_minor=minor,
                issue_date=issued,
                po_number=po,
                **discount_fields(terms, issued),
            )
            s.add(i)
        return i.id

    def credit(self, customer: str, number: str, amount: str, reference: str | None = None) -> str:
        minor = Money(amount, "USD").minor
        with self.store.session() as s:
            m = CreditMemo(
                customer_id=customer,
                number=number,
                number_key=document_key(number),
                currency="USD",
                total_minor=minor,
                balance_minor=minor,
                issue_date=date(2026, 10, 5),
                reference=reference,
            )
            s.add(m)
        return m.id

    def pay(
        self,
        amount: str,
        *,
        payer: str | None = None,
        iban: str | None = None,
        text: str | None = None,
        refs: list[dict[str, Any]] | None = None,
        currency: str = "USD",
        day: date | None = date(2026, 11, 2),
        source: str = "camt.054",
    ) -> str:
        self.n += 1
        with self.store.session() as s:
            r = Remittance(
                source=source,
                source_key=f"k{self.n}",
                currency=currency,
                amount_minor=Money(amount, currency).minor,
                value_date=day,
                payer_name=payer,
                payer_iban=iban,
                free_text=text,
                structured_refs=refs or [],
            )
            s.add(r)
        return r.id


def decision(store: Store, remittance_id: str) -> Decision:
    """The remittance's current decision (those decided again are superseded)."""
    with store.session() as s:
        return s.execute(
            select(Decision).where(
                col(Decision.source_id) == remittance_id,
                col(Decision.superseded).is_(False),
            )
        ).scalar_one()


def applied(store: Store, remittance_id: str) -> dict[str, str]:
    with store.session() as s:
        rows = s.execute(
            select(Application, Invoice)
            .join(Invoice, col(Invoice.id) == col(Application.invoice_id))
            .where(col(Application.source_id) == remittance_id)
        ).all()
    return {inv.number: str(app.amount.amount) for app, inv in rows}


def balance(store: Store, invoice_id: str) -> tuple[str, str]:
    with store.session() as s:
        inv = s.get(Invoice, invoice_id)
        assert inv is not None
        return str(inv.balance.amount), inv.status


def ref(number: str, amount: str | None = None, **more: Any) -> dict[str, Any]:
    return {"kind": "invoice", "ref": number, "amount": amount, **more}
