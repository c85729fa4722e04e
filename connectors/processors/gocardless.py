"""GoCardless webhook signature verification over the raw request body.

``Webhook-Signature`` is the lowercase hex HMAC-SHA256 of the raw body keyed with the webhook
endpoint secret. A webhook whose signature does not match must be answered 498. A blank
secret verifies nothing (see :func:`connectors.processors.usable_secrets`).
"""

import hashlib
import hmac

from connectors.processors import usable_secrets


def verify(raw_body: bytes, signature_header: str, secret: str) -> bool:
    """True when `Webhook-Signature` is the hex HMAC-SHA256 of the body."""
    usable = usable_secrets([secret])
    if not usable:
        return False
    expected = hmac.new(usable[0].encode(), raw_body, hashlib.sha256).hexdigest().encode()
    # bytes, not str: compare_digest raises TypeError on a non-ASCII str (a forged header)
    given = signature_header.strip().lower().encode("utf-8", "replace")
    return hmac.compare_digest(expected, given)
