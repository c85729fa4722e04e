"""Salesforce pull probe: records sharing one SystemModstamp, and a query cursor that expires.

SOQL documents ``ORDER BY`` as case-insensitive (English locales sort on the upper-cased
value), so two records stamped in the same millisecond (a Data Loader job, a flow updating
many invoices) may come in an order Python's case-sensitive string comparison disagrees with.
Every record the query returns must still be read, exactly once.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from connectors.base import MemoryTokenStore
from connectors.http import RetryPolicy
from connectors.salesforce import SalesforceConfig, SalesforceConnector

TOKEN_URL = "https://login.example.test/services/oauth2/token"
INSTANCE = "https://acme.my.example.test"
DATA = f"{INSTANCE}/services/data/v62.0"
TOKEN_BODY = {
    "access_token": "00Dxx!token-1",
    "instance_url": INSTANCE,
    "id": f"{INSTANCE}/id/00Dxx/005xx",
    "token_type": "Bearer",
    "issued_at": "1714550400000",
    "signature": "sig",
}
STAMP = "2024-05-01T10:00:00.000+0000"
# Salesforce's (case-insensitive) order: "...aBc..." before "...Zzz..." ('A' < 'Z');
# Python's: "Z" (0x5A) < "a" (0x61).
LOWER_FIRST = "a01Ax00000aBcDeAAA"
UPPER_SECOND = "a01Ax00000ZzzZzAAA"
THIRD = "a01Ax00000zzzzzAAA"


def invoice(rid: str, stamp: str = STAMP, balance: str = "100.00") -> dict[str, Any]:
    return {
        "attributes": {
            "type": "Invoice__c",
            "url": f"/services/data/v62.0/sobjects/Invoice__c/{rid}",
        },
        "Id": rid,
        "SystemModstamp": stamp,
        "LastModifiedDate": stamp,
        "Invoice_Number__c": f"INV-{rid[-6:]}",
        "Balance__c": balance,
    }


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.post(TOKEN_URL, json=TOKEN_BODY)
        yield rsps


def connector() -> SalesforceConnector:
    cfg = SalesforceConfig.model_validate(
        {"token_url": TOKEN_URL, "client_id": "cid", "client_secret": "secret", "page_size": 2}
    )
    return SalesforceConnector(cfg, MemoryTokenStore(), policy=RetryPolicy(sleep=lambda _: None))


def test_records_of_one_stamp_in_salesforce_order_are_all_read(
    mock: responses.RequestsMock,
) -> None:
    mock.get(
        f"{DATA}/query/",
        json={
            "totalSize": 3,
            "done": True,
            "records": [invoice(LOWER_FIRST), invoice(UPPER_SECOND), invoice(THIRD)],
        },
    )
    until = datetime(2024, 5, 1, 11, tzinfo=UTC)
    got = [
        r.remote_id for p in connector().streams()["invoices"].pages(None, until) for r in p.records
    ]
    assert got == [LOWER_FIRST, UPPER_SECOND, THIRD]


def test_a_resumed_cursor_skips_only_the_records_already_read(
    mock: responses.RequestsMock,
) -> None:
    """The cursor expires after the first batch; the query is sent again from the last stamp
    (``>=``) and answers every record of that stamp again, in Salesforce's order."""
    later = "2024-05-01T10:00:05.000+0000"
    mock.get(
        f"{DATA}/query/",
        json={
            "totalSize": 4,
            "done": False,
            "nextRecordsUrl": "/services/data/v62.0/query/01gXX0000001-2",
            "records": [invoice(LOWER_FIRST), invoice(UPPER_SECOND)],
        },
    )
    mock.get(
        f"{DATA}/query/01gXX0000001-2",
        status=400,
        json=[{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}],
    )
    mock.get(
        f"{DATA}/query/",
        json={
            "totalSize": 4,
            "done": True,
            "records": [
                invoice(LOWER_FIRST),
                invoice(UPPER_SECOND),
                invoice(THIRD),
                invoice("a01Ax00000AAAAAAAA", stamp=later),
            ],
        },
    )
    until = datetime(2024, 5, 1, 11, tzinfo=UTC)
    got = [
        r.remote_id for p in connector().streams()["invoices"].pages(None, until) for r in p.records
    ]
    assert got == [LOWER_FIRST, UPPER_SECOND, THIRD, "a01Ax00000AAAAAAAA"]
    soql = parse_qs(urlsplit(mock.calls[-1].request.url or "").query)["q"][0]
    assert "SystemModstamp >= 2024-05-01T10:00:00Z" in soql
