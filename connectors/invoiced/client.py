"""The one Invoiced client: HTTP Basic with the API key, Link-header paging, exact numbers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.auth import HTTPBasicAuth
from requests.utils import parse_header_links

from connectors.errors import ApiError, UncertainWriteError
from connectors.http import ApiSession, RetryPolicy
from connectors.invoiced.config import InvoicedConfig
from connectors.invoiced.errors import ERROR_TABLE
from connectors.invoiced.jsonwire import dumps, loads
from connectors.redact import register_secrets_of

SYSTEM = "invoiced"
IDEMPOTENCY_HEADER = "Idempotency-Key"
Payload = dict[str, Any]


def decode(response: requests.Response) -> Any:
    """The body as JSON with every decimal number as ``Decimal``."""
    try:
        return loads(response.content)
    except ValueError as exc:
        raise ApiError(
            SYSTEM, f"{response.request.method} {response.request.path_url}: reply is not JSON"
        ) from exc


def next_link(response: requests.Response) -> str | None:
    """The absolute URL of the ``rel="next"`` link of an RFC 5988 ``Link`` header, or None.

    A link may carry several relation types (``rel="next last"``, compared without regard to
    case) and a URL relative to the page that sent it."""
    for link in parse_header_links(response.headers.get("Link") or ""):
        if "next" in str(link.get("rel") or "").lower().split() and link.get("url"):
            return urljoin(response.url, link["url"])
    return None


def _origin(url: str) -> str:
    """A URL's scheme and host (with port), lower-case: ``https://api.invoiced.com``."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class InvoicedClient:
    """Low-level calls against one Invoiced account (API key as the Basic user name)."""

    def __init__(self, config: InvoicedConfig, policy: RetryPolicy | None = None) -> None:
        self.config = config
        register_secrets_of(config)
        self.base = config.base_url.rstrip("/")
        self.session = ApiSession(
            SYSTEM,
            error_table=ERROR_TABLE,
            policy=policy or RetryPolicy(timeout=config.timeout),
            auth=HTTPBasicAuth(config.api_key.get_secret_value(), ""),
            per_second=config.per_second,
        )
        self.last_total: int | None = None  # X-Total-Count of the last list page

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return decode(self.session.get(f"{self.base}{path}", params=params))

    def post(self, path: str, body: Payload, *, idempotency_key: str) -> Payload:
        """POST a JSON body with an ``Idempotency-Key``: safe to resend after a lost reply.

        A success whose reply cannot be read, and a refusal saying the key was used before
        with other parameters, are :class:`UncertainWriteError`: the write (or an earlier
        attempt of it) may have landed, so it is looked for before any resend, never sent
        again under another key."""
        try:
            response = self.session.post(
                f"{self.base}{path}",
                data=dumps(body).encode("utf-8"),
                headers={"Content-Type": "application/json", IDEMPOTENCY_HEADER: idempotency_key},
            )
        except ApiError as exc:
            if exc.status == 400 and f"(param {IDEMPOTENCY_HEADER})" in exc.message:
                raise UncertainWriteError(
                    SYSTEM,
                    f"POST {path}: the Idempotency-Key was used before with other parameters: "
                    "an earlier attempt may have landed",
                    status=400,
                ) from exc
            raise
        try:
            reply = decode(response)
        except ApiError as exc:
            raise UncertainWriteError(
                SYSTEM, f"{exc.message}: the write may have landed", status=response.status_code
            ) from exc
        if not isinstance(reply, dict):
            raise UncertainWriteError(
                SYSTEM,
                f"POST {path}: expected an object, got {type(reply).__name__}: the write may "
                "have landed",
                status=response.status_code,
            )
        return reply

    def delete(self, path: str) -> Payload:
        """DELETE a record (Invoiced voids a payment this way); the record as answered."""
        # no key travels with a DELETE: a lost reply is left uncertain (read before resending)
        response = self.session.request("DELETE", f"{self.base}{path}", idempotent=False)
        reply = decode(response)
        if not isinstance(reply, dict):
            raise ApiError(SYSTEM, f"DELETE {path}: expected an object, got {type(reply).__name__}")
        return reply

    def pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[list[Payload]]:
        """Every page of a list endpoint, following the RFC 5988 ``Link: rel="next"`` URL."""
        url: str | None = f"{self.base}{path}"
        query: dict[str, Any] | None = {
            **(params or {}),
            "per_page": self.config.page_size,
            "page": 1,
        }
        seen: set[str] = set()
        while url:
            response = self.session.get(url, params=query)
            body = decode(response)
            if not isinstance(body, list):
                raise ApiError(SYSTEM, f"GET {path}: expected a list, got {type(body).__name__}")
            total = response.headers.get("X-Total-Count")
            self.last_total = int(total) if total and total.isdigit() else None
            yield [item for item in body if isinstance(item, dict)]
            seen.add(response.url)
            url = next_link(response)
            if url and _origin(url) != _origin(self.base):
                # the API key travels with every request: never to another host or scheme
                raise ApiError(
                    SYSTEM, f"GET {path}: the next link leads off {_origin(self.base)}: {url}"
                )
            if url in seen:
                raise ApiError(
                    SYSTEM, f"GET {path}: the next link points back to a page already read"
                )
            query = None  # the next link carries every parameter
