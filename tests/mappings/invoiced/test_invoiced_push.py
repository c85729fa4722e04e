"""The Invoiced write-off as documented (github.com/Invoiced/api ``_credit_notes.md.erb`` and
``_payments.md.erb``): step 0 creates a credit note (no ``invoice`` attribute), step 1 applies
it to the invoice with a zero-amount payment; each step has its own Idempotency-Key, also kept
in the record's metadata so a lost reply is found by :meth:`InvoicedPush.landed`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import requests

from connectors.base import MemoryTokenStore
from connectors.http import RetryPolicy
from connectors.invoiced import InvoicedConnector, InvoicedSandbox
from connectors.invoiced.writes import Application, CreditNoteCreate, PaymentCreate
from connectors.sandbox.world import World
from mappings.invoiced.push import InvoicedPush
from sync.outbox.adapter import Command, Unwritable
from sync.outbox.refs import RefIndex, RemoteRef

KEY = "fedcba9876543210fedcba9876543210"
NOON_2026_11_02 = int(datetime(2026, 11, 2, 12, tzinfo=UTC).timestamp())


@pytest.fixture
def sandbox() -> Iterator[InvoicedSandbox]:
    server = InvoicedSandbox(world=World.generate(seed=4, customers=8, invoices=60))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def posts() -> list[tuple[requests.PreparedRequest, dict[str, Any]]]:
    return []


@pytest.fixture
def adapter(
    sandbox: InvoicedSandbox, posts: list[tuple[requests.PreparedRequest, dict[str, Any]]]
) -> InvoicedPush:
    conn = InvoicedConnector(
        sandbox.config(), MemoryTokenStore(), policy=RetryPolicy(sleep=lambda _: None)
    )

    def record(response: requests.Response, *_: Any, **__: Any) -> None:
        request = response.request
        if request.method == "POST":
            raw = request.body.decode() if isinstance(request.body, bytes) else request.body
            assert isinstance(raw, str)
            posts.append((request, json.loads(raw, parse_float=Decimal)))

    conn.session.hooks["response"].append(record)
    return InvoicedPush(conn)


def open_invoice(sandbox: InvoicedSandbox) -> dict[str, Any]:
    return next(
        record
        for record in (sandbox.record("invoices", i) for i in sandbox.remote_ids("invoices"))
        if not record["voided"] and record["balance"] >= Decimal("10")
    )


def refs_for(invoice: dict[str, Any]) -> RefIndex:
    index = RefIndex("invoiced")
    index.refs[("customer", "cust")] = RemoteRef("customer", "cust", str(invoice["customer"]), None)
    balance = str(int(invoice["balance"] * 100))
    index.refs[("invoice", "inv")] = RemoteRef(
        "invoice",
        "inv",
        str(invoice["id"]),
        None,
        {"number": invoice["number"], "balance_minor": balance, "status": "open"},
    )
    return index


def write_off(invoice: dict[str, Any], result: dict[str, Any] | None = None) -> Command:
    return Command(
        id="cmd-1",
        system="invoiced",
        operation="write_off",
        key=KEY,
        canonical_type="invoice",
        canonical_id="inv",
        payload={
            "customer_id": "cust",
            "currency": invoice["currency"].upper(),
            "invoice_id": "inv",
            "amount_minor": 350,
            "reason": "short-pay",
            "adjustment_id": "adj-1",
            "on": "2026-11-02",
        },
        result=result or {},
        attempts=0,
        status="pending",
    )


def test_write_off_is_a_credit_note_then_a_zero_amount_payment_applying_it(
    sandbox: InvoicedSandbox,
    adapter: InvoicedPush,
    posts: list[tuple[requests.PreparedRequest, dict[str, Any]]],
) -> None:
    invoice = open_invoice(sandbox)
    refs = refs_for(invoice)
    first = adapter.step(write_off(invoice), refs, None)  # type: ignore[arg-type]
    assert isinstance(first.write, CreditNoteCreate)
    assert first.key == f"{KEY}:m" and not first.final
    assert first.creates == ("credit_memo", "credit_note")
    [made] = adapter.send([first])
    assert made.ok and made.remote_id
    [(request, body)] = posts
    assert request.url == f"{sandbox.base_url}/credit_notes"
    assert request.headers["Idempotency-Key"] == f"{KEY}:m"
    assert body == {  # the documented attributes; no ``invoice``
        "customer": invoice["customer"],
        "name": "Deduction",
        "items": [{"name": "Deduction short-pay", "quantity": 1, "unit_cost": Decimal("3.50")}],
        "calculate_taxes": False,  # Invoiced's default (true) would tax the write-off
        "metadata": {"arsync_key": f"{KEY}:m"},
        "currency": invoice["currency"],
        "date": NOON_2026_11_02,
    }
    assert sandbox.record("invoices", str(invoice["id"]))["balance"] == invoice["balance"]

    recorded = {"step": 1, "remote_ids": {first.key: made.remote_id}}
    second = adapter.step(write_off(invoice, recorded), refs, None)  # type: ignore[arg-type]
    assert isinstance(second.write, PaymentCreate)
    assert second.key == f"{KEY}:a" and second.final
    assert second.creates == ("payment", "payment")
    [applied] = adapter.send([second])
    assert applied.ok, applied.error
    request, body = posts[1]
    assert request.url == f"{sandbox.base_url}/payments"
    assert request.headers["Idempotency-Key"] == f"{KEY}:a"
    assert body == {
        "customer": invoice["customer"],
        "amount": Decimal("0.00"),
        "applied_to": [
            {
                "type": "credit_note",
                "credit_note": int(made.remote_id),
                "document_type": "invoice",
                "invoice": invoice["id"],
                "amount": Decimal("3.50"),
            }
        ],
        "metadata": {"arsync_key": f"{KEY}:a"},
        "currency": invoice["currency"],
        "date": NOON_2026_11_02,
        "method": "other",
    }
    assert len(posts) == 2
    note = sandbox.record("credit_memos", made.remote_id)
    assert note["balance"] == 0 and note["status"] == "paid"
    after = sandbox.record("invoices", str(invoice["id"]))
    assert after["balance"] == invoice["balance"] - Decimal("3.50")
    # each step's record is found by its own key after a lost reply
    assert adapter.landed([first, second], datetime.now(UTC)) == {
        first.key: made.remote_id,
        second.key: applied.remote_id,
    }


def test_the_second_step_needs_the_recorded_credit_note(
    sandbox: InvoicedSandbox, adapter: InvoicedPush
) -> None:
    invoice = open_invoice(sandbox)
    with pytest.raises(Unwritable, match="was not recorded"):
        adapter.step(write_off(invoice, {"step": 1}), refs_for(invoice), None)  # type: ignore[arg-type]


def test_landed_finds_nothing_before_a_step_reached_invoiced(
    sandbox: InvoicedSandbox, adapter: InvoicedPush
) -> None:
    invoice = open_invoice(sandbox)
    first = adapter.step(write_off(invoice), refs_for(invoice), None)  # type: ignore[arg-type]
    assert adapter.landed([first], datetime.now(UTC)) == {}


def test_a_payment_whose_body_cannot_be_made_is_refused_unsent_and_the_next_is_sent(
    adapter: InvoicedPush,
    sandbox: InvoicedSandbox,
    posts: list[tuple[requests.PreparedRequest, dict[str, Any]]],
) -> None:
    """A step applying more cash than the payment received is a data error naming its command,
    never sent (it raised ValueError out of the push, which stopped every other command)."""
    from sync.outbox.adapter import Step

    invoice = open_invoice(sandbox)
    customer = str(invoice["customer"])
    bad = PaymentCreate(
        "k-bad",
        customer,
        Decimal("5.00"),
        (Application("invoice", str(invoice["id"]), Decimal("9.00")),),
    )
    good = PaymentCreate(
        "k-good",
        customer,
        Decimal("1.00"),
        (Application("invoice", str(invoice["id"]), Decimal("1.00")),),
    )
    command = write_off(invoice)
    answers = adapter.send([Step(command, "k-bad", bad), Step(command, "k-good", good)])
    assert [a.ok for a in answers] == [False, True]
    assert answers[0].sent is False and answers[0].error is not None
    assert str(answers[0].error).startswith("invoiced: command cmd-1: invoiced: payment k-bad")
    assert [body["metadata"] for _, body in posts] == [
        {adapter.connector.config.key_metadata: "k-good"}
    ]
