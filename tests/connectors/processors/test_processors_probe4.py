"""Fourth probe of processor payloads as the vendors document them (docs.stripe.com: the
Checkout Session object, whose ``client_reference_id`` is the merchant's own reference, "a
customer ID, a cart ID, or similar"). Payloads carry our own values."""

from __future__ import annotations

from typing import Any

import pytest

from canonical.money import MoneyError
from connectors.processors.stripe_events import parse_event
from mappings.processors.remittance import remittance_from_record


def stripe_event(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "evt_1Probe4",
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": 1_767_225_600,
        "data": {"object": obj},
        "livemode": True,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": kind,
    }


def session(client_reference_id: str | None, metadata: dict[str, str]) -> dict[str, Any]:
    return {
        "id": "cs_live_a1Probe4",
        "object": "checkout.session",
        "amount_subtotal": 250000,
        "amount_total": 250000,
        "client_reference_id": client_reference_id,
        "currency": "jpy",
        "customer": None,
        "customer_details": {"email": "ap@umbrella.test", "name": "Umbrella KK", "phone": None},
        "invoice": None,
        "metadata": metadata,
        "mode": "payment",
        "payment_intent": "pi_3Probe4",
        "payment_status": "paid",
        "status": "complete",
    }


def test_a_checkout_client_reference_is_the_merchants_reference_not_an_invoice() -> None:
    event = stripe_event(
        "checkout.session.completed", session("cart_8812", {"invoice_number": "INV-2040"})
    )
    record = parse_event(event)
    assert record is not None and record.payment_id == "pi_3Probe4"
    assert record.invoice_refs == ("INV-2040",)
    assert record.merchant_refs == ("cart_8812",)
    remittance = remittance_from_record(record)
    assert (remittance.amount_minor, remittance.currency) == (250000, "JPY")
    kinds = {ref["ref"]: ref["kind"] for ref in remittance.structured_refs}
    assert kinds == {"INV-2040": "invoice", "cart_8812": "other"}
    assert remittance.free_text is not None and "cart_8812" in remittance.free_text


def test_a_client_reference_equal_to_the_metadata_invoice_is_named_once() -> None:
    event = stripe_event(
        "checkout.session.async_payment_succeeded",
        session("INV-2041", {"invoice_number": "INV-2041"}),
    )
    record = parse_event(event)
    assert record is not None
    assert record.invoice_refs == ("INV-2041",) and record.merchant_refs == ()


@pytest.mark.parametrize("currency", ["usdx", "zzz"])
def test_a_currency_arsync_cannot_read_names_the_currency_field(currency: str) -> None:
    charge = {
        "id": "ch_3Probe4",
        "object": "charge",
        "amount": 1000,
        "amount_captured": 1000,
        "captured": True,
        "currency": currency,
        "metadata": {},
        "payment_intent": "pi_3Probe4c",
    }
    with pytest.raises(MoneyError, match=r"^data\.object\.currency: ") as error:
        parse_event(stripe_event("charge.succeeded", charge))
    assert "amount" not in str(error.value)
