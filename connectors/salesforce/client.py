"""The one Salesforce client: OAuth session, the ApiSession, and REST calls via simple-salesforce.

simple-salesforce builds the request URLs and sends through our :class:`ApiSession`, which
classifies every response with :data:`SALESFORCE_ERRORS` before the library sees it, sets the
Bearer header from :class:`SalesforceAuth` and re-runs the OAuth flow once on
``INVALID_SESSION_ID``.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import requests
from simple_salesforce import Salesforce

from connectors.base import TokenStore
from connectors.errors import ApiError, AuthError
from connectors.http import ApiSession, RetryPolicy
from connectors.redact import register_secret, register_secrets_of
from connectors.salesforce.config import SalesforceConfig
from connectors.salesforce.errors import QUERY_LOCATOR, SALESFORCE_ERRORS, TOKEN_ERRORS

log = logging.getLogger("arsync.salesforce")

SYSTEM = "salesforce"
TOKEN_KEY = "salesforce.access_token"
INSTANCE_KEY = "salesforce.instance_url"
_LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")
MAX_RESTARTS = 3  # expired query cursors in a row a read recovers from; the next one fails it


class SalesforceAuth(requests.auth.AuthBase):
    """Bearer auth from an OAuth flow; :meth:`refresh` runs the flow again.

    The access token and instance URL are kept in the TokenStore so a new process reuses a
    session that is still valid (a stale one costs one 401 and a refresh). API calls go to the
    ``instance_url`` of the token response, the host the session belongs to; a configured
    ``instance_url`` only stands in when a response carries none.
    """

    def __init__(self, config: SalesforceConfig, tokens: TokenStore, policy: RetryPolicy) -> None:
        self.config = config
        self.tokens = tokens
        register_secrets_of(config)
        self.token_session = ApiSession(SYSTEM, error_table=TOKEN_ERRORS, policy=policy)
        self.access_token: str | None = tokens.get(TOKEN_KEY)
        register_secret(self.access_token)
        # the stored URL came with the stored token: they belong together
        self.instance_url: str | None = tokens.get(INSTANCE_KEY) or config.instance_url
        self._moved_from: str | None = None  # the host a refresh moved the session from

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if not self.access_token:
            self.refresh()
        request.headers["Authorization"] = f"Bearer {self.access_token}"
        return request

    def ensure(self) -> None:
        if not self.access_token or not self.instance_url:
            self.refresh()

    def refresh(self) -> None:
        """Run the configured OAuth flow; raises AuthError naming what was rejected."""
        try:
            response = self.token_session.request(
                "POST", self.config.token_url, data=self._grant(), idempotent=True
            )
        except AuthError as exc:
            raise AuthError(
                SYSTEM,
                f"login rejected by {urlsplit(self.config.token_url).netloc} "
                f"({self.config.auth_flow} flow): {exc.code + ': ' if exc.code else ''}"
                f"{exc.message}; {_LOGIN_FIXES.get(exc.code or '', _LOGIN_FIX)}",
                status=exc.status,
                code=exc.code,
            ) from None
        body = json.loads(response.content, parse_float=Decimal)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not token:
            raise AuthError(SYSTEM, "token endpoint answered without an access_token")
        self.access_token = str(token)
        register_secret(self.access_token)
        answered = str(body.get("instance_url") or "").rstrip("/")
        configured = (self.config.instance_url or "").rstrip("/")
        if answered and configured and answered != configured:
            log.warning(
                "%s: the token response names instance %s, not the configured %s; using %s",
                SYSTEM,
                answered,
                configured,
                answered,
            )
        previous = (self.instance_url or "").rstrip("/")
        self.instance_url = answered or configured
        self._moved_from = previous if previous and previous != self.instance_url else None
        if not self.instance_url:
            raise AuthError(SYSTEM, "token endpoint answered without an instance_url")
        self.tokens.set(TOKEN_KEY, self.access_token)
        self.tokens.set(INSTANCE_KEY, self.instance_url)

    def relocate(self, url: str) -> str:
        """``url`` on the session's host when the last refresh moved it to another instance
        (a request retried after a re-login must not go back to the old host)."""
        old = self._moved_from
        if old and self.instance_url and (url == old or url.startswith(old + "/")):
            return self.instance_url + url[len(old) :]
        return url

    def _grant(self) -> dict[str, str]:
        c = self.config
        if c.auth_flow == "client_credentials":
            return {
                "grant_type": "client_credentials",
                "client_id": c.client_id,
                "client_secret": _secret(c.client_secret),
            }
        if c.auth_flow == "password":
            return {
                "grant_type": "password",
                "client_id": c.client_id,
                "client_secret": _secret(c.client_secret),
                "username": c.username or "",
                "password": _secret(c.password) + _secret(c.security_token),
            }
        return {
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion": self._jwt_assertion(),
        }

    def _jwt_assertion(self) -> str:
        import jwt  # PyJWT, installed with simple-salesforce

        claims = {
            "iss": self.config.client_id,
            "sub": self.config.username,
            "aud": self.config.jwt_audience,
            "exp": int(time.time()) + 180,
        }
        return str(jwt.encode(claims, _secret(self.config.private_key), algorithm="RS256"))


_LOGIN_FIX = "check the connected app's client id/secret and the user's credentials"
_LOGIN_FIXES = {
    "invalid_grant": (
        "check the username, password + security token (password flow), the certificate and "
        "pre-authorised user (JWT flow) or the run-as user (client credentials), and the "
        "connected app's IP and login-hour policies"
    ),
    "invalid_client_id": "check salesforce.client_id (the connected app's consumer key)",
    "invalid_client": "check salesforce.client_id and salesforce.client_secret",
    "inactive_user": "the Salesforce user is inactive: activate it or configure another",
    "inactive_org": "the Salesforce org is locked, closed or suspended",
    "rate_limit_exceeded": "too many logins for this user: wait, then run again",
}


def _secret(value: Any) -> str:
    if value is None:
        return ""
    return value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)


def parse_limit_info(header: str | None) -> tuple[int, int] | None:
    """(used, allowed) from ``Sforce-Limit-Info: api-usage=18/5000``."""
    match = _LIMIT_INFO.search(header or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


class SalesforceClient:
    """REST calls against one org, paged and classified."""

    def __init__(
        self,
        config: SalesforceConfig,
        tokens: TokenStore,
        policy: RetryPolicy | None = None,
    ) -> None:
        policy = policy or RetryPolicy(timeout=config.timeout)
        self.config = config
        self.auth = SalesforceAuth(config, tokens, policy)
        self.session = ApiSession(
            SYSTEM,
            error_table=SALESFORCE_ERRORS,
            policy=policy,
            auth=self.auth,
            per_second=config.per_second,
        )
        self.session.hooks["response"].append(self._note_limits)
        self.api_usage: tuple[int, int] | None = None
        self._sf: Salesforce | None = None
        self._sf_instance: str | None = None

    def _note_limits(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        usage = parse_limit_info(response.headers.get("Sforce-Limit-Info"))
        if usage is not None:
            self.api_usage = usage

    @property
    def sf(self) -> Salesforce:
        """simple-salesforce over our session, rebuilt when the instance URL changes."""
        self.auth.ensure()
        instance = (self.auth.instance_url or "").rstrip("/")
        if self._sf is None or self._sf_instance != instance:
            sf = Salesforce(
                instance_url=instance,
                session_id=self.auth.access_token,
                session=self.session,
                version=self.config.api_version,
                parse_float=Decimal,
                object_pairs_hook=dict,
            )
            # The library assumes https://host; keep the configured scheme and port.
            sf.base_url = f"{instance}/services/data/v{self.config.api_version}/"
            self._sf, self._sf_instance = sf, instance
        return self._sf

    @property
    def data_path(self) -> str:
        return f"/services/data/v{self.config.api_version}/"

    # reading ------------------------------------------------------------------------------
    def query_pages(self, soql: str) -> Iterator[list[dict[str, Any]]]:
        """The pages of a SOQL query, following ``nextRecordsUrl`` until ``done``."""
        headers = {"Sforce-Query-Options": f"batchSize={self.config.page_size}"}
        result = self.sf.query(soql, headers=headers)
        while True:
            records = [self._complete_children(r) for r in result.get("records", [])]
            yield records
            if result.get("done", True) or not result.get("nextRecordsUrl"):
                return
            result = self.sf.query_more(
                _locator(result["nextRecordsUrl"]), identifier_is_url=False, headers=headers
            )

    def _complete_children(self, record: dict[str, Any]) -> dict[str, Any]:
        """Fetch the rest of any child subquery result that Salesforce paged."""
        for key, value in record.items():
            if isinstance(value, dict) and "records" in value and not value.get("done", True):
                children = list(value["records"])
                nested: Mapping[str, Any] = value
                while not nested.get("done", True) and nested.get("nextRecordsUrl"):
                    nested = self.sf.query_more(
                        _locator(nested["nextRecordsUrl"]), identifier_is_url=False
                    )
                    children.extend(nested.get("records", []))
                record[key] = {"totalSize": len(children), "done": True, "records": children}
        return record

    def deleted(self, sobject: str, start: datetime, end: datetime) -> dict[str, Any]:
        """``GET sobjects/{X}/deleted/``: ids deleted in [start, end] (last 15 days only)."""
        return self._get(f"sobjects/{sobject}/deleted/", {"start": _iso(start), "end": _iso(end)})

    def updated(self, sobject: str, start: datetime, end: datetime) -> dict[str, Any]:
        """``GET sobjects/{X}/updated/``: ids changed in [start, end] (last 30 days only)."""
        return self._get(f"sobjects/{sobject}/updated/", {"start": _iso(start), "end": _iso(end)})

    def live_ids(self, sobject: str) -> set[str]:
        """Every live record id of an object (for reconciling deletes older than the log).

        The query has no order to resume from: when its cursor expires it is run again whole.
        """
        restarts = 0
        while True:
            ids: set[str] = set()
            try:
                for page in self.query_pages(f"SELECT Id FROM {sobject}"):
                    ids.update(str(r["Id"]) for r in page)
                return ids
            except ApiError as exc:
                if exc.code != QUERY_LOCATOR or restarts >= MAX_RESTARTS:
                    raise
                restarts += 1
                log.warning(
                    "%s %s: query cursor expired (%s) listing live ids; querying again "
                    "from the start (restart %d of %d)",
                    SYSTEM,
                    sobject,
                    exc.code,
                    restarts,
                    MAX_RESTARTS,
                )

    def limits(self) -> dict[str, Any]:
        """``GET limits/``: the cheap call used by check()."""
        return self._get("limits/", None)

    def organization(self) -> dict[str, Any]:
        """The org's Organization record: its id, default time zone and, in a single-currency
        org, its corporate currency. A field this org does not expose is left out."""
        for fields in ("Id, TimeZoneSidKey, DefaultCurrencyIsoCode", "Id, TimeZoneSidKey"):
            try:
                rows = self.sf.query(f"SELECT {fields} FROM Organization LIMIT 1").get("records")
            except ApiError as exc:
                if exc.code == "INVALID_FIELD":
                    continue
                if exc.code == "INVALID_TYPE" or (exc.code or "").startswith("INSUFFICIENT_ACCESS"):
                    return {}  # the user may not read the org: the configured values stand
                raise
            return dict(rows[0]) if rows else {}
        return {}

    def _get(self, path: str, params: Mapping[str, str] | None) -> dict[str, Any]:
        result = self.sf.restful(path, params=dict(params) if params else None)
        return dict(result or {})

    # writing ------------------------------------------------------------------------------
    def collection(
        self,
        method: str,
        path: str,
        records: Sequence[Mapping[str, Any]],
        *,
        all_or_none: bool,
        headers: Mapping[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        """One sObject Collections call; returns the per-record SaveResults in order."""
        body = {"allOrNone": all_or_none, "records": [dict(r) for r in records]}
        result = self.sf.restful(
            path,
            method=method,
            data=dumps_exact(body),
            headers=dict(headers or {}),
        )
        if not isinstance(result, list):
            raise ApiError(SYSTEM, f"{method} {path}: expected a list of results, got {result!r}")
        return [dict(item) for item in result]


def _locator(next_records_url: str) -> str:
    """``/services/data/v62.0/query/01g...-2000`` -> ``01g...-2000``."""
    return next_records_url.rstrip("/").rsplit("/", 1)[-1]


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


_DECIMAL_MARK = re.compile(r'"\\u0000dec:(-?[0-9.]+)"')


def dumps_exact(body: Any) -> str:
    """JSON with Decimal amounts written as exact JSON numbers (never through float)."""

    def default(value: Any) -> Any:
        if isinstance(value, Decimal):
            return f"\u0000dec:{value:f}"
        if hasattr(value, "isoformat"):
            return value.isoformat()
        raise TypeError(f"cannot send {type(value).__name__} to Salesforce")

    return _DECIMAL_MARK.sub(lambda m: m.group(1), json.dumps(body, default=default))
