"""Invoiced's error table: ``{"type", "message", "param"}`` bodies, read by status and type."""

from __future__ import annotations

import json
from collections.abc import Sequence

import requests

from connectors.errors import ErrorKind
from connectors.http import ErrorRule, ErrorTable

KEY_REFUSED_FIX = (
    "the API key is wrong, deleted or for the other environment (sandbox / production): "
    "use a current key from Invoiced Settings > Developers"
)


def error_body(response: requests.Response) -> Sequence[tuple[str, str]]:
    """The (type, message) of an error reply; nothing for a success or a body that isn't one."""
    if response.status_code < 400:
        return ()
    try:
        body = json.loads(response.content or b"{}")
    except ValueError:
        return ()
    if not isinstance(body, dict) or not body.get("type"):
        return ()
    message = str(body.get("message") or "")
    if body.get("param"):
        message = f"{message} (param {body['param']})"
    if response.status_code == 401:  # a static key: only a new key helps, say where
        message = f"{message}: {KEY_REFUSED_FIX}" if message else KEY_REFUSED_FIX
    return ((str(body["type"]), message),)


ERROR_TABLE = ErrorTable(
    rules=[
        ErrorRule(ErrorKind.RATE_LIMITED, status=429),
        ErrorRule(ErrorKind.RATE_LIMITED, code="rate_limit_error"),
        # A static API key: a 401 cannot be cured by a refresh.
        ErrorRule(ErrorKind.AUTH, status=401),
        ErrorRule(ErrorKind.AUTH, code="authentication_error"),
        ErrorRule(ErrorKind.AUTH, status=403),  # the key lacks a permission
        ErrorRule(ErrorKind.NOT_FOUND, status=404),
        ErrorRule(ErrorKind.RETRY, status=(500, 502, 503, 504)),
        # Invoiced's "something went wrong on our end": type ``api`` as documented (older
        # replies said ``api_error``)
        ErrorRule(ErrorKind.RETRY, code="api"),
        ErrorRule(ErrorKind.RETRY, code="api_error"),
        ErrorRule(ErrorKind.DATA, code="invalid_request"),
    ],
    body_errors=error_body,
)
