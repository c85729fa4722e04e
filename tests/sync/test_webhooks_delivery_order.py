"""A payment, the event taking its cash back and the event giving it back, delivered in every
order and split over one, two or three deliveries (each processor delivers at least once and
in any order): the same remittances as in time order, replays are duplicates, and nothing is
taken back or given back twice, also when deliveries race. On SQLite and on PostgreSQL
(skipped with the reason when unreachable).

GoCardless: ``confirmed``, ``charged_back``, ``chargeback_cancelled`` (developer.gocardless.com,
payment actions). Adyen: ``AUTHORISATION`` (automatic capture), ``CHARGEBACK``,
``CHARGEBACK_REVERSED`` and ``SECOND_CHARGEBACK`` (docs.adyen.com, dispute webhooks: a
dispute's events share its ``pspReference``, ``originalReference`` names the payment). Stripe:
``payment_intent.succeeded``, ``charge.dispute.created``, ``charge.dispute.funds_reinstated``.
Our own values.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import Session

from canonical.models import Remittance, WebhookEvent
from connectors.processors.adyen import signing_payload
from sync import webhooks
from sync.runtime import Runtime
from sync.settings import Settings
from sync.webhooks import Intake, receive
from tests.support.webhook_runtime import webhook_runtime

STRIPE_SECRET = "whsec_delivery_order"
ADYEN_KEY = "0A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F9"
GC_SECRET = "gc_delivery_order_secret"
AMOUNT = 2599  # 25.99 EUR

PAY, TAKE, GIVE, TAKE2 = "pay", "take", "give", "take2"


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
            "gocardless_access_token": "gc_delivery_order_token",
        },
    )


# -- the events, as each processor sends them ---------------------------------------------------


class Payments:
    """GET /payments/{id}, as GoCardless answers it (events carry no amount)."""

    def payment(self, payment_id: str) -> dict[str, Any]:
        return {
            "id": payment_id,
            "amount": AMOUNT,
            "currency": "EUR",
            "charge_date": "2026-11-03",
            "description": "Subscription November",
            "metadata": {"invoice_number": "INV-8801"},
            "reference": "DOREF",
            "status": "confirmed",
        }


GC_ACTIONS = {PAY: "confirmed", TAKE: "charged_back", GIVE: "chargeback_cancelled"}
GC_TIMES = {PAY: "2026-11-03T09:00:00.000Z", TAKE: "2026-11-20T09:00:00.000Z"}
GC_TIMES[GIVE] = "2026-12-01T09:00:00.000Z"


def gc_event(name: str, pm: str = "PM00DO1") -> dict[str, Any]:
    return {
        "id": f"EV00DO{name.upper()}",
        "created_at": GC_TIMES[name],
        "resource_type": "payments",
        "action": GC_ACTIONS[name],
        "links": {"payment": pm},
        "details": {"origin": "bank", "cause": f"payment_{GC_ACTIONS[name]}"},
        "metadata": {},
    }


ADYEN_AUTH = "DOAUTH0000000001"
ADYEN_DISPUTE = "DODISP0000000001"
ADYEN_CODES = {
    PAY: "AUTHORISATION",
    TAKE: "CHARGEBACK",
    GIVE: "CHARGEBACK_REVERSED",
    TAKE2: "SECOND_CHARGEBACK",
}
ADYEN_DATES = {PAY: "2026-11-02", TAKE: "2026-11-20", GIVE: "2026-12-04", TAKE2: "2026-12-20"}


def adyen_item(name: str, auth: str = ADYEN_AUTH) -> dict[str, Any]:
    item: dict[str, Any] = {
        "additionalData": {},
        "amount": {"currency": "EUR", "value": AMOUNT},
        "eventCode": ADYEN_CODES[name],
        "eventDate": f"{ADYEN_DATES[name]}T10:00:00+01:00",
        "merchantAccountCode": "ArsyncOrderShop",
        "merchantReference": "INV-8801",
        "originalReference": "" if name == PAY else auth,
        "pspReference": auth if name == PAY else ADYEN_DISPUTE,
        "reason": "" if name == PAY else "Fraud",
        "success": "true",
    }
    digest = hmac.new(bytes.fromhex(ADYEN_KEY), signing_payload(item).encode(), hashlib.sha256)
    item["additionalData"]["hmacSignature"] = base64.b64encode(digest.digest()).decode()
    return item


def stripe_event(name: str) -> dict[str, Any]:
    dispute = {
        "id": "dp_DO1",
        "object": "dispute",
        "amount": AMOUNT,
        "charge": "ch_DO1",
        "currency": "eur",
        "payment_intent": "pi_DO1",
        "reason": "fraudulent",
    }
    withdrawn = {"id": "txn_DO1a", "object": "balance_transaction", "amount": -AMOUNT}
    objects = {
        PAY: (
            "payment_intent.succeeded",
            {
                "id": "pi_DO1",
                "object": "payment_intent",
                "amount": AMOUNT,
                "amount_received": AMOUNT,
                "currency": "eur",
                "latest_charge": "ch_DO1",
                "metadata": {"invoice_number": "INV-8801"},
                "status": "succeeded",
            },
        ),
        TAKE: (
            "charge.dispute.created",
            {**dispute, "status": "needs_response", "balance_transactions": [withdrawn]},
        ),
        TAKE2: (  # the same withdrawal as ``created`` announces, told again
            "charge.dispute.funds_withdrawn",
            {**dispute, "status": "needs_response", "balance_transactions": [withdrawn]},
        ),
        GIVE: (
            "charge.dispute.funds_reinstated",
            {
                **dispute,
                "status": "won",
                "balance_transactions": [
                    withdrawn,
                    {"id": "txn_DO1b", "object": "balance_transaction", "amount": AMOUNT},
                ],
            },
        ),
    }
    kind, obj = objects[name]
    created = {PAY: 1_767_225_600, TAKE: 1_768_000_000, TAKE2: 1_768_000_001}
    created[GIVE] = 1_769_000_000
    return {
        "id": f"evt_DO{name}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": created[name],
        "data": {"object": obj},
        "livemode": False,
        "type": kind,
    }


def deliver(rt: Runtime, source: str, names: Sequence[str]) -> Intake:
    """One delivery of the named events, signed as the processor signs it."""
    if source == "gocardless":
        raw = json.dumps({"events": [gc_event(n) for n in names]}).encode()
        signature = hmac.new(GC_SECRET.encode(), raw, hashlib.sha256).hexdigest()
        headers = {"Webhook-Signature": signature}
        client: Any = Payments()  # answers like GoCardlessClient.payment
        return receive(rt.store, rt.settings, source, raw, headers, gocardless_client=client)
    if source == "adyen":
        items = [{"NotificationRequestItem": adyen_item(n)} for n in names]
        raw = json.dumps({"live": "false", "notificationItems": items}).encode()
        return receive(rt.store, rt.settings, source, raw, {})
    [name] = names  # Stripe sends one event per delivery
    raw = json.dumps(stripe_event(name)).encode()
    t = str(int(time.time()))
    sig = hmac.new(STRIPE_SECRET.encode(), f"{t}.".encode() + raw, hashlib.sha256).hexdigest()
    return receive(rt.store, rt.settings, source, raw, {"Stripe-Signature": f"t={t},v1={sig}"})


def stored(rt: Runtime) -> tuple[list[Remittance], list[WebhookEvent]]:
    with rt.store.session() as s:
        return (
            list(s.execute(select(Remittance)).scalars()),
            list(s.execute(select(WebhookEvent)).scalars()),
        )


def amounts(rt: Runtime) -> list[int]:
    return sorted(m.amount_minor for m in stored(rt)[0])


def splits(names: Sequence[str]) -> Iterator[list[list[str]]]:
    """Every way to cut ``names`` (in this order) into consecutive deliveries."""
    for cuts in itertools.product([False, True], repeat=len(names) - 1):
        groups, group = [], [names[0]]
        for cut, name in zip(cuts, names[1:], strict=True):
            if cut:
                groups.append(group)
                group = []
            group.append(name)
        yield [*groups, group]


def cases(source: str, names: Sequence[str]) -> list[Any]:
    """Every order of ``names``, over every split into deliveries (Stripe: one event each)."""
    found = []
    for order in itertools.permutations(names):
        ways = [[[n] for n in order]] if source == "stripe" else list(splits(order))
        for deliveries in ways:
            label = "+".join(",".join(d) for d in deliveries)
            found.append(pytest.param(source, deliveries, id=f"{source}-{label}"))
    return found


# -- every order of payment, take-back and give-back ---------------------------------------------


CHAIN = [PAY, TAKE, GIVE]
CHAIN_CASES = [c for s in ("gocardless", "adyen", "stripe") for c in cases(s, CHAIN)]


@pytest.mark.parametrize(("source", "deliveries"), CHAIN_CASES)
def test_every_order_of_deliveries_settles_as_in_time_order(
    rt: Runtime, source: str, deliveries: list[list[str]]
) -> None:
    """The cash 25.99, taken back once (-25.99), given back once (+25.99): 25.99 counted, and
    every event processed, whatever order and grouping they came in."""
    for names in deliveries:
        intake = deliver(rt, source, names)
        assert intake.failed == [], intake.failed
    made, events = stored(rt)
    assert sorted(m.amount_minor for m in made) == [-AMOUNT, AMOUNT, AMOUNT]
    assert {m.currency for m in made} == {"EUR"}
    [payment] = [m for m in made if m.reverses is None and not _given_back(m)]
    [back] = [m for m in made if m.amount_minor < 0]
    assert back.reverses == payment.source_key
    assert {e.status for e in events} == {"processed"}, [(e.event_id, e.note) for e in events]
    # a replay of every delivery, in the same order, is all duplicates and changes nothing
    for names in deliveries:
        again = deliver(rt, source, names)
        assert (again.events, again.duplicates, again.remittances) == (0, len(names), [])
    assert amounts(rt) == [-AMOUNT, AMOUNT, AMOUNT]


def _given_back(remittance: Remittance) -> bool:
    return ":reinstatement:" in remittance.source_key


# -- two chargebacks on one payment (Adyen) -------------------------------------------------------


DISPUTE = [PAY, TAKE, GIVE, TAKE2]


@pytest.mark.parametrize(
    ("order", "batched"),
    [
        pytest.param(order, batched, id=f"{'one' if batched else 'each'}-{','.join(order)}")
        for order in itertools.permutations(DISPUTE)
        for batched in (False, True)
    ],
)
def test_adyen_second_chargeback_in_any_order_takes_the_cash_back_again(
    rt: Runtime, order: tuple[str, ...], batched: bool
) -> None:
    """CHARGEBACK, CHARGEBACK_REVERSED (the defence won), SECOND_CHARGEBACK (the issuer came
    back): the cash taken twice, given back once, so nothing stands; in any order, in one
    batch or each alone."""
    for names in [list(order)] if batched else [[n] for n in order]:
        assert deliver(rt, "adyen", names).failed == []
    made, events = stored(rt)
    assert sorted(m.amount_minor for m in made) == [-AMOUNT, -AMOUNT, AMOUNT, AMOUNT]
    assert sum(m.amount_minor for m in made) == 0
    assert {e.status for e in events} == {"processed"}, [(e.event_id, e.note) for e in events]
    assert deliver(rt, "adyen", list(order)).duplicates == 4
    assert sum(amounts(rt)) == 0 and len(amounts(rt)) == 4


@pytest.mark.parametrize("order", list(itertools.permutations(DISPUTE)), ids=",".join)
def test_stripe_dispute_announced_twice_takes_back_once_in_any_order(
    rt: Runtime, order: tuple[str, ...]
) -> None:
    """``charge.dispute.created`` and ``charge.dispute.funds_withdrawn`` announce one
    withdrawal: with ``funds_reinstated`` and the payment in any order, the cash is taken back
    once and given back once (never taken back again after it was given back)."""
    for name in order:
        assert deliver(rt, "stripe", [name]).failed == []
    made, events = stored(rt)
    assert sorted(m.amount_minor for m in made) == [-AMOUNT, AMOUNT, AMOUNT]
    statuses = sorted(e.status for e in events)
    assert statuses == ["ignored", "processed", "processed", "processed"], statuses
    for name in order:
        assert deliver(rt, "stripe", [name]).duplicates == 1
    assert amounts(rt) == [-AMOUNT, AMOUNT, AMOUNT]


# -- a give-back whose take-back never comes -----------------------------------------------------


@pytest.mark.parametrize("source", ["gocardless", "adyen", "stripe"])
@pytest.mark.parametrize("with_payment", [True, False], ids=["paid", "unpaid"])
def test_a_give_back_without_its_take_back_invents_no_cash(
    rt: Runtime, source: str, with_payment: bool
) -> None:
    """A give-back whose take-back never arrives stays stored as ignored, its note saying it
    gave nothing back and why; the payment's cash (if counted) stands alone."""
    if with_payment:
        deliver(rt, source, [PAY])
    intake = deliver(rt, source, [GIVE])
    assert intake.remittances == [] and intake.failed == []
    [line] = intake.ignored
    assert "nothing was taken back" in line
    assert amounts(rt) == ([AMOUNT] if with_payment else [])
    [give] = [e for e in stored(rt)[1] if e.event_type.endswith(_give_type(source))]
    assert give.status == "ignored"
    assert give.note is not None and "nothing was taken back" in give.note
    assert deliver(rt, source, [GIVE]).duplicates == 1
    if not with_payment:  # the payment comes alone: its cash, and nothing given back
        deliver(rt, source, [PAY])
        assert amounts(rt) == [AMOUNT]


def _give_type(source: str) -> str:
    return {
        "gocardless": "chargeback_cancelled",
        "adyen": "CHARGEBACK_REVERSED",
        "stripe": "funds_reinstated",
    }[source]


# -- deliveries racing ----------------------------------------------------------------------------


def race_on_seen(monkeypatch: pytest.MonkeyPatch, parties: int) -> None:
    """Each racing delivery looks for its first event before any has stored one (they all wait
    for each other at their first look), as when they arrive at the same moment."""
    barrier = threading.Barrier(parties, timeout=5)
    seen = webhooks._seen
    looked: set[int] = set()
    lock = threading.Lock()

    def seam(session: Session, settings: Settings, source: str, event_id: str) -> bool:
        found = seen(session, settings, source, event_id)
        with lock:
            first = threading.get_ident() not in looked
            looked.add(threading.get_ident())
        if first:
            # a party that never came this far broke the barrier: no race to force then
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait()
        return found

    monkeypatch.setattr(webhooks, "_seen", seam)


@dataclass(frozen=True)
class Race:
    before: tuple[str, ...]  # delivered one by one first
    racing: tuple[str, ...]  # then each alone, all at once


RACES = [
    Race((), (PAY, TAKE, GIVE)),
    Race((PAY,), (TAKE, GIVE)),
    Race((TAKE,), (PAY, GIVE)),
    Race((GIVE,), (PAY, TAKE)),
    Race((GIVE, TAKE), (PAY, PAY)),  # the same payment delivered twice at once
    Race((PAY,), (TAKE, TAKE, GIVE, GIVE)),  # every event delivered twice at once
]


@pytest.mark.parametrize("source", ["gocardless", "adyen"])
@pytest.mark.parametrize(
    "race", RACES, ids=lambda r: f"{','.join(r.before) or '-'}-then-{'|'.join(r.racing)}"
)
def test_racing_deliveries_take_back_and_give_back_once(
    rt: Runtime, source: str, race: Race, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in race.before:
        deliver(rt, source, [name])
    race_on_seen(monkeypatch, len(race.racing))
    answers: list[Any] = []

    def one(name: str) -> None:
        try:
            answers.append(deliver(rt, source, [name]))
        except BaseException as exc:  # asserted below
            answers.append(exc)

    threads = [threading.Thread(target=one, args=(name,)) for name in race.racing]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == len(race.racing)
    assert not [a for a in answers if isinstance(a, BaseException)], answers
    made, events = stored(rt)
    assert sorted(m.amount_minor for m in made) == [-AMOUNT, AMOUNT, AMOUNT]
    assert {e.status for e in events} == {"processed"}, [(e.event_id, e.note) for e in events]
    assert len(events) == 3


def test_adyen_two_chargebacks_racing_take_back_once_each(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The defence won and the second chargeback come at once, after the first chargeback:
    the cash given back and taken back again, never taken back twice at the same time."""
    deliver(rt, "adyen", [PAY])
    deliver(rt, "adyen", [TAKE])
    race_on_seen(monkeypatch, 2)
    answers: list[Any] = []
    threads = [
        threading.Thread(target=lambda n=name: answers.append(deliver(rt, "adyen", [n])))
        for name in (GIVE, TAKE2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == 2
    assert sorted(amounts(rt)) == [-AMOUNT, -AMOUNT, AMOUNT, AMOUNT]
