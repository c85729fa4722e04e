"""Third probe of processor webhooks, through the webhook intake (``sync.webhooks.receive``),
each payload signed over its raw body as the vendor does.

Facts from the vendors' public documentation: docs.stripe.com (API upgrades 2025-03-31.basil
and later, InvoicePayment, Connect webhooks: a live Connect endpoint is sent its connected
accounts' test-mode events too, ``livemode`` tells them apart), developer.gocardless.com
(webhooks: one delivery may batch several events; payment actions). Our own values.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from canonical.money import Money
from sync.runtime import Runtime
from tests.connectors.processors.test_processors_probe2 import (
    Payments,
    amounts,
    gc_event,
    gc_payment,
    intent,
    post_gc,
    post_stripe,
    rt,
    rt_any,
    stored,
    stripe_event,
)

__all__ = ["rt", "rt_any"]  # fixtures

CLOVER = "2025-09-30.clover"


def money_of(rt: Runtime) -> list[tuple[Decimal, str]]:
    """Each remittance's amount as Decimal, with its currency (sorted)."""
    return sorted(
        (Money.from_minor(r.amount_minor, r.currency).amount, r.currency) for r in stored(rt)[0]
    )


# -- Stripe ---------------------------------------------------------------------------------


def invoice_obj(inv: str, amount: int, currency: str, number: str) -> dict[str, Any]:
    """An Invoice as 2025-03-31.basil and later send it: no ``charge``, no ``payment_intent``
    (its payments are InvoicePayments)."""
    return {
        "id": inv,
        "object": "invoice",
        "amount_due": amount,
        "amount_paid": amount,
        "amount_remaining": 0,
        "currency": currency,
        "customer": "cus_Probe3",
        "customer_name": "Probe Three GmbH",
        "metadata": {},
        "number": number,
        "paid_out_of_band": False,
        "status": "paid",
    }


def invoice_payment_obj(inv: str, pi: str, amount: int, currency: str) -> dict[str, Any]:
    return {
        "id": "inpay_" + inv[3:],
        "object": "invoice_payment",
        "amount_paid": amount,
        "amount_requested": amount,
        "currency": currency,
        "invoice": inv,
        "is_default": True,
        "livemode": False,
        "payment": {"type": "payment_intent", "payment_intent": pi},
        "status": "paid",
        "status_transitions": {"canceled_at": None, "paid_at": 1_767_225_600},
    }


@pytest.mark.parametrize(
    ("currency", "minor", "amount", "code"),
    [
        ("usd", 125050, Decimal("1250.50"), "USD"),
        ("jpy", 125050, Decimal("125050"), "JPY"),  # zero-decimal
        ("kwd", 125050, Decimal("125.050"), "KWD"),  # three-decimal
        ("bhd", 7005, Decimal("7.005"), "BHD"),
    ],
)
def test_stripe_clover_invoice_paid_first_then_its_payment_is_one_cash(
    rt: Runtime, currency: str, minor: int, amount: Decimal, code: str
) -> None:
    """On a newer API version (clover) ``invoice.paid`` names no payment and arrives first;
    ``invoice_payment.paid`` links invoice and PaymentIntent; ``payment_intent.succeeded``
    (``latest_charge``, no ``charges``) is the cash. One remittance, the exact amount, with
    the invoice's number and id as structured references."""
    inv, pi = f"in_P3{currency}", f"pi_P3{currency}"
    number = f"ACME-{currency.upper()}-0042"
    first = post_stripe(
        rt,
        stripe_event(
            "invoice.paid", invoice_obj(inv, minor, currency, number), f"evt_{inv}a", CLOVER
        ),
    )
    assert first.remittances == [] and first.failed == []
    post_stripe(
        rt,
        stripe_event(
            "invoice_payment.paid",
            invoice_payment_obj(inv, pi, minor, currency),
            f"evt_{inv}b",
            CLOVER,
        ),
    )
    paid = intent(pi, minor, currency, metadata={})
    post_stripe(rt, stripe_event("payment_intent.succeeded", paid, f"evt_{inv}c", CLOVER))
    [made], events = stored(rt)
    assert money_of(rt) == [(amount, code)]
    assert made.source_key == f"stripe:{pi}"
    assert {r["ref"] for r in made.structured_refs} >= {inv, number}
    assert events[f"evt_{inv}a"].status == "processed"  # taken in again once linked


def test_stripe_event_of_an_api_version_not_seen_before_is_still_read(rt: Runtime) -> None:
    """The payload shape follows the endpoint's API version; a version newer than any this
    code knows, with the fields it reads, is cash as usual (not failed, not dropped)."""
    event = stripe_event(
        "payment_intent.succeeded", intent("pi_P3new", 4200), "evt_P3new", "2099-01-01.future"
    )
    intake = post_stripe(rt, event)
    assert intake.failed == [] and len(intake.remittances) == 1
    assert money_of(rt) == [(Decimal("42.00"), "USD")]


def test_stripe_partial_then_full_refund_leaves_the_cash_and_takes_nothing(rt: Runtime) -> None:
    """``charge.refunded`` (``refunds`` not expanded since 2022-11-15) for a partial refund,
    then for the rest: refunds are reported events, the payment's cash stays as counted."""
    post_stripe(rt, stripe_event("payment_intent.succeeded", intent("pi_P3r", 10000), "evt_P3r1"))
    for n, refunded in ((2, 2500), (3, 10000)):
        charge = {
            "id": "ch_P3r",
            "object": "charge",
            "amount": 10000,
            "amount_captured": 10000,
            "amount_refunded": refunded,
            "captured": True,
            "currency": "usd",
            "payment_intent": "pi_P3r",
            "refunded": refunded == 10000,
        }
        intake = post_stripe(rt, stripe_event("charge.refunded", charge, f"evt_P3r{n}"))
        assert intake.remittances == [] and intake.failed == []
    assert amounts(rt) == [10000]


def connect_event(kind: str, obj: dict[str, Any], event_id: str, live: bool) -> dict[str, Any]:
    """An event of a connected account, as a Connect endpoint receives it (``account``)."""
    return {**stripe_event(kind, obj, event_id), "account": "acct_1P3Connected", "livemode": live}


def test_stripe_connected_account_test_event_at_a_live_endpoint_moves_no_cash(
    rt: Runtime,
) -> None:
    """A live Connect endpoint is sent the connected accounts' test-mode events as well,
    signed with the same secret: ``livemode`` false with an ``account`` is test money, stored
    as ignored with a note, never a remittance (and its replay a duplicate)."""
    test_money = connect_event(
        "payment_intent.succeeded", intent("pi_P3cx", 99900), "evt_P3cx", live=False
    )
    intake = post_stripe(rt, test_money)
    assert intake.remittances == [] and intake.failed == []
    assert post_stripe(rt, test_money).duplicates == 1
    remittances, events = stored(rt)
    assert remittances == []
    assert events["evt_P3cx"].status == "ignored"
    assert "test" in (events["evt_P3cx"].note or "")
    live = connect_event(
        "payment_intent.succeeded", intent("pi_P3cl", 99900), "evt_P3cl", live=True
    )
    assert len(post_stripe(rt, live).remittances) == 1
    assert money_of(rt) == [(Decimal("999.00"), "USD")]


def test_stripe_test_mode_endpoint_reads_connected_test_events_not_live_ones(
    rt: Runtime,
) -> None:
    """A staging platform's test-mode Connect endpoint (``webhooks.stripe_test_mode``) reads
    its connected accounts' test-mode money, and leaves their live events alone."""
    rt.settings.webhooks.stripe_test_mode = True
    test_money = connect_event(
        "payment_intent.succeeded", intent("pi_P3sx", 12300), "evt_P3sx", live=False
    )
    assert len(post_stripe(rt, test_money).remittances) == 1
    live = connect_event(
        "payment_intent.succeeded", intent("pi_P3sl", 45600), "evt_P3sl", live=True
    )
    assert post_stripe(rt, live).remittances == []
    assert "live" in (stored(rt)[1]["evt_P3sl"].note or "")
    assert money_of(rt) == [(Decimal("123.00"), "USD")]


# -- GoCardless -----------------------------------------------------------------------------


def at(event: dict[str, Any], when: str) -> dict[str, Any]:
    return {**event, "created_at": when}


def test_gocardless_chargeback_listed_before_its_confirmation_takes_the_cash_back(
    rt_any: Runtime,
) -> None:
    """A delivery batches events and their order in it is not their order in time:
    ``charged_back`` listed before the ``confirmed`` it follows still takes the cash back."""
    client = Payments({"PM00P3A": gc_payment("PM00P3A", 6000)})
    events = [
        at(gc_event("EV00P3A2", "charged_back", "PM00P3A"), "2026-11-20T10:00:00.000Z"),
        at(gc_event("EV00P3A1", "confirmed", "PM00P3A"), "2026-11-03T09:00:00.000Z"),
    ]
    intake = post_gc(rt_any, events, client)
    assert intake.failed == []
    assert money_of(rt_any) == [(Decimal("-60.00"), "GBP"), (Decimal("60.00"), "GBP")]


def test_gocardless_chargeback_lifecycle_in_reverse_order_in_one_delivery(
    rt_any: Runtime,
) -> None:
    """``chargeback_cancelled``, ``charged_back``, ``confirmed`` listed newest first: the cash,
    taken back once, given back once, exactly as in time order."""
    client = Payments({"PM00P3B": gc_payment("PM00P3B", 2599, "EUR")})
    events = [
        at(gc_event("EV00P3B3", "chargeback_cancelled", "PM00P3B"), "2026-12-01T08:00:00.000Z"),
        at(gc_event("EV00P3B2", "charged_back", "PM00P3B"), "2026-11-20T08:00:00.000Z"),
        at(gc_event("EV00P3B1", "confirmed", "PM00P3B"), "2026-11-03T08:00:00.000Z"),
    ]
    post_gc(rt_any, events, client)
    assert amounts(rt_any) == [-2599, 2599, 2599]
    assert post_gc(rt_any, events, client).duplicates == 3
    assert amounts(rt_any) == [-2599, 2599, 2599]


def test_gocardless_late_failure_listed_before_its_confirmation(rt_any: Runtime) -> None:
    """``failed`` after ``confirmed`` is a late failure, whatever their order in the list."""
    client = Payments({"PM00P3C": gc_payment("PM00P3C", 1500)})
    events = [
        at(gc_event("EV00P3C2", "failed", "PM00P3C"), "2026-11-06T08:00:00.000Z"),
        at(gc_event("EV00P3C1", "confirmed", "PM00P3C"), "2026-11-03T08:00:00.000Z"),
    ]
    post_gc(rt_any, events, client)
    assert amounts(rt_any) == [-1500, 1500]


def test_gocardless_chargeback_delivered_before_its_confirmation_in_another_delivery(
    rt_any: Runtime,
) -> None:
    """GoCardless does not promise the order of deliveries either: a ``charged_back`` taken in
    before the ``confirmed`` it follows takes the cash back when the confirmation comes."""
    client = Payments({"PM00P3D": gc_payment("PM00P3D", 4100)})
    first = post_gc(rt_any, [gc_event("EV00P3D2", "charged_back", "PM00P3D")], client)
    assert first.remittances == []
    post_gc(rt_any, [gc_event("EV00P3D1", "confirmed", "PM00P3D")], client)
    assert amounts(rt_any) == [-4100, 4100]


def test_gocardless_chargeback_cancelled_delivered_before_its_chargeback(rt_any: Runtime) -> None:
    """The known gap: ``chargeback_cancelled`` taken in before its ``charged_back`` gives the
    cash back once the chargeback comes, so the payment's cash stands, as in time order."""
    client = Payments({"PM00P3E": gc_payment("PM00P3E", 3300)})
    post_gc(rt_any, [gc_event("EV00P3E1", "confirmed", "PM00P3E")], client)
    early = post_gc(rt_any, [gc_event("EV00P3E3", "chargeback_cancelled", "PM00P3E")], client)
    assert early.remittances == []
    post_gc(rt_any, [gc_event("EV00P3E2", "charged_back", "PM00P3E")], client)
    assert amounts(rt_any) == [-3300, 3300, 3300]
    assert sum(amounts(rt_any)) == 3300


def test_gocardless_mandate_and_payout_events_are_stored_and_never_read(rt: Runtime) -> None:
    """Mandate and payout events name no payment's cash: stored as ignored, the payments API is
    never asked, no remittance."""
    client = Payments({})
    mandate = {**gc_event("EV00P3M1", "active"), "resource_type": "mandates"}
    mandate["links"] = {"mandate": "MD00P3"}
    cancelled = {**mandate, "id": "EV00P3M2", "action": "cancelled"}
    payout = gc_event("EV00P3M3", "paid", resource="payouts")
    intake = post_gc(rt, [mandate, cancelled, payout], client)
    assert (intake.events, intake.remittances, intake.failed) == (3, [], [])
    assert client.reads == []
    assert {e.status for e in stored(rt)[1].values()} == {"ignored"}
