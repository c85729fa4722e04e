"""Salesforce OAuth as documented (help.salesforce.com, "OAuth 2.0 Authorization Errors";
developer.salesforce.com token responses): instance_url of the token response is where API
calls go; every token-endpoint refusal is a one-line stop naming Salesforce and the fix."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses

from connectors.base import MemoryTokenStore
from connectors.errors import AuthError
from connectors.http import RetryPolicy
from connectors.salesforce import SalesforceConfig, SalesforceConnector
from connectors.salesforce.client import SalesforceClient

TOKEN_URL = "https://login.example.test/services/oauth2/token"
INSTANCE = "https://acme.my.example.test"
OTHER = "https://stale-host.example.test"
SECRET = "client-secret-value-123"
PASSWORD = "user-password-456"
SECURITY_TOKEN = "sec-token-789"


def config(**changes: object) -> SalesforceConfig:
    values: dict[str, object] = {
        "token_url": TOKEN_URL,
        "client_id": "client-id",
        "client_secret": SECRET,
        "page_size": 2,
    }
    values.update(changes)
    return SalesforceConfig.model_validate(values)


def token_body(token: str = "00Dxx!t1", instance: str = INSTANCE) -> dict[str, str]:
    return {
        "access_token": token,
        "instance_url": instance,
        "id": f"{instance}/id/00Dxx/005xx",
        "token_type": "Bearer",
        "issued_at": "1714550400000",
        "signature": "sig",
    }


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def make(
    cfg: SalesforceConfig | None = None, tokens: MemoryTokenStore | None = None
) -> SalesforceConnector:
    return SalesforceConnector(
        cfg or config(), tokens or MemoryTokenStore(), policy=RetryPolicy(sleep=lambda _: None)
    )


def test_api_calls_go_to_the_instance_url_of_the_token_response(
    mock: responses.RequestsMock,
) -> None:
    """A configured instance_url that differs does not send the session to the wrong host."""
    mock.post(TOKEN_URL, json=token_body())
    mock.get(f"{INSTANCE}/services/data/v62.0/limits/", json={"DailyApiRequests": {}})
    client = SalesforceClient(
        config(instance_url=OTHER), MemoryTokenStore(), RetryPolicy(sleep=lambda _: None)
    )
    client.auth.refresh()
    client.limits()
    assert client.auth.instance_url == INSTANCE
    url = mock.calls[1].request.url
    assert url is not None and url.startswith(f"{INSTANCE}/services/data/v62.0/")


def test_the_configured_instance_url_stands_in_only_when_the_response_has_none(
    mock: responses.RequestsMock,
) -> None:
    body = token_body()
    del body["instance_url"]
    mock.post(TOKEN_URL, json=body)
    client = SalesforceClient(
        config(instance_url=OTHER), MemoryTokenStore(), RetryPolicy(sleep=lambda _: None)
    )
    client.auth.refresh()
    assert client.auth.instance_url == OTHER


def test_a_stored_session_keeps_the_instance_it_was_issued_for(
    mock: responses.RequestsMock,
) -> None:
    tokens = MemoryTokenStore(
        {"salesforce.access_token": "00Dxx!kept", "salesforce.instance_url": INSTANCE}
    )
    mock.get(f"{INSTANCE}/services/data/v62.0/limits/", json={"DailyApiRequests": {}})
    client = SalesforceClient(config(instance_url=OTHER), tokens, RetryPolicy(sleep=lambda _: None))
    client.limits()
    assert mock.calls[0].request.headers["Authorization"] == "Bearer 00Dxx!kept"


def test_the_api_version_is_in_the_data_path(mock: responses.RequestsMock) -> None:
    mock.post(TOKEN_URL, json=token_body())
    mock.get(f"{INSTANCE}/services/data/v61.0/limits/", json={"DailyApiRequests": {}})
    client = SalesforceClient(
        config(api_version="61.0"), MemoryTokenStore(), RetryPolicy(sleep=lambda _: None)
    )
    client.limits()


@pytest.mark.parametrize(
    ("error", "description", "hint"),
    [
        ("invalid_grant", "authentication failure", "security token"),
        ("invalid_grant", "user hasn't approved this consumer", "pre-authorised"),
        ("invalid_client_id", "client identifier invalid", "salesforce.client_id"),
        ("invalid_client", "invalid client credentials", "salesforce.client_secret"),
        ("inactive_user", "user is inactive", "inactive"),
        ("inactive_org", "organization is locked", "org"),
        ("invalid_app_access", "user is not admin approved to access this app", "check"),
        ("rate_limit_exceeded", "too many login attempts", "wait"),
    ],
)
def test_token_endpoint_refusals_are_one_line_stops_without_retry(
    mock: responses.RequestsMock, error: str, description: str, hint: str
) -> None:
    mock.post(TOKEN_URL, status=400, json={"error": error, "error_description": description})
    cfg = config(
        auth_flow="password",
        username="api@acme.example",
        password=PASSWORD,
        security_token=SECURITY_TOKEN,
    )
    with pytest.raises(AuthError) as caught:
        make(cfg).check()
    message = str(caught.value)
    assert message.startswith("salesforce:") and "\n" not in message
    assert error in message and description in message and hint in message
    for secret in (SECRET, PASSWORD, SECURITY_TOKEN, PASSWORD + SECURITY_TOKEN):
        assert secret not in message
    assert len(mock.calls) == 1  # never retried


def test_a_refusal_during_a_re_login_stops_instead_of_failing_one_record(
    mock: responses.RequestsMock,
) -> None:
    """INVALID_SESSION_ID -> one re-login; if that login is refused, the call is an
    AuthError (the push worker and the engine stop on it), not a per-record data error."""
    tokens = MemoryTokenStore(
        {"salesforce.access_token": "00Dxx!stale", "salesforce.instance_url": INSTANCE}
    )
    mock.get(
        f"{INSTANCE}/services/data/v62.0/limits/",
        status=401,
        json=[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}],
    )
    mock.post(TOKEN_URL, status=400, json={"error": "inactive_user", "error_description": "x"})
    client = SalesforceClient(config(), tokens, RetryPolicy(sleep=lambda _: None))
    with pytest.raises(AuthError) as caught:
        client.limits()
    assert caught.value.code == "inactive_user"
    assert len(mock.calls) == 2


def test_token_endpoint_server_errors_are_retried(mock: responses.RequestsMock) -> None:
    mock.post(TOKEN_URL, status=503, body="unavailable")
    mock.post(TOKEN_URL, json=token_body())
    client = SalesforceClient(config(), MemoryTokenStore(), RetryPolicy(sleep=lambda _: None))
    client.auth.refresh()
    assert client.auth.access_token == "00Dxx!t1"


def test_a_request_retried_after_a_re_login_goes_to_the_new_instance(
    mock: responses.RequestsMock,
) -> None:
    """A re-login whose token response names another instance (an org moved) sends the
    retried request to that instance, not back to the old host."""
    tokens = MemoryTokenStore(
        {"salesforce.access_token": "00Dxx!stale", "salesforce.instance_url": OTHER}
    )
    mock.get(
        f"{OTHER}/services/data/v62.0/limits/",
        status=401,
        json=[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}],
    )
    mock.post(TOKEN_URL, json=token_body("00Dxx!fresh", INSTANCE))
    mock.get(f"{INSTANCE}/services/data/v62.0/limits/", json={"DailyApiRequests": {}})
    mock.get(f"{INSTANCE}/services/data/v62.0/limits/", json={"DailyApiRequests": {}})
    client = SalesforceClient(config(), tokens, RetryPolicy(sleep=lambda _: None))
    client.limits()
    retried = mock.calls[2].request
    assert retried.url is not None and retried.url.startswith(
        f"{INSTANCE}/services/data/v62.0/limits"
    )
    assert retried.headers["Authorization"] == "Bearer 00Dxx!fresh"
    client.limits()  # and every later call
    later = mock.calls[3].request.url
    assert later is not None and later.startswith(INSTANCE)
    assert tokens.get("salesforce.instance_url") == INSTANCE
