"""Salesforce pull probe: the getDeleted window rules and its INVALID_REPLICATION_DATE error.

Salesforce documents for getDeleted (SOAP guide, which the REST resource refers to): the
seconds of ``start`` and ``end`` are ignored, ``start`` must precede ``end`` by more than one
minute, and a window the log cannot answer (start before the org's replication date, or a
delete log purged since) is refused with HTTP 400 ``INVALID_REPLICATION_DATE``. A sync run
shortly after the last one (an outbound message triggers one within seconds) must still read
its deletions, and a refused delete log must not stop every run that follows.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
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
DELETED_ID = "a01Ax0000000009AAA"


def wire(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def minute(value: str) -> datetime:
    """A getDeleted parameter as Salesforce reads it: to the minute."""
    return datetime.fromisoformat(value).astimezone(UTC).replace(second=0, microsecond=0)


def refusal(message: str) -> tuple[int, dict[str, str], str]:
    body = [{"message": message, "errorCode": "INVALID_REPLICATION_DATE"}]
    return 400, {"Content-Type": "application/json"}, json.dumps(body)


def delete_log(deleted_at: datetime) -> Any:
    """getDeleted as documented: the window to the minute, more than a minute long."""

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        args = parse_qs(urlsplit(request.url or "").query)
        start, end = minute(args["start"][0]), minute(args["end"][0])
        if end - start <= timedelta(minutes=1):
            return refusal("endDate must be more than one minute after startDate")
        row = {"id": DELETED_ID, "deletedDate": wire(deleted_at)}
        body = {
            "deletedRecords": [row] if start <= deleted_at < end + timedelta(minutes=1) else [],
            # purged a moment before the window asked for: nothing after the bookmark is lost
            "earliestDateAvailable": wire(start + timedelta(seconds=30)),
            "latestDateCovered": wire(end),
        }
        return 200, {"Content-Type": "application/json"}, json.dumps(body)

    return answer


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


def test_runs_seconds_apart_are_answered_and_read_every_deletion(
    mock: responses.RequestsMock,
) -> None:
    # the bookmark and this run's start are 30 seconds apart, in one minute
    since = datetime.now(UTC).replace(second=10, microsecond=0) - timedelta(minutes=4)
    deleted_at = since + timedelta(seconds=20)
    mock.get(f"{DATA}/query/", json={"totalSize": 0, "done": True, "records": []})
    mock.add_callback(
        responses.GET, f"{DATA}/sobjects/Invoice__c/deleted/", callback=delete_log(deleted_at)
    )
    stream = connector().streams()["invoices"]
    # the log answers to the minute: this run has nothing it covers yet, and waits
    assert list(stream.pages(since, since + timedelta(seconds=30))) == []
    # the next run, from the same bookmark, just into the next minute
    pages = list(stream.pages(since, since + timedelta(seconds=55)))
    got = [(r.remote_id, r.deleted, r.modified_at) for p in pages for r in p.records]
    assert got == [(DELETED_ID, True, deleted_at)]
    assert stream.delete_gap is None
    for call in mock.calls:
        if "/deleted/" in (call.request.url or ""):
            args = parse_qs(urlsplit(call.request.url or "").query)
            assert minute(args["end"][0]) - minute(args["start"][0]) > timedelta(minutes=1)


def test_a_deletion_listed_before_the_bookmark_is_not_read_again(
    mock: responses.RequestsMock,
) -> None:
    since = datetime.now(UTC).replace(second=40, microsecond=0) - timedelta(minutes=4)
    until = since + timedelta(seconds=40)  # into the next minute: one minute to the minute
    mock.get(f"{DATA}/query/", json={"totalSize": 0, "done": True, "records": []})
    mock.add_callback(
        responses.GET,
        f"{DATA}/sobjects/Invoice__c/deleted/",
        callback=delete_log(since - timedelta(seconds=5)),
    )
    assert list(connector().streams()["invoices"].pages(since, until)) == []


def test_a_delete_log_refused_as_too_old_leaves_a_gap_and_the_run_goes_on(
    mock: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    since, until = now - timedelta(days=2), now - timedelta(minutes=1)
    stamp = wire(now - timedelta(hours=1))
    mock.get(
        f"{DATA}/query/",
        json={
            "totalSize": 1,
            "done": True,
            "records": [
                {
                    "attributes": {
                        "type": "Invoice__c",
                        "url": "/services/data/v62.0/sobjects/Invoice__c/a01Ax0000000001AAA",
                    },
                    "Id": "a01Ax0000000001AAA",
                    "SystemModstamp": stamp,
                    "LastModifiedDate": stamp,
                    "Balance__c": 250.0,
                }
            ],
        },
    )
    mock.add_callback(
        responses.GET,
        f"{DATA}/sobjects/Invoice__c/deleted/",
        callback=lambda _: refusal("startDate before org replication enabled date"),
    )
    stream = connector().streams()["invoices"]
    with caplog.at_level(logging.WARNING, logger="arsync.salesforce"):
        pages = list(stream.pages(since, until))
    assert [r.remote_id for p in pages for r in p.records] == ["a01Ax0000000001AAA"]
    assert stream.delete_gap == until
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert "Invoice__c" in warned and "full re-sync" in warned
    assert "startDate before org replication enabled date" in warned
