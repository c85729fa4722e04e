"""One processor payment -> one canonical remittance.

``source_key`` is the processor's payment id, so the same payment arriving twice, or through
two event types (Stripe ``payment_intent.succeeded`` and ``invoice_payment.paid``; Adyen
``AUTHORISATION`` and ``CAPTURE``), is one remittance. Invoice numbers and ids from metadata
become structured references, which the cascade trusts first.

A chargeback or a late failure takes back a payment already counted: it becomes a reversal,
a remittance of the negative amount that ``reverses`` the payment's remittance. When the
chargeback is reversed (the dispute won), the cash comes back: new cash carrying the
payment's references, decided like any other.

An event that names an invoice's references but not its payment (a Stripe invoice paid since
API 2025-03-31) brings no cash: its references are merged into the remittance of the payment
that paid the invoice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from canonical.models import DEFAULT_TENANT, Remittance
from canonical.money import Money
from connectors.processors.records import ProcessorRecord
from connectors.redact import redact
from mappings.base import MappingError

REF_FIELDS = ("amount", "invoice_amount", "discount", "adjustment", "reason", "date")


def remittance_from_record(record: ProcessorRecord, tenant: str = DEFAULT_TENANT) -> Remittance:
    """The remittance of an incoming payment; refunds and disputes are not remittances. Its
    free text is the invoice references, then the payment's narrative (a description, a
    statement descriptor), which the cascade searches like a bank narrative."""
    if record.kind != "payment":
        raise MappingError("kind", f"a {record.kind} is outgoing cash, not a remittance")
    if record.amount is None or record.amount.amount <= 0:
        raise MappingError("amount", f"an incoming payment must be positive, got {record.amount}")
    return Remittance(
        tenant=tenant,
        source=record.processor,
        source_key=f"{record.processor}:{record.payment_id}"[:128],
        currency=record.amount.currency,
        amount_minor=record.amount.minor,
        value_date=record.occurred_at.date(),
        payer_name=(record.payer_name or record.payer_email or None),
        payer_account=(record.payer_account or "")[:64] or None,
        bank_reference=record.payment_id[:128],
        end_to_end_id=(record.original_reference or "")[:128] or None,
        free_text=with_words(
            None, [*record.invoice_refs, *record.merchant_refs, *record.narrative]
        ),
        structured_refs=_invoice_refs(record),
        raw=json.dumps(redact(record.raw), sort_keys=True, default=str),
    )


def references_for(
    record: ProcessorRecord, paid: Remittance, tenant: str = DEFAULT_TENANT
) -> Remittance:
    """An invoice's references for ``paid``, the remittance of the payment that paid it: under
    ``paid``'s source key, so that storing it merges them into ``paid`` (no cash of its own)."""
    if record.kind != "references":
        raise MappingError("kind", f"a {record.kind} is not an invoice's references")
    return Remittance(
        tenant=tenant,
        source=record.processor,
        source_key=paid.source_key,
        currency=paid.currency,
        amount_minor=paid.amount_minor,
        free_text=with_words(None, [*record.invoice_refs, *record.narrative]),
        structured_refs=_invoice_refs(record),
    )


def _invoice_refs(record: ProcessorRecord) -> list[dict[str, Any]]:
    """The invoices the payment names, then the merchant's own references (kind ``other``: an
    invoice so numbered matches, and one naming none lowers no confidence)."""
    return [
        {"kind": kind, "ref": ref[:128], **dict.fromkeys(REF_FIELDS)}
        for kind, refs in (("invoice", record.invoice_refs), ("other", record.merchant_refs))
        for ref in refs
    ]


def with_words(text: str | None, words: Sequence[str]) -> str | None:
    """``text`` with each of ``words`` (a word or a phrase) it does not already hold appended."""
    for word in words:
        if word and f" {word} " not in f" {text or ''} ":
            text = f"{text} {word}" if text else word
    return text


def reversal_from_record(
    record: ProcessorRecord, original: Remittance, tenant: str = DEFAULT_TENANT
) -> Remittance:
    """The reversal of ``original`` (the payment's remittance) a chargeback or failure makes."""
    return _follow_up(
        record,
        original,
        tenant,
        -_amount_of(record, original).minor,
        free_text=f"{record.event_type} of {record.payment_id}",
        reverses=original.source_key,
    )


def reinstatement_from_record(
    record: ProcessorRecord, original: Remittance, tenant: str = DEFAULT_TENANT
) -> Remittance:
    """The cash a reversed chargeback gives back: new cash with the payment's references."""
    return _follow_up(
        record,
        original,
        tenant,
        _amount_of(record, original).minor,
        free_text=original.free_text,
        structured_refs=list(original.structured_refs),
    )


def _follow_up(
    record: ProcessorRecord,
    original: Remittance,
    tenant: str,
    amount_minor: int,
    **fields: Any,
) -> Remittance:
    """A later event's cash about a payment already counted, keyed by what the event is about
    (its subject) or else by the event: two events announcing one chargeback are one reversal."""
    subject = record.subject_id or record.event_id
    return Remittance(
        tenant=tenant,
        source=record.processor,
        source_key=f"{record.processor}:{record.kind}:{subject}"[:128],
        currency=original.currency,
        amount_minor=amount_minor,
        value_date=record.occurred_at.date(),
        payer_name=original.payer_name,
        payer_account=original.payer_account,
        bank_reference=record.payment_id[:128],
        raw=json.dumps(redact(record.raw), sort_keys=True, default=str),
        **fields,
    )


def _amount_of(record: ProcessorRecord, original: Remittance) -> Money:
    """The amount a chargeback or reinstatement moves: positive, in the payment's currency."""
    if record.amount is None or record.amount.amount <= 0:
        raise MappingError("amount", f"a {record.kind} must move a positive amount")
    if record.amount.currency != original.currency:
        raise MappingError(
            "currency",
            f"a {record.kind} in {record.amount.currency} of a {original.currency} payment",
        )
    return record.amount
