"""Parse verified Stripe events into processor records (old and 2025-03-31 shapes).

Amounts are integers in Stripe's minor unit of the (lower-case) currency, which is not always
ISO 4217's: see :mod:`connectors.processors.currencies`.

Only money that moved through Stripe is a payment: an uncaptured charge (``captured``
false, ``amount_captured`` 0) is not yet cash, and an invoice marked paid out of band
(``paid_out_of_band``) or paid without money (``amount_paid`` 0) is not Stripe cash at all.
Since API version 2025-03-31 an Invoice no longer names its PaymentIntent or Charge; an
``invoice.paid`` in that shape cannot name the payment its ``payment_intent.succeeded`` and
``invoice_payment.paid`` events name, so it is not made a payment of its own (that would
count the same cash twice): the ``invoice_payment.paid`` event carries the link (the invoice
and the payment). Such an invoice event is a "references" record instead: no cash, only the
invoice's references (its ``number``, metadata and id) for the remittance of the payment that
paid it, found by the invoice (``invoice_id``) that ``invoice_payment.paid`` names too.

A dispute takes cash back only when Stripe withdraws the funds. ``charge.dispute.created``
and ``charge.dispute.funds_withdrawn`` announce the same withdrawal (both are read, keyed by
the dispute, so either alone suffices and both together take the money once); an inquiry
(status ``warning_*``) or a dispute whose ``balance_transactions`` is still empty has withdrawn
nothing. ``charge.dispute.funds_reinstated`` gives the money back, once per dispute.

``invoice.payment_succeeded`` is read like ``invoice.paid`` and a paid Checkout Session
(``checkout.session.completed`` or ``.async_payment_succeeded``) like its PaymentIntent: they
name the same payment, so they add their references (the invoice ``number``, the session's
metadata, and its ``client_reference_id`` as the merchant's own reference) to one remittance,
never a second one. Descriptions and statement descriptors are kept as free text (a
narrative), not as references. An event that cannot be read raises :class:`StripeEventError`
naming the field.

Who paid: a charge's billing details, a Checkout Session's customer details or an invoice's
customer name and email, and the Stripe Customer (``customer``) every one of these and a
PaymentIntent name. Since API 2022-11-15 a PaymentIntent lists no charge, so its Customer id is
often all it says of the payer: it is the payer's account, which the reconciler learns like a
bank account.

A live Connect endpoint is sent its connected accounts' test-mode events too, signed with the
same secret (Stripe's Connect webhooks guide): an event naming an ``account`` with ``livemode``
false is test money and is not read, nor, at a test-mode (staging) endpoint, a connected
account's live one (:func:`other_mode_connected_event`). An account's own endpoint is sent the
events of its own mode only, so ``livemode`` alone decides nothing there.
"""

from datetime import UTC, datetime
from typing import Any

from canonical.money import MoneyError
from connectors.processors.currencies import from_processor_minor, stripe_exponent
from connectors.processors.records import ProcessorRecord, RecordKind

INVOICE_METADATA_KEYS = ("invoice_number", "invoice", "invoice_id", "invoice_no")
KINDS: dict[str, RecordKind] = {
    "payment_intent.succeeded": "payment",
    "charge.succeeded": "payment",
    "charge.captured": "payment",
    "invoice.paid": "payment",
    "invoice.payment_succeeded": "payment",
    "checkout.session.completed": "payment",
    "checkout.session.async_payment_succeeded": "payment",
    "invoice_payment.paid": "payment",
    "charge.refunded": "refund",
    "charge.dispute.created": "dispute",
    "charge.dispute.funds_withdrawn": "dispute",
    "charge.dispute.funds_reinstated": "reinstatement",
}
DISPUTE_EVENTS = frozenset(
    {"charge.dispute.created", "charge.dispute.funds_withdrawn", "charge.dispute.funds_reinstated"}
)
INVOICE_EVENTS = frozenset({"invoice.paid", "invoice.payment_succeeded"})
# the events that take a payment's cash back and those that give it back (the dispute names
# its payment intent or charge); Stripe does not deliver in order, so either may come first
TAKING_BACK = frozenset(kind for kind, what in KINDS.items() if what == "dispute")
GIVING_BACK = frozenset(kind for kind, what in KINDS.items() if what == "reinstatement")
CHECKOUT_EVENTS = frozenset(
    {"checkout.session.completed", "checkout.session.async_payment_succeeded"}
)
NARRATIVE_KEYS = ("description", "statement_descriptor", "statement_descriptor_suffix")


class StripeEventError(ValueError):
    """An event that cannot be read; the message names the field."""


def _id(value: Any) -> str:
    """The id of a reference that may arrive expanded (an object) or not (its id)."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else ""


def _invoice_refs(obj: dict[str, Any]) -> tuple[str, ...]:
    refs: list[str] = []
    metadata = obj.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    for key in INVOICE_METADATA_KEYS:
        value = metadata.get(key)
        if isinstance(value, str) and value and value not in refs:
            refs.append(value)
    invoice_id = _id(obj.get("invoice"))
    if invoice_id and invoice_id not in refs:
        refs.append(invoice_id)
    return tuple(refs)


def _payer(obj: dict[str, Any]) -> tuple[str | None, str | None]:
    """(name, email) of the payer: a charge's billing details, those of a PaymentIntent's
    first charge (API versions before 2022-11-15 list them), a Checkout Session's customer
    details, or an invoice's customer."""
    details = obj.get("billing_details") or obj.get("customer_details")
    charges = obj.get("charges")
    listed = charges.get("data") if isinstance(charges, dict) else None
    if not details and isinstance(listed, list) and listed and isinstance(listed[0], dict):
        details = listed[0].get("billing_details")
    details = details if isinstance(details, dict) else {}
    name = details.get("name") or obj.get("customer_name")
    email = details.get("email") or obj.get("customer_email") or obj.get("receipt_email")
    return (name if isinstance(name, str) else None, email if isinstance(email, str) else None)


def _text_values(obj: dict[str, Any], key: str) -> tuple[str, ...]:
    value = obj.get(key)
    return (value,) if isinstance(value, str) and value else ()


def _narrative(obj: dict[str, Any]) -> tuple[str, ...]:
    texts = (obj.get(key) for key in NARRATIVE_KEYS)
    return tuple(dict.fromkeys(t.strip() for t in texts if isinstance(t, str) and t.strip()))


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


def _invoice_payment_link(obj: dict[str, Any]) -> str:
    """The PaymentIntent (else the Charge) an InvoicePayment was paid with: under ``payment``
    (``{"type": "payment_intent", "payment_intent": ...}``, API 2025-03-31.basil and later), or
    at the top level (``"payment_intent"``, ``"charge"``), as the API reference shows the object
    for preview versions (2025-11-17.preview). "" for money recorded from outside Stripe (a
    ``payment_record`` or an out-of-band payment)."""
    payment = obj.get("payment")
    payment = payment if isinstance(payment, dict) else {}
    for where in (payment, obj):
        linked = _id(where.get("payment_intent")) or _id(where.get("charge"))
        if linked:
            return linked
    return ""


def other_mode_connected_event(event: dict[str, Any], test_mode: bool = False) -> bool:
    """Whether the event is a connected account's of the other mode than the endpoint's: a
    Connect endpoint is sent its connected accounts' events of both modes, so a live one gets
    test-mode money (``livemode`` false) and a test-mode (staging) one live money."""
    return bool(event.get("account")) and event.get("livemode") is test_mode


def parse_event(event: dict[str, Any]) -> ProcessorRecord | None:
    """One record for a cash event or for the references of an invoice paid without naming its
    payment (no payment id then), None for event types arsync ignores."""
    event_type = str(event.get("type") or "")
    kind = KINDS.get(event_type)
    if kind is None:
        return None
    event_id = event.get("id")
    if not isinstance(event_id, str) or not event_id:
        raise StripeEventError("id is missing")
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        raise StripeEventError("data.object is missing or not an object")
    obj_id = _id(obj.get("id"))
    if not obj_id:
        raise StripeEventError("data.object.id is missing")
    created = event.get("created")
    if isinstance(created, bool) or not isinstance(created, int):
        raise StripeEventError(f"created is not a unix timestamp: {created!r}")
    amount_field = "amount"
    invoice_id: str | None = None
    if event_type == "invoice_payment.paid":
        linked = _invoice_payment_link(obj)
        if not linked:
            return None  # a payment_record: money recorded from outside Stripe
        payment_id = linked
        amount_field = "amount_paid"
        invoice_id = _id(obj.get("invoice")) or None
    elif event_type in INVOICE_EVENTS:
        if obj.get("paid_out_of_band") or not obj.get("amount_paid"):
            return None  # no money moved through Stripe
        linked = _id(obj.get("payment_intent")) or _id(obj.get("charge"))
        if not linked:  # 2025-03-31 shape: invoice_payment.paid names the payment
            kind, invoice_id = "references", obj_id
        payment_id = linked
        amount_field = "amount_paid"
    elif event_type in CHECKOUT_EVENTS:
        linked = _id(obj.get("payment_intent"))
        if obj.get("payment_status") != "paid" or not linked:
            return None  # not paid yet (async_payment_succeeded will say), or no intent
        payment_id = linked
        amount_field = "amount_total"
    elif event_type == "charge.refunded":
        payment_id = _id(obj.get("payment_intent")) or obj_id
        amount_field = "amount_refunded"  # all refunded so far, not this refund alone
    elif event_type in DISPUTE_EVENTS:
        if event_type == "charge.dispute.created" and not _funds_withdrawn(obj):
            return None  # an inquiry, or funds not yet taken: funds_withdrawn will say
        payment_id = _id(obj.get("payment_intent")) or _id(obj.get("charge")) or obj_id
    elif event_type in ("charge.succeeded", "charge.captured"):
        if obj.get("captured") is False or obj.get("amount_captured") == 0:
            return None  # authorised only: the capture (or payment_intent.succeeded) is cash
        payment_id = _id(obj.get("payment_intent")) or obj_id
        amount_field = "amount_captured" if "amount_captured" in obj else "amount"
    else:
        payment_id = obj_id
        amount_field = "amount_received" if "amount_received" in obj else "amount"
    minor = obj.get(amount_field)
    if minor is None:
        raise StripeEventError(f"data.object.{amount_field} is missing")
    currency = obj.get("currency")
    if not isinstance(currency, str) or not currency:
        raise StripeEventError("data.object.currency is missing")
    try:
        exponent = stripe_exponent(currency)
    except MoneyError as exc:
        raise MoneyError(f"data.object.currency: {exc}") from None
    try:
        amount = from_processor_minor(minor, currency, exponent)
    except MoneyError as exc:
        raise MoneyError(f"data.object.{amount_field}: {exc}") from None
    refs = _invoice_refs(obj)
    merchant: tuple[str, ...] = ()
    if event_type in INVOICE_EVENTS:
        refs = tuple(dict.fromkeys((*refs, obj_id, *_text_values(obj, "number"))))
    elif event_type in CHECKOUT_EVENTS:
        # the merchant's own reference (Stripe: a customer or cart id, or similar): an invoice
        # so numbered matches, one naming none of ours is no sign of a wrong match
        merchant = tuple(r for r in _text_values(obj, "client_reference_id") if r not in refs)
    payer_name, payer_email = _payer(obj)
    return ProcessorRecord(
        processor="stripe",
        event_id=event_id,
        event_type=event_type,
        kind=kind,
        amount=amount,
        occurred_at=datetime.fromtimestamp(created, tz=UTC),
        payment_id=payment_id,
        payer_name=payer_name,
        payer_email=payer_email,
        payer_account=_id(obj.get("customer")) or None,
        invoice_refs=refs,
        merchant_refs=merchant,
        subject_id=obj_id if event_type in DISPUTE_EVENTS else None,
        invoice_id=invoice_id,
        narrative=_narrative(obj) if kind in ("payment", "references") else (),
        raw=event,
    )
