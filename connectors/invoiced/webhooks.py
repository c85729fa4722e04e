"""Invoiced webhooks: ``X-Invoiced-Signature`` is hex HMAC-SHA256 of the raw body."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass

SIGNATURE_HEADER = "X-Invoiced-Signature"


def sign(raw_body: bytes, secret: str) -> str:
    return hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()


def verify(raw_body: bytes, headers: Mapping[str, str], secret: str) -> bool:
    """True when the signature matches the raw body (constant time; check before parsing)."""
    given = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER.lower()), "")
    return bool(given) and hmac.compare_digest(given.strip().lower(), sign(raw_body, secret))


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    object_type: str
    object_id: str | None
    timestamp: int | None


def parse(raw_body: bytes) -> Event:
    """A verified webhook body: ``{"id", "type", "timestamp", "data": {"object", ...}}``."""
    body = json.loads(raw_body)
    obj = (body.get("data") or {}).get("object") or {}
    kind = str(body.get("type", ""))
    return Event(
        id=str(body["id"]),
        type=kind,
        object_type=kind.split(".", 1)[0],
        object_id=str(obj["id"]) if obj.get("id") is not None else None,
        timestamp=int(body["timestamp"]) if body.get("timestamp") is not None else None,
    )
