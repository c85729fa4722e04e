"""Stripe webhook signature verification over the raw request body.

``Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...][,v0=...]``: each ``v1`` is the
hex HMAC-SHA256 of ``"{t}.{raw body}"`` keyed with the endpoint's ``whsec_...`` secret (the
string itself, UTF-8). Any ``v1`` matching any configured secret passes (several during a
rotation); ``v0`` and unknown schemes are ignored. A timestamp older than the tolerance fails
(a replay); one ahead of this clock passes, as in Stripe's own libraries: only Stripe can sign
it, so it is this clock running behind, which must not refuse every delivery.
A blank secret signs nothing and is skipped (see :func:`connectors.processors.usable_secrets`).
"""

import hashlib
import hmac
import time
from collections.abc import Callable, Sequence

from connectors.processors import usable_secrets

DEFAULT_TOLERANCE_SECONDS = 300


def _bytes(value: str) -> bytes:
    """Compare as bytes: ``hmac.compare_digest`` refuses non-ASCII ``str`` with a TypeError."""
    return value.strip().lower().encode("utf-8", "replace")


def verify(
    raw_body: bytes,
    signature_header: str,
    secrets: Sequence[str],
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    clock: Callable[[], float] = time.time,
) -> bool:
    """True when any `v1` signature matches any secret and the timestamp is not too old."""
    timestamp: str | None = None
    signatures: list[bytes] = []
    for part in signature_header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            timestamp = value.strip()
        elif key == "v1":
            signatures.append(_bytes(value))
    if timestamp is None or not timestamp.isascii() or not timestamp.isdigit() or not signatures:
        return False
    if int(timestamp) < clock() - tolerance_seconds:
        return False
    signed = timestamp.encode() + b"." + raw_body
    for secret in usable_secrets(secrets):
        expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest().encode()
        if any(hmac.compare_digest(expected, sig) for sig in signatures):
            return True
    return False
