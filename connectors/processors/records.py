"""The raw record every processor parser yields."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from canonical.money import Money

# "references": an event that moves no cash but names what a payment paid (a Stripe invoice
# paid since API 2025-03-31, which does not name its payment); it only adds references
RecordKind = Literal["payment", "refund", "dispute", "failure", "reinstatement", "references"]
# cash taken back from a payment already counted: a chargeback, a direct debit failing late
REVERSING: frozenset[str] = frozenset({"dispute", "failure"})
# cash a chargeback took, given back (the dispute won, the chargeback cancelled)
REINSTATING: frozenset[str] = frozenset({"reinstatement"})


@dataclass(frozen=True)
class ProcessorRecord:
    """One cash event from a processor; refunds, disputes and failures are outgoing cash."""

    processor: str
    event_id: str
    event_type: str
    kind: RecordKind
    amount: Money | None
    occurred_at: datetime
    payment_id: str
    payer_name: str | None = None
    payer_email: str | None = None
    # the payer's own id at the processor (a GoCardless customer), which the reconciler learns
    # like a bank account once a payment of it is placed with a customer
    payer_account: str | None = None
    invoice_refs: tuple[str, ...] = ()
    # the merchant's own reference for the payment (Adyen's merchantReference, GoCardless's
    # reference): often an order number, sometimes the invoice's; it matches an invoice so
    # numbered, and naming none of ours is no sign of a wrong match
    merchant_refs: tuple[str, ...] = ()
    # the payment's other id at the processor (Adyen: a manual capture's authorisation), by
    # which a later chargeback may name it
    original_reference: str | None = None
    # what the event is about when several events announce the same movement of cash (a
    # Stripe dispute's id: ``created`` and ``funds_withdrawn`` both take the money back once)
    subject_id: str | None = None
    # a payment event that, arriving for a payment whose cash was all taken back, is a new
    # collection of it (GoCardless ``confirmed`` after a failed payment was resubmitted)
    collected_again_when_taken_back: bool = False
    # the processor's invoice that links a payment to the invoice's references when the
    # payment's own events do not name it (Stripe since 2025-03-31: the invoice an
    # ``invoice_payment.paid`` paid, or the invoice of a "references" record)
    invoice_id: str | None = None
    # free text the payment carries (a description, a statement descriptor): searched for
    # invoice numbers like a bank narrative, never trusted as a structured reference
    narrative: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict)
