"""Salesforce credit memo (``Credit_Memo__c`` or Revenue Cloud ``CreditMemo``) -> CreditMemoIn."""

from __future__ import annotations

from canonical.records import CreditMemoIn
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


def to_canonical(record: RawRecord, ctx: MappingContext) -> CreditMemoIn:
    if record.deleted:
        return deleted_document(CreditMemoIn, origin(record), zero(ctx))
    spec = schema_for(record, ctx).credit_memo
    payload = record.payload
    number, total, balance = figures(payload, spec, ctx)
    status = document_status(spec, payload, total, balance)
    return CreditMemoIn(
        **origin(record),
        links=links(payload, spec.links),
        customer_remote_id=text_of(payload, spec.account),
        number=number,
        total=total,
        balance=owed(status, balance),
        issue_date=date_of(payload, spec.issue_date, ctx),
        status=status,
        reference=text_of(payload, spec.reference),
    )
