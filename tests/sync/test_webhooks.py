"""Webhook intake beyond one event at a time: Adyen's automatic capture and cancellations, its
HMAC keys while rotating and its HTTP Basic credentials, a Stripe invoice paid since API
2025-03-31 (its references reach the payment's remittance whichever event comes first), and
deliveries that conflict with a concurrent one (taken in again, never lost behind a 2xx)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

import sync.webhooks as webhooks
from canonical.models import Remittance, WebhookEvent
from canonical.store import Store
from connectors.processors.adyen import signing_payload
from connectors.quickbooks.webhooks import sign as qbo_sign
from sync.runtime import Runtime
from sync.serve import create_app
from sync.settings import Settings, load_settings
from sync.webhooks import Intake, receive
from tests.support.receivables import Book, decision

STRIPE_SECRET = "whsec_intake_secret"
ADYEN_KEY = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056"
NEW_ADYEN_KEY = "A1" * 32
QBO_VERIFIER = "qbo-intake-verifier"


def open_runtime(tmp_path: Path, **webhook_settings: Any) -> Runtime:
    hooks = {
        "stripe_secrets": [STRIPE_SECRET],
        "adyen_hmac_key": ADYEN_KEY,
        "quickbooks_verifier": QBO_VERIFIER,
        **webhook_settings,
    }
    database = f"sqlite:///{tmp_path / 'intake.db'}"
    return Runtime.open(load_settings(None, database_url=database, webhooks=hooks))


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    rt = open_runtime(tmp_path)
    yield rt
    rt.close()


def remittances(store: Store) -> list[Remittance]:
    with store.session() as s:
        return sorted(s.execute(select(Remittance)).scalars(), key=lambda r: r.created_at)


def events(store: Store) -> dict[str, WebhookEvent]:
    with store.session() as s:
        return {e.event_id: e for e in s.execute(select(WebhookEvent)).scalars()}


def refs(remittance: Remittance) -> list[str]:
    return [str(r["ref"]) for r in remittance.structured_refs]


# -- Stripe ----------------------------------------------------------------------------------


def stripe_event(event_id: str, kind: str, obj: dict[str, Any]) -> bytes:
    event = {
        "id": event_id,
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": 1763800100,
        "type": kind,
        "livemode": False,
        "data": {"object": obj},
    }
    return json.dumps(event).encode()


def post_stripe(rt: Runtime, raw: bytes) -> Intake:
    return deliver_stripe(rt.store, rt.settings, raw)


def deliver_stripe(store: Store, settings: Settings, raw: bytes) -> Intake:
    stamp = str(int(time.time()))
    digest = hmac.new(STRIPE_SECRET.encode(), stamp.encode() + b"." + raw, hashlib.sha256)
    headers = {"Stripe-Signature": f"t={stamp},v1={digest.hexdigest()}"}
    return receive(store, settings, "stripe", raw, headers)


def intent(pi: str) -> bytes:
    """payment_intent.succeeded since 2025-03-31: no invoice named."""
    obj = {
        "id": pi,
        "object": "payment_intent",
        "amount": 20000,
        "amount_received": 20000,
        "currency": "usd",
        "status": "succeeded",
        "metadata": {},
    }
    return stripe_event(f"evt_pi_{pi}", "payment_intent.succeeded", obj)


def invoice_payment(pi: str, invoice: str) -> bytes:
    """invoice_payment.paid: the link between the invoice and the payment that paid it."""
    obj = {
        "id": f"inpay_{invoice}",
        "object": "invoice_payment",
        "amount_paid": 20000,
        "amount_requested": 20000,
        "currency": "usd",
        "invoice": invoice,
        "is_default": True,
        "payment": {"type": "payment_intent", "payment_intent": pi},
        "status": "paid",
    }
    return stripe_event(f"evt_inpay_{invoice}", "invoice_payment.paid", obj)


def invoice_paid(invoice: str, **old_shape: str) -> bytes:
    """invoice.paid with the invoice's number and an ERP invoice number in its metadata; since
    2025-03-31 without payment_intent or charge (``old_shape`` adds them back)."""
    obj = {
        "id": invoice,
        "object": "invoice",
        "number": "STR-0001",
        "amount_paid": 20000,
        "amount_due": 20000,
        "currency": "usd",
        "status": "paid",
        "paid_out_of_band": False,
        "customer_name": "Acme Corp",
        "metadata": {"invoice_number": "ERP-5005"},
        **old_shape,
    }
    return stripe_event(f"evt_paid_{invoice}", "invoice.paid", obj)


def test_an_invoice_paid_after_its_payment_adds_its_references_to_the_payment(
    runtime: Runtime,
) -> None:
    post_stripe(runtime, intent("pi_A1"))
    post_stripe(runtime, invoice_payment("pi_A1", "in_A1"))
    intake = post_stripe(runtime, invoice_paid("in_A1"))
    [cash] = remittances(runtime.store)  # never cash of its own
    assert (cash.source_key, cash.amount_minor) == ("stripe:pi_A1", 20000)
    assert refs(cash) == ["in_A1", "ERP-5005", "STR-0001"]
    assert intake.remittances == [cash.id] and intake.ignored == []
    assert events(runtime.store)["evt_paid_in_A1"].status == "processed"


def test_an_invoice_paid_before_its_payment_waits_for_it(runtime: Runtime) -> None:
    first = post_stripe(runtime, invoice_paid("in_B1"))
    assert remittances(runtime.store) == [] and first.remittances == []
    note = "moved no cash itself: its references wait for the payment that paid in_B1"
    assert first.ignored == [f"stripe event evt_paid_in_B1: {note}"]
    waiting = events(runtime.store)["evt_paid_in_B1"]
    assert (waiting.status, waiting.note) == ("ignored", note)

    post_stripe(runtime, intent("pi_B1"))  # names no invoice: the invoice still waits
    assert events(runtime.store)["evt_paid_in_B1"].status == "ignored"
    linked = post_stripe(runtime, invoice_payment("pi_B1", "in_B1"))
    [cash] = remittances(runtime.store)
    assert refs(cash) == ["in_B1", "ERP-5005", "STR-0001"] and cash.amount_minor == 20000
    assert cash.id in linked.remittances
    joined = events(runtime.store)["evt_paid_in_B1"]
    assert (joined.status, joined.note) == ("processed", None)
    # taken in once: a replay of either is a duplicate and changes nothing
    assert post_stripe(runtime, invoice_paid("in_B1")).duplicates == 1
    assert post_stripe(runtime, invoice_payment("pi_B1", "in_B1")).duplicates == 1
    assert refs(remittances(runtime.store)[0]) == ["in_B1", "ERP-5005", "STR-0001"]


def test_an_invoice_named_late_gets_a_given_up_payment_decided_again(runtime: Runtime) -> None:
    book = Book(runtime.store)
    book.invoice(book.customer("Acme Corp"), "ERP-5005", "200.00")
    book.invoice(book.customer("Acme Corp"), "ERP-5006", "200.00")
    post_stripe(runtime, intent("pi_C1"))
    post_stripe(runtime, invoice_payment("pi_C1", "in_C1"))
    runtime.reconcile()
    [cash] = remittances(runtime.store)
    first = decision(runtime.store, cash.id)
    assert first.status != "auto_applied"  # two open invoices of 200.00

    intake = post_stripe(runtime, invoice_paid("in_C1"))
    assert intake.remittances == [cash.id]  # the server reconciles again
    runtime.reconcile()
    again = decision(runtime.store, cash.id)
    assert again.evidence["supersedes_decision"] == first.id
    assert again.rule == "structured_reference"
    assert again.evidence["matched"] == [{"ref": "ERP-5005", "invoice": "ERP-5005"}]


def test_an_invoice_and_its_payment_delivered_together_still_meet(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both in flight at once: the invoice event finds no payment yet, and the payment's
    delivery commits before the invoice event is stored, so neither sees the other inside its
    transaction; the later to commit joins them."""
    paid_by = webhooks._paid_by

    def concurrently(session: Session, tenant: str, record: Any) -> list[Remittance]:
        found = paid_by(session, tenant, record)
        if not remittances(runtime.store):  # the other delivery, while this one is open
            post_stripe(runtime, intent("pi_D1"))
            post_stripe(runtime, invoice_payment("pi_D1", "in_D1"))
        return found

    monkeypatch.setattr(webhooks, "_paid_by", concurrently)
    intake = post_stripe(runtime, invoice_paid("in_D1"))
    [cash] = remittances(runtime.store)
    assert refs(cash) == ["in_D1", "ERP-5005", "STR-0001"]
    assert intake.remittances == [cash.id] and intake.ignored == []
    assert events(runtime.store)["evt_paid_in_D1"].status == "processed"


# -- Adyen -----------------------------------------------------------------------------------


def adyen_item(psp: str, code: str, value: int, original: str = "", **extra: str) -> dict[str, Any]:
    return {
        "additionalData": dict(extra),
        "amount": {"currency": "EUR", "value": value},
        "eventCode": code,
        "eventDate": "2026-12-01T11:00:00+01:00",
        "merchantAccountCode": "ArsyncTestMerchant",
        "merchantReference": "INV-06001",
        "originalReference": original,
        "pspReference": psp,
        "reason": "",
        "success": "true",
    }


def adyen_body(*items: dict[str, Any], key: str = ADYEN_KEY) -> bytes:
    for item in items:
        digest = hmac.new(bytes.fromhex(key), signing_payload(item).encode(), hashlib.sha256)
        item["additionalData"]["hmacSignature"] = base64.b64encode(digest.digest()).decode()
    entries = [{"NotificationRequestItem": item} for item in items]
    return json.dumps({"live": "false", "notificationItems": entries}).encode()


def post_adyen(rt: Runtime, *items: dict[str, Any]) -> Intake:
    return receive(rt.store, rt.settings, "adyen", adyen_body(*items), {})


def amounts(store: Store) -> list[int]:
    return [r.amount_minor for r in remittances(store)]


def test_adyen_captures_automatically_by_default(runtime: Runtime) -> None:
    """Adyen's default: every authorisation is captured at once, with no CAPTURE sent."""
    assert runtime.settings.webhooks.adyen_auto_capture is True
    post_adyen(runtime, adyen_item("AUTHA0000000001", "AUTHORISATION", 12500))
    [cash] = remittances(runtime.store)
    assert (cash.source_key, cash.amount_minor) == ("adyen:AUTHA0000000001", 12500)
    post_adyen(runtime, adyen_item("CAPT0000000001", "CAPTURE", 12500, "AUTHA0000000001"))
    assert amounts(runtime.store) == [12500]  # the same payment


@pytest.mark.parametrize(
    ("code", "extra"),
    [
        ("CANCELLATION", {}),
        ("TECHNICAL_CANCEL", {}),
        ("CANCEL_OR_REFUND", {"modification.action": "cancel"}),
    ],
)
def test_a_cancelled_authorisation_takes_back_what_automatic_capture_counted(
    runtime: Runtime, code: str, extra: dict[str, str]
) -> None:
    post_adyen(runtime, adyen_item("AUTHB0000000001", "AUTHORISATION", 10000))
    intake = post_adyen(
        runtime, adyen_item("CNCB0000000001", code, 10000, "AUTHB0000000001", **extra)
    )
    cash, back = remittances(runtime.store)
    assert (back.amount_minor, back.reverses) == (-10000, cash.source_key)
    assert intake.remittances == [back.id]
    # told again (a replay, or another cancellation of it): taken back once
    assert (
        post_adyen(
            runtime, adyen_item("CNCB0000000001", code, 10000, "AUTHB0000000001", **extra)
        ).duplicates
        == 1
    )
    post_adyen(runtime, adyen_item("CNCB0000000002", "CANCELLATION", 10000, "AUTHB0000000001"))
    assert amounts(runtime.store) == [10000, -10000]


def test_with_manual_capture_a_cancellation_takes_nothing_back(runtime: Runtime) -> None:
    runtime.settings.webhooks.adyen_auto_capture = False
    post_adyen(runtime, adyen_item("AUTHC0000000001", "AUTHORISATION", 10000))
    assert amounts(runtime.store) == []  # an authorisation is not cash
    post_adyen(runtime, adyen_item("CAPC0000000001", "CAPTURE", 4000, "AUTHC0000000001"))
    # the uncaptured rest cancelled: the partial capture is still cash
    post_adyen(
        runtime,
        adyen_item("CNCC0000000001", "CANCELLATION", 6000, "AUTHC0000000001"),
        adyen_item(
            "CNCC0000000002",
            "CANCEL_OR_REFUND",
            6000,
            "AUTHC0000000001",
            **{"modification.action": "cancel"},
        ),
    )
    assert amounts(runtime.store) == [4000]
    stored = events(runtime.store)
    for event_id in ("CNCC0000000001:CANCELLATION:true", "CNCC0000000002:CANCEL_OR_REFUND:true"):
        assert stored[event_id].status == "ignored"


def test_a_zero_value_authorisation_is_ignored_not_failed(runtime: Runtime) -> None:
    """A zero-value authorisation stores a card: with automatic capture too, no money moves."""
    runtime.settings.webhooks.adyen_auto_capture = True
    intake = post_adyen(runtime, adyen_item("ZERO0000000001", "AUTHORISATION", 0))
    assert intake.failed == [] and amounts(runtime.store) == []
    event = events(runtime.store)["ZERO0000000001:AUTHORISATION:true"]
    assert event.status == "ignored" and event.error is None and event.note


def test_adyen_items_signed_with_any_configured_key_verify(tmp_path: Path) -> None:
    rt = open_runtime(tmp_path, adyen_hmac_key=[NEW_ADYEN_KEY, ADYEN_KEY])
    client = TestClient(create_app(rt, schedule=False))
    try:
        old = adyen_body(adyen_item("ROT0000000001", "AUTHORISATION", 700), key=ADYEN_KEY)
        new = adyen_body(adyen_item("ROT0000000002", "AUTHORISATION", 800), key=NEW_ADYEN_KEY)
        other = adyen_body(adyen_item("ROT0000000003", "AUTHORISATION", 900), key="B2" * 32)
        assert client.post("/webhooks/adyen", content=old).text == "[accepted]"
        assert client.post("/webhooks/adyen", content=new).text == "[accepted]"
        assert client.post("/webhooks/adyen", content=other).status_code == 401
        assert amounts(rt.store) == [700, 800]
    finally:
        rt.close()


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_adyen_deliveries_without_the_configured_basic_credentials_are_refused(
    tmp_path: Path,
) -> None:
    rt = open_runtime(tmp_path, adyen_username="adyen-hooks", adyen_password="s3cret-pass-42")
    client = TestClient(create_app(rt, schedule=False))
    try:
        raw = adyen_body(adyen_item("BAS0000000001", "AUTHORISATION", 5000))
        for headers in (
            {},
            basic("adyen-hooks", "wrong-pass"),
            basic("someone", "s3cret-pass-42"),
            {"Authorization": "Bearer s3cret-pass-42"},
            {"Authorization": "Basic not-base64!"},
        ):
            refused = client.post("/webhooks/adyen", content=raw, headers=headers)
            assert refused.status_code == 401
            assert refused.headers["WWW-Authenticate"].startswith("Basic ")
        assert events(rt.store) == {} and amounts(rt.store) == []
        good = client.post(
            "/webhooks/adyen", content=raw, headers=basic("adyen-hooks", "s3cret-pass-42")
        )
        assert good.status_code == 200 and good.text == "[accepted]"
        assert amounts(rt.store) == [5000]
    finally:
        rt.close()


# -- concurrent deliveries -------------------------------------------------------------------


def missing_once(monkeypatch: pytest.MonkeyPatch, source_key: str, times: int = 1) -> None:
    """The remittance ``source_key`` is looked for and not found ``times`` times, as when a
    concurrent delivery stores it after the look-up and commits before this one does."""
    stored = webhooks._stored
    left = [times]

    def seam(session: Session, tenant: str, key: str) -> Remittance | None:
        if key == source_key and left[0] > 0:
            left[0] -= 1
            return None
        return stored(session, tenant, key)

    monkeypatch.setattr(webhooks, "_stored", seam)


def test_a_stripe_event_racing_another_of_its_payment_is_taken_in_again(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    post_stripe(runtime, intent("pi_E1"))
    missing_once(monkeypatch, "stripe:pi_E1")
    old = invoice_paid("in_E1", payment_intent="pi_E1", charge="ch_E1")
    intake = post_stripe(runtime, old)
    assert (intake.events, intake.duplicates) == (1, 0)
    [cash] = remittances(runtime.store)
    assert refs(cash) == ["ERP-5005", "in_E1", "STR-0001"] and intake.remittances == [cash.id]
    assert set(events(runtime.store)) == {"evt_pi_pi_E1", "evt_paid_in_E1"}


def test_an_adyen_batch_racing_another_delivery_keeps_every_item(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    post_adyen(runtime, adyen_item("AUTHF0000000001", "AUTHORISATION", 1000))
    missing_once(monkeypatch, "adyen:AUTHF0000000001")
    client = TestClient(create_app(runtime, schedule=False))
    raw = adyen_body(
        adyen_item("CAPF0000000001", "CAPTURE", 1000, "AUTHF0000000001"),
        adyen_item("AUTHF0000000002", "AUTHORISATION", 2500),
    )
    answer = client.post("/webhooks/adyen", content=raw)
    assert answer.status_code == 200 and answer.text == "[accepted]"
    assert amounts(runtime.store) == [1000, 2500]
    assert set(events(runtime.store)) == {
        "AUTHF0000000001:AUTHORISATION:true",
        "CAPF0000000001:CAPTURE:true",
        "AUTHF0000000002:AUTHORISATION:true",
    }


def test_a_delivery_conflicting_twice_is_refused_so_that_it_comes_again(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    post_adyen(runtime, adyen_item("AUTHG0000000001", "AUTHORISATION", 1000))
    missing_once(monkeypatch, "adyen:AUTHG0000000001", times=2)
    client = TestClient(create_app(runtime, schedule=False))
    raw = adyen_body(
        adyen_item("AUTHG0000000002", "AUTHORISATION", 2500),
        adyen_item("CAPG0000000001", "CAPTURE", 1000, "AUTHG0000000001"),
    )
    answer = client.post("/webhooks/adyen", content=raw)
    assert answer.status_code == 503  # not [accepted]: Adyen delivers it again
    assert amounts(runtime.store) == [1000] and len(events(runtime.store)) == 1
    again = client.post("/webhooks/adyen", content=raw)  # later, no race
    assert again.text == "[accepted]" and amounts(runtime.store) == [1000, 2500]


def test_a_change_notice_racing_another_keeps_its_new_changes(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    def notice(*ids: str) -> bytes:
        entities = [
            {
                "name": "Invoice",
                "id": i,
                "operation": "Update",
                "lastUpdated": "2026-11-20T10:00:00Z",
            }
            for i in ids
        ]
        body = {
            "eventNotifications": [{"realmId": "9130", "dataChangeEvent": {"entities": entities}}]
        }
        return json.dumps(body).encode()

    def post(raw: bytes) -> Intake:
        headers = {"intuit-signature": qbo_sign(raw, QBO_VERIFIER)}
        return receive(runtime.store, runtime.settings, "quickbooks", raw, headers)

    post(notice("131"))
    seen = webhooks._seen
    missed = [False]

    def seam(session: Session, settings: Any, source: str, event_id: str) -> bool:
        if "131" in event_id and not missed[0]:  # stored by the concurrent delivery
            missed[0] = True
            return False
        return seen(session, settings, source, event_id)

    monkeypatch.setattr(webhooks, "_seen", seam)
    intake = post(notice("130", "131"))
    assert (intake.events, intake.duplicates, intake.sync_due) == (1, 1, "quickbooks")
    assert len(events(runtime.store)) == 2


@pytest.mark.postgres
def test_two_events_of_one_payment_delivered_at_once_on_postgres(
    pg_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both look for the payment's remittance before either stores it: the second to store
    it is refused by the database, and taken in again it adds its references."""
    settings = load_settings(None, webhooks={"stripe_secrets": [STRIPE_SECRET]})
    barrier = threading.Barrier(2, timeout=10)
    looked: set[int] = set()
    stored = webhooks._stored

    def seam(session: Session, tenant: str, key: str) -> Remittance | None:
        found = stored(session, tenant, key)
        if threading.get_ident() not in looked:
            looked.add(threading.get_ident())
            barrier.wait()
        return found

    monkeypatch.setattr(webhooks, "_stored", seam)
    answers: dict[str, Intake | Exception] = {}

    def deliver(name: str, raw: bytes) -> None:
        try:
            answers[name] = deliver_stripe(pg_store, settings, raw)
        except Exception as exc:  # asserted below
            answers[name] = exc

    old = invoice_paid("in_H1", payment_intent="pi_H1", charge="ch_H1")
    threads = [
        threading.Thread(target=deliver, args=("intent", intent("pi_H1"))),
        threading.Thread(target=deliver, args=("invoice", old)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(isinstance(a, Intake) and a.duplicates == 0 for a in answers.values()), answers
    [cash] = remittances(pg_store)
    assert sorted(refs(cash)) == ["ERP-5005", "STR-0001", "in_H1"]
    assert set(events(pg_store)) == {"evt_pi_pi_H1", "evt_paid_in_H1"}
