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

A payment names no customer, only its mandate: who paid is read from ``GET /mandates/{id}``
(``links.customer``, ``links.customer_bank_account``) and ``GET /customers/{id}`` (company
name, else given and family name; email), and ``GET /customer_bank_accounts/{id}`` (the
account holder's name) only when the customer has no name. GoCardless side-loads nothing on a
payment read, so these are reads of their own: each mandate is read once per client (one
client serves one delivery), and only for cash coming in (a reversal takes its payer from the
payment's remittance). The customer id is the payer's account, which the reconciler learns. A
payer that cannot be read loses no cash: the payment is kept without one, with a warning.

Payers are read inside the webhook request, which GoCardless abandons (and delivers again)
when it is not answered 2xx within 10 seconds, so a delivery's payer reads share a time budget
(``payer_budget``, counted from the client's creation: one client serves one delivery). Each
payer read is tried once, its timeout cut to the time left, and none starts once the budget is
spent: the payment is then kept without its payer, with a warning naming it. A payer read that
fails (404, a refusal, no customer, or a timeout, 5xx or 429) is the same: the payer is never
worth the cash. Answering 503 for it instead would have GoCardless deliver the whole batch again
and, with a mandate endpoint failing for days, give up on it after its 8 retries, its cash never
stored. A payer so left out is not read again (an event once stored is a duplicate when
delivered again, and no later step reads GoCardless): the reconciler then finds the payer by
the payment's references or a person does.

One delivery may batch several events, not listed in the order they happened: they are taken
in by their ``created_at`` (:func:`chronological`), so that a chargeback listed before the
confirmation it follows still finds the cash to take back. Across deliveries a ``failed`` is
judged by its ``created_at`` too (:func:`happened_before`), not by when it came: one delivered
before the confirmation it follows waits for that cash and takes it back once it comes, and
one that happened before the confirmation of the collection counted (the early failure of a
collection tried again, delivered late) takes nothing. Only a ``confirmed`` brings a
collection's cash (:func:`collects`): cash a ``chargeback_cancelled`` gave back is the cash of
the collection it reinstates.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, SecretStr

from connectors.errors import ApiError, ErrorKind
from connectors.http import ApiSession, ErrorRule, ErrorTable, RetryPolicy
from connectors.processors.currencies import from_processor_minor, iso_exponent
from connectors.processors.records import ProcessorRecord, RecordKind

log = logging.getLogger(__name__)

ACTIONS: dict[str, RecordKind] = {
    "confirmed": "payment",
    "charged_back": "dispute",
    "failed": "failure",
    "chargeback_cancelled": "reinstatement",
    "refunded": "refund",
}
# Events that may be taken in before what they act on (deliveries come in any order) and are
# taken in again once it is in (see ``sync.webhooks``): a chargeback or a late failure before
# its payment's confirmation, a cancelled chargeback before the chargeback. A failure takes
# back only cash an older event brought (see :func:`happened_before`): one that happened before
# the confirmation now counted was an early failure of a collection tried again later, and
# never takes back the later collection's cash.
TAKING_BACK = frozenset({"payments.charged_back", "payments.failed"})
GIVING_BACK = frozenset({"payments.chargeback_cancelled"})
# Events that, finding the payment's cash in force, counted nothing (the collection counted,
# announced again) and are taken in again once that cash is taken back: a ``confirmed`` of a
# collection after a late failure, delivered before that failure, is then new cash if it
# happened after what took the cash back (see ``sync.webhooks``).
COLLECTING_AGAIN = frozenset({"payments.confirmed"})
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


@dataclass(frozen=True)
class Payer:
    """Who pays through a mandate, as GoCardless knows them."""

    mandate_id: str
    customer_id: str | None = None
    name: str | None = None
    email: str | None = None
    account_holder_name: str | None = None
    account_number_ending: str | None = None
    bank_name: str | None = None


class PayerUnread(Exception):
    """The payer of a mandate could not be read (the call failed or answered no resource)."""


class PayerNotReadNow(PayerUnread):
    """The payer of a mandate could not be read just now (a timeout, 5xx, 429): not
    remembered as the mandate's answer, so another payment of it reads it again."""


class PaymentReader(Protocol):
    def payment(self, payment_id: str) -> dict[str, Any]: ...


@runtime_checkable
class PayerReader(Protocol):
    def payer(self, mandate_id: str) -> Payer: ...


class GoCardlessConfig(BaseModel):
    access_token: SecretStr
    base_url: str = "https://api.gocardless.com"


class GoCardlessClient:
    """Reads payments and their payers; the access token is sent as a Bearer token, never
    logged. Each mandate's payer is read once (or left out) for the client's lifetime; payer
    reads stop ``payer_budget`` seconds after the client is made (None: no limit)."""

    def __init__(
        self,
        config: GoCardlessConfig,
        policy: RetryPolicy | None = None,
        payer_budget: float | None = None,
    ) -> None:
        self.config = config
        self.session = ApiSession("gocardless", error_table=ERROR_TABLE, policy=policy)
        # payer reads are tried once: a retry would spend the budget the delivery answers in
        once = replace(self.session.policy, max_attempts=1)
        self._payer_session = ApiSession("gocardless", error_table=ERROR_TABLE, policy=once)
        headers = {
            "Authorization": f"Bearer {config.access_token.get_secret_value()}",
            "GoCardless-Version": API_VERSION,
            "Accept": "application/json",
        }
        self.session.headers.update(headers)
        self._payer_session.headers.update(headers)
        self.payer_budget = payer_budget
        self._payer_deadline = None if payer_budget is None else time.monotonic() + payer_budget
        self._payers: dict[str, Payer | PayerUnread] = {}

    def payment(self, payment_id: str) -> dict[str, Any]:
        body = self._get(self.session, f"/payments/{payment_id}")
        return dict(body.get("payments") or {})

    def payer(self, mandate_id: str) -> Payer:
        """The payer of a mandate; :class:`PayerUnread` when it cannot be read (or not within
        the budget), :class:`PayerNotReadNow` when it failed just now."""
        if mandate_id not in self._payers:
            try:
                self._payers[mandate_id] = self._read_payer(mandate_id)
            except PayerNotReadNow:
                raise
            except PayerUnread as exc:
                self._payers[mandate_id] = exc
        known = self._payers[mandate_id]
        if isinstance(known, PayerUnread):
            raise known
        return known

    def _read_payer(self, mandate_id: str) -> Payer:
        """The mandate, then its customer; the bank account only for a customer without a name."""
        links = self._resource("mandates", mandate_id).get("links")
        links = links if isinstance(links, dict) else {}
        customer_id = _text(links.get("customer"))
        if not customer_id:
            raise PayerUnread(f"mandate {mandate_id}: links.customer is missing")
        customer = self._resource("customers", customer_id)
        person = " ".join(
            part for part in (_text(customer.get(k)) for k in ("given_name", "family_name")) if part
        )
        name = _text(customer.get("company_name")) or person or None
        account: dict[str, Any] = {}
        account_id = _text(links.get("customer_bank_account"))
        if name is None and account_id:
            account = self._resource("customer_bank_accounts", account_id)
        return Payer(
            mandate_id=mandate_id,
            customer_id=customer_id,
            name=name or _text(account.get("account_holder_name")) or None,
            email=_text(customer.get("email")) or None,
            account_holder_name=_text(account.get("account_holder_name")) or None,
            account_number_ending=_text(account.get("account_number_ending")) or None,
            bank_name=_text(account.get("bank_name")) or None,
        )

    def _resource(self, kind: str, resource_id: str) -> dict[str, Any]:
        """``GET /{kind}/{id}``'s resource within the budget; :class:`PayerUnread` naming it
        when unreadable, :class:`PayerNotReadNow` on a transient failure."""
        what = f"{kind.removesuffix('s')} {resource_id}"
        timeout = self._payer_session.policy.timeout
        if self._payer_deadline is not None:
            left = self._payer_deadline - time.monotonic()
            if left <= 0:
                raise PayerUnread(f"{what}: not read, {self._spent()}")
            timeout = min(timeout, left)
        try:
            resource = self._get(self._payer_session, f"/{kind}/{resource_id}", timeout).get(kind)
        except ApiError as exc:
            if exc.kind not in (ErrorKind.RETRY, ErrorKind.RATE_LIMITED):
                raise PayerUnread(f"{what}: {exc}") from None
            if self._payer_deadline is not None and time.monotonic() >= self._payer_deadline:
                raise PayerUnread(f"{what}: {exc}; {self._spent()}") from None
            raise PayerNotReadNow(f"{what}: not read just now: {exc}") from None
        except (ValueError, AttributeError) as exc:
            raise PayerUnread(f"{what}: {exc}") from None
        if not isinstance(resource, dict) or not resource:
            raise PayerUnread(f"{what}: the answer has no {kind}")
        return resource

    def _spent(self) -> str:
        return f"the delivery's {self.payer_budget:g} s for reading payers are spent"

    def _get(self, session: ApiSession, path: str, timeout: float | None = None) -> Any:
        url = f"{self.config.base_url.rstrip('/')}{path}"
        answer = session.get(url) if timeout is None else session.get(url, timeout=timeout)
        return answer.json()


def parse_events(body: dict[str, Any], client: PaymentReader) -> list[ProcessorRecord]:
    """Records of the cash events in a webhook body; each payment read once."""
    records: list[ProcessorRecord] = []
    for index, event in enumerate(body.get("events") or []):
        record = parse_event(event, client, index)
        if record is not None:
            records.append(record)
    return records


def parse_event(event: Any, client: PaymentReader, index: int = 0) -> ProcessorRecord | None:
    """The record of one event, None for events that move no cash (mandates, payouts, ...).
    Cash coming in names its payer when ``client`` can read payers (a :class:`PayerReader`)."""
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
    payer = _payer(client, payment, payment_id) if kind == "payment" else None
    return ProcessorRecord(
        processor="gocardless",
        event_id=str(event.get("id")),
        event_type=f"payments.{event.get('action')}",
        kind=kind,
        amount=amount,
        occurred_at=_moment(event.get("created_at")),
        payment_id=payment_id,
        payer_name=payer.name if payer else None,
        payer_email=payer.email if payer else None,
        payer_account=payer.customer_id if payer else None,
        invoice_refs=tuple(refs),
        merchant_refs=merchant,
        collected_again_when_taken_back=kind == "payment",
        narrative=(description.strip(),) if isinstance(description, str) and description else (),
        raw={"event": event, "payment": payment, **({"payer": asdict(payer)} if payer else {})},
    )


def _payer(client: PaymentReader, payment: dict[str, Any], payment_id: str) -> Payer | None:
    """Who made the payment, through its mandate; None (with a warning naming the payment)
    when that cannot be read: the cash is kept without a payer."""
    if not isinstance(client, PayerReader):
        return None
    links = payment.get("links")
    mandate_id = _text((links if isinstance(links, dict) else {}).get("mandate"))
    if not mandate_id:
        log.warning("gocardless: payment %s names no mandate: kept without a payer", payment_id)
        return None
    try:
        return client.payer(mandate_id)
    except PayerUnread as exc:
        log.warning("gocardless: payment %s kept without a payer: %s", payment_id, exc)
        return None


def _text(value: Any) -> str:
    """A text field's value, stripped; "" when absent or not text."""
    return value.strip() if isinstance(value, str) else ""


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


def created_at(event: Any) -> datetime | None:
    """When an event happened (its ``created_at``); None when it has no readable one."""
    created = event.get("created_at") if isinstance(event, dict) else None
    if not isinstance(created, str):
        return None
    unknown = datetime.max.replace(tzinfo=UTC)
    moment = _moment(created, unknown)
    return None if moment == unknown else moment


def happened_before(first: Any, then: Any) -> bool | None:
    """Whether the event ``first`` happened before the event ``then`` (by ``created_at``); None
    when either time is unreadable or both are the same: nothing says which came first. A
    ``failed`` that happened before the event that brought a payment's cash (its ``confirmed``)
    was the failure of an earlier collection (a payment fails, is resubmitted, and is
    collected) and takes none of this cash; a ``confirmed`` that happened when none of the
    payment's cash was left (all of the cash brought before it taken back before it) is a new
    collection of it."""
    one, other = created_at(first), created_at(then)
    if one is None or other is None or one == other:
        return None
    return one < other


def collects(event: Any) -> bool:
    """Whether ``event`` brought a collection's cash (a ``confirmed``): only a confirmation
    does. A ``chargeback_cancelled`` gives back the cash of the collection its chargeback took,
    and a failure is judged against that collection's confirmation."""
    return isinstance(event, dict) and event.get("action") == "confirmed"


def _moment(value: Any, unreadable: datetime | None = None) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return unreadable or datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
