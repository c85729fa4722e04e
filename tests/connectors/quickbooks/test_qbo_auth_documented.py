"""QuickBooks OAuth 2.0 as Intuit documents it (developer.intuit.com, "Refresh the token"):
rotating refresh tokens stored before use, ``invalid_grant`` as a one-line "reconnect" stop,
``x_refresh_token_expires_in`` kept, one refresh per 401."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import pytest
import responses
from pydantic import SecretStr

from connectors.base import MemoryTokenStore
from connectors.errors import AuthError
from connectors.http import RetryPolicy
from connectors.quickbooks import QuickBooksConfig, QuickBooksConnector, QuickBooksSandbox
from connectors.quickbooks.auth import REFRESH_EXPIRES_KEY, QuickBooksOAuth
from tests.connectors.quickbooks.qbo_helpers import COMPANY, REALM, TOKEN_URL, sandbox_connector

Mock = responses.RequestsMock


def token_reply(access: str = "AT-1", refresh: str = "RT-2", refresh_left: int = 8726400) -> dict:
    return {
        "token_type": "bearer",
        "access_token": access,
        "refresh_token": refresh,
        "expires_in": 3600,
        "x_refresh_token_expires_in": refresh_left,
    }


class Recording(MemoryTokenStore):
    """A token store that records when the rotated refresh token is written."""

    def __init__(self, events: list[str], initial: dict[str, str] | None = None) -> None:
        super().__init__(initial)
        self.events = events

    def set(self, key: str, value: str) -> None:
        self.events.append(f"store {key}")
        super().set(key, value)


def test_the_rotated_refresh_token_is_stored_before_the_access_token_is_used(
    config: QuickBooksConfig,
) -> None:
    events: list[str] = []
    tokens = Recording(events)
    connector = QuickBooksConnector(config, tokens, policy=RetryPolicy(sleep=lambda s: None))

    def preferences(request: object) -> tuple[int, dict[str, str], str]:
        events.append("api call")
        return 200, {"Content-Type": "application/json"}, '{"Preferences": {"Id": "1"}}'

    with Mock(assert_all_requests_are_fired=True) as mock:
        mock.post(TOKEN_URL, json=token_reply(refresh="RT-rotated"))
        mock.add_callback(responses.GET, f"{COMPANY}/preferences", callback=preferences)
        connector.check()
    assert tokens.get("refresh_token") == "RT-rotated"
    assert events.index("store refresh_token") < events.index("api call")


def test_invalid_grant_stops_with_one_line_telling_the_user_to_reconnect(
    config: QuickBooksConfig,
) -> None:
    connector = QuickBooksConnector(
        config, MemoryTokenStore(), policy=RetryPolicy(sleep=lambda s: None)
    )
    with Mock(assert_all_requests_are_fired=True) as mock:
        mock.post(
            TOKEN_URL,
            status=400,
            json={"error": "invalid_grant", "error_description": "Token invalid"},
        )
        with pytest.raises(AuthError) as caught:
            connector.check()
        assert len(mock.calls) == 1  # never retried
    message = str(caught.value)
    assert message.startswith("quickbooks:") and "\n" not in message
    assert "reconnect" in message and REALM in message and "invalid_grant" in message
    assert "RT-initial" not in message and "s3cret-value" not in message


def test_invalid_client_names_the_client_credentials_not_a_reconnect(
    config: QuickBooksConfig,
) -> None:
    auth = QuickBooksOAuth(config, MemoryTokenStore(), policy=RetryPolicy(sleep=lambda s: None))
    with Mock(assert_all_requests_are_fired=True) as mock:
        mock.post(TOKEN_URL, status=401, json={"error": "invalid_client"})
        with pytest.raises(AuthError) as caught:
            auth.refresh()
    message = str(caught.value)
    assert "client_id" in message and "client_secret" in message
    assert "s3cret-value" not in message


def test_a_401_whose_refresh_is_refused_stops_after_one_refresh(
    config: QuickBooksConfig,
) -> None:
    connector = QuickBooksConnector(
        config, MemoryTokenStore(), policy=RetryPolicy(sleep=lambda s: None)
    )
    fault = {
        "Fault": {
            "Error": [{"Message": "AuthenticationFailed", "Detail": "x", "code": "3200"}],
            "type": "AUTHENTICATION",
        }
    }
    with Mock(assert_all_requests_are_fired=True) as mock:
        mock.post(TOKEN_URL, json=token_reply("AT-1", "RT-2"))
        mock.get(f"{COMPANY}/preferences", status=401, json=fault)
        mock.post(TOKEN_URL, status=400, json={"error": "invalid_grant"})
        with pytest.raises(AuthError, match="reconnect"):
            connector.check()
        assert len(mock.calls) == 3
    assert connector.session.stats.refreshes == 1


def test_x_refresh_token_expires_in_is_kept_and_a_near_expiry_warns(
    config: QuickBooksConfig, caplog: pytest.LogCaptureFixture
) -> None:
    tokens = MemoryTokenStore()
    auth = QuickBooksOAuth(config, tokens)
    with Mock(assert_all_requests_are_fired=True) as mock:
        mock.post(TOKEN_URL, json=token_reply(refresh_left=8726400))
        mock.post(TOKEN_URL, json=token_reply(refresh_left=3 * 86400))
        with caplog.at_level(logging.WARNING, logger="arsync.quickbooks"):
            auth.refresh()
            assert not caplog.records
            before = time.time()
            auth.refresh()
    expires_at = int(tokens.get(REFRESH_EXPIRES_KEY) or 0)
    assert before + 3 * 86400 - 5 <= expires_at <= time.time() + 3 * 86400 + 5
    (warning,) = caplog.records
    assert "reconnect" in warning.getMessage() and REALM in warning.getMessage()


# against the sandbox ---------------------------------------------------------------------


def test_a_disconnected_app_stops_the_run_with_a_reconnect_message(
    sandbox: QuickBooksSandbox,
) -> None:
    """The user disconnects the app in QuickBooks: every refresh token is revoked."""
    connector, tokens = sandbox_connector(sandbox)
    connector.check()
    with sandbox.lock:
        sandbox.refresh_tokens.clear()
    sandbox.expire_tokens()
    calls_before = connector.client.auth.session.stats.total
    with pytest.raises(AuthError) as caught:
        list(connector.streams()["customers"].pages(None, datetime.now(UTC)))
    assert connector.client.auth.session.stats.total - calls_before == 1  # one refresh, no loop
    message = str(caught.value)
    assert message.startswith("quickbooks:") and "\n" not in message and "reconnect" in message
    stored = tokens.get("refresh_token") or ""
    assert stored and stored not in message and sandbox.client_secret not in message


def test_the_sandbox_reply_carries_the_refresh_token_lifetime(sandbox: QuickBooksSandbox) -> None:
    connector, tokens = sandbox_connector(sandbox)
    connector.check()
    assert int(tokens.get(REFRESH_EXPIRES_KEY) or 0) > time.time() + 86400


def test_a_wrong_client_secret_against_the_sandbox_names_the_setting(
    sandbox: QuickBooksSandbox,
) -> None:
    config = sandbox.config().model_copy(update={"client_secret": SecretStr("wrong-secret-x")})
    connector = QuickBooksConnector(config, MemoryTokenStore(sandbox.initial_tokens()))
    with pytest.raises(AuthError) as caught:
        connector.check()
    assert "client_secret" in str(caught.value) and "wrong-secret-x" not in str(caught.value)
