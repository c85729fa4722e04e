"""Processor events out of order, on SQLite and PostgreSQL: an Adyen cancellation (or another
event taking cash back) that comes before the authorisation it names, and a Stripe invoice
event waiting for its payment, found again by what is stored in structure, not by prose."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlmodel import Session, col

import sync.webhooks as webhooks
from canonical.models import Remittance, WebhookEvent
from canonical.store import Store
from connectors.processors.adyen import signing_payload
from connectors.processors.records import ProcessorRecord
from reconciler import reconcile
from sync.settings import Settings, load_settings
from sync.webhooks import Intake, receive
from tests.support.receivables import Book, balance, decision

ADYEN_KEY = "5F1E2D3C4B5A69788796A5B4C3D2E1F05F1E2D3C4B5A69788796A5B4C3D2E1F0"
STRIPE_SECRET = "whsec_intake_order"
AUTH = "AUTHORD000000001"


@pytest.fixture
def settings() -> Settings:
    hooks = {"adyen_hmac_key": ADYEN_KEY, "stripe_secrets": [STRIPE_SECRET]}
    return load_settings(None, database_url="sqlite://", webhooks=hooks)


def remittances(store: Store) -> list[Remittance]:
    with store.session() as s:
        rows = s.execute(select(Remittance)).scalars()
        return sorted(rows, key=lambda r: (r.amount_minor < 0, r.created_at))


def events(store: Store) -> dict[str, WebhookEvent]:
    with store.session() as s:
        return {e.event_id: e for e in s.execute(select(WebhookEvent)).scalars()}


# -- Adyen: a payment's cash taken back whatever order its events come in ----------------------


def item(
    psp: str, code: str, value: int = 10000, original: str = "", **extra: str
) -> dict[str, Any]:
    return {
        "additionalData": dict(extra),
        "amount": {"currency": "EUR", "value": value},
        "eventCode": code,
        "eventDate": "2026-12-01T11:00:00+01:00",
        "merchantAccountCode": "ArsyncOrderMerchant",
        "merchantReference": "INV-07001",
        "originalReference": original,
        "pspReference": psp,
        "reason": "",
        "success": "true",
    }


def post_adyen(store: Store, settings: Settings, *items: dict[str, Any]) -> Intake:
    for one in items:
        digest = hmac.new(bytes.fromhex(ADYEN_KEY), signing_payload(one).encode(), hashlib.sha256)
        one["additionalData"]["hmacSignature"] = base64.b64encode(digest.digest()).decode()
    body = {"live": "false", "notificationItems": [{"NotificationRequestItem": i} for i in items]}
    return receive(store, settings, "adyen", json.dumps(body).encode(), {})


CANCELS = [
    ("CANCELLATION", {}),
    ("TECHNICAL_CANCEL", {}),
    ("CANCEL_OR_REFUND", {"modification.action": "cancel"}),
]


def cancel(code: str, extra: dict[str, str], psp: str = "CNCORD0000000001") -> dict[str, Any]:
    return item(psp, code, 10000, AUTH, **extra)


@pytest.mark.parametrize(("code", "extra"), CANCELS)
def test_a_cancellation_before_its_authorisation_takes_it_back_as_after_it(
    store: Store, settings: Settings, code: str, extra: dict[str, str]
) -> None:
    first = post_adyen(store, settings, cancel(code, extra))
    assert remittances(store) == [] and first.remittances == []  # nothing counted to take yet
    late = post_adyen(store, settings, item(AUTH, "AUTHORISATION"))
    cash, back = remittances(store)
    # what the other order gives: the payment, and a reversal taking all of it back
    assert (cash.source_key, cash.amount_minor) == (f"adyen:{AUTH}", 10000)
    assert (back.amount_minor, back.reverses) == (-10000, cash.source_key)
    assert sorted(late.remittances) == sorted([cash.id, back.id])
    assert late.ignored == []
    taken = events(store)[f"CNCORD0000000001:{code}:true"]
    assert (taken.status, taken.note) == ("processed", None)
    # a replay of either, or another cancellation of the payment, changes nothing
    assert post_adyen(store, settings, cancel(code, extra)).duplicates == 1
    assert post_adyen(store, settings, item(AUTH, "AUTHORISATION")).duplicates == 1
    post_adyen(store, settings, cancel("CANCELLATION", {}, psp="CNCORD0000000002"))
    assert [r.amount_minor for r in remittances(store)] == [10000, -10000]


@pytest.mark.parametrize("cancel_first", [False, True], ids=["in-order", "cancel-first"])
def test_either_order_leaves_the_invoice_open_and_no_cash_applied(
    store: Store, settings: Settings, cancel_first: bool
) -> None:
    book = Book(store)
    invoice = book.invoice(book.customer("Order Corp"), "INV-07001", "100.00", "EUR")
    in_order = [item(AUTH, "AUTHORISATION"), cancel("CANCELLATION", {})]
    for one in reversed(in_order) if cancel_first else in_order:
        post_adyen(store, settings, one)
    reconcile(store)
    cash, back = remittances(store)
    assert (cash.amount_minor, back.amount_minor) == (10000, -10000)
    assert balance(store, invoice) == ("100.00", "open")
    taken = decision(store, cash.id)  # taken back before it was applied: never applied
    assert (taken.rule, taken.exception_kind) == ("taken_back", "returned_payment")


def test_a_cancellation_and_its_authorisation_in_one_batch_meet(
    store: Store, settings: Settings
) -> None:
    intake = post_adyen(store, settings, cancel("CANCELLATION", {}), item(AUTH, "AUTHORISATION"))
    cash, back = remittances(store)
    assert back.reverses == cash.source_key and back.amount_minor == -cash.amount_minor
    assert sorted(intake.remittances) == sorted([cash.id, back.id]) and intake.ignored == []


def test_a_cancellation_and_its_authorisation_delivered_concurrently_still_meet(
    store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cancellation finds no payment inside its transaction, and the authorisation's
    delivery commits meanwhile without seeing the cancellation: the later to commit joins
    them."""
    counted: Callable[[Session, str, ProcessorRecord], Remittance | None]
    counted = webhooks._counted_payment

    def concurrently(session: Session, tenant: str, record: ProcessorRecord) -> Remittance | None:
        found = counted(session, tenant, record)
        if record.kind == "failure" and not remittances(store):
            post_adyen(store, settings, item(AUTH, "AUTHORISATION"))
        return found

    monkeypatch.setattr(webhooks, "_counted_payment", concurrently)
    intake = post_adyen(store, settings, cancel("CANCELLATION", {}))
    cash, back = remittances(store)
    assert back.reverses == cash.source_key and back.amount_minor == -10000
    assert intake.remittances == [back.id] and intake.ignored == []


def test_a_chargeback_before_its_authorisation_takes_it_back_once_it_comes(
    store: Store, settings: Settings
) -> None:
    post_adyen(store, settings, item("DSPORD0000000001", "CHARGEBACK", 10000, AUTH))
    post_adyen(store, settings, item(AUTH, "AUTHORISATION"))
    cash, back = remittances(store)
    assert (back.amount_minor, back.reverses) == (-10000, cash.source_key)


def test_with_manual_capture_a_cancellation_first_still_takes_nothing(
    store: Store, settings: Settings
) -> None:
    settings.webhooks.adyen_auto_capture = False
    post_adyen(store, settings, cancel("CANCELLATION", {}, psp="CNCORD0000000009"))
    post_adyen(store, settings, item(AUTH, "AUTHORISATION"))
    post_adyen(store, settings, item("CAPORD0000000001", "CAPTURE", 4000, AUTH))
    assert [r.amount_minor for r in remittances(store)] == [4000]  # the capture is cash
    assert events(store)["CNCORD0000000009:CANCELLATION:true"].status == "ignored"


def test_a_cancellation_of_another_payment_waits_on(store: Store, settings: Settings) -> None:
    post_adyen(store, settings, item("CNCORD0000000003", "CANCELLATION", 10000, "AUTHOTHER0000001"))
    post_adyen(store, settings, item(AUTH, "AUTHORISATION"))
    assert [r.amount_minor for r in remittances(store)] == [10000]
    waiting = events(store)["CNCORD0000000003:CANCELLATION:true"]
    assert waiting.status == "ignored"


# -- Stripe: an invoice event waiting for its payment, found by structure -------------------------


def post_stripe(store: Store, settings: Settings, kind: str, event_id: str, obj: Any) -> Intake:
    raw = json.dumps(
        {
            "id": event_id,
            "object": "event",
            "api_version": "2025-03-31.basil",
            "created": 1763800100,
            "type": kind,
            "data": {"object": obj},
        }
    ).encode()
    stamp = str(int(time.time()))
    digest = hmac.new(STRIPE_SECRET.encode(), stamp.encode() + b"." + raw, hashlib.sha256)
    headers = {"Stripe-Signature": f"t={stamp},v1={digest.hexdigest()}"}
    return receive(store, settings, "stripe", raw, headers)


def invoice_paid(store: Store, settings: Settings, invoice: str) -> Intake:
    obj = {
        "id": invoice,
        "object": "invoice",
        "number": f"NUM-{invoice}",
        "amount_paid": 20000,
        "currency": "usd",
        "status": "paid",
        "paid_out_of_band": False,
        "metadata": {"invoice_number": f"ERP-{invoice}"},
    }
    return post_stripe(store, settings, "invoice.paid", f"evt_paid_{invoice}", obj)


def intent(store: Store, settings: Settings, pi: str) -> Intake:
    obj = {"id": pi, "object": "payment_intent", "amount_received": 20000, "currency": "usd"}
    return post_stripe(store, settings, "payment_intent.succeeded", f"evt_pi_{pi}", obj)


def invoice_payment(store: Store, settings: Settings, pi: str, invoice: str) -> Intake:
    obj = {
        "id": f"inpay_{invoice}",
        "object": "invoice_payment",
        "amount_paid": 20000,
        "currency": "usd",
        "invoice": invoice,
        "payment": {"type": "payment_intent", "payment_intent": pi},
        "status": "paid",
    }
    return post_stripe(store, settings, "invoice_payment.paid", f"evt_inpay_{invoice}", obj)


def refs_of(store: Store, source_key: str) -> list[str]:
    [cash] = [r for r in remittances(store) if r.source_key == source_key]
    return [str(r["ref"]) for r in cash.structured_refs]


def test_a_waiting_invoice_event_is_found_whatever_its_note_says(
    store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The note is for people: a later version wording it otherwise strands nothing."""
    invoice_paid(store, settings, "in_W1")
    assert events(store)["evt_paid_in_W1"].status == "ignored"
    monkeypatch.setattr(webhooks, "_waiting_note", lambda invoice: f"waits for {invoice}")
    intent(store, settings, "pi_W1")
    linked = invoice_payment(store, settings, "pi_W1", "in_W1")
    assert refs_of(store, "stripe:pi_W1") == ["in_W1", "ERP-in_W1", "NUM-in_W1"]
    assert events(store)["evt_paid_in_W1"].status == "processed"
    assert linked.ignored == []


def test_a_waiting_event_stored_before_this_version_is_still_taken_in(
    store: Store, settings: Settings
) -> None:
    """As an earlier arsync stored it: ignored, with its note, and the event as delivered."""
    invoice_paid(store, settings, "in_W2")
    with store.session() as s:
        s.execute(
            update(WebhookEvent)
            .where(col(WebhookEvent.event_id) == "evt_paid_in_W2")
            .values(
                note="moved no cash itself: its references wait for the payment that paid in_W2"
            )
        )
    invoice_payment(store, settings, "pi_W2", "in_W2")
    assert refs_of(store, "stripe:pi_W2") == ["in_W2", "ERP-in_W2", "NUM-in_W2"]


def test_the_payment_of_an_invoice_is_found_by_its_structured_references_alone(
    store: Store, settings: Settings
) -> None:
    """Not by its free text, which is prose: a remittance whose text no longer holds the
    invoice id is still found, one whose text names it but whose references do not is not,
    and an id that only begins another's names nothing."""
    invoice_payment(store, settings, "pi_S1", "in_S1")
    invoice_payment(store, settings, "pi_S12", "in_S12")
    intent(store, settings, "pi_S2")
    with store.session() as s:
        s.execute(
            update(Remittance)
            .where(col(Remittance.source_key) == "stripe:pi_S1")
            .values(free_text=None)
        )
        s.execute(
            update(Remittance)
            .where(col(Remittance.source_key) == "stripe:pi_S2")
            .values(free_text="paid in_S1 twice?")
        )
    intake = invoice_paid(store, settings, "in_S1")
    assert refs_of(store, "stripe:pi_S1") == ["in_S1", "ERP-in_S1", "NUM-in_S1"]
    assert refs_of(store, "stripe:pi_S12") == ["in_S12"]
    assert refs_of(store, "stripe:pi_S2") == []
    assert intake.ignored == []
