"""Invoiced customer -> CustomerIn."""

from __future__ import annotations

from canonical.enums import CustomerStatus
from canonical.records import CustomerIn
from connectors.base import RawRecord
from mappings.base import F, MappingContext, extract, optional_text, text
from mappings.invoiced.common import origin

FIELDS = {
    "name": F("name", text),
    "number": F("number", optional_text, required=False),
    "email": F("email", optional_text, required=False),
    "tax_id": F("tax_id", optional_text, required=False),
}


def to_canonical(record: RawRecord, ctx: MappingContext) -> CustomerIn:
    values = extract(record.payload, FIELDS)
    raw_currency = record.payload.get("currency")
    return CustomerIn(
        **origin(record),
        **values,
        currency=str(raw_currency).upper() if raw_currency else None,
        status=CustomerStatus.DELETED if record.deleted else CustomerStatus.ACTIVE,
    )
