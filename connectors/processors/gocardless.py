"""GoCardless webhook signature verification over the raw request body."""

import hashlib
import hmac


def verify(raw_body: bytes, signature_header: str, secret: str) -> bool:
    """True when `Webhook-Signature` is the hex HMAC-SHA256 of the body."""
    expected = hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature_header.strip())
