"""Intacct's XML envelope: building requests, reading results, dates and timestamps.

A request is ``<request><control/><operation><authentication/><content><function/>...``;
a response mirrors it with a ``<status>`` at control, authentication and result level and
an ``<errormessage>`` wherever something failed. Records read into plain dicts of strings
(nested elements become dicts, repeated ones lists), so no amount is ever a float.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree

Element = etree._Element
Payload = dict[str, Any]

DATE_FORMAT = "%m/%d/%Y"
TIMESTAMP_FORMAT = "%m/%d/%Y %H:%M:%S"
DTD_VERSION = "3.0"


@dataclass(frozen=True)
class Control:
    """The ``<control>`` block: the Web Services sender and the request's ids."""

    sender_id: str
    sender_password: str
    control_id: str
    unique_id: bool = False


@dataclass(frozen=True)
class Login:
    """User credentials for ``<authentication><login>``."""

    user_id: str
    company_id: str
    password: str


def sub(parent: Element, tag: str, text: str | None = None, **attrs: str) -> Element:
    child = etree.SubElement(parent, tag, attrs)
    if text is not None:
        child.text = text
    return child


def function(control_id: str, name: str, **fields: str | int | None) -> Element:
    """``<function controlid=..><name><field>value</field>...</name></function>``."""
    wrapper = etree.Element("function", controlid=control_id)
    body = sub(wrapper, name)
    for key, value in fields.items():
        sub(body, key, "" if value is None else str(value))
    return wrapper


def build_request(
    control: Control, auth: Login | str, functions: Sequence[Element], *, transaction: bool = False
) -> bytes:
    """The whole request document; ``auth`` is a login or a session id."""
    root = etree.Element("request")
    block = sub(root, "control")
    sub(block, "senderid", control.sender_id)
    sub(block, "password", control.sender_password)
    sub(block, "controlid", control.control_id)
    sub(block, "uniqueid", "true" if control.unique_id else "false")
    sub(block, "dtdversion", DTD_VERSION)
    sub(block, "includewhitespace", "false")
    operation = sub(root, "operation", **({"transaction": "true"} if transaction else {}))
    authentication = sub(operation, "authentication")
    if isinstance(auth, Login):
        login = sub(authentication, "login")
        sub(login, "userid", auth.user_id)
        sub(login, "companyid", auth.company_id)
        sub(login, "password", auth.password)
    else:
        sub(authentication, "sessionid", auth)
    content = sub(operation, "content")
    for item in functions:
        content.append(item)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def parse(content: bytes) -> Element:
    """Parse a document without resolving entities or fetching anything."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    return etree.fromstring(content, parser)


def to_dict(element: Element) -> Payload:
    """An element's children as a dict; leaves are text ('' when empty), repeats are lists."""
    out: Payload = {}
    for child in element:
        if not isinstance(child.tag, str):
            continue
        value: Any = to_dict(child) if len(child) else (child.text or "").strip()
        if child.tag in out:
            existing = out[child.tag]
            out[child.tag] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            out[child.tag] = value
    return out


def from_dict(tag: str, payload: Payload) -> Element:
    """The inverse of :func:`to_dict` (the sandbox renders records with it)."""
    element = etree.Element(tag)
    for key, value in payload.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict):
                element.append(from_dict(key, item))
            else:
                sub(element, key, "" if item is None else str(item))
    return element


def render_date(value: date) -> str:
    return value.strftime(DATE_FORMAT)


def render_timestamp(moment: datetime, zone: ZoneInfo) -> str:
    """A UTC moment as Intacct writes it: company-local ``MM/DD/YYYY HH:MM:SS``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).strftime(TIMESTAMP_FORMAT)


def parse_timestamp(value: Any, zone: ZoneInfo) -> datetime | None:
    """A company-local ``MM/DD/YYYY HH:MM:SS`` as a UTC moment; None when absent or bad."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        local = datetime.strptime(value.strip(), TIMESTAMP_FORMAT)
    except ValueError:
        return None
    return local.replace(tzinfo=zone).astimezone(UTC)
