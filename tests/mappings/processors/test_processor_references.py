"""What a processor payment names becomes references the cascade can trust: the invoices it
labels as such, and the merchant's own references (which name none of ours without harm)."""

from __future__ import annotations

from typing import Any

import pytest

from canonical.store import Store
from connectors.processors.stripe_events import parse_event
from mappings.processors.remittance import remittance_from_record
from reconciler import reconcile
from tests.support.receivables import Book, applied, decision


@pytest.fixture
def book(store: Store) -> Book:
    return Book(store)


def checkout_completed(client_reference_id: str | None, metadata: dict[str, str]) -> dict[str, Any]:
    """A paid Checkout Session as docs.stripe.com shows it (our values)."""
    session = {
        "id": "cs_live_a1RefProbe",
        "object": "checkout.session",
        "amount_subtotal": 100000,
        "amount_total": 100000,
        "client_reference_id": client_reference_id,
        "currency": "usd",
        "customer": "cus_RefProbe",
        "customer_details": {"email": "ap@initech.test", "name": "Initech LLC", "phone": None},
        "invoice": None,
        "metadata": metadata,
        "mode": "payment",
        "payment_intent": "pi_3RefProbe",
        "payment_status": "paid",
        "status": "complete",
    }
    return {
        "id": "evt_1RefProbe",
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": 1_767_225_600,
        "data": {"object": session},
        "livemode": True,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": "checkout.session.completed",
    }


def _pay(store: Store, event: dict[str, Any]) -> str:
    record = parse_event(event)
    assert record is not None
    remittance = remittance_from_record(record)
    with store.session() as s:
        s.add(remittance)
    return remittance.id


def test_a_checkout_cart_id_beside_the_invoice_number_still_applies(
    store: Store, book: Book
) -> None:
    # Stripe: client_reference_id is the merchant's own reference (a customer or cart id)
    initech = book.customer("Initech LLC")
    book.invoice(initech, "INV-1010", "1000.00")
    rid = _pay(store, checkout_completed("cart_8812", {"invoice_number": "INV-1010"}))
    reconcile(store)
    d = decision(store, rid)
    assert d.status == "auto_applied" and d.confidence == 100
    assert applied(store, rid) == {"INV-1010": "1000.00"}
    assert "labelled_not_found" not in d.evidence


def test_a_checkout_cart_id_alone_does_not_stop_an_exact_balance_match(
    store: Store, book: Book
) -> None:
    initech = book.customer("Initech LLC")
    book.invoice(initech, "INV-1010", "1000.00")
    rid = _pay(store, checkout_completed("cart_8812", {}))
    reconcile(store)
    d = decision(store, rid)
    assert d.status == "auto_applied" and applied(store, rid) == {"INV-1010": "1000.00"}
    assert "labelled_not_found" not in d.evidence


def test_a_checkout_client_reference_that_is_our_invoice_number_matches_it(
    store: Store, book: Book
) -> None:
    initech = book.customer("Initech LLC")
    book.invoice(initech, "INV-1011", "1000.00")
    book.invoice(initech, "INV-1012", "1000.00")
    rid = _pay(store, checkout_completed("INV-1012", {}))
    reconcile(store)
    d = decision(store, rid)
    assert d.status == "auto_applied" and applied(store, rid) == {"INV-1012": "1000.00"}
