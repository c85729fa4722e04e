"""Stripe webhook signature verification over the raw request body."""

import hashlib
import hmac
import time
from collections.abc import Callable, Sequence

DEFAULT_TOLERANCE_SECONDS = 300


def verify(
    raw_body: bytes,
    signature_header: str,
    secrets: Sequence[str],
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    clock: Callable[[], float] = time.time,
) -> bool:
    """True when any `v1` signature matches any secret and the timestamp is fresh."""
    timestamp: str | None = None
    signatures: list[str] = []
    for part in signature_header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            timestamp = value
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not timestamp.isdigit() or not signatures:
        return False
    if abs(clock() - int(timestamp)) > tolerance_seconds:
        return False
    signed = timestamp.encode() + b"." + raw_body
    for secret in secrets:
        expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        if any(hmac.compare_digest(expected, sig) for sig in signatures):
            return True
    return False
