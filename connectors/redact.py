"""Removing secrets from anything that may be logged, stored or reported.

Two nets, both applied by :func:`redact_text` (and so by :func:`redact`):

* by shape: bearer/basic credentials, secret query or form parameters, credential XML
  elements, passwords in URLs;
* by value: every secret arsync knows — the ``SecretStr`` fields of a connector's config and
  the tokens, session ids and keys it sends — is remembered with :func:`register_secret`
  (the shared HTTP layer does this for every request it sends) and masked wherever it
  appears, also base64- or URL-encoded, so an error body that echoes the request verbatim
  cannot carry a credential into a log line, an exception, a stored row or a report.
"""

from __future__ import annotations

import base64
import re
import threading
from typing import Any
from urllib.parse import quote, quote_plus, unquote_plus

MASK = "***"
MIN_SECRET_LENGTH = 6  # shorter values would mask ordinary words; no real credential is this short
MAX_KNOWN_SECRETS = 256  # oldest forgotten first (expired access tokens go first); each is a
# branch of the pattern every redaction runs, so the set is kept small

_SECRET_KEY = re.compile(
    r"(pass(word)?|secret|token|api[_-]?key|authorization|session[_-]?id|signature|"
    r"private[_-]?key|client[_-]?secret|sender[_-]?password|credential|cookie|assertion)",
    re.IGNORECASE,
)
_SECRET_XML = re.compile(
    r"<(password|sessionid|userid|senderid|apikey)>([^<]*)</\1>", re.IGNORECASE
)
_BEARER = re.compile(r"(Bearer|Basic)\s+[A-Za-z0-9._~+/=!-]+", re.IGNORECASE)
_SECRET_PARAMS = r"access_token|refresh_token|client_secret|api_key|password|sessionid|assertion"
_QUERY_SECRET = re.compile(
    rf"([?&](?:{_SECRET_PARAMS})=)[^&\s]+",
    re.IGNORECASE,
)
_FORM_SECRET = re.compile(rf"(?:^|[?&])(?:{_SECRET_PARAMS})=([^&\s]+)", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"([a-z][a-z0-9+.-]*://[^:/@\s]+:)[^@/\s]+(@)", re.IGNORECASE)

_known: dict[str, None] = {}  # insertion-ordered set of secret values and their encodings
_known_lock = threading.Lock()
_known_pattern: re.Pattern[str] | None = None


def is_secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(key))


def _encodings(value: str) -> set[str]:
    raw = value.encode("utf-8")
    forms = {value, quote(value, safe=""), quote_plus(value)}
    for blob in (raw, raw + b":"):  # ``key:`` is HTTP Basic with the key as the user name
        encoded = base64.b64encode(blob).decode("ascii")
        forms.add(encoded)
        forms.add(encoded.rstrip("="))
        forms.add(base64.urlsafe_b64encode(blob).decode("ascii").rstrip("="))
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


def register_secret(value: Any) -> None:
    """Remember a secret (a ``str`` or ``SecretStr``) so it is masked wherever it appears."""
    global _known_pattern
    if value is not None and hasattr(value, "get_secret_value"):
        value = value.get_secret_value()
    if not isinstance(value, str) or len(value.strip()) < MIN_SECRET_LENGTH:
        return
    value = value.strip()
    with _known_lock:
        if value in _known:
            return
        for form in _encodings(value):
            _known[form] = None
        while len(_known) > MAX_KNOWN_SECRETS:
            del _known[next(iter(_known))]
        ordered = sorted(_known, key=len, reverse=True)  # longest first: no partial masks
        _known_pattern = re.compile("|".join(re.escape(form) for form in ordered))


def register_secrets_of(model: Any) -> None:
    """Remember every ``SecretStr`` field of a config model (nested models and lists too)."""
    if model is None:
        return
    if hasattr(model, "get_secret_value"):
        register_secret(model)
        return
    if isinstance(model, dict):
        values: Any = model.values()
    elif isinstance(model, list | tuple | set):
        values = model
    elif hasattr(model, "__pydantic_fields__"):
        values = [getattr(model, name, None) for name in type(model).__pydantic_fields__]
    else:
        return
    for value in values:
        if (
            hasattr(value, "get_secret_value")
            or isinstance(value, dict | list | tuple | set)
            or hasattr(value, "__pydantic_fields__")
        ):
            register_secrets_of(value)


def register_secrets_in(text: str | bytes | None) -> None:
    """Remember the credentials a request carries: an Authorization header value, a form or
    query string, or an XML body (the same shapes :func:`redact_text` masks)."""
    if text is None:
        return
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    for match in re.finditer(r"(Bearer|Basic)\s+([A-Za-z0-9._~+/=!-]+)", text, re.IGNORECASE):
        scheme, credential = match.group(1).lower(), match.group(2)
        register_secret(credential)
        if scheme == "basic":
            try:
                user, _, password = (
                    base64.b64decode(credential, validate=True).decode("utf-8").partition(":")
                )
            except (ValueError, UnicodeDecodeError):
                continue
            register_secret(password or user)  # an API key travels as the user name
    for match in _FORM_SECRET.finditer(text):
        register_secret(unquote_plus(match.group(1)))
    for match in _SECRET_XML.finditer(text):
        if match.group(1).lower() in ("password", "sessionid", "apikey"):
            register_secret(_xml_text(match.group(2)))


def _xml_text(value: str) -> str:
    return (
        value.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&apos;", "'")
        .replace("&amp;", "&")
    )


def forget_secrets() -> None:
    """Forget every registered secret (tests)."""
    global _known_pattern
    with _known_lock:
        _known.clear()
        _known_pattern = None


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
    """Mask known secret values, bearer tokens, secret query parameters, URL passwords and
    credential XML elements in text."""
    pattern = _known_pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text)
    text = _QUERY_SECRET.sub(lambda m: m.group(1) + MASK, text)
    text = _URL_PASSWORD.sub(lambda m: m.group(1) + MASK + m.group(2), text)
    return _SECRET_XML.sub(lambda m: f"<{m.group(1)}>{MASK}</{m.group(1)}>", text)
