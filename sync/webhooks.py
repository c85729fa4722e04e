"""Webhook intake: verify the signature over the raw body, then store the event once, then
turn it into work — in that order, and in one transaction with what it creates.

* Stripe, Adyen, GoCardless: incoming payments become remittances (the reconciler's input);
  refunds and disputes are kept as events for the report, never applied.
* QuickBooks, Invoiced: a change notification marks that system as due for a sync; the sync
  itself pulls what changed, so a lost or repeated notification costs nothing.

A replayed delivery (same source and event id) finds its stored event and does nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from canonical.models import Remittance, WebhookEvent
from canonical.store import Store
from canonical.types import utcnow
from connectors.invoiced import webhooks as invoiced_hooks
from connectors.processors import adyen, gocardless, stripe
from connectors.processors.adyen_events import parse_notification
from connectors.processors.gocardless_events import (
    GoCardlessClient,
    GoCardlessConfig,
    parse_events,
)
from connectors.processors.records import ProcessorRecord
from connectors.processors.stripe_events import parse_event
from connectors.quickbooks import webhooks as qbo_hooks
from connectors.redact import redact
from mappings.base import MappingError
from mappings.processors import remittance_from_record
from sync.settings import Settings, WebhookSettings

log = logging.getLogger(__name__)
SOURCES = ("stripe", "adyen", "gocardless", "quickbooks", "invoiced")


class Rejected(Exception):
    """The delivery is not accepted (bad signature, unconfigured source): nothing stored."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class Intake:
    """What one delivery did."""

    source: str
    events: int = 0
    duplicates: int = 0
    remittances: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # event ids stored as failed, with why
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
        return _processor(store, settings, source, raw, lambda body: _stripe_records(body))
    if source == "gocardless":
        secret = _secret(hooks.gocardless_secret, source)
        if not gocardless.verify(raw, lower.get("webhook-signature", ""), secret):
            raise Rejected(498, "gocardless: signature does not match")
        client = gocardless_client or _gocardless_client(hooks)
        return _processor(store, settings, source, raw, lambda body: parse_events(body, client))
    if source == "adyen":
        key = _secret(hooks.adyen_hmac_key, source)
        body = _json(raw, source)  # Adyen signs each item inside the body
        if not adyen.verify_notification(body, key):
            raise Rejected(401, "adyen: an item's hmacSignature does not match")
        return _processor(
            store,
            settings,
            source,
            raw,
            lambda parsed: parse_notification(parsed, auto_capture=hooks.adyen_auto_capture),
        )
    if source == "quickbooks":
        secret = _secret(hooks.quickbooks_verifier, source)
        if not qbo_hooks.verify(raw, headers, secret):
            raise Rejected(401, "quickbooks: intuit-signature does not match")
        return _change_notice(store, settings, source, raw)
    secret = _secret(hooks.invoiced_secret, source)
    if not invoiced_hooks.verify(raw, headers, secret):
        raise Rejected(401, "invoiced: X-Invoiced-Signature does not match")
    return _change_notice(store, settings, source, raw)


def _require(values: list[str], source: str) -> None:
    if not values:
        raise Rejected(503, f"{source}: no signing secret is configured (webhooks.{source}_*)")


def _secret(value: Any, source: str) -> str:
    if value is None:
        raise Rejected(503, f"{source}: no signing secret is configured (webhooks.{source}_*)")
    secret: str = value.get_secret_value()
    return secret


def _json(raw: bytes, source: str) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except ValueError:
        raise Rejected(400, f"{source}: the body is not JSON") from None
    if not isinstance(body, dict):
        raise Rejected(400, f"{source}: the body is not a JSON object")
    return body


def _gocardless_client(hooks: WebhookSettings) -> GoCardlessClient:
    if hooks.gocardless_access_token is None:
        raise Rejected(503, "gocardless: webhooks.gocardless_access_token is not configured")
    return GoCardlessClient(
        GoCardlessConfig(
            access_token=hooks.gocardless_access_token, base_url=hooks.gocardless_base_url
        )
    )


def _stripe_records(body: dict[str, Any]) -> list[ProcessorRecord]:
    record = parse_event(body)
    return [record] if record is not None else []


def _event_key(source: str, body: Any, raw: bytes) -> tuple[str, str]:
    """(event id, type) of a delivery; a body-hash id where the source has none."""
    if isinstance(body, dict) and body.get("id") and source in ("stripe", "invoiced"):
        return str(body["id"]), str(body.get("type") or "")
    if source == "gocardless":
        ids = sorted(str(e.get("id")) for e in body.get("events") or [])
        return ",".join(ids)[:255] or _digest(raw), "events"
    if source == "adyen":
        items = [
            (e.get("NotificationRequestItem") or {}) for e in body.get("notificationItems") or []
        ]
        ids = [f"{i.get('pspReference')}:{i.get('eventCode')}:{i.get('success')}" for i in items]
        return ",".join(ids)[:255] or _digest(raw), "notification"
    return _digest(raw), "notification"


def _digest(raw: bytes) -> str:
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _store_event(
    session: Session, settings: Settings, source: str, body: Any, raw: bytes
) -> WebhookEvent | None:
    """The new event row, or None when this delivery was stored before."""
    event_id, event_type = _event_key(source, body, raw)
    existing = session.exec(
        select(WebhookEvent).where(
            col(WebhookEvent.tenant) == settings.tenant,
            col(WebhookEvent.source) == source,
            col(WebhookEvent.event_id) == event_id,
        )
    ).first()
    if existing is not None:
        return None
    event = WebhookEvent(
        tenant=settings.tenant,
        source=source,
        event_id=event_id,
        event_type=event_type[:128],
        payload=redact(body) if isinstance(body, dict) else {"items": redact(body)},
    )
    session.add(event)
    session.flush()
    return event


def _processor(store: Store, settings: Settings, source: str, raw: bytes, parse: Any) -> Intake:
    body = _json(raw, source)
    intake = Intake(source)
    try:
        with store.session() as session:
            event = _store_event(session, settings, source, body, raw)
            if event is None:
                intake.duplicates += 1
                return intake
            intake.events += 1
            try:
                records: list[ProcessorRecord] = parse(body)
                made = _remittances(session, settings, records)
            except (ValueError, KeyError, TypeError, MappingError) as exc:
                event.status, event.error = "failed", f"{source} event {event.event_id}: {exc}"
                intake.failed.append(event.error)
                log.warning("%s", event.error)
                return intake
            event.status = "processed" if made else "ignored"
            event.processed_at = utcnow()
            intake.remittances = made
    except IntegrityError:  # the same delivery stored by a concurrent request
        intake.duplicates += 1
    return intake


def _remittances(session: Session, settings: Settings, records: list[ProcessorRecord]) -> list[str]:
    made: list[str] = []
    for record in records:
        if record.kind != "payment":
            continue  # refunds and disputes stay events, for the report
        remittance = remittance_from_record(record, settings.tenant)
        exists = session.exec(
            select(Remittance.id).where(
                col(Remittance.tenant) == settings.tenant,
                col(Remittance.source_key) == remittance.source_key,
            )
        ).first()
        if exists is None:
            session.add(remittance)
            session.flush()
            made.append(remittance.id)
    return made


def _change_notice(store: Store, settings: Settings, source: str, raw: bytes) -> Intake:
    intake = Intake(source)
    try:
        body: Any = json.loads(raw)
    except ValueError:
        raise Rejected(400, f"{source}: the body is not JSON") from None
    try:
        with store.session() as session:
            event = _store_event(session, settings, source, body, raw)
            if event is None:
                intake.duplicates += 1
                return intake
            event.status = "processed"
            event.processed_at = utcnow()
            intake.events += 1
    except IntegrityError:
        intake.duplicates += 1
        return intake
    intake.sync_due = source
    return intake
