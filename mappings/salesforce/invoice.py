"""Salesforce invoice (``Invoice__c`` or Revenue Cloud ``Invoice``) -> InvoiceIn."""

from __future__ import annotations

from canonical.enums import DocumentStatus
from canonical.records import InvoiceIn
from canonical.terms import discount_fields
from connectors.base import RawRecord
from mappings.base import MappingContext, MappingError
from mappings.salesforce.common import (
    amount,
    currency,
    date_of,
    document_status,
    links,
    origin,
    schema_for,
    text_of,
    zero,
)


def to_canonical(record: RawRecord, ctx: MappingContext) -> InvoiceIn:
    if record.deleted:
        nothing = zero(ctx)
        return InvoiceIn(
            **origin(record),
            customer_remote_id=None,
            number="",
            total=nothing,
            balance=nothing,
            status=DocumentStatus.DELETED,
        )
    spec = schema_for(record, ctx).invoice
    payload = record.payload
    code = currency(payload, spec.currency, ctx)
    total = amount(payload, spec.total, code)
    balance = amount(payload, spec.balance, code)
    number = text_of(payload, spec.number)
    if not number:
        raise MappingError(spec.number, "is required but missing")
    issued = date_of(payload, spec.issue_date, ctx)
    return InvoiceIn(
        **origin(record),
        links=links(payload, spec.links),
        customer_remote_id=text_of(payload, spec.account),
        number=number,
        total=total,
        balance=balance,
        issue_date=issued,
        due_date=date_of(payload, spec.due_date, ctx),
        status=document_status(spec, payload, total, balance),
        po_number=text_of(payload, spec.reference),
        **discount_fields(text_of(payload, spec.terms) if spec.terms else None, issued),
    )
