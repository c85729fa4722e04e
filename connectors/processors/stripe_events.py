"""Parse verified Stripe events into processor records (old and 2025-03-31 shapes).

Amounts are integers in Stripe's minor unit of the (lower-case) currency, which is not always
ISO 4217's: see :mod:`connectors.processors.currencies`.

Only money that moved through Stripe is a payment: an uncaptured charge (``captured``
false, ``amount_captured`` 0) is not yet cash, and an invoice marked paid out of band
(``paid_out_of_band``) or paid without money (``amount_paid`` 0) is not Stripe cash at all.
Since API version 2025-03-31 an Invoice no longer names its PaymentIntent or Charge; an
``invoice.paid`` in that shape cannot name the payment its ``payment_intent.succeeded`` and
``invoice_payment.paid`` events name, so it is not made a payment of its own (that would
count the same cash twice): the ``invoice_payment.paid`` event carries the link.

A dispute takes cash back only when Stripe withdraws the funds. ``charge.dispute.created``
and ``charge.dispute.funds_withdrawn`` announce the same withdrawal (both are read, keyed by
the dispute, so either alone suffices and both together take the money once); an inquiry
(status ``warning_*``) or a dispute whose ``balance_transactions`` is still empty has withdrawn
nothing. ``charge.dispute.funds_reinstated`` gives the money back, once per dispute.
"""

from datetime import UTC, datetime
from typing import Any

from connectors.processors.currencies import from_processor_minor, stripe_exponent
from connectors.processors.records import ProcessorRecord, RecordKind

INVOICE_METADATA_KEYS = ("invoice_number", "invoice", "invoice_id", "invoice_no")
KINDS: dict[str, RecordKind] = {
    "payment_intent.succeeded": "payment",
    "charge.succeeded": "payment",
    "charge.captured": "payment",
    "invoice.paid": "payment",
    "invoice_payment.paid": "payment",
    "charge.refunded": "refund",
    "charge.dispute.created": "dispute",
    "charge.dispute.funds_withdrawn": "dispute",
    "charge.dispute.funds_reinstated": "reinstatement",
}
DISPUTE_EVENTS = frozenset(
    {"charge.dispute.created", "charge.dispute.funds_withdrawn", "charge.dispute.funds_reinstated"}
)


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


def _funds_withdrawn(dispute: dict[str, Any]) -> bool:
    """Whether a dispute has taken the money: not an inquiry, and (when the dispute lists its
    balance transactions) one of them withdraws funds."""
    if str(dispute.get("status") or "").startswith("warning_"):
        return False
    moves = dispute.get("balance_transactions")
    if not isinstance(moves, list):
        return True  # not listed: a card dispute withdraws the funds when it is opened
    for move in moves:
        amount = move.get("amount") if isinstance(move, dict) else None
        if amount is None or int(amount) < 0:  # an id only, or money out
            return True
    return False


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
        linked = payment.get("payment_intent") or payment.get("charge")
        if isinstance(linked, dict):
            linked = linked.get("id")
        if not linked:
            return None  # a payment_record: money recorded from outside Stripe
        payment_id = str(linked)
        minor = obj.get("amount_paid")
    elif event_type == "invoice.paid":
        if obj.get("paid_out_of_band") or not obj.get("amount_paid"):
            return None  # no money moved through Stripe
        linked = obj.get("payment_intent") or obj.get("charge")
        if isinstance(linked, dict):
            linked = linked.get("id")
        if not linked:
            return None  # 2025-03-31 shape: invoice_payment.paid names the payment
        payment_id = str(linked)
        minor = obj.get("amount_paid")
    elif event_type == "charge.refunded":
        payment_id = str(obj.get("payment_intent") or obj["id"])
        minor = obj.get("amount_refunded")
    elif event_type in DISPUTE_EVENTS:
        if event_type == "charge.dispute.created" and not _funds_withdrawn(obj):
            return None  # an inquiry, or funds not yet taken: funds_withdrawn will say
        payment_id = str(obj.get("payment_intent") or obj.get("charge") or obj["id"])
        minor = obj.get("amount")
    elif event_type in ("charge.succeeded", "charge.captured"):
        if obj.get("captured") is False or obj.get("amount_captured") == 0:
            return None  # authorised only: the capture (or payment_intent.succeeded) is cash
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
        amount=(
            from_processor_minor(minor, currency, stripe_exponent(currency))
            if minor is not None and currency
            else None
        ),
        occurred_at=datetime.fromtimestamp(int(event["created"]), tz=UTC),
        payment_id=payment_id,
        payer_name=billing.get("name") or obj.get("customer_name"),
        payer_email=billing.get("email") or obj.get("customer_email") or obj.get("receipt_email"),
        invoice_refs=refs,
        subject_id=str(obj["id"]) if event_type in DISPUTE_EVENTS else None,
        raw=event,
    )
