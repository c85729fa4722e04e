"""Salesforce invoice (``Invoice__c`` or Revenue Cloud ``Invoice``) -> InvoiceIn."""

from __future__ import annotations

from canonical.records import InvoiceIn
from canonical.terms import discount_fields
from connectors.base import RawRecord
from mappings.base import MappingContext, deleted_document
from mappings.salesforce.common import (
    date_of,
    document_status,
    figures,
    links,
    origin,
    owed,
    schema_for,
    text_of,
    zero,
)


def to_canonical(record: RawRecord, ctx: MappingContext) -> InvoiceIn:
    if record.deleted:
        return deleted_document(InvoiceIn, origin(record), zero(ctx))
    spec = schema_for(record, ctx).invoice
    payload = record.payload
    number, total, balance = figures(payload, spec, ctx)
    status = document_status(spec, payload, total, balance)
    issued = date_of(payload, spec.issue_date, ctx)
    return InvoiceIn(
        **origin(record),
        links=links(payload, spec.links),
        customer_remote_id=text_of(payload, spec.account),
        number=number,
        total=total,
        balance=owed(status, balance),
        issue_date=issued,
        due_date=date_of(payload, spec.due_date, ctx),
        status=status,
        po_number=text_of(payload, spec.reference),
        **discount_fields(text_of(payload, spec.terms) if spec.terms else None, issued),
    )
