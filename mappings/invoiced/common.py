"""What every Invoiced mapping shares: origin fields, currency, customer reference, links,
and money.

Invoiced amounts are currency amounts at the currency's precision (``51.15`` USD, ``1000``
JPY). An amount with more decimals than the currency allows (``12.345`` USD) is not a value
Invoiced keeps for a document or payment, so :func:`mappings.base.money` refuses it with a
:class:`MappingError` naming the field and the record is quarantined — it is never rounded
silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from canonical.money import MoneyError, normalize_currency
from canonical.types import zone
from connectors.base import RawRecord
from mappings.base import MappingContext, MappingError, unix_datetime

SYSTEM = "invoiced"
LINKED_SYSTEMS = {"quickbooks_id": "quickbooks"}  # metadata key -> system whose id it holds


def links(payload: Any) -> dict[str, str]:
    """Other systems' ids the record carries in its metadata (an ERP link)."""
    metadata = payload.get("metadata")
    if not isinstance(metadata, dict):  # Invoiced sends [] for an empty metadata on old objects
        return {}
    return {
        system: str(metadata[key]).strip()
        for key, system in LINKED_SYSTEMS.items()
        if metadata.get(key) not in (None, "")
    }


def modified(record: RawRecord) -> datetime | None:
    if record.modified_at is not None:
        return record.modified_at
    try:
        return unix_datetime(record.payload.get("updated_at"))
    except (TypeError, ValueError, OverflowError) as exc:
        raise MappingError("updated_at", f"not a unix timestamp: {exc}") from exc


def company_days(values: dict[str, Any], ctx: MappingContext, *names: str) -> dict[str, Any]:
    """``values`` with the timestamps under ``names`` as the calendar days they fall on in the
    company's time zone (the ``company_timezone`` option, UTC by default): Invoiced keeps a
    date as a moment of that day there."""
    where = zone(str(ctx.option("company_timezone") or "UTC"))
    days: dict[str, date | None] = {
        name: values[name].astimezone(where).date() if values[name] is not None else None
        for name in names
    }
    return values | days


def origin(record: RawRecord) -> dict[str, Any]:
    """The fields every canonical record takes from where it came from."""
    return {
        "system": SYSTEM,
        "object_type": record.object_type,
        "remote_id": record.remote_id,
        "modified_at": modified(record),
        "deleted": record.deleted,
        "links": links(record.payload),
    }


def currency(record: RawRecord, ctx: MappingContext) -> str:
    """ISO code from the record (``usd`` -> ``USD``), else its expanded customer's, else home."""
    payload = record.payload
    raw = payload.get("currency")
    field = "currency"
    customer = payload.get("customer")
    if not raw and isinstance(customer, dict) and customer.get("currency"):
        raw, field = customer["currency"], "customer.currency"
    if not raw:
        return ctx.home_currency
    try:
        return normalize_currency(str(raw))
    except MoneyError as exc:
        raise MappingError(field, str(exc)) from exc


def customer_ref(record: RawRecord) -> str | None:
    """The customer id, whether plain or expanded (``expand=customer``)."""
    return customer_id(record.payload)


def customer_id(payload: Mapping[str, Any]) -> str | None:
    """The ``customer`` of a payload, whether plain or expanded."""
    value = payload.get("customer")
    if isinstance(value, (dict, Mapping)):
        value = value.get("id")
    return str(value) if value not in (None, "") else None
