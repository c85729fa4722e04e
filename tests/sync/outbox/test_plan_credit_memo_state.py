"""The CRM gets a credit memo's state after each decision that uses its credit, as it gets
the invoices' state: one ``credit_memo_state`` per memo it holds."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from canonical.models import OutboxCommand
from canonical.store import Store
from reconciler import reconcile
from sync.outbox.plan import OutboxPlanner, command_key
from tests.sync.outbox.books import Book

ALL = ("quickbooks", "invoiced", "salesforce", "intacct")


def crm(store: Store) -> list[tuple[str, str, dict[str, str]]]:
    with store.session() as s:
        made = s.execute(select(OutboxCommand).where(col(OutboxCommand.system) == "salesforce"))
        return sorted((c.operation, c.canonical_id, c.payload) for c in made.scalars())


def test_a_credit_memo_applied_by_the_reconciler_gets_its_state_in_the_crm(
    store: Store,
) -> None:
    book = Book(store)
    acme = book.customer("Acme Corp", ALL)
    inv = book.invoice(acme, "INV-2001", "200.00", ALL)
    memo = book.credit(acme, "CM-9", "20.00", ALL)
    reconcile(store, sink=OutboxPlanner("default", list(ALL)))
    assert crm(store) == sorted(
        [
            ("invoice_state", inv, {"invoice_id": inv}),
            ("credit_memo_state", memo, {"credit_memo_id": memo}),
            ("account_summary", acme, {"customer_id": acme}),
        ]
    )
    with store.session() as s:
        state = s.execute(
            select(OutboxCommand).where(col(OutboxCommand.operation) == "credit_memo_state")
        ).scalar_one()
    assert state.canonical_type == "credit_memo"
    assert state.idempotency_key == command_key(
        "default", "salesforce", "credit_memo_state", memo, str(state.decision_id)
    )


def test_a_credit_memo_the_crm_does_not_hold_gets_no_state(store: Store) -> None:
    book = Book(store)
    acme = book.customer("Acme Corp", ALL)
    book.invoice(acme, "INV-2001", "200.00", ALL)
    book.credit(acme, "CM-9", "20.00", ("quickbooks", "invoiced", "intacct"))
    reconcile(store, sink=OutboxPlanner("default", list(ALL)))
    assert [op for op, _, _ in crm(store)] == ["account_summary", "invoice_state"]


def test_a_credit_memo_netted_off_a_payment_gets_its_state_in_the_crm(store: Store) -> None:
    book = Book(store)
    acme = book.customer("Acme Corp", ALL)
    inv = book.invoice(acme, "INV-2101", "500.00", ALL)
    memo = book.credit(acme, "CM-21", "120.00", ALL)
    book.remittance("Acme Corp", "380.00", "INV-2101 less CM-21")
    reconcile(store, sink=OutboxPlanner("default", list(ALL)))
    assert [(op, cid) for op, cid, _ in crm(store)] == sorted(
        [("invoice_state", inv), ("credit_memo_state", memo), ("account_summary", acme)]
    )
