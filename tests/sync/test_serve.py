"""``arsync serve`` over HTTP: processor webhooks verified over the raw body before anything
is parsed or stored, replays stored once, the report and health pages."""

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
import responses
from fastapi.testclient import TestClient
from sqlalchemy import select

from canonical.models import Remittance, WebhookEvent
from connectors.processors.adyen import signing_payload
from connectors.quickbooks.webhooks import sign as qbo_sign
from sync.runtime import Runtime
from sync.serve import create_app
from sync.settings import load_settings

FIXTURES = Path(__file__).parents[1] / "fixtures" / "processors"
STRIPE_SECRET = "whsec_test_secret_for_arsync"
OLD_STRIPE_SECRET = "whsec_rotated_out_secret"
ADYEN_KEY = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056"
GOCARDLESS_SECRET = "gc_webhook_secret_test"
QBO_VERIFIER = "qbo-verifier-token-test"


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    settings = load_settings(
        None,
        database_url=f"sqlite:///{tmp_path / 'serve.db'}",
        webhooks={
            "stripe_secrets": [OLD_STRIPE_SECRET, STRIPE_SECRET],
            "adyen_hmac_key": ADYEN_KEY,
            "gocardless_secret": GOCARDLESS_SECRET,
            "gocardless_access_token": "gc_access_token_test",
            "gocardless_base_url": "https://api.gocardless.test",
            "quickbooks_verifier": QBO_VERIFIER,
        },
    )
    rt = Runtime.open(settings)
    yield rt
    rt.close()


@pytest.fixture
def client(runtime: Runtime) -> TestClient:
    return TestClient(create_app(runtime, schedule=False))


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def stripe_headers(
    raw: bytes, secret: str = STRIPE_SECRET, at: int | None = None
) -> dict[str, str]:
    stamp = str(at if at is not None else int(time.time()))
    digest = hmac.new(secret.encode(), stamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={stamp},v1={digest}", "Content-Type": "application/json"}


def remittances(runtime: Runtime) -> list[Remittance]:
    with runtime.store.session() as s:
        return list(s.execute(select(Remittance)).scalars())


def events(runtime: Runtime) -> list[WebhookEvent]:
    with runtime.store.session() as s:
        return list(s.execute(select(WebhookEvent)).scalars())


def test_a_signed_stripe_payment_becomes_one_remittance_and_a_replay_nothing(
    client: TestClient, runtime: Runtime
) -> None:
    raw = fixture("stripe_payment_intent_succeeded.json")
    first = client.post("/webhooks/stripe", content=raw, headers=stripe_headers(raw))
    assert first.status_code == 200 and first.json()["remittances"] == 1
    again = client.post("/webhooks/stripe", content=raw, headers=stripe_headers(raw))
    assert again.status_code == 200 and again.json()["duplicates"] == 1
    [made] = remittances(runtime)
    assert (made.source, made.amount_minor, made.currency) == ("stripe", 125000, "USD")
    assert made.source_key == "stripe:pi_3QkTestPaymentIntent01"
    assert [r["ref"] for r in made.structured_refs][:1] == ["INV-01001"]
    # the same payment announced by the newer InvoicePayment event is still one remittance
    raw2 = fixture("stripe_invoice_payment_paid.json")
    third = client.post("/webhooks/stripe", content=raw2, headers=stripe_headers(raw2))
    assert third.status_code == 200 and third.json()["remittances"] == 0
    assert len(remittances(runtime)) == 1 and len(events(runtime)) == 2


def test_bad_or_stale_signatures_store_nothing(client: TestClient, runtime: Runtime) -> None:
    raw = fixture("stripe_payment_intent_succeeded.json")
    forged = client.post(
        "/webhooks/stripe", content=raw, headers=stripe_headers(raw, "whsec_wrong")
    )
    assert forged.status_code == 400
    stale = client.post(
        "/webhooks/stripe", content=raw, headers=stripe_headers(raw, at=int(time.time()) - 900)
    )
    assert stale.status_code == 400
    tampered = raw.replace(b"125000", b"999999")
    signed_other = client.post("/webhooks/stripe", content=tampered, headers=stripe_headers(raw))
    assert signed_other.status_code == 400
    rotated = client.post(
        "/webhooks/stripe", content=raw, headers=stripe_headers(raw, OLD_STRIPE_SECRET)
    )
    assert rotated.status_code == 200  # the secret being rotated out still verifies
    assert len(events(runtime)) == 1


def test_refunds_are_kept_as_events_not_remittances(client: TestClient, runtime: Runtime) -> None:
    raw = fixture("stripe_charge_refunded.json")
    answer = client.post("/webhooks/stripe", content=raw, headers=stripe_headers(raw))
    assert answer.status_code == 200 and answer.json()["remittances"] == 0
    [event] = events(runtime)
    assert event.status == "ignored" and event.event_type == "charge.refunded"
    assert remittances(runtime) == []


def sign_adyen(body: dict[str, Any], key: str = ADYEN_KEY) -> bytes:
    for entry in body["notificationItems"]:
        item = entry["NotificationRequestItem"]
        digest = hmac.new(
            binascii.unhexlify(key), signing_payload(item).encode(), hashlib.sha256
        ).digest()
        item["additionalData"]["hmacSignature"] = base64.b64encode(digest).decode()
    return json.dumps(body).encode()


def test_adyen_capture_in_yen_is_accepted_with_its_zero_decimal_amount(
    client: TestClient, runtime: Runtime
) -> None:
    raw = sign_adyen(json.loads(fixture("adyen_capture_jpy.json")))
    answer = client.post("/webhooks/adyen", content=raw)
    assert answer.status_code == 200 and answer.text == "[accepted]"
    [made] = remittances(runtime)  # the refused authorisation is no cash
    assert (made.currency, made.amount_minor) == ("JPY", 158000)
    assert made.source_key == "adyen:9913333333333333" and made.payer_name == "Tanaka Trading KK"
    body = json.loads(raw)
    body["notificationItems"][0]["NotificationRequestItem"]["amount"]["value"] = 1
    forged = client.post("/webhooks/adyen", content=json.dumps(body).encode())
    assert forged.status_code == 401 and len(remittances(runtime)) == 1


@responses.activate
def test_gocardless_reads_the_payment_an_event_names(client: TestClient, runtime: Runtime) -> None:
    responses.add(
        responses.GET,
        "https://api.gocardless.test/payments/PM0001TEST",
        json={
            "payments": {
                "id": "PM0001TEST",
                "amount": 4250,
                "currency": "GBP",
                "reference": "INV-03003",
                "metadata": {"invoice_number": "INV-03003"},
                "status": "confirmed",
            }
        },
        match=[responses.matchers.header_matcher({"GoCardless-Version": "2015-07-06"})],
    )
    raw = fixture("gocardless_payments_confirmed.json")
    signature = hmac.new(GOCARDLESS_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    answer = client.post(
        "/webhooks/gocardless", content=raw, headers={"Webhook-Signature": signature}
    )
    assert answer.status_code == 200
    [made] = remittances(runtime)
    assert (made.currency, made.amount_minor, made.source_key) == (
        "GBP",
        4250,
        "gocardless:PM0001TEST",
    )
    bad = client.post("/webhooks/gocardless", content=raw, headers={"Webhook-Signature": "00"})
    assert bad.status_code == 498


def test_a_quickbooks_notice_is_verified_and_stored_once(
    client: TestClient, runtime: Runtime
) -> None:
    raw = json.dumps(
        {
            "eventNotifications": [
                {
                    "realmId": "9130",
                    "dataChangeEvent": {
                        "entities": [
                            {
                                "name": "Invoice",
                                "id": "130",
                                "operation": "Update",
                                "lastUpdated": "2026-11-20T10:00:00.000Z",
                            }
                        ]
                    },
                }
            ]
        }
    ).encode()
    headers = {"intuit-signature": qbo_sign(raw, QBO_VERIFIER)}
    assert client.post("/webhooks/quickbooks", content=raw, headers=headers).status_code == 200
    assert (
        client.post("/webhooks/quickbooks", content=raw, headers=headers).json()["duplicates"] == 1
    )
    assert client.post("/webhooks/quickbooks", content=raw, headers={}).status_code == 401
    assert client.post("/webhooks/invoiced", content=raw).status_code == 503  # no secret set
    assert client.post("/webhooks/paypal", content=raw).status_code == 404


def test_a_malformed_event_after_a_good_signature_is_kept_as_failed(
    client: TestClient, runtime: Runtime
) -> None:
    body = json.loads(fixture("stripe_payment_intent_succeeded.json"))
    del body["data"]["object"]["currency"]
    body["data"]["object"]["amount_received"] = "lots"
    raw = json.dumps(body).encode()
    answer = client.post("/webhooks/stripe", content=raw, headers=stripe_headers(raw))
    assert answer.status_code == 200 and answer.json()["failed"]
    [event] = events(runtime)
    assert event.status == "failed" and "evt_3QkTestPaymentIntent01" in (event.error or "")
    assert remittances(runtime) == []


def test_health_and_report(client: TestClient) -> None:
    health = client.get("/health")
    assert health.status_code == 200 and health.json()["ok"] is True
    assert "arsync" in client.get("/report").text
    assert client.get("/report.json").json()["totals"]["remittances"] == 0
