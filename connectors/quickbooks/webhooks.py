"""QuickBooks Online webhooks: signature check, then both body formats parsed to events.

``intuit-signature`` is base64(HMAC-SHA256(raw body, verifier token)). Intuit sends either
the legacy ``{"eventNotifications": [{"realmId", "dataChangeEvent": {"entities": [{"name",
"id", "operation", "lastUpdated"}]}}]}`` or, newer, a JSON array of CloudEvents
``{"specversion", "id", "type": "qbo.invoice.updated.v1", "time", "intuitentityid",
"intuitaccountid", "data"}``. Both become :class:`ChangeEvent` records.

A Merge names the entity merged away, which QBO deletes: ``deletedId`` on a legacy entity,
``data.deletedid`` on a CloudEvent (developer.intuit.com .../develop/webhooks/data-objects).

One delivery may name several companies (realms) and entities arsync does not sync (Vendor,
Class, ...): :func:`unread` says why such a change is left alone. An item that cannot be
read (a CloudEvent, a notification, an entity) is left out by :func:`read`, named, and the
others are kept.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from connectors.quickbooks.client import parse_timestamp

SIGNATURE_HEADER = "intuit-signature"
ENTITY_NAMES = {
    "customer": "Customer",
    "invoice": "Invoice",
    "creditmemo": "CreditMemo",
    "payment": "Payment",
}
SYNCED_ENTITIES = frozenset(ENTITY_NAMES.values())  # the four streams arsync pulls


CLOUD_OPERATIONS = {
    "created": "Create",
    "updated": "Update",
    "deleted": "Delete",
    "voided": "Void",
    "merged": "Merge",
    "emailed": "Emailed",
}


class WebhookError(ValueError):
    """A verified body that is not a QBO notification."""


@dataclass(frozen=True)
class ChangeEvent:
    """One changed object: which company, which entity and Id, what happened, when."""

    event_id: str  # de-duplication key: CloudEvents id, or derived for the legacy form
    realm_id: str
    entity: str  # "Invoice", "Payment", ... (QBO's entity name)
    entity_id: str
    operation: str  # Create | Update | Delete | Merge | Void | Emailed (legacy spelling)
    occurred_at: datetime | None
    deleted_id: str | None = None  # Merge: the Id merged into entity_id (and deleted)

    @property
    def event_type(self) -> str:
        return f"{self.entity}.{self.operation}"

    def summary(self) -> dict[str, str | None]:
        """The change as kept with its stored webhook event."""
        return {
            "realm_id": self.realm_id,
            "entity": self.entity,
            "entity_id": self.entity_id,
            "operation": self.operation,
            "occurred_at": self.occurred_at.isoformat() if self.occurred_at else None,
            "deleted_id": self.deleted_id,
        }


def unread(event: ChangeEvent, realm_id: str | None) -> str | None:
    """Why arsync leaves this change alone (another company, an entity it does not sync), or
    None when a sync of ``realm_id`` would pull it."""
    if realm_id and event.realm_id != realm_id:
        return f"realm {event.realm_id} is not the connected company {realm_id}"
    if event.entity not in SYNCED_ENTITIES:
        return f"{event.entity} is not an entity arsync syncs"
    return None


def verify(raw_body: bytes, headers: Mapping[str, str], secret: str) -> bool:
    """True when ``intuit-signature`` is the HMAC of exactly these bytes under ``secret``."""
    signature = next(
        (value for key, value in headers.items() if key.lower() == SIGNATURE_HEADER), None
    )
    if not signature or not secret:
        return False
    try:
        presented = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    expected = hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha256).digest()
    return hmac.compare_digest(presented, expected)


def sign(raw_body: bytes, secret: str) -> str:
    """The ``intuit-signature`` value Intuit would send for ``raw_body``."""
    digest = hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


@dataclass(frozen=True)
class Delivery:
    """A verified body read item by item: its changes, and each item left out, named."""

    events: list[ChangeEvent]
    problems: list[str]


def read(raw_body: bytes) -> Delivery:
    """The changes of a verified body, in either format; an item that cannot be read (a
    CloudEvent, a notification or an entity) is left out and named, the others are kept. A
    body that is neither format raises :class:`WebhookError`."""
    try:
        body = json.loads(raw_body, parse_float=Decimal)
    except ValueError as exc:
        raise WebhookError(f"quickbooks webhook body is not JSON: {exc}") from None
    if isinstance(body, Mapping) and "eventNotifications" in body:
        return _legacy(body["eventNotifications"])
    if isinstance(body, Mapping) and body.get("specversion"):
        body = [body]
    if not isinstance(body, list):
        raise WebhookError("quickbooks webhook body has neither eventNotifications nor CloudEvents")
    delivery = Delivery([], [])
    for index, item in enumerate(body):
        try:
            delivery.events.append(_cloud_event(item, index))
        except WebhookError as exc:
            delivery.problems.append(str(exc))
    return delivery


def parse(raw_body: bytes) -> list[ChangeEvent]:
    """Events of a verified body, in either format; any item it cannot read refuses it."""
    delivery = read(raw_body)
    if delivery.problems:
        raise WebhookError(delivery.problems[0])
    return delivery.events


def _text(value: Any, where: str) -> str:
    if isinstance(value, str | int) and str(value):
        return str(value)
    raise WebhookError(f"quickbooks webhook: {where} is missing")


def _optional_id(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int) and str(value) else None


def _legacy(notifications: Any) -> Delivery:
    if not isinstance(notifications, list):
        raise WebhookError("quickbooks webhook: eventNotifications is not a list")
    delivery = Delivery([], [])
    for n, notification in enumerate(notifications):
        try:
            realm, entities = _notification(notification, n)
        except WebhookError as exc:
            delivery.problems.append(str(exc))
            continue
        for e, entity in enumerate(entities):
            try:
                delivery.events.append(_legacy_entity(realm, entity, n, e))
            except WebhookError as exc:
                delivery.problems.append(str(exc))
    return delivery


def _notification(notification: Any, n: int) -> tuple[str, list[Any]]:
    """The realm and the entities of ``eventNotifications[n]``."""
    if not isinstance(notification, Mapping):
        raise WebhookError(f"quickbooks webhook: eventNotifications[{n}] is not an object")
    realm = _text(notification.get("realmId"), f"eventNotifications[{n}].realmId")
    change = notification.get("dataChangeEvent")
    if not isinstance(change, Mapping):
        raise WebhookError(
            f"quickbooks webhook: eventNotifications[{n}].dataChangeEvent is not an object"
        )
    entities = change.get("entities")
    if not isinstance(entities, list):
        raise WebhookError(
            f"quickbooks webhook: eventNotifications[{n}].dataChangeEvent.entities is not a list"
        )
    return realm, entities


def _legacy_entity(realm: str, entity: Any, n: int, e: int) -> ChangeEvent:
    where = f"eventNotifications[{n}].dataChangeEvent.entities[{e}]"
    if not isinstance(entity, Mapping):
        raise WebhookError(f"quickbooks webhook: {where} is not an object")
    name = _text(entity.get("name"), f"{where}.name")
    entity_id = _text(entity.get("id"), f"{where}.id")
    operation = _text(entity.get("operation"), f"{where}.operation")
    stamp = str(entity.get("lastUpdated") or "")
    return ChangeEvent(
        event_id=f"{realm}:{name}:{entity_id}:{operation}:{stamp}",
        realm_id=realm,
        entity=ENTITY_NAMES.get(name.lower(), name),
        entity_id=entity_id,
        operation=operation,
        occurred_at=parse_timestamp(stamp),
        deleted_id=_optional_id(entity.get("deletedId")),
    )


def _cloud_event(item: Any, index: int) -> ChangeEvent:
    where = f"event[{index}]"
    if not isinstance(item, Mapping):
        raise WebhookError(f"quickbooks webhook: {where} is not an object")
    kind = _text(item.get("type"), f"{where}.type")  # qbo.invoice.updated.v1
    parts = kind.split(".")
    if len(parts) < 3 or parts[0] != "qbo":
        raise WebhookError(f"quickbooks webhook: {where}.type {kind!r} is not a QBO event type")
    data = item.get("data")  # absent, {}, or what the event adds (a merge's deletedid)
    return ChangeEvent(
        event_id=_text(item.get("id"), f"{where}.id"),
        realm_id=_text(item.get("intuitaccountid"), f"{where}.intuitaccountid"),
        entity=ENTITY_NAMES.get(parts[1].lower(), parts[1]),
        entity_id=_text(item.get("intuitentityid"), f"{where}.intuitentityid"),
        operation=CLOUD_OPERATIONS.get(parts[2].lower(), parts[2].capitalize()),
        occurred_at=parse_timestamp(item.get("time")),
        deleted_id=_optional_id(data.get("deletedid")) if isinstance(data, Mapping) else None,
    )
