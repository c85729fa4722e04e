"""Salesforce pulls whose query locator expires (INVALID_QUERY_LOCATOR on a queryMore).

A locator expires after idle minutes, or is released when the user opens too many cursors.
The REST API answers ``[{"errorCode": "INVALID_QUERY_LOCATOR", ...}]`` with a 400 or a 404
depending on the endpoint: either way the stream sends its query again from the last record
it handed out (resumes handing out nothing new are bounded); other errors still stop the
stream.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from connectors.base import MemoryTokenStore, RawRecord
from connectors.errors import ApiError
from connectors.http import RetryPolicy
from connectors.salesforce import SalesforceConnector
from connectors.salesforce.sandbox import SalesforceFaults, SalesforceSandbox
from connectors.sandbox.world import World
from tests.connectors.salesforce.test_pull_probe_stamp_ties import (
    DATA,
    LOWER_FIRST,
    THIRD,
    TOKEN_BODY,
    TOKEN_URL,
    UPPER_SECOND,
    connector,
    invoice,
)

EXPIRED = [{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}]
UNTIL = datetime(2024, 5, 1, 11, tzinfo=UTC)
PAGE = 25


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.post(TOKEN_URL, json=TOKEN_BODY)
        yield rsps


def first_page(mock: responses.RequestsMock) -> None:
    mock.get(
        f"{DATA}/query/",
        json={
            "totalSize": 3,
            "done": False,
            "nextRecordsUrl": "/services/data/v62.0/query/01gXX0000001-2",
            "records": [invoice(LOWER_FIRST), invoice(UPPER_SECOND)],
        },
    )


@pytest.mark.parametrize("status", [400, 404])
def test_an_expired_locator_resumes_the_query_at_either_status(
    mock: responses.RequestsMock, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    first_page(mock)
    mock.get(f"{DATA}/query/01gXX0000001-2", status=status, json=EXPIRED)
    mock.get(
        f"{DATA}/query/",
        json={
            "totalSize": 3,
            "done": True,
            "records": [invoice(LOWER_FIRST), invoice(UPPER_SECOND), invoice(THIRD)],
        },
    )
    with caplog.at_level(logging.WARNING, logger="arsync.salesforce"):
        got = [
            r.remote_id
            for p in connector().streams()["invoices"].pages(None, UNTIL)
            for r in p.records
        ]
    assert got == [LOWER_FIRST, UPPER_SECOND, THIRD]
    soql = parse_qs(urlsplit(mock.calls[-1].request.url or "").query)["q"][0]
    assert "SystemModstamp >= 2024-05-01T10:00:00Z" in soql
    assert "ORDER BY SystemModstamp ASC, Id ASC" in soql
    assert any("INVALID_QUERY_LOCATOR" in r.getMessage() for r in caplog.records)


def test_another_query_more_error_still_stops_the_stream(mock: responses.RequestsMock) -> None:
    first_page(mock)
    gone = [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]
    mock.get(f"{DATA}/query/01gXX0000001-2", status=404, json=gone)
    with pytest.raises(ApiError) as caught:
        for _ in connector().streams()["invoices"].pages(None, UNTIL):
            pass
    assert caught.value.code == "NOT_FOUND"
    assert sum(1 for c in mock.calls if urlsplit(c.request.url or "").path.endswith("/query/")) == 1


# against the sandbox ------------------------------------------------------------------------


def sandbox_connector(sandbox: SalesforceSandbox, page: int = PAGE) -> SalesforceConnector:
    config = sandbox.config().model_copy(update={"page_size": page})
    return SalesforceConnector(
        config, MemoryTokenStore(sandbox.initial_tokens()), policy=RetryPolicy(sleep=lambda _: None)
    )


def pull(sandbox: SalesforceSandbox, stream: str, page: int = PAGE) -> list[RawRecord]:
    until = datetime.now(UTC) + timedelta(seconds=1)
    streams = sandbox_connector(sandbox, page).streams()
    return [r for p in streams[stream].pages(None, until) for r in p.records]


def queries(sandbox: SalesforceSandbox) -> int:
    return sum(1 for _, path in sandbox.log if path.endswith("/query/"))


@pytest.mark.slow
@pytest.mark.parametrize("status", [400, 404])
def test_a_configured_expiry_in_a_run_of_tied_stamps_skips_no_record(status: int) -> None:
    """Every invoice shares one SystemModstamp, so the resumed query starts inside the tie:
    the records of that stamp not yet read must all come, those read need not come again."""
    faults = SalesforceFaults(expire_locator_next=2, expired_locator_status=status)
    sandbox = SalesforceSandbox(
        world=World.generate(seed=5, customers=10, invoices=120), faults=faults
    )
    tie = datetime.now(UTC).replace(microsecond=123000) - timedelta(minutes=5)
    for row in sandbox.tables[sandbox.schema.invoice.sobject].values():
        row["SystemModstamp"] = tie
    with sandbox:
        got = [r.remote_id for r in pull(sandbox, "invoices")]
    assert set(got) == set(sandbox.remote_ids("invoices"))
    assert len(got) == len(set(got))
    assert faults.expire_locator_next == 0
    assert queries(sandbox) == 3  # the first query and two resumes


def interleaved_payments(faults: SalesforceFaults) -> SalesforceSandbox:
    """Revenue Cloud's payments stream: two objects over several pages, stamps interleaved."""
    sandbox = SalesforceSandbox(
        world=World.generate(seed=5, customers=30, invoices=240),
        faults=faults,
        preset="revenue_cloud",
    )
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    objects = sandbox.stream_objects["payments"]
    assert len(objects) == 2
    for first, sobject in enumerate(objects):
        for n, row in enumerate(sandbox.tables[sobject].values()):
            row["SystemModstamp"] = base + timedelta(seconds=2 * n + first)
        assert len(sandbox.tables[sobject]) > 8
    return sandbox


@pytest.mark.slow
def test_every_locator_expiring_still_reads_every_object_whole() -> None:
    """Each resume hands out new records, so it is progress: however many cursors expire
    over the objects of a stream, the read goes on to the end (a bound of three per stream, or
    per object, failed a read whose cursors were merely idle while the other object's drained)."""
    faults = SalesforceFaults(expire_locator_next=1000)
    sandbox = interleaved_payments(faults)
    with sandbox:
        got = [r.remote_id for r in pull(sandbox, "payments", page=4)]
        expected = set(sandbox.remote_ids("payments"))
    assert set(got) == expected
    assert len(got) == len(set(got))
    assert queries(sandbox) > 2 + 3


@pytest.mark.slow
def test_resumes_handing_out_nothing_new_are_bounded(caplog: pytest.LogCaptureFixture) -> None:
    """A resumed query whose first page holds only records already read (more records share
    one stamp than a page holds) makes no progress: after three such resumes in a row the
    stream fails rather than query forever."""
    faults = SalesforceFaults(expire_locator_next=1000)
    sandbox = SalesforceSandbox(
        world=World.generate(seed=5, customers=10, invoices=60), faults=faults
    )
    tie = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    for row in sandbox.tables[sandbox.schema.invoice.sobject].values():
        row["SystemModstamp"] = tie
    with sandbox, caplog.at_level(logging.WARNING, logger="arsync.salesforce"):
        with pytest.raises(ApiError) as caught:
            pull(sandbox, "invoices", page=4)
        assert caught.value.code == "INVALID_QUERY_LOCATOR"
        assert queries(sandbox) == 1 + 3
        resumed = [r for r in caplog.records if "INVALID_QUERY_LOCATOR" in r.getMessage()]
        assert len(resumed) == 3


@pytest.mark.slow
def test_live_ids_run_their_unordered_query_again_whole() -> None:
    """``SELECT Id FROM X`` has no order to resume from: an expired cursor reruns it all."""
    faults = SalesforceFaults(expire_locator_next=1, expired_locator_status=404)
    sandbox = SalesforceSandbox(
        world=World.generate(seed=5, customers=10, invoices=120), faults=faults
    )
    with sandbox:
        ids = sandbox_connector(sandbox).live_ids("invoices")
        assert ids == set(sandbox.remote_ids("invoices"))
        assert queries(sandbox) == 2
