"""Credentials failing while a write is retried: when an earlier attempt of the same request
may have been processed (sent with no reply, or a retryable 5xx), the write's outcome is
unknown (:class:`UncertainAuthError`), not "refused before anything ran" (:class:`AuthError`).
Reads, token endpoints and attempts never sent keep their AuthError."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import responses
from pydantic import SecretStr

from connectors.base import MemoryTokenStore
from connectors.errors import (
    ApiError,
    AuthError,
    ErrorKind,
    UncertainAuthError,
    UncertainWriteError,
    share_of_failed_call,
)
from connectors.http import ApiSession, ErrorRule, ErrorTable, RetryPolicy, keyed_write
from connectors.quickbooks import QuickBooksConfig
from connectors.quickbooks.client import QuickBooksClient

URL = "https://api.example.test/v1/payments"
TOKEN = "https://auth.example.test/oauth/token"
ACCESS = "AT-very-secret-access-token-0001"
REFRESH = "RT-very-secret-refresh-token-0002"


def oauth_errors(response: requests.Response) -> list[tuple[str, str]]:
    body = response.json()
    return [(str(body["error"]), str(body.get("error_description") or ""))]


TOKEN_TABLE = ErrorTable(
    rules=[ErrorRule(ErrorKind.AUTH, status=400, code="invalid_grant")],
    body_errors=oauth_errors,
)


class RefusedRefresh(requests.auth.AuthBase):
    """Bearer auth whose refresh goes to a token endpoint through its own ApiSession (no auth
    object), as the connectors' OAuth strategies do."""

    def __init__(self, sleep: Any = None) -> None:
        self.token = ACCESS
        self.refreshes = 0
        self.token_session = ApiSession(
            "vendor-oauth",
            error_table=TOKEN_TABLE,
            policy=RetryPolicy(max_attempts=3, sleep=sleep or (lambda s: None)),
        )

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request

    def refresh(self) -> None:
        self.refreshes += 1
        try:
            self.token_session.post(
                TOKEN, data={"grant_type": "refresh_token", "refresh_token": REFRESH}
            )
        except AuthError as exc:
            raise AuthError("vendor", f"refresh token rejected: {exc.message}") from None


def api(auth: requests.auth.AuthBase | None = None) -> ApiSession:
    return ApiSession("vendor", auth=auth, policy=RetryPolicy(max_attempts=4, sleep=lambda s: None))


def refused_grant() -> None:
    responses.post(
        TOKEN, status=400, json={"error": "invalid_grant", "error_description": "revoked"}
    )


def keyed_post(session: ApiSession, **extra: Any) -> requests.Response:
    return session.post(
        URL, json={"amount": "10.00"}, headers={"Idempotency-Key": "key-1"}, **extra
    )


def assert_uncertain(exc: BaseException) -> None:
    assert isinstance(exc, UncertainAuthError) and isinstance(exc, UncertainWriteError)
    assert not isinstance(exc, AuthError)  # callers must not take it for "nothing ran"
    assert isinstance(exc.auth, AuthError) and exc.auth.kind is ErrorKind.AUTH
    text = str(exc)
    assert "outcome unknown" in text and "vendor" in text
    assert ACCESS not in text and REFRESH not in text


@responses.activate(assert_all_requests_are_fired=True)
def test_keyed_post_timed_out_after_sending_then_refresh_refused_is_uncertain() -> None:
    responses.post(URL, body=requests.ReadTimeout("read timed out"))
    responses.post(URL, status=401, json={"error": "expired", "token": ACCESS})
    refused_grant()
    auth = RefusedRefresh()
    with pytest.raises(UncertainWriteError) as caught:
        keyed_post(api(auth))
    assert_uncertain(caught.value)
    assert "ReadTimeout" in str(caught.value) and "refresh token rejected" in str(caught.value)
    assert auth.refreshes == 1


@responses.activate(assert_all_requests_are_fired=True)
def test_keyed_post_503_then_refresh_refused_is_uncertain() -> None:
    responses.post(URL, status=503, json={})
    responses.post(URL, status=401, json={})
    refused_grant()
    with pytest.raises(UncertainWriteError) as caught:
        keyed_post(api(RefusedRefresh()))
    assert_uncertain(caught.value)
    assert "HTTP 503" in str(caught.value)


@responses.activate(assert_all_requests_are_fired=True)
def test_keyed_post_503_then_a_refreshed_token_refused_again_is_uncertain() -> None:
    class Refreshes(requests.auth.AuthBase):
        def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
            request.headers["Authorization"] = f"Bearer {ACCESS}"
            return request

        def refresh(self) -> None:
            pass

    responses.post(URL, status=502, json={})
    responses.post(URL, status=401, json={"echo": f"Bearer {ACCESS}"})
    responses.post(URL, status=401, json={"echo": f"Bearer {ACCESS}"})
    with pytest.raises(UncertainWriteError) as caught:
        keyed_post(api(Refreshes()))
    assert_uncertain(caught.value)
    assert caught.value.status == 401


@responses.activate(assert_all_requests_are_fired=True)
def test_a_key_in_the_parameters_a_patch_or_write_true_makes_a_write() -> None:
    for _ in range(3):
        responses.post(URL, status=504, json={})
        responses.post(URL, status=403, json={})
    responses.patch(URL, status=503, json={})
    responses.patch(URL, status=403, json={})
    session = api()
    with pytest.raises(UncertainAuthError):
        session.post(URL, data="{}", params={"requestid": "r-1"})
    with pytest.raises(UncertainAuthError):
        session.post(f"{URL}?requestid=r-2", data="{}")
    # a protocol whose reads are POSTs too (Intacct): the write path says so
    with pytest.raises(UncertainAuthError):
        session.request("POST", URL, body_factory=lambda: b"<request/>", write=True)
    with pytest.raises(UncertainAuthError):
        session.patch(URL, json={"Status": "Paid"})


@responses.activate(assert_all_requests_are_fired=True)
def test_a_read_keeps_its_auth_error() -> None:
    responses.get(URL, status=503, json={})
    responses.get(URL, status=401, json={})
    refused_grant()
    with pytest.raises(AuthError) as caught:
        api(RefusedRefresh()).get(URL)
    assert not isinstance(caught.value, UncertainWriteError)
    assert "refresh token rejected" in str(caught.value)


@responses.activate(assert_all_requests_are_fired=True)
def test_an_unkeyed_post_read_and_write_false_keep_their_auth_error() -> None:
    session = api()
    for _ in range(2):
        responses.post(URL, status=503, json={})
        responses.post(URL, status=403, json={})
    # a POST carrying no key may be a read (a QuickBooks query, an Intacct readByQuery)
    with pytest.raises(AuthError) as caught:
        session.post(URL, data="select * from Invoice")
    assert not isinstance(caught.value, UncertainWriteError)
    with pytest.raises(AuthError) as caught:
        keyed_post(session, write=False)
    assert not isinstance(caught.value, UncertainWriteError)


@responses.activate(assert_all_requests_are_fired=True)
def test_token_post_503_then_invalid_grant_stays_a_one_line_auth_error() -> None:
    responses.post(TOKEN, status=503, json={"error": "temporarily_unavailable"})
    refused_grant()
    auth = RefusedRefresh()
    with pytest.raises(AuthError) as caught:
        auth.token_session.post(
            TOKEN, data={"grant_type": "refresh_token", "refresh_token": REFRESH}
        )
    assert not isinstance(caught.value, UncertainWriteError)
    assert str(caught.value) == "vendor-oauth: revoked (HTTP 400, code invalid_grant)"
    assert REFRESH not in str(caught.value)


@responses.activate(assert_all_requests_are_fired=True)
def test_a_post_never_sent_then_refused_keeps_its_auth_error() -> None:
    responses.post(URL, body=requests.ConnectTimeout("connect timed out"))
    responses.post(URL, status=401, json={})
    refused_grant()
    with pytest.raises(AuthError) as caught:
        keyed_post(api(RefusedRefresh()))
    assert not isinstance(caught.value, UncertainWriteError)


@responses.activate(assert_all_requests_are_fired=True)
def test_a_post_throttled_then_refused_keeps_its_auth_error() -> None:
    responses.post(URL, status=429, json={})  # refused: nothing processed
    responses.post(URL, status=403, json={})
    with pytest.raises(AuthError) as caught:
        keyed_post(api())
    assert not isinstance(caught.value, UncertainWriteError)


@responses.activate(assert_all_requests_are_fired=True)
def test_a_keyed_post_whose_refresh_succeeds_is_answered() -> None:
    responses.post(URL, status=503, json={})
    responses.post(URL, status=401, json={})
    responses.post(TOKEN, json={"access_token": "AT-2"})
    responses.post(URL, json={"id": 7})
    assert keyed_post(api(RefusedRefresh())).json() == {"id": 7}


def test_a_write_is_told_by_its_key_or_its_method() -> None:
    assert not keyed_write("GET", URL, {"headers": {"Idempotency-Key": "k"}})
    assert not keyed_write("POST", URL, {"data": "x"})
    assert not keyed_write("POST", TOKEN, {"data": {"grant_type": "refresh_token"}})
    assert keyed_write("POST", URL, {"headers": {"idempotency-key": "k"}})
    assert keyed_write("POST", URL, {"params": {"minorversion": "75", "requestid": "r"}})
    assert keyed_write("POST", URL, {"params": [("requestid", "r")]})
    assert keyed_write("post", f"{URL}?requestid=r", {})
    assert keyed_write("PATCH", URL, {}) and keyed_write("DELETE", URL, {})


def test_one_writes_share_of_an_uncertain_auth_failure_keeps_the_auth_failure() -> None:
    auth = AuthError("vendor", "refresh token rejected: invalid_grant")
    exc = UncertainAuthError("vendor", "POST /v1/payments: outcome unknown", auth=auth)
    share = share_of_failed_call(exc, "command c-1")
    assert isinstance(share, UncertainAuthError) and share.auth is auth
    assert str(share).startswith("vendor: command c-1: outcome unknown")


# QuickBooks, over its own client: a batch (POST with requestid) and its token endpoint ------
QBO_API = "https://qbo.test"
QBO_TOKEN = "https://oauth.test/oauth2/v1/tokens/bearer"
REALM = "4620816365"


def qbo_client() -> QuickBooksClient:
    config = QuickBooksConfig(
        realm_id=REALM,
        client_id="client-abc",
        client_secret=SecretStr("s3cret-value"),
        refresh_token=SecretStr("RT-initial"),
        api_base_url=QBO_API,
        token_url=QBO_TOKEN,
        per_second=0,
    )
    return QuickBooksClient(config, MemoryTokenStore(), policy=RetryPolicy(sleep=lambda s: None))


def granted() -> None:
    reply = {"access_token": ACCESS, "refresh_token": "RT-2", "expires_in": 3600}
    responses.post(QBO_TOKEN, json={**reply, "token_type": "bearer"})


@responses.activate(assert_all_requests_are_fired=True)
def test_quickbooks_batch_503_then_refresh_refused_is_uncertain() -> None:
    batch = f"{QBO_API}/v3/company/{REALM}/batch"
    granted()
    responses.post(batch, status=503, json={})
    responses.post(batch, status=401, json={})
    responses.post(QBO_TOKEN, status=400, json={"error": "invalid_grant"})
    client = qbo_client()
    with pytest.raises(UncertainWriteError) as caught:
        client.post("batch", {"BatchItemRequest": []}, request_id="rq-1")
    assert isinstance(caught.value, UncertainAuthError)
    text = str(caught.value)
    assert "outcome unknown" in text and "invalid_grant" in text
    assert ACCESS not in text and "RT-initial" not in text and "s3cret-value" not in text


@responses.activate(assert_all_requests_are_fired=True)
def test_quickbooks_query_and_token_endpoint_keep_their_auth_error() -> None:
    query = f"{QBO_API}/v3/company/{REALM}/query"
    granted()
    responses.post(query, status=503, json={})
    responses.post(query, status=401, json={})
    responses.post(QBO_TOKEN, status=503, json={})
    responses.post(QBO_TOKEN, status=400, json={"error": "invalid_grant"})
    client = qbo_client()
    with pytest.raises(AuthError) as caught:
        client.query("select * from Invoice")
    assert not isinstance(caught.value, UncertainWriteError)
    assert "invalid_grant" in str(caught.value) and "\n" not in str(caught.value)


@responses.activate(assert_all_requests_are_fired=True)
def test_keyed_post_timed_out_then_refused_as_a_conflict_is_uncertain() -> None:
    # the first attempt wrote, its reply was lost; the resend conflicts with what it wrote
    responses.post(URL, body=requests.ReadTimeout("read timed out"))
    responses.post(URL, status=409, json={"message": "stale version"})
    with pytest.raises(UncertainWriteError) as caught:
        keyed_post(api())
    assert not isinstance(caught.value, UncertainAuthError)
    assert "outcome unknown" in str(caught.value) and "ReadTimeout" in str(caught.value)


@responses.activate(assert_all_requests_are_fired=True)
def test_a_read_refused_after_a_timeout_keeps_its_refusal() -> None:
    responses.get(URL, body=requests.ReadTimeout("read timed out"))
    responses.get(URL, status=409, json={"message": "conflict"})
    with pytest.raises(ApiError) as caught:
        api().get(URL)
    assert not isinstance(caught.value, UncertainWriteError)
