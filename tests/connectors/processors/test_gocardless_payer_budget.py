"""GoCardless payers are read inside the webhook request, which GoCardless gives up on (and
delivers again) unless it is answered 2xx within 10 seconds. A delivery's payer reads share a
budget: past it a payer is left out of its cash (kept, 2xx), as on a transient failure: a 503
for a payer would hold the whole delivery's cash back, lost once GoCardless stops retrying.

Responses are shaped as GoCardless documents them; the fake server honours the client's
timeout as a real one would (a slow answer past it is a read timeout).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from pydantic import SecretStr
from sqlmodel import col, select

from canonical.models import Remittance, WebhookEvent
from connectors.http import RetryPolicy
from connectors.processors.gocardless_events import (
    GoCardlessClient,
    GoCardlessConfig,
    PayerNotReadNow,
)
from sync.runtime import Runtime
from sync.webhooks import GOCARDLESS_PAYER_BUDGET, Intake, receive
from tests.support.webhook_runtime import webhook_runtime

BASE = "https://api.gocardless.test"
SECRET = "gc_budget_secret_7d2e"
TOKEN = "gc_budget_token_91ab"

Callback = Callable[[requests.PreparedRequest], tuple[int, dict[str, str], str]]


@pytest.fixture(params=["sqlite"])
def rt(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Runtime]:
    yield from webhook_runtime(
        request,
        tmp_path,
        {
            "gocardless_secret": SECRET,
            "gocardless_access_token": TOKEN,
            "gocardless_base_url": BASE,
        },
    )


def event(n: int) -> dict[str, Any]:
    return {
        "id": f"EV{n:04d}",
        "created_at": f"2026-11-03T09:00:0{n}.000Z",
        "resource_type": "payments",
        "action": "confirmed",
        "links": {"payment": f"PM{n:04d}"},
        "details": {"origin": "gocardless", "cause": "payment_confirmed"},
        "metadata": {},
    }


def answering(body: Any, delay: float = 0.0, status: int = 200) -> Callback:
    """A server answering after ``delay`` seconds; past the client's timeout, a read timeout."""

    def callback(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        timeout = getattr(request, "req_kwargs", {}).get("timeout")
        if timeout is not None and delay > timeout:
            time.sleep(timeout)
            raise requests.exceptions.ReadTimeout("read timed out")
        time.sleep(delay)
        return status, {"Content-Type": "application/json"}, json.dumps(body)

    return callback


def hanging(_body: Any = None) -> Callback:
    """A server that never answers: the client's timeout ends the read."""
    return answering({}, delay=3600.0)


def failing_fast(exc: Exception) -> Callback:
    def callback(_request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        raise exc

    return callback


def serve(
    n_events: int,
    delay: float = 0.0,
    mandate: Callable[[Any], Callback] | None = None,
) -> None:
    """GoCardless for ``n_events`` payments, each of its own mandate and customer."""
    for n in range(n_events):
        payment = {
            "id": f"PM{n:04d}",
            "amount": 1000 + n,
            "currency": "GBP",
            "charge_date": "2026-11-03",
            "reference": "DDREF",
            "metadata": {},
            "status": "confirmed",
            "links": {"mandate": f"MD{n:04d}", "creditor": "CR0001"},
        }
        mandate_body = {
            "mandates": {
                "id": f"MD{n:04d}",
                "links": {"customer": f"CU{n:04d}", "customer_bank_account": f"BA{n:04d}"},
            }
        }
        customer = {
            "customers": {
                "id": f"CU{n:04d}",
                "company_name": f"Customer {n} Ltd",
                "email": f"ap{n}@example.com",
            }
        }
        add = responses.add_callback
        add(responses.GET, f"{BASE}/payments/PM{n:04d}", answering({"payments": payment}, delay))
        mandate_answer = (mandate or (lambda b: answering(b, delay)))(mandate_body)
        add(responses.GET, f"{BASE}/mandates/MD{n:04d}", mandate_answer)
        add(responses.GET, f"{BASE}/customers/CU{n:04d}", answering(customer, delay))


def deliver(rt: Runtime, events: list[dict[str, Any]], client: Any = None) -> Intake:
    raw = json.dumps({"events": events, "meta": {"webhook_id": "WB0001"}}).encode()
    signature = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    headers = {"Webhook-Signature": signature}
    return receive(rt.store, rt.settings, "gocardless", raw, headers, gocardless_client=client)


def stored(rt: Runtime) -> tuple[list[Remittance], list[WebhookEvent]]:
    with rt.store.session() as s:
        remittances = list(s.exec(select(Remittance).order_by(col(Remittance.amount_minor))).all())
        events = list(s.exec(select(WebhookEvent)).all())
    return remittances, events


def budgeted(budget: float) -> GoCardlessClient:
    config = GoCardlessConfig(access_token=SecretStr(TOKEN), base_url=BASE)
    policy = RetryPolicy(max_attempts=2, base_delay=0.0, timeout=5.0, sleep=lambda _: None)
    return GoCardlessClient(config, policy=policy, payer_budget=budget)


def reads_of(kind: str) -> list[str]:
    return [c.request.url or "" for c in responses.calls if f"/{kind}/" in (c.request.url or "")]


@responses.activate
def test_four_mandates_read_slowly_are_answered_within_gocardless_s_10_seconds(
    rt: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    """GoCardless answering each GET in 0.9 s: 4 payments of 4 mandates were 12 sequential
    GETs, 10.8 s, past the 10 s GoCardless waits. Payers not read within the budget are left
    out (a warning names each payment); all the cash is stored and the delivery answered."""
    serve(4, delay=0.9)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        intake = deliver(rt, [event(n) for n in range(4)])
    took = time.monotonic() - started
    assert took < 10.0, f"answered after {took:.1f} s ({len(responses.calls)} GETs)"
    remittances, events = stored(rt)
    assert [r.amount_minor for r in remittances] == [1000, 1001, 1002, 1003]
    assert len(intake.remittances) == 4 and {e.status for e in events} == {"processed"}
    assert remittances[0].payer_name == "Customer 0 Ltd"
    unnamed = [r for r in remittances if r.payer_name is None]
    assert unnamed, "the budget left every payer in: the test no longer measures it"
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    for remittance in unnamed:
        payment = (remittance.source_key or "").removeprefix("gocardless:")
        assert any(payment in m and "without a payer" in m for m in warned), payment
    assert TOKEN not in caplog.text


@responses.activate
def test_an_unresponsive_mandate_endpoint_costs_at_most_the_budget(rt: Runtime) -> None:
    """Every mandate read hangs: it was 2 attempts of 5 s each, per mandate (~11 s for one
    payment). The first read ends with the budget, none starts after it; all cash is stored."""
    serve(4, mandate=hanging)
    started = time.monotonic()
    intake = deliver(rt, [event(n) for n in range(4)])
    took = time.monotonic() - started
    assert took < GOCARDLESS_PAYER_BUDGET + 1.0, f"answered after {took:.1f} s"
    remittances, _ = stored(rt)
    assert len(intake.remittances) == 4 and len(remittances) == 4
    assert {r.payer_name for r in remittances} == {None}
    assert len(reads_of("mandates")) == 1


@responses.activate
@pytest.mark.parametrize(
    "mandate",
    [
        lambda _b: failing_fast(requests.exceptions.ReadTimeout("read timed out")),
        lambda _b: failing_fast(requests.exceptions.ConnectionError("reset")),
        lambda _b: answering({"error": {"message": "internal"}}, status=500),
        lambda _b: answering({"error": {"message": "slow down"}}, status=429),
    ],
    ids=["read-timeout", "connection-reset", "http-500", "http-429"],
)
def test_a_transient_payer_failure_keeps_the_cash_without_its_payer(
    rt: Runtime, mandate: Callable[[Any], Callback], caplog: pytest.LogCaptureFixture
) -> None:
    """A mandate endpoint failing (for days, as like as not) never holds the cash back: the
    payment is stored without its payer, with a warning naming it, and the delivery is
    answered 2xx (a 503 had GoCardless send it again until it gave up: cash never stored)."""
    serve(1, mandate=mandate)
    with caplog.at_level(logging.WARNING):
        intake = deliver(rt, [event(0)])
    [remittance], [stored_event] = stored(rt)
    assert intake.remittances == [remittance.id] and stored_event.status == "processed"
    assert remittance.payer_name is None and remittance.amount_minor == 1000
    warned = [r.getMessage() for r in caplog.records if "PM0000" in r.getMessage()]
    assert warned and "MD0000" in warned[0] and TOKEN not in caplog.text


@responses.activate
def test_a_transient_payer_failure_once_the_budget_is_spent_keeps_the_cash(
    rt: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    """A 500 arriving just as the budget ran out: answering 503 would have the delivery sent
    again, as slow, over and over; the cash is stored without its payer, with a warning."""

    def late_500(_request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        time.sleep(0.4)  # the answer races the client's timeout and arrives
        return 500, {"Content-Type": "application/json"}, '{"error": {"message": "x"}}'

    serve(1, mandate=lambda _b: late_500)
    with caplog.at_level(logging.WARNING):
        intake = deliver(rt, [event(0)], budgeted(0.3))
    [remittance], [stored_event] = stored(rt)
    assert intake.remittances == [remittance.id] and stored_event.status == "processed"
    assert remittance.payer_name is None and remittance.amount_minor == 1000
    assert any("PM0000" in r.getMessage() and "spent" in r.getMessage() for r in caplog.records)


@responses.activate
def test_no_payer_read_starts_once_the_budget_is_spent(
    rt: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    serve(2)
    with caplog.at_level(logging.WARNING):
        intake = deliver(rt, [event(0), event(1)], budgeted(0.0))
    remittances, _ = stored(rt)
    assert len(intake.remittances) == 2 and {r.payer_name for r in remittances} == {None}
    assert reads_of("mandates") == [] and len(reads_of("payments")) == 2
    warned = caplog.text
    assert "PM0000" in warned and "PM0001" in warned


@responses.activate
def test_a_payer_read_failing_transiently_is_read_again_by_the_same_client() -> None:
    """A transient failure is not remembered as the mandate's answer: the delivery's second
    run (after a concurrent delivery stored the same rows) reads it again."""
    client = budgeted(5.0)
    responses.add(responses.GET, f"{BASE}/mandates/MD0001", status=503, json={})
    with pytest.raises(PayerNotReadNow):
        client.payer("MD0001")
    responses.reset()
    responses.add(
        responses.GET,
        f"{BASE}/mandates/MD0001",
        json={"mandates": {"id": "MD0001", "links": {"customer": "CU0001"}}},
    )
    responses.add(
        responses.GET,
        f"{BASE}/customers/CU0001",
        json={"customers": {"id": "CU0001", "given_name": "Ada", "family_name": "Byron"}},
    )
    assert client.payer("MD0001").name == "Ada Byron"
