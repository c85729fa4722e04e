"""The one HTTP layer: classification, retries, Retry-After, refresh once, unkeyed writes."""

from __future__ import annotations

import json

import pytest
import requests
import responses
import urllib3

from connectors.errors import (
    AuthError,
    ConflictError,
    DataError,
    ErrorKind,
    RateLimitError,
    TransientError,
    UncertainWriteError,
)
from connectors.http import (
    ApiSession,
    ErrorRule,
    ErrorTable,
    RetryPolicy,
    _never_connected,
    parse_retry_after,
)

URL = "https://api.example.test/v1/things"


def fault_codes(response: requests.Response) -> list[tuple[str, str]]:
    body = response.json()
    return [(str(e["code"]), e["Message"]) for e in body.get("Fault", {}).get("Error", [])]


TABLE = ErrorTable(
    rules=[
        ErrorRule(ErrorKind.RATE_LIMITED, code="3001"),
        ErrorRule(ErrorKind.CONFLICT, code="5010"),
        ErrorRule(ErrorKind.DATA, status=200),
    ],
    body_errors=fault_codes,
)


class Recorder:
    def __init__(self) -> None:
        self.slept: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)


class TokenAuth(requests.auth.AuthBase):
    def __init__(self) -> None:
        self.token, self.refreshes = "old", 0

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request

    def refresh(self) -> None:
        self.refreshes += 1
        self.token = "new"


def session(sleep: Recorder, auth: requests.auth.AuthBase | None = None) -> ApiSession:
    return ApiSession(
        "vendor",
        error_table=TABLE,
        auth=auth,
        policy=RetryPolicy(max_attempts=4, sleep=sleep, max_delay=30),
    )


@responses.activate(assert_all_requests_are_fired=True)
def test_retry_after_is_honoured_then_success() -> None:
    sleep = Recorder()
    responses.get(URL, status=429, headers={"Retry-After": "7"}, json={})
    responses.get(URL, status=503, json={})
    responses.get(URL, json={"ok": True})
    api = session(sleep)
    assert api.get(URL).json() == {"ok": True}
    assert sleep.slept[0] == 7.0
    assert len(sleep.slept) == 2 and api.stats.total == 3 and api.stats.retries == 2


@responses.activate(assert_all_requests_are_fired=True)
def test_fault_inside_http_200_is_classified() -> None:
    responses.get(URL, json={"Fault": {"Error": [{"code": "5010", "Message": "Stale Object"}]}})
    with pytest.raises(ConflictError) as caught:
        session(Recorder()).get(URL)
    assert caught.value.code == "5010" and "Stale Object" in str(caught.value)


@responses.activate(assert_all_requests_are_fired=True)
def test_throttle_fault_in_body_is_retried() -> None:
    responses.get(URL, json={"Fault": {"Error": [{"code": "3001", "Message": "throttled"}]}})
    responses.get(URL, json={"ok": 1})
    assert session(Recorder()).get(URL).json() == {"ok": 1}


@responses.activate(assert_all_requests_are_fired=True)
def test_token_refreshed_once_per_request() -> None:
    auth = TokenAuth()
    responses.get(URL, status=401, json={})
    responses.get(URL, json={"ok": 1})
    assert session(Recorder(), auth).get(URL).json() == {"ok": 1}
    assert auth.refreshes == 1
    assert responses.calls[1].request.headers["Authorization"] == "Bearer new"


@responses.activate(assert_all_requests_are_fired=True)
def test_refresh_that_does_not_help_is_an_auth_error() -> None:
    auth = TokenAuth()
    responses.get(URL, status=401, json={})
    responses.get(URL, status=401, json={})
    with pytest.raises(AuthError):
        session(Recorder(), auth).get(URL)
    assert auth.refreshes == 1


@responses.activate(assert_all_requests_are_fired=True)
def test_rate_limit_gives_up_after_the_attempt_budget() -> None:
    for _ in range(4):
        responses.get(URL, status=429, json={})
    with pytest.raises(RateLimitError):
        session(Recorder()).get(URL)


@responses.activate(assert_all_requests_are_fired=True)
def test_unkeyed_write_is_never_resent_after_a_5xx() -> None:
    responses.post(URL, status=502, json={})
    with pytest.raises(UncertainWriteError):
        session(Recorder()).request("POST", URL, data=json.dumps({}), idempotent=False)


@responses.activate(assert_all_requests_are_fired=True)
def test_unkeyed_write_timeout_is_uncertain() -> None:
    responses.post(URL, body=requests.ReadTimeout("read timed out"))
    with pytest.raises(UncertainWriteError):
        session(Recorder()).request("POST", URL, idempotent=False)


def test_a_refused_connection_is_no_write_at_all() -> None:
    """Nothing left: an unkeyed write whose connection was refused is retried like any
    transient failure and never taken for an outcome unknown (a command left `sent`)."""
    local = ApiSession(
        "vendor",
        error_table=TABLE,
        policy=RetryPolicy(max_attempts=2, sleep=Recorder(), max_delay=0),
    )
    with pytest.raises(TransientError) as caught:
        local.request("POST", "http://127.0.0.1:9/things", idempotent=False, timeout=2)
    assert not isinstance(caught.value, UncertainWriteError)


def test_a_connection_reset_after_connecting_stays_uncertain() -> None:
    exc = requests.ConnectionError(
        urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError())
    )
    assert not _never_connected(exc)
    assert _never_connected(requests.ConnectTimeout("connect timed out"))


@responses.activate(assert_all_requests_are_fired=True)
def test_validation_error_is_data_and_not_retried() -> None:
    responses.post(URL, status=400, json={})
    with pytest.raises(DataError):
        session(Recorder()).post(URL)


@responses.activate(assert_all_requests_are_fired=True)
def test_secrets_do_not_leak_into_errors() -> None:
    responses.get(
        URL,
        status=400,
        json={
            "Fault": {
                "Error": [{"code": "2000", "Message": "bad Authorization: Bearer abc.def.ghi"}]
            }
        },
    )
    with pytest.raises(DataError) as caught:
        session(Recorder()).get(URL)
    assert "abc.def.ghi" not in str(caught.value)


def test_retry_after_http_date() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after(None) is None
