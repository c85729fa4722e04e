"""Salesforce Outbound Messages: the org's at-least-once SOAP notifications of changes.

Outbound messages carry no signature. :func:`verify` checks that the message comes from the
configured org (``OrganizationId``, compared in constant time) and must sit behind TLS with
Salesforce's client certificate checked at the web tier, as Salesforce recommends. Each
``Notification`` has its own id, repeated on redelivery: de-duplicate on it.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from lxml import etree

OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
_ORG_ID = re.compile(
    rb"<(?:[A-Za-z0-9_]+:)?OrganizationId>\s*([A-Za-z0-9]{15,18})\s*</(?:[A-Za-z0-9_]+:)?OrganizationId>"
)

ACK = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
    b'<soapenv:Body><notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">'
    b"<Ack>true</Ack></notificationsResponse></soapenv:Body></soapenv:Envelope>"
)
"""The acknowledgement Salesforce expects; without it the message is resent for 24 h."""


class OutboundMessageError(ValueError):
    """A body that is not a well-formed outbound message."""


@dataclass(frozen=True)
class OutboundEvent:
    """One notification: the changed record and the fields the message was set up to send."""

    event_id: str  # the Notification Id, the same on every redelivery
    sobject: str
    record_id: str
    fields: dict[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class OutboundMessage:
    organization_id: str
    action_id: str | None
    events: list[OutboundEvent]


def verify(raw_body: bytes, headers: Mapping[str, str], secret: str) -> bool:
    """True when the message names the configured org id (``secret``; 15 or 18 chars)."""
    match = _ORG_ID.search(raw_body[:4096])
    if match is None or len(secret) < 15:
        return False
    return hmac.compare_digest(match.group(1)[:15], secret.encode("ascii", "replace")[:15])


def parse(raw_body: bytes) -> OutboundMessage:
    """The notifications of a verified outbound message."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(raw_body, parser)
    except etree.XMLSyntaxError as exc:
        raise OutboundMessageError(f"not XML: {exc}") from exc
    notifications = root.find(f".//{{{OUTBOUND_NS}}}notifications")
    if notifications is None:
        raise OutboundMessageError("no notifications element in the SOAP body")
    org = notifications.findtext(f"{{{OUTBOUND_NS}}}OrganizationId")
    if not org:
        raise OutboundMessageError("notifications.OrganizationId is missing")
    events: list[OutboundEvent] = []
    for index, note in enumerate(notifications.iterfind(f"{{{OUTBOUND_NS}}}Notification")):
        note_id = note.findtext(f"{{{OUTBOUND_NS}}}Id")
        sobject = note.find(f"{{{OUTBOUND_NS}}}sObject")
        if not note_id or sobject is None:
            raise OutboundMessageError(f"Notification[{index}]: Id or sObject is missing")
        values = {etree.QName(child).localname: child.text for child in sobject}
        record_id = values.get("Id")
        if not record_id:
            raise OutboundMessageError(f"Notification[{index}].sObject.Id is missing")
        type_name = str(sobject.get(XSI_TYPE, ""))
        events.append(
            OutboundEvent(
                event_id=note_id,
                sobject=type_name.rpartition(":")[2] or "",
                record_id=record_id,
                fields=values,
            )
        )
    return OutboundMessage(
        organization_id=org,
        action_id=notifications.findtext(f"{{{OUTBOUND_NS}}}ActionId"),
        events=events,
    )
