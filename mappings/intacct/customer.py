"""Intacct CUSTOMER -> CustomerIn (remote id and number are CUSTOMERID)."""

from __future__ import annotations

from canonical.enums import CustomerStatus
from canonical.records import CustomerIn
from connectors.base import RawRecord
from mappings.base import F, MappingContext, boolean, extract, optional_text, text
from mappings.intacct.common import origin

FIELDS = {
    "name": F("NAME", text),
    "email": F("DISPLAYCONTACT.EMAIL1", optional_text, required=False),
    "currency": F("CURRENCY", optional_text, required=False),
    "tax_id": F("TAXID", optional_text, required=False),
    "status": F("STATUS", optional_text, required=False, default="active"),
    "on_hold": F("ONHOLD", boolean, required=False),
}


def to_canonical(record: RawRecord, ctx: MappingContext) -> CustomerIn:
    if record.deleted:
        return CustomerIn(**origin(record), name="", status=CustomerStatus.DELETED)
    values = extract(record.payload, FIELDS)
    active = (values["status"] or "active").lower() == "active"
    return CustomerIn(
        **origin(record),
        name=values["name"],
        number=record.remote_id,
        email=values["email"],
        currency=values["currency"] or ctx.home_currency,
        tax_id=values["tax_id"],
        status=CustomerStatus.ACTIVE if active else CustomerStatus.INACTIVE,
        credit_hold=values["on_hold"],
    )
