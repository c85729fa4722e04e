"""GoCardless events to processor records, fetching each payment (events carry no amount).

``payments`` events with action ``confirmed`` (collected from the customer) are cash in;
``charged_back`` and ``refunded`` are outgoing, and so is ``failed`` when it comes after the
payment was confirmed (a late failure: the bank took the money back);
``chargeback_cancelled`` gives a charged-back payment's money back; other actions are only
recorded: ``paid_out``, ``late_failure_settled`` and ``chargeback_settled`` are the payout side
of money already counted by ``confirmed``, ``failed`` and ``charged_back`` (reading them too
would count it twice), and ``resubmission_requested``, ``cancelled`` and
``customer_approval_denied`` move nothing. A failed payment can be resubmitted: its second
``confirmed`` is a second collection (new cash when the first was taken back), and a
resubmission that fails again takes nothing back. The payment
is read from ``GET /payments/{id}`` (amount in minor units, currency, ``reference``,
``metadata``; its ``description`` is kept as free text) through the shared HTTP layer.

One delivery may batch several events, not listed in the order they happened: they are taken
in by their ``created_at`` (:func:`chronological`), so that a chargeback listed before the
confirmation it follows still finds the cash to take back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, SecretStr

from connectors.errors import ErrorKind
from connectors.http import ApiSession, ErrorRule, ErrorTable, RetryPolicy
from connectors.processors.currencies import from_processor_minor, iso_exponent
from connectors.processors.records import ProcessorRecord, RecordKind

ACTIONS: dict[str, RecordKind] = {
    "confirmed": "payment",
    "charged_back": "dispute",
    "failed": "failure",
    "chargeback_cancelled": "reinstatement",
    "refunded": "refund",
}
# Events that may be taken in before what they act on (deliveries come in any order) and are
# taken in again once it is in (see ``sync.webhooks``): a chargeback before its payment's
# confirmation, a cancelled chargeback before the chargeback. Not ``failed``: one taken in
# before any confirmation was an early failure of a collection tried again later, and must
# not take back the later collection's cash.
TAKING_BACK = frozenset({"payments.charged_back"})
GIVING_BACK = frozenset({"payments.chargeback_cancelled"})
INVOICE_METADATA_KEYS = ("invoice_number", "invoice", "invoice_id")
API_VERSION = "2015-07-06"
ERROR_TABLE = ErrorTable(
    rules=(
        ErrorRule(ErrorKind.RATE_LIMITED, status=429),
        ErrorRule(ErrorKind.RETRY, status=(500, 502, 503, 504)),
        ErrorRule(ErrorKind.AUTH, status=(401, 403)),
        ErrorRule(ErrorKind.NOT_FOUND, status=404),
        ErrorRule(ErrorKind.DATA, status=(400, 409, 422)),
    )
)


class GoCardlessConfig(BaseModel):
    access_token: SecretStr
    base_url: str = "https://api.gocardless.com"


class GoCardlessClient:
    """Reads payments; the access token is sent as a Bearer token, never logged."""

    def __init__(self, config: GoCardlessConfig, policy: RetryPolicy | None = None) -> None:
        self.config = config
        self.session = ApiSession("gocardless", error_table=ERROR_TABLE, policy=policy)
        self.session.headers.update(
            {
                "Authorization": f"Bearer {config.access_token.get_secret_value()}",
                "GoCardless-Version": API_VERSION,
                "Accept": "application/json",
            }
        )

    def payment(self, payment_id: str) -> dict[str, Any]:
        response = self.session.get(f"{self.config.base_url.rstrip('/')}/payments/{payment_id}")
        body = response.json()
        return dict(body.get("payments") or {})


def parse_events(body: dict[str, Any], client: GoCardlessClient) -> list[ProcessorRecord]:
    """Records of the cash events in a webhook body; each payment read once."""
    records: list[ProcessorRecord] = []
    for index, event in enumerate(body.get("events") or []):
        record = parse_event(event, client, index)
        if record is not None:
            records.append(record)
    return records


def parse_event(event: Any, client: GoCardlessClient, index: int = 0) -> ProcessorRecord | None:
    """The record of one event, None for events that move no cash (mandates, payouts, ...)."""
    if not isinstance(event, dict):
        raise ValueError(f"events[{index}] is not an object")
    if event.get("resource_type") != "payments":
        return None
    kind = ACTIONS.get(str(event.get("action") or ""))
    if kind is None:
        return None
    links = event.get("links")
    payment_id = str((links if isinstance(links, dict) else {}).get("payment") or "")
    if not payment_id:
        raise ValueError(f"events[{index}].links.payment is missing")
    payment = client.payment(payment_id)
    for name in ("amount", "currency"):
        if payment.get(name) in (None, ""):
            raise ValueError(f"GET /payments/{payment_id}: payments.{name} is missing")
    try:
        currency = str(payment["currency"])
        amount = from_processor_minor(payment["amount"], currency, iso_exponent(currency))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"payment {payment_id}: amount or currency is bad ({exc})") from None
    metadata = payment.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    refs = [str(metadata[k]) for k in INVOICE_METADATA_KEYS if metadata.get(k)]
    reference = str(payment.get("reference") or "")
    merchant = (reference,) if reference and reference not in refs else ()
    description = payment.get("description")
    return ProcessorRecord(
        processor="gocardless",
        event_id=str(event.get("id")),
        event_type=f"payments.{event.get('action')}",
        kind=kind,
        amount=amount,
        occurred_at=_moment(event.get("created_at")),
        payment_id=payment_id,
        payer_name=None,
        invoice_refs=tuple(refs),
        merchant_refs=merchant,
        collected_again_when_taken_back=kind == "payment",
        narrative=(description.strip(),) if isinstance(description, str) and description else (),
        raw={"event": event, "payment": payment},
    )


def chronological(events: list[Any]) -> list[int]:
    """The indexes of a delivery's events in the order to take them in: the events with a
    readable ``created_at`` oldest first (ties keep their order) among the places they hold,
    an event without one left where the delivery lists it (nothing says when it happened)."""
    unknown = datetime.max.replace(tzinfo=UTC)

    def when(index: int) -> datetime:
        event = events[index]
        created = event.get("created_at") if isinstance(event, dict) else None
        return _moment(created, unknown) if isinstance(created, str) else unknown

    order = list(range(len(events)))
    dated = [index for index in order if when(index) != unknown]
    for place, index in zip(dated, sorted(dated, key=when), strict=True):
        order[place] = index
    return order


def _moment(value: Any, unreadable: datetime | None = None) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return unreadable or datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
