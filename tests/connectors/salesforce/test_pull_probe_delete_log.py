"""Salesforce pull probe: what the getDeleted answer says about its own coverage.

Salesforce documents two fields besides ``deletedRecords``: ``earliestDateAvailable`` (the
delete log was purged up to there: deletions before it cannot be listed any more, and the
data must be re-synced) and ``latestDateCovered`` (at most ``end``: deletions after it may
still be on their way, so the next call must start there). A pull that ignores the first
loses deletions silently; one that ignores the second moves its bookmark past deletions the
log has not listed yet, and never sees them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
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


def wire(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def invoice(rid: str, stamp: datetime) -> dict[str, Any]:
    return {
        "attributes": {"type": "Invoice__c"},
        "Id": rid,
        "SystemModstamp": wire(stamp),
        "LastModifiedDate": wire(stamp),
        "Balance__c": "250.00",
    }


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.post(TOKEN_URL, json=TOKEN_BODY)
        yield rsps


def connector() -> SalesforceConnector:
    cfg = SalesforceConfig.model_validate(
        {"token_url": TOKEN_URL, "client_id": "cid", "client_secret": "secret"}
    )
    return SalesforceConnector(cfg, MemoryTokenStore(), policy=RetryPolicy(sleep=lambda _: None))


def test_a_purged_delete_log_is_reported_as_a_gap(
    mock: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    since = now - timedelta(days=3)  # well inside the documented 15 days
    purged_to = now - timedelta(days=1)  # but the org's log was purged up to yesterday
    mock.get(f"{DATA}/query/", json={"totalSize": 0, "done": True, "records": []})
    mock.get(
        f"{DATA}/sobjects/Invoice__c/deleted/",
        json={
            "deletedRecords": [],
            "earliestDateAvailable": wire(purged_to),
            "latestDateCovered": wire(now - timedelta(minutes=1)),
        },
    )
    made = connector()
    stream = made.streams()["invoices"]
    with caplog.at_level(logging.WARNING, logger="arsync.salesforce"):
        assert list(stream.pages(since, now - timedelta(minutes=1))) == []
    assert stream.delete_gap == purged_to
    warned = [r.getMessage() for r in caplog.records if "Invoice__c" in r.getMessage()]
    assert warned and "full re-sync" in warned[0] and "salesforce" in warned[0]


def test_the_pull_stops_where_the_delete_log_stops(mock: responses.RequestsMock) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    since = now - timedelta(hours=1)
    until = now - timedelta(minutes=1)
    covered = until - timedelta(minutes=10)  # the log has listed deletions up to here only
    mock.get(
        f"{DATA}/query/",
        json={
            "totalSize": 2,
            "done": True,
            "records": [
                invoice("a01Ax0000000001AAA", covered - timedelta(minutes=5)),
                invoice("a01Ax0000000002AAA", covered + timedelta(minutes=5)),
            ],
        },
    )
    mock.get(
        f"{DATA}/sobjects/Invoice__c/deleted/",
        json={
            "deletedRecords": [
                {"id": "a01Ax0000000009AAA", "deletedDate": wire(covered - timedelta(minutes=2))}
            ],
            "earliestDateAvailable": wire(now - timedelta(days=15)),
            "latestDateCovered": wire(covered),
        },
    )
    pages = list(connector().streams()["invoices"].pages(since, until))
    got = [(r.remote_id, r.deleted, r.modified_at) for p in pages for r in p.records]
    # the live record stamped after `covered` waits for the next run, which starts before it
    # and will also list any deletion the log adds between `covered` and `until`
    assert got == [
        ("a01Ax0000000001AAA", False, covered - timedelta(minutes=5)),
        ("a01Ax0000000009AAA", True, covered - timedelta(minutes=2)),
    ]
    query = next(c for c in mock.calls if "/query/" in (c.request.url or ""))
    soql = parse_qs(urlsplit(query.request.url or "").query)["q"][0]
    assert (
        f"SystemModstamp < {(covered + timedelta(seconds=1)).strftime('%Y-%m-%dT%H:%M:%SZ')}"
        in soql
    )
