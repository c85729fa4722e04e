"""QuickBooks Online Customer -> CustomerIn.

QBO does not delete customers: "deleting" one makes it inactive and appends " (deleted)"
to its DisplayName. Such a customer maps as deleted, under its original name.
"""

from __future__ import annotations

from canonical.enums import CustomerStatus
from canonical.records import CustomerIn
from connectors.base import RawRecord
from mappings.base import F, MappingContext, boolean, extract, optional_text, text
from mappings.quickbooks.common import home_currency, is_deleted, origin

DELETED_SUFFIX = " (deleted)"

FIELDS = {
    "name": F("DisplayName", text),
    "email": F("PrimaryEmailAddr.Address", optional_text, required=False),
    "currency": F("CurrencyRef.value", optional_text, required=False),
    "active": F("Active", boolean, required=False, default=True),
}


def to_canonical(record: RawRecord, ctx: MappingContext) -> CustomerIn:
    if is_deleted(record):
        return CustomerIn(
            **{**origin(record), "deleted": True}, name="", status=CustomerStatus.DELETED
        )
    values = extract(record.payload, FIELDS)
    name: str = values["name"]
    status = CustomerStatus.ACTIVE if values["active"] else CustomerStatus.INACTIVE
    deleted = record.deleted
    if not values["active"] and name.endswith(DELETED_SUFFIX):
        name = name.removesuffix(DELETED_SUFFIX).rstrip()
        status = CustomerStatus.DELETED
        deleted = True
    return CustomerIn(
        **{**origin(record), "deleted": deleted},
        name=name,
        email=values["email"],
        currency=values["currency"] or home_currency(ctx),
        status=status,
    )
