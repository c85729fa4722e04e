"""QuickBooks pull probe: the CDC cap is per response, not per entity.

Intuit documents that a CDC response holds at most 1,000 objects whatever the entities asked
(and suggests asking for less). arsync asks for Customer, Invoice, CreditMemo and Payment in
one call, so an answer whose entities together reach the cap may be missing changes of any of
them, deletions included, although no single entity reached it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import responses
from responses import matchers

from connectors.base import MemoryTokenStore
from connectors.http import RetryPolicy
from connectors.quickbooks import QuickBooksConfig, QuickBooksConnector, QuickBooksSandbox
from connectors.quickbooks.changes import ChangeFeed
from tests.connectors.quickbooks.qbo_helpers import COMPANY, TOKEN_URL, sandbox_connector

TOKEN = {
    "token_type": "bearer",
    "access_token": "AT-1",
    "refresh_token": "RT-2",
    "expires_in": 3600,
    "x_refresh_token_expires_in": 8726400,
}


def obj(rid: str, stamp: str, **extra: object) -> dict[str, object]:
    return {"Id": rid, "SyncToken": "0", "MetaData": {"LastUpdatedTime": stamp}, **extra}


def deleted(rid: str, stamp: str) -> dict[str, object]:
    return {"domain": "QBO", "status": "Deleted", "Id": rid, "MetaData": {"LastUpdatedTime": stamp}}


def cdc(**entities: list[dict[str, object]]) -> dict[str, object]:
    blocks = [
        {name: rows, "startPosition": 1, "maxResults": len(rows)} for name, rows in entities.items()
    ]
    return {"CDCResponse": [{"QueryResponse": blocks}], "time": "2024-05-01T10:00:00-07:00"}


def pull(
    connector: QuickBooksConnector, stream: str, since: datetime, until: datetime
) -> list[tuple[str, bool]]:
    pages = connector.streams()[stream].pages(since, until)
    return [(r.remote_id, r.deleted) for p in pages for r in p.records]


@pytest.fixture
def capped(config: QuickBooksConfig) -> Iterator[QuickBooksConnector]:
    made = QuickBooksConnector(
        config.model_copy(update={"cdc_max_objects": 4}),
        MemoryTokenStore(),
        policy=RetryPolicy(sleep=lambda _: None),
    )
    yield made
    made.close()


def test_a_combined_answer_at_the_cap_is_asked_again_per_entity(
    capped: QuickBooksConnector,
) -> None:
    since = datetime.now(UTC) - timedelta(days=1)
    until = datetime.now(UTC)
    t1 = (since + timedelta(minutes=1)).isoformat()
    t2 = (since + timedelta(minutes=2)).isoformat()
    t3 = (since + timedelta(minutes=3)).isoformat()
    changed_since = since.replace(microsecond=0).isoformat()

    def asked(entities: str) -> list[Any]:
        return [
            matchers.query_param_matcher(
                {"entities": entities, "changedSince": changed_since, "minorversion": "75"}
            )
        ]

    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        mock.post(TOKEN_URL, json=TOKEN)
        # 2 invoices + 2 payments = the response cap of 4: the server stopped there
        mock.get(
            f"{COMPANY}/cdc",
            json=cdc(
                Invoice=[obj("1", t1, TotalAmt="10.00"), obj("2", t2, TotalAmt="20.00")],
                Payment=[obj("7", t1), obj("8", t2)],
            ),
            match=asked("Customer,Invoice,CreditMemo,Payment"),
        )
        # asked alone, Invoice has a third change: a deletion the combined answer left out
        mock.get(
            f"{COMPANY}/cdc",
            json=cdc(
                Invoice=[
                    obj("1", t1, TotalAmt="10.00"),
                    obj("2", t2, TotalAmt="20.00"),
                    deleted("3", t3),
                ]
            ),
            match=asked("Invoice"),
        )
        pages = list(capped.streams()["invoices"].pages(since, until))
    got = [(r.remote_id, r.deleted) for p in pages for r in p.records]
    assert got == [("1", False), ("2", False), ("3", True)]
    assert [str(p.records[0].payload["TotalAmt"]) for p in pages] == ["10.00"]


def test_an_answer_below_the_cap_is_used_for_every_stream_with_one_call(
    capped: QuickBooksConnector,
) -> None:
    since = datetime.now(UTC) - timedelta(days=1)
    until = datetime.now(UTC)
    t1 = (since + timedelta(minutes=1)).isoformat()
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        mock.post(TOKEN_URL, json=TOKEN)
        mock.get(f"{COMPANY}/cdc", json=cdc(Invoice=[obj("1", t1)], Payment=[deleted("7", t1)]))
        streams = capped.streams()
        invoices = [r.remote_id for p in streams["invoices"].pages(since, until) for r in p.records]
        payments = [
            (r.remote_id, r.deleted)
            for p in streams["payments"].pages(since, until)
            for r in p.records
        ]
    assert invoices == ["1"]
    assert payments == [("7", True)]


def test_sandbox_caps_the_whole_response_and_every_change_still_arrives(world: object) -> None:
    box = QuickBooksSandbox(world=world, cdc_max_objects=4)  # type: ignore[arg-type]
    with box:
        connector, _ = sandbox_connector(box)
        since = datetime.now(UTC)
        invoices = {box.create("invoices") for _ in range(3)}
        customers = {box.create("customers") for _ in range(2)}
        until = datetime.now(UTC) + timedelta(seconds=1)
        assert {rid for rid, _ in pull(connector, "invoices", since, until)} == invoices
        assert {rid for rid, _ in pull(connector, "customers", since, until)} == customers
        cdc_calls = connector.session.stats.by_endpoint[f"GET /v3/company/{box.realm_id}/cdc"]
        assert cdc_calls == 3  # the combined answer, then Invoice alone, then Customer alone
        connector.close()


def test_a_query_in_place_of_cdc_reports_that_deletions_went_unlisted(
    world: object, caplog: pytest.LogCaptureFixture
) -> None:
    """An invoice deleted 40 days into an old bookmark: the query cannot list it."""
    box = QuickBooksSandbox(world=world)  # type: ignore[arg-type]
    with box:
        connector, _ = sandbox_connector(box)
        since = datetime.now(UTC) - timedelta(days=40)
        until = datetime.now(UTC) + timedelta(seconds=1)
        streams = connector.streams()
        with caplog.at_level(logging.WARNING, logger="arsync.quickbooks"):
            assert pull(connector, "invoices", since, until)
            pull(connector, "customers", since, until)
        assert streams["invoices"].unlisted_since == since  # type: ignore[attr-defined]
        assert streams["customers"].unlisted_since is None  # type: ignore[attr-defined]
        warned = [r.getMessage() for r in caplog.records]
        assert len(warned) == 1
        assert "quickbooks Invoice" in warned[0] and "full re-sync" in warned[0]
        connector.close()


class _CappedCdc:
    """A client whose CDC keeps the oldest ``cap`` changes of the whole response, as QBO."""

    def __init__(self, rows: dict[str, list[dict[str, Any]]], cap: int) -> None:
        self.config = SimpleNamespace(cdc_window_days=30, cdc_max_objects=cap)
        self.rows = rows
        self.cap = cap
        self.calls: list[tuple[tuple[str, ...], datetime]] = []

    def change_data_capture(
        self, entities: list[str], since: datetime
    ) -> dict[str, list[dict[str, Any]]]:
        self.calls.append((tuple(entities), since))
        changed = sorted(
            (
                (datetime.fromisoformat(row["MetaData"]["LastUpdatedTime"]), entity, row)
                for entity in entities
                for row in self.rows[entity]
                if datetime.fromisoformat(row["MetaData"]["LastUpdatedTime"]) >= since
            ),
            key=lambda item: item[0],
        )[: self.cap]
        return {e: [row for _, entity, row in changed if entity == e] for e in entities}


def test_an_entity_asked_alone_is_asked_from_its_own_bookmark() -> None:
    """Customers' bookmark is weeks old, invoices' an hour: at the cap, Invoice asked alone
    from the customers' time reaches the cap again and its deletion would go unlisted."""
    now = datetime.now(UTC).replace(microsecond=0)

    def row(rid: str, at: datetime, **extra: Any) -> dict[str, Any]:
        return {"Id": rid, "MetaData": {"LastUpdatedTime": at.isoformat()}, **extra}

    weeks_ago = now - timedelta(days=20)
    client = _CappedCdc(
        {
            "Customer": [row("c1", now - timedelta(days=25))],
            "Invoice": [row(f"i{n}", weeks_ago + timedelta(seconds=n)) for n in range(50)]
            + [
                row("i100", now - timedelta(minutes=10)),
                row("i101", now - timedelta(minutes=9), status="Deleted"),
            ],
            "CreditMemo": [],
            "Payment": [],
        },
        cap=10,
    )
    feed = ChangeFeed(client)  # type: ignore[arg-type]
    assert feed.changes("Customer", now - timedelta(days=26), now) is not None
    invoices = feed.changes("Invoice", now - timedelta(hours=1), now)
    assert invoices is not None, "sent to the query: the deletion of i101 is lost"
    assert [r["Id"] for r in invoices] == ["i100", "i101"]
