"""Processor deliveries in the shapes the vendors document (Stripe API reference: Event,
PaymentIntent, Charge, Invoice, Checkout Session, Dispute; Adyen standard webhooks and event
codes; GoCardless events and the payment resource), with our own values, signed as documented
and taken in through the webhook intake (``sync.webhooks.receive``), then reconciled."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from canonical.models import PayerAlias, Remittance, WebhookEvent
from reconciler import reconcile
from sync.runtime import Runtime
from sync.settings import load_settings
from sync.webhooks import Intake, receive
from tests.support.receivables import Book, decision

STRIPE_SECRET = "whsec_documented_probe"
ADYEN_KEY = "7D3F0A5E9B1C2D4E6F8091A2B3C4D5E6F708192A3B4C5D6E7F8091A2B3C4D5E6"


@pytest.fixture
def rt(tmp_path: Path) -> Iterator[Runtime]:
    settings = load_settings(
        None,
        database_url=f"sqlite:///{tmp_path / 'documented.db'}",
        webhooks={"stripe_secrets": [STRIPE_SECRET], "adyen_hmac_key": ADYEN_KEY},
    )
    runtime = Runtime.open(settings)
    yield runtime
    runtime.close()


def stripe_event(kind: str, obj: dict[str, Any], event_id: str) -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": int(time.time()),
        "data": {"object": obj},
        "livemode": True,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": kind,
    }


def intent(intent_id: str, minor: int, currency: str, **fields: Any) -> dict[str, Any]:
    """A PaymentIntent of API versions since 2022-11-15: no charges, ``latest_charge`` an id."""
    return {
        "id": intent_id,
        "object": "payment_intent",
        "amount": minor,
        "amount_received": minor,
        "currency": currency,
        "customer": None,
        "description": None,
        "latest_charge": f"ch_{intent_id[3:]}",
        "metadata": {},
        "receipt_email": None,
        "status": "succeeded",
        **fields,
    }


def post_stripe(rt: Runtime, event: dict[str, Any]) -> Intake:
    raw = json.dumps(event).encode()
    stamp = str(int(time.time()))
    digest = hmac.new(STRIPE_SECRET.encode(), f"{stamp}.".encode() + raw, hashlib.sha256)
    headers = {"Stripe-Signature": f"t={stamp},v1={digest.hexdigest()}"}
    return receive(rt.store, rt.settings, "stripe", raw, headers)


def signed(item: dict[str, Any]) -> dict[str, Any]:
    """The item with its ``additionalData.hmacSignature`` over the eight documented fields."""
    amount = item.get("amount") or {}
    fields = [
        *(item.get(k, "") for k in ("pspReference", "originalReference")),
        *(item.get(k, "") for k in ("merchantAccountCode", "merchantReference")),
        amount.get("value", ""),
        amount.get("currency", ""),
        item.get("eventCode", ""),
        item.get("success", ""),
    ]
    key = binascii.unhexlify(ADYEN_KEY)
    mac = hmac.new(key, ":".join(str(f) for f in fields).encode(), hashlib.sha256).digest()
    extra = {**item.get("additionalData", {}), "hmacSignature": base64.b64encode(mac).decode()}
    return {**item, "additionalData": extra}


def post_adyen(rt: Runtime, *items: dict[str, Any]) -> Intake:
    body = {"live": "true", "notificationItems": [{"NotificationRequestItem": i} for i in items]}
    return receive(rt.store, rt.settings, "adyen", json.dumps(body).encode(), {})


def remittances(rt: Runtime) -> dict[str, Remittance]:
    with rt.store.session() as s:
        return {r.source_key: r for r in s.execute(select(Remittance)).scalars()}


def events(rt: Runtime) -> dict[str, WebhookEvent]:
    with rt.store.session() as s:
        return {e.event_id: e for e in s.execute(select(WebhookEvent)).scalars()}


# -- Stripe: the Customer a PaymentIntent names is who paid --------------------------------


def test_stripe_customer_of_a_payment_intent_is_the_payer_account(rt: Runtime) -> None:
    """A PaymentIntent since API 2022-11-15 lists no charge: its ``customer`` is all it says of
    the payer. It is the remittance's payer account, learned for the customer its first placed
    payment went to, so that customer's next payment naming no invoice is found by it."""
    book = Book(rt.store)
    acme = book.customer("Acme Widgets Inc")
    book.customer("Globex Corp")
    book.invoice(acme, "INV-5521", "1250.00")
    book.invoice(acme, "INV-5530", "980.00")
    first = intent(
        "pi_3DocA1",
        125000,
        "usd",
        customer="cus_DocAcme01",
        metadata={"invoice_number": "INV-5521"},
    )
    post_stripe(rt, stripe_event("payment_intent.succeeded", first, "evt_DocA1"))
    made = remittances(rt)["stripe:pi_3DocA1"]
    assert (made.payer_account, made.payer_name, made.amount_minor) == (
        "cus_DocAcme01",
        None,
        125000,
    )
    reconcile(rt.store)
    assert decision(rt.store, made.id).customer_id == acme
    with rt.store.session() as s:
        learned = {
            (a.kind, a.value): a.customer_id for a in s.execute(select(PayerAlias)).scalars()
        }
    assert learned[("account", "cus_DocAcme01")] == acme

    later = intent("pi_3DocA2", 98000, "usd", customer="cus_DocAcme01")  # no invoice, no name
    post_stripe(rt, stripe_event("payment_intent.succeeded", later, "evt_DocA2"))
    reconcile(rt.store)
    second = decision(rt.store, remittances(rt)["stripe:pi_3DocA2"].id)
    assert second.customer_id == acme
    assert second.evidence["customer_from"] == "learned account"


def test_stripe_customer_of_charge_invoice_and_checkout_session(rt: Runtime) -> None:
    """A Charge, an Invoice (old shape, naming its PaymentIntent) and a paid Checkout Session
    name the Customer too, as an id or expanded; a guest Checkout names none."""
    charge = {
        "id": "ch_3DocB1",
        "object": "charge",
        "amount": 150000,
        "amount_captured": 150000,
        "billing_details": {"email": None, "name": "Kitano Shoji KK"},
        "captured": True,
        "currency": "jpy",
        "customer": {"id": "cus_DocKitano", "object": "customer"},
        "metadata": {},
        "payment_intent": "pi_3DocB1",
        "status": "succeeded",
    }
    invoice = {
        "id": "in_1DocC1",
        "object": "invoice",
        "amount_paid": 12340,
        "currency": "kwd",
        "customer": "cus_DocGulf",
        "customer_email": "ap@gulf.test",
        "customer_name": "Gulf Trading WLL",
        "metadata": {},
        "number": "GT-0042",
        "paid": True,
        "paid_out_of_band": False,
        "payment_intent": "pi_3DocC1",
        "status": "paid",
    }
    session = {
        "id": "cs_live_DocD1",
        "object": "checkout.session",
        "amount_total": 4500,
        "client_reference_id": None,
        "currency": "eur",
        "customer": None,
        "customer_details": {"email": "guest@example.test", "name": "Guest Buyer"},
        "metadata": {"invoice_number": "INV-9001"},
        "mode": "payment",
        "payment_intent": "pi_3DocD1",
        "payment_status": "paid",
        "status": "complete",
    }
    post_stripe(rt, stripe_event("charge.succeeded", charge, "evt_DocB1"))
    post_stripe(rt, stripe_event("invoice.paid", invoice, "evt_DocC1"))
    post_stripe(rt, stripe_event("checkout.session.completed", session, "evt_DocD1"))
    made = {
        key: (r.amount_minor, r.currency, r.payer_name, r.payer_account)
        for key, r in remittances(rt).items()
    }
    assert made == {
        "stripe:pi_3DocB1": (150000, "JPY", "Kitano Shoji KK", "cus_DocKitano"),
        "stripe:pi_3DocC1": (12340, "KWD", "Gulf Trading WLL", "cus_DocGulf"),
        "stripe:pi_3DocD1": (4500, "EUR", "Guest Buyer", None),
    }
    refs = [r["ref"] for r in remittances(rt)["stripe:pi_3DocC1"].structured_refs]
    assert refs == ["in_1DocC1", "GT-0042"]


def test_stripe_dispute_reversal_keeps_the_payment_s_payer_account(rt: Runtime) -> None:
    post_stripe(
        rt,
        stripe_event(
            "payment_intent.succeeded",
            intent("pi_3DocE1", 8800, "bhd", customer="cus_DocBahrain"),
            "evt_DocE1",
        ),
    )
    dispute = {
        "id": "dp_1DocE1",
        "object": "dispute",
        "amount": 8800,
        "balance_transactions": [{"id": "txn_1DocE1", "amount": -8800, "currency": "bhd"}],
        "charge": "ch_3DocE1",
        "currency": "bhd",
        "payment_intent": "pi_3DocE1",
        "reason": "fraudulent",
        "status": "needs_response",
    }
    post_stripe(rt, stripe_event("charge.dispute.created", dispute, "evt_DocE2"))
    back = remittances(rt)["stripe:dispute:dp_1DocE1"]
    assert (back.amount_minor, back.currency, back.reverses) == (-8800, "BHD", "stripe:pi_3DocE1")
    assert back.payer_account == "cus_DocBahrain"


# -- Adyen: one delivery, several items ----------------------------------------------------


def test_adyen_delivery_of_mixed_items_keeps_each_on_its_own(rt: Runtime) -> None:
    """A live delivery batching a KWD authorisation (three decimals), a refused one, a report
    and an item whose amount is no integer: the cash is taken, the refusal and the report are
    kept as moving no money, the bad item is failed naming its place and field, and an item
    whose signature does not match (changed after signing) is dropped, naming its place."""
    base = {"eventDate": "2026-11-03T10:00:00+01:00", "merchantAccountCode": "AcmeECOM"}
    paid = signed(
        {
            **base,
            "amount": {"currency": "KWD", "value": 123450},
            "eventCode": "AUTHORISATION",
            "merchantReference": "INV-5001",
            "pspReference": "QFQTPCQ8HXSKGK82",
            "success": "true",
            "additionalData": {"cardHolderName": "Kuwait Trading Co"},
        }
    )
    refused = signed(
        {
            **base,
            "amount": {"currency": "EUR", "value": 1000},
            "eventCode": "AUTHORISATION",
            "merchantReference": "INV-5002",
            "pspReference": "QFQTPCQ8HXSKGK83",
            "reason": "Refused",
            "success": "false",
        }
    )
    report = signed(
        {
            **base,
            "amount": {"currency": "EUR", "value": 0},
            "eventCode": "REPORT_AVAILABLE",
            "merchantReference": "",
            "pspReference": "settlement_detail_report_batch_7.csv",
            "success": "true",
        }
    )
    bad = signed(
        {
            **base,
            "amount": {"currency": "EUR", "value": "12.50"},
            "eventCode": "CAPTURE",
            "merchantReference": "INV-5003",
            "originalReference": "QFQTPCQ8HXSKGK84",
            "pspReference": "QFQTPCQ8HXSKGK85",
            "success": "true",
        }
    )
    changed = {**signed({**paid, "pspReference": "QFQTPCQ8HXSKGK86"}), "merchantReference": "X"}
    intake = post_adyen(rt, paid, refused, report, bad, changed)
    made = remittances(rt)["adyen:QFQTPCQ8HXSKGK82"]
    assert (made.amount_minor, made.currency, made.payer_name) == (
        123450,
        "KWD",
        "Kuwait Trading Co",
    )
    assert [r["ref"] for r in made.structured_refs] == ["INV-5001"]
    stored = events(rt)
    assert stored["QFQTPCQ8HXSKGK83:AUTHORISATION:false"].status == "ignored"
    assert stored["settlement_detail_report_batch_7.csv:REPORT_AVAILABLE:true"].status == "ignored"
    failed = stored["QFQTPCQ8HXSKGK85:CAPTURE:true"]
    assert failed.status == "failed" and "notificationItems[3].amount" in str(failed.error)
    assert intake.failed[-1] == "adyen notificationItems[4]: hmacSignature does not match; dropped"
    assert len(remittances(rt)) == 1


def test_the_customer_of_a_payment_intent_arriving_after_its_invoice_payment_is_kept(
    rt: Runtime,
) -> None:
    """Stripe does not deliver in order: the invoice payment (naming no Customer) may store
    the cash first; the PaymentIntent that follows still gives it its payer account."""
    invoice_payment = {
        "id": "inpay_1DocOrder",
        "object": "invoice_payment",
        "amount_paid": 125000,
        "amount_requested": 125000,
        "currency": "usd",
        "invoice": "in_1DocOrder",
        "is_default": True,
        "livemode": False,
        "payment": {"type": "payment_intent", "payment_intent": "pi_3DocOrder"},
        "status": "paid",
        "status_transitions": {"canceled_at": None, "paid_at": 1763800090},
    }
    post_stripe(rt, stripe_event("invoice_payment.paid", invoice_payment, "evt_DocOrder1"))
    first = remittances(rt)["stripe:pi_3DocOrder"]
    assert (first.payer_account, first.amount_minor) == (None, 125000)
    paid = intent("pi_3DocOrder", 125000, "usd", customer="cus_DocOrder")
    post_stripe(rt, stripe_event("payment_intent.succeeded", paid, "evt_DocOrder2"))
    after = remittances(rt)["stripe:pi_3DocOrder"]
    assert (after.id, after.payer_account, after.amount_minor) == (
        first.id,
        "cus_DocOrder",
        125000,
    )
