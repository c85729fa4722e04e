"""Parse Adyen standard notifications (after their items verified) into processor records.

An item is cash only when ``success`` is ``"true"``. ``CAPTURE`` is money taken; with
automatic capture (Adyen's default: the merchant account captures every authorisation, and
usually sends no ``CAPTURE`` then) ``AUTHORISATION`` is too, and both name the same payment (a
capture's ``originalReference`` is the authorisation's ``pspReference``), so one payment
becomes one remittance whichever arrives; a zero-value authorisation (a card stored) moves no
money. With manual capture an authorisation moves no money and each capture (several partial
captures of one authorisation included) is its own remittance, keyed by the capture's
``pspReference``.
``REFUND`` (and a ``CANCEL_OR_REFUND`` whose ``additionalData["modification.action"]`` is
``refund``) and ``CHARGEBACK`` are outgoing cash, never applied (a chargeback takes back the
payment's cash); ``CHARGEBACK_REVERSED`` gives it back, and ``SECOND_CHARGEBACK`` (the issuer
declined the defence) deducts it again. A dispute item's ``pspReference`` is the dispute's (the
same for all its events) and its ``originalReference`` the disputed payment's. Dispute events
that move no money (``NOTIFICATION_OF_CHARGEBACK``, ``REQUEST_FOR_INFORMATION``,
``NOTIFICATION_OF_FRAUD``, ``PREARBITRATION_*``, ``DISPUTE_DEFENSE_PERIOD_ENDED``, ...) are not
read.

A cancelled authorisation (``CANCELLATION`` or ``TECHNICAL_CANCEL``, or a ``CANCEL_OR_REFUND``
whose ``additionalData["modification.action"]`` is ``cancel``; ``originalReference`` names the
authorisation) never brings its money: with automatic capture the authorisation was counted as
cash, so the cancellation takes it back (a failure of the payment). With manual capture it
makes no record and takes nothing back: the authorisation was never cash, and what a
cancellation after a partial capture cancels is the uncaptured rest, never the captures.
Adyen does not deliver in order: a cancellation may come before the authorisation it cancels.
It then finds no cash to take back and is kept (ignored); when the authorisation comes, the
intake takes the cancellation in again and the authorisation is taken back at once, as in
the other order (see :func:`taking_back` and ``sync.webhooks``).

``CAPTURE_FAILED`` says the card scheme rejected a capture already reported as successful: the
cash it counted is not coming, so it is taken back (a failure of the capture's payment). Adyen
may then capture the payment again itself, announced as another successful ``CAPTURE`` of the
same ``pspReference`` whose ``reason`` is "Transaction Recaptured" (or "Transaction
Auto-recaptured"): that is the cash coming after all, a new collection of the payment, with an
event id of its own so it is not taken for a replay of the first ``CAPTURE``.

The samples sent to test a webhook (from the Customer Area or the Management API:
``merchantReference`` ``testMerchantRef1``, older ones a ``pspReference`` such as
``test_AUTHORISATION_1``) come from either environment, with ``live`` ``"true"`` from the live
one, and are no payment (:func:`sample_notification`).

Amounts are in Adyen's minor units, which differ from ISO 4217 for CLP, CVE, IDR and ISK.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from connectors.processors.currencies import adyen_exponent, from_processor_minor
from connectors.processors.records import REINSTATING, REVERSING, ProcessorRecord, RecordKind

OUTGOING: dict[str, RecordKind] = {
    "REFUND": "refund",
    "CHARGEBACK": "dispute",
    "CHARGEBACK_REVERSED": "reinstatement",
    "SECOND_CHARGEBACK": "dispute",
    "CAPTURE_FAILED": "failure",
}
CANCELS = frozenset({"CANCELLATION", "TECHNICAL_CANCEL"})
# the event codes that give a payment's cash back (``originalReference`` naming the payment)
GIVING_BACK = frozenset(code for code, kind in OUTGOING.items() if kind in REINSTATING)
# the event codes arsync reads (others are stored and noted as moving no money)
READ_CODES = frozenset({"AUTHORISATION", "CAPTURE", "CANCEL_OR_REFUND", *CANCELS, *OUTGOING})
INVOICE_KEYS = ("metadata.invoice_number", "metadata.invoice", "metadata.invoiceNumber")
# a webhook test's sample: the merchant reference it carries, and the prefix of older samples'
# PSP references (a real one is 16 letters and digits)
SAMPLE_MERCHANT_REFERENCE = re.compile(r"testMerchantRef\d+")
SAMPLE_PSP_PREFIX = "test_"


def sample_notification(item: Mapping[str, Any]) -> str | None:
    """Why an item is a sample sent to test the webhook (no payment in either environment),
    None when it is not."""
    psp = str(item.get("pspReference") or "")
    if psp.startswith(SAMPLE_PSP_PREFIX):
        return f"pspReference {psp!r}: a sample sent to test the webhook, no payment"
    reference = str(item.get("merchantReference") or "")
    if SAMPLE_MERCHANT_REFERENCE.fullmatch(reference):
        return f"merchantReference {reference!r}: a sample sent to test the webhook, no payment"
    return None


def taking_back(auto_capture: bool) -> frozenset[str]:
    """The event codes that may take a payment's cash back (with ``originalReference`` naming
    the payment): a chargeback, a failed capture and, with automatic capture only, a
    cancelled authorisation."""
    codes = {code for code, kind in OUTGOING.items() if kind in REVERSING}
    return frozenset(codes | (CANCELS | {"CANCEL_OR_REFUND"} if auto_capture else set()))


def is_recapture(item: dict[str, Any]) -> bool:
    """Whether a ``CAPTURE`` item is Adyen capturing again after a ``CAPTURE_FAILED``."""
    reason = str(item.get("reason") or "").lower()
    return item.get("eventCode") == "CAPTURE" and "recaptured" in reason


class AdyenEventError(ValueError):
    """An item that cannot be read; the message names the item and the field."""


def parse_notification(body: dict[str, Any], *, auto_capture: bool = True) -> list[ProcessorRecord]:
    """One record per successful cash item; other items (pending, failed, reports) skipped."""
    records: list[ProcessorRecord] = []
    for index, entry in enumerate(body.get("notificationItems") or []):
        item = (entry or {}).get("NotificationRequestItem") or {}
        record = parse_item(item, index, auto_capture=auto_capture)
        if record is not None:
            records.append(record)
    return records


def parse_item(
    item: dict[str, Any], index: int = 0, *, auto_capture: bool = True
) -> ProcessorRecord | None:
    """The record of one verified NotificationRequestItem, None when it moves no cash (a
    webhook test's sample included)."""
    if sample_notification(item):
        return None
    code = str(item.get("eventCode") or "")
    if str(item.get("success") or "").lower() != "true":
        return None
    incoming = code == "CAPTURE" or (code == "AUTHORISATION" and auto_capture)
    kind: RecordKind | None = "payment" if incoming else OUTGOING.get(code)
    extra = item.get("additionalData")
    extra = extra if isinstance(extra, dict) else {}
    action = extra.get("modification.action") if code == "CANCEL_OR_REFUND" else None
    if action == "refund":
        kind = "refund"  # a cancel-or-refund of a captured payment refunded it
    if code in CANCELS or action == "cancel":
        kind = "failure" if auto_capture else None  # only automatic capture counted it
    if kind is None:
        return None
    where = f"notificationItems[{index}]"
    psp = str(item.get("pspReference") or "")
    if not psp:
        raise AdyenEventError(f"{where}.pspReference is missing")
    amount = item.get("amount")
    if not isinstance(amount, dict):
        raise AdyenEventError(f"{where}.amount is missing or not an object")
    try:
        currency = str(amount["currency"]).upper()
        money = from_processor_minor(amount["value"], currency, adyen_exponent(currency))
    except (KeyError, TypeError, ValueError) as exc:
        raise AdyenEventError(
            f"{where}.amount needs an integer value in minor units and a currency ({exc})"
        ) from None
    if kind == "payment" and not money.amount:
        return None  # a zero-value authorisation stores a card: no money moves
    captures = code in ("CAPTURE", "CAPTURE_FAILED")
    if code == "AUTHORISATION" or (captures and not auto_capture):
        payment_id = psp  # a manual capture is its own money, even a partial one
    else:
        payment_id = str(item.get("originalReference") or psp)
    refs = [str(extra[k]) for k in INVOICE_KEYS if extra.get(k)]
    reference = str(item.get("merchantReference") or "")
    merchant = (reference,) if reference and reference not in refs else ()
    recapture = is_recapture(item)
    return ProcessorRecord(
        processor="adyen",
        event_id=f"{psp}:{code}" + (":recaptured" if recapture else ""),
        event_type=code,
        kind=kind,
        amount=money,
        occurred_at=_moment(item.get("eventDate")),
        payment_id=payment_id,
        payer_name=extra.get("shopperName") or extra.get("cardHolderName"),
        payer_email=extra.get("shopperEmail"),
        invoice_refs=tuple(refs),
        merchant_refs=merchant,
        original_reference=str(item.get("originalReference") or "") or None
        if code == "CAPTURE"
        else None,
        collected_again_when_taken_back=recapture,
        raw=item,
    )


def _moment(value: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
