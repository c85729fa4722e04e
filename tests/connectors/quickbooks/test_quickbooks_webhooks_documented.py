"""QuickBooks Online webhooks exactly as Intuit documents them, through arsync's intake.

Sources (shapes and headers; every value here is our own):
* developer.intuit.com .../qbo/docs/develop/webhooks/managing-webhooks-notifications: the
  legacy ``eventNotifications`` body, ``intuit-signature`` = base64 HMAC-SHA256 of the raw
  body under the app's verifier token; one ``eventNotifications`` item per realm.
* developer.intuit.com .../qbo/docs/develop/webhooks: entities and the operations Create,
  Update, Delete, Merge, Void, Emailed.
* blogs.intuit.com 2025/11/12 "Upcoming change to webhooks payload structure": the
  CloudEvents array (``specversion``, ``id``, ``source``, ``type`` ``qbo.<entity>.<op>.v1``,
  ``datacontenttype``, ``time`` with nanoseconds, ``intuitentityid``, ``intuitaccountid``,
  ``data``); the signature is unchanged.
* intuit/QuickBooks-V3-DotNET-SDK WebhooksServiceTest.cs (``GetWebhooksCloudEvents``): a
  CloudEvent with neither ``datacontenttype`` nor ``data``, and a legacy delivery naming a
  Vendor beside a Customer.
"""

from __future__ import annotations

import base64
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

VERIFIER = "arsync-verifier-7f3c2a"
REALM = "9341455000000001"
OTHER_REALM = "9341455000000002"


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    settings = load_settings(
        None,
        database_url=f"sqlite:///{tmp_path / 'qbo-hooks.db'}",
        webhooks={"quickbooks_verifier": VERIFIER},
        quickbooks={"realm_id": REALM, "client_id": "ABcd", "client_secret": "s3cret"},
    )
    rt = Runtime.open(settings)
    yield rt
    rt.close()


def intuit_signature(raw: bytes, token: str = VERIFIER) -> str:
    """What Intuit sends: base64(HMAC-SHA256(raw body, verifier token))."""
    return base64.b64encode(hmac.new(token.encode(), raw, hashlib.sha256).digest()).decode()


def deliver(rt: Runtime, raw: bytes, signature: str | None = None) -> Intake:
    headers = {"intuit-signature": signature or intuit_signature(raw)}
    return receive(rt.store, rt.settings, "quickbooks", raw, headers)


def stored(rt: Runtime) -> list[WebhookEvent]:
    """Stored events in the order they were stored (SQLite's rowid)."""
    with rt.store.session() as session:
        return list(session.exec(select(WebhookEvent).order_by(text("webhook_event.rowid"))))


def entity(name: str, entity_id: str, operation: str, **extra: str) -> dict[str, str]:
    return {"name": name, "id": entity_id, "operation": operation, **extra}


def legacy(*notifications: tuple[str, list[dict[str, str]]]) -> bytes:
    """A legacy delivery, laid out (indented) as Intuit's sample shows it."""
    body = {
        "eventNotifications": [
            {"realmId": realm, "dataChangeEvent": {"entities": entities}}
            for realm, entities in notifications
        ]
    }
    return json.dumps(body, indent=3).encode()


def cloud_event(kind: str, entity_id: str, event_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": "intuit.ArsyncTestSourceQ2x9v0hL3mC8Yt5Rb1WnZ4kPe7Js6Ud=",
        "type": kind,
        "datacontenttype": "application/json",
        "time": "2026-03-02T08:15:42.120934517Z",
        "intuitentityid": entity_id,
        "intuitaccountid": REALM,
        "data": {},
        **extra,
    }


def test_every_documented_operation_of_a_synced_entity_marks_quickbooks_due(
    runtime: Runtime,
) -> None:
    raw = legacy(
        (
            REALM,
            [
                entity("Invoice", "1301", "Create", lastUpdated="2026-03-02T08:00:01.000Z"),
                entity("Invoice", "1301", "Update", lastUpdated="2026-03-02T08:05:00.000Z"),
                entity("Invoice", "1302", "Emailed", lastUpdated="2026-03-02T08:06:00.000Z"),
                entity("Payment", "1410", "Void", lastUpdated="2026-03-02T08:07:00-0800"),
                entity("CreditMemo", "1505", "Delete", lastUpdated="2026-03-02T08:08:00.000Z"),
                entity(
                    "Customer",
                    "58",
                    "Merge",
                    lastUpdated="2026-03-02T08:09:00.000Z",
                    deletedId="61",
                ),
            ],
        )
    )
    intake = deliver(runtime, raw)
    assert (intake.events, intake.duplicates, intake.failed, intake.ignored) == (6, 0, [], [])
    assert intake.sync_due == "quickbooks"
    rows = stored(runtime)
    assert [(r.event_type, r.status) for r in rows] == [
        ("Invoice.Create", "processed"),
        ("Invoice.Update", "processed"),
        ("Invoice.Emailed", "processed"),
        ("Payment.Void", "processed"),
        ("CreditMemo.Delete", "processed"),
        ("Customer.Merge", "processed"),
    ]
    assert rows[3].payload == {
        "realm_id": REALM,
        "entity": "Payment",
        "entity_id": "1410",
        "operation": "Void",
        "occurred_at": "2026-03-02T16:07:00+00:00",  # -0800 offset read, kept in UTC
        "deleted_id": None,
    }
    assert rows[5].payload["deleted_id"] == "61"
    assert rows[0].event_id == f"{REALM}:Invoice:1301:Create:2026-03-02T08:00:01.000Z"


def test_a_replayed_delivery_is_a_duplicate_and_triggers_nothing(runtime: Runtime) -> None:
    raw = legacy(
        (REALM, [entity("Invoice", "1301", "Update", lastUpdated="2026-03-02T08:05:00.000Z")])
    )
    assert deliver(runtime, raw).sync_due == "quickbooks"
    again = deliver(runtime, raw)
    assert (again.events, again.duplicates, again.sync_due) == (0, 1, None)
    assert len(stored(runtime)) == 1


def test_a_cloud_event_sent_again_in_another_batch_is_a_duplicate(runtime: Runtime) -> None:
    first = cloud_event("qbo.invoice.updated.v1", "1301", "5b0e6a2c-0f4e-4c55-9d51-aa0100000001")
    second = cloud_event("qbo.payment.created.v1", "1410", "5b0e6a2c-0f4e-4c55-9d51-aa0100000002")
    assert deliver(runtime, json.dumps([first]).encode()).events == 1
    intake = deliver(runtime, json.dumps([first, second]).encode())
    assert (intake.events, intake.duplicates, intake.sync_due) == (1, 1, "quickbooks")
    assert [r.event_id for r in stored(runtime)] == [first["id"], second["id"]]


def test_documented_cloud_events_as_the_sdk_tests_send_them(runtime: Runtime) -> None:
    # the .NET SDK's sample: no datacontenttype, no data
    bare = {
        "specversion": "1.0",
        "id": "c41d7a0e-2b6f-4f0a-8e11-5d3c2b1a0f01",
        "source": "intuit.ArsyncTestSourceQ2x9v0hL3mC8Yt5Rb1WnZ4kPe7Js6Ud=",
        "type": "qbo.creditmemo.created.v1",
        "time": "2026-03-02T09:00:00.000000001Z",
        "intuitentityid": "1506",
        "intuitaccountid": REALM,
    }
    merged = cloud_event(
        "qbo.customer.merged.v1",
        "58",
        "c41d7a0e-2b6f-4f0a-8e11-5d3c2b1a0f02",
        data={"deletedid": "61"},
    )
    raw = json.dumps([bare, merged], separators=(",", ":")).encode()
    intake = deliver(runtime, raw)
    assert (intake.events, intake.failed, intake.ignored, intake.sync_due) == (
        2,
        [],
        [],
        "quickbooks",
    )
    rows = stored(runtime)
    assert [(r.event_id, r.event_type) for r in rows] == [
        ("c41d7a0e-2b6f-4f0a-8e11-5d3c2b1a0f01", "CreditMemo.Create"),
        ("c41d7a0e-2b6f-4f0a-8e11-5d3c2b1a0f02", "Customer.Merge"),
    ]
    assert rows[0].payload["occurred_at"] == "2026-03-02T09:00:00+00:00"
    assert rows[1].payload["deleted_id"] == "61"


def test_entities_arsync_does_not_sync_are_kept_with_a_note_and_trigger_nothing(
    runtime: Runtime,
) -> None:
    # the SDK test's legacy delivery names a Vendor; CloudEvents name a class the same way
    vendor_only = legacy(
        (REALM, [entity("Vendor", "40", "Update", lastUpdated="2026-03-02T08:10:00.000Z")])
    )
    intake = deliver(runtime, vendor_only)
    assert intake.sync_due is None and intake.events == 1
    assert intake.ignored == [
        f"quickbooks event {REALM}:Vendor:40:Update:2026-03-02T08:10:00.000Z: "
        "Vendor is not an entity arsync syncs"
    ]
    cloud = json.dumps(
        [cloud_event("qbo.class.created.v1", "1234", "d6f1b3a4-0000-4c1e-a9e0-0000000000c1")]
    ).encode()
    assert deliver(runtime, cloud).ignored == [
        "quickbooks event d6f1b3a4-0000-4c1e-a9e0-0000000000c1: class is not an entity arsync syncs"
    ]
    mixed = legacy(
        (
            REALM,
            [
                entity("Vendor", "41", "Create", lastUpdated="2026-03-02T08:11:00.000Z"),
                entity("Customer", "43", "Create", lastUpdated="2026-03-02T08:11:00.000Z"),
            ],
        )
    )
    both = deliver(runtime, mixed)
    assert both.sync_due == "quickbooks" and len(both.ignored) == 1
    rows = stored(runtime)
    assert [(r.event_type, r.status, r.note) for r in rows] == [
        ("Vendor.Update", "ignored", "Vendor is not an entity arsync syncs"),
        ("class.Create", "ignored", "class is not an entity arsync syncs"),
        ("Vendor.Create", "ignored", "Vendor is not an entity arsync syncs"),
        ("Customer.Create", "processed", None),
    ]


def test_a_delivery_naming_several_realms_reads_only_the_connected_company(
    runtime: Runtime,
) -> None:
    raw = legacy(
        (OTHER_REALM, [entity("Invoice", "77", "Update", lastUpdated="2026-03-02T08:12:00Z")]),
        (REALM, [entity("Invoice", "1301", "Update", lastUpdated="2026-03-02T08:12:00Z")]),
    )
    intake = deliver(runtime, raw)
    assert intake.sync_due == "quickbooks" and intake.events == 2
    assert intake.ignored == [
        f"quickbooks event {OTHER_REALM}:Invoice:77:Update:2026-03-02T08:12:00Z: "
        f"realm {OTHER_REALM} is not the connected company {REALM}"
    ]
    only_other = legacy(
        (OTHER_REALM, [entity("Payment", "9", "Create", lastUpdated="2026-03-02T08:13:00Z")])
    )
    assert deliver(runtime, only_other).sync_due is None


def test_the_signature_covers_the_raw_bytes_and_nothing_is_stored_without_it(
    runtime: Runtime,
) -> None:
    raw = legacy(
        (REALM, [entity("Invoice", "1301", "Update", lastUpdated="2026-03-02T08:05:00.000Z")])
    )
    signature = intuit_signature(raw)
    reserialised = json.dumps(json.loads(raw)).encode()  # same JSON, other bytes
    assert reserialised != raw
    for body, sig in (
        (reserialised, signature),
        (raw, intuit_signature(raw, "another-apps-token")),
        (raw, signature.rstrip("=") + "A="),
    ):
        with pytest.raises(Rejected) as refused:
            deliver(runtime, body, sig)
        assert refused.value.status == 401
    with pytest.raises(Rejected):
        receive(runtime.store, runtime.settings, "quickbooks", raw, {})
    assert stored(runtime) == []
    assert deliver(runtime, raw, signature).events == 1


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            {"eventNotifications": [{"realmId": REALM, "dataChangeEvent": "Invoice"}]},
            "quickbooks webhook: eventNotifications[0].dataChangeEvent is not an object",
        ),
        (
            {"eventNotifications": [{"realmId": REALM, "dataChangeEvent": {"entities": {}}}]},
            "quickbooks webhook: eventNotifications[0].dataChangeEvent.entities is not a list",
        ),
        (
            {
                "eventNotifications": [
                    {"realmId": REALM, "dataChangeEvent": {"entities": [{"name": "Invoice"}]}}
                ]
            },
            "quickbooks webhook: eventNotifications[0].dataChangeEvent.entities[0].id is missing",
        ),
        (
            [{"specversion": "1.0", "id": "e1", "type": "qbo.invoice.updated.v1"}],
            "quickbooks webhook: event[0].intuitaccountid is missing",
        ),
        (
            [{"specversion": "1.0", "id": "e2", "type": "com.example.thing"}],
            "quickbooks webhook: event[0].type 'com.example.thing' is not a QBO event type",
        ),
        (
            {"webhook": "ping"},
            "quickbooks webhook body has neither eventNotifications nor CloudEvents",
        ),
    ],
)
def test_a_verified_malformed_body_is_kept_as_failed_naming_the_field(
    runtime: Runtime, body: Any, error: str
) -> None:
    raw = json.dumps(body).encode()
    intake = deliver(runtime, raw)
    assert intake.failed == [error]
    assert intake.sync_due == "quickbooks"  # Intuit did announce a change: the sync finds it
    [row] = stored(runtime)
    assert (row.status, row.error) == ("failed", error)
    assert row.event_id == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert deliver(runtime, raw).duplicates == 1


def test_a_body_that_is_not_json_is_refused_unstored(runtime: Runtime) -> None:
    with pytest.raises(Rejected) as refused:
        deliver(runtime, b"eventNotifications=1")
    assert (refused.value.status, refused.value.reason) == (
        400,
        "quickbooks: the body is not JSON",
    )
    assert stored(runtime) == []
