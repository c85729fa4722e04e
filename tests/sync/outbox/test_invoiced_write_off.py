"""An Invoiced write-off through the outbox, over real HTTP against the sandbox: a credit note,
then a zero-amount payment applying it to the invoice. A push stopped between or inside the
steps, even once Invoiced no longer remembers the Idempotency-Keys, ends with exactly one
credit note applied exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from canonical.enums import CommandStatus
from canonical.models import CreditMemo, ExternalRef, OutboxCommand, Payment
from canonical.store import Store
from connectors.base import MemoryTokenStore
from connectors.http import RetryPolicy
from connectors.invoiced import InvoicedConnector, InvoicedSandbox
from connectors.sandbox.world import World
from mappings.invoiced.push import InvoicedPush
from sync.outbox.worker import push
from sync.settings import PushSettings
from tests.sync.outbox.books import link_sandbox_invoice

pytestmark = pytest.mark.timeout(120)
KEY = "00112233445566778899aabbccddeeff"
AMOUNT_MINOR = 725
SETTINGS = PushSettings(backoff_seconds=0)


class Killed(BaseException):
    """The push process dying at a crash point (nothing after it runs)."""


@pytest.fixture
def sandbox() -> Iterator[InvoicedSandbox]:
    server = InvoicedSandbox(world=World.generate(seed=3, customers=10, invoices=80))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def adapter(sandbox: InvoicedSandbox) -> InvoicedPush:
    conn = InvoicedConnector(
        sandbox.config(),
        MemoryTokenStore(),
        policy=RetryPolicy(max_attempts=2, base_delay=0.01, sleep=lambda _: None),
    )
    return InvoicedPush(conn)


def open_invoice(sandbox: InvoicedSandbox) -> dict[str, Any]:
    return next(
        record
        for record in (sandbox.record("invoices", i) for i in sandbox.remote_ids("invoices"))
        if not record["voided"] and record["balance"] >= Decimal("20")
    )


def add_write_off(store: Store, invoice: dict[str, Any]) -> str:
    """The canonical customer and invoice linked to the sandbox's, and a write-off command."""
    customer_id, invoice_id = link_sandbox_invoice(store, invoice, "Write-off Co")
    with store.session() as s:
        command = OutboxCommand(
            system="invoiced",
            operation="write_off",
            canonical_type="invoice",
            canonical_id=invoice_id,
            idempotency_key=KEY,
            decision_id="d-wo",
            payload={
                "customer_id": customer_id,
                "currency": invoice["currency"].upper(),
                "invoice_id": invoice_id,
                "amount_minor": AMOUNT_MINOR,
                "reason": "short-pay",
                "adjustment_id": "adj-wo-1",
                "on": "2026-11-02",
            },
        )
        s.add(command)
    return command.id


def keyed(sandbox: InvoicedSandbox, stream: str, key: str) -> list[dict[str, Any]]:
    return [
        dict(r)
        for r in sandbox.ledger.records[stream].values()
        if (r.get("metadata") or {}).get("arsync_key") == key
    ]


def command_row(store: Store, command_id: str) -> OutboxCommand:
    with store.session() as s:
        row = s.get(OutboxCommand, command_id)
        assert row is not None
        s.expunge(row)
        return row


def assert_written_once(
    sandbox: InvoicedSandbox, store: Store, command_id: str, invoice: dict[str, Any]
) -> None:
    """Exactly one credit note, fully applied to the invoice by exactly one payment."""
    [note] = keyed(sandbox, "credit_memos", f"{KEY}:m")
    [payment] = keyed(sandbox, "payments", f"{KEY}:a")
    assert sandbox.credit_notes_created == 1 and sandbox.payments_created == 1
    amount = Decimal(AMOUNT_MINOR) / 100
    assert note["total"] == amount and note["balance"] == 0 and note["status"] == "paid"
    assert payment["amount"] == 0
    assert payment["applied_to"] == [
        {
            "type": "credit_note",
            "credit_note": note["id"],
            "document_type": "invoice",
            "invoice": invoice["id"],
            "amount": amount,
        }
    ]
    after = sandbox.record("invoices", str(invoice["id"]))
    assert after["balance"] == invoice["balance"] - amount
    row = command_row(store, command_id)
    assert row.status == CommandStatus.CONFIRMED, row.last_error
    assert row.result["remote_ids"] == {f"{KEY}:m": str(note["id"]), f"{KEY}:a": str(payment["id"])}
    assert row.remote_id == str(payment["id"])
    with store.session() as s:
        refs = {
            (r.canonical_type, r.remote_id): r.canonical_id
            for r in s.execute(
                select(ExternalRef).where(col(ExternalRef.system) == "invoiced")
            ).scalars()
        }
        # linked as the write-off's canonical credit memo and payment: the next pull links them
        assert refs[("credit_memo", str(note["id"]))] == "adj-wo-1"
        memo = s.get(CreditMemo, "adj-wo-1")
        assert memo is not None and memo.adjustment_id == "adj-wo-1"  # used up by the write-off
        assert (memo.total_minor, memo.balance_minor, memo.status) == (AMOUNT_MINOR, 0, "paid")
        assert refs[("payment", str(payment["id"]))] == "wadj-wo-1"
        assert s.get(Payment, "wadj-wo-1") is not None


def test_a_write_off_pushes_a_credit_note_then_applies_it(
    sandbox: InvoicedSandbox, adapter: InvoicedPush, store: Store
) -> None:
    invoice = open_invoice(sandbox)
    command_id = add_write_off(store, invoice)
    summary = push(store, {"invoiced": adapter}, settings=SETTINGS)
    assert summary.ok and summary.systems["invoiced"].confirmed == 1
    assert_written_once(sandbox, store, command_id, invoice)
    # nothing more to send
    again = push(store, {"invoiced": adapter}, settings=SETTINGS)
    assert again.written == 0 and sandbox.writes == 2


@pytest.mark.parametrize(
    ("point", "nth", "step_recorded"),
    [
        ("after_send", 1, False),  # the credit note landed, its reply was never recorded
        ("before_send", 2, True),  # the credit note recorded, the payment not yet sent
        ("after_send", 2, True),  # the payment landed, its reply was never recorded
    ],
    ids=["killed-after-the-credit-note", "killed-between-steps", "killed-after-the-payment"],
)
def test_a_push_killed_around_the_steps_writes_one_credit_note_applied_once(
    sandbox: InvoicedSandbox,
    adapter: InvoicedPush,
    store: Store,
    point: str,
    nth: int,
    step_recorded: bool,
) -> None:
    invoice = open_invoice(sandbox)
    command_id = add_write_off(store, invoice)
    seen = 0

    def crash(reached: str) -> None:
        nonlocal seen
        if reached == point:
            seen += 1
            if seen == nth:
                raise Killed(reached)

    with pytest.raises(Killed):
        push(store, {"invoiced": adapter}, settings=SETTINGS, crash=crash)
    row = command_row(store, command_id)
    assert row.status == CommandStatus.SENT  # the pusher died not knowing the step's fate
    assert (row.result.get("step") == 1) is step_recorded
    assert len(keyed(sandbox, "credit_memos", f"{KEY}:m")) == 1
    # Invoiced has forgotten the Idempotency-Keys: only the metadata lookup can tell
    sandbox.replies.clear()
    summary = push(store, {"invoiced": adapter}, settings=SETTINGS)
    assert summary.ok and summary.systems["invoiced"].confirmed == 1
    assert summary.systems["invoiced"].landed_unseen == (0 if point == "before_send" else 1)
    assert_written_once(sandbox, store, command_id, invoice)


def test_a_one_step_write_off_sent_before_the_upgrade_is_not_written_again(
    sandbox: InvoicedSandbox, adapter: InvoicedPush, store: Store
) -> None:
    """A write-off sent by the former one-step form (its credit note keyed by the command's
    own key, applied when created) whose reply was lost is found and confirmed as it is."""
    invoice = open_invoice(sandbox)
    command_id = add_write_off(store, invoice)
    amount = Decimal(AMOUNT_MINOR) / 100
    with sandbox.lock:  # what the former write left in Invoiced
        note = sandbox.ledger.create_credit_note(
            {
                "customer": invoice["customer"],
                "items": [{"name": "Deduction short-pay", "quantity": 1, "unit_cost": amount}],
                "metadata": {"arsync_key": KEY},
            }
        )
        sandbox.ledger.create_payment(
            {
                "customer": invoice["customer"],
                "amount": 0,
                "applied_to": [
                    {
                        "type": "credit_note",
                        "credit_note": note["id"],
                        "document_type": "invoice",
                        "invoice": invoice["id"],
                        "amount": amount,
                    }
                ],
            }
        )
    with store.session() as s:
        row = s.get(OutboxCommand, command_id)
        assert row is not None
        row.status = CommandStatus.SENT
        row.attempts = 1
        row.result = {"sending": KEY}
    summary = push(store, {"invoiced": adapter}, settings=SETTINGS)
    assert summary.ok and summary.systems["invoiced"].landed_unseen == 1
    done = command_row(store, command_id)
    assert done.status == CommandStatus.CONFIRMED and done.remote_id == str(note["id"])
    assert sandbox.writes == 0  # no second credit note, no second application
    assert sandbox.record("invoices", str(invoice["id"]))["balance"] == invoice["balance"] - amount
