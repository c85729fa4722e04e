"""The one Invoiced client: HTTP Basic with the API key, Link-header paging, exact numbers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import requests
from requests.auth import HTTPBasicAuth

from connectors.errors import ApiError
from connectors.http import ApiSession, RetryPolicy
from connectors.invoiced.config import InvoicedConfig
from connectors.invoiced.errors import ERROR_TABLE

SYSTEM = "invoiced"
Payload = dict[str, Any]


def decode(response: requests.Response) -> Any:
    """JSON with every decimal number as ``Decimal`` (never float)."""
    try:
        return json.loads(response.content, parse_float=Decimal)
    except ValueError as exc:
        raise ApiError(SYSTEM, f"{response.request.path_url}: answer is not JSON") from exc


class InvoicedClient:
    """Low-level calls against one Invoiced account."""

    def __init__(self, config: InvoicedConfig, policy: RetryPolicy | None = None) -> None:
        self.config = config
        self.base = config.base_url.rstrip("/")
        self.session = ApiSession(
            SYSTEM,
            error_table=ERROR_TABLE,
            policy=policy or RetryPolicy(timeout=config.timeout),
            auth=HTTPBasicAuth(config.api_key.get_secret_value(), ""),
            per_second=config.per_second,
        )

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return decode(self.session.get(f"{self.base}{path}", params=params))

    def pages(self, path: str, params: dict[str, Any] | None = None) -> Iterator[list[Payload]]:
        """Every page of a list endpoint, following the RFC 5988 ``Link: rel="next"`` header."""
        url: str | None = f"{self.base}{path}"
        query: dict[str, Any] | None = {
            **(params or {}),
            "per_page": self.config.page_size,
            "page": 1,
        }
        while url:
            response = self.session.get(url, params=query)
            body = decode(response)
            if not isinstance(body, list):
                raise ApiError(SYSTEM, f"{path}: expected a list, got {type(body).__name__}")
            yield [item for item in body if isinstance(item, dict)]
            url = response.links.get("next", {}).get("url")
            query = None  # the next link carries every parameter
