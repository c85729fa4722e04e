"""Applied decisions become outbox commands in the decisions' own transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from canonical.enums import CommandStatus
from canonical.models import Decision, OutboxCommand
from canonical.store import Store
from reconciler import reconcile
from reconciler.apply import FlushedBatch
from sync.outbox.plan import OutboxPlanner, command_key
from tests.sync.outbox.books import Book

ALL = ("quickbooks", "invoiced", "salesforce", "intacct")


def commands(store: Store) -> list[OutboxCommand]:
    with store.session() as s:
        return list(s.execute(select(OutboxCommand)).scalars())


def test_a_payment_to_two_invoices_is_one_command_per_payment_system(store: Store) -> None:
    book = Book(store)
    acme = book.customer("Acme Corp", ALL)
    i1 = book.invoice(acme, "INV-1001", "100.00", ALL)
    i2 = book.invoice(acme, "INV-1002", "50.00", ("quickbooks", "invoiced", "intacct"))
    book.remittance("Acme Corp", "150.00", "INV-1001 INV-1002")
    reconcile(store, sink=OutboxPlanner("default", list(ALL)))
    made = commands(store)
    cash = {c.system: c for c in made if c.operation == "apply_cash"}
    assert set(cash) == {"quickbooks", "invoiced", "intacct"}
    payload = cash["quickbooks"].payload
    assert payload["amount_minor"] == 15000 and payload["unapplied_minor"] == 0
    assert sorted(
        (line["invoice_id"], line["amount_minor"]) for line in payload["lines"]
    ) == sorted([(i1, 10000), (i2, 5000)])
    assert payload["on"] == "2026-11-02" and payload["reference"].startswith("BANK")
    # the CRM gets state, and only for the invoices it holds
    crm = sorted((c.operation, c.canonical_id) for c in made if c.system == "salesforce")
    assert crm == [("account_summary", acme), ("invoice_state", i1)]
    assert all(c.status == CommandStatus.PENDING and c.attempts == 0 for c in made)
    with store.session() as s:
        decision = s.execute(select(Decision)).scalar_one()
    assert {c.decision_id for c in made} == {decision.id}
    assert cash["invoiced"].idempotency_key == command_key(
        "default", "invoiced", "apply_cash", cash["invoiced"].canonical_id, decision.id
    )
    assert len({c.idempotency_key for c in made}) == len(made)


def test_suggestions_and_exceptions_write_nothing(store: Store) -> None:
    book = Book(store)
    acme = book.customer("Acme Corp", ALL)
    book.invoice(acme, "INV-1001", "100.00", ALL)
    book.remittance("Nobody Known Ltd", "77.00", "no reference")
    reconcile(store, sink=OutboxPlanner("default", list(ALL)))
    assert commands(store) == []


def test_a_system_without_the_customer_gets_no_command(store: Store) -> None:
    book = Book(store)
    acme = book.customer("Acme Corp", ("quickbooks",))
    book.invoice(acme, "INV-1001", "100.00", ("quickbooks",))
    book.remittance("Acme Corp", "100.00", "INV-1001")
    reconcile(store, sink=OutboxPlanner("default", list(ALL)))
    assert {c.system for c in commands(store)} == {"quickbooks"}


def test_credit_memos_and_deductions_become_their_own_commands(store: Store) -> None:
    book = Book(store)
    acme = book.customer("Acme Corp", ("quickbooks", "invoiced"))
    inv = book.invoice(acme, "INV-2001", "200.00", ("quickbooks", "invoiced"))
    memo = book.credit(acme, "CM-9", "20.00", ("quickbooks", "invoiced"))
    reconcile(store, sink=OutboxPlanner("default", ["quickbooks", "invoiced"]))
    credit = [c for c in commands(store) if c.operation == "apply_credit"]
    assert {c.system for c in credit} == {"quickbooks", "invoiced"}
    assert credit[0].payload["credit_memo_id"] == memo
    assert credit[0].payload["lines"] == [{"invoice_id": inv, "amount_minor": 2000}]


def test_a_credit_memo_netted_off_a_payment_is_an_apply_credit_beside_the_cash(
    store: Store,
) -> None:
    book = Book(store)
    acme = book.customer("Acme Corp", ("quickbooks", "invoiced"))
    inv = book.invoice(acme, "INV-2101", "500.00", ("quickbooks", "invoiced"))
    memo = book.credit(acme, "CM-21", "120.00", ("quickbooks", "invoiced"))
    book.remittance("Acme Corp", "380.00", "INV-2101 less CM-21")
    reconcile(store, sink=OutboxPlanner("default", ["quickbooks", "invoiced"]))
    made = commands(store)
    for system in ("quickbooks", "invoiced"):
        mine = {c.operation: c for c in made if c.system == system}
        assert set(mine) == {"apply_cash", "apply_credit"}
        cash, credit = mine["apply_cash"].payload, mine["apply_credit"].payload
        assert (cash["amount_minor"], cash["lines"]) == (
            38000,
            [{"invoice_id": inv, "amount_minor": 38000}],
        )
        assert credit["credit_memo_id"] == memo == mine["apply_credit"].canonical_id
        assert credit["lines"] == [{"invoice_id": inv, "amount_minor": 12000}]
        assert mine["apply_cash"].decision_id == mine["apply_credit"].decision_id


def test_commands_roll_back_with_their_decisions(store: Store) -> None:
    book = Book(store)
    acme = book.customer("Acme Corp", ALL)
    book.invoice(acme, "INV-1001", "100.00", ALL)
    book.remittance("Acme Corp", "100.00", "INV-1001")
    planner = OutboxPlanner("default", list(ALL))

    def failing(session: object, batch: FlushedBatch) -> None:
        planner(session, batch)  # type: ignore[arg-type]
        raise RuntimeError("crash inside the flush")

    with pytest.raises(RuntimeError):
        reconcile(store, sink=failing)
    with store.session() as s:
        assert s.execute(select(Decision)).first() is None
    assert commands(store) == []
    reconcile(store, sink=planner)  # and the next run decides and plans it once
    assert len([c for c in commands(store) if c.operation == "apply_cash"]) == 3
    reconcile(store, sink=planner)
    assert len([c for c in commands(store) if c.operation == "apply_cash"]) == 3
