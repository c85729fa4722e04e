"""QuickBooks webhook signatures and both notification formats."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from connectors.quickbooks.webhooks import WebhookError, parse, sign, verify

VERIFIER = "c5a1f0a2-verifier-token"

LEGACY = json.dumps(
    {
        "eventNotifications": [
            {
                "realmId": "1185883450",
                "dataChangeEvent": {
                    "entities": [
                        {
                            "name": "Invoice",
                            "id": "130",
                            "operation": "Update",
                            "lastUpdated": "2024-03-12T21:02:11.000Z",
                        },
                        {
                            "name": "Payment",
                            "id": "141",
                            "operation": "Create",
                            "lastUpdated": "2024-03-12T21:03:00.000Z",
                        },
                    ]
                },
            }
        ]
    }
).encode()

CLOUD = json.dumps(
    [
        {
            "specversion": "1.0",
            "id": "88cd52a8-9a2c-4e8a-9a5b-5b6c2e0f0b11",
            "source": "intuit.dsnBgbseACLLRZNxo2dfc4evmEJdxde58xeeYcZliOU=",
            "type": "qbo.invoice.updated.v1",
            "datacontenttype": "application/json",
            "time": "2025-09-10T21:31:25.179Z",
            "intuitentityid": "130",
            "intuitaccountid": "1185883450",
            "data": {},
        },
        {
            "specversion": "1.0",
            "id": "0c6a1f4e-3d1e-4e2b-a8a5-1d7f2d4e9c01",
            "type": "qbo.creditmemo.deleted.v1",
            "time": "2025-09-10T21:32:00Z",
            "intuitentityid": "150",
            "intuitaccountid": "1185883450",
        },
    ]
).encode()


def test_signature_is_base64_hmac_sha256_of_the_raw_body() -> None:
    expected = base64.b64encode(hmac.new(VERIFIER.encode(), LEGACY, hashlib.sha256).digest())
    assert sign(LEGACY, VERIFIER) == expected.decode()
    assert verify(LEGACY, {"intuit-signature": expected.decode()}, VERIFIER)
    assert verify(LEGACY, {"Intuit-Signature": expected.decode()}, VERIFIER)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"intuit-signature": ""},
        {"intuit-signature": "not base64!!"},
        {"intuit-signature": sign(LEGACY, "another-token")},
        {"intuit-signature": sign(LEGACY + b" ", VERIFIER)},
    ],
)
def test_bad_signatures_are_rejected(headers: dict[str, str]) -> None:
    assert not verify(LEGACY, headers, VERIFIER)


def test_empty_secret_never_verifies() -> None:
    assert not verify(LEGACY, {"intuit-signature": sign(LEGACY, "")}, "")


def test_legacy_event_notifications() -> None:
    events = parse(LEGACY)
    assert [(e.realm_id, e.entity, e.entity_id, e.operation) for e in events] == [
        ("1185883450", "Invoice", "130", "Update"),
        ("1185883450", "Payment", "141", "Create"),
    ]
    assert events[0].occurred_at == datetime(2024, 3, 12, 21, 2, 11, tzinfo=UTC)
    assert len({e.event_id for e in events}) == 2
    assert parse(LEGACY)[0].event_id == events[0].event_id  # stable for de-duplication


def test_cloud_events_array() -> None:
    events = parse(CLOUD)
    assert [(e.event_id, e.entity, e.entity_id, e.operation) for e in events] == [
        ("88cd52a8-9a2c-4e8a-9a5b-5b6c2e0f0b11", "Invoice", "130", "Update"),
        ("0c6a1f4e-3d1e-4e2b-a8a5-1d7f2d4e9c01", "CreditMemo", "150", "Delete"),
    ]
    assert events[1].realm_id == "1185883450"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "not JSON"),
        (b'{"hello": 1}', "neither"),
        (b'[{"specversion": "1.0", "id": "x", "type": "com.other.thing"}]', "type"),
        (b'{"eventNotifications": [{"dataChangeEvent": {}}]}', "realmId"),
    ],
)
def test_bodies_that_are_not_notifications_are_refused(body: bytes, fragment: str) -> None:
    with pytest.raises(WebhookError, match=fragment):
        parse(body)


def test_documented_legacy_samples_with_a_basic_offset_and_a_merge() -> None:
    body = json.dumps(
        {
            "eventNotifications": [
                {
                    "realmId": "310687",
                    "dataChangeEvent": {
                        "entities": [
                            {
                                "name": "Customer",
                                "id": "1",
                                "operation": "Create",
                                "lastUpdated": "2015-10-05T14:42:19-0700",
                            },
                            {
                                "name": "Customer",
                                "id": "123",
                                "operation": "Merge",
                                "lastUpdated": "2025-09-08T20:52:31.657Z",
                                "deletedId": "27",
                            },
                        ]
                    },
                }
            ]
        }
    ).encode()
    created, merged = parse(body)
    assert created.occurred_at == datetime(2015, 10, 5, 21, 42, 19, tzinfo=UTC)
    assert created.deleted_id is None
    assert (merged.entity, merged.entity_id, merged.operation) == ("Customer", "123", "Merge")
    assert merged.deleted_id == "27"
    assert merged.occurred_at == datetime(2025, 9, 8, 20, 52, 31, 657000, tzinfo=UTC)


def test_documented_cloud_events_merge_without_data_and_nanoseconds() -> None:
    body = json.dumps(
        [
            {
                "specversion": "1.0",
                "id": "0f3a9c1e-77d2-4b0e-9a51-2f6c3d8e1a40-Customer-123",
                "source": "intuit.abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG=",
                "type": "qbo.customer.merged.v1",
                "datacontenttype": "application/json",
                "time": "2025-12-04T15:25:05Z",
                "intuitentityid": "123",
                "intuitaccountid": "9341455000000000",
                "data": {"deletedid": "27"},
            },
            {
                "specversion": "1.0",
                "id": "0f3a9c1e-77d2-4b0e-9a51-2f6c3d8e1a41-Payment-150",
                "source": "intuit.abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG=",
                "type": "qbo.payment.voided.v1",
                "time": "2025-09-10T21:31:25.179851517Z",
                "intuitentityid": "150",
                "intuitaccountid": "9341455000000000",
            },
        ]
    ).encode()
    merged, voided = parse(body)
    assert (merged.entity, merged.entity_id, merged.operation) == ("Customer", "123", "Merge")
    assert merged.deleted_id == "27" and merged.realm_id == "9341455000000000"
    assert merged.event_id == "0f3a9c1e-77d2-4b0e-9a51-2f6c3d8e1a40-Customer-123"
    assert (voided.entity, voided.entity_id, voided.operation) == ("Payment", "150", "Void")
    assert voided.deleted_id is None  # no data object at all
    assert voided.occurred_at == datetime(2025, 9, 10, 21, 31, 25, 179851, tzinfo=UTC)
