"""Salesforce Account -> CustomerIn (fields per the configured schema)."""

from __future__ import annotations

from canonical.enums import CustomerStatus
from canonical.records import CustomerIn
from connectors.base import RawRecord
from mappings.base import MappingContext, MappingError, boolean
from mappings.salesforce.common import links, origin, required, schema_for, text_of, value


def to_canonical(record: RawRecord, ctx: MappingContext) -> CustomerIn:
    if record.deleted:
        return CustomerIn(**origin(record), name="", status=CustomerStatus.DELETED)
    spec = schema_for(record, ctx).account
    payload = record.payload
    name = text_of(payload, spec.name) or required(payload, spec.name)
    hold = value(payload, spec.credit_hold)
    try:
        credit_hold = boolean(hold) if hold is not None else None
    except ValueError as exc:
        raise MappingError(str(spec.credit_hold), str(exc)) from exc
    return CustomerIn(
        **origin(record),
        links=links(payload, spec.links),
        name=name,
        number=text_of(payload, spec.number),
        email=text_of(payload, spec.email),
        currency=text_of(payload, spec.currency),
        credit_hold=credit_hold,
    )
