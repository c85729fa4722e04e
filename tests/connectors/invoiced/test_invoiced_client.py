"""Invoiced over the wire: Basic auth, Link paging, updated_after, errors, webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import responses
from responses import matchers

from connectors.base import MemoryTokenStore
from connectors.errors import AuthError, DataError
from connectors.http import RetryPolicy
from connectors.invoiced import InvoicedConfig, InvoicedConnector
from connectors.invoiced.webhooks import parse, verify

BASE = "https://api.invoiced.test"


def connector() -> InvoicedConnector:
    config = InvoicedConfig(api_key="sk_live_abc", base_url=BASE)  # type: ignore[arg-type]
    return InvoicedConnector(config, MemoryTokenStore(), policy=RetryPolicy(sleep=lambda _: None))


@responses.activate(assert_all_requests_are_fired=True)
def test_pages_follow_the_link_header_with_exact_amounts() -> None:
    responses.get(
        f"{BASE}/invoices",
        match=[
            matchers.query_param_matcher(
                {"per_page": "100", "page": "1", "updated_after": "1700000000"}
            )
        ],
        body='[{"id": 1, "total": 10.10, "updated_at": 1700000100}]',
        headers={
            "Link": f'<{BASE}/invoices?per_page=100&page=2&updated_after=1700000000>; rel="next", '
            f'<{BASE}/invoices?per_page=100&page=2&updated_after=1700000000>; rel="last"',
            "X-Total-Count": "2",
        },
    )
    responses.get(
        f"{BASE}/invoices",
        match=[
            matchers.query_param_matcher(
                {"per_page": "100", "page": "2", "updated_after": "1700000000"}
            )
        ],
        body='[{"id": 2, "total": 0.30, "updated_at": 1700000200}]',
        headers={
            "Link": f'<{BASE}/invoices?per_page=100&page=2>; rel="last"',
            "X-Total-Count": "2",
        },
    )
    responses.get(f"{BASE}/events", json=[])
    stream = connector().streams()["invoices"]
    since = datetime.fromtimestamp(1700000000, UTC)
    records = [r for page in stream.pages(since, datetime.now(UTC)) for r in page.records]
    assert [r.remote_id for r in records] == ["1", "2"]
    assert records[1].payload["total"] == Decimal("0.30")
    assert records[0].modified_at == datetime.fromtimestamp(1700000100, UTC)
    assert responses.calls[0].request.headers["Authorization"].startswith("Basic ")


@responses.activate(assert_all_requests_are_fired=True)
def test_deletes_come_from_events() -> None:
    responses.get(f"{BASE}/invoices", json=[])
    responses.get(
        f"{BASE}/events",
        json=[
            {
                "id": 9,
                "type": "invoice.deleted",
                "timestamp": 1700000300,
                "data": {"object": {"id": 77, "number": "INV-1"}},
            }
        ],
    )
    stream = connector().streams()["invoices"]
    records = [
        r
        for page in stream.pages(datetime.fromtimestamp(1, UTC), datetime.now(UTC))
        for r in page.records
    ]
    assert [(r.remote_id, r.deleted) for r in records] == [("77", True)]
    assert "filter%5Btype%5D=invoice.deleted" in responses.calls[1].request.url


@responses.activate(assert_all_requests_are_fired=True)
def test_bad_key_is_an_auth_error_without_the_key() -> None:
    responses.get(
        f"{BASE}/customers",
        status=401,
        json={"type": "authentication_error", "message": "Invalid API key"},
    )
    with pytest.raises(AuthError) as caught:
        connector().check()
    assert "invoiced" in str(caught.value) and "sk_live_abc" not in str(caught.value)


@responses.activate(assert_all_requests_are_fired=True)
def test_rate_limit_is_retried_and_bad_request_is_data() -> None:
    responses.get(
        f"{BASE}/customers",
        status=429,
        headers={"Retry-After": "0"},
        json={"type": "rate_limit_error", "message": "slow down"},
    )
    responses.get(f"{BASE}/customers", json=[])
    connector().check()
    responses.get(
        f"{BASE}/credit_notes",
        status=400,
        json={"type": "invalid_request", "message": "bad", "param": "updated_after"},
    )
    with pytest.raises(DataError, match="updated_after"):
        next(connector().streams()["credit_memos"].pages(None, datetime.now(UTC)))


def test_webhook_signature_checked_before_parsing() -> None:
    body = json.dumps(
        {"id": 123, "type": "invoice.paid", "timestamp": 1, "data": {"object": {"id": 5}}}
    ).encode()
    good = hmac.new(b"whsec", body, hashlib.sha256).hexdigest()
    assert verify(body, {"X-Invoiced-Signature": good}, "whsec")
    assert not verify(body + b" ", {"X-Invoiced-Signature": good}, "whsec")
    assert not verify(body, {}, "whsec")
    event = parse(body)
    assert (event.id, event.object_type, event.object_id) == ("123", "invoice", "5")
