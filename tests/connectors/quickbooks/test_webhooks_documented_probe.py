"""Probe: QuickBooks webhook deliveries and CDC answers as Intuit documents and sends them.

Shapes learned from developer.intuit.com (webhooks, webhooks/data-objects, change data
capture), Intuit's 2025-11-12 CloudEvents announcement, the .NET and PHP SDKs' CloudEvents
readers (each event of the array read on its own) and a captured CloudEvents delivery
(``content-type: application/cloudevents-batch+json``, operation spelled ``void``). Every id,
realm and token here is our own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import responses
from sqlalchemy import text
from sqlmodel import select

from canonical.models import WebhookEvent
from connectors.base import MemoryTokenStore
from connectors.http import RetryPolicy
from connectors.quickbooks import QuickBooksConfig, QuickBooksConnector
from connectors.quickbooks import webhooks as qbo_webhooks
from sync.runtime import Runtime
from sync.settings import load_settings
from sync.webhooks import Intake, receive
from tests.connectors.quickbooks.qbo_helpers import COMPANY, TOKEN_URL

VERIFIER = "probe-verifier-5e1d9b"
REALM = "9341455000000101"
OTHER_REALM = "9341455000000102"
TOKEN = {
    "token_type": "bearer",
    "access_token": "AT-1",
    "refresh_token": "RT-2",
    "expires_in": 3600,
    "x_refresh_token_expires_in": 8726400,
}
SOURCE = "intuit.ProbeSourceQ2x9v0hL3mC8Yt5Rb1WnZ4kPe7Js6UdAbCdEf="


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    settings = load_settings(
        None,
        database_url=f"sqlite:///{tmp_path / 'qbo-probe.db'}",
        webhooks={"quickbooks_verifier": VERIFIER},
        quickbooks={"realm_id": REALM, "client_id": "ABcd", "client_secret": "s3cret"},
    )
    rt = Runtime.open(settings)
    yield rt
    rt.close()


def deliver(rt: Runtime, body: Any) -> Intake:
    raw = json.dumps(body, separators=(",", ":")).encode()
    signature = base64.b64encode(hmac.new(VERIFIER.encode(), raw, hashlib.sha256).digest())
    headers = {
        "intuit-signature": signature.decode(),
        "intuit-signature-algorithm": "HMAC-SHA256",
        "content-type": "application/cloudevents-batch+json; charset=utf-8",
        "user-agent": "intuit_notification_server/1.0",
    }
    return receive(rt.store, rt.settings, "quickbooks", raw, headers)


def stored(rt: Runtime) -> list[tuple[str, str, str, str | None]]:
    with rt.store.session() as session:
        rows = session.exec(select(WebhookEvent).order_by(text("webhook_event.rowid")))
        return [(r.event_id, r.event_type, r.status, r.error or r.note) for r in rows]


def cloud_event(kind: str, entity_id: str, event_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": SOURCE,
        "type": kind,
        "datacontenttype": "application/json",
        "time": "2026-05-04T13:14:53.846Z",
        "intuitentityid": entity_id,
        "intuitaccountid": REALM,
        **extra,
    }


def entity(name: str, entity_id: str | None, operation: str) -> dict[str, str]:
    found = {"name": name, "operation": operation, "lastUpdated": "2026-05-04T13:10:00.000Z"}
    return found if entity_id is None else {**found, "id": entity_id}


def test_a_malformed_cloud_event_is_left_out_and_the_rest_of_its_batch_is_kept(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    batch = [
        cloud_event("qbo.invoice.updated.v1", "130", "ce-0001"),
        cloud_event("qbo.payment.created.v1", "", "ce-0002"),  # no entity id
        None,
        cloud_event("qbo.payment.void.v1", "142", "ce-0004"),  # the wire spelling: void
        cloud_event("qbo.estimate.created.v1", "77", "ce-0005"),
    ]
    with caplog.at_level(logging.INFO):
        intake = deliver(runtime, batch)
    problems = (
        "quickbooks webhook: event[1].intuitentityid is missing; "
        "quickbooks webhook: event[2] is not an object"
    )
    assert intake.failed == [problems]
    assert intake.ignored == ["quickbooks event ce-0005: estimate is not an entity arsync syncs"]
    assert (intake.events, intake.duplicates, intake.sync_due) == (4, 0, "quickbooks")
    raw = json.dumps(batch, separators=(",", ":")).encode()
    assert stored(runtime) == [
        ("ce-0001", "Invoice.Update", "processed", None),
        ("ce-0004", "Payment.Void", "processed", None),
        ("ce-0005", "estimate.Create", "ignored", "estimate is not an entity arsync syncs"),
        ("sha256:" + hashlib.sha256(raw).hexdigest(), "notification", "failed", problems),
    ]
    assert all(VERIFIER not in r.getMessage() for r in caplog.records)

    # Intuit sends ce-0001 again in a later batch: its change was kept, so it is a duplicate
    later = deliver(runtime, [cloud_event("qbo.invoice.updated.v1", "130", "ce-0001")])
    assert (later.events, later.duplicates, later.sync_due) == (0, 1, None)
    # the same delivery replayed changes nothing
    again = deliver(runtime, batch)
    assert (again.events, again.duplicates, again.failed, again.sync_due) == (0, 4, [], None)


def test_a_malformed_legacy_item_is_left_out_and_the_other_realms_entities_are_kept(
    runtime: Runtime,
) -> None:
    body = {
        "eventNotifications": [
            {
                "realmId": REALM,
                "dataChangeEvent": {
                    "entities": [
                        entity("Invoice", "130", "Update"),
                        entity("Payment", None, "Create"),
                        entity("Customer", "58", "Merge") | {"deletedId": "61"},
                    ]
                },
            },
            {"dataChangeEvent": {"entities": [entity("Invoice", "9", "Update")]}},
            {
                "realmId": OTHER_REALM,
                "dataChangeEvent": {"entities": [entity("Bill", "3", "Void")]},
            },
        ]
    }
    intake = deliver(runtime, body)
    assert intake.failed == [
        "quickbooks webhook: eventNotifications[0].dataChangeEvent.entities[1].id is missing; "
        "quickbooks webhook: eventNotifications[1].realmId is missing"
    ]
    assert intake.sync_due == "quickbooks"
    stamp = "2026-05-04T13:10:00.000Z"
    assert [row[:3] for row in stored(runtime)][:3] == [
        (f"{REALM}:Invoice:130:Update:{stamp}", "Invoice.Update", "processed"),
        (f"{REALM}:Customer:58:Merge:{stamp}", "Customer.Merge", "processed"),
        (f"{OTHER_REALM}:Bill:3:Void:{stamp}", "Bill.Void", "ignored"),
    ]


def test_read_names_each_bad_item_and_parse_still_refuses_a_body_with_one() -> None:
    raw = json.dumps(
        [cloud_event("qbo.creditmemo.deleted.v1", "150", "ce-1"), {"type": "qbo.invoice"}]
    ).encode()
    delivery = qbo_webhooks.read(raw)
    assert [(e.entity, e.entity_id, e.operation) for e in delivery.events] == [
        ("CreditMemo", "150", "Delete")
    ]
    assert delivery.problems == [
        "quickbooks webhook: event[1].type 'qbo.invoice' is not a QBO event type"
    ]
    with pytest.raises(qbo_webhooks.WebhookError, match=r"event\[1\]\.type"):
        qbo_webhooks.parse(raw)
    with pytest.raises(qbo_webhooks.WebhookError, match="neither eventNotifications"):
        qbo_webhooks.read(b'{"ping": true}')


def test_the_documented_cdc_answer_reaches_each_stream_with_its_deletions(
    config: QuickBooksConfig,
) -> None:
    """One CDCResponse, one QueryResponse block per entity asked (an entity without changes
    answers an empty block), deleted objects as ``{"domain", "status": "Deleted", "Id",
    "MetaData"}``; a voided invoice is an ordinary object (zeroed), not a deletion."""
    since = datetime.now(UTC) - timedelta(days=2)
    until = datetime.now(UTC)
    at = (since + timedelta(hours=1)).isoformat()
    voided = {
        "Id": "130",
        "SyncToken": "3",
        "DocNumber": "1037",
        "TotalAmt": 0,
        "Balance": 0,
        "PrivateNote": "Voided",
        "MetaData": {"CreateTime": at, "LastUpdatedTime": at},
    }
    gone = {"domain": "QBO", "status": "Deleted", "Id": "61", "MetaData": {"LastUpdatedTime": at}}
    answer = {
        "CDCResponse": [
            {
                "QueryResponse": [
                    {"Customer": [gone], "startPosition": 1, "maxResults": 1},
                    {"Invoice": [voided], "startPosition": 1, "maxResults": 1},
                    {},
                    {},
                ]
            }
        ],
        "time": until.isoformat(),
    }
    made = QuickBooksConnector(config, MemoryTokenStore(), policy=RetryPolicy(sleep=lambda _: None))
    try:
        with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
            mock.post(TOKEN_URL, json=TOKEN)
            mock.get(f"{COMPANY}/cdc", json=answer)
            streams = made.streams()
            got = {
                name: [
                    (r.remote_id, r.deleted) for p in stream.pages(since, until) for r in p.records
                ]
                for name, stream in streams.items()
            }
    finally:
        made.close()
    assert got == {
        "customers": [("61", True)],
        "invoices": [("130", False)],
        "credit_memos": [],
        "payments": [],
    }
