"""The same delivery arriving twice at the same time, through the webhook HTTP app, on SQLite
and on PostgreSQL: one stored event per id, the cash counted once, both answered 2xx (the
processors deliver at least once and may retry while the first attempt is still running).
And deliveries refused before anything is parsed or stored, each with a clear status."""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from canonical.models import Remittance, WebhookEvent
from connectors.processors import adyen
from sync import webhooks
from sync.runtime import Runtime
from sync.serve import create_app
from sync.settings import Settings, load_settings
from tests.support.webhook_runtime import webhook_runtime

STRIPE_SECRET = "whsec_concurrent_probe"
ADYEN_KEY = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056"
GC_SECRET = "gc_concurrent_secret"
GC_BASE = "https://api.gocardless.test"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def rt(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Runtime]:
    """A runtime on SQLite, and on PostgreSQL (skipped with the reason when unreachable)."""
    yield from webhook_runtime(
        request,
        tmp_path,
        {
            "stripe_secrets": [STRIPE_SECRET],
            "adyen_hmac_key": ADYEN_KEY,
            "gocardless_secret": GC_SECRET,
            "gocardless_access_token": "gc_concurrent_token",
            "gocardless_base_url": GC_BASE,
        },
    )


def stripe_delivery() -> tuple[bytes, dict[str, str]]:
    event = {
        "id": "evt_C1",
        "object": "event",
        "api_version": "2025-09-30.clover",
        "created": 1_767_225_600,
        "livemode": False,
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": "pi_C1",
                "object": "payment_intent",
                "amount": 31415,
                "amount_received": 31415,
                "currency": "eur",
                "latest_charge": "ch_C1",
                "metadata": {"invoice_number": "INV-C1"},
                "status": "succeeded",
            }
        },
    }
    raw = json.dumps(event).encode()
    t = str(int(time.time()))
    sig = hmac.new(STRIPE_SECRET.encode(), f"{t}.".encode() + raw, hashlib.sha256).hexdigest()
    return raw, {"Stripe-Signature": f"t={t},v1={sig}"}


def adyen_item(psp: str, code: str, value: int, original: str = "") -> dict[str, Any]:
    item: dict[str, Any] = {
        "additionalData": {},
        "amount": {"currency": "EUR", "value": value},
        "eventCode": code,
        "eventDate": "2026-11-02T10:00:00+01:00",
        "merchantAccountCode": "ArsyncShop",
        "merchantReference": "INV-C2",
        "originalReference": original,
        "pspReference": psp,
        "success": "true",
    }
    digest = hmac.new(
        binascii.unhexlify(ADYEN_KEY), adyen.signing_payload(item).encode(), hashlib.sha256
    ).digest()
    item["additionalData"]["hmacSignature"] = base64.b64encode(digest).decode()
    return item


def adyen_delivery() -> tuple[bytes, dict[str, str]]:
    items = [
        adyen_item("C200000000000001", "AUTHORISATION", 2718),
        adyen_item("C200000000000002", "CAPTURE", 2718, "C200000000000001"),
    ]
    body = {"live": "false", "notificationItems": [{"NotificationRequestItem": i} for i in items]}
    return json.dumps(body).encode(), {}


def gc_delivery() -> tuple[bytes, dict[str, str]]:
    events = [
        {
            "id": "EV00C3",
            "created_at": "2026-11-03T09:13:51.404Z",
            "resource_type": "payments",
            "action": "confirmed",
            "links": {"payment": "PM00C3"},
        }
    ]
    raw = json.dumps({"events": events}).encode()
    sig = hmac.new(GC_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"Webhook-Signature": sig}


DELIVERIES = {"stripe": stripe_delivery, "adyen": adyen_delivery, "gocardless": gc_delivery}
EXPECTED = {"stripe": (31415, "EUR"), "adyen": (2718, "EUR"), "gocardless": (1618, "GBP")}


def race_on_seen(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each delivery looks for its event before either has stored it (both threads wait for
    the other at their first look), as when the second arrives while the first runs."""
    barrier = threading.Barrier(2, timeout=5)
    seen = webhooks._seen
    looked: set[int] = set()

    def seam(session: Session, settings: Settings, source: str, event_id: str) -> bool:
        found = seen(session, settings, source, event_id)
        if threading.get_ident() not in looked:
            looked.add(threading.get_ident())
            # the other delivery never came this far on a broken barrier: no race to force
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait()
        return found

    monkeypatch.setattr(webhooks, "_seen", seam)


@pytest.mark.parametrize("source", sorted(DELIVERIES))
def test_the_same_delivery_twice_at_once_counts_the_cash_once(
    rt: Runtime, source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw, headers = DELIVERIES[source]()
    race_on_seen(monkeypatch)
    client = TestClient(create_app(rt, schedule=False))
    answers: list[Any] = []  # each an answer, or what the request raised

    def deliver() -> None:
        try:
            answers.append(client.post(f"/webhooks/{source}", content=raw, headers=headers))
        except BaseException as exc:  # asserted below
            answers.append(exc)

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        payment = {"id": "PM00C3", "amount": 1618, "currency": "GBP", "status": "confirmed"}
        mock.get(f"{GC_BASE}/payments/PM00C3", json={"payments": payment})
        threads = [threading.Thread(target=deliver) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert len(answers) == 2
    assert not [a for a in answers if isinstance(a, BaseException)], answers
    codes = sorted(a.status_code for a in answers)
    assert codes == [200, 200], [a.text for a in answers]
    if source != "adyen":  # one took the event in, the other found it stored: a duplicate
        told = sorted((a.json()["received"], a.json()["duplicates"]) for a in answers)
        assert told == [(0, 1), (1, 0)], told
    with rt.store.session() as s:
        made = list(s.execute(select(Remittance)).scalars())
        stored = list(s.execute(select(WebhookEvent)).scalars())
    assert [(m.amount_minor, m.currency) for m in made] == [EXPECTED[source]]
    ids = [e.event_id for e in stored]
    assert len(ids) == len(set(ids)) and ids


# -- refused before parsing -------------------------------------------------------------------


@pytest.fixture
def sqlite_rt(tmp_path: Path) -> Iterator[Runtime]:
    settings = load_settings(
        None,
        database_url=f"sqlite:///{tmp_path / 'refused.db'}",
        webhooks={
            "stripe_secrets": [STRIPE_SECRET],
            "adyen_hmac_key": ADYEN_KEY,
            "gocardless_secret": GC_SECRET,
            "gocardless_access_token": "gc_concurrent_token",
            "gocardless_base_url": GC_BASE,
        },
    )
    runtime = Runtime.open(settings)
    yield runtime
    runtime.close()


def test_bad_deliveries_are_refused_with_a_clear_status_and_store_nothing(
    sqlite_rt: Runtime,
) -> None:
    client = TestClient(create_app(sqlite_rt, schedule=False))
    not_json = b"payment=1&amount=100"
    t = str(int(time.time()))
    signed = hmac.new(STRIPE_SECRET.encode(), f"{t}.".encode() + not_json, "sha256").hexdigest()
    old = str(int(time.time()) - 3600)
    raw, _ = stripe_delivery()
    stale = hmac.new(STRIPE_SECRET.encode(), f"{old}.".encode() + raw, "sha256").hexdigest()
    gc_sig = hmac.new(GC_SECRET.encode(), not_json, hashlib.sha256).hexdigest()
    cases = [
        ("stripe", not_json, {"Stripe-Signature": f"t={t},v1={signed}"}, 400, "not JSON"),
        ("stripe", raw, {"Stripe-Signature": f"t={old},v1={stale}"}, 400, "too old"),
        ("stripe", raw, {"Stripe-Signature": f"t={t},v1={'0' * 64}"}, 400, "does not match"),
        ("gocardless", not_json, {"Webhook-Signature": gc_sig}, 400, "not JSON"),
        ("gocardless", gc_delivery()[0], {"Webhook-Signature": "0" * 64}, 498, "does not match"),
        ("adyen", not_json, {}, 400, "not JSON"),
    ]
    for source, body, headers, status, words in cases:
        answer = client.post(f"/webhooks/{source}", content=body, headers=headers)
        assert answer.status_code == status, (source, answer.text)
        error = answer.json()["error"]
        assert words in error and STRIPE_SECRET not in error and GC_SECRET not in error
    with sqlite_rt.store.session() as s:
        assert list(s.execute(select(WebhookEvent)).scalars()) == []
        assert list(s.execute(select(Remittance)).scalars()) == []
