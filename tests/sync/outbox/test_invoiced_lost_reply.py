"""An Invoiced payment whose every reply was lost, over real HTTP against the sandbox: the write
is uncertain (``sent``), and later pushes look for it by the key in its metadata before
sending anything again, even once Invoiced no longer remembers the Idempotency-Key (a retry
the next day, a payment reversed meanwhile). One remittance, one payment, whatever happens."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from canonical.enums import CommandStatus
from canonical.models import OutboxCommand
from canonical.store import Store
from canonical.types import utcnow
from connectors.base import MemoryTokenStore
from connectors.http import RetryPolicy
from connectors.invoiced import InvoicedConnector, InvoicedSandbox
from connectors.sandbox.server import Faults
from connectors.sandbox.world import World
from mappings.invoiced.push import InvoicedPush
from sync.outbox.control import retry
from sync.outbox.worker import push
from sync.settings import PushSettings
from tests.sync.outbox.books import apply_cash_command, link_sandbox_invoice, plan_reversal
from tests.sync.outbox.test_invoiced_write_off import command_row, keyed, open_invoice

pytestmark = pytest.mark.timeout(120)
KEY = "0123456789abcdef0123456789abcdef"
SETTINGS = PushSettings(backoff_seconds=0, max_attempts=2)


@pytest.fixture
def sandbox() -> Iterator[InvoicedSandbox]:
    server = InvoicedSandbox(world=World.generate(seed=3, customers=10, invoices=80))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def adapter(sandbox: InvoicedSandbox) -> InvoicedPush:
    # one attempt per call: a lost reply is the outage outlasting the retries
    conn = InvoicedConnector(
        sandbox.config(), MemoryTokenStore(), policy=RetryPolicy(max_attempts=1)
    )
    return InvoicedPush(conn)


def add_payment(store: Store, invoice: dict[str, Any]) -> tuple[str, str, str]:
    """The canonical customer and invoice linked to the sandbox's, and an ``apply_cash`` of
    10.00 to the invoice: (command id, customer id, invoice id)."""
    customer_id, invoice_id = link_sandbox_invoice(store, invoice, "Lost Reply Co")
    with store.session() as s:
        command = apply_cash_command(
            customer_id,
            invoice_id,
            invoice["currency"].upper(),
            key=KEY,
            remittance_id="rem-lost",
            decision_id="d-cash",
        )
        s.add(command)
    return command.id, customer_id, invoice_id


def push_with_every_reply_lost(
    sandbox: InvoicedSandbox, adapter: InvoicedPush, store: Store, command_id: str
) -> None:
    sandbox.faults = Faults(drop_reply_next=1)
    summary = push(store, {"invoiced": adapter}, settings=SETTINGS)
    sandbox.faults = Faults()
    assert summary.ok
    row = command_row(store, command_id)
    assert row.status == CommandStatus.SENT, row.last_error  # uncertain, not failed
    assert "outcome unknown" in (row.last_error or "")
    assert len(keyed(sandbox, "payments", KEY)) == 1  # it landed


def test_a_payment_whose_replies_were_lost_is_found_not_paid_twice(
    sandbox: InvoicedSandbox, adapter: InvoicedPush, store: Store
) -> None:
    invoice = open_invoice(sandbox)
    command_id, _, _ = add_payment(store, invoice)
    push_with_every_reply_lost(sandbox, adapter, store, command_id)
    sandbox.replies.clear()  # Invoiced no longer remembers the key
    summary = push(store, {"invoiced": adapter}, settings=SETTINGS)
    assert summary.ok and summary.systems["invoiced"].landed_unseen == 1
    [payment] = keyed(sandbox, "payments", KEY)
    row = command_row(store, command_id)
    assert row.status == CommandStatus.CONFIRMED and row.remote_id == str(payment["id"])
    assert sandbox.payments_created == 1
    after = sandbox.record("invoices", str(invoice["id"]))
    assert after["balance"] == invoice["balance"] - Decimal("10.00")


def test_a_dead_payment_retried_the_next_day_is_looked_for_first(
    sandbox: InvoicedSandbox, adapter: InvoicedPush, store: Store
) -> None:
    """As left by a former version, which took a lost reply for a failure: dead after its
    attempts, though Invoiced holds the payment; a person retries it a day later."""
    invoice = open_invoice(sandbox)
    command_id, _, _ = add_payment(store, invoice)
    push_with_every_reply_lost(sandbox, adapter, store, command_id)
    with store.session() as s:
        row = s.get(OutboxCommand, command_id)
        assert row is not None
        row.status, row.attempts = CommandStatus.DEAD, 2
    sandbox.replies.clear()
    assert retry(store, "default", all_failed=True) == 1
    tomorrow = utcnow() + timedelta(hours=26)
    summary = push(store, {"invoiced": adapter}, settings=SETTINGS, now=tomorrow)
    assert summary.systems["invoiced"].landed_unseen == 1
    assert command_row(store, command_id).status == CommandStatus.CONFIRMED
    assert sandbox.payments_created == 1 and len(keyed(sandbox, "payments", KEY)) == 1


def reverse(store: Store, customer: str, invoice: str) -> None:
    plan_reversal(
        store,
        ["invoiced"],
        customer=customer,
        invoice=invoice,
        amount_minor=1000,
        original_decision="d-cash",
    )


def test_a_payment_reversed_before_its_lost_reply_was_found_is_voided(
    sandbox: InvoicedSandbox, adapter: InvoicedPush, store: Store
) -> None:
    invoice = open_invoice(sandbox)
    command_id, customer, inv = add_payment(store, invoice)
    push_with_every_reply_lost(sandbox, adapter, store, command_id)
    reverse(store, customer, inv)
    summary = push(store, {"invoiced": adapter}, settings=SETTINGS)
    assert summary.ok and summary.systems["invoiced"].dead == 0
    [payment] = keyed(sandbox, "payments", KEY)
    assert payment["voided"]  # the bank took the cash back: nothing stays applied
    assert sandbox.record("invoices", str(invoice["id"]))["balance"] == invoice["balance"]
    assert sandbox.payments_created == 1
    with store.session() as s:
        statuses = {c.operation: c.status for c in s.execute(select(OutboxCommand)).scalars()}
    assert statuses == {"apply_cash": CommandStatus.CONFIRMED, "void_cash": CommandStatus.CONFIRMED}


def test_a_payment_reversed_before_it_ever_reached_invoiced_writes_nothing(
    sandbox: InvoicedSandbox, adapter: InvoicedPush, store: Store
) -> None:
    invoice = open_invoice(sandbox)
    command_id, customer, inv = add_payment(store, invoice)
    with store.session() as s:  # a crash after marking it sent, before sending
        row = s.get(OutboxCommand, command_id)
        assert row is not None
        row.status, row.attempts, row.sent_at = CommandStatus.SENT, 1, utcnow()
    reverse(store, customer, inv)
    summary = push(store, {"invoiced": adapter}, settings=SETTINGS)
    assert summary.ok and sandbox.writes == 0
    with store.session() as s:
        statuses = {c.operation: c.status for c in s.execute(select(OutboxCommand)).scalars()}
    assert statuses == {"apply_cash": CommandStatus.CANCELLED, "void_cash": CommandStatus.CANCELLED}
