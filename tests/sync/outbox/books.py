"""A small book with refs in several systems, for the outbox tests."""

from __future__ import annotations

from datetime import date
from typing import Any

from canonical.keys import document_key, name_key
from canonical.models import CreditMemo, Customer, ExternalRef, Invoice, OutboxCommand, Remittance
from canonical.money import Money
from canonical.store import Store
from canonical.types import utcnow
from reconciler.apply import FlushedBatch
from reconciler.reverse import RULE as REVERSE_RULE
from sync.outbox.plan import OutboxPlanner


def external_ref(
    ctype: str, cid: str, system: str, remote_id: str, values: dict[str, str]
) -> ExternalRef:
    """A system's ref to a canonical record, remembering ``values`` of its view."""
    return ExternalRef(
        canonical_type=ctype,
        canonical_id=cid,
        system=system,
        object_type=ctype,
        remote_id=remote_id,
        values=values,
    )


class Book:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.n = 0

    def _refs(self, ctype: str, cid: str, systems: tuple[str, ...], values: dict[str, str]) -> None:
        with self.store.session() as s:
            for system in systems:
                self.n += 1
                s.add(external_ref(ctype, cid, system, f"{system[:2]}-{self.n}", values))

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


def link_sandbox_invoice(
    store: Store, invoice: dict[str, Any], customer_name: str, system: str = "invoiced"
) -> tuple[str, str]:
    """A canonical customer and invoice linked to a sandbox's invoice record (amounts in major
    units, as the sandbox keeps them): (customer id, invoice id)."""
    currency = invoice["currency"].upper()
    balance = Money(invoice["balance"], currency).minor
    with store.session() as s:
        customer = Customer(name=customer_name, name_key=name_key(customer_name))
        s.add(customer)
        s.flush()
        inv = Invoice(
            customer_id=customer.id,
            number=invoice["number"],
            number_key=document_key(invoice["number"]),
            currency=currency,
            total_minor=Money(invoice["total"], currency).minor,
            balance_minor=balance,
            issue_date=date(2026, 10, 1),
        )
        s.add(inv)
        s.flush()
        s.add(external_ref("customer", customer.id, system, str(invoice["customer"]), {}))
        values = {"number": invoice["number"], "balance_minor": str(balance)}
        s.add(external_ref("invoice", inv.id, system, str(invoice["id"]), values))
        return customer.id, inv.id


def plan_reversal(
    store: Store,
    systems: list[str],
    *,
    customer: str,
    invoice: str,
    amount_minor: int,
    original_decision: str,
) -> None:
    """A person reverses the original decision's payment (the bank took the cash back)."""
    with store.session() as s:
        OutboxPlanner("default", systems)(
            s,
            FlushedBatch(
                decisions=[
                    {
                        "id": "d-back",
                        "rule": REVERSE_RULE,
                        "status": "auto",
                        "customer_id": customer,
                        "currency": "USD",
                        "created_at": utcnow(),
                        "source_kind": "remittance",
                        "source_id": "rem-back",
                        "evidence": {
                            "reverses_decision": original_decision,
                            "event": "ACH return R01",
                            "applications_reversed": [
                                {"invoice_id": invoice, "amount_minor": amount_minor}
                            ],
                        },
                    }
                ],
                applications=[],
                adjustments=[],
            ),
        )


def apply_cash_command(
    customer_id: str,
    invoice_id: str,
    currency: str,
    *,
    key: str,
    remittance_id: str,
    decision_id: str,
    system: str = "invoiced",
) -> OutboxCommand:
    """An ``apply_cash`` of 10.00 to one invoice, not yet added to a session."""
    return OutboxCommand(
        system=system,
        operation="apply_cash",
        canonical_type="remittance",
        canonical_id=remittance_id,
        idempotency_key=key,
        decision_id=decision_id,
        payload={
            "customer_id": customer_id,
            "currency": currency,
            "amount_minor": 1000,
            "unapplied_minor": 0,
            "lines": [{"invoice_id": invoice_id, "amount_minor": 1000}],
            "on": "2026-11-02",
        },
    )
