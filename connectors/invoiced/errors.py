"""Invoiced's error table: ``{"type", "message", "param"}`` bodies by status and type."""

from __future__ import annotations

import json
from collections.abc import Sequence

import requests

from connectors.errors import ErrorKind
from connectors.http import ErrorRule, ErrorTable


def error_body(response: requests.Response) -> Sequence[tuple[str, str]]:
    """The (type, message) of an error response; nothing for a success."""
    if response.status_code < 400:
        return ()
    try:
        body = json.loads(response.content or b"{}")
    except ValueError:
        return ()
    if not isinstance(body, dict) or "type" not in body:
        return ()
    message = str(body.get("message") or "")
    if body.get("param"):
        message = f"{message} (param {body['param']})"
    return ((str(body["type"]), message),)


ERROR_TABLE = ErrorTable(
    rules=[
        ErrorRule(ErrorKind.RATE_LIMITED, code="rate_limit_error"),
        ErrorRule(ErrorKind.AUTH, code="authentication_error"),  # a static key: nothing to refresh
        ErrorRule(ErrorKind.AUTH, status=401),
        ErrorRule(ErrorKind.AUTH, status=403),
        ErrorRule(ErrorKind.RETRY, code="api_error"),
        ErrorRule(ErrorKind.DATA, code="invalid_request"),
    ],
    body_errors=error_body,
)
