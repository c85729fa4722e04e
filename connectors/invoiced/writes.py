"""Writes to Invoiced: payments applied to invoices, credit notes, and credit notes applied
to invoices (a zero-amount payment with a ``credit_note`` entry).

Invoiced has no batch endpoint: each write is one ``POST /payments`` or ``POST /credit_notes``
carrying the outbox's idempotency key twice — as the ``Idempotency-Key`` header, so a resend
after a lost reply gets the first reply instead of a second record, and in the record's
``metadata`` so :meth:`InvoicedWriter.landed` can find a record whose reply was lost even when
the server no longer remembers the key. The header carries the write's ``wire_key`` once
Invoiced refused an attempt of it: the refused key would only be answered with the refusal.

A payment is voided with ``DELETE /payments/:id`` (Invoiced's "Void a payment"): the payment
stays, with ``voided: true``, and what it applied is owed on the documents again. A void is
not repeated: :meth:`InvoicedWriter.is_voided` reads the payment first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import Literal

from canonical.money import exact_amount
from canonical.types import zone
from connectors.errors import ApiError, AuthError, PartialAuthError
from connectors.invoiced.client import InvoicedClient, Payload


@dataclass(frozen=True)
class Application:
    """Part of a payment: cash applied to an invoice, or a credit note applied to an invoice."""

    kind: Literal["invoice", "credit_note"]
    invoice_id: str
    amount: Decimal
    credit_note_id: str | None = None

    def entry(self, currency: str | None = None) -> Payload:
        """The ``applied_to`` entry, its amount at ``currency``'s decimals."""
        if self.amount <= 0:
            raise ValueError(f"invoiced: application to invoice {self.invoice_id} must be > 0")
        amount = exact_amount(self.amount, currency)
        if self.kind == "invoice":
            return {"type": "invoice", "invoice": _wire_id(self.invoice_id), "amount": amount}
        if not self.credit_note_id:
            raise ValueError(f"invoiced: credit note application to {self.invoice_id} needs its id")
        return {
            "type": "credit_note",
            "credit_note": _wire_id(self.credit_note_id),
            "document_type": "invoice",
            "invoice": _wire_id(self.invoice_id),
            "amount": amount,
        }


@dataclass(frozen=True)
class PaymentCreate:
    """A new payment. ``amount`` is the cash received (zero when only a credit note is applied);
    cash not applied stays on the payment as its balance."""

    key: str  # the outbox idempotency key, fixed before the first attempt
    customer_id: str
    amount: Decimal
    applications: tuple[Application, ...]
    currency: str | None = None
    received_on: date | None = None
    method: str | None = None  # Invoiced method id: check, ach, wire_transfer, credit_card, ...
    reference: str | None = None
    notes: str | None = None
    wire_key: str | None = None  # the Idempotency-Key, when not ``key``

    def body(self, key_metadata: str, where: tzinfo = UTC) -> Payload:
        """The request body; ``where`` is the company's time zone, whose day the date is."""
        cash = sum((a.amount for a in self.applications if a.kind == "invoice"), Decimal("0"))
        if cash > self.amount:
            raise ValueError(
                f"invoiced: payment {self.key} applies {cash} but only {self.amount} was received"
            )
        body: Payload = {
            "customer": _wire_id(self.customer_id),
            "amount": exact_amount(self.amount, self.currency),
            "applied_to": [a.entry(self.currency) for a in self.applications],
            "metadata": {key_metadata: self.key},
        }
        if self.currency:
            body["currency"] = self.currency.lower()
        if self.received_on:
            body["date"] = company_noon(self.received_on, where)
        if self.method:
            body["method"] = self.method
        if self.reference:
            body["reference"] = self.reference
        if self.notes:
            body["notes"] = self.notes
        return body


def credit_note_application(
    key: str,
    customer_id: str,
    invoice_id: str,
    credit_note_id: str,
    amount: Decimal,
    *,
    currency: str | None = None,
    received_on: date | None = None,
    wire_key: str | None = None,
) -> PaymentCreate:
    """A credit note applied to an invoice: Invoiced's zero-amount payment with one
    ``credit_note`` entry naming both documents."""
    return PaymentCreate(
        key=key,
        wire_key=wire_key,
        customer_id=customer_id,
        amount=Decimal(0),
        applications=(Application("credit_note", invoice_id, amount, credit_note_id),),
        currency=currency,
        received_on=received_on,
        method="other",
    )


@dataclass(frozen=True)
class CreditNoteCreate:
    """A new credit note for a customer (a deduction or write-off): ``POST /credit_notes``
    with the documented attributes only (customer, name, currency, date, items,
    calculate_taxes, metadata). ``calculate_taxes`` is false: Invoiced's default (true) would add
    the customer's tax to the note, so it would credit more than the amount written off (as
    Invoiced's own short-pay and bad-debt credit notes, it is sent false).

    Invoiced documents no ``invoice`` attribute on a credit note: it is applied to an invoice
    afterwards, as a separate write, by :func:`credit_note_application` (a zero-amount payment
    whose ``applied_to`` names both documents)."""

    key: str
    customer_id: str
    amount: Decimal
    reason: str
    currency: str | None = None
    issued_on: date | None = None
    notes: str | None = None
    wire_key: str | None = None  # as PaymentCreate's

    def body(self, key_metadata: str, where: tzinfo = UTC) -> Payload:
        """The request body; ``where`` is the company's time zone, whose day the date is."""
        if self.amount <= 0:
            raise ValueError(f"invoiced: credit note {self.key} must be > 0")
        cost = exact_amount(self.amount, self.currency)
        body: Payload = {
            "customer": _wire_id(self.customer_id),
            "name": "Deduction",
            "items": [{"name": self.reason[:255], "quantity": 1, "unit_cost": cost}],
            "calculate_taxes": False,
            "metadata": {key_metadata: self.key},
        }
        if self.currency:
            body["currency"] = self.currency.lower()
        if self.issued_on:
            body["date"] = company_noon(self.issued_on, where)
        if self.notes:
            body["notes"] = self.notes
        return body


@dataclass(frozen=True)
class PaymentVoid:
    """Void one payment arsync created (``DELETE /payments/:id``)."""

    key: str
    payment_id: str


@dataclass(frozen=True)
class WriteResult:
    """The outcome of one write: the payment Invoiced returned, or the error for it."""

    key: str
    record: Payload | None = None
    error: ApiError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def remote_id(self) -> str | None:
        return str(self.record["id"]) if self.record and "id" in self.record else None


class InvoicedWriter:
    """Sends payments one request each, keyed, and finds payments that landed unseen."""

    def __init__(self, client: InvoicedClient) -> None:
        self.client = client
        self.key_metadata = client.config.key_metadata
        self.zone = zone(client.config.company_timezone)

    def create_payment(self, payment: PaymentCreate) -> Payload:
        """Create one payment; raises ApiError. Safe to call again with the same ``key``."""
        return self.client.post(
            "/payments",
            payment.body(self.key_metadata, self.zone),
            idempotency_key=payment.wire_key or payment.key,
        )

    def create_credit_note(self, note: CreditNoteCreate) -> Payload:
        """Issue one credit note (not yet applied); safe to call again with the same key."""
        return self.client.post(
            "/credit_notes",
            note.body(self.key_metadata, self.zone),
            idempotency_key=note.wire_key or note.key,
        )

    def payment(self, payment_id: str) -> Payload:
        """One payment as Invoiced shows it now."""
        record = self.client.get(f"/payments/{payment_id}")
        if not isinstance(record, dict):
            raise ApiError("invoiced", f"GET /payments/{payment_id}: expected an object")
        return record

    def void_payment(self, void: PaymentVoid) -> Payload:
        """Void a payment; the voided payment as answered."""
        return self.client.delete(f"/payments/{void.payment_id}")

    def write(self, payments: Sequence[PaymentCreate]) -> list[WriteResult]:
        """Send each payment in order; one result per payment. Stops at an auth failure,
        raised as a :class:`~connectors.errors.PartialAuthError` carrying the results of the
        payments answered before it (Invoiced refuses a request with a 401/403 before writing)."""
        keys = [p.key for p in payments]
        if len(set(keys)) != len(keys):
            raise ValueError("invoiced: each payment needs its own idempotency key")
        results: list[WriteResult] = []
        for payment in payments:
            try:
                results.append(WriteResult(payment.key, record=self.create_payment(payment)))
            except AuthError as exc:
                raise PartialAuthError(exc, results) from exc
            except ApiError as exc:
                results.append(WriteResult(payment.key, error=exc))
        return results

    def landed(self, keys: Sequence[str], path: str = "/payments") -> dict[str, str]:
        """Records of ``path`` (``/payments`` or ``/credit_notes``) carrying one of ``keys`` in
        their metadata: key -> record id.

        For read-before-retry when a reply was lost: one filtered list call per key (both lists
        take the documented ``metadata`` filter).
        """
        found: dict[str, str] = {}
        for key in dict.fromkeys(keys):
            params = {f"metadata[{self.key_metadata}]": key}
            for rows in self.client.pages(path, params):
                for row in rows:
                    if (row.get("metadata") or {}).get(self.key_metadata) == key:
                        found[key] = str(row.get("id"))
        return found


def company_noon(day: date, where: tzinfo) -> int:
    """A calendar day as Invoiced keeps it: a moment of that day in the company's time zone
    (noon there, so the day reads the same in every zone the company's users sit in). Noon UTC
    would be the next day for a company at UTC+12 or +13."""
    return int(datetime(day.year, day.month, day.day, 12, tzinfo=where).timestamp())


def _wire_id(value: str) -> int | str:
    """Invoiced ids are integers; keep anything else as given so the API can name it."""
    return int(value) if value.isdigit() else value
