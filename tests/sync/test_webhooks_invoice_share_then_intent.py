"""A Stripe PaymentIntent that pays several invoices (API 2025-03-31.basil and later: an
InvoicePayment's ``amount_paid`` is the invoice's share, "less than ``amount_requested`` if the
PaymentIntent's ``amount_received`` is not sufficient to pay all of the invoices that it is
attached to"). Stripe does not deliver in order: the invoices' ``invoice_payment.paid`` may
come before ``payment_intent.succeeded``. The payment's remittance is its whole cash either
way; values are our own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from canonical.models import Remittance, WebhookEvent
from sync.runtime import Runtime
from sync.webhooks import _payments_named
from tests.support.receivables import Book, applied
from tests.sync.test_webhooks import events, open_runtime, post_stripe, remittances, stripe_event


@pytest.fixture
def rt(tmp_path: Path) -> Iterator[Runtime]:
    runtime = open_runtime(tmp_path)
    yield runtime
    runtime.close()


def post(rt: Runtime, kind: str, obj: dict[str, Any], event_id: str) -> None:
    post_stripe(rt, stripe_event(event_id, kind, obj))


def share(number: int, minor: int, invoice: str) -> dict[str, Any]:
    return {
        "id": f"inpay_{number}",
        "object": "invoice_payment",
        "amount_paid": minor,
        "amount_requested": minor,
        "currency": "usd",
        "invoice": invoice,
        "is_default": False,
        "payment": {"type": "payment_intent", "payment_intent": "pi_3Shares"},
        "status": "paid",
    }


INTENT = {
    "id": "pi_3Shares",
    "object": "payment_intent",
    "amount": 30000,
    "amount_received": 30000,
    "currency": "usd",
    "customer": "cus_Shares",
    "latest_charge": "ch_3Shares",
    "metadata": {},
    "status": "succeeded",
}


@pytest.mark.parametrize("intent_first", [True, False])
def test_the_remittance_holds_the_intent_s_cash_whichever_comes_first(
    rt: Runtime, intent_first: bool
) -> None:
    if intent_first:
        post(rt, "payment_intent.succeeded", INTENT, "evt_pi")
    post(rt, "invoice_payment.paid", share(1, 10000, "in_A"), "evt_a")
    post(rt, "invoice_payment.paid", share(2, 20000, "in_B"), "evt_b")
    if not intent_first:
        post(rt, "payment_intent.succeeded", INTENT, "evt_pi")
    with rt.store.session() as s:
        (paid,) = s.execute(select(Remittance)).scalars().all()
        stored = {e.event_id: e.status for e in s.execute(select(WebhookEvent)).scalars()}
    assert (paid.source_key, paid.amount_minor, paid.currency) == (
        "stripe:pi_3Shares",
        30000,
        "USD",
    )
    assert [r["ref"] for r in paid.structured_refs] == ["in_A", "in_B"]
    assert stored["evt_pi"] == "processed"


def test_an_invoice_payment_names_its_payment_intent_for_events_waiting_on_it() -> None:
    event = {"type": "invoice_payment.paid", "data": {"object": share(1, 10000, "in_A")}}
    assert "pi_3Shares" in _payments_named("stripe", event)


@pytest.mark.parametrize("intent_late", [True, False])
def test_a_payment_disputed_whole_is_never_applied_when_its_intent_comes_late(
    tmp_path: Path, intent_late: bool
) -> None:
    """The invoice's share (100.00) comes first, then a dispute withdrawing the whole 300.00,
    a reconcile (the dispute decided against the 100.00), and only then the intent's 300.00:
    the payment and its dispute are decided again together, as in time order (taken back,
    nothing applied). Growing the payment alone auto-applied the 300.00 Stripe withdrew."""
    runtime = open_runtime(tmp_path)
    book = Book(runtime.store)
    book.invoice(book.customer("Acme Corp"), "in_A", "300.00")
    intent = stripe_event("evt_pi", "payment_intent.succeeded", INTENT)
    dispute = stripe_event(
        "evt_dp",
        "charge.dispute.funds_withdrawn",
        {
            "id": "dp_1",
            "object": "dispute",
            "amount": 30000,
            "currency": "usd",
            "charge": "ch_3Shares",
            "payment_intent": "pi_3Shares",
            "status": "needs_response",
            "reason": "product_not_received",
            "balance_transactions": [{"id": "txn_1", "amount": -30000}],
        },
    )
    if not intent_late:
        post_stripe(runtime, intent)
    post_stripe(runtime, stripe_event("evt_a", "invoice_payment.paid", share(1, 10000, "in_A")))
    post_stripe(runtime, dispute)
    runtime.reconcile()
    if intent_late:
        post_stripe(runtime, intent)
        runtime.reconcile()
    paid, taken = remittances(runtime.store)
    assert (paid.source_key, paid.amount_minor, taken.amount_minor) == (
        "stripe:pi_3Shares",
        30000,
        -30000,
    )
    assert applied(runtime.store, paid.id) == {}
    runtime.close()


def test_more_cash_for_a_payment_already_applied_is_named_on_its_event(tmp_path: Path) -> None:
    """The share (100.00) was applied to its invoice before the intent's 300.00 came: the
    applied payment keeps its amount, and the intent's event says the 200.00 more is not
    counted (it said "nothing new")."""
    runtime = open_runtime(tmp_path)
    book = Book(runtime.store)
    book.invoice(book.customer("Acme Corp"), "in_A", "100.00")
    post_stripe(runtime, stripe_event("evt_a", "invoice_payment.paid", share(1, 10000, "in_A")))
    runtime.reconcile()
    (paid,) = remittances(runtime.store)
    assert applied(runtime.store, paid.id) == {"in_A": "100.00"}
    post_stripe(runtime, stripe_event("evt_pi", "payment_intent.succeeded", INTENT))
    (paid,) = remittances(runtime.store)
    assert paid.amount_minor == 10000
    note = events(runtime.store)["evt_pi"].note or ""
    assert "300.00" in note and "not counted" in note and paid.id in note
    runtime.close()
