"""Removing secrets from anything that may be logged, stored or reported."""

from __future__ import annotations

import re
from typing import Any

MASK = "***"

_SECRET_KEY = re.compile(
    r"(pass(word)?|secret|token|api[_-]?key|authorization|session[_-]?id|signature|"
    r"private[_-]?key|client[_-]?secret|sender[_-]?password|credential|cookie)",
    re.IGNORECASE,
)
_SECRET_XML = re.compile(
    r"<(password|sessionid|userid|senderid|apikey)>([^<]*)</\1>", re.IGNORECASE
)
_BEARER = re.compile(r"(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_QUERY_SECRET = re.compile(
    r"([?&](?:access_token|refresh_token|client_secret|api_key|password|sessionid)=)[^&\s]+",
    re.IGNORECASE,
)


def is_secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(key))


def redact(value: Any) -> Any:
    """A copy of ``value`` with secret-looking keys masked (dicts, lists, strings)."""
    if isinstance(value, dict):
        return {
            k: (MASK if isinstance(k, str) and is_secret_key(k) and v else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def redact_text(text: str) -> str:
    """Mask bearer tokens, secret query parameters and credential XML elements in text."""
    text = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text)
    text = _QUERY_SECRET.sub(lambda m: m.group(1) + MASK, text)
    return _SECRET_XML.sub(lambda m: f"<{m.group(1)}>{MASK}</{m.group(1)}>", text)
