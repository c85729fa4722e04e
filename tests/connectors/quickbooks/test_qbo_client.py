"""QuickBooks client, auth and error table against mocked HTTP (strict: unused mocks fail)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs

import pytest
import requests
import responses
from responses import matchers

from connectors.base import MemoryTokenStore
from connectors.errors import (
    AuthError,
    ConflictError,
    DataError,
    ErrorKind,
    NotFoundError,
    RateLimitError,
)
from connectors.http import RetryPolicy
from connectors.quickbooks import QuickBooksConfig, QuickBooksConnector
from connectors.quickbooks.auth import QuickBooksOAuth
from connectors.quickbooks.errors import ERROR_TABLE
from tests.connectors.quickbooks.qbo_helpers import COMPANY, TOKEN_URL, Sleeps

Mock = responses.RequestsMock


def token_reply(access: str = "AT-1", refresh: str = "RT-2", expires: int = 3600) -> dict:
    return {
        "token_type": "bearer",
        "access_token": access,
        "refresh_token": refresh,
        "expires_in": expires,
        "x_refresh_token_expires_in": 8726400,
    }


def fault(code: str, message: str, kind: str = "ValidationFault") -> dict:
    return {
        "Fault": {"Error": [{"Message": message, "Detail": message, "code": code}], "type": kind},
        "time": "2024-03-12T14:02:11.000-07:00",
    }


def invoice(rid: str, stamp: str) -> dict:
    return {"Id": rid, "SyncToken": "0", "TotalAmt": 10.5, "MetaData": {"LastUpdatedTime": stamp}}


def test_refresh_posts_the_grant_with_basic_auth_and_stores_the_rotated_token(
    config: QuickBooksConfig,
) -> None:
    tokens = MemoryTokenStore()
    auth = QuickBooksOAuth(config, tokens)
    with Mock(assert_all_requests_are_fired=True) as mock:
        mock.post(
            TOKEN_URL,
            json=token_reply(refresh="RT-rotated"),
            match=[
                matchers.urlencoded_params_matcher(
                    {"grant_type": "refresh_token", "refresh_token": "RT-initial"}
                ),
                matchers.header_matcher(
                    {"Authorization": requests.auth._basic_auth_str("client-abc", "s3cret-value")}
                ),
            ],
        )
        assert auth.access_token == "AT-1"
        assert auth.access_token == "AT-1"  # cached: one call
    assert tokens.get("refresh_token") == "RT-rotated"


def test_the_stored_refresh_token_wins_over_the_configured_one(config: QuickBooksConfig) -> None:
    tokens = MemoryTokenStore({"refresh_token": "RT-stored"})
    with Mock(assert_all_requests_are_fired=True) as mock:
        mock.post(
            TOKEN_URL,
            json=token_reply(refresh="RT-stored"),
            match=[
                matchers.urlencoded_params_matcher(
                    {"grant_type": "refresh_token", "refresh_token": "RT-stored"}
                )
            ],
        )
        QuickBooksOAuth(config, tokens).refresh()
    assert tokens.get("refresh_token") == "RT-stored"


def test_expired_access_token_is_refreshed_before_use(config: QuickBooksConfig) -> None:
    now = [1000.0]
    auth = QuickBooksOAuth(config, MemoryTokenStore(), clock=lambda: now[0])
    with Mock(assert_all_requests_are_fired=True) as mock:
        mock.post(TOKEN_URL, json=token_reply("AT-1", "RT-2"))
        mock.post(TOKEN_URL, json=token_reply("AT-2", "RT-3"))
        assert auth.access_token == "AT-1"
        now[0] += 3600
        assert auth.access_token == "AT-2"


def test_rejected_refresh_token_is_an_auth_error_without_secrets(
    config: QuickBooksConfig,
) -> None:
    auth = QuickBooksOAuth(config, MemoryTokenStore(), policy=RetryPolicy(sleep=lambda s: None))
    with Mock(assert_all_requests_are_fired=True) as mock:
        mock.post(TOKEN_URL, json={"error": "invalid_grant"}, status=400)
        with pytest.raises(AuthError) as caught:
            auth.refresh()
    text = str(caught.value)
    assert "quickbooks" in text and "invalid_grant" in text
    assert "RT-initial" not in text and "s3cret-value" not in text


def test_missing_refresh_token_is_an_auth_error(config: QuickBooksConfig) -> None:
    bare = config.model_copy(update={"refresh_token": None})
    with pytest.raises(AuthError, match="no refresh token"):
        QuickBooksOAuth(bare, MemoryTokenStore()).refresh()


def test_query_pages_continue_from_the_last_stamp_and_drop_boundary_repeats(
    connector: QuickBooksConnector,
) -> None:
    statements: list[str] = []
    pages = [
        [invoice("1", "2024-01-01T10:00:00-08:00"), invoice("2", "2024-01-02T10:00:00-08:00")],
        [invoice("2", "2024-01-02T10:00:00-08:00"), invoice("3", "2024-01-03T10:00:00-08:00")],
        [invoice("3", "2024-01-03T10:00:00-08:00")],
    ]

    def callback(request: requests.PreparedRequest) -> tuple[int, dict, str]:
        statements.append(str(request.body))
        rows = pages[len(statements) - 1]
        return 200, {}, json.dumps({"QueryResponse": {"Invoice": rows, "startPosition": 1}})

    with Mock(assert_all_requests_are_fired=True) as mock:
        mock.post(TOKEN_URL, json=token_reply())
        mock.add_callback(
            responses.POST,
            f"{COMPANY}/query",
            callback=callback,
            content_type="application/json",
            match=[matchers.query_param_matcher({"minorversion": "75"})],
        )
        seen = [
            [r.remote_id for r in page.records]
            for page in connector.streams()["invoices"].pages(None, datetime.now(UTC))
        ]
    assert seen == [["1", "2"], ["3"], []]
    assert statements[0] == (
        "SELECT * FROM Invoice ORDERBY MetaData.LastUpdatedTime STARTPOSITION 1 MAXRESULTS 2"
    )
    assert "MetaData.LastUpdatedTime >= '2024-01-02T18:00:00+00:00'" in statements[1]
    assert "STARTPOSITION 1 MAXRESULTS 2" in statements[1]
    assert "MetaData.LastUpdatedTime >= '2024-01-03T18:00:00+00:00'" in statements[2]


def test_customers_query_includes_inactive_ones(connector: QuickBooksConnector) -> None:
    with Mock(assert_all_requests_are_fired=True) as mock:
        mock.post(TOKEN_URL, json=token_reply())
        mock.post(
            f"{COMPANY}/query",
            json={"QueryResponse": {}},
            match=[
                matchers.body_matcher(
                    "SELECT * FROM Customer WHERE Active IN (true, false) AND "
                    "MetaData.LastUpdatedTime >= '2024-01-01T00:00:00+00:00' "
                    "ORDERBY MetaData.LastUpdatedTime STARTPOSITION 1 MAXRESULTS 2"
                )
            ],
        )
        old = datetime(2024, 1, 1, 0, 0, 0, 700000, tzinfo=UTC)
        pages = list(connector.streams()["customers"].pages(old, datetime.now(UTC)))
    assert [len(p.records) for p in pages] == [0]


def test_amounts_arrive_as_decimal(connector: QuickBooksConnector) -> None:
    with Mock(assert_all_requests_are_fired=True) as mock:
        mock.post(TOKEN_URL, json=token_reply())
        mock.post(
            f"{COMPANY}/query",
            body='{"QueryResponse": {"Invoice": [{"Id": "1", "TotalAmt": 1250.10,'
            ' "MetaData": {"LastUpdatedTime": "2024-01-01T10:00:00-08:00"}}]}}',
            content_type="application/json",
        )
        page = next(iter(connector.streams()["invoices"].pages(None, datetime.now(UTC))))
    assert page.records[0].payload["TotalAmt"] == Decimal("1250.10")


def test_unauthorized_refreshes_once_and_resends(connector: QuickBooksConnector) -> None:
    with Mock(assert_all_requests_are_fired=True) as mock:
        mock.post(TOKEN_URL, json=token_reply("AT-old", "RT-2"))
        mock.get(
            f"{COMPANY}/preferences",
            json=fault("3200", "message=AuthenticationFailed; errorCode=003200", "AUTHENTICATION"),
            status=401,
            match=[matchers.header_matcher({"Authorization": "Bearer AT-old"})],
        )
        mock.post(TOKEN_URL, json=token_reply("AT-new", "RT-3"))
        mock.get(
            f"{COMPANY}/preferences",
            json={"Preferences": {"Id": "1"}},
            match=[matchers.header_matcher({"Authorization": "Bearer AT-new"})],
        )
        connector.check()
    assert connector.session.stats.refreshes == 1
    assert connector.api_calls == 4


def test_check_with_a_revoked_refresh_token_names_the_company(
    connector: QuickBooksConnector,
) -> None:
    with Mock(assert_all_requests_are_fired=True) as mock:
        mock.post(TOKEN_URL, json={"error": "invalid_grant"}, status=400)
        with pytest.raises(AuthError) as caught:
            connector.check()
    assert "quickbooks" in str(caught.value) and "4620816365" in str(caught.value)


def test_throttle_fault_in_http_200_waits_a_minute_then_retries(
    connector: QuickBooksConnector, sleeps: Sleeps
) -> None:
    throttled = fault("3001", "message=ThrottleExceeded; errorCode=003001", "SERVICE")
    with Mock(assert_all_requests_are_fired=True) as mock:
        mock.post(TOKEN_URL, json=token_reply())
        mock.post(f"{COMPANY}/query", json=throttled, status=200)
        mock.post(f"{COMPANY}/query", json=throttled, status=429)
        mock.post(f"{COMPANY}/query", json={"QueryResponse": {}})
        list(connector.streams()["payments"].pages(None, datetime.now(UTC)))
    assert sleeps == [60.0, 60.0]


def test_retry_after_from_the_server_is_honoured(
    connector: QuickBooksConnector, sleeps: Sleeps
) -> None:
    with Mock(assert_all_requests_are_fired=True) as mock:
        mock.post(TOKEN_URL, json=token_reply())
        mock.post(f"{COMPANY}/query", status=429, headers={"Retry-After": "7"}, body="")
        mock.post(f"{COMPANY}/query", json={"QueryResponse": {}})
        list(connector.streams()["payments"].pages(None, datetime.now(UTC)))
    assert sleeps == [7.0]


def test_validation_fault_is_a_data_error_naming_the_element(
    connector: QuickBooksConnector,
) -> None:
    body = fault("4000", "message=QueryParserError; errorCode=004000")
    body["Fault"]["Error"][0]["element"] = "query"
    with Mock(assert_all_requests_are_fired=True) as mock:
        mock.post(TOKEN_URL, json=token_reply())
        mock.post(f"{COMPANY}/query", json=body, status=400)
        with pytest.raises(DataError) as caught:
            list(connector.streams()["payments"].pages(None, datetime.now(UTC)))
    assert "QueryParserError" in str(caught.value) and "element query" in str(caught.value)


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (429, fault("3001", "ThrottleExceeded", "SERVICE"), ErrorKind.RATE_LIMITED),
        (200, fault("3001", "ThrottleExceeded", "SERVICE"), ErrorKind.RATE_LIMITED),
        (403, fault("3001", "ThrottleExceeded", "SERVICE"), ErrorKind.RATE_LIMITED),
        (401, fault("3200", "AuthenticationFailed", "AUTHENTICATION"), ErrorKind.REFRESH),
        (403, fault("3100", "ApplicationAuthorizationFailed"), ErrorKind.AUTH),
        (400, fault("5010", "Stale Object Error"), ErrorKind.CONFLICT),
        (400, fault("610", "Object Not Found"), ErrorKind.NOT_FOUND),
        (200, fault("6000", "A business validation error"), ErrorKind.DATA),
        (500, fault("10000", "An application error", "SystemFault"), ErrorKind.RETRY),
        (200, fault("10000", "An application error", "SystemFault"), ErrorKind.RETRY),
        (503, None, ErrorKind.RETRY),
    ],
)
def test_error_table(status: int, body: dict | None, kind: ErrorKind) -> None:
    response = requests.Response()
    response.status_code = status
    response.headers["Content-Type"] = "application/json"
    response._content = json.dumps(body).encode() if body else b""
    failure = ERROR_TABLE.classify(response)
    assert failure is not None and failure.kind is kind


def test_success_body_is_not_a_failure() -> None:
    response = requests.Response()
    response.status_code = 200
    response.headers["Content-Type"] = "application/json"
    response._content = b'{"QueryResponse": {}}'
    assert ERROR_TABLE.classify(response) is None


def test_cdc_is_fetched_once_for_all_four_streams(connector: QuickBooksConnector) -> None:
    since = datetime.now(UTC) - timedelta(days=2)
    until = datetime.now(UTC)
    stamp = (since + timedelta(hours=1)).isoformat()
    cdc = {
        "CDCResponse": [
            {
                "QueryResponse": [
                    {
                        "Customer": [
                            {
                                "Id": "5",
                                "Active": True,
                                "DisplayName": "A",
                                "MetaData": {"LastUpdatedTime": stamp},
                            }
                        ]
                    },
                    {
                        "Invoice": [
                            {
                                "domain": "QBO",
                                "status": "Deleted",
                                "Id": "9",
                                "MetaData": {"LastUpdatedTime": stamp},
                            }
                        ]
                    },
                    {"startPosition": 1, "maxResults": 0},
                    {"Payment": [invoice("11", stamp)]},
                ]
            }
        ],
        "time": stamp,
    }
    with Mock(assert_all_requests_are_fired=True) as mock:
        mock.post(TOKEN_URL, json=token_reply())
        mock.get(
            f"{COMPANY}/cdc",
            json=cdc,
            match=[
                matchers.query_param_matcher(
                    {
                        "entities": "Customer,Invoice,CreditMemo,Payment",
                        "changedSince": since.replace(microsecond=0).isoformat(),
                        "minorversion": "75",
                    }
                )
            ],
        )
        got = {
            name: [(r.remote_id, r.deleted) for p in s.pages(since, until) for r in p.records]
            for name, s in connector.streams().items()
        }
    assert got == {
        "customers": [("5", False)],
        "invoices": [("9", True)],
        "credit_memos": [],
        "payments": [("11", False)],
    }


def test_cdc_at_its_cap_falls_back_to_the_query(config: QuickBooksConfig) -> None:
    capped = QuickBooksConnector(
        config.model_copy(update={"cdc_max_objects": 1}), MemoryTokenStore()
    )
    since = datetime.now(UTC) - timedelta(days=1)
    stamp = (since + timedelta(minutes=5)).isoformat()
    cdc = {"CDCResponse": [{"QueryResponse": [{"Invoice": [invoice("1", stamp)]}]}]}
    with Mock(assert_all_requests_are_fired=True) as mock:
        mock.post(TOKEN_URL, json=token_reply())
        mock.get(f"{COMPANY}/cdc", json=cdc)
        mock.post(f"{COMPANY}/query", json={"QueryResponse": {"Invoice": [invoice("1", stamp)]}})
        pages = list(capped.streams()["invoices"].pages(since, datetime.now(UTC)))
    assert [r.remote_id for p in pages for r in p.records] == ["1"]


def test_since_older_than_thirty_days_uses_the_query(connector: QuickBooksConnector) -> None:
    since = datetime.now(UTC) - timedelta(days=31)
    with Mock(assert_all_requests_are_fired=True) as mock:
        mock.post(TOKEN_URL, json=token_reply())
        mock.post(f"{COMPANY}/query", json={"QueryResponse": {}})
        assert [
            len(p.records) for p in connector.streams()["invoices"].pages(since, datetime.now(UTC))
        ] == [0]


def test_stale_sync_token_fault_is_a_conflict(connector: QuickBooksConnector) -> None:
    with Mock(assert_all_requests_are_fired=True) as mock:
        mock.post(TOKEN_URL, json=token_reply())
        mock.post(f"{COMPANY}/invoice", json=fault("5010", "Stale Object Error"), status=400)
        with pytest.raises(ConflictError):
            connector.client.post("invoice", {"Id": "1", "SyncToken": "0", "sparse": True})


def test_missing_object_is_not_found(connector: QuickBooksConnector) -> None:
    with Mock(assert_all_requests_are_fired=True) as mock:
        mock.post(TOKEN_URL, json=token_reply())
        mock.get(f"{COMPANY}/invoice/77", json=fault("610", "Object Not Found"), status=400)
        with pytest.raises(NotFoundError):
            connector.client.read("Invoice", "77")


def test_rate_limit_error_surfaces_after_the_attempts(config: QuickBooksConfig) -> None:
    quick = QuickBooksConnector(
        config, MemoryTokenStore(), policy=RetryPolicy(max_attempts=2, sleep=lambda s: None)
    )
    with Mock(assert_all_requests_are_fired=True) as mock:
        mock.post(TOKEN_URL, json=token_reply())
        mock.post(f"{COMPANY}/query", json=fault("3001", "ThrottleExceeded", "SERVICE"), status=429)
        mock.post(f"{COMPANY}/query", json=fault("3001", "ThrottleExceeded", "SERVICE"), status=429)
        with pytest.raises(RateLimitError):
            list(quick.streams()["payments"].pages(None, datetime.now(UTC)))


def test_form_body_of_refresh_is_urlencoded(config: QuickBooksConfig) -> None:
    captured: list[str] = []

    def callback(request: requests.PreparedRequest) -> tuple[int, dict, str]:
        captured.append(str(request.body))
        return 200, {}, json.dumps(token_reply())

    with Mock(assert_all_requests_are_fired=True) as mock:
        mock.add_callback(responses.POST, TOKEN_URL, callback=callback)
        QuickBooksOAuth(config, MemoryTokenStore()).refresh()
    assert parse_qs(captured[0]) == {
        "grant_type": ["refresh_token"],
        "refresh_token": ["RT-initial"],
    }
