"""Processor payloads in the shapes the vendors publish, with our own values, run through the
parsers and the webhook intake (sync.webhooks.receive).

Shapes from: Stripe's OpenAPI fixtures (stripe/openapi ``openapi/fixtures3.json``: charge,
payment_intent, dispute, invoice, checkout.session, payout) and https://docs.stripe.com/api/events;
Adyen's library test mocks (Adyen/adyen-python-api-library ``test/UtilTest.py`` and
``test/mocks/util/*_notification.json``; Adyen/adyen-java-api-library
``src/test/resources/mocks/notification/*.json``, ``HMACValidatorTest.java``); GoCardless
(gocardless/gocardless-pro-python ``tests/fixtures/webhook_body.json``,
``gocardless_pro/webhooks.py``) and https://developer.gocardless.com/api-reference/#webhooks.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from canonical.models import Remittance, WebhookEvent
from canonical.money import MoneyError
from connectors.processors import adyen, gocardless
from connectors.processors.adyen_events import AdyenEventError, parse_item
from connectors.processors.gocardless_events import parse_event as parse_gocardless
from connectors.processors.stripe_events import StripeEventError
from connectors.processors.stripe_events import parse_event as parse_stripe
from sync.runtime import Runtime
from sync.settings import load_settings
from sync.webhooks import receive

NOW = 1_767_225_600
STRIPE_SECRET = "whsec_public_payloads"
ADYEN_KEY = "0A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F9"
GOCARDLESS_SECRET = "gc_public_payloads_secret"


def stripe_event(kind: str, obj: dict[str, Any], event_id: str = "evt_1Pub") -> dict[str, Any]:
    """An Event as https://docs.stripe.com/api/events/object documents it."""
    return {
        "id": event_id,
        "object": "event",
        "api_version": "2019-02-19",
        "created": NOW,
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": kind,
    }


# -- Stripe: API versions, currencies, references ------------------------------------------


def charge(**fields: Any) -> dict[str, Any]:
    """A Charge in the fixtures3.json shape (our values)."""
    return {
        "id": "ch_3PubCharge",
        "object": "charge",
        "amount": 150000,
        "amount_captured": 150000,
        "amount_refunded": 0,
        "billing_details": {"email": "ap@kitano.test", "name": "Kitano Shoji KK", "phone": None},
        "captured": True,
        "currency": "jpy",
        "description": "Invoice INV-8801",
        "invoice": None,
        "metadata": {},
        "paid": True,
        "payment_intent": "pi_3PubIntent",
        "refunded": False,
        "statement_descriptor": None,
        "statement_descriptor_suffix": "INV-8801",
        "status": "succeeded",
        **fields,
    }


def test_stripe_payment_intent_of_an_old_api_version_lists_its_charges() -> None:
    """Before 2022-11-15 a PaymentIntent carries ``charges.data``: the payer is there."""
    intent = {
        "id": "pi_3PubIntent",
        "object": "payment_intent",
        "amount": 150000,
        "amount_received": 150000,
        "charges": {"object": "list", "data": [charge()], "has_more": False},
        "currency": "jpy",
        "description": "Invoice INV-8801",
        "invoice": None,
        "metadata": {},
        "receipt_email": None,
        "statement_descriptor": None,
        "status": "succeeded",
    }
    record = parse_stripe(stripe_event("payment_intent.succeeded", intent))
    assert record is not None and record.kind == "payment"
    assert record.amount is not None and (record.amount.amount, record.amount.currency) == (
        Decimal("150000"),
        "JPY",
    )
    assert (record.payer_name, record.payer_email) == ("Kitano Shoji KK", "ap@kitano.test")
    assert record.invoice_refs == ()  # nothing structured: the description is free text
    assert record.narrative == ("Invoice INV-8801",)


def test_stripe_charge_keeps_description_and_statement_descriptor_as_free_text() -> None:
    record = parse_stripe(stripe_event("charge.succeeded", charge(description="Order 77")))
    assert record is not None and record.payment_id == "pi_3PubIntent"
    assert record.narrative == ("Order 77", "INV-8801")


def test_stripe_three_decimal_currency_of_a_charge_without_payment_intent() -> None:
    """The Charges API (no PaymentIntent): the charge is the payment; BHD has 3 decimals."""
    old = charge(
        id="ch_1PubLegacy",
        payment_intent=None,
        currency="bhd",
        amount=12340,
        amount_captured=12340,
        metadata={"invoice_number": "INV-8802"},
    )
    record = parse_stripe(stripe_event("charge.succeeded", old))
    assert record is not None and record.payment_id == "ch_1PubLegacy"
    assert record.amount is not None and record.amount.amount == Decimal("12.340")
    assert record.invoice_refs == ("INV-8802",)


INVOICE = {
    "id": "in_1PubInvoice",
    "object": "invoice",
    "amount_due": 99900,
    "amount_paid": 99900,
    "amount_remaining": 0,
    "charge": "ch_3PubInvoiceCharge",
    "currency": "usd",
    "customer_email": "pay@globex.test",
    "customer_name": "Globex Corp",
    "metadata": {},
    "number": "4F2A91C0-0007",
    "paid": True,
    "paid_out_of_band": False,
    "payment_intent": "pi_3PubInvoiceIntent",
    "status": "paid",
}


@pytest.mark.parametrize("kind", ["invoice.paid", "invoice.payment_succeeded"])
def test_stripe_invoice_events_name_the_invoice_id_and_number(kind: str) -> None:
    record = parse_stripe(stripe_event(kind, dict(INVOICE)))
    assert record is not None and record.kind == "payment"
    assert record.payment_id == "pi_3PubInvoiceIntent"
    assert record.invoice_refs == ("in_1PubInvoice", "4F2A91C0-0007")
    assert record.amount is not None and record.amount.amount == Decimal("999.00")
    assert record.payer_name == "Globex Corp"


SESSION = {
    "id": "cs_test_a1Pub",
    "object": "checkout.session",
    "amount_subtotal": 5000,
    "amount_total": 5000,
    "client_reference_id": "INV-8805",
    "currency": "eur",
    "customer_details": {"email": "ap@initech.test", "name": "Initech SA"},
    "invoice": None,
    "metadata": {"invoice_number": "INV-8805"},
    "mode": "payment",
    "payment_intent": "pi_3PubCheckout",
    "payment_status": "paid",
    "status": "complete",
}


def test_stripe_paid_checkout_session_names_its_payment_intent() -> None:
    record = parse_stripe(stripe_event("checkout.session.completed", dict(SESSION)))
    assert record is not None and record.payment_id == "pi_3PubCheckout"
    assert record.invoice_refs == ("INV-8805",)  # metadata and client_reference_id agree
    assert record.amount is not None and record.amount.amount == Decimal("50.00")
    assert record.payer_name == "Initech SA"
    other_ref = {**SESSION, "client_reference_id": "PO-551"}
    record = parse_stripe(stripe_event("checkout.session.async_payment_succeeded", other_ref))
    # client_reference_id is the merchant's own reference, not a labelled invoice number
    assert record is not None and record.invoice_refs == ("INV-8805",)
    assert record.merchant_refs == ("PO-551",)
    # an async method not yet paid, and a subscription session (no intent), are not cash
    unpaid = {**SESSION, "payment_status": "unpaid"}
    assert parse_stripe(stripe_event("checkout.session.completed", unpaid)) is None
    subscription = {**SESSION, "mode": "subscription", "payment_intent": None}
    assert parse_stripe(stripe_event("checkout.session.completed", subscription)) is None


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({**stripe_event("charge.succeeded", charge()), "data": {"object": []}}, "data.object"),
        (
            {k: v for k, v in stripe_event("charge.succeeded", charge()).items() if k != "data"},
            "data.object",
        ),
        (stripe_event("charge.succeeded", charge(currency=None)), "data.object.currency"),
        (stripe_event("charge.succeeded", {**charge(), "id": None}), "data.object.id"),
        ({**stripe_event("charge.succeeded", charge()), "created": None}, "created"),
        ({**stripe_event("charge.succeeded", charge()), "id": None}, "id"),
    ],
)
def test_stripe_malformed_event_names_the_field(event: dict[str, Any], field: str) -> None:
    with pytest.raises(StripeEventError, match=field.replace(".", r"\.")):
        parse_stripe(event)


def test_stripe_amount_error_names_the_field() -> None:
    event = stripe_event("charge.succeeded", charge(amount_captured=Decimal("10.5")))
    with pytest.raises(MoneyError, match=r"data\.object\.amount_captured"):
        parse_stripe(event)


def test_stripe_events_that_move_no_money_are_not_read() -> None:
    payout = {"id": "po_1Pub", "object": "payout", "amount": 1100, "currency": "usd"}
    assert parse_stripe(stripe_event("payout.paid", payout)) is None
    closed = {"id": "dp_1Pub", "object": "dispute", "amount": 1000, "currency": "usd"}
    assert parse_stripe(stripe_event("charge.dispute.closed", closed)) is None
    # an unknown type is not even checked for shape
    assert parse_stripe({"id": "evt_x", "type": "plan.created", "data": {"object": []}}) is None


# -- Adyen: documented HMAC string, CANCEL_OR_REFUND, shapes ------------------------------


def test_adyen_published_hmac_vector() -> None:
    """The known-answer vector of Adyen/adyen-python-api-library test/UtilTest.py."""
    item = {
        "pspReference": "7914073381342284",
        "merchantReference": "TestPayment-1407325143704",
        "merchantAccountCode": "TestMerchant",
        "amount": {"currency": "EUR", "value": 1130},
        "eventCode": "AUTHORISATION",
        "success": "true",
        "additionalData": {"hmacSignature": "coqCmt/IZ4E3CzPvMY8zTjQVL5hYJUiBRg8UU+iCWo0="},
    }
    assert adyen.verify_item(
        item, ["44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056"]
    )


def adyen_item(code: str, psp: str, value: int, **fields: Any) -> dict[str, Any]:
    """A NotificationRequestItem in the shape of Adyen's library mocks (our values)."""
    return {
        "additionalData": {},
        "amount": {"currency": "EUR", "value": value},
        "eventCode": code,
        "eventDate": "2026-11-02T10:00:00+01:00",
        "merchantAccountCode": "ArsyncPublicShop",
        "merchantReference": "INV-8810",
        "paymentMethod": "visa",
        "pspReference": psp,
        "reason": "",
        "success": "true",
        **fields,
    }


def sign(item: dict[str, Any], key: str = ADYEN_KEY) -> dict[str, Any]:
    digest = hmac.new(
        binascii.unhexlify(key), adyen.signing_payload(item).encode(), hashlib.sha256
    ).digest()
    item["additionalData"]["hmacSignature"] = base64.b64encode(digest).decode()
    return item


def test_adyen_signing_string_keeps_backslashes_and_colons_as_sent() -> None:
    """Adyen signs the values as sent, unescaped (test/mocks/util/mixed_notification.json)."""
    item = adyen_item("AUTHORISATION", "PUB0000000000011", 1000, merchantReference="\\:/\\/x")
    assert adyen.signing_payload(item) == (
        "PUB0000000000011::ArsyncPublicShop:\\:/\\/x:1000:EUR:AUTHORISATION:true"
    )
    expected = hmac.new(
        bytes.fromhex(ADYEN_KEY), adyen.signing_payload(item).encode(), hashlib.sha256
    ).digest()
    item["additionalData"]["hmacSignature"] = base64.b64encode(expected).decode()
    assert adyen.verify_item(item, [ADYEN_KEY])
    # a report (HMACValidatorTest: no amount at all) signs empty value and currency
    report = adyen_item("REPORT_AVAILABLE", "PUB0000000000012", 0)
    del report["amount"]
    assert adyen.signing_payload(report) == (
        "PUB0000000000012::ArsyncPublicShop:INV-8810:::REPORT_AVAILABLE:true"
    )
    assert parse_item(report) is None


def test_adyen_cancel_or_refund_is_a_refund_only_when_it_refunded() -> None:
    refunded = adyen_item(
        "CANCEL_OR_REFUND",
        "PUB0000000000021",
        2500,
        originalReference="PUB0000000000020",
        additionalData={"modification.action": "refund"},
    )
    record = parse_item(refunded)
    assert record is not None and record.kind == "refund"
    assert record.payment_id == "PUB0000000000020"
    cancelled = {**refunded, "additionalData": {"modification.action": "cancel"}}
    assert parse_item(cancelled, auto_capture=False) is None  # never cash: nothing back
    taken_back = parse_item(cancelled)  # automatic capture counted the authorisation
    assert taken_back is not None and taken_back.kind == "failure"
    assert taken_back.payment_id == "PUB0000000000020"


def test_adyen_malformed_items_name_the_field() -> None:
    with pytest.raises(AdyenEventError, match=r"notificationItems\[0\]\.amount is missing"):
        parse_item({**adyen_item("CAPTURE", "PUB0000000000031", 1), "amount": "10 EUR"})
    no_extra = {**adyen_item("CAPTURE", "PUB0000000000032", 700), "additionalData": None}
    record = parse_item(no_extra)
    assert record is not None and record.merchant_refs == ("INV-8810",)


# -- GoCardless -----------------------------------------------------------------------------


class Payments:
    """GET /payments/{id} as GoCardless documents it (our values)."""

    def __init__(self, **payments: dict[str, Any]) -> None:
        self.payments = payments

    def payment(self, payment_id: str) -> dict[str, Any]:
        return dict(self.payments[payment_id])


def gc_event(event_id: str, action: str, payment: str, **links: str) -> dict[str, Any]:
    return {
        "id": event_id,
        "created_at": "2026-11-03T09:13:51.404Z",
        "resource_type": "payments",
        "action": action,
        "links": {"payment": payment, **links},
        "details": {"origin": "gocardless", "cause": f"payment_{action}", "description": "..."},
        "metadata": {},
        "resource_metadata": {},
    }


GC_PAYMENT = {
    "id": "PM00PUB001",
    "amount": 4250,
    "amount_refunded": 0,
    "charge_date": "2026-11-03",
    "currency": "GBP",
    "description": "Invoice INV-8820 November",
    "links": {"mandate": "MD00PUB", "creditor": "CR00PUB"},
    "metadata": {},
    "reference": "INV-8820",
    "status": "confirmed",
}


def test_gocardless_payment_description_is_free_text() -> None:
    client = Payments(PM00PUB001=GC_PAYMENT)
    record = parse_gocardless(gc_event("EV00PUB1", "confirmed", "PM00PUB001"), client)
    assert record is not None and record.merchant_refs == ("INV-8820",)
    assert record.narrative == ("Invoice INV-8820 November",)
    assert record.amount is not None and record.amount.amount == Decimal("42.50")


def test_gocardless_payment_without_amount_names_the_field() -> None:
    client = Payments(PM00PUB002={"id": "PM00PUB002", "currency": "GBP"})
    with pytest.raises(ValueError, match=r"GET /payments/PM00PUB002: payments\.amount is missing"):
        parse_gocardless(gc_event("EV00PUB2", "confirmed", "PM00PUB002"), client)


def test_gocardless_signature_is_hex_hmac_of_the_raw_body() -> None:
    raw = b'{"events":[{"id":"EV00PUB3","resource_type":"mandates","action":"created"}]}'
    good = hmac.new(GOCARDLESS_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    assert gocardless.verify(raw, good, GOCARDLESS_SECRET)
    assert not gocardless.verify(raw + b" ", good, GOCARDLESS_SECRET)


# -- through the webhook intake -------------------------------------------------------------


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    settings = load_settings(
        None,
        database_url=f"sqlite:///{tmp_path / 'public.db'}",
        webhooks={
            "stripe_secrets": [STRIPE_SECRET],
            "adyen_hmac_key": ADYEN_KEY,
            "gocardless_secret": GOCARDLESS_SECRET,
            "gocardless_access_token": "gc_access_token_test",
            "gocardless_base_url": "https://api.gocardless.test",
        },
    )
    rt = Runtime.open(settings)
    yield rt
    rt.close()


def post_stripe(rt: Runtime, event: dict[str, Any]) -> Any:
    raw = json.dumps(event).encode()
    stamp = str(int(time.time()))
    digest = hmac.new(STRIPE_SECRET.encode(), f"{stamp}.".encode() + raw, hashlib.sha256)
    headers = {"Stripe-Signature": f"t={stamp},v1={digest.hexdigest()}"}
    return receive(rt.store, rt.settings, "stripe", raw, headers)


def post_adyen(rt: Runtime, *items: dict[str, Any]) -> Any:
    body = {"live": "false", "notificationItems": [{"NotificationRequestItem": i} for i in items]}
    return receive(rt.store, rt.settings, "adyen", json.dumps(body).encode(), {})


def post_gocardless(rt: Runtime, events: list[Any], client: Payments) -> Any:
    raw = json.dumps({"events": events, "meta": {"webhook_id": "WB00PUB"}}).encode()
    signature = hmac.new(GOCARDLESS_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return receive(
        rt.store,
        rt.settings,
        "gocardless",
        raw,
        {"Webhook-Signature": signature},
        gocardless_client=client,  # type: ignore[arg-type]
    )


def stored(rt: Runtime) -> tuple[list[Remittance], dict[str, WebhookEvent]]:
    with rt.store.session() as s:
        remittances = list(s.execute(select(Remittance)).scalars())
        events = {e.event_id: e for e in s.execute(select(WebhookEvent)).scalars()}
    return remittances, events


def test_stripe_events_that_move_no_cash_are_stored_with_a_note(runtime: Runtime) -> None:
    payout = {"id": "po_1Pub", "object": "payout", "amount": 1100, "currency": "usd"}
    intake = post_stripe(runtime, stripe_event("payout.paid", payout, "evt_1PubPayout"))
    assert intake.failed == [] and intake.remittances == []
    assert intake.ignored == [
        "stripe event evt_1PubPayout: not read: arsync takes no cash from payout.paid"
    ]
    refund = charge(amount_refunded=50000, refunded=False)
    post_stripe(runtime, stripe_event("charge.refunded", refund, "evt_1PubRefund"))
    _, events = stored(runtime)
    assert (events["evt_1PubPayout"].status, events["evt_1PubRefund"].status) == (
        "ignored",
        "ignored",
    )
    assert events["evt_1PubRefund"].note == (
        "a refund: kept as an event for the report, not a remittance"
    )


def test_a_malformed_stripe_object_is_kept_as_failed_not_a_crash(runtime: Runtime) -> None:
    event = {**stripe_event("charge.succeeded", charge(), "evt_1PubBad"), "data": {"object": []}}
    intake = post_stripe(runtime, event)
    assert intake.failed == ["stripe event evt_1PubBad: data.object is missing or not an object"]
    assert stored(runtime)[1]["evt_1PubBad"].status == "failed"


def test_checkout_then_intent_is_one_remittance_with_both_texts(runtime: Runtime) -> None:
    session = {**SESSION, "client_reference_id": "PO-551"}
    first = post_stripe(runtime, stripe_event("checkout.session.completed", session, "evt_1PubCs"))
    intent = {
        "id": "pi_3PubCheckout",
        "object": "payment_intent",
        "amount": 5000,
        "amount_received": 5000,
        "currency": "eur",
        "description": "Web order 2231",
        "latest_charge": "ch_3PubCheckout",
        "metadata": {},
        "status": "succeeded",
    }
    second = post_stripe(runtime, stripe_event("payment_intent.succeeded", intent, "evt_1PubPi"))
    assert len(first.remittances) == 1 and second.remittances == []
    [made], events = stored(runtime)
    assert (made.source_key, made.amount_minor, made.currency) == (
        "stripe:pi_3PubCheckout",
        5000,
        "EUR",
    )
    assert [r["ref"] for r in made.structured_refs] == ["INV-8805", "PO-551"]
    assert made.free_text == "INV-8805 PO-551 Web order 2231"
    assert events["evt_1PubPi"].note == "nothing new: its cash and references are counted already"


def test_an_old_api_intent_description_reaches_the_remittance(runtime: Runtime) -> None:
    intent = {
        "id": "pi_3PubOld",
        "object": "payment_intent",
        "amount": 150000,
        "amount_received": 150000,
        "charges": {"object": "list", "data": [charge(payment_intent="pi_3PubOld")]},
        "currency": "jpy",
        "description": "Invoice INV-8801",
        "metadata": {},
        "status": "succeeded",
    }
    post_stripe(runtime, stripe_event("payment_intent.succeeded", intent, "evt_1PubOld"))
    [made], _ = stored(runtime)
    assert (made.amount_minor, made.currency, made.payer_name) == (150000, "JPY", "Kitano Shoji KK")
    assert made.structured_refs == [] and made.free_text == "Invoice INV-8801"


def test_adyen_success_sent_as_a_boolean_is_the_same_event(runtime: Runtime) -> None:
    capture = adyen_item("CAPTURE", "PUB0000000000041", 9900, originalReference="PUB0000000000040")
    first = post_adyen(runtime, sign(capture))
    again = post_adyen(runtime, sign({**capture, "success": True}))
    assert len(first.remittances) == 1 and again.duplicates == 1
    assert list(stored(runtime)[1]) == ["PUB0000000000041:CAPTURE:true"]


def test_adyen_cancel_or_refund_is_kept_as_a_refund_event(runtime: Runtime) -> None:
    item = adyen_item(
        "CANCEL_OR_REFUND",
        "PUB0000000000051",
        2500,
        originalReference="PUB0000000000050",
        additionalData={"modification.action": "refund"},
    )
    intake = post_adyen(runtime, sign(item))
    assert intake.remittances == [] and intake.failed == []
    event = stored(runtime)[1]["PUB0000000000051:CANCEL_OR_REFUND:true"]
    assert (event.status, event.note) == (
        "ignored",
        "a refund: kept as an event for the report, not a remittance",
    )


def test_gocardless_batch_with_a_non_object_event_keeps_the_rest(runtime: Runtime) -> None:
    client = Payments(PM00PUB001=GC_PAYMENT)
    payout = {
        "id": "EV00PUB9",
        "created_at": "2026-11-04T09:00:00.000Z",
        "resource_type": "payouts",
        "action": "paid",
        "links": {"payout": "PO00PUB"},
        "details": {"origin": "gocardless", "cause": "payout_paid"},
        "metadata": {},
    }
    events = [gc_event("EV00PUB1", "confirmed", "PM00PUB001"), "EV00PUBX", payout]
    intake = post_gocardless(runtime, events, client)
    assert len(intake.remittances) == 1 and len(intake.failed) == 1
    assert intake.failed[0].endswith(": events[1] is not an object")
    [made], stored_events = stored(runtime)
    assert (made.amount_minor, made.currency) == (4250, "GBP")
    assert made.free_text == "INV-8820 Invoice INV-8820 November"
    assert stored_events["EV00PUB9"].note == "not read: arsync takes no cash from payouts.paid"


@pytest.mark.parametrize(
    ("auto_capture", "payment"),
    [(False, "adyen:PUB0000000000061"), (True, "adyen:PUB0000000000060")],
)
def test_a_failed_capture_takes_its_cash_back_and_a_recapture_gives_it_again(
    runtime: Runtime, auto_capture: bool, payment: str
) -> None:
    """docs.adyen.com "CAPTURE_FAILED and REFUND_FAILED reasons": the card scheme rejected a
    capture reported as successful; Adyen may capture again itself, announced as CAPTURE,
    success true, reason "Transaction Recaptured" (same pspReference). With manual capture the
    capture is the payment; with automatic capture the authorisation it captured is."""
    runtime.settings.webhooks.adyen_auto_capture = auto_capture
    capture = {"originalReference": "PUB0000000000060", "reason": ""}
    first = adyen_item("CAPTURE", "PUB0000000000061", 25000, **capture)
    assert post_adyen(runtime, sign(first)).remittances
    failed = adyen_item("CAPTURE_FAILED", "PUB0000000000061", 25000, **capture)
    failed["reason"] = "Capture rejected by card scheme because of a technical issue."
    intake = post_adyen(runtime, sign(failed))
    assert intake.failed == [] and len(intake.remittances) == 1
    assert post_adyen(runtime, sign(dict(first))).duplicates == 1  # a replay stays one
    again = adyen_item("CAPTURE", "PUB0000000000061", 25000, originalReference="PUB0000000000060")
    again["reason"] = "Transaction Recaptured"
    intake = post_adyen(runtime, sign(again))
    assert intake.duplicates == 0 and len(intake.remittances) == 1
    remittances, events = stored(runtime)
    assert sorted(r.amount_minor for r in remittances) == [-25000, 25000, 25000]
    taken = next(r for r in remittances if r.amount_minor < 0)
    assert taken.reverses == payment
    assert events["PUB0000000000061:CAPTURE:true:recaptured"].status == "processed"
    assert post_adyen(runtime, sign(dict(again))).duplicates == 1  # its replay stays one too


def test_a_merchant_reference_is_a_reference_of_kind_other() -> None:
    """Adyen's merchantReference is often an order number: it matches an invoice so numbered,
    and naming none of ours lowers no confidence (kind ``other``)."""
    from mappings.processors import remittance_from_record

    item = adyen_item("CAPTURE", "PUB0000000000033", 700)
    item["additionalData"] = {"metadata.invoice_number": "INV-8811"}
    item["merchantReference"] = "ORDER-5521"
    record = parse_item(item)
    assert record is not None
    kinds = [(r["kind"], r["ref"]) for r in remittance_from_record(record).structured_refs]
    assert kinds == [("invoice", "INV-8811"), ("other", "ORDER-5521")]
