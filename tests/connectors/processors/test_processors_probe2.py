"""Second probe of processor webhooks, each delivered as the vendor sends it: the raw body,
signed as documented, through the webhook intake (``sync.webhooks.receive``).

Facts from the vendors' public documentation (docs.stripe.com: webhooks signatures, the
Event, PaymentIntent, Charge, Refund, Dispute, Checkout Session, customer cash balance and
thin-event pages; docs.adyen.com: webhooks, HMAC signatures, dispute webhooks, event codes;
developer.gocardless.com: webhooks, payment actions) and their SDKs' webhook helpers.
Payloads carry our own values.
"""

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
from sqlalchemy import select

from canonical.models import Remittance, WebhookEvent
from connectors.errors import ApiError, NotFoundError
from connectors.processors import adyen
from sync.runtime import Runtime
from sync.settings import load_settings
from sync.webhooks import Intake, Rejected, receive

STRIPE_SECRET = "whsec_probe2_current"
STRIPE_OLD_SECRET = "whsec_probe2_previous"
ADYEN_KEY = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056"
GC_SECRET = "gc_probe2_webhook_secret"
GC_TOKEN = "gc_probe2_access_token_live_SECRET"
GC_BASE = "https://api.gocardless.test"
NOW = 1_767_225_600


@pytest.fixture
def rt(tmp_path: Path) -> Iterator[Runtime]:
    yield from _runtime(f"sqlite:///{tmp_path / 'probe2.db'}")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def rt_any(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Runtime]:
    """The runtime on SQLite and on PostgreSQL (the payload JSON is searched differently)."""
    if request.param == "sqlite":
        yield from _runtime(f"sqlite:///{tmp_path / 'probe2.db'}")
        return
    store = request.getfixturevalue("pg_store")
    yield from _runtime(store.engine.url.render_as_string(hide_password=False))


def _runtime(url: str) -> Iterator[Runtime]:
    settings = load_settings(
        None,
        database_url=url,
        webhooks={
            "stripe_secrets": [STRIPE_SECRET],
            "adyen_hmac_key": ADYEN_KEY,
            "gocardless_secret": GC_SECRET,
            "gocardless_access_token": GC_TOKEN,
            "gocardless_base_url": GC_BASE,
        },
    )
    runtime = Runtime.open(settings)
    yield runtime
    runtime.close()


def stored(rt: Runtime) -> tuple[list[Remittance], dict[str, WebhookEvent]]:
    with rt.store.session() as s:
        remittances = list(s.execute(select(Remittance)).scalars())
        events = {e.event_id: e for e in s.execute(select(WebhookEvent)).scalars()}
    return remittances, events


def amounts(rt: Runtime) -> list[int]:
    return sorted(r.amount_minor for r in stored(rt)[0])


# -- Stripe ---------------------------------------------------------------------------------


def stripe_event(
    kind: str, obj: dict[str, Any], event_id: str, api_version: str = "2024-06-20"
) -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "api_version": api_version,
        "created": NOW,
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": kind,
    }


def stripe_header(raw: bytes, *secrets: str, stamp: int | None = None, v0: bool = False) -> str:
    t = str(int(time.time()) if stamp is None else stamp)
    parts = [f"t={t}"]
    for secret in secrets:
        parts.append(
            "v1=" + hmac.new(secret.encode(), f"{t}.".encode() + raw, "sha256").hexdigest()
        )
    if v0:
        parts.append("v0=" + hmac.new(b"test-mode-legacy", raw, "sha256").hexdigest())
    return ",".join(parts)


def post_stripe(rt: Runtime, event: dict[str, Any]) -> Intake:
    raw = json.dumps(event, indent=2).encode()  # Stripe sends pretty-printed JSON
    return receive(
        rt.store,
        rt.settings,
        "stripe",
        raw,
        {"Stripe-Signature": stripe_header(raw, STRIPE_SECRET)},
    )


def intent(pi: str, amount: int, currency: str = "usd", **fields: Any) -> dict[str, Any]:
    """A PaymentIntent as API versions since 2022-11-15 send it: ``latest_charge`` (an id), no
    ``charges`` list."""
    return {
        "id": pi,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_received": amount,
        "currency": currency,
        "customer": "cus_Probe2",
        "description": None,
        "latest_charge": "ch_" + pi[3:],
        "livemode": False,
        "metadata": {"invoice_number": "INV-7001"},
        "payment_method_types": ["card"],
        "status": "succeeded",
        **fields,
    }


def charge_of(pi: str, amount: int, **fields: Any) -> dict[str, Any]:
    return {
        "id": "ch_" + pi[3:],
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": 0,
        "billing_details": {"email": "ap@probe.test", "name": "Probe Buyer Ltd"},
        "captured": True,
        "currency": "usd",
        "metadata": {},
        "paid": True,
        "payment_intent": pi,
        "refunded": False,
        "status": "succeeded",
        **fields,
    }


def dispute(dp: str, pi: str, amount: int, status: str, moves: list[int]) -> dict[str, Any]:
    return {
        "id": dp,
        "object": "dispute",
        "amount": amount,
        "balance_transactions": [
            {"id": f"txn_{dp}_{i}", "object": "balance_transaction", "amount": m}
            for i, m in enumerate(moves)
        ],
        "charge": "ch_" + pi[3:],
        "currency": "usd",
        "payment_intent": pi,
        "reason": "fraudulent",
        "status": status,
    }


def test_stripe_intent_of_a_newer_api_version_and_its_charge_are_one_cash(rt: Runtime) -> None:
    """Since API 2022-11-15 a PaymentIntent names ``latest_charge`` (a string) and lists no
    ``charges``; ``payment_intent.succeeded`` and ``charge.succeeded`` announce the same money
    (the charge names its ``payment_intent``). A redelivered event (same id) changes nothing."""
    event = stripe_event("payment_intent.succeeded", intent("pi_P2a", 125000), "evt_P2a1")
    first = post_stripe(rt, event)
    second = post_stripe(
        rt, stripe_event("charge.succeeded", charge_of("pi_P2a", 125000), "evt_P2a2")
    )
    again = post_stripe(rt, event)
    assert len(first.remittances) == 1 and second.remittances == [] and again.duplicates == 1
    [made], _ = stored(rt)
    assert (made.source_key, made.amount_minor, made.currency) == ("stripe:pi_P2a", 125000, "USD")
    assert made.payer_name == "Probe Buyer Ltd"  # the charge adds nothing new to the cash
    assert [r["ref"] for r in made.structured_refs] == ["INV-7001"]


def test_stripe_refund_events_never_make_or_take_cash(rt: Runtime) -> None:
    """Refunds (``charge.refunded``, ``refund.created``, ``refund.updated`` with status
    ``failed`` or ``canceled``) are outgoing money of their own, reported, never a remittance
    and never a reversal of the payment's cash."""
    post_stripe(rt, stripe_event("payment_intent.succeeded", intent("pi_P2b", 9900), "evt_P2b1"))
    refunded = charge_of("pi_P2b", 9900, amount_refunded=4000)
    post_stripe(rt, stripe_event("charge.refunded", refunded, "evt_P2b2"))
    refund = {
        "id": "re_P2b",
        "object": "refund",
        "amount": 4000,
        "charge": "ch_P2b",
        "currency": "usd",
        "payment_intent": "pi_P2b",
        "status": "pending",
    }
    post_stripe(rt, stripe_event("refund.created", refund, "evt_P2b3"))
    failed = {**refund, "status": "failed", "failure_reason": "expired_or_canceled_card"}
    intake = post_stripe(rt, stripe_event("refund.updated", failed, "evt_P2b4"))
    post_stripe(rt, stripe_event("refund.updated", {**refund, "status": "canceled"}, "evt_P2b5"))
    assert intake.failed == [] and intake.remittances == []
    assert amounts(rt) == [9900]
    events = stored(rt)[1]
    assert {events[f"evt_P2b{i}"].status for i in range(2, 6)} == {"ignored"}


def test_stripe_dispute_won_takes_the_cash_once_and_gives_it_back_once(rt: Runtime) -> None:
    """``charge.dispute.created`` (funds withdrawn: a negative balance transaction) and
    ``charge.dispute.funds_withdrawn`` announce one withdrawal; ``funds_reinstated`` gives it
    back; ``charge.dispute.closed`` (won) moves nothing more. Replays change nothing."""
    post_stripe(rt, stripe_event("payment_intent.succeeded", intent("pi_P2c", 5000), "evt_P2c1"))
    created = stripe_event(
        "charge.dispute.created",
        dispute("dp_P2c", "pi_P2c", 5000, "needs_response", [-5000]),
        "evt_P2c2",
    )
    post_stripe(rt, created)
    withdrawn = dispute("dp_P2c", "pi_P2c", 5000, "needs_response", [-5000])
    post_stripe(rt, stripe_event("charge.dispute.funds_withdrawn", withdrawn, "evt_P2c3"))
    assert amounts(rt) == [-5000, 5000]
    back = dispute("dp_P2c", "pi_P2c", 5000, "won", [-5000, 5000])
    post_stripe(rt, stripe_event("charge.dispute.funds_reinstated", back, "evt_P2c4"))
    post_stripe(rt, stripe_event("charge.dispute.closed", back, "evt_P2c5"))
    assert post_stripe(rt, created).duplicates == 1
    assert amounts(rt) == [-5000, 5000, 5000]
    assert sum(amounts(rt)) == 5000


def test_stripe_funds_reinstated_delivered_before_the_withdrawal(rt_any: Runtime) -> None:
    """Stripe does not guarantee the order of events: ``charge.dispute.funds_reinstated``
    arriving before ``charge.dispute.created`` (funds withdrawn) must leave the payment's cash
    standing once both are in, as in order."""
    rt = rt_any
    post_stripe(rt, stripe_event("payment_intent.succeeded", intent("pi_P2m", 8100), "evt_P2m1"))
    back = dispute("dp_P2m", "pi_P2m", 8100, "won", [-8100, 8100])
    first = post_stripe(rt, stripe_event("charge.dispute.funds_reinstated", back, "evt_P2m2"))
    assert first.remittances == []
    taken = dispute("dp_P2m", "pi_P2m", 8100, "needs_response", [-8100])
    post_stripe(rt, stripe_event("charge.dispute.created", taken, "evt_P2m3"))
    post_stripe(rt, stripe_event("charge.dispute.funds_withdrawn", taken, "evt_P2m4"))
    assert amounts(rt) == [-8100, 8100, 8100]
    assert stored(rt)[1]["evt_P2m2"].status == "processed"


def test_stripe_dispute_lost_and_an_inquiry(rt: Runtime) -> None:
    """A lost dispute keeps the withdrawal (``closed`` with status ``lost`` moves nothing
    more); an inquiry (``warning_needs_response``) never withdraws funds."""
    post_stripe(rt, stripe_event("payment_intent.succeeded", intent("pi_P2d", 7000), "evt_P2d1"))
    post_stripe(rt, stripe_event("payment_intent.succeeded", intent("pi_P2e", 3000), "evt_P2e1"))
    lost = dispute("dp_P2d", "pi_P2d", 7000, "needs_response", [-7000])
    post_stripe(rt, stripe_event("charge.dispute.created", lost, "evt_P2d2"))
    closed = {**lost, "status": "lost"}
    post_stripe(rt, stripe_event("charge.dispute.closed", closed, "evt_P2d3"))
    inquiry = dispute("dp_P2e", "pi_P2e", 3000, "warning_needs_response", [])
    post_stripe(rt, stripe_event("charge.dispute.created", inquiry, "evt_P2e2"))
    post_stripe(
        rt,
        stripe_event("charge.dispute.closed", {**inquiry, "status": "warning_closed"}, "evt_P2e3"),
    )
    assert amounts(rt) == [-7000, 3000, 7000]


def test_stripe_checkout_with_an_async_method_is_cash_when_it_succeeds(rt: Runtime) -> None:
    """``checkout.session.completed`` with ``payment_status`` ``unpaid`` (a delayed method such
    as a bank debit) is no cash; ``checkout.session.async_payment_succeeded`` is, once;
    ``async_payment_failed`` never is."""
    session = {
        "id": "cs_test_P2f",
        "object": "checkout.session",
        "amount_total": 45000,
        "client_reference_id": "INV-7006",
        "currency": "eur",
        "customer_details": {"email": "ap@probe.test", "name": "Probe GmbH"},
        "metadata": {},
        "mode": "payment",
        "payment_intent": "pi_P2f",
        "payment_status": "unpaid",
        "status": "complete",
    }
    first = post_stripe(rt, stripe_event("checkout.session.completed", session, "evt_P2f1"))
    assert first.remittances == [] and first.failed == []
    paid = {**session, "payment_status": "paid"}
    later = post_stripe(
        rt, stripe_event("checkout.session.async_payment_succeeded", paid, "evt_P2f2")
    )
    other = {**session, "id": "cs_test_P2g", "payment_intent": "pi_P2g"}
    post_stripe(rt, stripe_event("checkout.session.async_payment_failed", other, "evt_P2g1"))
    post_stripe(
        rt, stripe_event("payment_intent.succeeded", intent("pi_P2f", 45000, "eur"), "evt_P2f3")
    )
    assert len(later.remittances) == 1
    [made], _ = stored(rt)
    assert (made.source_key, made.amount_minor, made.currency) == ("stripe:pi_P2f", 45000, "EUR")


def test_stripe_bank_transfer_funds_are_cash_once_applied(rt: Runtime) -> None:
    """A bank transfer lands in the customer's cash balance (``cash_balance.funds_available``,
    ``customer_cash_balance_transaction.created`` of type ``funded``) and is then applied to a
    PaymentIntent: ``payment_intent.partially_funded`` is not yet paid, only
    ``payment_intent.succeeded`` is the payment. Counting the funding too would count twice."""
    funded = {
        "id": "ccsbtxn_P2h",
        "object": "customer_cash_balance_transaction",
        "currency": "usd",
        "customer": "cus_Probe2",
        "net_amount": 20000,
        "type": "funded",
        "funded": {"bank_transfer": {"reference": "INV-7008", "type": "us_bank_transfer"}},
    }
    post_stripe(rt, stripe_event("customer_cash_balance_transaction.created", funded, "evt_P2h1"))
    balance = {"object": "cash_balance", "available": {"usd": 20000}, "customer": "cus_Probe2"}
    post_stripe(
        rt,
        stripe_event("cash_balance.funds_available", {"id": "cus_Probe2", **balance}, "evt_P2h2"),
    )
    part = intent("pi_P2h", 50000, amount_received=0, status="requires_action")
    post_stripe(rt, stripe_event("payment_intent.partially_funded", part, "evt_P2h3"))
    assert amounts(rt) == []
    post_stripe(rt, stripe_event("payment_intent.succeeded", intent("pi_P2h", 50000), "evt_P2h4"))
    assert amounts(rt) == [50000]


def test_stripe_zero_and_three_decimal_currencies(rt: Runtime) -> None:
    """Stripe's zero-decimal currencies (VND) are whole units; three-decimal ones (KWD) have
    three decimals in the API: 12340 is 12.340 KWD."""
    post_stripe(
        rt, stripe_event("payment_intent.succeeded", intent("pi_P2i", 2500000, "vnd"), "evt_P2i")
    )
    post_stripe(
        rt, stripe_event("payment_intent.succeeded", intent("pi_P2j", 12340, "kwd"), "evt_P2j")
    )
    made = {r.source_key: (r.amount_minor, r.currency) for r in stored(rt)[0]}
    assert made == {"stripe:pi_P2i": (2500000, "VND"), "stripe:pi_P2j": (12340, "KWD")}


def test_stripe_thin_event_notification_is_stored_not_failed(rt: Runtime) -> None:
    """A thin (v2) event notification names its event and related object only: ``created`` is
    an ISO timestamp and there is no ``data.object``. It moves no cash here and is kept."""
    thin = {
        "id": "evt_test_65R9Ijk8u1Fb5FIsP2k",
        "object": "v2.core.event",
        "type": "v1.billing.meter.error_report_triggered",
        "livemode": False,
        "created": "2025-11-03T09:00:00.000Z",
        "related_object": {
            "id": "mtr_P2k",
            "type": "billing.meter",
            "url": "/v1/billing/meters/mtr_P2k",
        },
    }
    intake = post_stripe(rt, thin)
    assert intake.failed == [] and intake.remittances == []
    assert stored(rt)[1]["evt_test_65R9Ijk8u1Fb5FIsP2k"].status == "ignored"


def test_stripe_signature_rotation_v0_and_tolerance(rt: Runtime) -> None:
    """During a rotation Stripe signs with each active secret (several ``v1``); ``v0`` is a
    legacy test-mode scheme never to be trusted; a timestamp outside the tolerance fails even
    with a good signature; a body changed after signing fails."""
    raw = json.dumps(
        stripe_event("payment_intent.succeeded", intent("pi_P2l", 100), "evt_P2l")
    ).encode()
    both = stripe_header(raw, STRIPE_OLD_SECRET, STRIPE_SECRET, v0=True)
    assert receive(rt.store, rt.settings, "stripe", raw, {"Stripe-Signature": both}).remittances
    only_old = stripe_header(raw, STRIPE_OLD_SECRET, v0=True)
    stale = stripe_header(raw, STRIPE_SECRET, stamp=int(time.time()) - 301)
    v0_only = "t={},v0={}".format(
        int(time.time()), hmac.new(STRIPE_SECRET.encode(), raw, "sha256").hexdigest()
    )
    for header in (only_old, stale, v0_only):
        with pytest.raises(Rejected) as refused:
            receive(rt.store, rt.settings, "stripe", raw, {"Stripe-Signature": header})
        assert refused.value.status == 400 and STRIPE_SECRET not in refused.value.reason
    good = {"Stripe-Signature": stripe_header(raw, STRIPE_SECRET)}
    with pytest.raises(Rejected):
        receive(rt.store, rt.settings, "stripe", raw.replace(b"100", b"900"), good)
    assert amounts(rt) == [100]


# -- Adyen ----------------------------------------------------------------------------------


def item(
    code: str, psp: str, value: int | None, currency: str = "EUR", **fields: Any
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "additionalData": {},
        "eventCode": code,
        "eventDate": "2026-11-02T10:00:00+01:00",
        "merchantAccountCode": "ArsyncProbeShop",
        "merchantReference": "ORDER-88",
        "paymentMethod": "visa",
        "pspReference": psp,
        "reason": "",
        "success": "true",
        **fields,
    }
    if value is not None:
        entry["amount"] = {"currency": currency, "value": value}
    return entry


def signed(entry: dict[str, Any]) -> dict[str, Any]:
    digest = hmac.new(
        binascii.unhexlify(ADYEN_KEY), adyen.signing_payload(entry).encode(), hashlib.sha256
    ).digest()
    entry["additionalData"]["hmacSignature"] = base64.b64encode(digest).decode()
    return entry


def post_adyen_entries(rt: Runtime, entries: list[Any]) -> Intake:
    raw = json.dumps({"live": "false", "notificationItems": entries}).encode()
    return receive(rt.store, rt.settings, "adyen", raw, {})


def post_adyen(rt: Runtime, *items: dict[str, Any]) -> Intake:
    return post_adyen_entries(rt, [{"NotificationRequestItem": i} for i in items])


def test_adyen_batch_counts_only_successful_money_items(rt: Runtime) -> None:
    """``success`` arrives as the string "true"/"false": a refused AUTHORISATION is never cash;
    REFUND_FAILED, REFUNDED_REVERSED, NOTIFICATION_OF_CHARGEBACK and PREARBITRATION_WON move
    no money here. JPY has exponent 0 and BHD exponent 3 at Adyen. An item that cannot be
    read is kept as failed without losing the others."""
    batch = [
        item("AUTHORISATION", "P2A0000000000001", 1000, success="false", reason="Refused"),
        item("AUTHORISATION", "P2A0000000000002", 5000, "JPY"),
        item("AUTHORISATION", "P2A0000000000003", 12345, "BHD"),
        item("REFUND_FAILED", "P2A0000000000004", 800, originalReference="P2A0000000000002"),
        item("REFUNDED_REVERSED", "P2A0000000000005", 800, originalReference="P2A0000000000002"),
        item(
            "NOTIFICATION_OF_CHARGEBACK",
            "P2A0000000000006",
            5000,
            "JPY",
            originalReference="P2A0000000000002",
        ),
        item(
            "PREARBITRATION_WON",
            "P2A0000000000007",
            5000,
            "JPY",
            originalReference="P2A0000000000002",
        ),
        item("CAPTURE", "P2A0000000000008", None, originalReference="P2A0000000000003"),
    ]
    intake = post_adyen(rt, *[signed(i) for i in batch])
    assert len(intake.remittances) == 2 and len(intake.failed) == 1
    assert "notificationItems[7]" in intake.failed[0] or "P2A0000000000008" in intake.failed[0]
    made = {r.source_key: (r.amount_minor, r.currency) for r in stored(rt)[0]}
    assert made == {
        "adyen:P2A0000000000002": (5000, "JPY"),
        "adyen:P2A0000000000003": (12345, "BHD"),
    }
    assert len(stored(rt)[1]) == len(batch)


def test_adyen_dispute_lifecycle_takes_and_gives_back_once_each(rt: Runtime) -> None:
    """Every event of one dispute shares the dispute's ``pspReference``; ``originalReference``
    is the payment's. CHARGEBACK debits, CHARGEBACK_REVERSED credits back, SECOND_CHARGEBACK
    debits again; the PREARBITRATION_* outcomes only report. A replayed item is a duplicate."""
    post_adyen(rt, signed(item("AUTHORISATION", "P2B0000000000001", 30000)))
    dispute_of = {"originalReference": "P2B0000000000001"}
    chargeback = signed(item("CHARGEBACK", "P2B0000000000D01", 30000, **dispute_of))
    post_adyen(rt, chargeback)
    assert post_adyen(rt, dict(chargeback)).duplicates == 1
    post_adyen(rt, signed(item("CHARGEBACK_REVERSED", "P2B0000000000D01", 30000, **dispute_of)))
    post_adyen(rt, signed(item("SECOND_CHARGEBACK", "P2B0000000000D01", 30000, **dispute_of)))
    post_adyen(rt, signed(item("PREARBITRATION_LOST", "P2B0000000000D01", 30000, **dispute_of)))
    assert amounts(rt) == [-30000, -30000, 30000, 30000]
    assert sum(amounts(rt)) == 0


def test_adyen_chargeback_reversed_delivered_before_its_chargeback(rt_any: Runtime) -> None:
    """Adyen does not guarantee the order of webhooks: a CHARGEBACK_REVERSED that arrives before
    its CHARGEBACK must leave the payment's cash standing once both are in, as in order."""
    rt = rt_any
    post_adyen(rt, signed(item("AUTHORISATION", "P2C0000000000001", 4200)))
    dispute_of = {"originalReference": "P2C0000000000001"}
    post_adyen(rt, signed(item("CHARGEBACK_REVERSED", "P2C0000000000D01", 4200, **dispute_of)))
    post_adyen(rt, signed(item("CHARGEBACK", "P2C0000000000D01", 4200, **dispute_of)))
    assert sum(amounts(rt)) == 4200


def test_adyen_an_entry_that_is_not_an_item_loses_no_other(rt: Runtime) -> None:
    """Each NotificationRequestItem is signed on its own; an entry of the batch that is not an
    item object carries no signature that could verify and is dropped like an item whose
    signature does not match, while the verified items are kept (a refusal of the whole batch
    would lose them: Adyen would send the same broken batch again)."""
    good = signed(item("AUTHORISATION", "P2D0000000000001", 1500))
    intake = post_adyen_entries(
        rt, [{"NotificationRequestItem": good}, {"NotificationRequestItem": None}, "x"]
    )
    assert len(intake.remittances) == 1 and len(intake.failed) == 2
    assert amounts(rt) == [1500]


# -- GoCardless -----------------------------------------------------------------------------


class Payments:
    """GET /payments/{id}, as GoCardless answers it (our values); an error for some ids."""

    def __init__(
        self, payments: dict[str, dict[str, Any]], errors: dict[str, Exception] | None = None
    ):
        self.payments = payments
        self.errors = errors or {}
        self.reads: list[str] = []

    def payment(self, payment_id: str) -> dict[str, Any]:
        self.reads.append(payment_id)
        if payment_id in self.errors:
            raise self.errors[payment_id]
        return dict(self.payments[payment_id])


def gc_payment(pm: str, amount: int, currency: str = "GBP") -> dict[str, Any]:
    return {
        "id": pm,
        "amount": amount,
        "amount_refunded": 0,
        "charge_date": "2026-11-03",
        "currency": currency,
        "description": "Subscription November",
        "links": {"mandate": "MD00P2", "creditor": "CR00P2"},
        "metadata": {"invoice_number": "INV-7100"},
        "reference": "P2REF",
        "status": "confirmed",
    }


def gc_event(
    ev: str, action: str, pm: str | None = None, resource: str = "payments"
) -> dict[str, Any]:
    links = {"payment": pm} if pm else {"payout": "PO00P2"}
    return {
        "id": ev,
        "created_at": "2026-11-03T09:13:51.404Z",
        "resource_type": resource,
        "action": action,
        "links": links,
        "details": {"origin": "gocardless", "cause": f"payment_{action}", "description": "..."},
        "metadata": {},
        "resource_metadata": {"invoice_number": "INV-7100"},
    }


def gc_raw(events: list[Any]) -> bytes:
    return json.dumps({"events": events, "meta": {"webhook_id": "WB00P2"}}).encode()


def post_gc(rt: Runtime, events: list[Any], client: Any) -> Intake:
    raw = gc_raw(events)
    signature = hmac.new(GC_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return receive(
        rt.store,
        rt.settings,
        "gocardless",
        raw,
        {"Webhook-Signature": signature},
        gocardless_client=client,
    )


def test_gocardless_chargeback_lifecycle_in_one_delivery_and_its_replay(rt: Runtime) -> None:
    """``confirmed`` is the cash; ``paid_out`` and ``chargeback_settled`` are payout
    bookkeeping; ``charged_back`` takes the cash back and ``chargeback_cancelled`` gives it
    back; a ``payouts.paid`` event is no payment. The same delivery again (same event ids) is
    all duplicates."""
    client = Payments({"PM00P2A": gc_payment("PM00P2A", 6000)})
    events = [
        gc_event("EV00P2A1", "confirmed", "PM00P2A"),
        gc_event("EV00P2A2", "paid_out", "PM00P2A"),
        gc_event("EV00P2A3", "charged_back", "PM00P2A"),
        gc_event("EV00P2A4", "chargeback_settled", "PM00P2A"),
        gc_event("EV00P2A5", "chargeback_cancelled", "PM00P2A"),
        gc_event("EV00P2A6", "paid", resource="payouts"),
    ]
    first = post_gc(rt, events, client)
    assert first.failed == [] and amounts(rt) == [-6000, 6000, 6000]
    again = post_gc(rt, events, client)
    assert again.duplicates == len(events) and again.remittances == []
    assert amounts(rt) == [-6000, 6000, 6000]


def test_gocardless_late_failure_takes_back_once(rt: Runtime) -> None:
    """A payment confirmed and then ``failed`` (a late failure) loses its cash once; the later
    ``late_failure_settled`` is the payout side of that same failure; ``resubmission_requested``
    and ``cancelled`` move nothing."""
    client = Payments({"PM00P2B": gc_payment("PM00P2B", 2599, "EUR")})
    post_gc(
        rt,
        [gc_event("EV00P2B1", "confirmed", "PM00P2B"), gc_event("EV00P2B2", "paid_out", "PM00P2B")],
        client,
    )
    post_gc(rt, [gc_event("EV00P2B3", "failed", "PM00P2B")], client)
    post_gc(rt, [gc_event("EV00P2B4", "late_failure_settled", "PM00P2B")], client)
    post_gc(rt, [gc_event("EV00P2B5", "resubmission_requested", "PM00P2B")], client)
    post_gc(rt, [gc_event("EV00P2B6", "cancelled", "PM00P2B")], client)
    assert amounts(rt) == [-2599, 2599]


def test_gocardless_duplicate_event_ids_within_and_across_deliveries(rt: Runtime) -> None:
    """GoCardless may deliver an event again, in the same or a later request: the event id
    makes it one."""
    client = Payments({"PM00P2C": gc_payment("PM00P2C", 1234)})
    same = gc_event("EV00P2C1", "confirmed", "PM00P2C")
    first = post_gc(rt, [same, dict(same)], client)
    later = post_gc(rt, [dict(same), gc_event("EV00P2C2", "paid_out", "PM00P2C")], client)
    assert first.duplicates == 1 and later.duplicates == 1
    assert amounts(rt) == [1234]


def test_gocardless_payment_read_failing_for_a_while_loses_nothing(rt: Runtime) -> None:
    """Events carry no amount: the payment is read with GET /payments/{id}. When that read fails
    for a passing reason (5xx), the delivery is not taken in (nothing stored, answered 5xx) so
    GoCardless sends it again; the access token never appears in the error. Sent again with the
    API back, every event is counted once."""
    events = [
        gc_event("EV00P2D1", "confirmed", "PM00P2D"),
        gc_event("EV00P2E1", "confirmed", "PM00P2E"),
    ]
    with responses.RequestsMock() as mock:
        mock.get(f"{GC_BASE}/payments/PM00P2D", json={"payments": gc_payment("PM00P2D", 700)})
        mock.get(f"{GC_BASE}/mandates/MD00P2", status=404, json={"error": {"message": "gone"}})
        for _ in range(2):
            mock.get(f"{GC_BASE}/payments/PM00P2E", status=503, json={"error": {"message": "down"}})
        with pytest.raises(ApiError) as failed:
            post_gc(rt, events, None)
    assert GC_TOKEN not in str(failed.value)
    assert stored(rt) == ([], {})
    with responses.RequestsMock() as mock:
        mock.get(f"{GC_BASE}/payments/PM00P2D", json={"payments": gc_payment("PM00P2D", 700)})
        mock.get(f"{GC_BASE}/mandates/MD00P2", status=404, json={"error": {"message": "gone"}})
        mock.get(f"{GC_BASE}/payments/PM00P2E", json={"payments": gc_payment("PM00P2E", 800)})
        intake = post_gc(rt, events, None)
    assert len(intake.remittances) == 2 and amounts(rt) == [700, 800]


def test_gocardless_a_payment_that_cannot_be_found_fails_only_its_event(rt: Runtime) -> None:
    """A payment the API says does not exist fails its own event (kept as failed, naming it);
    the other events of the delivery are taken in."""
    client = Payments(
        {"PM00P2F": gc_payment("PM00P2F", 900)},
        errors={"PM00P2G": NotFoundError("gocardless", "payment PM00P2G not found")},
    )
    events = [
        gc_event("EV00P2G1", "confirmed", "PM00P2G"),
        gc_event("EV00P2F1", "confirmed", "PM00P2F"),
    ]
    intake = post_gc(rt, events, client)
    assert len(intake.failed) == 1 and "EV00P2G1" in intake.failed[0]
    assert amounts(rt) == [900]
    assert stored(rt)[1]["EV00P2G1"].status == "failed"
