"""Invoiced customer -> CustomerIn (``number`` is the customer number shared across systems)."""

from __future__ import annotations

from canonical.enums import CustomerStatus
from canonical.money import MoneyError, normalize_currency
from canonical.records import CustomerIn
from connectors.base import RawRecord
from mappings.base import F, MappingContext, MappingError, extract, optional_text, text
from mappings.invoiced.common import origin

FIELDS = {
    "name": F("name", text),
    "number": F("number", optional_text, required=False),
    "email": F("email", optional_text, required=False),
    "tax_id": F("tax_id", optional_text, required=False),
}
DELETED_FIELDS = {**FIELDS, "name": F("name", text, required=False, default="(deleted customer)")}


def to_canonical(record: RawRecord, ctx: MappingContext) -> CustomerIn:
    payload = record.payload
    values = extract(payload, DELETED_FIELDS if record.deleted else FIELDS)
    raw_currency = payload.get("currency")
    try:
        code = normalize_currency(str(raw_currency)) if raw_currency else None
    except MoneyError as exc:
        raise MappingError("currency", str(exc)) from exc
    return CustomerIn(
        **origin(record),
        **values,
        currency=code,
        status=CustomerStatus.DELETED if record.deleted else CustomerStatus.ACTIVE,
    )
