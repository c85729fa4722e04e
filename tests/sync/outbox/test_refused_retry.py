"""A write the system refused, retried by a person once the cause is fixed, over real HTTP
against the sandboxes: QuickBooks answers a repeated ``requestid`` and Invoiced a repeated
``Idempotency-Key`` with the first reply, so the retry goes with a new wire key and lands.
A write whose reply was lost keeps its wire key: resent, the system answers it once."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import pytest

from canonical.enums import CommandStatus
from canonical.keys import document_key, name_key
from canonical.models import Customer, Invoice
from canonical.money import Money
from canonical.store import Store
from connectors.base import MemoryTokenStore
from connectors.http import RetryPolicy
from connectors.invoiced import InvoicedConnector, InvoicedSandbox
from connectors.quickbooks import QuickBooksConnector, QuickBooksSandbox
from connectors.quickbooks.sandbox_ledger import LedgerFault
from connectors.sandbox.server import Faults
from connectors.sandbox.world import World
from mappings.invoiced.push import InvoicedPush
from mappings.quickbooks.push import QuickBooksPush
from sync.outbox.adapter import Step, StepResult
from sync.outbox.control import retry
from sync.outbox.worker import push
from sync.settings import PushSettings
from tests.sync.outbox.books import apply_cash_command, external_ref, link_sandbox_invoice
from tests.sync.outbox.test_invoiced_write_off import command_row, keyed, open_invoice

pytestmark = pytest.mark.timeout(120)
KEY = "fedcba9876543210fedcba9876543210"
SETTINGS = PushSettings(backoff_seconds=0, max_attempts=2)
CLOSED_THROUGH = "2026-11-30"  # QuickBooks' closing date while the books are closed


# QuickBooks ---------------------------------------------------------------------------------
@pytest.fixture
def qbo() -> Iterator[QuickBooksSandbox]:
    box = QuickBooksSandbox(world=World.generate(seed=5, customers=8, invoices=40))
    box.start()
    yield box
    box.stop()


def qbo_adapter(box: QuickBooksSandbox) -> QuickBooksPush:
    # one attempt per call: a lost reply is the outage outlasting the retries
    tokens = MemoryTokenStore(box.initial_tokens())
    policy = RetryPolicy(max_attempts=1, sleep=lambda _: None)
    return QuickBooksPush(QuickBooksConnector(box.config(), tokens, policy=policy))


def qbo_payment(store: Store, box: QuickBooksSandbox) -> tuple[str, dict[str, Any]]:
    """An ``apply_cash`` of 10.00 dated 2026-11-02 to an open QuickBooks invoice, its
    customer and invoice linked to the sandbox's: (command id, the invoice as it was)."""
    invoice = next(
        dict(i)
        for i in box.records["Invoice"].values()
        if i["CurrencyRef"]["value"] == "USD" and Decimal(i["Balance"]) >= 20
    )
    balance = Money(invoice["Balance"], "USD").minor
    with store.session() as s:
        customer = Customer(name="Closed Books Co", name_key=name_key("Closed Books Co"))
        s.add(customer)
        s.flush()
        number = str(invoice.get("DocNumber") or invoice["Id"])
        inv = Invoice(
            customer_id=customer.id,
            number=number,
            number_key=document_key(number),
            currency="USD",
            total_minor=Money(invoice["TotalAmt"], "USD").minor,
            balance_minor=balance,
        )
        s.add(inv)
        s.flush()
        s.add(
            external_ref("customer", customer.id, "quickbooks", invoice["CustomerRef"]["value"], {})
        )
        values = {"number": number, "balance_minor": str(balance)}
        s.add(external_ref("invoice", inv.id, "quickbooks", str(invoice["Id"]), values))
        command = apply_cash_command(
            customer.id,
            inv.id,
            "USD",
            key=KEY,
            remittance_id="rem-closed",
            decision_id="d-closed",
            system="quickbooks",
        )
        s.add(command)
    return command.id, invoice


def close_books(box: QuickBooksSandbox) -> Callable[[], None]:
    """QuickBooks refuses transactions dated on or before the closing date (error 6210,
    "Account Period Closed"); the function returned reopens the books."""
    create = box.ledger.create_payment

    def refusing(obj: Any) -> Any:
        if str(obj.get("TxnDate") or "") <= CLOSED_THROUGH:
            raise LedgerFault(
                "6210",
                "Account Period Closed",
                f"the books are closed through {CLOSED_THROUGH}: nothing dated on or before it "
                "can be added through the API",
            )
        return create(obj)

    box.ledger.create_payment = refusing  # type: ignore[method-assign]
    return lambda: setattr(box.ledger, "create_payment", create)


def qbo_keyed(box: QuickBooksSandbox, key: str) -> list[dict[str, Any]]:
    return [
        p
        for p in box.records["Payment"].values()
        if str(p.get("PrivateNote") or "").startswith(f"arsync:{key}")
    ]


def refused_then_fixed(store: Store, push_once: Callable[[], Any], command_id: str) -> None:
    """The first push is refused (dead, naming why); the cause is then fixed by the caller
    and a person retries the command."""
    push_once()
    row = command_row(store, command_id)
    assert row.status == CommandStatus.DEAD, (row.status, row.last_error)


def test_a_payment_refused_for_closed_books_lands_when_retried_after_they_reopen(
    qbo: QuickBooksSandbox, store: Store
) -> None:
    adapter = qbo_adapter(qbo)
    command_id, invoice = qbo_payment(store, qbo)
    reopen = close_books(qbo)
    refused_then_fixed(store, lambda: push(store, {"quickbooks": adapter}), command_id)
    assert "Account Period Closed" in (command_row(store, command_id).last_error or "")
    assert qbo_keyed(qbo, KEY) == []

    reopen()
    assert retry(store, "default", command_id) == 1
    summary = push(store, {"quickbooks": adapter}, settings=SETTINGS)
    row = command_row(store, command_id)
    assert row.status == CommandStatus.CONFIRMED, row.last_error
    assert summary.systems["quickbooks"].confirmed == 1
    [payment] = qbo_keyed(qbo, KEY)  # found later by the command's own key
    assert row.remote_id == payment["Id"]
    after = qbo.records["Invoice"][invoice["Id"]]
    assert Decimal(after["Balance"]) == Decimal(invoice["Balance"]) - Decimal("10.00")


def test_a_retried_payment_whose_reply_is_lost_is_resent_with_the_same_requestid(
    qbo: QuickBooksSandbox, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the retry, the payment lands but its reply is lost; the lookup misses it (as one
    started before the look-up's window would be): the resend carries the retry's requestid,
    QuickBooks answers it with the first reply, and one payment exists."""
    adapter = qbo_adapter(qbo)
    command_id, invoice = qbo_payment(store, qbo)
    reopen = close_books(qbo)
    refused_then_fixed(store, lambda: push(store, {"quickbooks": adapter}), command_id)
    reopen()
    assert retry(store, "default", command_id) == 1

    qbo.faults = Faults(drop_reply_next=1)
    push(store, {"quickbooks": adapter}, settings=SETTINGS)
    qbo.faults = Faults()
    assert command_row(store, command_id).status == CommandStatus.SENT  # outcome unknown
    [landed] = qbo_keyed(qbo, KEY)
    sent_ids = set(qbo.replies)

    monkeypatch.setattr(adapter, "landed", lambda steps, since: {})
    push(store, {"quickbooks": adapter}, settings=SETTINGS)
    row = command_row(store, command_id)
    assert row.status == CommandStatus.CONFIRMED, row.last_error
    assert set(qbo.replies) == sent_ids  # no new requestid: the retry's own was sent again
    assert qbo_keyed(qbo, KEY) == [landed] and row.remote_id == landed["Id"]
    after = qbo.records["Invoice"][invoice["Id"]]
    assert Decimal(after["Balance"]) == Decimal(invoice["Balance"]) - Decimal("10.00")


def test_a_payment_whose_reply_was_lost_is_never_sent_with_another_requestid(
    qbo: QuickBooksSandbox, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No refusal: every resend of a write whose outcome is unknown carries its first key."""
    adapter = qbo_adapter(qbo)
    command_id, _ = qbo_payment(store, qbo)
    qbo.faults = Faults(drop_reply_next=1)
    push(store, {"quickbooks": adapter}, settings=SETTINGS)
    qbo.faults = Faults()
    [landed] = qbo_keyed(qbo, KEY)
    sent_ids = set(qbo.replies)
    monkeypatch.setattr(adapter, "landed", lambda steps, since: {})
    push(store, {"quickbooks": adapter}, settings=SETTINGS)
    row = command_row(store, command_id)
    assert row.status == CommandStatus.CONFIRMED and row.remote_id == landed["Id"]
    assert set(qbo.replies) == sent_ids and qbo_keyed(qbo, KEY) == [landed]
    assert "refusals" not in (row.result or {})


# Invoiced -----------------------------------------------------------------------------------
@pytest.fixture
def invoiced() -> Iterator[InvoicedSandbox]:
    server = InvoicedSandbox(world=World.generate(seed=3, customers=10, invoices=80))
    server.start()
    yield server
    server.stop()


def invoiced_adapter(sandbox: InvoicedSandbox) -> InvoicedPush:
    conn = InvoicedConnector(
        sandbox.config(), MemoryTokenStore(), policy=RetryPolicy(max_attempts=1)
    )
    return InvoicedPush(conn)


def invoiced_payment(store: Store, invoice: dict[str, Any]) -> str:
    customer_id, invoice_id = link_sandbox_invoice(store, invoice, "Moved Invoice Co")
    with store.session() as s:
        command = apply_cash_command(
            customer_id,
            invoice_id,
            invoice["currency"].upper(),
            key=KEY,
            remittance_id="rem-moved",
            decision_id="d-moved",
        )
        s.add(command)
    return command.id


def move_invoice(sandbox: InvoicedSandbox, invoice: dict[str, Any]) -> Callable[[], None]:
    """Someone moves the invoice to another customer in Invoiced by mistake (a payment of
    its customer is then refused); the function returned moves it back."""
    record = sandbox.ledger.records["invoices"][int(invoice["id"])]
    owner = record["customer"]
    other = next(c for c in sandbox.ledger.records["customers"] if c != owner)
    record["customer"] = other
    return lambda: record.__setitem__("customer", owner)


def test_an_invoiced_payment_refused_then_fixed_lands_when_retried(
    invoiced: InvoicedSandbox, store: Store
) -> None:
    adapter = invoiced_adapter(invoiced)
    invoice = open_invoice(invoiced)
    command_id = invoiced_payment(store, invoice)
    move_back = move_invoice(invoiced, invoice)
    refused_then_fixed(store, lambda: push(store, {"invoiced": adapter}), command_id)
    assert "another customer" in (command_row(store, command_id).last_error or "")

    move_back()
    assert retry(store, "default", command_id) == 1
    push(store, {"invoiced": adapter}, settings=SETTINGS)
    row = command_row(store, command_id)
    assert row.status == CommandStatus.CONFIRMED, row.last_error
    [payment] = keyed(invoiced, "payments", KEY)  # metadata carries the command's own key
    assert row.remote_id == str(payment["id"]) and invoiced.payments_created == 1
    after = invoiced.record("invoices", str(invoice["id"]))
    assert after["balance"] == invoice["balance"] - Decimal("10.00")


def test_an_invoiced_retry_whose_reply_is_lost_is_resent_with_its_own_key(
    invoiced: InvoicedSandbox, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    adapter = invoiced_adapter(invoiced)
    invoice = open_invoice(invoiced)
    command_id = invoiced_payment(store, invoice)
    move_back = move_invoice(invoiced, invoice)
    refused_then_fixed(store, lambda: push(store, {"invoiced": adapter}), command_id)
    move_back()
    assert retry(store, "default", command_id) == 1

    invoiced.faults = Faults(drop_reply_next=1)
    push(store, {"invoiced": adapter}, settings=SETTINGS)
    invoiced.faults = Faults()
    assert command_row(store, command_id).status == CommandStatus.SENT
    keys = set(invoiced.replies)
    monkeypatch.setattr(adapter, "landed", lambda steps, since: {})
    push(store, {"invoiced": adapter}, settings=SETTINGS)
    row = command_row(store, command_id)
    assert row.status == CommandStatus.CONFIRMED, row.last_error
    assert set(invoiced.replies) == keys  # the same Idempotency-Key: the first reply
    [payment] = keyed(invoiced, "payments", KEY)
    assert invoiced.payments_created == 1 and row.remote_id == str(payment["id"])


# the worker's record of refusals ------------------------------------------------------------
def test_a_refusal_counts_once_and_a_retry_keeps_the_count(
    qbo: QuickBooksSandbox, store: Store
) -> None:
    """Two refusals, two new keys; ``outbox retry`` and a lost reply change neither."""
    adapter = qbo_adapter(qbo)
    command_id, _ = qbo_payment(store, qbo)
    close_books(qbo)
    seen: list[str] = []
    send = adapter.send

    def recording(steps: Sequence[Step]) -> list[StepResult]:
        seen.extend(s.command.wire_key(s.key) for s in steps)
        return send(steps)

    adapter.send = recording  # type: ignore[method-assign]
    push(store, {"quickbooks": adapter}, settings=SETTINGS)
    assert (command_row(store, command_id).result or {}).get("refusals") == 1
    retry(store, "default", command_id)
    push(store, {"quickbooks": adapter}, settings=SETTINGS)
    row = command_row(store, command_id)
    assert row.status == CommandStatus.DEAD and (row.result or {}).get("refusals") == 2
    assert seen == [KEY, f"{KEY}-r1"]
    assert len(set(qbo.replies)) == 2
