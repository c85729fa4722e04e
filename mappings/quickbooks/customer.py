"""QuickBooks Online Customer -> CustomerIn.

QBO does not delete customers: "deleting" one makes it inactive and appends " (deleted)"
to its DisplayName, or " (deleted-1)", " (deleted-2)"... when a deleted customer of that name
already exists (names stay unique). Such a customer maps as deleted, under its original name.
"""

from __future__ import annotations

import re

from canonical.enums import CustomerStatus
from canonical.records import CustomerIn
from connectors.base import RawRecord
from mappings.base import F, MappingContext, boolean, extract, optional_text, text
from mappings.quickbooks.common import home_currency, is_deleted, origin

DELETED_SUFFIX = re.compile(r" \(deleted(?:-\d+)?\)$")

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
    suffix = DELETED_SUFFIX.search(name)
    if not values["active"] and suffix is not None:
        name = name[: suffix.start()].rstrip()
        status = CustomerStatus.DELETED
        deleted = True
    return CustomerIn(
        **{**origin(record), "deleted": deleted},
        name=name,
        email=values["email"],
        currency=values["currency"] or home_currency(ctx),
        status=status,
    )
