"""How QuickBooks Online reports failures, and what arsync does about each.

QBO wraps errors in ``{"Fault": {"Error": [{"Message", "Detail", "code", "element"}],
"type"}, "time"}``, sometimes with HTTP 200; its 401 and 403 refusals come with the same
envelope in lowercase (``{"fault": {"error": [{"message", "detail", "code"}], "type"}}``).
:func:`fault_errors` reads both and also reports the fault ``type`` as a code, so rows can
match on it; the code reported is QBO's own when it gave one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import requests

from connectors.errors import ErrorKind
from connectors.http import ErrorRule, ErrorTable

THROTTLED = "3001"
STALE_SYNC_TOKEN = "5010"
OBJECT_NOT_FOUND = "610"
AUTHENTICATION_FAILED = "3200"
AUTHORIZATION_FAILURE = "120"  # the user who connected the app lost access (HTTP 401)
APP_AUTHORIZATION_FAILED = "3100"
COMPANY_STATUS_INVALID = "6190"  # subscription ended or cancelled, or a billing problem

FIXES: dict[str, str] = {
    AUTHORIZATION_FAILURE: (
        "the QuickBooks user who connected arsync is no longer an admin of this company or "
        "lost access: an admin of the company must reconnect arsync"
    ),
    APP_AUTHORIZATION_FAILED: (
        "arsync is not authorized for this company or scope: reconnect arsync to QuickBooks "
        "with the com.intuit.quickbooks.accounting scope"
    ),
    COMPANY_STATUS_INVALID: (
        "the QuickBooks company cannot take data (subscription ended, cancelled or a billing "
        "problem): the company owner must renew the subscription in QuickBooks"
    ),
}
"""What the user must do about a fault no retry or token refresh can cure, by code."""


def _field(obj: dict[str, Any], name: str) -> Any:
    """``obj[name]``, or its lowercase spelling (QBO's 401/403 envelope)."""
    value = obj.get(name)
    return obj.get(name.lower()) if value is None else value


def _text(error: dict[str, Any], name: str) -> str:
    value = _field(error, name)
    return "" if value is None else str(value).strip()


def fault_of(body: Any) -> dict[str, Any] | None:
    """The ``Fault`` object of a decoded body, if it carries one."""
    if isinstance(body, dict):
        fault = _field(body, "Fault")
        if isinstance(fault, dict):
            return fault
    return None


def fault_pairs(fault: dict[str, Any]) -> list[tuple[str, str]]:
    """(code, message) of each error in a Fault, then (type, "")."""
    pairs: list[tuple[str, str]] = []
    for error in _field(fault, "Error") or []:
        if not isinstance(error, dict):
            continue
        code = _text(error, "code").lstrip("0") or "0"
        message = _text(error, "Message")
        detail = _text(error, "Detail")
        element = _text(error, "element")
        text = ": ".join(part for part in (message, detail) if part)
        if element:
            text += f" (element {element})"
        if code in FIXES:
            text = f"{text}: {FIXES[code]}" if text else FIXES[code]
        pairs.append((code, text))
    kind = fault.get("type")
    if isinstance(kind, str) and kind:
        pairs.append((kind, ""))
    return pairs


def carries_fault(content: bytes) -> bool:
    """Whether a raw body may carry a Fault (either spelling)."""
    return b'"Fault"' in content or b'"fault"' in content


@dataclass(frozen=True)
class FaultTypeRule(ErrorRule):
    """A row matching a fault ``type``; what it reports is the error's own code (6210, 2500),
    so an answer read whole names the same code as a batch item's."""

    fault_type: str = ""

    def matches(self, status: int, codes: Sequence[str]) -> bool:
        return self.fault_type in codes and super().matches(status, codes)


def fault_errors(response: requests.Response) -> Sequence[tuple[str, str]]:
    """The errors a response reports in its top-level Fault (HTTP 200 included)."""
    content = response.content
    if "json" not in response.headers.get("Content-Type", "") or not carries_fault(content):
        return ()  # success pages are large: parse only what can carry a Fault
    body = json.loads(content, parse_float=Decimal)
    fault = fault_of(body)
    return fault_pairs(fault) if fault else ()


ERROR_TABLE = ErrorTable(
    rules=(
        ErrorRule(ErrorKind.RATE_LIMITED, code=THROTTLED),  # ThrottleExceeded, any status
        ErrorRule(ErrorKind.RATE_LIMITED, status=429),
        # before the 401 row: Intuit answers 120 with HTTP 401, and a new token cannot cure it
        ErrorRule(ErrorKind.AUTH, code=AUTHORIZATION_FAILURE),
        ErrorRule(ErrorKind.REFRESH, status=401),
        ErrorRule(ErrorKind.REFRESH, code=AUTHENTICATION_FAILED),
        # ApplicationAuthorizationFailed (HTTP 403): wrong realm or scope
        ErrorRule(ErrorKind.AUTH, code=APP_AUTHORIZATION_FAILED),
        ErrorRule(ErrorKind.AUTH, status=403),
        # a ValidationFault that no record can avoid: every write of the company would fail
        ErrorRule(ErrorKind.AUTH, code=COMPANY_STATUS_INVALID),
        # fault types, after the codes so that a known code is the one reported
        FaultTypeRule(ErrorKind.REFRESH, fault_type="AUTHENTICATION"),
        FaultTypeRule(ErrorKind.REFRESH, fault_type="AuthenticationFault"),
        FaultTypeRule(ErrorKind.AUTH, fault_type="AuthorizationFault"),
        ErrorRule(ErrorKind.CONFLICT, code=STALE_SYNC_TOKEN),
        ErrorRule(ErrorKind.NOT_FOUND, code=OBJECT_NOT_FOUND),
        ErrorRule(ErrorKind.RETRY, status=(500, 502, 503, 504)),
        FaultTypeRule(ErrorKind.RETRY, fault_type="SystemFault"),
        FaultTypeRule(ErrorKind.DATA, fault_type="ValidationFault"),
    ),
    body_errors=fault_errors,
)
"""QBO's error table: throttling, token expiry, stale SyncToken, missing object, data."""
