"""A Stripe delivery stamped ahead of this machine's clock (this clock running behind Stripe's).

stripe-python's ``WebhookSignature.verify_header`` (and stripe-node's and stripe-go's) refuses a
timestamp only when it is older than ``now - tolerance``: a replay. A timestamp ahead of the
local clock passes whatever the gap, since only Stripe can sign it; refusing it would refuse
every delivery for as long as the clock is behind, and Stripe gives up after three days.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from canonical.models import Remittance
from connectors.processors import stripe
from sync.runtime import Runtime
from sync.settings import load_settings
from sync.webhooks import Rejected, receive

SECRET = "whsec_clock_skew_probe"
NOW = 1_767_225_600
BODY = b'{\n  "id": "evt_1SkewA",\n  "object": "event"\n}'


def header(body: bytes, t: int, secret: str = SECRET) -> str:
    sig = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={sig}"


@pytest.mark.parametrize("ahead", [1, 300, 301, 900, 3600])
def test_a_timestamp_ahead_of_this_clock_verifies(ahead: int) -> None:
    assert stripe.verify(BODY, header(BODY, NOW + ahead), [SECRET], clock=lambda: NOW)


def test_a_timestamp_ahead_still_needs_a_good_signature() -> None:
    forged = header(BODY, NOW + 900, "whsec_someone_else")
    assert not stripe.verify(BODY, forged, [SECRET], clock=lambda: NOW)
    moved = header(BODY, NOW).replace(f"t={NOW}", f"t={NOW + 900}")
    assert not stripe.verify(BODY, moved, [SECRET], clock=lambda: NOW)


def test_a_timestamp_older_than_the_tolerance_is_still_refused() -> None:
    assert stripe.verify(BODY, header(BODY, NOW - 300), [SECRET], clock=lambda: NOW)
    assert not stripe.verify(BODY, header(BODY, NOW - 301), [SECRET], clock=lambda: NOW)
    stale = header(BODY, NOW - 3600)
    assert not stripe.verify(BODY, stale, [SECRET], tolerance_seconds=3599, clock=lambda: NOW)


@pytest.fixture
def rt(tmp_path: Path) -> Iterator[Runtime]:
    settings = load_settings(
        None,
        database_url=f"sqlite:///{tmp_path / 'skew.db'}",
        webhooks={"stripe_secrets": [SECRET]},
    )
    runtime = Runtime.open(settings)
    yield runtime
    runtime.close()


def test_a_delivery_signed_ten_minutes_ahead_of_this_clock_is_taken_in(rt: Runtime) -> None:
    event = {
        "id": "evt_1SkewIntake",
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": NOW,
        "livemode": False,
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": "pi_1SkewIntake",
                "object": "payment_intent",
                "amount": 12500,
                "amount_received": 12500,
                "currency": "jpy",
                "customer": "cus_Skew",
                "metadata": {"invoice_number": "INV-5501"},
                "status": "succeeded",
            }
        },
    }
    raw = json.dumps(event, indent=2).encode()
    ahead = {"Stripe-Signature": header(raw, int(time.time()) + 600)}
    intake = receive(rt.store, rt.settings, "stripe", raw, ahead)
    assert intake.failed == []
    with rt.store.session() as s:
        cash = [(r.currency, r.amount_minor) for r in s.execute(select(Remittance)).scalars()]
    assert cash == [("JPY", 12500)]
    stale = {"Stripe-Signature": header(raw, int(time.time()) - 600)}
    with pytest.raises(Rejected) as refused:
        receive(rt.store, rt.settings, "stripe", raw, stale)
    assert refused.value.status == 400 and SECRET not in refused.value.reason
