"""Payments written to the Invoiced sandbox: applications move balances, keys make it once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from connectors.base import MemoryTokenStore
from connectors.errors import DataError, UncertainWriteError
from connectors.http import RetryPolicy
from connectors.invoiced import InvoicedConnector, InvoicedSandbox
from connectors.invoiced.writes import Application, PaymentCreate, credit_note_application
from connectors.sandbox.world import World
from mappings.base import MappingContext
from mappings.invoiced import payment as payment_mapping


@pytest.fixture
def sandbox() -> Iterator[InvoicedSandbox]:
    server = InvoicedSandbox(world=World.generate(seed=9, customers=12, invoices=120))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def conn(sandbox: InvoicedSandbox) -> InvoicedConnector:
    return InvoicedConnector(
        sandbox.config(), MemoryTokenStore(), policy=RetryPolicy(sleep=lambda _: None)
    )


def open_invoices(sandbox: InvoicedSandbox, count: int) -> list[dict[str, Any]]:
    """``count`` unpaid invoices of one customer."""
    by_customer: dict[int, list[dict[str, Any]]] = {}
    for remote_id in sandbox.remote_ids("invoices"):
        record = sandbox.record("invoices", remote_id)
        if not record["voided"] and record["balance"] == record["total"]:
            by_customer.setdefault(record["customer"], []).append(record)
    return next(group for group in by_customer.values() if len(group) >= count)[:count]


def pay_two(sandbox: InvoicedSandbox, key: str = "cmd-1") -> PaymentCreate:
    first, second = open_invoices(sandbox, 2)
    half = (second["balance"] / 2).quantize(Decimal("0.01"))
    return PaymentCreate(
        key=key,
        customer_id=str(first["customer"]),
        amount=first["balance"] + half + Decimal("10.00"),
        applications=(
            Application("invoice", str(first["id"]), first["balance"]),
            Application("invoice", str(second["id"]), half),
        ),
        currency=first["currency"],
        method="check",
        reference="1450",
    )


def test_a_payment_applied_to_two_invoices_moves_their_balances(
    sandbox: InvoicedSandbox, conn: InvoicedConnector
) -> None:
    since = sandbox.now() - timedelta(seconds=2)
    payment = pay_two(sandbox)
    first_id, second_id = (a.invoice_id for a in payment.applications)
    second_before = sandbox.record("invoices", second_id)["balance"]
    reply = conn.apply_payment(payment)
    assert reply["balance"] == Decimal("10.00") and len(reply["applied_to"]) == 2
    first = sandbox.record("invoices", first_id)
    assert first["balance"] == 0 and first["status"] == "paid" and first["paid"]
    second = sandbox.record("invoices", second_id)
    assert second["balance"] == second_before - payment.applications[1].amount
    assert second["status"] in ("sent", "past_due")
    # read back through the API: the payment with its applications, both invoices changed
    changed = {
        stream: [
            r
            for page in conn.streams()[stream].pages(since, datetime.now(UTC))
            for r in page.records
        ]
        for stream in ("invoices", "payments")
    }
    assert sorted(r.remote_id for r in changed["invoices"]) == sorted([first_id, second_id])
    (raw,) = changed["payments"]
    mapped = payment_mapping.to_canonical(raw, MappingContext(system="invoiced"))
    assert [(a.target_remote_id, a.amount.amount) for a in mapped.applied] == [
        (a.invoice_id, a.amount) for a in payment.applications
    ]
    assert mapped.unapplied is not None and mapped.unapplied.amount == Decimal("10.00")
    assert conn.landed(["cmd-1", "cmd-unknown"]) == {"cmd-1": str(reply["id"])}
    events = conn.client.get("/events", {"filter[type]": "invoice.paid"})
    assert [e["data"]["object"]["id"] for e in events] == [int(first_id)]


def test_a_credit_note_applied_to_an_invoice(
    sandbox: InvoicedSandbox, conn: InvoicedConnector
) -> None:
    note = next(
        sandbox.record("credit_memos", i)
        for i in sandbox.remote_ids("credit_memos")
        if sandbox.record("credit_memos", i)["balance"] > 0
    )
    invoice = next(
        sandbox.record("invoices", i)
        for i in sandbox.remote_ids("invoices")
        if sandbox.record("invoices", i)["customer"] == note["customer"]
        and sandbox.record("invoices", i)["balance"] >= note["balance"]
        and not sandbox.record("invoices", i)["voided"]
    )
    write = credit_note_application(
        "cmd-cn", str(note["customer"]), str(invoice["id"]), str(note["id"]), note["balance"]
    )
    reply = conn.apply_payment(write)
    assert reply["amount"] == 0 and reply["applied_to"][0]["type"] == "credit_note"
    after = sandbox.record("credit_memos", str(note["id"]))
    assert after["balance"] == 0 and after["status"] == "paid"
    assert (
        sandbox.record("invoices", str(invoice["id"]))["balance"]
        == invoice["balance"] - note["balance"]
    )


def test_the_same_key_and_body_replays_the_first_reply_without_a_second_payment(
    sandbox: InvoicedSandbox, conn: InvoicedConnector
) -> None:
    payment = pay_two(sandbox)
    first = conn.apply_payment(payment)
    again = conn.apply_payment(payment)
    assert again == first and sandbox.payments_created == 1
    changed = PaymentCreate(**{**payment.__dict__, "amount": payment.amount + 1})
    # the key was used: the first attempt may have landed, so the write is looked for
    with pytest.raises(UncertainWriteError, match="used before with other parameters"):
        conn.apply_payment(changed)
    assert sandbox.payments_created == 1


def test_a_lost_reply_or_a_5xx_is_resent_safely(
    sandbox: InvoicedSandbox, conn: InvoicedConnector
) -> None:
    sandbox.faults.drop_reply_next = 1
    reply = conn.apply_payment(pay_two(sandbox, "cmd-dropped"))
    assert sandbox.payments_created == 1 and conn.session.stats.retries == 1
    assert conn.landed(["cmd-dropped"]) == {"cmd-dropped": str(reply["id"])}
    sandbox.faults.fail_next = 2
    conn.apply_payment(pay_two(sandbox, "cmd-after-503"))
    assert sandbox.payments_created == 2


def test_an_impossible_application_is_refused_naming_the_param_and_changes_nothing(
    sandbox: InvoicedSandbox, conn: InvoicedConnector
) -> None:
    good = pay_two(sandbox, "cmd-good")
    taken = {a.invoice_id for a in good.applications}
    invoice = next(
        record
        for record in (sandbox.record("invoices", i) for i in sandbox.remote_ids("invoices"))
        if str(record["id"]) not in taken and not record["voided"] and record["balance"] > 0
    )
    too_much = invoice["balance"] + 1
    bad = PaymentCreate(
        key="cmd-bad",
        customer_id=str(invoice["customer"]),
        amount=too_much,
        applications=(Application("invoice", str(invoice["id"]), too_much),),
    )
    results = conn.write_payments([bad, good])
    assert not results[0].ok and isinstance(results[0].error, DataError)
    assert "applied_to[0][amount]" in str(results[0].error)
    assert results[1].ok and results[1].remote_id is not None
    assert sandbox.payments_created == 1
    assert sandbox.record("invoices", str(invoice["id"]))["balance"] == invoice["balance"]
    with pytest.raises(ValueError, match="own idempotency key"):
        conn.write_payments([good, good])
