"""How Intacct reports failures, and what arsync does about each.

Intacct answers most failures with HTTP 200 and ``<status>failure</status>`` at one of three
levels, each with ``<errormessage><error><errorno/><description/><description2/>
<correction/></error></errormessage>``:

* control: the Web Services sender is wrong or not authorized for the company;
* authentication: the user's login is wrong, or the session id is invalid or expired;
* result: one function failed (a bad query, an unknown resultId, a record refused).

:func:`envelope_errors` returns each error's (errorno, text) and then one synthetic code
naming the level, so rows can match on where the failure happened rather than on errnos
that differ by release. An authentication failure of a request that carried a session id
reads as :data:`SESSION_INVALID` (refresh once); one that carried a login as
:data:`LOGIN_FAILED` (stop). Intacct reports a Web Services sender the company has not
authorized in the authentication block too ("Invalid Web Services Authorization", errno
``XL03000006`` like most sign-in failures): that reads as :data:`SENDER_NOT_AUTHORIZED`, a
stop naming the fix, whatever the request carried; a new session cannot cure it.

A body that is not one whole ``<response>`` document (an HTML page served with HTTP 200
while the gateway is down for maintenance, a reply cut short, an empty body) reads as
:data:`NOT_A_RESPONSE`: the request may or may not have run, so it is tried again (writes
carry ``uniqueid``, so a resend never runs a function twice).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import requests
from lxml import etree

from connectors.errors import ErrorKind
from connectors.http import ErrorRule, ErrorTable
from connectors.intacct.xmlwire import Element, parse

CONTROL_FAILED = "control-failure"
LOGIN_FAILED = "login-failure"
SESSION_INVALID = "session-invalid"
SENDER_NOT_AUTHORIZED = "sender-not-authorized"
SENDER_REFUSED = "sender-refused"
FUNCTION_FAILED = "function-failure"
CONCURRENCY_LIMIT = "concurrency-limit"
DUPLICATE_CONTROL = "duplicate-control-id"
NOT_A_RESPONSE = "not-a-response"

# sandbox errnos (documented in sandbox.py); matching is on the synthetic codes above
SENDER_ERRNO = "XL03000006"
LOGIN_ERRNO = "XL03000010"
SESSION_ERRNO = "XL03000009"
CONCURRENCY_ERRNO = "XL03000011"
GATEWAY_RATE_LIMIT = "GW-0010"  # Intacct's "429 error": the gateway's rate limit, at control level
# "There are too many operations running for this company": the company's concurrent-job
# slots (one API job at the standard level of service) stayed taken for 30 s
_CONCURRENCY_WORDS = ("concurrent", "concurrency", "too many operations running")
_SENDER_AUTHORIZATION_WORDS = (
    "invalid web services authorization",
    "not authorized to make web services requests",
)
_SENDER_CREDENTIAL_WORDS = ("partner id", "sender id", "senderid")
SENDER_NOT_AUTHORIZED_FIX = (
    "the company has not authorized this Web Services sender ID: a company administrator "
    "must add it (status Active) under Company > Setup > Configuration > Company > Security "
    "tab > Web Services authorizations"
)
SENDER_REFUSED_FIX = "check intacct.sender_id and intacct.sender_password"
# a control id used before; Intacct's own wording: "A successful transaction has already been
# recorded with the control id ..." (a duplicate, never a credential failure)
_DUPLICATE_WORDS = (
    "already been recorded",
    "already been processed",
    "already processed",
    "duplicate",
    "not unique",
)


def error_pairs(holder: Element) -> list[tuple[str, str]]:
    """(errorno, text) of each ``errormessage/error`` directly under ``holder``."""
    pairs: list[tuple[str, str]] = []
    for error in holder.findall("errormessage/error"):
        number = (error.findtext("errorno") or "").strip()
        # whitespace collapsed: the error becomes one line of a one-line message
        parts = [
            " ".join((error.findtext(tag) or "").split()) for tag in ("description", "description2")
        ]
        text = " ".join(part for part in parts if part)
        correction = " ".join((error.findtext("correction") or "").split())
        if correction:
            text = f"{text} (correction: {correction})" if text else correction
        pairs.append((number, f"{number}: {text}" if number else text))
    return pairs


def duplicate_control(pairs: Sequence[tuple[str, str]]) -> bool:
    """Whether control-level errors say the request's control id was processed before (a
    request sent with ``uniqueid`` true, sent again)."""
    return any(
        "control" in text.lower() and any(w in text.lower() for w in _DUPLICATE_WORDS)
        for _, text in pairs
    )


def _mentions(pairs: Sequence[tuple[str, str]], words: Sequence[str]) -> bool:
    return any(word in text.lower() for _, text in pairs for word in words)


def _failed(element: Element | None) -> bool:
    return element is not None and (element.findtext("status") or "").strip() == "failure"


def _sent_session(response: requests.Response) -> bool:
    body = response.request.body if response.request is not None else None
    if isinstance(body, str):
        body = body.encode()
    return isinstance(body, bytes) and b"<sessionid>" in body


_BOM = b"\xef\xbb\xbf"
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def not_a_response(content: bytes, status: int) -> str | None:
    """What the gateway sent instead of a whole ``<response>`` document, or None when it
    sent one. Judged on the document's two ends, so a large page is not parsed for it."""
    body = content.strip().removeprefix(_BOM).lstrip()
    head = body[:512].lower()
    if body.startswith((b"<?xml", b"<response")) and body.endswith(b"</response>"):
        return None
    if _whole_response(content):  # a comment or instruction after it, another encoding
        return None
    if not body:
        what = "an empty body"
    elif b"<html" in head or b"<!doctype html" in head:
        found = _TITLE.search(body[:4096])
        title = " ".join(found.group(1).decode("utf-8", "replace").split()) if found else ""
        what = f"an HTML page ({title[:120]!r})" if title else "an HTML page"
    elif body.startswith((b"<?xml", b"<response")):
        what = f"XML cut short after {len(body)} bytes"
    else:
        what = "a body that is not XML"
    return f"the gateway answered HTTP {status} with {what} instead of an Intacct <response>"


def _whole_response(content: bytes) -> bool:
    """Whether ``content`` is a well-formed document whose root is ``<response>``."""
    try:
        return bool(content.strip()) and parse(content).tag == "response"
    except (etree.XMLSyntaxError, ValueError):
        return False


def envelope_errors(response: requests.Response) -> Sequence[tuple[str, str]]:
    """The errors an Intacct response reports at any level (HTTP 200 included)."""
    content = response.content or b""
    unreadable = not_a_response(content, response.status_code)
    if unreadable:
        return [(NOT_A_RESPONSE, unreadable)]
    if b"errormessage" not in content and b"failure" not in content:
        return ()  # success pages are large: parse only what can carry an error
    try:
        root = parse(content)
    except etree.XMLSyntaxError as exc:
        return [(NOT_A_RESPONSE, f"the gateway answered a malformed XML response: {exc}")]
    pairs: list[tuple[str, str]] = []
    control = root.find("control")
    if _failed(control) or (root.find("errormessage") is not None and root.tag == "response"):
        found = error_pairs(root)
        pairs += found
        if duplicate_control(found):
            pairs.append((DUPLICATE_CONTROL, ""))
        elif _mentions(found, _SENDER_AUTHORIZATION_WORDS):
            pairs.append((SENDER_NOT_AUTHORIZED, SENDER_NOT_AUTHORIZED_FIX))
        elif _mentions(found, _SENDER_CREDENTIAL_WORDS):
            pairs.append((SENDER_REFUSED, SENDER_REFUSED_FIX))
        pairs.append((CONTROL_FAILED, ""))
    operation = root.find("operation")
    if operation is not None:
        authentication = operation.find("authentication")
        if authentication is not None and _failed(authentication):
            found = error_pairs(operation) + error_pairs(authentication)
            pairs += found
            if _mentions(found, _SENDER_AUTHORIZATION_WORDS):
                pairs.append((SENDER_NOT_AUTHORIZED, SENDER_NOT_AUTHORIZED_FIX))
            pairs.append((SESSION_INVALID if _sent_session(response) else LOGIN_FAILED, ""))
        for result in operation.findall("result"):
            if _failed(result):
                pairs += error_pairs(result)
                pairs.append((FUNCTION_FAILED, ""))
    if any(
        number == CONCURRENCY_ERRNO or any(w in text.lower() for w in _CONCURRENCY_WORDS)
        for number, text in pairs
    ):
        pairs.append((CONCURRENCY_LIMIT, ""))
    return pairs


ERROR_TABLE = ErrorTable(
    rules=(
        ErrorRule(ErrorKind.RATE_LIMITED, status=429),
        # a control failure, whatever the HTTP status: before CONTROL_FAILED, which stops
        ErrorRule(ErrorKind.RATE_LIMITED, code=GATEWAY_RATE_LIMIT),
        ErrorRule(ErrorKind.RETRY, status=(500, 502, 503, 504)),
        # an HTML maintenance page or a cut reply with HTTP 200: the gateway is not answering
        ErrorRule(ErrorKind.RETRY, status=200, code=NOT_A_RESPONSE),
        # the company's concurrent-request entitlement (~2) is used up: back off, try again
        ErrorRule(ErrorKind.RATE_LIMITED, code=CONCURRENCY_LIMIT),
        # before SESSION_INVALID: a new session cannot cure an unauthorized sender
        ErrorRule(ErrorKind.AUTH, code=SENDER_NOT_AUTHORIZED),
        ErrorRule(ErrorKind.AUTH, code=SENDER_REFUSED),
        ErrorRule(ErrorKind.REFRESH, code=SESSION_INVALID),
        ErrorRule(ErrorKind.CONFLICT, code=DUPLICATE_CONTROL),
        ErrorRule(ErrorKind.AUTH, code=LOGIN_FAILED),
        ErrorRule(ErrorKind.AUTH, code=CONTROL_FAILED),
        ErrorRule(ErrorKind.DATA, code=FUNCTION_FAILED),
    ),
    body_errors=envelope_errors,
)
"""Intacct's error table: rate limits and 5xx first, then the failure's level."""
