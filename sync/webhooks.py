"""Webhook intake: verify the signature over the raw body, then store the event once, then
turn it into work — in that order, and in one transaction with what it creates.

* Stripe, Adyen, GoCardless: incoming payments become remittances (the reconciler's input);
  a chargeback or a late failure of a payment already counted becomes a reversal (a
  remittance of the negative amount naming the payment's; the reconciler reports it with
  what the payment paid), and a reinstatement (the dispute won) gives the cash back as new
  cash with the payment's references; refunds are kept as events for the report.
* QuickBooks, Invoiced: a change notification marks that system as due for a sync; the sync
  itself pulls what changed, so a lost or repeated notification costs nothing. Each announced
  change is stored once under its own id (a QBO CloudEvent's id, a legacy entity's realm, name,
  id, operation and time; an Invoiced event's id), so a change sent again in a later delivery
  is a duplicate. A change arsync does not pull (an entity or object it does not sync, another
  QBO company) is stored as ignored with a note and triggers nothing; a verified body that is
  not a notification is stored as failed, naming the field, and still marks the system due.
  A QBO item that cannot be read (a CloudEvent, a notification, an entity) is left out and the
  rest of its delivery kept: the items left out are one failed event under the body's hash.

A payment's cash is never taken back twice nor given back twice: a chargeback or failure
takes back the payment's cash still in force (the latest of its payment and the cash a won
dispute gave back), and nothing when all of it was already taken back (a resubmitted direct
debit failing again moved no money); a reinstatement gives back only what was taken. A
GoCardless payment confirmed again after its cash was taken back (a failed payment resubmitted
and collected) is new cash again.

No processor delivers in order, so the events of a payment's cash settle whatever order and
grouping they come in, as they would in time order. An event that takes cash back (Adyen: a
cancelled authorisation, a failed capture, a chargeback; GoCardless ``charged_back`` and
``failed``; a Stripe dispute withdrawing funds) and finds none in force (not counted yet, or
all taken back already) takes nothing then and is kept as ignored, noted; an event that gives
cash back (Adyen ``CHARGEBACK_REVERSED``, GoCardless ``chargeback_cancelled``, Stripe
``charge.dispute.funds_reinstated``) and finds nothing taken back likewise. After a delivery
commits, the events waiting for what it counted, took back or gave back (found by the payment
their payload names: ``originalReference``, ``links.payment``, the dispute's payment intent or
charge), and those of its own that wait, are taken in again, then those waiting for what they
made, round after round until a round makes nothing: a chargeback reversed, delivered before
the chargeback, delivered before the payment, ends as the cash, its reversal and the cash given
back; a second chargeback delivered before the first's reversal takes the cash given back. An
event taken in again is first claimed (still ignored, once its transaction holds it), so two
deliveries never take it in both; a reversal and a reinstatement are keyed by their event (or
dispute), so no cash is taken back or given back twice. A give-back whose take-back never
comes stays ignored and invents no cash. GoCardless' events of one delivery are taken in oldest
first (``created_at``), and a GoCardless ``failed`` takes back only cash of a collection whose
``confirmed`` is older than it (cash a ``chargeback_cancelled`` gave back is of the collection
it reinstates), whenever it is delivered: a failure that happened before the collection
counted (the early failure of a payment resubmitted and collected, delivered late) takes
nothing, noted as belonging to an earlier collection. A GoCardless ``confirmed`` finding the
cash all taken back is a new collection when none of the cash brought before it was left when
it happened (a take-back after it may be of the collection it brings). A Stripe Connect
test-mode event (``account`` with ``livemode`` false, sent to live Connect endpoints too) is
stored as ignored: no real money.

A replayed delivery (same source and event id) finds its stored event and does nothing.
Adyen and GoCardless batch several events in one delivery: each event (an Adyen item, a
GoCardless event) is stored, de-duplicated and turned into work on its own, so one bad event
is kept as failed while the rest go on. An Adyen item whose own signature does not match is
dropped unstored (the rest of its batch is kept); a batch with no verified item is refused,
and so is a delivery without the HTTP Basic credentials, when they are configured.

A delivery is one transaction. When a concurrent delivery stores a row it stores too (the
same event delivered twice, or another event of the same payment: its remittance), the
delivery is taken in once more after that one committed, finding the event stored (a
duplicate) or the remittance to add its references to; a second conflict answers 503, so
that the sender delivers it again later. A delivery is never answered 2xx unstored.

An invoice event that names its invoice's references but not the payment (Stripe since API
2025-03-31: ``invoice.paid``) adds them to the remittance of the payment that paid the invoice,
found by the invoice id its structured references hold (the JSON list, not the free text).
Arriving before that payment's link, it waits (stored as ignored, the note naming the invoice
for people) and is taken in again once a delivery that links a payment to the invoice has
committed: found as an ignored invoice event whose own object is that invoice, never by the
words of its note.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy import ColumnElement, cast, exists, func, literal, or_, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from canonical.enums import RemittanceStatus
from canonical.models import Remittance, WebhookEvent
from canonical.store import Store, json_dumps
from canonical.types import utcnow
from connectors.errors import ApiError, DataError, NotFoundError
from connectors.http import RetryPolicy
from connectors.invoiced import webhooks as invoiced_hooks
from connectors.processors import adyen, gocardless, stripe
from connectors.processors.adyen_events import GIVING_BACK as ADYEN_GIVING_BACK
from connectors.processors.adyen_events import READ_CODES as ADYEN_READ_CODES
from connectors.processors.adyen_events import is_recapture as is_adyen_recapture
from connectors.processors.adyen_events import parse_item as parse_adyen_item
from connectors.processors.adyen_events import sample_notification as adyen_sample
from connectors.processors.adyen_events import taking_back as adyen_taking_back
from connectors.processors.gocardless_events import ACTIONS as GC_ACTIONS
from connectors.processors.gocardless_events import COLLECTING_AGAIN as GC_COLLECTING_AGAIN
from connectors.processors.gocardless_events import GIVING_BACK as GC_GIVING_BACK
from connectors.processors.gocardless_events import TAKING_BACK as GC_TAKING_BACK
from connectors.processors.gocardless_events import (
    GoCardlessClient,
    GoCardlessConfig,
)
from connectors.processors.gocardless_events import chronological as gc_chronological
from connectors.processors.gocardless_events import collects as gc_collects
from connectors.processors.gocardless_events import happened_before as gc_happened_before
from connectors.processors.gocardless_events import parse_event as parse_gocardless_event
from connectors.processors.records import REINSTATING, REVERSING, ProcessorRecord
from connectors.processors.stripe_events import GIVING_BACK as STRIPE_GIVING_BACK
from connectors.processors.stripe_events import INVOICE_EVENTS as STRIPE_INVOICE_EVENTS
from connectors.processors.stripe_events import KINDS as STRIPE_KINDS
from connectors.processors.stripe_events import TAKING_BACK as STRIPE_TAKING_BACK
from connectors.processors.stripe_events import other_mode_connected_event, parse_event
from connectors.quickbooks import webhooks as qbo_hooks
from connectors.redact import redact
from connectors.salesforce import webhooks as sf_hooks
from mappings.base import MappingError
from mappings.processors import (
    references_for,
    reinstatement_from_record,
    remittance_from_record,
    reversal_from_record,
    with_words,
)
from mappings.salesforce.schema import SalesforceSchema, load_preset
from reconciler.engine import reconsiderable, supersede
from sync.settings import Settings, WebhookSettings, describe_validation_error

log = logging.getLogger(__name__)
SOURCES = ("stripe", "adyen", "gocardless", "quickbooks", "invoiced", "salesforce")
T = TypeVar("T")


class Rejected(Exception):
    """The delivery is not accepted (bad signature, unconfigured source): nothing stored."""

    def __init__(self, status: int, reason: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = dict(headers or {})  # for the answer (a 401's WWW-Authenticate)


@dataclass
class Intake:
    """What one delivery did."""

    source: str
    events: int = 0
    duplicates: int = 0
    remittances: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # event ids stored as failed, with why
    ignored: list[str] = field(default_factory=list)  # events stored that moved no cash, why
    sync_due: str | None = None  # a system to sync because it announced changes


def receive(
    store: Store,
    settings: Settings,
    source: str,
    raw: bytes,
    headers: Mapping[str, str],
    *,
    gocardless_client: GoCardlessClient | None = None,
) -> Intake:
    """Verify, store once, and turn one delivery into remittances or a due sync."""
    if source not in SOURCES:
        raise Rejected(404, f"unknown webhook source {source!r}")
    hooks = settings.webhooks
    lower = {k.lower(): v for k, v in headers.items()}
    if source == "stripe":
        secrets = [s.get_secret_value() for s in hooks.stripe_secrets]
        _require(secrets, source)
        if not stripe.verify(
            raw, lower.get("stripe-signature", ""), secrets, hooks.stripe_tolerance_seconds
        ):
            raise Rejected(400, "stripe: signature does not match or timestamp too old")
        body = _json(raw, source)
        return _processor(store, settings, source, [_stripe_unit(body, raw, settings)])
    if source == "gocardless":
        secret = _secret(hooks.gocardless_secret, source)
        if not gocardless.verify(raw, lower.get("webhook-signature", ""), secret):
            raise Rejected(498, "gocardless: signature does not match")  # "Invalid Token"
        body = _json(raw, source)
        events = body.get("events")
        if not isinstance(events, list):
            raise Rejected(400, "gocardless: the body has no events list")
        client = gocardless_client or _gocardless_client(hooks)
        units = _gocardless_units(events, client)
        return _processor(store, settings, source, units, client)
    if source == "adyen":
        keys = [k.get_secret_value() for k in hooks.adyen_hmac_key]
        _require(keys, source)
        user, password = hooks.adyen_username, hooks.adyen_password
        if (
            user is not None
            and password is not None
            and not adyen.verify_basic_auth(
                lower.get("authorization", ""), user.get_secret_value(), password.get_secret_value()
            )
        ):
            challenge = {"WWW-Authenticate": 'Basic realm="arsync webhooks"'}
            raise Rejected(401, "adyen: HTTP Basic credentials missing or wrong", challenge)
        body = _json(raw, source)  # Adyen signs each item inside the body
        try:
            entries = adyen.notification_entries(body)
        except adyen.NotificationShapeError as exc:
            raise Rejected(400, f"adyen: not a standard notification: {exc}") from None
        # an entry that is no item object is dropped like an item that does not verify: a
        # refusal of the whole batch would lose the verified items with it
        verified = [
            (i, item)
            for i, item in enumerate(entries)
            if item is not None and adyen.verify_item(item, keys)
        ]
        if not verified:
            raise Rejected(401, "adyen: no item's hmacSignature matches")
        intake = _processor(
            store, settings, source, _adyen_units(verified, hooks.adyen_auto_capture)
        )
        for index in sorted(set(range(len(entries))) - {i for i, _ in verified}):
            why = (
                "hmacSignature does not match"
                if entries[index] is not None
                else "no NotificationRequestItem object"
            )
            reason = f"adyen notificationItems[{index}]: {why}; dropped"
            log.warning("%s", reason)
            intake.failed.append(reason)
        return intake
    if source == "quickbooks":
        secret = _secret(hooks.quickbooks_verifier, source)
        if not qbo_hooks.verify(raw, headers, secret):
            raise Rejected(401, "quickbooks: intuit-signature does not match")
        return _change_notice(store, settings, source, raw)
    if source == "salesforce":
        if not hooks.salesforce_org_id:
            raise Rejected(503, "salesforce: no org id is configured (webhooks.salesforce_org_id)")
        if not sf_hooks.verify(raw, headers, hooks.salesforce_org_id):
            raise Rejected(401, "salesforce: the outbound message does not name the org")
        return _change_notice(store, settings, source, raw)
    secret = _secret(hooks.invoiced_secret, source)
    if not invoiced_hooks.verify(raw, headers, secret):
        raise Rejected(401, "invoiced: X-Invoiced-Signature does not match")
    return _change_notice(store, settings, source, raw)


def _require(values: list[str], source: str) -> None:
    """Refuse (503) a delivery when no secret is configured: a blank one (a variable set but
    empty) is none, since anybody can sign under it."""
    if not any(value.strip() for value in values):
        raise Rejected(503, f"{source}: no signing secret is configured (webhooks.{source}_*)")


def _secret(value: Any, source: str) -> str:
    """The configured secret, stripped (a newline pasted with it is no part of it); refused
    as :func:`_require` does when there is none."""
    secret: str = value.get_secret_value().strip() if value is not None else ""
    _require([secret], source)
    return secret


def _json(raw: bytes, source: str) -> dict[str, Any]:
    try:
        body = json.loads(raw, parse_float=Decimal)  # no float ever touches an amount
    except (ValueError, RecursionError):  # nested deeper than the parser goes: no event
        raise Rejected(400, f"{source}: the body is not JSON") from None
    if not isinstance(body, dict):
        raise Rejected(400, f"{source}: the body is not a JSON object")
    return body


# A webhook is answered within seconds or the sender gives up and delivers it again: the
# payment an event names is read with a short policy, and a failure answers 503 (retried later).
WEBHOOK_READ_POLICY = RetryPolicy(max_attempts=2, base_delay=0.2, max_delay=1.0, timeout=5.0)
# GoCardless waits 10 s for a 2xx: a delivery's payer reads (each payment's mandate and
# customer) stop 5 s after it came in, leaving the rest for its payments; a payer not read by
# then is left out of its cash (see ``connectors.processors.gocardless_events``)
GOCARDLESS_PAYER_BUDGET = 5.0


def _gocardless_client(hooks: WebhookSettings) -> GoCardlessClient:
    if hooks.gocardless_access_token is None:
        raise Rejected(503, "gocardless: webhooks.gocardless_access_token is not configured")
    return GoCardlessClient(
        GoCardlessConfig(
            access_token=hooks.gocardless_access_token, base_url=hooks.gocardless_base_url
        ),
        policy=WEBHOOK_READ_POLICY,
        payer_budget=GOCARDLESS_PAYER_BUDGET,
    )


@dataclass
class _Unit:
    """One event of a delivery: stored once under its id, parsed on its own."""

    event_id: str
    event_type: str
    payload: dict[str, Any]
    parse: Callable[[], list[ProcessorRecord]]
    known: bool = True  # a type arsync reads (else it is stored, noted and left alone)
    unread: str | None = None  # why arsync leaves this event of a type it reads alone


def _stripe_unit(body: dict[str, Any], raw: bytes, settings: Settings) -> _Unit:
    unread: str | None = None
    if other_mode_connected_event(body, settings.webhooks.stripe_test_mode):
        unread = (
            "not read: a connected account's live event at a test-mode endpoint (Stripe sends "
            "a Connect endpoint both modes); live money is not for these books"
            if settings.webhooks.stripe_test_mode
            else "not read: a connected account's test-mode event (Stripe sends them to live "
            "Connect endpoints too); no real money moved"
        )

    def parse() -> list[ProcessorRecord]:
        record = None if unread else parse_event(body)
        return [record] if record is not None else []

    event_id = str(body.get("id") or "") or _digest(raw)
    event_type = str(body.get("type") or "")
    return _Unit(event_id, event_type, body, parse, event_type in STRIPE_KINDS, unread)


def _adyen_units(verified: list[tuple[int, dict[str, Any]]], auto_capture: bool) -> list[_Unit]:
    units: list[_Unit] = []
    for index, item in verified:

        def parse(item: dict[str, Any] = item, index: int = index) -> list[ProcessorRecord]:
            record = parse_adyen_item(item, index, auto_capture=auto_capture)
            return [record] if record is not None else []

        # Adyen's duplicate: same pspReference, eventCode and success ("true" however sent); a
        # re-capture after CAPTURE_FAILED repeats all three and is told apart by its reason
        code = str(item.get("eventCode") or "")
        success = str(item.get("success")).lower()
        recaptured = ":recaptured" if is_adyen_recapture(item) else ""
        event_id = f"{item.get('pspReference')}:{code}:{success}{recaptured}"
        known = code in ADYEN_READ_CODES
        sample = adyen_sample(item)
        unread = f"not read: {sample}" if sample else None
        units.append(_Unit(event_id[:255], code, item, parse, known, unread))
    return units


def _gocardless_units(events: list[Any], client: GoCardlessClient) -> list[_Unit]:
    """One unit per event, oldest first (a delivery does not list them in time order); each
    keeps its index in the delivery for its messages."""
    units: list[_Unit] = []
    for index in gc_chronological(events):
        sent = events[index]
        event = sent if isinstance(sent, dict) else {"value": sent}

        def parse(sent: Any = sent, index: int = index) -> list[ProcessorRecord]:
            record = parse_gocardless_event(sent, client, index)  # refuses a non-object
            return [record] if record is not None else []

        event_id = str(event.get("id") or "") or _digest(json.dumps(event, default=str).encode())
        event_type = f"{event.get('resource_type')}.{event.get('action')}"
        known = event.get("resource_type") == "payments" and event.get("action") in GC_ACTIONS
        units.append(_Unit(event_id[:255], event_type, event, parse, known))
    return units


def _digest(raw: bytes) -> str:
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _seen(session: Session, settings: Settings, source: str, event_id: str) -> bool:
    return (
        session.exec(
            select(WebhookEvent.id).where(
                col(WebhookEvent.tenant) == settings.tenant,
                col(WebhookEvent.source) == source,
                col(WebhookEvent.event_id) == event_id,
            )
        ).first()
        is not None
    )


# what a single event may fail with and be kept as failed: its data, not the system's state.
# A transient error (timeout, 5xx, 429) or a bad credential is raised instead: the delivery
# is answered 5xx, nothing is stored, and the processor delivers it again later.
EVENT_ERRORS = (ValueError, KeyError, TypeError, MappingError, NotFoundError, DataError)


def _processor(
    store: Store,
    settings: Settings,
    source: str,
    units: list[_Unit],
    client: GoCardlessClient | None = None,
) -> Intake:
    intake, waking = _once_more_on_conflict(
        source, lambda: _take_in(store, settings, source, units)
    )
    _join_waiting(store, settings, source, waking.invoices, intake)
    try:
        _settle(store, settings, source, waking, intake, client)
    except ApiError as exc:  # GoCardless: a payment could not be read again just now
        # the delivery's events are stored; it is answered 5xx so that the sender delivers it
        # again, and its events, duplicates then, settle what they left waiting
        log.warning("%s: events waiting for this delivery not taken in again: %s", source, exc)
        raise
    return intake


def _settle(
    store: Store,
    settings: Settings,
    source: str,
    waking: _Waking,
    intake: Intake,
    client: GoCardlessClient | None = None,
) -> None:
    """Take in again the events taking cash back or giving it back that wait for what the
    delivery committed (and the events waiting on this delivery's own), then those waiting for
    what those made, round after round, until a round makes nothing: a give-back waits for its
    take-back, which may itself have waited for the cash. Each round turns waiting events into
    processed ones (it goes on only when one made a remittance), so it ends."""
    cash, taken = waking.payments | waking.untaken, waking.taken_back | waking.ungiven
    while cash or taken:
        again = _join_taken_back(store, settings, source, cash, intake, client)
        taken |= again.taken_back
        again.add(_join_given_back(store, settings, source, taken, intake, client))
        cash, taken = again.payments, set()


def _unit_again(
    source: str, payload: dict[str, Any], settings: Settings, client: GoCardlessClient | None
) -> _Unit:
    """The unit of an event stored earlier, to take it in again."""
    if source == "adyen":
        [unit] = _adyen_units([(0, payload)], settings.webhooks.adyen_auto_capture)
    elif source == "gocardless":
        if client is None:
            raise ValueError("gocardless: an event is read again through the payments API")
        [unit] = _gocardless_units([payload], client)
    else:
        unit = _stripe_unit(payload, b"", settings)
    return unit


@dataclass
class _Waking:
    """What a delivery stored that events stored earlier may wait for, and what its own events
    wait for (see :func:`_join_waiting` and :func:`_settle`)."""

    invoices: set[str] = field(default_factory=set)  # invoices linked to their payment
    # payments given new cash: counted, collected again, or given back
    payments: set[str] = field(default_factory=set)
    # payments whose cash a reversal took back (a reinstatement may have come first)
    taken_back: set[str] = field(default_factory=set)
    # payments an event taking cash back found none in force of, and those an event giving
    # it back found nothing taken of: the event waits, and looks again after its own commit
    # (a concurrent delivery may be storing what it waits for)
    untaken: set[str] = field(default_factory=set)
    ungiven: set[str] = field(default_factory=set)
    # payments a GoCardless failure took nothing of, the cash in force being of a later
    # collection than the one that failed (for the event's note; nothing waits for them)
    later_collected: set[str] = field(default_factory=set)

    def add(self, other: _Waking) -> None:
        self.invoices |= other.invoices
        self.payments |= other.payments
        self.taken_back |= other.taken_back
        self.untaken |= other.untaken
        self.ungiven |= other.ungiven
        self.later_collected |= other.later_collected


def _once_more_on_conflict(source: str, attempt: Callable[[], T]) -> T:
    """Run a delivery's transaction, and once more when a concurrent delivery committed a row
    it also stores (the database refused the second: by then the first has committed, so the
    second run finds it)."""
    try:
        return attempt()
    except IntegrityError:
        log.info("%s delivery: a concurrent delivery stored the same rows; taken in again", source)
    try:
        return attempt()
    except IntegrityError:
        raise Rejected(
            503, f"{source}: concurrent deliveries stored the same rows; deliver it again later"
        ) from None


def _take_in(
    store: Store, settings: Settings, source: str, units: list[_Unit]
) -> tuple[Intake, _Waking]:
    """Store each new event and turn it into work, in one transaction; with what events stored
    earlier may wait for (see :class:`_Waking`)."""
    intake = Intake(source)
    waking = _Waking()
    with store.session() as session:
        for unit in units:
            if _seen(session, settings, source, unit.event_id):
                intake.duplicates += 1
                # a delivery sent again (answered 5xx while settling) settles what it left
                named = _payments_named(source, unit.payload)
                waking.payments |= named
                waking.taken_back |= named
                continue
            payload, unstorable = _storable(redact(unit.payload), source, unit.event_id)
            event = WebhookEvent(
                tenant=settings.tenant,
                source=source,
                event_id=unit.event_id,
                event_type=unit.event_type,  # cut by its column
                payload=payload,
            )
            intake.events += 1
            if unstorable is not None:  # kept as failed, not read: answered 2xx, never 500
                event.status, event.error = "failed", unstorable
                event.processed_at = utcnow()
                session.add(event)
                session.flush()
                intake.failed.append(unstorable)
                log.warning("%s", unstorable)
                continue
            waking.add(_take(session, settings, unit, event, intake))
    return intake, waking


# how much of a payload the database cannot store as JSON is kept, as text
UNSTORABLE_TEXT_LIMIT = 16384


def _storable(payload: Any, source: str, event_id: str) -> tuple[Any, str | None]:
    """The payload to store, and None; or, when the database's JSON encoder refuses it (an
    integer beyond 64 bits, nesting deeper than it goes), a stand-in keeping its text and the
    one-line reason the event is failed with (a 500 would have the sender deliver it again
    and again)."""
    try:
        json_dumps(payload)
    except TypeError as exc:  # orjson's JSONEncodeError
        reason = f"{source} event {event_id}: the payload cannot be stored as JSON: {exc}; not read"
        text = json.dumps(payload, default=str)[:UNSTORABLE_TEXT_LIMIT]
        return {"unstorable": str(exc), "text": text}, reason
    return payload, None


# where an event's payload names its payment, read without any API
_PAYMENT_PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    "gocardless": (("links", "payment"),),
    "adyen": (("originalReference",), ("pspReference",)),
    "stripe": (
        ("data", "object", "payment_intent"),
        ("data", "object", "charge"),
        ("data", "object", "id"),
        # an InvoicePayment (API 2025-03-31.basil and later) names its payment here
        ("data", "object", "payment", "payment_intent"),
        ("data", "object", "payment", "charge"),
    ),
}


def _payments_named(source: str, payload: Any) -> set[str]:
    """The payments an event's payload names (see ``_PAYMENT_PATHS``)."""
    found: set[str] = set()
    for path in _PAYMENT_PATHS.get(source, ()):
        value = payload
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str) and value:
            found.add(value)
    return found


def _take(
    session: Session, settings: Settings, unit: _Unit, event: WebhookEvent, intake: Intake
) -> _Waking:
    """Turn one event into work and keep it as processed, ignored (with a note saying why) or
    failed (with the error); with what events stored earlier may wait for (see
    :class:`_Waking`): the invoices its records name, the payments it gave new cash, those it
    took cash back from, and those it found nothing of to take or give back."""
    try:
        # everything that can fail runs before this event writes anything
        records = unit.parse()
        # an event stored as ignored before (it waited) is taken in again: it came before
        # what it waited for
        waited = event.status == "ignored"
        cash = [  # refunds stay events
            (
                r,
                _collected_again(session, settings.tenant, r, waited)
                or remittance_from_record(r, settings.tenant),
            )
            for r in records
            if r.kind == "payment"
        ]
        cash += _invoice_references(session, settings.tenant, records)
        texts = {m.source_key: r.narrative for r, m in cash}
        waiting = _Waking()
        backs = _reversals(session, settings, records, waiting, waited)
        remittances = [m for _, m in cash] + backs
    except EVENT_ERRORS as exc:
        event.status, event.error = "failed", f"{event.source} event {unit.event_id}: {exc}"
        event.processed_at = utcnow()
        session.add(event)
        session.flush()
        intake.failed.append(event.error)
        log.warning("%s", event.error)
        return _Waking()
    session.add(event)
    made = _remittances(session, settings, remittances, texts)
    waking = _Waking(invoices={r.invoice_id for r in records if r.invoice_id})
    for record, remittance in cash:
        if record.kind == "payment" and remittance.id in made:  # stored now: new cash
            waking.payments |= {remittance.bank_reference or "", remittance.end_to_end_id or ""}
    event.status, event.note = "processed", None
    if not made:  # the delivery is answered 2xx; the note says why nothing came of it
        event.status = "ignored"
        event.note = _cash_not_counted(session, settings.tenant, remittances) or _ignored_note(
            unit, records, remittances, waiting.later_collected
        )
        intake.ignored.append(f"{event.source} event {unit.event_id}: {event.note}")
        log.info("%s", intake.ignored[-1])
    for back in backs:  # a reversal takes cash back; a reinstatement gives new cash
        if back.id in made:
            found = waking.taken_back if back.reverses else waking.payments
            found.add(back.bank_reference or "")
    waking.untaken, waking.ungiven = waiting.untaken, waiting.ungiven
    event.processed_at = utcnow()
    session.flush()
    intake.remittances.extend(m for m in dict.fromkeys(made) if m not in intake.remittances)
    waking.payments.discard("")
    waking.taken_back.discard("")
    return waking


def _invoice_references(
    session: Session, tenant: str, records: list[ProcessorRecord]
) -> list[tuple[ProcessorRecord, Remittance]]:
    """The references of an invoice paid without naming its payment, for the remittance of
    each payment that paid it (none yet: the event waits, see :func:`_join_waiting`)."""
    return [
        (record, references_for(record, paid, tenant))
        for record in records
        if record.kind == "references"
        for paid in _paid_by(session, tenant, record)
    ]


def _paid_by(session: Session, tenant: str, record: ProcessorRecord) -> list[Remittance]:
    """The cash whose structured references hold ``record.invoice_id`` (searched in the JSON
    list itself, then checked again here)."""
    invoice = (record.invoice_id or "")[:128]
    if not invoice:
        return []
    found = session.exec(
        select(Remittance).where(
            col(Remittance.tenant) == tenant,
            col(Remittance.source) == record.processor,
            col(Remittance.amount_minor) > 0,
            _holds_ref(session, invoice),
        )
    ).all()
    return [m for m in found if any(r.get("ref") == invoice for r in m.structured_refs)]


def _holds_ref(session: Session, ref: str) -> ColumnElement[bool]:
    """Whether a remittance's structured references (its JSON list) hold one whose ``ref`` is
    ``ref``: read from the list itself, never from the free text, which is prose."""
    refs = col(Remittance.structured_refs)
    if session.get_bind().dialect.name == "postgresql":
        return cast(refs, JSONB).contains([{"ref": ref}])
    each = func.json_each(refs).table_valued("value")  # SQLite
    return exists(
        select(literal(1)).select_from(each).where(func.json_extract(each.c.value, "$.ref") == ref)
    )


def _waiting_note(invoice: str) -> str:
    """For the person reading the stored event; it is never searched (see _join_waiting)."""
    return f"moved no cash itself: its references wait for the payment that paid {invoice}"


def _join_waiting(
    store: Store, settings: Settings, source: str, invoices: set[str], intake: Intake
) -> None:
    """Take in again the invoice events that wait for the payment of one of ``invoices``, now
    that the delivery naming them has committed; after the commit, so that of an invoice event
    and its payment's link delivered concurrently, the later to commit finds the other."""
    if source != "stripe" or not invoices:  # only Stripe's invoice events wait
        return
    with store.session() as session:
        # found by what they are, an ignored invoice event of one of the invoices (the
        # invoice's id is the event's own object id), not by the words of their note
        waiting = _ignored_events(
            session,
            settings.tenant,
            source,
            STRIPE_INVOICE_EVENTS,
            col(WebhookEvent.payload)[("data", "object", "id")].as_string().in_(sorted(invoices)),
        )
        again = Intake(source)
        for event in waiting:
            _take(session, settings, _stripe_unit(event.payload, b"", settings), event, again)
    _taken_in_again(intake, waiting, again)


def _taking_back(
    source: str, settings: Settings
) -> tuple[frozenset[str], tuple[tuple[str, ...], ...]]:
    """The events of ``source`` that take a payment's cash back and may come before it, and
    where their payload names the payment."""
    if source == "adyen":
        return adyen_taking_back(settings.webhooks.adyen_auto_capture), (("originalReference",),)
    if source == "gocardless":
        return GC_TAKING_BACK, (("links", "payment"),)
    if source == "stripe":
        return STRIPE_TAKING_BACK, (
            ("data", "object", "payment_intent"),
            ("data", "object", "charge"),
        )
    return frozenset(), ()


def _join_taken_back(
    store: Store,
    settings: Settings,
    source: str,
    payments: set[str],
    intake: Intake,
    client: GoCardlessClient | None = None,
) -> _Waking:
    """Take in again the events that take a payment's cash back (Adyen: a cancelled
    authorisation, a failed capture, a chargeback; GoCardless: a chargeback, a failure) stored
    before that cash was counted, now that a delivery counting it, or naming it, has committed.
    Neither delivers in order: a cancellation that comes before the authorisation it cancels
    takes it back once it comes, as it would have the other way round, and the authorisation
    is never left as cash. After the commit, so that of the two delivered concurrently the
    later to commit finds the other. An event that found the cash all taken back waits too,
    for cash given back (a second chargeback come before the first's reversal). With what
    the events taken in again made (see :func:`_settle`)."""
    event_types, paths = _taking_back(source, settings)
    if not event_types or not payments:
        return _Waking()
    with store.session() as session:
        counted = sorted(p for p in payments if _counted(session, settings.tenant, source, p))
        if not counted:
            return _Waking()
        naming = or_(*(col(WebhookEvent.payload)[p].as_string().in_(counted) for p in paths))
        waiting = _ignored_events(session, settings.tenant, source, event_types, naming)
        # oldest first: a second cancellation finds the cash gone
        waking = _take_again(session, settings, source, waiting, intake, client)
    return waking


# the events that give a payment's cash back, and where their payload names the payment
GIVING_BACK: dict[str, tuple[frozenset[str], tuple[tuple[str, ...], ...]]] = {
    "adyen": (ADYEN_GIVING_BACK, (("originalReference",),)),
    "stripe": (
        STRIPE_GIVING_BACK,
        (("data", "object", "payment_intent"), ("data", "object", "charge")),
    ),
    # and a GoCardless collection counted as one announced again, delivered before the late
    # failure that took back the collection before it (see :func:`_collected_again`)
    "gocardless": (GC_GIVING_BACK | GC_COLLECTING_AGAIN, (("links", "payment"),)),
}


def _join_given_back(
    store: Store,
    settings: Settings,
    source: str,
    payments: set[str],
    intake: Intake,
    client: GoCardlessClient | None = None,
) -> _Waking:
    """Take in again the events that give a payment's cash back (a dispute won: Adyen
    ``CHARGEBACK_REVERSED``, Stripe ``charge.dispute.funds_reinstated``, GoCardless
    ``chargeback_cancelled``) stored as ignored because nothing had been taken back yet, now
    that a delivery taking that cash back has committed. No processor delivers in order: a
    reversed chargeback that comes before the chargeback then gives the cash back as it would
    have the other way round. With what the events taken in again made (see
    :func:`_settle`)."""
    if source not in GIVING_BACK or not payments:
        return _Waking()
    event_types, paths = GIVING_BACK[source]
    naming = or_(
        *(col(WebhookEvent.payload)[path].as_string().in_(sorted(payments)) for path in paths)
    )
    with store.session() as session:
        waiting = _ignored_events(session, settings.tenant, source, event_types, naming)
        waking = _take_again(session, settings, source, waiting, intake, client)
    return waking


def _take_again(
    session: Session,
    settings: Settings,
    source: str,
    waiting: Sequence[WebhookEvent],
    intake: Intake,
    client: GoCardlessClient | None,
) -> _Waking:
    """Take in again each of ``waiting`` still ignored once this transaction holds it (another
    delivery may have taken it in since it was read: SQLite has no row locks), folding into
    ``intake`` what they made; with what they made that other events may wait for (new cash,
    cash taken back), never what they still wait for themselves."""
    again, made = Intake(source), _Waking()
    for event in waiting:
        if not _claimed(session, event):
            continue
        unit = _unit_again(source, event.payload, settings, client)
        woken = _take(session, settings, unit, event, again)
        made.payments |= woken.payments
        made.taken_back |= woken.taken_back
    _taken_in_again(intake, waiting, again)
    return made


def _claimed(session: Session, event: WebhookEvent) -> bool:
    """Whether ``event`` is still stored as ignored, now that this transaction has written to
    it (which waits for a concurrent delivery's write to commit: its row lock on PostgreSQL,
    the database's write lock on SQLite)."""
    touched = session.execute(
        update(WebhookEvent)
        .where(col(WebhookEvent.id) == event.id, col(WebhookEvent.status) == "ignored")
        .values(processed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(touched, "rowcount", 0) == 1)


def _ignored_events(
    session: Session, tenant: str, source: str, event_types: Collection[str], naming: Any
) -> Sequence[WebhookEvent]:
    """Events of ``source`` stored as ignored, of ``event_types``, that ``naming`` (a condition
    on the payload) picks, oldest first and locked: taken in by one delivery, another waits,
    then skips them."""
    return session.exec(
        select(WebhookEvent)
        .where(
            col(WebhookEvent.tenant) == tenant,
            col(WebhookEvent.source) == source,
            col(WebhookEvent.status) == "ignored",
            col(WebhookEvent.event_type).in_(sorted(event_types)),
            naming,
        )
        .order_by(col(WebhookEvent.received_at), col(WebhookEvent.event_id))
        .with_for_update()
    ).all()


def _taken_in_again(intake: Intake, waiting: Sequence[WebhookEvent], again: Intake) -> None:
    """Fold into ``intake`` what events taken in again made: their remittances, and no line
    saying they were ignored when they now made one."""
    joined = tuple(f"{e.source} event {e.event_id}: " for e in waiting if e.status == "processed")
    intake.ignored = [line for line in intake.ignored if not line.startswith(joined)]
    intake.remittances.extend(m for m in again.remittances if m not in intake.remittances)


def _cash_not_counted(session: Session, tenant: str, remittances: list[Remittance]) -> str:
    """The note of a Stripe event naming more cash for a payment than is stored and decided
    (see :func:`_more_cash`): a person reconciles the difference; "" when there is none."""
    for remittance in remittances:
        stored = _stored(session, tenant, remittance.source_key)
        if (
            stored is not None
            and stored.source == "stripe"
            and not stored.reverses
            and stored.currency == remittance.currency
            and 0 < stored.amount_minor < remittance.amount_minor
        ):
            return (
                f"names {remittance.amount} of cash for payment {remittance.source_key}; "
                f"{stored.amount} were stored and are decided (remittance {stored.id}), so the "
                "difference is not counted: reconcile it by hand"
            )
    return ""


def _ignored_note(
    unit: _Unit,
    records: list[ProcessorRecord],
    remittances: list[Remittance],
    later_collected: Collection[str] = (),
) -> str:
    """Why an event made no remittance, for the person reading the stored event
    (``later_collected``: the payments whose cash in force a failure is older than)."""
    if not unit.known:
        return f"not read: arsync takes no cash from {unit.event_type or 'an event with no type'}"
    if unit.unread:
        return unit.unread
    waiting = [r.invoice_id for r in records if r.kind == "references" and r.invoice_id]
    if waiting and not remittances:
        return _waiting_note(waiting[0])
    if remittances:
        return "nothing new: its cash and references are counted already"
    if any(r.kind == "refund" for r in records):
        return "a refund: kept as an event for the report, not a remittance"
    giving = [r.payment_id for r in records if r.kind in REINSTATING]
    if giving:
        return (
            f"gave nothing back: nothing was taken back from payment {giving[0]}; it gives the "
            "cash back if a chargeback of that payment comes"
        )
    earlier = [
        r.payment_id for r in records if r.kind in REVERSING and r.payment_id in later_collected
    ]
    if earlier:
        return (
            f"took nothing back: it belonged to an earlier collection of payment {earlier[0]} "
            "than the one whose cash is counted (it happened before the event that brought "
            "that cash)"
        )
    taking = [r.payment_id for r in records if r.kind in REVERSING]
    if taking:
        return (
            f"took nothing back: no cash of payment {taking[0]} is counted and not yet taken "
            "back; it takes it back if that cash comes"
        )
    if records:
        return "no cash counted for its payment to take or give back"
    return "read: it moved no cash (not captured, not paid, or not withdrawn yet)"


def _reversals(
    session: Session,
    settings: Settings,
    records: list[ProcessorRecord],
    waiting: _Waking | None = None,
    waited: bool = False,
) -> list[Remittance]:
    """What chargebacks, late failures and reinstatements do to payments already counted: a
    reversal takes the payment's cash back, a reinstatement gives it back (new cash, with the
    payment's references). A payment never counted as cash (it failed before it was
    confirmed) has nothing to take or give back, and a GoCardless failure takes nothing of
    cash a later collection brought (see :func:`_of_an_earlier_collection`; ``waited``: the
    records' event is taken in again, it came before that cash). The ids of the payments a
    reversal found no cash in force of are added to ``waiting.untaken`` (its cash, or a
    reinstatement, may come later), those a reinstatement found nothing taken of to
    ``waiting.ungiven``, those a failure is older than the cash of to
    ``waiting.later_collected``."""
    made = []
    waiting = waiting if waiting is not None else _Waking()
    for record in records:
        if record.kind not in REVERSING and record.kind not in REINSTATING:
            continue
        waits = waiting.untaken if record.kind in REVERSING else waiting.ungiven
        original = _counted_payment(session, settings.tenant, record)
        if original is None:
            log.info("%s %s: no cash counted for it", record.event_type, record.payment_id)
            waits.add(record.payment_id)
            continue
        chain = _Chain.of(session, settings.tenant, record, original)
        if record.kind in REVERSING:
            cash = chain.in_force()
            if cash is None:
                log.info(
                    "%s %s: its cash was already taken back", record.event_type, record.payment_id
                )
                waits.add(record.payment_id)
            elif _of_an_earlier_collection(record, chain, cash, waited):
                log.info(
                    "%s %s: it failed before the collection counted now; nothing taken back",
                    record.event_type,
                    record.payment_id,
                )
                waiting.later_collected.add(record.payment_id)
            else:
                made.append(reversal_from_record(record, cash, settings.tenant))
        elif chain.taken_back():
            made.append(reinstatement_from_record(record, original, settings.tenant))
        else:
            log.info("%s %s: nothing was taken back", record.event_type, record.payment_id)
            waits.add(record.payment_id)
    return made


def _of_an_earlier_collection(
    record: ProcessorRecord, chain: _Chain, cash: Remittance, waited: bool
) -> bool:
    """Whether a GoCardless failure is of an earlier collection than ``cash``, the payment's
    cash in force: it happened before the ``confirmed`` that brought that collection's cash
    (:func:`_collection_of`), as a failure resubmitted and then collected did, so it takes none
    of it, in whatever order the two were delivered. When nothing tells which happened first
    (a time unreadable, or both the same), the order they came in does: a failure taken in
    again (``waited``) came before the cash and takes nothing, one coming after takes it
    back."""
    if record.processor != "gocardless" or record.kind != "failure":
        return False
    brought = _raw_event(_collection_of(chain, cash))
    before = gc_happened_before(record.raw.get("event"), brought)
    return waited if before is None else before


def _collection_of(chain: _Chain, cash: Remittance) -> Remittance:
    """The cash of ``chain`` a ``confirmed`` brought that ``cash`` is of: ``cash`` itself when
    a confirmation brought it; cash a cancelled chargeback gave back is of the latest
    collection that happened before that cancellation (when no time tells, the latest counted
    before it), never the cancellation itself."""
    if gc_collects(_raw_event(cash)):
        return cash
    given = _raw_event(cash)
    place = next((i for i, c in enumerate(chain.cash) if c.source_key == cash.source_key), 0)
    collections = [c for c in chain.cash if gc_collects(_raw_event(c))]
    before = [c for c in collections if gc_happened_before(_raw_event(c), given)]
    if before:
        latest = before[0]
        for collection in before[1:]:
            if gc_happened_before(_raw_event(latest), _raw_event(collection)):
                latest = collection
        return latest
    counted = [c for c in chain.cash[:place] if gc_collects(_raw_event(c))]
    return counted[-1] if counted else chain.cash[0]


def _raw_event(remittance: Remittance) -> Any:
    """The processor's event a remittance was made of, as its ``raw`` keeps it (None when it
    keeps none)."""
    try:
        return json.loads(remittance.raw or "{}").get("event")
    except (ValueError, AttributeError):
        return None


@dataclass
class _Chain:
    """A counted payment's cash: the payment, then the cash reinstatements gave back (oldest
    first), and what reversals took back from each (negative minor units, by source key)."""

    cash: list[Remittance]
    taken: dict[str, int]

    @classmethod
    def of(
        cls, session: Session, tenant: str, record: ProcessorRecord, original: Remittance
    ) -> _Chain:
        names = {record.payment_id[:128], original.bank_reference or record.payment_id[:128]}
        given_back = session.exec(
            select(Remittance)
            .where(
                col(Remittance.tenant) == tenant,
                col(Remittance.source) == record.processor,
                col(Remittance.source_key).startswith(f"{record.processor}:reinstatement:"),
                col(Remittance.bank_reference).in_(names),
                col(Remittance.amount_minor) > 0,
            )
            .order_by(col(Remittance.created_at), col(Remittance.source_key))
        ).all()
        cash = [original, *given_back]
        taken: dict[str, int] = {}
        for back in session.exec(
            select(Remittance).where(
                col(Remittance.tenant) == tenant,
                col(Remittance.reverses).in_([c.source_key for c in cash]),
                col(Remittance.amount_minor) < 0,
            )
        ):
            key = str(back.reverses)
            taken[key] = taken.get(key, 0) + back.amount_minor
        return cls(cash, taken)

    def in_force(self) -> Remittance | None:
        """The latest of the payment's cash not (wholly) taken back."""
        for cash in reversed(self.cash):
            if cash.amount_minor + self.taken.get(cash.source_key, 0) > 0:
                return cash
        return None

    def taken_back(self) -> bool:
        """Whether reversals took more than reinstatements gave back."""
        given = sum(c.amount_minor for c in self.cash[1:])
        return sum(self.taken.values()) + given < 0


def _collected_again(
    session: Session, tenant: str, record: ProcessorRecord, waited: bool = False
) -> Remittance | None:
    """New cash when a payment whose cash was all taken back is collected again (GoCardless:
    a failed payment resubmitted, then confirmed): the first confirmation's remittance exists,
    so without this the second collection would be lost in it. A collection that happened
    before an event that took the cash back is that cash announced again: nothing new. One
    that found the cash in force counted nothing (the same collection announced again) and is
    taken in again once that cash is taken back (``waited``): new cash when it happened after
    the events that took it back (it came before a late failure of the collection before
    it)."""
    if not record.collected_again_when_taken_back:
        return None
    original = _counted_payment(session, tenant, record)
    if original is None:
        return None
    chain = _Chain.of(session, tenant, record, original)
    if chain.in_force() is not None:
        return None  # the same collection announced again: nothing new
    if not _after_taken_back(session, tenant, record, chain, waited):
        return None
    return reinstatement_from_record(replace(record, kind="reinstatement"), original, tenant)


def _after_taken_back(
    session: Session, tenant: str, record: ProcessorRecord, chain: _Chain, waited: bool
) -> bool:
    """Whether none of ``chain``'s cash was left when ``record``'s event happened: the cash
    brought before it (or at the same moment) all taken back before it. Only take-backs of
    cash that existed before it count: one that happened after it may be of the collection it
    brings (the second collection's chargeback), and cash brought after it (a chargeback
    cancelled later, a collection counted first but confirmed later) was not there to be
    announced again. Cash whose time is unreadable was there; a take-back whose time is
    unreadable or the same is before it unless the event was taken in again (``waited``: it
    came before)."""
    backs = session.exec(
        select(Remittance).where(
            col(Remittance.tenant) == tenant,
            col(Remittance.reverses).in_([c.source_key for c in chain.cash]),
            col(Remittance.amount_minor) < 0,
        )
    ).all()
    event = record.raw.get("event")
    left = 0
    for cash in chain.cash:
        if gc_happened_before(event, _raw_event(cash)) is not True:
            left += cash.amount_minor
    for back in backs:
        before = gc_happened_before(_raw_event(back), event)
        if before or (before is None and not waited):
            left += back.amount_minor
    return left <= 0


def _counted_payment(session: Session, tenant: str, record: ProcessorRecord) -> Remittance | None:
    """The payment's remittance, or the one it is the capture of (Adyen names the
    authorisation in a chargeback, and a manual capture is its own payment)."""
    return _counted(session, tenant, record.processor, record.payment_id)


def _counted(session: Session, tenant: str, processor: str, payment_id: str) -> Remittance | None:
    """The remittance of the processor's payment ``payment_id`` (see :func:`_counted_payment`)."""
    return (
        _stored(session, tenant, f"{processor}:{payment_id}"[:128])
        or session.exec(
            select(Remittance).where(
                col(Remittance.tenant) == tenant,
                col(Remittance.source) == processor,
                col(Remittance.end_to_end_id) == payment_id[:128],
                col(Remittance.amount_minor) > 0,
            )
        ).first()
    )


def _stored(session: Session, tenant: str, source_key: str) -> Remittance | None:
    return session.exec(
        select(Remittance).where(
            col(Remittance.tenant) == tenant, col(Remittance.source_key) == source_key
        )
    ).first()


def _remittances(
    session: Session,
    settings: Settings,
    remittances: list[Remittance],
    texts: Mapping[str, Sequence[str]],
) -> list[str]:
    """Store new remittances; one already stored (the same payment announced by another event)
    gains the invoice references this event adds while the reconciler may still decide it:
    when it is new, or when the reconciler could only suggest or give up on it (that decision
    is superseded and the payment decided again with the references). A remittance not decided
    yet also gains the event's narrative (``texts``, by source key). The ids of the remittances
    stored or given references (the reconciler's work) come back. A payment stored without a
    payer's name (a Stripe PaymentIntent of a newer API version) takes the one a later event of
    the same payment names (its charge's billing details), and one without a payer's account
    the account a later event names (the Stripe Customer), while it is not decided yet."""
    made: list[str] = []
    for remittance in remittances:
        existing = _stored(session, settings.tenant, remittance.source_key)
        if existing is None:
            session.add(remittance)
            session.flush()
            made.append(remittance.id)
            continue
        known = {str(r.get("ref")) for r in existing.structured_refs}
        extra = [r for r in remittance.structured_refs if str(r.get("ref")) not in known]
        narrative = texts.get(remittance.source_key, ())
        undecided = existing.status == RemittanceStatus.NEW
        # a PaymentIntent of API versions since 2022-11-15 names no payer; its charge does
        named = undecided and not existing.payer_name and bool(remittance.payer_name)
        if named:
            existing.payer_name = remittance.payer_name
        # its Stripe Customer, when the invoice's event came first without one
        accounted = undecided and not existing.payer_account and bool(remittance.payer_account)
        if accounted:
            existing.payer_account = remittance.payer_account
        grown = _more_cash(session, settings, existing, remittance)
        if grown:
            undecided = existing.status == RemittanceStatus.NEW
            made.extend(grown)
        if not extra:
            if undecided and (narrative or named or accounted):
                existing.free_text = with_words(existing.free_text, narrative)
                session.add(existing)
                session.flush()
            continue
        if existing.status != RemittanceStatus.NEW:
            decided = reconsiderable(session, settings.tenant, [existing.id])
            if not decided:
                continue  # applied, or in a person's hands: the references come too late
            supersede(session, decided)
            session.refresh(existing)
            log.info(
                "remittance %s decided again: a later event names %s",
                existing.id,
                ", ".join(str(r["ref"]) for r in extra),
            )
        existing.structured_refs = [*existing.structured_refs, *extra]
        words = [str(r["ref"]) for r in extra] + list(narrative)
        existing.free_text = with_words(existing.free_text, words)
        session.add(existing)
        session.flush()
        made.append(existing.id)
    return made


def _more_cash(
    session: Session, settings: Settings, existing: Remittance, later: Remittance
) -> list[str]:
    """Whether a later Stripe event of the same payment names more cash than was stored, which
    then becomes the payment's cash: an ``invoice_payment.paid`` names one invoice's share of
    a PaymentIntent (one PaymentIntent may pay several invoices, or more than the invoice), so
    stored first it holds less than the ``payment_intent.succeeded`` that follows. Other
    processors' events of one payment name its whole cash (an Adyen capture may be partial:
    never grown to its authorisation).

    The payment and the reversals standing against it (a dispute, a refund: decided against
    the smaller amount) are decided again, as if the events had come in order; when the
    reconciler may not take back one of those decisions (cash applied, a person's decision),
    nothing grows and a warning says so. Returns the remittances to decide: none when nothing
    grew.

    A reconcile takes no notice of a webhook: it may decide the payment after it was read
    here. The cash grows only while the payment is still undecided with the amount read (the
    count of rows changed says whether it did; on PostgreSQL a row a reconcile is writing is
    waited for and read again once that commits); else it is read again and judged as it is
    now. A reconcile's own write is guarded the same way (:meth:`reconciler.apply.Writes.flush`),
    so of the two the later sees the other."""
    for _ in range(_GROW_TRIES):
        grown = _grown(session, settings, existing, later)
        if grown is not None:
            return grown
        session.refresh(existing)  # decided (or grown) meanwhile: judged as it is now
    log.warning(
        "remittance %s: a later event names %s of cash, %s were stored and kept changing "
        "while read: not grown",
        existing.id,
        later.amount_minor,
        existing.amount_minor,
    )
    return []


_GROW_TRIES = 3
_REMITTANCE = Remittance.__table__  # type: ignore[attr-defined]


def _grown(
    session: Session, settings: Settings, existing: Remittance, later: Remittance
) -> list[str] | None:
    """One try of :func:`_more_cash`: None when the payment changed since it was read."""
    if (
        existing.source != "stripe"
        or later.amount_minor <= existing.amount_minor
        or existing.amount_minor <= 0
        or later.currency != existing.currency
        or existing.reverses
    ):
        return []
    was = existing.amount_minor
    reversals = session.exec(
        select(Remittance)
        .where(
            col(Remittance.tenant) == settings.tenant,
            col(Remittance.reverses) == existing.source_key,
        )
        .execution_options(populate_existing=True)  # their status now, on a second try
    ).all()
    decided = [r.id for r in (existing, *reversals) if r.status != RemittanceStatus.NEW]
    back = reconsiderable(session, settings.tenant, decided)
    if set(back) != set(decided):
        log.warning(
            "remittance %s: a later event names %s of cash, %s were stored and are decided",
            existing.id,
            later.amount_minor,
            existing.amount_minor,
        )
        return []
    supersede(session, back)
    for remittance in (existing, *reversals):
        session.refresh(remittance)
    grown = session.execute(
        update(_REMITTANCE)
        .where(
            _REMITTANCE.c.id == existing.id,
            _REMITTANCE.c.status == RemittanceStatus.NEW,
            _REMITTANCE.c.amount_minor == was,
        )
        .values(amount_minor=later.amount_minor)
    )
    if grown.rowcount != 1:  # type: ignore[attr-defined]
        return None
    set_committed_value(existing, "amount_minor", later.amount_minor)
    return [existing.id, *(r.id for r in reversals)]


@dataclass
class _Notice:
    """One change a system announced, stored once under its id."""

    event_id: str
    event_type: str
    payload: Any
    unread: str | None = None  # why arsync leaves it alone (stored as ignored)
    error: str | None = None  # why it could not be read (stored as failed)


def _notices(settings: Settings, source: str, raw: bytes, body: Any) -> list[_Notice]:
    """The changes of a verified QuickBooks, Invoiced or Salesforce delivery; a body that is
    not the system's notification is one failed notice under the body's hash."""
    try:
        if source == "salesforce":
            synced = _salesforce_objects(settings)
            return [
                _Notice(
                    change.event_id,
                    change.sobject,
                    {"sobject": change.sobject, "id": change.record_id},
                    None
                    if change.sobject in synced
                    else f"not read: arsync does not sync {change.sobject or 'that object'}",
                )
                for change in sf_hooks.parse(raw).events
            ]
        if source == "quickbooks":
            realm = (settings.quickbooks or {}).get("realm_id")
            delivery = qbo_hooks.read(raw)
            notices = [
                _Notice(
                    change.event_id,
                    change.event_type,
                    change.summary(),
                    qbo_hooks.unread(change, str(realm) if realm else None),
                )
                for change in delivery.events
            ]
            if delivery.problems:  # the items left out, kept as one failed notice
                payload = body if isinstance(body, dict) else {"items": body}
                error = "; ".join(delivery.problems)
                notices.append(_Notice(_digest(raw), "notification", payload, error=error))
            return notices
        event = invoiced_hooks.parse(raw)
        return [_Notice(event.id, event.type, body, invoiced_hooks.unread(event))]
    except (
        qbo_hooks.WebhookError,
        invoiced_hooks.WebhookError,
        sf_hooks.OutboundMessageError,
    ) as exc:
        payload = body if isinstance(body, dict) else {"items": body}
        named = f"salesforce outbound message: {exc}" if source == "salesforce" else str(exc)
        return [_Notice(_digest(raw), "notification", payload, error=named)]


def _salesforce_objects(settings: Settings) -> set[str]:
    """The SObjects the configured org's schema syncs (none when Salesforce is not set up)."""
    raw = settings.system_config("salesforce")
    if raw is None:
        return set()
    objects = raw.get("objects")
    try:
        schema = SalesforceSchema.model_validate(objects) if objects else load_preset()
    except ValidationError as exc:  # a wrong [salesforce.objects]: one line, as unconfigured
        reason = describe_validation_error(exc, "", section="salesforce.objects")
        raise Rejected(503, f"config error: {reason}") from None
    specs = [schema.account, schema.invoice, schema.credit_memo, schema.payment]
    names = {spec.sobject for spec in specs}
    if schema.credit_application is not None:
        names.add(schema.credit_application.sobject)
    return names


def _change_notice(store: Store, settings: Settings, source: str, raw: bytes) -> Intake:
    """Store each announced change once; a new one that arsync pulls (or one it cannot read)
    marks the system as due for a sync."""
    if source == "salesforce":
        body: Any = {"xml": raw[:4096].decode("utf-8", "replace")}  # a SOAP message
    else:
        try:
            body = json.loads(raw, parse_float=Decimal)
        except ValueError:
            raise Rejected(400, f"{source}: the body is not JSON") from None
    notices = _notices(settings, source, raw, body)
    return _once_more_on_conflict(source, lambda: _store_notices(store, settings, source, notices))


def _store_notices(store: Store, settings: Settings, source: str, notices: list[_Notice]) -> Intake:
    intake = Intake(source)
    due = False
    with store.session() as session:
        for notice in notices:
            event_id = notice.event_id[:255]
            if _seen(session, settings, source, event_id):
                intake.duplicates += 1
                continue
            payload, unstorable = _storable(redact(notice.payload), source, event_id)
            event = WebhookEvent(
                tenant=settings.tenant,
                source=source,
                event_id=event_id,
                event_type=notice.event_type[:128],
                payload=payload,
                status="processed",
                processed_at=utcnow(),
            )
            error = "; ".join(e for e in (notice.error, unstorable) if e is not None) or None
            if error is not None:
                event.status, event.error = "failed", error
                intake.failed.append(event.error)
                log.warning("%s", event.error)
            elif notice.unread is not None:
                event.status, event.note = "ignored", notice.unread
                intake.ignored.append(f"{source} event {event_id}: {notice.unread}")
                log.info("%s", intake.ignored[-1])
            due = due or event.status != "ignored"
            session.add(event)
            session.flush()
            intake.events += 1
    intake.sync_due = source if due else None
    return intake
