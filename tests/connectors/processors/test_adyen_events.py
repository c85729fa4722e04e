"""Adyen: the samples sent to test a webhook are never cash."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from sqlmodel import select

from canonical.models import WebhookEvent
from canonical.store import Store
from connectors.processors.adyen import signing_payload
from connectors.processors.adyen_events import (
    parse_item,
    sample_notification,
)
from sync.settings import load_settings
from sync.webhooks import receive

ADYEN_KEY = "0A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F9"


def sample(code: str, psp: str, currency: str = "EUR", success: str = "true") -> dict[str, Any]:
    """A sample as a webhook test sends it (merchantReference testMerchantRef1, EUR or GBP)."""
    return {
        "additionalData": {},
        "amount": {"currency": currency, "value": 10100},
        "eventCode": code,
        "eventDate": "2026-11-02T10:12:31+01:00",
        "merchantAccountCode": "ArsyncLiveECOM",
        "merchantReference": "testMerchantRef1",
        "operations": ["CANCEL", "CAPTURE", "REFUND"],
        "originalReference": "",
        "paymentMethod": "visa",
        "pspReference": psp,
        "reason": "1234:7777:12/2012",
        "success": success,
    }


def payment(psp: str = "Q7RT4V2XK9LM3P8D", reference: str = "INV-5001") -> dict[str, Any]:
    return {
        "additionalData": {},
        "amount": {"currency": "EUR", "value": 12500},
        "eventCode": "AUTHORISATION",
        "eventDate": "2026-11-02T10:00:00+01:00",
        "merchantAccountCode": "ArsyncLiveECOM",
        "merchantReference": reference,
        "operations": ["CANCEL", "CAPTURE", "REFUND"],
        "paymentMethod": "visa",
        "pspReference": psp,
        "reason": "",
        "success": "true",
    }


SAMPLES = [
    sample("AUTHORISATION", "test_AUTHORISATION_1"),  # the older samples' PSP reference
    sample("AUTHORISATION", "test_AUTHORISATION_3", "GBP"),
    sample("AUTHORISATION", "N5TS7M2X4W3W9575"),  # a newer sample: a PSP reference of 16
    sample("CHARGEBACK_REVERSED", "test_CHARGEBACK_REVERSED_1"),
]


@pytest.mark.parametrize("item", SAMPLES, ids=lambda i: f"{i['eventCode']}-{i['pspReference']}")
@pytest.mark.parametrize("auto_capture", [True, False])
def test_a_webhook_tests_sample_is_no_cash(item: dict[str, Any], auto_capture: bool) -> None:
    assert parse_item(dict(item), auto_capture=auto_capture) is None
    why = sample_notification(item) or ""
    assert "sample" in why and ("pspReference" in why or "merchantReference" in why)


def test_a_real_payment_is_not_taken_for_a_sample() -> None:
    for reference in ("INV-5001", "testMerchantRef", "ORDER-testMerchantRef1", "TESTMERCHANTREF1"):
        assert sample_notification(payment(reference=reference)) is None
        record = parse_item(payment(reference=reference))
        assert record is not None and record.kind == "payment"


def test_a_refused_authorisation_is_no_cash_and_a_successful_one_is() -> None:
    refused = payment() | {"success": "false", "reason": "Refused"}
    assert parse_item(refused) is None
    assert parse_item(payment(), auto_capture=False) is None  # manual capture: CAPTURE is cash
    record = parse_item(payment())
    assert record is not None and record.amount is not None
    assert (record.kind, str(record.amount.amount), record.payment_id) == (
        "payment",
        "125.00",
        "Q7RT4V2XK9LM3P8D",
    )


def test_samples_sent_to_a_live_endpoint_make_no_remittance() -> None:
    """The live Customer Area's webhook test: four samples per event code, live "true"."""
    items = [
        sample("AUTHORISATION", "test_AUTHORISATION_1"),
        sample("AUTHORISATION", "test_AUTHORISATION_2", success="false"),
        sample("AUTHORISATION", "test_AUTHORISATION_3", "GBP"),
        sample("AUTHORISATION", "test_AUTHORISATION_4", "GBP", success="false"),
    ]
    for item in items:
        digest = hmac.new(bytes.fromhex(ADYEN_KEY), signing_payload(item).encode(), hashlib.sha256)
        item["additionalData"]["hmacSignature"] = base64.b64encode(digest.digest()).decode()
    body = {"live": "true", "notificationItems": [{"NotificationRequestItem": i} for i in items]}
    settings = load_settings(None, database_url="sqlite://", webhooks={"adyen_hmac_key": ADYEN_KEY})
    store = Store.open("sqlite://")
    try:
        intake = receive(store, settings, "adyen", json.dumps(body).encode(), {})
        with store.session() as session:
            notes = session.exec(select(WebhookEvent.note)).all()
    finally:
        store.dispose()
    assert (intake.events, intake.remittances, intake.failed) == (4, [], [])
    assert len(intake.ignored) == 4
    # the stored event says why it moved no cash (a person can tell a sample from a payment)
    assert notes and all("a sample sent to test the webhook" in (n or "") for n in notes)
