"""A payment whose first attempt landed with its reply lost, then whose retry was refused by
revoked credentials, over real HTTP against the Invoiced sandbox: the write's outcome is
unknown, so it stays ``sent`` (never put back as unsent), the push stops on the auth failure
and reports it, and once the credentials are restored (and Invoiced has forgotten the
Idempotency-Key) the next push finds the payment instead of writing it a second time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from canonical.enums import CommandStatus
from canonical.store import Store
from connectors.base import MemoryTokenStore
from connectors.http import RetryPolicy
from connectors.invoiced import InvoicedConnector, InvoicedSandbox
from connectors.sandbox.server import Faults
from connectors.sandbox.world import World
from mappings.invoiced.push import InvoicedPush
from sync.outbox.worker import push
from sync.settings import PushSettings
from tests.sync.outbox.books import apply_cash_command, link_sandbox_invoice
from tests.sync.outbox.test_invoiced_write_off import command_row, keyed

pytestmark = pytest.mark.timeout(120)
KEYS = ("a" * 32, "b" * 32)
SETTINGS = PushSettings(backoff_seconds=0, max_attempts=3)


@pytest.fixture
def sandbox() -> Iterator[InvoicedSandbox]:
    server = InvoicedSandbox(world=World.generate(seed=5, customers=10, invoices=80))
    server.start()
    yield server
    server.stop()


class Revoker:
    """A retry policy's sleep that revokes the API key before the first retry, when armed."""

    def __init__(self, sandbox: InvoicedSandbox) -> None:
        self.sandbox = sandbox
        self.armed = False
        self.key = sandbox.api_key

    def __call__(self, _seconds: float) -> None:
        if self.armed:
            self.armed = False
            self.sandbox.api_key = "sk_test_" + "0" * 32

    def restore(self) -> None:
        self.sandbox.api_key = self.key


def open_invoices(sandbox: InvoicedSandbox, count: int) -> list[dict[str, Any]]:
    found = [
        record
        for record in (sandbox.record("invoices", i) for i in sandbox.remote_ids("invoices"))
        if not record["voided"] and record["balance"] >= 20
    ]
    return found[:count]


def add_payments(store: Store, invoices: list[dict[str, Any]]) -> list[str]:
    """One ``apply_cash`` of 10.00 per invoice, each on its own canonical customer and invoice
    linked to the sandbox's; the command ids, oldest first."""
    ids: list[str] = []
    for n, (invoice, key) in enumerate(zip(invoices, KEYS[: len(invoices)], strict=True)):
        customer_id, invoice_id = link_sandbox_invoice(store, invoice, f"Revoked Midway {n} Co")
        with store.session() as s:
            command = apply_cash_command(
                customer_id,
                invoice_id,
                invoice["currency"].upper(),
                key=key,
                remittance_id=f"rem-revoked-{n}",
                decision_id=f"d-revoked-{n}",
            )
            s.add(command)
            s.flush()
            ids.append(command.id)
    return ids


def test_a_write_landed_then_refused_on_retry_stays_sent_and_is_found_not_resent(
    sandbox: InvoicedSandbox, store: Store
) -> None:
    revoker = Revoker(sandbox)
    conn = InvoicedConnector(
        sandbox.config(),
        MemoryTokenStore(),
        policy=RetryPolicy(max_attempts=3, base_delay=0, sleep=revoker),
    )
    adapter = InvoicedPush(conn)
    first, second = add_payments(store, open_invoices(sandbox, 2))

    # the first payment is applied, its reply lost; before the retry the key is revoked
    sandbox.faults = Faults(drop_reply_next=1)
    revoker.armed = True
    summary = push(store, {"invoiced": adapter}, settings=SETTINGS)
    sandbox.faults = Faults()
    assert sandbox.payments_created == 1 and len(keyed(sandbox, "payments", KEYS[0])) == 1

    result = summary.systems["invoiced"]
    assert not summary.ok and result.error is not None  # stopped, the auth failure reported
    assert "invoiced" in result.error and revoker.key not in result.error
    row = command_row(store, first)
    assert row.status == CommandStatus.SENT, row.last_error  # may have landed: looked for
    assert "outcome unknown" in (row.last_error or "")
    assert revoker.key not in (row.last_error or "")
    assert command_row(store, second).status == CommandStatus.PENDING  # never sent

    # credentials restored, the idempotency window passed: found, not paid twice
    revoker.restore()
    sandbox.replies.clear()
    summary = push(store, {"invoiced": adapter}, settings=SETTINGS)
    assert summary.ok, summary.systems["invoiced"].error
    assert summary.systems["invoiced"].landed_unseen == 1
    assert sandbox.payments_created == 2
    for command_id, key in zip((first, second), KEYS, strict=True):
        [payment] = keyed(sandbox, "payments", key)
        row = command_row(store, command_id)
        assert row.status == CommandStatus.CONFIRMED and row.remote_id == str(payment["id"])


def test_credentials_failing_on_the_last_write_still_stop_and_report_the_push(
    sandbox: InvoicedSandbox, store: Store
) -> None:
    revoker = Revoker(sandbox)
    conn = InvoicedConnector(
        sandbox.config(),
        MemoryTokenStore(),
        policy=RetryPolicy(max_attempts=3, base_delay=0, sleep=revoker),
    )
    [only] = add_payments(store, open_invoices(sandbox, 1))
    sandbox.faults = Faults(drop_reply_next=1)
    revoker.armed = True
    summary = push(store, {"invoiced": InvoicedPush(conn)}, settings=SETTINGS)
    result = summary.systems["invoiced"]
    # no later request was refused to report it: the retried write's auth failure is
    assert not summary.ok and result.error is not None and "invoiced" in result.error
    assert command_row(store, only).status == CommandStatus.SENT
