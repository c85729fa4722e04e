"""Adyen notification item HMAC verification (each item is signed on its own)."""

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

SIGNED_FIELDS = (
    "pspReference",
    "originalReference",
    "merchantAccountCode",
    "merchantReference",
)


def signing_payload(item: Mapping[str, Any]) -> str:
    """The colon-joined string Adyen signs for one NotificationRequestItem."""
    amount = item.get("amount") or {}
    parts = [str(item.get(name) or "") for name in SIGNED_FIELDS]
    parts.append(str(amount.get("value", "")))
    parts.append(str(amount.get("currency") or ""))
    parts.append(str(item.get("eventCode") or ""))
    parts.append(str(item.get("success") or ""))
    return ":".join(parts)


def verify_item(item: Mapping[str, Any], hex_key: str) -> bool:
    """True when the item's `additionalData.hmacSignature` matches."""
    given = str((item.get("additionalData") or {}).get("hmacSignature") or "")
    try:
        key = binascii.unhexlify(hex_key)
    except (binascii.Error, ValueError):
        return False
    digest = hmac.new(key, signing_payload(item).encode(), hashlib.sha256).digest()
    return bool(given) and hmac.compare_digest(base64.b64encode(digest).decode(), given)


def verify_notification(body: Mapping[str, Any], hex_key: str) -> bool:
    """True when the body has items and every item verifies."""
    items = body.get("notificationItems") or []
    if not items:
        return False
    return all(verify_item(entry.get("NotificationRequestItem") or {}, hex_key) for entry in items)
