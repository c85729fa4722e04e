"""A small book with refs in several systems, for the outbox tests."""

from __future__ import annotations

from datetime import date

from canonical.keys import document_key, name_key
from canonical.models import CreditMemo, Customer, ExternalRef, Invoice, Remittance
from canonical.money import Money
from canonical.store import Store


class Book:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.n = 0

    def _refs(self, ctype: str, cid: str, systems: tuple[str, ...], values: dict[str, str]) -> None:
        with self.store.session() as s:
            for system in systems:
                self.n += 1
                s.add(
                    ExternalRef(
                        canonical_type=ctype,
                        canonical_id=cid,
                        system=system,
                        object_type=ctype,
                        remote_id=f"{system[:2]}-{self.n}",
                        values=values,
                    )
                )

    def customer(self, name: str, systems: tuple[str, ...]) -> str:
        with self.store.session() as s:
            c = Customer(name=name, name_key=name_key(name))
            s.add(c)
        self._refs("customer", c.id, systems, {"name": name})
        return c.id

    def invoice(
        self, customer: str, number: str, amount: str, systems: tuple[str, ...], **view: str
    ) -> str:
        minor = Money(amount, "USD").minor
        with self.store.session() as s:
            i = Invoice(
                customer_id=customer,
                number=number,
                number_key=document_key(number),
                currency="USD",
                total_minor=minor,
                balance_minor=minor,
                issue_date=date(2026, 10, 1),
                due_date=date(2026, 10, 31),
            )
            s.add(i)
        values = {"number": number, "balance_minor": str(minor), "status": "open", **view}
        self._refs("invoice", i.id, systems, values)
        return i.id

    def credit(self, customer: str, number: str, amount: str, systems: tuple[str, ...]) -> str:
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
            )
            s.add(m)
        self._refs("credit_memo", m.id, systems, {"number": number, "balance_minor": str(minor)})
        return m.id

    def remittance(self, payer: str, amount: str, text: str) -> str:
        self.n += 1
        with self.store.session() as s:
            r = Remittance(
                source="camt.054",
                source_key=f"r{self.n}",
                currency="USD",
                amount_minor=Money(amount, "USD").minor,
                value_date=date(2026, 11, 2),
                payer_name=payer,
                free_text=text,
                bank_reference=f"BANK{self.n}",
            )
            s.add(r)
        return r.id
