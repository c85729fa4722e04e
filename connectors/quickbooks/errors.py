"""How QuickBooks Online reports failures, and what arsync does about each.

QBO wraps errors in ``{"Fault": {"Error": [{"Message", "Detail", "code", "element"}],
"type"}, "time"}``, sometimes with HTTP 200. :func:`fault_errors` reads that envelope and
also reports the fault ``type`` as a code, so rows can match on it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import requests

from connectors.errors import ErrorKind
from connectors.http import ErrorRule, ErrorTable

THROTTLED = "3001"
STALE_SYNC_TOKEN = "5010"
OBJECT_NOT_FOUND = "610"
AUTHENTICATION_FAILED = "3200"


def fault_of(body: Any) -> dict[str, Any] | None:
    """The ``Fault`` object of a decoded body, if it carries one."""
    if isinstance(body, dict):
        fault = body.get("Fault")
        if isinstance(fault, dict):
            return fault
    return None


def fault_pairs(fault: dict[str, Any]) -> list[tuple[str, str]]:
    """(code, message) of each error in a Fault, then (type, "")."""
    pairs: list[tuple[str, str]] = []
    for error in fault.get("Error") or []:
        if not isinstance(error, dict):
            continue
        code = str(error.get("code", "")).lstrip("0") or "0"
        message = str(error.get("Message", "")).strip()
        detail = str(error.get("Detail", "")).strip()
        element = str(error.get("element", "")).strip()
        text = ": ".join(part for part in (message, detail) if part)
        if element:
            text += f" (element {element})"
        pairs.append((code, text))
    kind = fault.get("type")
    if isinstance(kind, str) and kind:
        pairs.append((kind, ""))
    return pairs


def fault_errors(response: requests.Response) -> Sequence[tuple[str, str]]:
    """The errors a response reports in its top-level Fault (HTTP 200 included)."""
    content = response.content
    if "json" not in response.headers.get("Content-Type", "") or b'"Fault"' not in content:
        return ()  # success pages are large: parse only what can carry a Fault
    body = json.loads(content, parse_float=Decimal)
    fault = fault_of(body)
    return fault_pairs(fault) if fault else ()


ERROR_TABLE = ErrorTable(
    rules=(
        ErrorRule(ErrorKind.RATE_LIMITED, code=THROTTLED),  # ThrottleExceeded, any status
        ErrorRule(ErrorKind.RATE_LIMITED, status=429),
        ErrorRule(ErrorKind.REFRESH, status=401),
        ErrorRule(ErrorKind.REFRESH, code=AUTHENTICATION_FAILED),
        ErrorRule(ErrorKind.REFRESH, code="AUTHENTICATION"),
        # ApplicationAuthorizationFailed / AuthorizationFailure: wrong realm or scope
        ErrorRule(ErrorKind.AUTH, code="3100"),
        ErrorRule(ErrorKind.AUTH, code="120"),
        ErrorRule(ErrorKind.AUTH, status=403),
        ErrorRule(ErrorKind.CONFLICT, code=STALE_SYNC_TOKEN),
        ErrorRule(ErrorKind.NOT_FOUND, code=OBJECT_NOT_FOUND),
        ErrorRule(ErrorKind.RETRY, status=(500, 502, 503, 504)),
        ErrorRule(ErrorKind.RETRY, code="SystemFault"),
        ErrorRule(ErrorKind.DATA, code="ValidationFault"),
    ),
    body_errors=fault_errors,
)
"""QBO's error table: throttling, token expiry, stale SyncToken, missing object, data."""
