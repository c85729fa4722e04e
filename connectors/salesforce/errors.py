"""Salesforce's error table: REST bodies are ``[{"message", "errorCode", "fields"}]``.

The OAuth token endpoint answers ``{"error", "error_description"}`` instead; both are read.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal

import requests

from connectors.errors import ErrorKind
from connectors.http import ErrorRule, ErrorTable

REQUEST_LIMIT = "REQUEST_LIMIT_EXCEEDED"
CONCURRENT_LIMIT = "REQUEST_LIMIT_EXCEEDED/concurrent"
"""Synthetic code: a REQUEST_LIMIT_EXCEEDED that reports the concurrent long-running request
limit ("ConcurrentPerOrgLongTxn Limit exceeded"), not the daily allowance ("TotalRequests
Limit exceeded"). The first clears when running requests finish; the second does not."""
QUERY_LOCATOR = "INVALID_QUERY_LOCATOR"
"""A queryMore whose cursor expired (idle for minutes, or released when the user opened too
many): sending it again cannot help; the reader runs its query again."""


def salesforce_body_errors(response: requests.Response) -> Sequence[tuple[str, str]]:
    """(errorCode, message) pairs of a REST or OAuth error body; () for anything else.

    A REQUEST_LIMIT_EXCEEDED about the concurrent limit adds :data:`CONCURRENT_LIMIT`."""
    if response.status_code < 300 or not response.content:
        return ()
    body = json.loads(response.content, parse_float=Decimal)
    if isinstance(body, dict) and "error" in body:
        return [(str(body["error"]), str(body.get("error_description") or body["error"]))]
    if isinstance(body, dict):
        body = [body]
    out: list[tuple[str, str]] = []
    for item in body if isinstance(body, list) else []:
        if isinstance(item, dict) and "errorCode" in item:
            message = str(item.get("message") or "").strip()
            fields = item.get("fields") or []
            if fields:
                message = f"{message} (fields: {', '.join(map(str, fields))})"
            out.append((str(item["errorCode"]), message))
            if item["errorCode"] == REQUEST_LIMIT and "concurrent" in message.lower():
                out.append((CONCURRENT_LIMIT, ""))
    return out


SALESFORCE_RULES: tuple[ErrorRule, ...] = (
    ErrorRule(ErrorKind.REFRESH, status=401, code="INVALID_SESSION_ID"),
    # Too many long-running requests at once (403 too): clears as they finish, back off.
    ErrorRule(ErrorKind.RATE_LIMITED, code=CONCURRENT_LIMIT),
    # The org's daily API allowance is spent: retrying only burns more of tomorrow's. The
    # connector stops for this run; the next scheduled run resumes from its bookmark.
    ErrorRule(ErrorKind.AUTH, status=403, code="REQUEST_LIMIT_EXCEEDED"),
    # The object/field names in the configuration do not exist in this org.
    ErrorRule(ErrorKind.AUTH, code="INVALID_FIELD"),
    ErrorRule(ErrorKind.AUTH, code="INVALID_TYPE"),
    ErrorRule(ErrorKind.AUTH, code="MALFORMED_QUERY"),
    ErrorRule(ErrorKind.AUTH, code="API_DISABLED_FOR_ORG"),
    # The org's data storage is full: no write can succeed until an admin frees or buys space.
    ErrorRule(ErrorKind.AUTH, code="STORAGE_LIMIT_EXCEEDED"),
    ErrorRule(ErrorKind.RETRY, code="SERVER_UNAVAILABLE"),
    ErrorRule(ErrorKind.RETRY, code="UNABLE_TO_LOCK_ROW"),
    # The query ran too long this time: nothing is wrong with it, try again.
    ErrorRule(ErrorKind.RETRY, code="QUERY_TIMEOUT"),
    # An expired query cursor (400 or 404 by endpoint): the same kind either way.
    ErrorRule(ErrorKind.DATA, code=QUERY_LOCATOR),
    ErrorRule(ErrorKind.CONFLICT, status=412),
    # OAuth: wrong client id/secret, user, password or key.
    ErrorRule(ErrorKind.AUTH, status=400, code="invalid_grant"),
    ErrorRule(ErrorKind.AUTH, status=400, code="invalid_client_id"),
    ErrorRule(ErrorKind.AUTH, status=400, code="invalid_client"),
    ErrorRule(ErrorKind.AUTH, status=400, code="unsupported_grant_type"),
    ErrorRule(ErrorKind.AUTH, status=400, code="invalid_request"),
)

SALESFORCE_ERRORS = ErrorTable(SALESFORCE_RULES, salesforce_body_errors)


# The OAuth token endpoint (``/services/oauth2/token``). Every refusal it documents
# (invalid_grant "authentication failure", invalid_client_id, invalid_client, inactive_user,
# inactive_org, invalid_app_access, rate_limit_exceeded "login rate exceeded", ...) is cured
# by fixing the connected app, the user or the org, not by sending again: any 4xx stops the
# connector. Only 5xx and timeouts are retried.
TOKEN_RULES: tuple[ErrorRule, ...] = (
    ErrorRule(ErrorKind.RETRY, status=(500, 502, 503, 504)),
    ErrorRule(ErrorKind.AUTH, status=tuple(range(400, 500))),
)

TOKEN_ERRORS = ErrorTable(TOKEN_RULES, salesforce_body_errors)
