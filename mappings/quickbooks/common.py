"""What every QuickBooks Online object shares: Id/SyncToken/MetaData, CurrencyRef, voids."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from canonical.enums import DocumentStatus
from canonical.money import Money
from connectors.base import RawRecord
from mappings.base import MappingContext, MappingError, get_path, money, optional_text

SYSTEM = "quickbooks"
DEFAULT_PO_FIELD = "P.O. Number"
VOID_NOTE = "Voided"


def origin(record: RawRecord) -> dict[str, Any]:
    """The RecordIn fields saying where a record came from."""
    return {
        "system": SYSTEM,
        "object_type": record.object_type,
        "remote_id": record.remote_id,
        "remote_version": record.remote_version,
        "modified_at": record.modified_at,
        "deleted": record.deleted,
    }


def is_deleted(record: RawRecord) -> bool:
    """A CDC delete: ``{"Id", "status": "Deleted", "MetaData"}`` and nothing else to map."""
    return record.payload.get("status") == "Deleted"


def home_currency(ctx: MappingContext) -> str:
    """The company's home currency, as its Preferences say (the ``home_currency`` the
    connector learned at check); arsync's configured home currency when not known."""
    return str(ctx.option("home_currency") or ctx.home_currency)


def currency(payload: Mapping[str, Any], ctx: MappingContext) -> str:
    """``CurrencyRef.value``; without multicurrency QBO omits it: the home currency."""
    code = get_path(payload, "CurrencyRef.value", None)
    if code in (None, ""):
        return home_currency(ctx)
    if not isinstance(code, str):
        raise MappingError("CurrencyRef.value", f"not a currency code: {code!r}")
    return code


def amount(payload: Mapping[str, Any], path: str, code: str) -> Money:
    """A required amount at ``path``; a missing or non-numeric one names the field."""
    raw = get_path(payload, path, None)
    if raw is None or raw == "":
        raise MappingError(path, "is required but missing")
    return money(raw, code, path)


def ref_value(payload: Mapping[str, Any], path: str, *, required: bool) -> str | None:
    value = optional_text_at(payload, f"{path}.value")
    if value is None and required:
        raise MappingError(f"{path}.value", "is required but missing")
    return value


def optional_text_at(payload: Mapping[str, Any], path: str) -> str | None:
    raw = get_path(payload, path, None)
    if type(raw) is str:  # nearly always: optional_text's result, without its checks
        return raw.strip() or None
    try:
        return optional_text(raw)
    except ValueError as exc:
        raise MappingError(path, str(exc)) from exc


def custom_field(payload: Mapping[str, Any], name: str) -> str | None:
    """The ``StringValue`` of the sales-form custom field called ``name``."""
    fields = payload.get("CustomField") or []
    if not isinstance(fields, list):
        raise MappingError("CustomField", "is not a list")
    for index, field in enumerate(fields):
        if isinstance(field, (dict, Mapping)) and field.get("Name") == name:
            return optional_text_at(payload, f"CustomField.{index}.StringValue")
    return None


def po_field(ctx: MappingContext) -> str:
    return str(ctx.option("po_number_field", DEFAULT_PO_FIELD))


def voided(payload: Mapping[str, Any], total: Money) -> bool:
    """QBO's void keeps the record with zero amounts and "Voided" put before PrivateNote."""
    note = payload.get("PrivateNote")
    return total.is_zero() and isinstance(note, str) and note.startswith(VOID_NOTE)


def document_status(payload: Mapping[str, Any], total: Money, balance: Money) -> DocumentStatus:
    """An invoice's or credit memo's status: voided (see :func:`voided`), paid when nothing is
    left open, else open."""
    if voided(payload, total):
        return DocumentStatus.VOID
    if balance.is_zero():
        return DocumentStatus.PAID
    return DocumentStatus.OPEN


def zero(ctx: MappingContext) -> Money:
    return Money(Decimal(0), home_currency(ctx))
