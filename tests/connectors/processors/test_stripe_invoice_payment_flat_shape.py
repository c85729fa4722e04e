"""Stripe ``invoice_payment.paid`` with the InvoicePayment as the API reference shows it for
preview versions (``?api-version=2025-11-17.preview``): the PaymentIntent and the Charge are
top-level fields (``payment_intent``, ``charge``), with no ``payment`` object. Since API
2025-03-31 this event is the only one linking the payment to its invoice, so an InvoicePayment
in that shape must still name its payment; values are our own."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from canonical.models import Remittance
from canonical.money import Money
from connectors.processors.stripe_events import parse_event
from sync.runtime import Runtime
from sync.settings import load_settings
from sync.webhooks import receive

SECRET = "whsec_flat_invoice_payment"


def event(obj: dict[str, Any], event_id: str, kind: str = "invoice_payment.paid") -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "api_version": "2025-11-17.preview",
        "created": int(time.time()),
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": kind,
    }


def flat_payment(**fields: Any) -> dict[str, Any]:
    """An InvoicePayment with top-level ``payment_intent`` and ``charge`` (no ``payment``)."""
    return {
        "id": "inpay_1FlatShape",
        "object": "invoice_payment",
        "amount_overpaid": 0,
        "amount_paid": 482550,
        "amount_requested": 482550,
        "charge": None,
        "created": 1764000000,
        "currency": "usd",
        "invoice": "in_1FlatShape",
        "is_default": True,
        "livemode": False,
        "payment_intent": "pi_3FlatShape",
        "status": "paid",
        "status_transitions": {"canceled_at": None, "paid_at": 1764000100},
        **fields,
    }


def test_top_level_payment_intent_names_the_payment() -> None:
    record = parse_event(event(flat_payment(), "evt_flat_1"))
    assert record is not None
    assert (record.kind, record.payment_id, record.amount) == (
        "payment",
        "pi_3FlatShape",
        Money("4825.50", "USD"),
    )
    assert (record.invoice_id, record.invoice_refs) == ("in_1FlatShape", ("in_1FlatShape",))


def test_top_level_charge_names_the_payment_when_there_is_no_intent() -> None:
    obj = flat_payment(
        payment_intent=None, charge="ch_3FlatShape", currency="jpy", amount_paid=48255
    )
    record = parse_event(event(obj, "evt_flat_2"))
    assert record is not None
    assert (record.payment_id, record.amount) == ("ch_3FlatShape", Money("48255", "JPY"))


def test_the_intent_is_preferred_to_the_charge_as_the_other_events_key_it() -> None:
    obj = flat_payment(charge="ch_3FlatShape", currency="kwd", amount_paid=12345)
    record = parse_event(event(obj, "evt_flat_3"))
    assert record is not None
    assert (record.payment_id, record.amount) == ("pi_3FlatShape", Money("12.345", "KWD"))


def test_nested_shape_still_wins_and_a_payment_record_is_still_not_stripe_cash() -> None:
    nested = flat_payment(
        payment_intent=None,
        payment={"type": "payment_intent", "payment_intent": "pi_3Nested"},
    )
    record = parse_event(event(nested, "evt_flat_4"))
    assert record is not None and record.payment_id == "pi_3Nested"
    recorded = flat_payment(
        payment_intent=None, payment={"type": "payment_record", "payment_record": "pr_1"}
    )
    assert parse_event(event(recorded, "evt_flat_5")) is None


@pytest.fixture
def rt(tmp_path: Path) -> Iterator[Runtime]:
    settings = load_settings(
        None,
        database_url=f"sqlite:///{tmp_path / 'flat.db'}",
        webhooks={"stripe_secrets": [SECRET]},
    )
    runtime = Runtime.open(settings)
    yield runtime
    runtime.close()


def post(rt: Runtime, body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    stamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"{stamp}.".encode() + raw, hashlib.sha256).hexdigest()
    receive(rt.store, rt.settings, "stripe", raw, {"Stripe-Signature": f"t={stamp},v1={digest}"})


def test_the_invoice_of_a_flat_invoice_payment_reaches_the_payment_s_remittance(
    rt: Runtime,
) -> None:
    """The invoice (its number, from ``invoice.paid``) joins the remittance of the cash the
    PaymentIntent brought: through the invoice the flat InvoicePayment names."""
    intent = {
        "id": "pi_3FlatShape",
        "object": "payment_intent",
        "amount": 482550,
        "amount_received": 482550,
        "currency": "usd",
        "customer": "cus_Flat",
        "latest_charge": "ch_3FlatShape",
        "metadata": {},
        "status": "succeeded",
    }
    invoice = {
        "id": "in_1FlatShape",
        "object": "invoice",
        "amount_due": 482550,
        "amount_paid": 482550,
        "amount_remaining": 0,
        "currency": "usd",
        "customer": "cus_Flat",
        "number": "FLAT-0042",
        "status": "paid",
        "metadata": {},
    }
    post(rt, event(intent, "evt_flat_pi", "payment_intent.succeeded"))
    post(rt, event(invoice, "evt_flat_in", "invoice.paid"))
    post(rt, event(flat_payment(), "evt_flat_inpay"))
    with rt.store.session() as s:
        found = {r.source_key: r for r in s.execute(select(Remittance)).scalars()}
    paid = found["stripe:pi_3FlatShape"]
    assert (paid.amount_minor, paid.currency) == (482550, "USD")
    assert "FLAT-0042" in [r["ref"] for r in paid.structured_refs]
    assert len(found) == 1
