"""Adyen notification item HMAC verification (each item is signed on its own), and the HTTP
Basic credentials Adyen sends with every delivery when the webhook is configured with them.

The signature (``additionalData.hmacSignature``) is the base64 HMAC-SHA256, keyed with the
hex-decoded HMAC key, of ``pspReference:originalReference:merchantAccountCode:
merchantReference:value:currency:eventCode:success`` (missing fields as empty strings, values
as sent, no escaping), encoded as UTF-8. Any of several keys passes (the previous one while
a new key is rolled out); a blank key signs nothing and is skipped (see
:func:`connectors.processors.usable_secrets`). The signature covers only those eight fields, not
``additionalData`` (metadata such as an invoice number): Basic authentication covers the rest.
"""

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from typing import Any

from connectors.processors import usable_secrets

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


def verify_item(item: Mapping[str, Any], hex_keys: Sequence[str]) -> bool:
    """True when the item's `additionalData.hmacSignature` matches under any of the keys."""
    extra = item.get("additionalData")
    given = extra.get("hmacSignature") if isinstance(extra, Mapping) else None
    if not isinstance(given, str) or not given:
        return False
    # bytes, not str: compare_digest raises TypeError on a non-ASCII str
    signature = given.encode("utf-8", "replace")
    payload = signing_payload(item).encode("utf-8")
    for hex_key in usable_secrets(hex_keys):
        try:
            key = binascii.unhexlify(hex_key)
        except (binascii.Error, ValueError):
            continue
        digest = hmac.new(key, payload, hashlib.sha256).digest()
        if hmac.compare_digest(base64.b64encode(digest), signature):
            return True
    return False


def verify_basic_auth(authorization: str, username: str, password: str) -> bool:
    """True when an ``Authorization: Basic`` header carries this user name and password."""
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    user, colon, secret = decoded.partition(b":")
    # both compared in full, each in constant time: a wrong user name answers like a wrong password
    same_user = hmac.compare_digest(user, username.encode("utf-8"))
    same_password = hmac.compare_digest(secret, password.encode("utf-8"))
    return bool(colon) and same_user and same_password


def notification_entries(body: Mapping[str, Any]) -> list[dict[str, Any] | None]:
    """Each entry's NotificationRequestItem, in order; None for an entry that holds no item
    object (it carries no signature that could verify, and leaves the other entries alone)."""
    entries = body.get("notificationItems")
    if not isinstance(entries, list) or not entries:
        raise NotificationShapeError("notificationItems is missing or empty")
    found: list[dict[str, Any] | None] = []
    for entry in entries:
        item = entry.get("NotificationRequestItem") if isinstance(entry, dict) else None
        found.append(item if isinstance(item, dict) else None)
    return found


def notification_items(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The NotificationRequestItems of a standard notification, in order (every entry one)."""
    items: list[dict[str, Any]] = []
    for index, item in enumerate(notification_entries(body)):
        if item is None:
            raise NotificationShapeError(
                f"notificationItems[{index}] has no NotificationRequestItem object"
            )
        items.append(item)
    return items


def verify_notification(body: Mapping[str, Any], hex_keys: Sequence[str]) -> bool:
    """True when the body has items and every item verifies."""
    try:
        items = notification_items(body)
    except NotificationShapeError:
        return False
    return all(verify_item(item, hex_keys) for item in items)
