"""OAuth 2.0 for QuickBooks Online: refresh-token grant with rotating refresh tokens.

Intuit may return a new refresh token on any refresh (the previous one soon stops working),
so the new one is written to the token store before the access token is used. The reply's
``x_refresh_token_expires_in`` (seconds the refresh token has left) is kept as
``refresh_token_expires_at`` and a warning is logged when re-authorisation is near.

``invalid_grant`` from the token endpoint means the refresh token is expired, revoked or
superseded: only re-authorising the app (Intuit's consent flow) cures it, so it is a clear
one-line :class:`AuthError`, never retried. ``invalid_client`` means the app's client id or
secret is wrong.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from decimal import Decimal
from typing import Any

import requests

from connectors.base import TokenStore
from connectors.errors import ApiError, AuthError, ErrorKind
from connectors.http import ApiSession, ErrorRule, ErrorTable, RetryPolicy
from connectors.quickbooks.config import QuickBooksConfig
from connectors.redact import register_secret, register_secrets_of

log = logging.getLogger("arsync.quickbooks")

SYSTEM = "quickbooks"
REFRESH_TOKEN_KEY = "refresh_token"
REFRESH_EXPIRES_KEY = "refresh_token_expires_at"  # unix seconds, from x_refresh_token_expires_in
EXPIRY_SKEW_SECONDS = 60.0  # refresh a little before Intuit's expiry
RECONNECT_WARNING_SECONDS = 14 * 86400.0  # warn this long before the refresh token expires


def _oauth_errors(response: requests.Response) -> list[tuple[str, str]]:
    try:
        body = json.loads(response.content or b"{}", parse_float=Decimal)
    except ValueError:
        return []
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return [(body["error"], str(body.get("error_description", body["error"])))]
    return []


TOKEN_ERRORS = ErrorTable(
    rules=(
        ErrorRule(ErrorKind.AUTH, code="invalid_grant"),
        ErrorRule(ErrorKind.AUTH, code="invalid_client"),
        ErrorRule(ErrorKind.AUTH, code="unauthorized_client"),
        ErrorRule(ErrorKind.AUTH, status=(400, 401)),
    ),
    body_errors=_oauth_errors,
)


class QuickBooksOAuth(requests.auth.AuthBase):
    """Bearer auth that refreshes itself: when expired, and once per rejected request."""

    def __init__(
        self,
        config: QuickBooksConfig,
        tokens: TokenStore,
        *,
        policy: RetryPolicy | None = None,
        clock: Any = time.monotonic,
    ) -> None:
        self.config = config
        self.tokens = tokens
        self.clock = clock
        register_secrets_of(config)
        self.session = ApiSession(f"{SYSTEM}-oauth", error_table=TOKEN_ERRORS, policy=policy)
        self.session.headers["Accept"] = "application/json"
        self._access_token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()

    @property
    def access_token(self) -> str:
        """A current access token, refreshed first if there is none or it has expired."""
        with self._lock:
            if self._access_token is None or self.clock() >= self._expires_at:
                self._refresh_locked()
            assert self._access_token is not None
            return self._access_token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.access_token}"
        return request

    def refresh(self) -> None:
        """Trade the stored refresh token for a new access token (and maybe refresh token)."""
        with self._lock:
            self._refresh_locked()

    def _current_refresh_token(self) -> str:
        stored = self.tokens.get(REFRESH_TOKEN_KEY)
        register_secret(stored)
        if stored:
            return stored
        if self.config.refresh_token is not None:
            return self.config.refresh_token.get_secret_value()
        raise AuthError(SYSTEM, "no refresh token: authorize the app and store its refresh token")

    def _refresh_locked(self) -> None:
        refresh_token = self._current_refresh_token()
        try:
            response = self.session.post(
                self.config.token_url,
                data={"grant_type": "refresh_token", "refresh_token": refresh_token},
                auth=(self.config.client_id, self.config.client_secret.get_secret_value()),
                timeout=self.config.timeout_seconds,
            )
        except AuthError as exc:
            raise AuthError(
                SYSTEM,
                self._rejection(exc),
                status=exc.status,
                code=exc.code,
            ) from None
        except ApiError as exc:
            raise ApiError(SYSTEM, f"token refresh failed: {exc.message}", kind=exc.kind) from exc
        try:
            body = json.loads(response.content, parse_float=Decimal)
            access_token = str(body["access_token"])
            expires_in = float(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError):
            raise AuthError(SYSTEM, "token endpoint answered without an access_token") from None
        rotated = body.get("refresh_token")
        register_secret(access_token)
        register_secret(rotated if isinstance(rotated, str) else None)
        if isinstance(rotated, str) and rotated and rotated != refresh_token:
            self.tokens.set(REFRESH_TOKEN_KEY, rotated)
        elif not self.tokens.get(REFRESH_TOKEN_KEY):
            self.tokens.set(REFRESH_TOKEN_KEY, refresh_token)
        self._note_refresh_expiry(body.get("x_refresh_token_expires_in"))
        self._access_token = access_token
        self._expires_at = self.clock() + max(expires_in - EXPIRY_SKEW_SECONDS, 0.0)

    def _rejection(self, exc: AuthError) -> str:
        """One line naming what the token endpoint refused and what the user must do."""
        realm = self.config.realm_id
        if exc.code == "invalid_grant":
            return (
                "the refresh token was refused (invalid_grant: expired, revoked or superseded); "
                f"reconnect arsync to QuickBooks company {realm} (authorise the app again) "
                "and store the new refresh token"
            )
        if exc.code in ("invalid_client", "unauthorized_client") or exc.status == 401:
            return (
                f"the app's client credentials were refused ({exc.code or exc.status}); "
                "check quickbooks.client_id and quickbooks.client_secret (Intuit developer "
                "portal, Keys & credentials)"
            )
        return (
            f"token refresh rejected ({exc.code or exc.status}): {exc.message}; "
            f"reconnect arsync to QuickBooks company {realm}"
        )

    def _note_refresh_expiry(self, seconds: Any) -> None:
        """Keep when the refresh token expires; warn when re-authorisation is near."""
        try:
            remaining = float(seconds)
        except (TypeError, ValueError):
            return
        self.tokens.set(REFRESH_EXPIRES_KEY, str(int(time.time() + remaining)))
        if remaining < RECONNECT_WARNING_SECONDS:
            log.warning(
                "%s: the refresh token of company %s expires in %.0f days; reconnect arsync "
                "to QuickBooks before then",
                SYSTEM,
                self.config.realm_id,
                remaining / 86400,
            )

    def close(self) -> None:
        self.session.close()
