"""Parse Adyen standard notifications (after their items verified) into processor records.

An item is cash only when ``success`` is ``"true"``. ``CAPTURE`` is money taken; with
automatic capture (the merchant account captures every authorisation) ``AUTHORISATION`` is
too, and both name the same payment (a capture's ``originalReference`` is the authorisation's
``pspReference``), so one payment becomes one remittance whichever arrives. ``REFUND`` and
``CHARGEBACK`` are outgoing cash, reported, never applied.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from canonical.money import Money
from connectors.processors.records import ProcessorRecord, RecordKind

OUTGOING: dict[str, RecordKind] = {"REFUND": "refund", "CHARGEBACK": "dispute"}
INVOICE_KEYS = ("metadata.invoice_number", "metadata.invoice", "metadata.invoiceNumber")


class AdyenEventError(ValueError):
    """An item that cannot be read; the message names the item and the field."""


def parse_notification(
    body: dict[str, Any], *, auto_capture: bool = False
) -> list[ProcessorRecord]:
    """One record per successful cash item; other items (pending, failed, reports) skipped."""
    records: list[ProcessorRecord] = []
    for index, entry in enumerate(body.get("notificationItems") or []):
        item = (entry or {}).get("NotificationRequestItem") or {}
        record = _item(item, index, auto_capture)
        if record is not None:
            records.append(record)
    return records


def _item(item: dict[str, Any], index: int, auto_capture: bool) -> ProcessorRecord | None:
    code = str(item.get("eventCode") or "")
    if str(item.get("success") or "").lower() != "true":
        return None
    incoming = code == "CAPTURE" or (code == "AUTHORISATION" and auto_capture)
    kind: RecordKind | None = "payment" if incoming else OUTGOING.get(code)
    if kind is None:
        return None
    where = f"notificationItems[{index}]"
    psp = str(item.get("pspReference") or "")
    if not psp:
        raise AdyenEventError(f"{where}.pspReference is missing")
    amount = item.get("amount") or {}
    try:
        value = int(amount["value"])
        currency = str(amount["currency"]).upper()
    except (KeyError, TypeError, ValueError):
        raise AdyenEventError(f"{where}.amount needs an integer value and a currency") from None
    payment_id = str(item.get("originalReference") or psp) if code != "AUTHORISATION" else psp
    extra = item.get("additionalData") or {}
    refs = [str(extra[k]) for k in INVOICE_KEYS if extra.get(k)]
    reference = str(item.get("merchantReference") or "")
    if reference and reference not in refs:
        refs.append(reference)
    return ProcessorRecord(
        processor="adyen",
        event_id=f"{psp}:{code}",
        event_type=code,
        kind=kind,
        amount=Money.from_minor(value, currency),
        occurred_at=_moment(item.get("eventDate")),
        payment_id=payment_id,
        payer_name=extra.get("shopperName") or extra.get("cardHolderName"),
        payer_email=extra.get("shopperEmail"),
        invoice_refs=tuple(refs),
        raw=item,
    )


def _moment(value: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
