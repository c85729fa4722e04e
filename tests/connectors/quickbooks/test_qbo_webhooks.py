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
