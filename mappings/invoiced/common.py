"""What every Invoiced mapping shares: origin fields, currency, the QuickBooks link."""

from __future__ import annotations

from typing import Any

from canonical.money import MoneyError, normalize_currency
from connectors.base import RawRecord
from mappings.base import MappingContext, MappingError, unix_datetime


def origin(record: RawRecord) -> dict[str, Any]:
    payload = record.payload
    links = {}
    metadata = payload.get("metadata")
    if isinstance(metadata, dict) and metadata.get("quickbooks_id"):
        links["quickbooks"] = str(metadata["quickbooks_id"])
    return {
        "system": "invoiced",
        "object_type": record.object_type,
        "remote_id": record.remote_id,
        "modified_at": unix_datetime(payload.get("updated_at"))
        if payload.get("updated_at")
        else None,
        "deleted": record.deleted,
        "links": links,
    }


def currency(record: RawRecord, ctx: MappingContext) -> str:
    raw = record.payload.get("currency") or ctx.home_currency
    try:
        return normalize_currency(str(raw))
    except MoneyError as exc:
        raise MappingError("currency", str(exc)) from exc


def customer_ref(record: RawRecord) -> str | None:
    value = record.payload.get("customer")
    if isinstance(value, dict):
        value = value.get("id")
    return str(value) if value not in (None, "") else None
