"""Events as the processors document them: which are cash in, which take cash back or give it
back, which move no money at all (and are not read), and that signatures are checked exactly.

Stripe: https://docs.stripe.com/webhooks#verify-manually, https://docs.stripe.com/api/events
Adyen: https://docs.adyen.com/development-resources/webhooks/verify-hmac-signatures,
https://docs.adyen.com/risk-management/disputes-api/dispute-notifications
GoCardless: https://developer.gocardless.com/api-reference/#webhooks-overview,
https://developer.gocardless.com/api-reference/#events-payment-actions
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from decimal import Decimal
from typing import Any

import pytest

from connectors.processors import adyen, stripe
from connectors.processors.adyen_events import parse_item
from connectors.processors.gocardless_events import parse_event as parse_gocardless
from connectors.processors.stripe_events import parse_event as parse_stripe

NOW = 1_767_225_600
BODY = b'{"id":"evt_1Shape","object":"event","type":"payment_intent.succeeded"}'


def v1(body: bytes, secret: str, t: int = NOW) -> str:
    return hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()


def test_stripe_signature_header_as_documented() -> None:
    good = v1(BODY, "whsec_current")
    rotated = v1(BODY, "whsec_previous")
    # several v1 during a rotation, a v0 (test-mode legacy scheme) that is ignored
    header = f"t={NOW},v1={rotated},v1={good},v0={'ab' * 32}"
    assert stripe.verify(BODY, header, ["whsec_current"], clock=lambda: NOW)
    assert stripe.verify(BODY, header, ["whsec_previous"], clock=lambda: NOW)
    assert stripe.verify(BODY, header, ["whsec_current"], clock=lambda: NOW + 300)
    assert not stripe.verify(BODY, header, ["whsec_current"], clock=lambda: NOW + 301)  # stale
    assert not stripe.verify(BODY, f"v1={good}", ["whsec_current"], clock=lambda: NOW)  # no t
    assert not stripe.verify(BODY, f"t={NOW}", ["whsec_current"], clock=lambda: NOW)  # no v1
    assert not stripe.verify(BODY, "", ["whsec_current"], clock=lambda: NOW)
    # the timestamp is signed: moving it invalidates the signature
    assert not stripe.verify(BODY, f"t={NOW + 1},v1={good}", ["whsec_current"], clock=lambda: NOW)


def stripe_event(kind: str, obj: dict[str, Any], event_id: str = "evt_1Shape") -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": NOW,
        "type": kind,
        "livemode": False,
        "data": {"object": obj},
    }


def test_stripe_payment_intent_succeeded_counts_what_was_received() -> None:
    record = parse_stripe(
        stripe_event(
            "payment_intent.succeeded",
            {
                "id": "pi_3ShapeIntent",
                "object": "payment_intent",
                "amount": 50000,
                "amount_capturable": 0,
                "amount_received": 42000,  # partially captured
                "currency": "eur",
                "latest_charge": "ch_3ShapeCharge",
                "metadata": {"invoice_number": "INV-7100"},
                "status": "succeeded",
            },
        )
    )
    assert record is not None and record.kind == "payment"
    assert (record.payment_id, record.invoice_refs) == ("pi_3ShapeIntent", ("INV-7100",))
    assert record.amount is not None and record.amount.amount == Decimal("420.00")


def test_stripe_charge_events_name_the_payment_intent() -> None:
    charge = {
        "id": "ch_3ShapeCharge",
        "object": "charge",
        "amount": 50000,
        "amount_captured": 42000,
        "amount_refunded": 0,
        "captured": True,
        "currency": "eur",
        "payment_intent": "pi_3ShapeIntent",
        "billing_details": {"name": "Nordlicht GmbH", "email": None},
        "metadata": {},
    }
    for kind in ("charge.succeeded", "charge.captured"):
        record = parse_stripe(stripe_event(kind, charge))
        assert record is not None and record.payment_id == "pi_3ShapeIntent"
        assert record.amount is not None and record.amount.amount == Decimal("420.00")
    refunded = parse_stripe(
        stripe_event("charge.refunded", {**charge, "amount_refunded": 2000, "refunded": False})
    )
    assert refunded is not None and refunded.kind == "refund"
    assert refunded.amount is not None and refunded.amount.amount == Decimal("20.00")


def test_stripe_invoice_paid_in_both_shapes_and_invoice_payment_paid() -> None:
    old = {
        "id": "in_1ShapeInvoice",
        "object": "invoice",
        "amount_paid": 12500,
        "currency": "kwd",
        "charge": "ch_3ShapeCharge",
        "payment_intent": "pi_3ShapeIntent",
        "paid_out_of_band": False,
        "status": "paid",
    }
    record = parse_stripe(stripe_event("invoice.paid", old))
    assert record is not None and record.payment_id == "pi_3ShapeIntent"
    assert record.amount is not None and record.amount.amount == Decimal("12.500")  # 3 decimals
    basil = {k: v for k, v in old.items() if k not in ("charge", "payment_intent")}
    references = parse_stripe(stripe_event("invoice.paid", basil))  # InvoicePayment says
    assert references is not None and references.kind == "references"
    assert (references.payment_id, references.invoice_id) == ("", "in_1ShapeInvoice")
    paid = parse_stripe(
        stripe_event(
            "invoice_payment.paid",
            {
                "id": "inpay_1Shape",
                "object": "invoice_payment",
                "amount_paid": 12500,
                "amount_requested": 12500,
                "currency": "kwd",
                "invoice": "in_1ShapeInvoice",
                "is_default": True,
                "payment": {"type": "payment_intent", "payment_intent": "pi_3ShapeIntent"},
                "status": "paid",
            },
        )
    )
    assert paid is not None and paid.payment_id == "pi_3ShapeIntent"
    assert paid.invoice_refs == ("in_1ShapeInvoice",)
    assert paid.invoice_id == "in_1ShapeInvoice"


def item(code: str, success: str = "true", **fields: Any) -> dict[str, Any]:
    """A NotificationRequestItem as Adyen documents it."""
    base: dict[str, Any] = {
        "additionalData": {},
        "amount": {"currency": "EUR", "value": 24900},
        "eventCode": code,
        "eventDate": "2026-12-02T10:00:00+01:00",
        "merchantAccountCode": "ArsyncShapeShop",
        "merchantReference": "INV-7200",
        "pspReference": "AB12CD34EF56GH78",
        "reason": "",
        "success": success,
    }
    return {**base, **fields}


DISPUTE = {"pspReference": "DSP0000000000001", "originalReference": "PAY0000000000001"}


@pytest.mark.parametrize(
    ("code", "fields", "kind"),
    [
        ("CAPTURE", {"originalReference": "PAY0000000000001"}, "payment"),
        ("REFUND", {"originalReference": "PAY0000000000001"}, "refund"),
        ("CHARGEBACK", DISPUTE, "dispute"),
        ("CHARGEBACK_REVERSED", DISPUTE, "reinstatement"),
        ("SECOND_CHARGEBACK", DISPUTE, "dispute"),  # the disputed amount deducted again
    ],
)
def test_adyen_items_that_move_money(code: str, fields: dict[str, str], kind: str) -> None:
    record = parse_item(item(code, **fields))
    assert record is not None and record.kind == kind
    assert record.amount is not None and record.amount.amount == Decimal("249.00")
    if code != "CAPTURE":  # a dispute's pspReference is the dispute's: the payment is original
        assert record.payment_id == "PAY0000000000001"


@pytest.mark.parametrize(
    "code",
    [
        "NOTIFICATION_OF_CHARGEBACK",
        "REQUEST_FOR_INFORMATION",
        "NOTIFICATION_OF_FRAUD",
        "PREARBITRATION_WON",
        "PREARBITRATION_LOST",
        "DISPUTE_DEFENSE_PERIOD_ENDED",
        "INFORMATION_SUPPLIED",
        "ISSUER_RESPONSE_TIMEFRAME_EXPIRED",
        "EXPIRE",
        "REPORT_AVAILABLE",
    ],
)
def test_adyen_items_that_move_no_money_are_not_read(code: str) -> None:
    assert parse_item(item(code, **DISPUTE)) is None
    assert parse_item(item(code, **DISPUTE), auto_capture=True) is None


def test_adyen_failed_items_are_not_cash() -> None:
    for code in ("AUTHORISATION", "CAPTURE", "REFUND", "CHARGEBACK", "CANCELLATION"):
        assert parse_item(item(code, "false", **DISPUTE), auto_capture=True) is None


CANCELLED = {"pspReference": "CNC0000000000001", "originalReference": "PAY0000000000001"}


@pytest.mark.parametrize(
    ("code", "extra"),
    [
        ("CANCELLATION", {}),
        ("TECHNICAL_CANCEL", {}),
        ("CANCEL_OR_REFUND", {"modification.action": "cancel"}),
    ],
)
def test_adyen_a_cancelled_authorisation_takes_back_only_what_auto_capture_counted(
    code: str, extra: dict[str, str]
) -> None:
    cancelled = item(code, **CANCELLED, additionalData=extra)
    record = parse_item(cancelled, auto_capture=True)
    assert record is not None and record.kind == "failure"
    assert record.payment_id == "PAY0000000000001"  # the authorisation counted as cash
    assert record.amount is not None and record.amount.amount == Decimal("249.00")
    # manual capture: the authorisation was never cash, and a cancellation after a partial
    # capture cancels the uncaptured rest, never the capture
    assert parse_item(cancelled, auto_capture=False) is None


def test_adyen_hmac_over_documented_fields() -> None:
    key = "9F3A0C55D1B2E4F60718293A4B5C6D7E8F9011223344556677889900AABBCCDD"
    signed = item("CHARGEBACK", **DISPUTE)
    payload = "DSP0000000000001:PAY0000000000001:ArsyncShapeShop:INV-7200:24900:EUR:CHARGEBACK:true"
    assert adyen.signing_payload(signed) == payload
    digest = hmac.new(bytes.fromhex(key), payload.encode(), hashlib.sha256).digest()
    signed["additionalData"]["hmacSignature"] = base64.b64encode(digest).decode()
    assert adyen.verify_item(signed, [key])
    # a JSON boolean success is signed as Adyen's libraries sign it: "true"
    assert adyen.verify_item({**signed, "success": True}, [key])
    # a field absent from the item is signed as an empty string
    no_original = {k: v for k, v in signed.items() if k != "originalReference"}
    assert adyen.signing_payload(no_original).startswith("DSP0000000000001::ArsyncShapeShop:")
    assert not adyen.verify_item(no_original, [key])
    assert not adyen.verify_item({**signed, "amount": {"currency": "EUR", "value": 24901}}, [key])


class Payments:
    """GET /payments/{id} as GoCardless documents it; counts the reads."""

    def __init__(self) -> None:
        self.reads: list[str] = []

    def payment(self, payment_id: str) -> dict[str, Any]:
        self.reads.append(payment_id)
        return {
            "id": payment_id,
            "amount": 3150,
            "amount_refunded": 0,
            "charge_date": "2026-12-03",
            "currency": "EUR",
            "description": "December",
            "reference": "INV-7300",
            "metadata": {"invoice_number": "INV-7300"},
            "status": "confirmed",
            "links": {"mandate": "MD000SHAPE", "creditor": "CR000SHAPE"},
        }


def gc_event(action: str, cause: str, origin: str = "gocardless") -> dict[str, Any]:
    return {
        "id": f"EV{action.upper()[:10]}",
        "created_at": "2026-12-03T08:00:00.000Z",
        "resource_type": "payments",
        "action": action,
        "links": {"payment": "PM000SHAPE"},
        "details": {"origin": origin, "cause": cause, "description": "..."},
        "metadata": {},
    }


@pytest.mark.parametrize(
    ("action", "cause", "kind"),
    [
        ("confirmed", "payment_confirmed", "payment"),
        ("failed", "insufficient_funds", "failure"),
        ("charged_back", "authorisation_disputed", "dispute"),
        ("chargeback_cancelled", "payment_confirmed", "reinstatement"),
    ],
)
def test_gocardless_payment_actions_that_move_money(action: str, cause: str, kind: str) -> None:
    payments = Payments()
    record = parse_gocardless(gc_event(action, cause), payments)
    assert record is not None and record.kind == kind and payments.reads == ["PM000SHAPE"]
    assert record.amount is not None and record.amount.amount == Decimal("31.50")
    assert record.invoice_refs == ("INV-7300",) and record.payment_id == "PM000SHAPE"
    assert record.collected_again_when_taken_back is (kind == "payment")


@pytest.mark.parametrize(
    ("action", "cause"),
    [
        ("created", "payment_created"),
        ("submitted", "payment_submitted"),
        ("paid_out", "payment_paid_out"),  # the payout of cash confirmed already
        ("late_failure_settled", "late_failure_settled"),  # the payout side of a failure
        ("chargeback_settled", "chargeback_settled"),  # the payout side of a chargeback
        ("resubmission_requested", "payment_retried"),
        ("cancelled", "mandate_cancelled"),
        ("customer_approval_denied", "customer_approval_denied"),
    ],
)
def test_gocardless_payment_actions_that_move_no_new_money(action: str, cause: str) -> None:
    payments = Payments()
    assert parse_gocardless(gc_event(action, cause), payments) is None
    assert payments.reads == []  # not even read
    mandate = {**gc_event("active", "mandate_activated"), "resource_type": "mandates"}
    assert parse_gocardless(mandate, payments) is None
