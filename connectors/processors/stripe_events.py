"""Parse verified Stripe events into processor records (old and 2025-03-31 shapes)."""

from datetime import UTC, datetime
from typing import Any

from canonical.money import Money
from connectors.processors.records import ProcessorRecord, RecordKind

INVOICE_METADATA_KEYS = ("invoice_number", "invoice", "invoice_id", "invoice_no")
KINDS: dict[str, RecordKind] = {
    "payment_intent.succeeded": "payment",
    "charge.succeeded": "payment",
    "invoice.paid": "payment",
    "invoice_payment.paid": "payment",
    "charge.refunded": "refund",
    "charge.dispute.created": "dispute",
}


def _invoice_refs(obj: dict[str, Any]) -> tuple[str, ...]:
    refs: list[str] = []
    metadata = obj.get("metadata") or {}
    for key in INVOICE_METADATA_KEYS:
        value = metadata.get(key)
        if isinstance(value, str) and value and value not in refs:
            refs.append(value)
    invoice = obj.get("invoice")
    invoice_id = invoice.get("id") if isinstance(invoice, dict) else invoice
    if isinstance(invoice_id, str) and invoice_id and invoice_id not in refs:
        refs.append(invoice_id)
    return tuple(refs)


def parse_event(event: dict[str, Any]) -> ProcessorRecord | None:
    """One record for a cash event, None for event types arsync ignores."""
    event_type = str(event.get("type") or "")
    kind = KINDS.get(event_type)
    if kind is None:
        return None
    obj: dict[str, Any] = event["data"]["object"]
    currency = str(obj.get("currency") or "").upper()
    if event_type == "invoice_payment.paid":
        payment = obj.get("payment") or {}
        payment_id = str(payment.get("payment_intent") or payment.get("charge") or obj["id"])
        minor = obj.get("amount_paid")
    elif event_type == "invoice.paid":
        payment_id = str(obj.get("payment_intent") or obj.get("charge") or obj["id"])
        minor = obj.get("amount_paid")
    elif event_type == "charge.refunded":
        payment_id = str(obj.get("payment_intent") or obj["id"])
        minor = obj.get("amount_refunded")
    elif event_type == "charge.dispute.created":
        payment_id = str(obj.get("payment_intent") or obj.get("charge") or obj["id"])
        minor = obj.get("amount")
    elif event_type == "charge.succeeded":
        payment_id = str(obj.get("payment_intent") or obj["id"])
        minor = obj.get("amount_captured", obj.get("amount"))
    else:
        payment_id = str(obj["id"])
        minor = obj.get("amount_received", obj.get("amount"))
    billing = obj.get("billing_details") or {}
    refs = _invoice_refs(obj)
    if event_type == "invoice.paid":
        refs = tuple(dict.fromkeys((*refs, str(obj["id"]))))
    return ProcessorRecord(
        processor="stripe",
        event_id=str(event["id"]),
        event_type=event_type,
        kind=kind,
        amount=Money.from_minor(int(minor), currency) if minor is not None and currency else None,
        occurred_at=datetime.fromtimestamp(int(event["created"]), tz=UTC),
        payment_id=payment_id,
        payer_name=billing.get("name") or obj.get("customer_name"),
        payer_email=billing.get("email") or obj.get("customer_email") or obj.get("receipt_email"),
        invoice_refs=refs,
        raw=event,
    )
