"""Invoiced webhooks exactly as Invoiced documents them, through arsync's intake.

Sources (shapes and headers; every value here is our own):
* docs.invoiced.com/dev/webhooks (github.com/Invoiced/docs): the body is the Event object as
  JSON; ``X-Invoiced-Signature`` carries an HMAC-SHA256 of the request body keyed with the
  webhook secret; failed deliveries are retried hourly up to 48 times, then the endpoint is
  disabled; "the same event could be sent more than once": de-duplicate by event id.
* Invoiced's own sender (App\\Webhooks\\Pusher::signRequest, ``hash_hmac('sha256', $payload,
  $secret)``): the signature is the lowercase hex digest; its headers are ``User-Agent:
  Invoiced/1.0``, ``Content-Type: application/json`` and ``X-Invoiced-Signature``.
* developer.invoiced.com/api/events (github.com/Invoiced/api): Event ``{"id" (integer),
  "type" ("invoice.paid", "payment.deleted", ...), "timestamp" (unix seconds), "data":
  {"object", "previous"}, "user"}``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import select

from canonical.models import WebhookEvent
from sync.runtime import Runtime
from sync.settings import load_settings
from sync.webhooks import Intake, Rejected, receive

SECRET = "arsync-invoiced-hook-5e9b"


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    settings = load_settings(
        None,
        database_url=f"sqlite:///{tmp_path / 'invoiced-hooks.db'}",
        webhooks={"invoiced_secret": SECRET},
    )
    rt = Runtime.open(settings)
    yield rt
    rt.close()


def signature(raw: bytes, secret: str = SECRET) -> str:
    """``hash_hmac('sha256', $payload, $secret)``: lowercase hex."""
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def headers(raw: bytes, sig: str | None = None) -> dict[str, str]:
    """The headers Invoiced's sender sets."""
    return {
        "User-Agent": "Invoiced/1.0",
        "Content-Type": "application/json",
        "X-Invoiced-Signature": signature(raw) if sig is None else sig,
    }


def deliver(rt: Runtime, raw: bytes, sig: str | None = None) -> Intake:
    return receive(rt.store, rt.settings, "invoiced", raw, headers(raw, sig))


def stored(rt: Runtime) -> list[WebhookEvent]:
    """Stored events in the order they were stored (SQLite's rowid)."""
    with rt.store.session() as session:
        return list(session.exec(select(WebhookEvent).order_by(text("webhook_event.rowid"))))


def event(event_id: int, kind: str, obj: dict[str, Any], **previous: Any) -> bytes:
    body = {
        "id": event_id,
        "type": kind,
        "timestamp": 1772438400,
        "data": {"object": obj, "previous": previous},
        "user": {"id": -2, "email": None, "first_name": "Invoiced", "last_name": None},
    }
    return json.dumps(body, indent=4).encode()


INVOICE = {
    "id": 88120,
    "object": "invoice",
    "customer": 90417,
    "number": "INV-3310",
    "currency": "usd",
    "total": 1240.50,
    "balance": 0,
    "paid": True,
    "status": "paid",
    "updated_at": 1772438399,
}


def test_a_documented_event_of_an_object_arsync_pulls_marks_invoiced_due(
    runtime: Runtime,
) -> None:
    raw = event(7700101, "invoice.paid", INVOICE, balance=1240.50, paid=False, status="sent")
    intake = deliver(runtime, raw)
    assert (intake.events, intake.failed, intake.ignored) == (1, [], [])
    assert intake.sync_due == "invoiced"
    [row] = stored(runtime)
    assert (row.event_id, row.event_type, row.status) == ("7700101", "invoice.paid", "processed")
    assert row.payload["data"]["object"]["number"] == "INV-3310"
    assert row.payload["data"]["previous"]["balance"] == "1240.5"  # read as Decimal, not float


@pytest.mark.parametrize(
    "kind",
    [
        "customer.updated",
        "invoice.updated",
        "credit_note.created",
        "payment.created",
        "payment.deleted",
    ],
)
def test_each_pulled_object_type_marks_invoiced_due(runtime: Runtime, kind: str) -> None:
    intake = deliver(runtime, event(7700200, kind, {"id": 501, "object": kind.split(".")[0]}))
    assert intake.sync_due == "invoiced" and intake.ignored == []


def test_a_replayed_event_is_a_duplicate_and_triggers_nothing(runtime: Runtime) -> None:
    raw = event(7700102, "payment.created", {"id": 4410, "object": "payment", "amount": 75})
    assert deliver(runtime, raw).sync_due == "invoiced"
    again = deliver(runtime, raw)
    assert (again.events, again.duplicates, again.sync_due) == (0, 1, None)
    # a retry re-encoded by the sender is still the same event id
    compact = json.dumps(json.loads(raw), separators=(",", ":")).encode()
    assert deliver(runtime, compact).duplicates == 1
    assert len(stored(runtime)) == 1


@pytest.mark.parametrize("kind", ["subscription.created", "estimate.created"])
def test_events_of_objects_arsync_does_not_pull_are_kept_with_a_note(
    runtime: Runtime, kind: str
) -> None:
    intake = deliver(runtime, event(7700103, kind, {"id": 12, "object": kind.split(".")[0]}))
    noun = kind.split(".")[0]
    assert intake.sync_due is None
    assert intake.ignored == [f"invoiced event 7700103: {noun} events are not synced"]
    [row] = stored(runtime)
    assert (row.status, row.note) == ("ignored", f"{noun} events are not synced")


def test_the_signature_covers_the_raw_bytes_and_nothing_is_stored_without_it(
    runtime: Runtime,
) -> None:
    raw = event(7700104, "invoice.paid", INVOICE)
    good = signature(raw)
    reserialised = json.dumps(json.loads(raw)).encode()
    assert reserialised != raw
    for body, sig in (
        (reserialised, good),
        (raw, signature(raw, "another-secret")),
        (raw, "sha256=" + good),  # Invoiced sends the bare digest
        (raw, good[:-1]),
        (raw, ""),
    ):
        with pytest.raises(Rejected) as refused:
            deliver(runtime, body, sig)
        assert (refused.value.status, refused.value.reason) == (
            401,
            "invoiced: X-Invoiced-Signature does not match",
        )
    assert stored(runtime) == []
    assert deliver(runtime, raw, good.upper()).events == 1  # hex compared case-blind


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"type": "invoice.paid", "data": {"object": INVOICE}}, "invoiced webhook: id is missing"),
        ({"id": 7700105, "data": {"object": INVOICE}}, "invoiced webhook: type is missing"),
        (
            {"id": 7700106, "type": "invoice.paid", "data": []},
            "invoiced webhook: data is not an object",
        ),
        (
            {"id": 7700107, "type": "invoice.paid", "data": {"object": "INV-3310"}},
            "invoiced webhook: data.object is not an object",
        ),
        ([{"id": 7700108, "type": "invoice.paid"}], "invoiced webhook: body is not a JSON object"),
    ],
)
def test_a_verified_malformed_event_is_kept_as_failed_naming_the_field(
    runtime: Runtime, body: Any, error: str
) -> None:
    # answered 2xx: Invoiced disables an endpoint after 48 failed retries
    raw = json.dumps(body).encode()
    intake = deliver(runtime, raw)
    assert intake.failed == [error] and intake.sync_due == "invoiced"
    [row] = stored(runtime)
    assert (row.status, row.error) == ("failed", error)
    assert row.event_id == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert deliver(runtime, raw).duplicates == 1


def test_no_secret_configured_refuses_before_anything(tmp_path: Path) -> None:
    settings = load_settings(None, database_url=f"sqlite:///{tmp_path / 'none.db'}")
    rt = Runtime.open(settings)
    try:
        raw = event(7700109, "invoice.paid", INVOICE)
        with pytest.raises(Rejected) as refused:
            deliver(rt, raw)
        assert refused.value.status == 503
        assert stored(rt) == []
    finally:
        rt.close()
