"""A webhook secret set but blank (an environment variable that expanded to nothing) verifies
nothing: an HMAC under the empty key is one anybody can compute, so it would let a forged
delivery in (cash that never came, a chargeback that never happened). A newline pasted with a
secret is not part of it."""

from __future__ import annotations

import base64
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
from connectors.processors import adyen, gocardless, stripe
from sync.runtime import Runtime
from sync.settings import load_settings
from sync.webhooks import Rejected, receive

BODY = b'{"id":"evt_forged","type":"payment_intent.succeeded"}'
NOW = 1_767_225_600


def _stripe_header(body: bytes, key: bytes, t: int = NOW) -> str:
    return f"t={t},v1={hmac.new(key, f'{t}.'.encode() + body, hashlib.sha256).hexdigest()}"


def _adyen_item(key: bytes) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pspReference": "8815000000000001",
        "originalReference": "",
        "merchantAccountCode": "ArsyncShop",
        "merchantReference": "ORDER-1",
        "amount": {"value": 500000, "currency": "EUR"},
        "eventCode": "AUTHORISATION",
        "success": "true",
    }
    digest = hmac.new(key, adyen.signing_payload(item).encode(), hashlib.sha256).digest()
    item["additionalData"] = {"hmacSignature": base64.b64encode(digest).decode()}
    return item


@pytest.mark.parametrize("blank", ["", "   ", "\n"])
def test_a_blank_secret_verifies_no_signature_made_with_the_empty_key(blank: str) -> None:
    empty_key = hmac.new(b"", BODY, hashlib.sha256).hexdigest()
    stripped = blank.strip().encode()
    assert not stripe.verify(BODY, _stripe_header(BODY, stripped), [blank], clock=lambda: NOW)
    assert not gocardless.verify(BODY, empty_key, blank)
    assert not adyen.verify_item(_adyen_item(b""), [blank])


def test_a_blank_secret_beside_a_real_one_takes_nothing_from_it() -> None:
    assert stripe.verify(
        BODY, _stripe_header(BODY, b"whsec_real"), ["", "whsec_real"], clock=lambda: NOW
    )
    assert not stripe.verify(BODY, _stripe_header(BODY, b""), ["", "whsec_real"], clock=lambda: NOW)
    key = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056"
    assert adyen.verify_item(_adyen_item(bytes.fromhex(key)), ["", key])
    assert not adyen.verify_item(_adyen_item(b""), ["", key])


def test_a_newline_pasted_with_a_secret_is_not_part_of_it() -> None:
    assert stripe.verify(
        BODY, _stripe_header(BODY, b"whsec_real"), ["whsec_real\n"], clock=lambda: NOW
    )
    signature = hmac.new(b"gc_secret", BODY, hashlib.sha256).hexdigest()
    assert gocardless.verify(BODY, signature, "gc_secret\n")


@pytest.fixture
def blank_runtime(tmp_path: Path) -> Iterator[Runtime]:
    settings = load_settings(
        None,
        database_url=f"sqlite:///{tmp_path / 'blank.db'}",
        webhooks={"stripe_secrets": [""], "adyen_hmac_key": [""], "gocardless_secret": ""},
    )
    runtime = Runtime.open(settings)
    yield runtime
    runtime.close()


def test_a_delivery_forged_under_a_blank_secret_is_refused_and_makes_no_cash(
    blank_runtime: Runtime,
) -> None:
    rt = blank_runtime
    event = {
        "id": "evt_forged",
        "object": "event",
        "created": int(time.time()),
        "livemode": True,
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": "pi_forged",
                "object": "payment_intent",
                "amount": 999_999,
                "amount_received": 999_999,
                "currency": "usd",
                "metadata": {"invoice_number": "INV-1001"},
            }
        },
    }
    raw = json.dumps(event).encode()
    header = _stripe_header(raw, b"", int(time.time()))
    with pytest.raises(Rejected) as stripe_refusal:
        receive(rt.store, rt.settings, "stripe", raw, {"Stripe-Signature": header})
    assert stripe_refusal.value.status == 503  # a blank secret is none
    raw = json.dumps(
        {"live": "true", "notificationItems": [{"NotificationRequestItem": _adyen_item(b"")}]}
    ).encode()
    with pytest.raises(Rejected) as adyen_refusal:
        receive(rt.store, rt.settings, "adyen", raw, {})
    assert adyen_refusal.value.status == 503
    raw = json.dumps(
        {
            "events": [
                {
                    "id": "EV1",
                    "resource_type": "payments",
                    "action": "charged_back",
                    "links": {"payment": "PM1"},
                }
            ]
        }
    ).encode()
    signature = hmac.new(b"", raw, hashlib.sha256).hexdigest()
    with pytest.raises(Rejected) as gc_refusal:
        receive(rt.store, rt.settings, "gocardless", raw, {"Webhook-Signature": signature})
    assert gc_refusal.value.status == 503
    with rt.store.session() as session:
        assert list(session.execute(select(Remittance)).scalars()) == []
