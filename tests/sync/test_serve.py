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
from pydantic import SecretStr
from sqlalchemy import select, update
from sqlmodel import col

from canonical.models import Decision, Remittance, WebhookEvent
from connectors.processors.adyen import signing_payload
from connectors.quickbooks.webhooks import sign as qbo_sign
from reconciler.report import build_report, render_html
from sync.outbox.worker import PushSummary, SystemPush
from sync.runtime import Runtime
from sync.serve import create_app
from sync.settings import load_settings
from sync.webhooks import receive
from tests.support.receivables import Book, applied, decision

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


@pytest.fixture
def manual_capture(runtime: Runtime) -> None:
    """An Adyen merchant account that captures by hand: each CAPTURE is the cash."""
    runtime.settings.webhooks.adyen_auto_capture = False


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
    note = "a refund: kept as an event for the report, not a remittance"
    assert event.note == note and event.error is None
    assert answer.json()["ignored"] == [f"stripe event {event.event_id}: {note}"]
    assert remittances(runtime) == []


def sign_adyen(body: dict[str, Any], key: str = ADYEN_KEY) -> bytes:
    for entry in body["notificationItems"]:
        item = entry["NotificationRequestItem"]
        digest = hmac.new(
            binascii.unhexlify(key), signing_payload(item).encode(), hashlib.sha256
        ).digest()
        item["additionalData"]["hmacSignature"] = base64.b64encode(digest).decode()
    return json.dumps(body).encode()


@pytest.mark.usefixtures("manual_capture")
def test_adyen_capture_in_yen_is_accepted_with_its_zero_decimal_amount(
    client: TestClient, runtime: Runtime
) -> None:
    raw = sign_adyen(json.loads(fixture("adyen_capture_jpy.json")))
    answer = client.post("/webhooks/adyen", content=raw)
    assert answer.status_code == 200 and answer.text == "[accepted]"
    [made] = remittances(runtime)  # the refused authorisation is no cash
    assert (made.currency, made.amount_minor) == ("JPY", 158000)
    # manual capture: the capture is the money, keyed by its own pspReference (so that several
    # partial captures of one authorisation are several remittances)
    assert made.source_key == "adyen:9914444444444444" and made.payer_name == "Tanaka Trading KK"
    body = json.loads(raw)
    body["notificationItems"][0]["NotificationRequestItem"]["amount"]["value"] = 1
    forged = client.post("/webhooks/adyen", content=json.dumps(body).encode())
    # items are verified one by one: the forged one is dropped, its signed neighbour kept
    assert forged.status_code == 200 and len(remittances(runtime)) == 1
    del body["notificationItems"][1]
    all_forged = client.post("/webhooks/adyen", content=json.dumps(body).encode())
    assert all_forged.status_code == 401 and len(remittances(runtime)) == 1


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


REPORT_TOKEN = "report-token-for-finance-ops"


def test_health_and_report(runtime: Runtime) -> None:
    runtime.settings.serve.report_token = SecretStr(REPORT_TOKEN)
    client = TestClient(create_app(runtime, schedule=False))
    health = client.get("/health")
    assert health.status_code == 200 and health.json()["ok"] is True
    bearer = {"Authorization": f"Bearer {REPORT_TOKEN}"}
    page = client.get("/report", headers=bearer)
    assert page.status_code == 200 and "arsync" in page.text
    assert page.headers["cache-control"] == "no-store"
    as_json = client.get("/report.json", headers=bearer)
    assert as_json.json()["totals"]["remittances"] == 0
    assert as_json.headers["cache-control"] == "no-store"
    # a browser: HTTP Basic, any user name, the token as password
    assert client.get("/report", auth=("finance", REPORT_TOKEN)).status_code == 200


def test_the_report_is_never_shown_without_its_token(
    runtime: Runtime, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    # none configured: not served at all (whoever can reach the webhooks could read it)
    for path in ("/report", "/report.json"):
        refused = client.get(path, headers={"Authorization": "Bearer anything"})
        assert refused.status_code == 403 and "serve.report_token" in refused.json()["error"]
    runtime.settings.serve.report_token = SecretStr(REPORT_TOKEN)
    guarded = TestClient(create_app(runtime, schedule=False))
    for path in ("/report", "/report.json"):
        for headers in (
            {},
            {"Authorization": "Bearer wrong-token"},
            {"Authorization": f"Bearer {REPORT_TOKEN}x"},
            {"Authorization": f"Token {REPORT_TOKEN}"},
            {"Authorization": "Basic " + base64.b64encode(b"finance:wrong").decode()},
            {"Authorization": "Basic !!not-base64"},
        ):
            answer = guarded.get(path, headers=headers)
            assert answer.status_code == 401, (path, headers)
            assert answer.headers["www-authenticate"].startswith("Basic")
            assert "totals" not in answer.text and REPORT_TOKEN not in answer.text
    assert REPORT_TOKEN not in caplog.text


def adyen_item(psp: str, value: int, original: str, reference: str) -> dict[str, Any]:
    return {
        "additionalData": {},
        "amount": {"currency": "EUR", "value": value},
        "eventCode": "CAPTURE",
        "eventDate": "2026-12-01T11:00:00+01:00",
        "merchantAccountCode": "ArsyncTestMerchant",
        "merchantReference": reference,
        "originalReference": original,
        "pspReference": psp,
        "reason": "",
        "success": "true",
    }


def test_an_adyen_batch_is_taken_in_item_by_item(client: TestClient, runtime: Runtime) -> None:
    items = [
        adyen_item("9920000000000001", 10000, "9910000000000001", "INV-04001"),
        adyen_item("9920000000000002", 20000, "9910000000000002", "INV-04002"),
        adyen_item("", 30000, "9910000000000003", "INV-04003"),  # signed, but unreadable
        adyen_item("9920000000000004", 40000, "9910000000000004", "INV-04004"),
    ]
    body = {"live": "false", "notificationItems": [{"NotificationRequestItem": i} for i in items]}
    signed = json.loads(sign_adyen(body))
    signed["notificationItems"][1]["NotificationRequestItem"]["amount"]["value"] = 99  # forged
    raw = json.dumps(signed).encode()
    answer = client.post("/webhooks/adyen", content=raw)
    assert answer.status_code == 200 and answer.text == "[accepted]"
    assert sorted(r.amount_minor for r in remittances(runtime)) == [10000, 40000]
    stored = {e.event_id: e.status for e in events(runtime)}
    assert stored == {
        "9920000000000001:CAPTURE:true": "processed",
        ":CAPTURE:true": "failed",
        "9920000000000004:CAPTURE:true": "processed",
    }  # the forged item is not stored: its genuine delivery must not be taken for a replay
    again = client.post("/webhooks/adyen", content=raw)
    assert again.status_code == 200 and len(remittances(runtime)) == 2
    assert client.post("/webhooks/adyen", content=b'{"notificationItems": "x"}').status_code == 400


@pytest.mark.usefixtures("manual_capture")
def test_an_adyen_chargeback_names_the_authorisation_of_a_captured_payment(
    client: TestClient, runtime: Runtime
) -> None:
    captured = adyen_item("9920000000000007", 15000, "9910000000000007", "INV-04007")
    chargeback = {
        **adyen_item("9930000000000007", 15000, "9910000000000007", "INV-04007"),
        "eventCode": "CHARGEBACK",
        "reason": "Merchandise/Services Not Received",
    }
    for item in (captured, chargeback):
        body = {"live": "false", "notificationItems": [{"NotificationRequestItem": item}]}
        assert client.post("/webhooks/adyen", content=sign_adyen(body)).status_code == 200
    cash, back = sorted(remittances(runtime), key=lambda r: -r.amount_minor)
    assert (cash.source_key, cash.end_to_end_id) == ("adyen:9920000000000007", "9910000000000007")
    assert (back.amount_minor, back.reverses) == (-15000, "adyen:9920000000000007")


def gocardless_event(event_id: str, payment: str, action: str = "confirmed") -> dict[str, Any]:
    return {
        "id": event_id,
        "created_at": "2026-12-01T09:00:00.000Z",
        "resource_type": "payments",
        "action": action,
        "links": {"payment": payment},
        "details": {"origin": "gocardless", "cause": "payment_confirmed"},
        "metadata": {},
    }


def gocardless_payment(payment: str, amount: int, reference: str) -> dict[str, Any]:
    return {
        "payments": {
            "id": payment,
            "amount": amount,
            "currency": "GBP",
            "reference": reference,
            "metadata": {},
            "status": "confirmed",
        }
    }


@responses.activate
def test_a_gocardless_batch_keeps_its_good_events_when_one_fails(
    client: TestClient, runtime: Runtime
) -> None:
    base = "https://api.gocardless.test/payments/"
    responses.add(responses.GET, base + "PM00A1", json=gocardless_payment("PM00A1", 1500, "A-1"))
    responses.add(
        responses.GET,
        base + "PM00GONE",
        status=404,
        json={"error": {"message": "Resource not found", "type": "invalid_api_usage"}},
    )
    responses.add(responses.GET, base + "PM00A3", json=gocardless_payment("PM00A3", 2500, "A-3"))
    responses.add(
        responses.GET, base + "PM00NEVER", json=gocardless_payment("PM00NEVER", 900, "A-9")
    )
    body = {
        "events": [
            gocardless_event("EV00A1", "PM00A1"),
            gocardless_event("EV00A2", "PM00GONE"),
            gocardless_event("EV00A3", "PM00A3"),
            gocardless_event("EV00A4", "PM00A1", action="failed"),  # late: takes it back
            gocardless_event("EV00A5", "PM00NEVER", action="failed"),  # never cash: nothing
        ]
    }
    raw = json.dumps(body).encode()
    signature = hmac.new(GOCARDLESS_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    answer = client.post(
        "/webhooks/gocardless", content=raw, headers={"Webhook-Signature": signature}
    )
    assert answer.status_code == 200
    assert answer.json()["remittances"] == 3 and len(answer.json()["failed"]) == 1
    assert sorted(r.amount_minor for r in remittances(runtime)) == [-1500, 1500, 2500]
    [late] = [r for r in remittances(runtime) if r.reverses]
    assert late.reverses == "gocardless:PM00A1"
    assert {e.event_id: e.status for e in events(runtime)} == {
        "EV00A1": "processed",
        "EV00A2": "failed",
        "EV00A3": "processed",
        "EV00A4": "processed",
        "EV00A5": "ignored",
    }
    replay = client.post(
        "/webhooks/gocardless", content=raw, headers={"Webhook-Signature": signature}
    )
    assert replay.json()["duplicates"] == 5 and len(remittances(runtime)) == 3


@responses.activate
def test_gocardless_api_down_stores_nothing_so_the_delivery_comes_again(
    client: TestClient, runtime: Runtime
) -> None:
    url = "https://api.gocardless.test/payments/PM00B1"
    down = responses.add(responses.GET, url, status=503, json={"error": {"message": "down"}})
    raw = json.dumps({"events": [gocardless_event("EV00B1", "PM00B1")]}).encode()
    headers = {
        "Webhook-Signature": hmac.new(GOCARDLESS_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    }
    first = client.post("/webhooks/gocardless", content=raw, headers=headers)
    assert first.status_code == 503  # not 2xx: GoCardless delivers it again
    assert events(runtime) == [] and remittances(runtime) == []
    responses.remove(down)
    responses.add(responses.GET, url, json=gocardless_payment("PM00B1", 900, "B-1"))
    again = client.post("/webhooks/gocardless", content=raw, headers=headers)
    assert again.status_code == 200 and [r.amount_minor for r in remittances(runtime)] == [900]


def test_forged_signatures_are_refused_not_crashed(client: TestClient, runtime: Runtime) -> None:
    raw = json.dumps({"events": [gocardless_event("EV00C1", "PM00C1")]}).encode()
    for bad in ("\u00e9" * 64, "", "zz"):
        answer = client.post(
            "/webhooks/gocardless",
            content=raw,
            headers=[(b"Webhook-Signature", bad.encode("latin-1"))],
        )
        assert answer.status_code == 498
    stripe_raw = fixture("stripe_payment_intent_succeeded.json")
    header = f"t={int(time.time())},v1=\u00e9abc".encode("latin-1")
    answer = client.post(
        "/webhooks/stripe", content=stripe_raw, headers=[(b"Stripe-Signature", header)]
    )
    assert answer.status_code == 400 and events(runtime) == []


def test_the_invoice_link_of_a_later_invoice_payment_reaches_the_remittance(
    client: TestClient, runtime: Runtime
) -> None:
    # 2025-03-31: payment_intent.succeeded carries no invoice; invoice_payment.paid does. The
    # intake alone (no reconcile in between), so the remittance is still undecided.
    body = json.loads(fixture("stripe_payment_intent_succeeded.json"))
    body["data"]["object"]["metadata"] = {}
    body["data"]["object"].pop("invoice", None)
    invoice_paid = {
        "id": "evt_1QkTestInvoicePaid01",
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": 1763800101,
        "type": "invoice.paid",
        "livemode": False,
        "data": {
            "object": {
                "id": "in_1QkTestInvoice01",
                "object": "invoice",
                "amount_paid": 125000,
                "currency": "usd",
                "status": "paid",
            }
        },
    }
    for raw in (
        json.dumps(body).encode(),
        fixture("stripe_invoice_payment_paid.json"),
        json.dumps(invoice_paid).encode(),
    ):
        receive(runtime.store, runtime.settings, "stripe", raw, stripe_headers(raw))
    [made] = remittances(runtime)  # one payment, one remittance, whatever announced it
    assert made.amount_minor == 125000 and made.status == "new"
    assert [r["ref"] for r in made.structured_refs] == ["in_1QkTestInvoice01"]
    # the link added the invoice; the invoice event (no number, no metadata) adds nothing
    assert [e.status for e in events(runtime)] == ["processed", "processed", "ignored"]


def test_stripe_isk_is_two_decimal_in_the_api(client: TestClient, runtime: Runtime) -> None:
    body = json.loads(fixture("stripe_payment_intent_succeeded.json"))
    body["data"]["object"].update(
        {"currency": "isk", "amount": 1250000, "amount_received": 1250000}
    )
    raw = json.dumps(body).encode()
    assert (
        client.post("/webhooks/stripe", content=raw, headers=stripe_headers(raw)).status_code == 200
    )
    [made] = remittances(runtime)
    assert (made.currency, made.amount.amount) == ("ISK", 12500)


def stripe_charge_then_intent(pi: str) -> tuple[bytes, bytes]:
    """charge.succeeded without the invoice, then payment_intent.succeeded naming it."""
    intent = json.loads(fixture("stripe_payment_intent_succeeded.json"))
    intent["data"]["object"]["id"] = pi
    intent["data"]["object"].pop("invoice", None)
    intent["data"]["object"]["description"] = None
    charge = {
        "id": "evt_1QkTestChargeFirst",
        "object": "event",
        "created": intent["created"] - 1,
        "type": "charge.succeeded",
        "data": {
            "object": {
                "id": "ch_1QkTestCharge01",
                "object": "charge",
                "amount": 125000,
                "amount_captured": 125000,
                "captured": True,
                "currency": "usd",
                "payment_intent": pi,
                "metadata": {},
                "billing_details": {"name": None, "email": None},
            }
        },
    }
    return json.dumps(charge).encode(), json.dumps(intent).encode()


def undecided_charge(runtime: Runtime, pi: str) -> tuple[Remittance, bytes]:
    """A charge the reconciler could not place (no invoice named yet), and the later
    payment_intent.succeeded that names INV-01001 (an open invoice of Acme Corp)."""
    book = Book(runtime.store)
    book.invoice(book.customer("Acme Corp"), "INV-01001", "1250.00")
    charge, intent = stripe_charge_then_intent(pi)
    receive(runtime.store, runtime.settings, "stripe", charge, stripe_headers(charge))
    runtime.reconcile()
    [cash] = remittances(runtime)
    return cash, intent


def test_an_invoice_named_after_the_reconciler_gave_up_is_decided_again(
    runtime: Runtime,
) -> None:
    cash, intent = undecided_charge(runtime, "pi_3QkTestLateInvoice")
    first = decision(runtime.store, cash.id)
    assert cash.status in ("exception", "suggested") and first.status != "auto_applied"

    intake = receive(runtime.store, runtime.settings, "stripe", intent, stripe_headers(intent))
    assert intake.remittances == [cash.id]  # the server reconciles again
    [cash] = remittances(runtime)
    assert cash.status == "new" and [r["ref"] for r in cash.structured_refs] == ["INV-01001"]

    runtime.reconcile()
    again = decision(runtime.store, cash.id)
    assert (again.status, again.rule) == ("auto_applied", "structured_reference")
    assert again.evidence["supersedes_decision"] == first.id
    assert applied(runtime.store, cash.id) == {"INV-01001": "1250.00"}


def test_a_person_s_decision_is_not_reopened_by_a_late_invoice_reference(
    runtime: Runtime,
) -> None:
    cash, intent = undecided_charge(runtime, "pi_3QkTestPersonDecided")
    with runtime.store.session() as s:
        s.execute(
            update(Decision).where(col(Decision.source_id) == cash.id).values(decided_by="ops@acme")
        )
    intake = receive(runtime.store, runtime.settings, "stripe", intent, stripe_headers(intent))
    assert intake.remittances == []
    [after] = remittances(runtime)
    assert after.status == cash.status and after.structured_refs == []
    assert decision(runtime.store, cash.id).decided_by == "ops@acme"


def stripe_dispute(pi: str, amount: int) -> bytes:
    """charge.dispute.created as Stripe documents it: the disputed amount is withdrawn."""
    return json.dumps(
        {
            "id": "evt_1QkTestDispute01",
            "object": "event",
            "api_version": "2025-03-31.basil",
            "created": 1764000000,
            "type": "charge.dispute.created",
            "data": {
                "object": {
                    "id": "dp_1QkTestDispute01",
                    "object": "dispute",
                    "amount": amount,
                    "currency": "usd",
                    "charge": "ch_1QkTestCharge01",
                    "payment_intent": pi,
                    "reason": "product_not_received",
                    "status": "needs_response",
                    "is_charge_refundable": False,
                }
            },
        }
    ).encode()


def test_a_chargeback_of_applied_cash_is_reported_with_what_it_paid(runtime: Runtime) -> None:
    book = Book(runtime.store)
    book.invoice(book.customer("Acme Corp"), "INV-01001", "1250.00")
    _, paid = stripe_charge_then_intent("pi_3QkTestDisputed")  # names INV-01001 alone
    receive(runtime.store, runtime.settings, "stripe", paid, stripe_headers(paid))
    runtime.reconcile()
    [cash] = remittances(runtime)
    assert decision(runtime.store, cash.id).status == "auto_applied"

    dispute = stripe_dispute("pi_3QkTestDisputed", 125000)
    intake = receive(runtime.store, runtime.settings, "stripe", dispute, stripe_headers(dispute))
    [back] = [r for r in remittances(runtime) if r.id in intake.remittances]
    assert (back.amount_minor, back.reverses) == (-125000, cash.source_key)
    summary = runtime.reconcile()
    assert summary.reversals == 1 and summary.exceptions["returned_payment"] == 1
    taken = decision(runtime.store, back.id)
    assert (taken.status, taken.exception_kind, taken.rule) == (
        "exception",
        "returned_payment",
        "reversal",
    )
    assert taken.evidence["original"]["remittance"] == cash.id
    assert taken.evidence["paid"] == [{"invoice": "INV-01001", "amount": "1250.00"}]
    assert "open again" in taken.evidence["action"]
    assert applied(runtime.store, back.id) == {}  # never applied: a person reverses
    [listed] = build_report(runtime.store)["exceptions"]["returned_payment"]
    assert listed["id"] == back.id
    assert "INV-01001" in render_html(build_report(runtime.store))

    # the dispute won: the cash comes back as new cash with the payment's references
    won = (
        stripe_dispute("pi_3QkTestDisputed", 125000)
        .replace(b"charge.dispute.created", b"charge.dispute.funds_reinstated")
        .replace(b"evt_1QkTestDispute01", b"evt_1QkTestDisputeWon")
    )
    intake = receive(runtime.store, runtime.settings, "stripe", won, stripe_headers(won))
    [again] = [r for r in remittances(runtime) if r.id in intake.remittances]
    assert (again.amount_minor, again.reverses) == (125000, None)
    assert [r["ref"] for r in again.structured_refs] == ["INV-01001"]

    # a dispute of a payment never counted as cash takes nothing back
    other = stripe_dispute("pi_3QkTestNeverPaid", 5000).replace(
        b"evt_1QkTestDispute01", b"evt_1QkTestDispute02"
    )
    intake = receive(runtime.store, runtime.settings, "stripe", other, stripe_headers(other))
    assert intake.remittances == []


def test_one_dispute_announced_twice_takes_the_cash_back_once(runtime: Runtime) -> None:
    book = Book(runtime.store)
    book.invoice(book.customer("Acme Corp"), "INV-01001", "1250.00")
    _, paid = stripe_charge_then_intent("pi_3QkTestDisputed")
    receive(runtime.store, runtime.settings, "stripe", paid, stripe_headers(paid))
    runtime.reconcile()

    inquiry = (
        stripe_dispute("pi_3QkTestDisputed", 125000)
        .replace(b'"needs_response"', b'"warning_needs_response"')
        .replace(b"evt_1QkTestDispute01", b"evt_1QkTestInquiry01")
    )
    intake = receive(runtime.store, runtime.settings, "stripe", inquiry, stripe_headers(inquiry))
    assert intake.remittances == []  # an inquiry withdraws nothing

    created = stripe_dispute("pi_3QkTestDisputed", 125000)
    withdrawn = created.replace(
        b"charge.dispute.created", b"charge.dispute.funds_withdrawn"
    ).replace(b"evt_1QkTestDispute01", b"evt_1QkTestDisputeFunds")
    first = receive(runtime.store, runtime.settings, "stripe", created, stripe_headers(created))
    second = receive(
        runtime.store, runtime.settings, "stripe", withdrawn, stripe_headers(withdrawn)
    )
    assert len(first.remittances) == 1 and second.remittances == []
    reversals = [r for r in remittances(runtime) if r.amount_minor < 0]
    assert [(r.amount_minor, r.source_key) for r in reversals] == [
        (-125000, "stripe:dispute:dp_1QkTestDispute01")
    ]


def adyen_dispute_item(code: str, value: int = 15000) -> dict[str, Any]:
    """A dispute item as Adyen documents it: the dispute's pspReference (the same for all its
    events), the disputed payment in originalReference."""
    return {
        **adyen_item("9940000000000042", value, "9910000000000042", "INV-04042"),
        "eventCode": code,
        "reason": "Fraud",
        "additionalData": {"disputeStatus": "Undefended", "chargebackReasonCode": "10.4"},
    }


def post_adyen(client: TestClient, *items: dict[str, Any]) -> None:
    body = {"live": "false", "notificationItems": [{"NotificationRequestItem": i} for i in items]}
    answer = client.post("/webhooks/adyen", content=sign_adyen(json.loads(json.dumps(body))))
    assert answer.status_code == 200 and answer.text == "[accepted]"


def test_an_adyen_dispute_moves_cash_only_at_its_money_stages(
    client: TestClient, runtime: Runtime
) -> None:
    book = Book(runtime.store)
    book.invoice(book.customer("Acme Corp"), "INV-04042", "150.00")
    post_adyen(client, adyen_item("9920000000000042", 15000, "9910000000000042", "INV-04042"))
    runtime.reconcile()
    [cash] = remittances(runtime)

    def amounts() -> list[int]:
        return [r.amount_minor for r in sorted(remittances(runtime), key=lambda r: r.created_at)]

    # no money: the dispute opened, information requested, a fraud notice
    for code in ("NOTIFICATION_OF_FRAUD", "REQUEST_FOR_INFORMATION", "NOTIFICATION_OF_CHARGEBACK"):
        post_adyen(client, adyen_dispute_item(code))
    assert amounts() == [15000]
    post_adyen(client, adyen_dispute_item("CHARGEBACK"))  # the funds deducted
    post_adyen(client, adyen_dispute_item("CHARGEBACK"))  # a replay: nothing
    assert amounts() == [15000, -15000]
    post_adyen(client, adyen_dispute_item("CHARGEBACK_REVERSED"))  # defended: given back
    assert amounts() == [15000, -15000, 15000]
    runtime.reconcile()
    post_adyen(client, adyen_dispute_item("SECOND_CHARGEBACK"))  # deducted again
    post_adyen(
        client, adyen_dispute_item("PREARBITRATION_LOST"), adyen_dispute_item("SECOND_CHARGEBACK")
    )
    assert amounts() == [15000, -15000, 15000, -15000]
    first_back, again, second_back = sorted(remittances(runtime), key=lambda r: r.created_at)[1:]
    assert first_back.reverses == cash.source_key
    # the second chargeback takes back the cash the reversed chargeback gave back
    assert (second_back.reverses, again.reverses) == (again.source_key, None)

    runtime.reconcile()
    taken = decision(runtime.store, second_back.id)
    assert (taken.status, taken.exception_kind, taken.rule) == (
        "exception",
        "returned_payment",
        "reversal",
    )
    assert taken.evidence["original"]["remittance"] == again.id
    assert applied(runtime.store, second_back.id) == {}  # nothing applied: a person reverses
    assert applied(runtime.store, first_back.id) == {}


def test_an_adyen_second_chargeback_without_a_reversal_takes_nothing_twice(
    client: TestClient, runtime: Runtime
) -> None:
    post_adyen(client, adyen_item("9920000000000043", 9000, "9910000000000043", "INV-04043"))
    chargeback = {
        **adyen_dispute_item("CHARGEBACK", 9000),
        "pspReference": "9940000000000043",
        "originalReference": "9910000000000043",
    }
    post_adyen(client, chargeback, {**chargeback, "eventCode": "SECOND_CHARGEBACK"})
    assert sorted(r.amount_minor for r in remittances(runtime)) == [-9000, 9000]


@responses.activate
def test_a_gocardless_payment_failing_late_then_resubmitted_counts_each_collection_once(
    client: TestClient, runtime: Runtime
) -> None:
    responses.add(
        responses.GET,
        "https://api.gocardless.test/payments/PM00R1",
        json=gocardless_payment("PM00R1", 3150, "INV-05001"),
    )
    steps = [
        ("EV00R1", "confirmed", [3150]),
        ("EV00R2", "paid_out", [3150]),  # the payout of the same cash
        ("EV00R3", "failed", [3150, -3150]),  # a late failure takes it back
        ("EV00R4", "late_failure_settled", [3150, -3150]),  # debited from a payout: same money
        ("EV00R5", "resubmission_requested", [3150, -3150]),
        ("EV00R6", "failed", [3150, -3150]),  # the retry failed: nothing more taken
        ("EV00R7", "resubmission_requested", [3150, -3150]),
        ("EV00R8", "confirmed", [3150, -3150, 3150]),  # collected again: new cash
        ("EV00R9", "paid_out", [3150, -3150, 3150]),
    ]
    for event_id, action, expected in steps:
        raw = json.dumps({"events": [gocardless_event(event_id, "PM00R1", action)]}).encode()
        signature = hmac.new(GOCARDLESS_SECRET.encode(), raw, hashlib.sha256).hexdigest()
        for _ in range(2):  # each delivered twice: the replay does nothing
            answer = client.post(
                "/webhooks/gocardless", content=raw, headers={"Webhook-Signature": signature}
            )
            assert answer.status_code == 200
        got = [r.amount_minor for r in sorted(remittances(runtime), key=lambda r: r.created_at)]
        assert got == expected, action
    again = max(remittances(runtime), key=lambda r: r.created_at)
    assert [r["ref"] for r in again.structured_refs] == ["INV-05001"]


@responses.activate
def test_a_gocardless_chargeback_and_its_settlement_are_one_reversal(
    client: TestClient, runtime: Runtime
) -> None:
    responses.add(
        responses.GET,
        "https://api.gocardless.test/payments/PM00C2",
        json=gocardless_payment("PM00C2", 5000, "INV-05002"),
    )
    events = [
        gocardless_event("EV00C1", "PM00C2", "confirmed"),
        gocardless_event("EV00C2", "PM00C2", "charged_back"),
        gocardless_event("EV00C3", "PM00C2", "chargeback_settled"),
        gocardless_event("EV00C4", "PM00C2", "chargeback_cancelled"),
        gocardless_event("EV00C5", "PM00C2", "chargeback_cancelled"),  # told twice: once
    ]
    raw = json.dumps({"events": events}).encode()
    signature = hmac.new(GOCARDLESS_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    answer = client.post(
        "/webhooks/gocardless", content=raw, headers={"Webhook-Signature": signature}
    )
    assert answer.status_code == 200
    got = [r.amount_minor for r in sorted(remittances(runtime), key=lambda r: r.created_at)]
    assert got == [5000, -5000, 5000]


def test_stripe_deliveries_unsigned_or_stale_are_refused_before_parsing(
    client: TestClient, runtime: Runtime
) -> None:
    raw = fixture("stripe_payment_intent_succeeded.json")
    now = int(time.time())
    for headers in (
        {},  # no Stripe-Signature at all
        stripe_headers(raw, at=now - 301),
        # one stamped ahead of this clock is taken, as Stripe's libraries do: see
        # tests/connectors/processors/test_stripe_clock_skew.py
        {"Stripe-Signature": stripe_headers(raw)["Stripe-Signature"].replace("v1=", "v0=")},
    ):
        assert client.post("/webhooks/stripe", content=raw, headers=headers).status_code == 400
    garbage = b"not json at all"
    refused = client.post("/webhooks/stripe", content=garbage, headers=stripe_headers(raw))
    assert refused.status_code == 400 and "signature" in refused.json()["error"]
    assert events(runtime) == [] and remittances(runtime) == []


def test_every_stripe_event_of_one_payment_is_one_remittance(
    client: TestClient, runtime: Runtime
) -> None:
    charge, intent = stripe_charge_then_intent("pi_3QkTestAllEvents")
    captured = json.loads(charge)
    captured.update({"id": "evt_1QkTestCaptured", "type": "charge.captured"})
    invoice_paid = {
        "id": "evt_1QkTestInvoicePaidOld",
        "object": "event",
        "api_version": "2024-06-20",
        "created": 1763800300,
        "type": "invoice.paid",
        "data": {
            "object": {
                "id": "in_1QkTestInvoiceOld",
                "object": "invoice",
                "amount_paid": 125000,
                "currency": "usd",
                "charge": "ch_1QkTestCharge01",
                "payment_intent": "pi_3QkTestAllEvents",
                "paid_out_of_band": False,
                "status": "paid",
            }
        },
    }
    for raw in (charge, json.dumps(captured).encode(), intent, json.dumps(invoice_paid).encode()):
        for _ in range(2):
            answer = client.post("/webhooks/stripe", content=raw, headers=stripe_headers(raw))
            assert answer.status_code == 200
    [made] = remittances(runtime)
    assert (made.amount_minor, made.source_key) == (125000, "stripe:pi_3QkTestAllEvents")
    assert {r["ref"] for r in made.structured_refs} == {"INV-01001", "in_1QkTestInvoiceOld"}
    assert len(events(runtime)) == 4


def test_a_step_another_process_holds_is_tried_again(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    from datetime import UTC, datetime

    import sync.serve
    from canonical.lease import LeaseHeld
    from sync.serve import Pipeline

    monkeypatch.setattr(sync.serve, "LEASE_RETRY_SECONDS", 0.01)
    calls: list[str] = []
    finished = threading.Event()
    now = datetime.now(UTC)

    def reconcile() -> None:
        calls.append("reconcile")
        if calls.count("reconcile") == 1:  # an operator's `arsync run` holds it the first time
            raise LeaseHeld("reconcile", "ops-host pid 7", now, now)

    def push() -> PushSummary:
        calls.append("push")
        if calls.count("push") == 2:
            finished.set()
        return PushSummary(dry_run=False)

    monkeypatch.setattr(runtime, "reconcile", reconcile)
    monkeypatch.setattr(runtime, "push", push)
    Pipeline(runtime).reconcile_and_push()
    assert finished.wait(timeout=10)
    # pushed what was decided even while skipped, then reconciled once the lease was free
    assert calls == ["reconcile", "push", "reconcile", "push"]


def test_a_push_another_process_holds_is_tried_again(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other push may end before it sees what this cycle decided: tried again."""
    import threading

    import sync.serve
    from sync.serve import Pipeline

    monkeypatch.setattr(sync.serve, "LEASE_RETRY_SECONDS", 0.01)
    pushes: list[PushSummary] = []
    finished = threading.Event()

    def push() -> PushSummary:
        summary = PushSummary(dry_run=False)
        summary.systems["quickbooks"] = SystemPush("quickbooks")
        if not pushes:  # an operator's `arsync push` holds QuickBooks the first time
            summary.systems["quickbooks"].busy = "another push:quickbooks is running"
        pushes.append(summary)
        if len(pushes) == 2:
            finished.set()
        return summary

    monkeypatch.setattr(runtime, "reconcile", lambda: None)
    monkeypatch.setattr(runtime, "push", push)
    Pipeline(runtime).reconcile_and_push()
    assert finished.wait(timeout=10)
    assert [p.systems["quickbooks"].busy is None for p in pushes] == [False, True]


def test_a_webhook_being_taken_in_does_not_hold_up_other_requests(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The intake reads the database (and GoCardless' API); on the server's one event loop a
    delivery taking its time must not keep /health (or another delivery) waiting."""
    import threading

    import sync.serve

    started, release = threading.Event(), threading.Event()

    def slow_receive(*args: Any, **kwargs: Any) -> Any:
        started.set()
        release.wait(10)
        return receive(*args, **kwargs)

    monkeypatch.setattr(sync.serve, "receive", slow_receive)
    raw = fixture("stripe_payment_intent_succeeded.json")
    answers: list[Any] = []
    with TestClient(create_app(runtime, schedule=False)) as client:  # one event loop for all
        delivery = threading.Thread(
            target=lambda: answers.append(
                client.post("/webhooks/stripe", content=raw, headers=stripe_headers(raw))
            )
        )
        delivery.start()
        assert started.wait(10)
        health: list[Any] = []
        probe = threading.Thread(target=lambda: health.append(client.get("/health")))
        probe.start()
        probe.join(3)
        answered = not probe.is_alive()
        release.set()
        delivery.join(10)
        probe.join(10)
    assert answered, "/health waited for the webhook being taken in"
    assert health[0].status_code == 200 and answers[0].status_code == 200


def test_a_delivery_answered_503_after_storing_cash_still_reconciles_it(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GoCardless' API failing while a delivery settles is answered 503 (the delivery comes
    again), after its cash was stored: that cash is reconciled now, not at the next cycle."""
    import sync.serve
    from connectors.errors import ApiError, ErrorKind

    def failing(*_args: Any, **_kwargs: Any) -> Any:
        raise ApiError("gocardless", "503", kind=ErrorKind.RETRY, status=503)

    ran: list[str] = []
    monkeypatch.setattr(sync.serve, "receive", failing)
    monkeypatch.setattr(sync.serve.Pipeline, "reconcile_and_push", lambda _self: ran.append("run"))
    client = TestClient(create_app(runtime, schedule=False))
    answer = client.post("/webhooks/gocardless", content=b"{}")
    assert answer.status_code == 503 and ran == ["run"]
