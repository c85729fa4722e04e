"""Invoiced customer -> CustomerIn (``number`` is the customer number shared across systems).

``credit_hold`` and ``active`` are the customer's own flags; an inactive customer maps as
inactive, not active."""

from __future__ import annotations

from canonical.enums import CustomerStatus
from canonical.money import MoneyError, normalize_currency
from canonical.records import CustomerIn
from connectors.base import RawRecord
from mappings.base import F, MappingContext, MappingError, boolean, extract, optional_text, text
from mappings.invoiced.common import origin

FIELDS = {
    "name": F("name", text),
    "number": F("number", optional_text, required=False),
    "email": F("email", optional_text, required=False),
    "tax_id": F("tax_id", optional_text, required=False),
}
FLAGS = {
    "active": F("active", boolean, required=False, default=True),  # absent on older accounts
    "credit_hold": F("credit_hold", boolean, required=False),
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
    flags = extract(payload, FLAGS)
    if record.deleted:
        status = CustomerStatus.DELETED
    else:
        status = CustomerStatus.ACTIVE if flags["active"] else CustomerStatus.INACTIVE
    return CustomerIn(
        **origin(record),
        **values,
        currency=code,
        status=status,
        credit_hold=flags["credit_hold"],
    )
