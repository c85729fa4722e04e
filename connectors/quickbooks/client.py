"""The one QuickBooks Online client: python-quickbooks over arsync's ApiSession.

python-quickbooks builds the URLs and parses bodies (``use_decimal=True``); every request goes
through :class:`QuickBooksSession`, so retries, throttling, token refresh and the QBO error
table apply to it. No intuitlib ``AuthClient`` is built: it fetches a discovery document.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import requests
from quickbooks.client import QuickBooks
from quickbooks.exceptions import QuickbooksException

from connectors.base import TokenStore
from connectors.errors import ApiError, DataError, UncertainWriteError
from connectors.http import ApiSession, RetryPolicy
from connectors.quickbooks.auth import SYSTEM, QuickBooksOAuth
from connectors.quickbooks.config import QuickBooksConfig
from connectors.quickbooks.errors import ERROR_TABLE, THROTTLED, carries_fault, fault_errors
from connectors.quickbooks.jsonwire import dumps
from connectors.redact import redact_text

Payload = dict[str, Any]
UNREADABLE_REPLY = "10000"  # python-quickbooks' code for a reply that is not JSON


class QuickBooksSession(ApiSession):
    """An ApiSession exposing ``access_token``, which python-quickbooks reads for each call."""

    auth: QuickBooksOAuth

    @property
    def access_token(self) -> str:
        return self.auth.access_token


class QuickBooksApi(QuickBooks):
    """python-quickbooks with a configurable API host (``api_url`` is ``<base>/v3``)."""

    base_url: str = ""

    @property
    def api_url(self) -> str:
        return f"{self.base_url.rstrip('/')}/v3"


def qbo_timestamp(moment: datetime) -> str:
    """A QBO query/CDC literal, whole seconds, with an explicit offset."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def parse_timestamp(value: Any) -> datetime | None:
    """A QBO ``MetaData`` timestamp (``2024-05-01T10:00:00-07:00``) in UTC, or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def last_updated(payload: Mapping[str, Any]) -> datetime | None:
    meta = payload.get("MetaData")
    return parse_timestamp(meta.get("LastUpdatedTime")) if isinstance(meta, Mapping) else None


def floor_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


class QuickBooksClient:
    """Low-level calls against one realm: query pages, CDC, single reads, batch."""

    def __init__(
        self,
        config: QuickBooksConfig,
        tokens: TokenStore,
        *,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.config = config
        policy = policy or RetryPolicy(timeout=config.timeout_seconds)
        self.auth = QuickBooksOAuth(config, tokens, policy=policy)
        self.session = QuickBooksSession(
            SYSTEM,
            error_table=ERROR_TABLE,
            policy=policy,
            auth=self.auth,
            per_second=config.per_second,
        )
        self.session.hooks["response"].append(self._default_retry_after)
        self.api = QuickBooksApi(
            company_id=config.realm_id, minorversion=config.minorversion, use_decimal=True
        )
        self.api.base_url = config.api_base_url
        self.api.session = self.session

    def _default_retry_after(self, response: requests.Response, *_: Any, **__: Any) -> None:
        """QBO asks throttled clients to wait a minute; say so when the server did not."""
        if "Retry-After" in response.headers:
            return
        throttled = response.status_code == 429
        if not throttled and response.status_code == 200 and carries_fault(response.content):
            try:
                throttled = any(code == THROTTLED for code, _ in fault_errors(response))
            except ValueError:
                throttled = False
        if throttled:
            response.headers["Retry-After"] = str(int(self.config.rate_limit_wait_seconds))

    # calls ---------------------------------------------------------------------------
    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Payload:
        try:
            result: Payload = fn(*args, **kwargs)
        except QuickbooksException as exc:
            raise DataError(
                SYSTEM, f"{what}: {redact_text(exc.message)}", code=str(exc.error_code)
            ) from None
        return result

    def query(self, statement: str) -> Payload:
        """Run one QBO query statement; the ``QueryResponse`` object."""
        body = self._call("query", self.api.query, statement)
        response = body.get("QueryResponse")
        if not isinstance(response, dict):
            raise ApiError(SYSTEM, f"query answered without QueryResponse: {statement[:80]}")
        return response

    def read(self, entity: str, remote_id: str) -> Payload:
        """One object by Id (``GET /<entity>/<id>``)."""
        body = self._call(
            f"read {entity} {remote_id}", self.api.get_single_object, entity, remote_id
        )
        record = body.get(entity)
        if not isinstance(record, dict):
            raise ApiError(SYSTEM, f"read {entity} {remote_id}: no {entity} in the answer")
        return record

    def company_info(self) -> Payload:
        """The CompanyInfo of the realm: the cheapest authenticated call."""
        return self.read("CompanyInfo", self.config.realm_id)

    def preferences(self) -> Payload:
        """The company's Preferences (``GET /preferences``): its home currency among them."""
        url = f"{self.api.api_url}/company/{self.config.realm_id}/preferences"
        body = self._call("read Preferences", self.api.get, url)
        record = body.get("Preferences")
        if not isinstance(record, dict):
            raise ApiError(SYSTEM, "read Preferences: no Preferences in the answer")
        return record

    def exchange_rate(self, currency: str, on: date | None) -> Decimal:
        """QuickBooks' rate for ``currency`` on ``on`` (today when None): home-currency units
        per one unit of it (``GET /exchangerate?sourcecurrencycode=&asofdate=``)."""
        url = f"{self.api.api_url}/company/{self.config.realm_id}/exchangerate"
        params = {"sourcecurrencycode": currency}
        if on is not None:
            params["asofdate"] = on.isoformat()
        body = self._call(f"read ExchangeRate {currency}", self.api.get, url, params=params)
        record = body.get("ExchangeRate")
        rate = record.get("Rate") if isinstance(record, dict) else None
        try:
            value = Decimal(str(rate))
        except ArithmeticError:
            value = Decimal(0)
        if rate is None or not value.is_finite() or value <= 0:
            raise ApiError(SYSTEM, f"read ExchangeRate {currency}: no usable Rate in the answer")
        return value

    def change_data_capture(self, entities: list[str], since: datetime) -> dict[str, list[Payload]]:
        """Objects of each entity changed since ``since`` (deleted ones included)."""
        body = self._call(
            "cdc", self.api.change_data_capture, ",".join(entities), qbo_timestamp(since)
        )
        found: dict[str, list[Payload]] = {entity: [] for entity in entities}
        for block in body.get("CDCResponse") or []:
            for response in block.get("QueryResponse") or []:
                for entity in entities:
                    rows = response.get(entity)
                    if isinstance(rows, list):
                        found[entity].extend(row for row in rows if isinstance(row, dict))
        return found

    def post(
        self,
        path: str,
        body: Payload,
        *,
        request_id: str | None = None,
        params: dict[str, str] | None = None,
    ) -> Payload:
        """POST a JSON body to ``/company/<realm>/<path>`` (with ``requestid`` when given).
        A reply python-quickbooks cannot read (:data:`UNREADABLE_REPLY`) is an
        :class:`UncertainWriteError`: QBO may have written it."""
        url = f"{self.api.api_url}/company/{self.config.realm_id}/{path}"
        try:
            return self._call(
                f"POST {path}",
                self.api.make_request,
                "POST",
                url,
                request_body=dumps(body),
                params=dict(params or {}),
                request_id=request_id,
            )
        except DataError as exc:
            if exc.code != UNREADABLE_REPLY:
                raise
            raise UncertainWriteError(
                SYSTEM, f"{exc.message}: the write may have landed", code=exc.code
            ) from None

    # paging --------------------------------------------------------------------------
    def query_pages(
        self, entity: str, since: datetime | None, conditions: tuple[str, ...] = ()
    ) -> Iterator[list[Payload]]:
        """Every object of ``entity`` changed at or after ``since``, oldest first, in pages.

        Pages continue from the last stamp seen (``LastUpdatedTime >= stamp``) rather than
        from a growing STARTPOSITION, so a record updated mid-pull cannot shift an unread one
        out of reach. Records re-read at the boundary stamp are dropped; when more than half a
        page shares one stamp, the next page starts past them instead.
        """
        size = self.config.page_size
        stamp = floor_second(since) if since is not None else None
        at_stamp: set[str] = set()
        skip = 0
        while True:
            where = list(conditions)
            if stamp is not None:
                where.append(f"MetaData.LastUpdatedTime >= '{qbo_timestamp(stamp)}'")
            statement = f"SELECT * FROM {entity}"
            if where:
                statement += " WHERE " + " AND ".join(where)
            statement += (
                f" ORDERBY MetaData.LastUpdatedTime STARTPOSITION {skip + 1} MAXRESULTS {size}"
            )
            rows = [row for row in self.query(statement).get(entity) or [] if isinstance(row, dict)]
            yield [row for row in rows if str(row.get("Id")) not in at_stamp]
            if len(rows) < size:
                return
            last = last_updated(rows[-1])
            if last is None or last == stamp:
                skip += len(rows)  # no usable stamp to continue from: go by position
                at_stamp.update(str(row.get("Id")) for row in rows)
                continue
            stamp = last
            at_stamp = {str(row.get("Id")) for row in rows if last_updated(row) == last}
            skip = len(at_stamp) if len(at_stamp) > size // 2 else 0

    def close(self) -> None:
        self.session.close()
        self.auth.close()
