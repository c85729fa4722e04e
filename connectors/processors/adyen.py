"""Adyen notification item HMAC verification (each item is signed on its own).

The signature (``additionalData.hmacSignature``) is the base64 HMAC-SHA256, keyed with the
hex-decoded HMAC key, of ``pspReference:originalReference:merchantAccountCode:
merchantReference:value:currency:eventCode:success`` (missing fields as empty strings, values
as sent, no escaping), encoded as UTF-8.
"""

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


class NotificationShapeError(ValueError):
    """The body is not an Adyen standard notification."""


def _text(value: Any) -> str:
    if isinstance(value, bool):  # Adyen's libraries sign String.valueOf(success): "true"
        return "true" if value else "false"
    return "" if value is None else str(value)


def signing_payload(item: Mapping[str, Any]) -> str:
    """The colon-joined string Adyen signs for one NotificationRequestItem."""
    amount = item.get("amount")
    amount = amount if isinstance(amount, Mapping) else {}
    parts = [_text(item.get(name)) for name in SIGNED_FIELDS]
    parts.append(_text(amount.get("value")))
    parts.append(_text(amount.get("currency")))
    parts.append(_text(item.get("eventCode")))
    parts.append(_text(item.get("success")))
    return ":".join(parts)


def verify_item(item: Mapping[str, Any], hex_key: str) -> bool:
    """True when the item's `additionalData.hmacSignature` matches."""
    extra = item.get("additionalData")
    given = extra.get("hmacSignature") if isinstance(extra, Mapping) else None
    if not isinstance(given, str) or not given:
        return False
    try:
        key = binascii.unhexlify(hex_key.strip())
    except (binascii.Error, ValueError):
        return False
    digest = hmac.new(key, signing_payload(item).encode("utf-8"), hashlib.sha256).digest()
    # bytes, not str: compare_digest raises TypeError on a non-ASCII str
    return hmac.compare_digest(base64.b64encode(digest), given.encode("utf-8", "replace"))


def notification_items(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The NotificationRequestItems of a standard notification, in order."""
    entries = body.get("notificationItems")
    if not isinstance(entries, list) or not entries:
        raise NotificationShapeError("notificationItems is missing or empty")
    items: list[dict[str, Any]] = []
    for index, entry in enumerate(entries):
        item = entry.get("NotificationRequestItem") if isinstance(entry, dict) else None
        if not isinstance(item, dict):
            raise NotificationShapeError(
                f"notificationItems[{index}] has no NotificationRequestItem object"
            )
        items.append(item)
    return items


def verify_notification(body: Mapping[str, Any], hex_key: str) -> bool:
    """True when the body has items and every item verifies."""
    try:
        items = notification_items(body)
    except NotificationShapeError:
        return False
    return all(verify_item(item, hex_key) for item in items)
