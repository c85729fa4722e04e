"""Invoiced over the wire, mocked strictly: Basic auth, Link paging, sort and updated_after,
deletes from /events, the error table, keyed POSTs, webhooks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import responses
from responses import matchers

from connectors.base import MemoryTokenStore, RawRecord
from connectors.errors import ApiError, AuthError, DataError, NotFoundError
from connectors.http import RetryPolicy
from connectors.invoiced import InvoicedConfig, InvoicedConnector
from connectors.invoiced.jsonwire import dumps
from connectors.invoiced.webhooks import WebhookError, parse, verify
from connectors.invoiced.writes import Application, PaymentCreate

BASE = "https://api.invoiced.test"
KEY = "sk_live_abc123"
SINCE = datetime.fromtimestamp(1_700_000_000, UTC)


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def connector(sleeps: list[float] | None = None, page_size: int = 100) -> InvoicedConnector:
    config = InvoicedConfig(api_key=KEY, base_url=BASE, page_size=page_size)  # type: ignore[arg-type]
    policy = RetryPolicy(sleep=(sleeps.append if sleeps is not None else lambda _: None))
    return InvoicedConnector(config, MemoryTokenStore(), policy=policy)


def pull(conn: InvoicedConnector, stream: str, since: datetime | None) -> list[list[RawRecord]]:
    return [page.records for page in conn.streams()[stream].pages(since, datetime.now(UTC))]


def link(path: str, **rels: int) -> str:
    return ", ".join(f'<{BASE}{path}?page={n}&per_page=2>; rel="{rel}"' for rel, n in rels.items())


def test_pages_follow_the_link_header_sorted_by_update_with_exact_amounts(
    mocked: responses.RequestsMock,
) -> None:
    mocked.get(
        f"{BASE}/events",
        match=[
            matchers.query_param_matcher(
                {"filter[type]": "invoice.deleted", "per_page": "2", "page": "1"}
            )
        ],
        json=[],
        headers={"Link": link("/events", last=1)},
    )
    mocked.get(
        f"{BASE}/invoices",
        match=[
            matchers.query_param_matcher(
                {
                    "sort": "updated_at ASC",
                    "updated_after": "1700000000",
                    "per_page": "2",
                    "page": "1",
                }
            )
        ],
        body='[{"id": 1, "total": 10.10, "updated_at": 1700000100},'
        ' {"id": 2, "total": 7, "updated_at": 1700000150}]',
        headers={"Link": link("/invoices", next=2, last=2), "X-Total-Count": "3"},
    )
    mocked.get(
        f"{BASE}/invoices",
        match=[matchers.query_param_matcher({"page": "2", "per_page": "2"})],
        body='[{"id": 3, "total": 0.30, "updated_at": 1700000200}]',
        headers={"Link": link("/invoices", last=2), "X-Total-Count": "3"},
    )
    conn = connector(page_size=2)
    pages = pull(conn, "invoices", SINCE)
    assert [[r.remote_id for r in page] for page in pages] == [["1", "2"], ["3"]]
    assert pages[1][0].payload["total"] == Decimal("0.30")
    assert isinstance(pages[0][1].payload["total"], int)
    assert pages[0][0].modified_at == datetime.fromtimestamp(1_700_000_100, UTC)
    # re-read from before a shift, pages may come out of order: the bookmark moves at the end
    assert not conn.streams()["invoices"].ordered
    assert conn.client.last_total == 3
    sent = mocked.calls[1].request.headers["Authorization"]
    assert sent == "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()


def test_full_pull_reads_no_events_and_payments_come_with_their_applications(
    mocked: responses.RequestsMock,
) -> None:
    mocked.get(
        f"{BASE}/payments",
        match=[
            matchers.query_param_matcher(
                {"include": "applied_to", "sort": "updated_at ASC", "per_page": "100", "page": "1"}
            )
        ],
        body='[{"id": 9, "amount": 800, "applied_to": [{"type": "invoice", "invoice": 4, '
        '"amount": 800}], "updated_at": 1700000000}]',
    )
    pages = pull(connector(), "payments", None)
    assert pages[0][0].payload["applied_to"][0]["invoice"] == 4


def test_deletes_come_from_events_newest_first_merged_in_time_order(
    mocked: responses.RequestsMock,
) -> None:
    def event(event_id: int, stamp: int, kind: str = "invoice.deleted") -> dict[str, object]:
        return {
            "id": event_id,
            "type": kind,
            "timestamp": stamp,
            "data": {"object": {"id": event_id * 10}},
        }

    mocked.get(
        f"{BASE}/events",
        match=[
            matchers.query_param_matcher(
                {"filter[type]": "invoice.deleted", "per_page": "2", "page": "1"}
            )
        ],
        json=[event(3, 1_700_000_300), event(2, 1_700_000_120)],
        headers={"Link": link("/events", next=2, last=3)},
    )
    mocked.get(
        f"{BASE}/events",
        match=[matchers.query_param_matcher({"page": "2", "per_page": "2"})],
        json=[event(9, 1_700_000_110, "invoice.updated"), event(1, 1_699_999_999)],
        headers={"Link": link("/events", next=3, last=3)},
    )  # page 3 is never asked for: page 2 already reaches back past the bookmark
    mocked.get(
        f"{BASE}/invoices",
        json=[
            {"id": 5, "total": 1, "updated_at": 1_700_000_100},
            {"id": 6, "total": 1, "updated_at": 1_700_000_200},
        ],
        headers={"Link": link("/invoices", next=2, last=2)},
    )
    mocked.get(
        f"{BASE}/invoices",
        match=[matchers.query_param_matcher({"page": "2", "per_page": "2"})],
        json=[{"id": 7, "total": 1, "updated_at": 1_700_000_250}],
    )
    pages = pull(connector(page_size=2), "invoices", SINCE)
    assert [[(r.remote_id, r.deleted) for r in page] for page in pages] == [
        [("5", False), ("6", False), ("20", True)],
        [("7", False)],
        [("30", True)],
    ]
    assert pages[2][0].modified_at == datetime.fromtimestamp(1_700_000_300, UTC)


def test_bad_key_is_an_auth_error_at_once_without_the_key(mocked: responses.RequestsMock) -> None:
    mocked.get(
        f"{BASE}/customers",
        status=401,
        json={"type": "authentication_error", "message": "Invalid API key"},
    )
    with pytest.raises(AuthError) as caught:
        connector().check()
    assert "invoiced" in str(caught.value) and "api_key" in str(caught.value)
    assert KEY not in str(caught.value)
    assert len(mocked.calls) == 1


def test_rate_limit_honours_retry_after_and_api_errors_are_retried(
    mocked: responses.RequestsMock,
) -> None:
    mocked.get(
        f"{BASE}/customers",
        status=429,
        headers={"Retry-After": "7"},
        json={"type": "rate_limit_error", "message": "Too many requests"},
    )
    mocked.get(f"{BASE}/customers", status=500, json={"type": "api_error", "message": "oops"})
    mocked.get(f"{BASE}/customers", status=502, body="<html>bad gateway</html>")
    mocked.get(f"{BASE}/customers", json=[])
    sleeps: list[float] = []
    conn = connector(sleeps)
    conn.check()
    assert sleeps[0] == 7.0 and len(sleeps) == 3
    assert conn.session.stats.retries == 3


def test_invalid_request_is_data_naming_the_param_and_404_is_not_found(
    mocked: responses.RequestsMock,
) -> None:
    mocked.get(
        f"{BASE}/credit_notes",
        status=400,
        json={"type": "invalid_request", "message": "Invalid value", "param": "updated_after"},
    )
    mocked.get(
        f"{BASE}/payments/77",
        status=404,
        json={"type": "invalid_request", "message": "No such payment: 77"},
    )
    conn = connector()
    with pytest.raises(DataError, match="updated_after"):
        pull(conn, "credit_memos", None)
    with pytest.raises(NotFoundError, match="No such payment"):
        conn.client.get("/payments/77")


def test_a_reply_that_is_not_json_or_a_looping_link_is_an_error(
    mocked: responses.RequestsMock,
) -> None:
    mocked.get(f"{BASE}/customers", body="<html>maintenance</html>")
    with pytest.raises(ApiError, match="not JSON"):
        pull(connector(), "customers", None)
    mocked.get(
        f"{BASE}/invoices",
        json=[],
        headers={"Link": f'<{BASE}/invoices?sort=updated_at+ASC&per_page=100&page=1>; rel="next"'},
    )
    with pytest.raises(ApiError, match="already read"):
        pull(connector(), "invoices", None)


def test_payment_is_posted_as_exact_json_with_its_idempotency_key(
    mocked: responses.RequestsMock,
) -> None:
    payment = PaymentCreate(
        key="outbox-42",
        customer_id="15",
        amount=Decimal("850.10"),
        applications=(
            Application("invoice", "44648", Decimal("800.10")),
            Application("credit_note", "44649", Decimal("50"), credit_note_id="2231"),
        ),
        currency="USD",
        reference="1450",
        method="check",
    )
    mocked.post(
        f"{BASE}/payments",
        match=[matchers.header_matcher({"Idempotency-Key": "outbox-42"})],
        status=201,
        body='{"id": 99, "amount": 850.10, "balance": 50.00}',
    )
    reply = connector().apply_payment(payment)
    assert reply["balance"] == Decimal("50.00")
    sent = mocked.calls[0].request.body
    assert isinstance(sent, bytes)
    assert b'"amount":850.10' in sent and b'"amount":800.10' in sent and b'"amount":50.00' in sent
    body = json.loads(sent, parse_float=Decimal)
    assert body["applied_to"][1] == {
        "type": "credit_note",
        "credit_note": 2231,
        "document_type": "invoice",
        "invoice": 44649,
        "amount": Decimal("50.00"),
    }
    assert body["metadata"] == {"arsync_key": "outbox-42"} and body["currency"] == "usd"


def test_a_payment_applying_more_cash_than_received_is_refused_before_sending() -> None:
    payment = PaymentCreate(
        key="k",
        customer_id="1",
        amount=Decimal("5"),
        applications=(Application("invoice", "2", Decimal("6")),),
    )
    with pytest.raises(ValueError, match="only 5 was received"):
        payment.body("arsync_key")


def test_exact_json_numbers_round_trip() -> None:
    text = dumps({"a": Decimal("0.10"), "b": [Decimal("-3"), "x"], "c": 1})
    assert text == '{"a":0.10,"b":[-3,"x"],"c":1}'
    with pytest.raises(TypeError):
        dumps({"a": 0.1})


def test_webhook_signature_is_checked_on_the_raw_body_before_parsing() -> None:
    body = (
        b'{"id": 123, "type": "invoice.paid", "timestamp": 1700000000, "data": {"object": '
        b'{"id": 5, "total": 51.15, "updated_at": 1700000000}, "previous": {"balance": 51.15}}}'
    )
    good = hmac.new(b"whsec", body, hashlib.sha256).hexdigest()
    assert verify(body, {"x-invoiced-signature": good}, "whsec")
    assert not verify(body + b" ", {"X-Invoiced-Signature": good}, "whsec")
    assert not verify(body, {"X-Invoiced-Signature": good}, "other")
    assert not verify(body, {}, "whsec")
    event = parse(body)
    assert (event.id, event.object_type, event.object_id, event.stream) == (
        "123",
        "invoice",
        "5",
        "invoices",
    )
    record = event.record()
    assert record is not None and not record.deleted
    assert record.payload["total"] == Decimal("51.15")
    assert event.previous == {"balance": Decimal("51.15")}
    deleted = parse(
        b'{"id": 9, "type": "payment.deleted", "timestamp": 5, "data": {"object": {"id": 8}}}'
    )
    gone = deleted.record()
    assert gone is not None and gone.deleted and gone.stream == "payments"
    assert parse(b'{"id": 1, "type": "email.sent", "data": {}}').record() is None
    with pytest.raises(WebhookError):
        parse(b'{"type": "invoice.paid"}')


def test_paging_follows_next_among_all_the_documented_link_relations(
    mocked: responses.RequestsMock,
) -> None:
    # the reference's Link header carries self, first, previous, next and last; the last page
    # has no next
    def header(page: int, last: int) -> str:
        rels = {"self": page, "first": 1}
        if page > 1:
            rels["previous"] = page - 1
        if page < last:
            rels["next"] = page + 1
        rels["last"] = last
        return ", ".join(
            f'<{BASE}/customers?page={n}&per_page=2>; rel="{rel}"' for rel, n in rels.items()
        )

    mocked.get(
        f"{BASE}/customers",
        match=[
            matchers.query_param_matcher({"sort": "updated_at ASC", "per_page": "2", "page": "1"})
        ],
        json=[{"id": 1, "name": "A", "updated_at": 1}, {"id": 2, "name": "B", "updated_at": 2}],
        headers={"Link": header(1, 3), "X-Total-Count": "5"},
    )
    for page, rows in ((2, [3, 4]), (3, [5])):
        mocked.get(
            f"{BASE}/customers",
            match=[matchers.query_param_matcher({"page": str(page), "per_page": "2"})],
            json=[{"id": i, "name": str(i), "updated_at": i} for i in rows],
            headers={"Link": header(page, 3), "X-Total-Count": "5"},
        )
    pages = pull(connector(page_size=2), "customers", None)
    assert [[r.remote_id for r in page] for page in pages] == [["1", "2"], ["3", "4"], ["5"]]
