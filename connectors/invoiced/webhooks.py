"""Invoiced webhooks: ``X-Invoiced-Signature`` is the lowercase hex HMAC-SHA256 of the raw
body with the webhook secret. Check it before parsing; de-duplicate by the event id (Invoiced
retries a failed delivery hourly, up to 48 times).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.base import RawRecord
from connectors.invoiced.jsonwire import loads
from connectors.invoiced.streams import moment

SIGNATURE_HEADER = "X-Invoiced-Signature"
STREAMS = {
    "customer": "customers",
    "invoice": "invoices",
    "credit_note": "credit_memos",
    "payment": "payments",
}


class WebhookError(ValueError):
    """A verified body that is not an Invoiced event."""


def sign(raw_body: bytes, secret: str) -> str:
    return hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()


def verify(raw_body: bytes, headers: Mapping[str, str], secret: str) -> bool:
    """True when the signature header matches the raw body (constant-time compare)."""
    given = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER.lower()), "")
    if not given or not secret:
        return False
    return hmac.compare_digest(given.strip().lower().encode(), sign(raw_body, secret).encode())


@dataclass(frozen=True)
class Event:
    """One webhook event: what happened to which object."""

    id: str
    type: str  # e.g. invoice.paid, payment.deleted
    timestamp: int | None
    object: Mapping[str, Any] = field(default_factory=dict)
    previous: Mapping[str, Any] = field(default_factory=dict)

    @property
    def object_type(self) -> str:
        return self.type.split(".", 1)[0]

    @property
    def object_id(self) -> str | None:
        value = self.object.get("id")
        return str(value) if value is not None else None

    @property
    def stream(self) -> str | None:
        """The arsync stream this event changes, None for objects arsync does not pull."""
        return STREAMS.get(self.object_type)

    @property
    def deleted(self) -> bool:
        return self.type.endswith(".deleted")

    def record(self) -> RawRecord | None:
        """The changed object as a pulled record (a delete included), if arsync pulls it."""
        if self.stream is None or self.object_id is None:
            return None
        stamp = self.timestamp if self.deleted else self.object.get("updated_at", self.timestamp)
        return RawRecord(
            stream=self.stream,
            object_type=self.object_type,
            remote_id=self.object_id,
            payload=dict(self.object),
            modified_at=moment(stamp),
            deleted=self.deleted,
        )


def parse(raw_body: bytes) -> Event:
    """A verified body ``{"id", "type", "timestamp", "data": {"object", "previous"}}`` (or
    ``previous`` beside ``data``, as the API reference's Event example shows it)."""
    try:
        body = loads(raw_body)
    except ValueError as exc:
        raise WebhookError("invoiced webhook: body is not JSON") from exc
    if not isinstance(body, dict):
        raise WebhookError("invoiced webhook: body is not a JSON object")
    for name in ("id", "type"):
        if body.get(name) is None or body.get(name) == "":
            raise WebhookError(f"invoiced webhook: {name} is missing")
    data = _object(body, "data", "data")
    obj = _object(data, "object", "data.object")
    # the reference puts ``previous`` in ``data``; its event example has it beside ``data``
    previous = _mapping(data.get("previous")) or _mapping(body.get("previous"))
    stamp = body.get("timestamp")
    return Event(
        id=str(body["id"]),
        type=str(body["type"]),
        timestamp=stamp if isinstance(stamp, int) else None,
        object=obj,
        previous=previous,
    )


def unread(event: Event) -> str | None:
    """Why arsync leaves this event alone (an object it does not pull), or None."""
    return None if event.stream else f"{event.object_type} events are not synced"


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _object(parent: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    """``parent[key]``: an object, or {} when absent or null; anything else is refused."""
    value = parent.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise WebhookError(f"invoiced webhook: {where} is not an object")
    return value
