"""What every Salesforce mapping shares: the org's schema, origin fields, links, money.

Money is rounded to the currency's minor unit, half-even (:func:`mappings.base.rounded_money`), on
purpose: a Salesforce currency field keeps whatever precision the API wrote into it, whatever
the field's decimal places (``1.234`` stays ``1.234``; only the UI shows it rounded), and
formula or roll-up fields often carry more decimals. Such a value is legitimate, so it is
rounded here rather than quarantined.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from canonical.enums import DocumentStatus
from canonical.money import Money, MoneyError, normalize_currency
from canonical.types import zone
from connectors.base import RawRecord
from mappings.base import (
    MappingContext,
    MappingError,
    iso_date,
    iso_datetime,
    optional_text,
    rounded_money,
)
from mappings.salesforce.schema import (
    DEFAULT_PRESET,
    DocumentSpec,
    SalesforceSchema,
    load_preset,
    preset_names,
)

SYSTEM = "salesforce"


def schema_for(record: RawRecord, ctx: MappingContext) -> SalesforceSchema:
    """The org's schema: ``ctx.options["schema"]`` (a schema or its mapping), else the
    shipped preset whose objects include the record's SObject, else the default preset."""
    given = ctx.option("schema")
    if isinstance(given, SalesforceSchema):
        return given
    if isinstance(given, Mapping):
        return SalesforceSchema.model_validate(dict(given))
    if isinstance(given, str):
        return load_preset(given)
    default = load_preset(DEFAULT_PRESET)
    if _owns(default, record):
        return default
    for name in preset_names():
        schema = load_preset(name)
        if _owns(schema, record):
            return schema
    return default


def _owns(schema: SalesforceSchema, record: RawRecord) -> bool:
    return schema.spec_for_object(record.object_type) is not None


def origin(record: RawRecord) -> dict[str, Any]:
    """The RecordIn fields every mapping sets the same way."""
    modified = record.modified_at
    if modified is None:
        stamp = record.payload.get("SystemModstamp") or record.payload.get("deletedDate")
        try:
            modified = iso_datetime(stamp)
        except ValueError as exc:
            raise MappingError("SystemModstamp", str(exc)) from exc
    return {
        "system": SYSTEM,
        "object_type": record.object_type,
        "remote_id": record.remote_id,
        "remote_version": record.remote_version
        or optional_text(record.payload.get("LastModifiedDate")),
        "modified_at": modified,
        "deleted": record.deleted,
    }


def value(payload: Mapping[str, Any], field: str | None) -> Any:
    """A field's value; None when the org has no such field configured or it is empty. The
    name is matched regardless of case, as SOQL matches it.

    A relationship path (``blng__InvoiceLine__r.blng__Invoice__c``) is read through the
    nested parent records the REST API returns (``{"blng__InvoiceLine__r": {"attributes":
    ..., "blng__Invoice__c": ...}}``); an empty lookup on the way (``null``) gives None."""
    if not field:
        return None
    if field in payload:  # spelled as the org spells it (nearly always): _get's first step
        result = payload[field]
    elif "." not in field:
        result = _get(payload, field)
    else:
        node: Any = payload
        for part in field.split("."):
            if not isinstance(node, (dict, Mapping)):
                return None
            node = _get(node, part)
        result = node
    return None if result == "" else result


def _get(record: Mapping[str, Any], name: str) -> Any:
    """``record[name]``, the name matched regardless of case: SOQL takes field names in any
    case, and results spell them as the org's describe does (``Balance__c`` for a configured
    ``balance__c``)."""
    if name in record:
        return record[name]
    folded = name.casefold()
    for key, found in record.items():
        if key.casefold() == folded:
            return found
    return None


def required(payload: Mapping[str, Any], field: str) -> Any:
    result = value(payload, field)
    if result is None:
        raise MappingError(field, "is required but missing")
    return result


def text_of(payload: Mapping[str, Any], field: str | None) -> str | None:
    """A field as text. A Number field holding a whole number reads as its digits: the REST
    API writes every Number field as a double (``1001.0``, ``1.2345678E7``), so a document
    number, PO number or another system's id kept in one reads ``1001``, not ``1001.0``."""
    raw = value(payload, field)
    if type(raw) is str:  # nearly always: optional_text's result, without its checks
        return raw.strip() or None
    if isinstance(raw, Decimal) and raw.is_finite() and raw == raw.to_integral_value():
        raw = int(raw)
    try:
        return optional_text(raw)
    except ValueError as exc:
        raise MappingError(str(field), str(exc)) from exc


def date_of(payload: Mapping[str, Any], field: str | None, ctx: MappingContext) -> date | None:
    """A date field; a dateTime (``2024-05-01T02:30:00.000+0000``) is the day it falls on in
    the org's time zone (the ``timezone`` option, UTC by default)."""
    raw = value(payload, field)
    try:
        if isinstance(raw, str) and "T" in raw:
            moment = iso_datetime(raw)
            where = zone(str(ctx.option("timezone") or "UTC"))
            return moment.astimezone(where).date() if moment else None
        return iso_date(raw)
    except ValueError as exc:
        raise MappingError(str(field), str(exc)) from exc


def links(payload: Mapping[str, Any], link_fields: Mapping[str, str]) -> dict[str, str]:
    """Other systems' ids the record carries in its configured link fields."""
    out: dict[str, str] = {}
    for system, field in link_fields.items():
        linked = text_of(payload, field)
        if linked:
            out[system] = linked
    return out


def currency(payload: Mapping[str, Any], field: str | None, ctx: MappingContext) -> str:
    """The record's currency field (``CurrencyIsoCode`` in a multi-currency org), else
    ``ctx.options["currency"]`` (a single-currency org's corporate currency), else home
    currency. A value that is no ISO 4217 code names the field."""
    code = text_of(payload, field)
    if code is None:
        return str(ctx.option("currency") or ctx.home_currency)
    try:
        return normalize_currency(code)
    except MoneyError as exc:
        raise MappingError(str(field), str(exc)) from exc


def same_currency(row: Mapping[str, Any], field: str | None, code: str, where: str) -> None:
    """A child row (an application line) whose own currency field differs from its parent's
    is refused: its amount is not in the parent's currency."""
    own = text_of(row, field)
    if own is not None and own.upper() != code:
        raise MappingError(
            f"{where}.{field}", f"is {own}, not the currency of the record it belongs to ({code})"
        )


def amount(payload: Mapping[str, Any], field: str | None, code: str) -> Money:
    if not field:
        raise MappingError("<unconfigured>", "an amount field is not configured")
    raw = value(payload, field)
    if raw is None:
        raise MappingError(field, "is required but missing")
    return rounded_money(raw, code, field)


def optional_amount(payload: Mapping[str, Any], field: str | None, code: str) -> Money | None:
    raw = value(payload, field)
    if not field or raw is None:
        return None
    return rounded_money(raw, code, field)


def figures(
    payload: Mapping[str, Any], spec: DocumentSpec, ctx: MappingContext
) -> tuple[str, Money, Money]:
    """An invoice's or credit memo's number (required), total and balance, read at the
    fields ``spec`` configures, in the document's currency."""
    code = currency(payload, spec.currency, ctx)
    total = amount(payload, spec.total, code)
    balance = amount(payload, spec.balance, code)
    number = text_of(payload, spec.number)
    if not number:
        raise MappingError(spec.number, "is required but missing")
    return number, total, balance


def document_status(
    spec: DocumentSpec, payload: Mapping[str, Any], total: Money, balance: Money
) -> DocumentStatus:
    """The configured picklist value mapped to a status; an open document with nothing left
    to pay is paid."""
    wire = text_of(payload, spec.status)
    if spec.status and wire is not None:
        mapped = spec.status_map.get(wire)
        if mapped is None:
            known = ", ".join(sorted(spec.status_map)) or "none configured"
            raise MappingError(spec.status, f"unknown status {wire!r} (configured: {known})")
        try:
            status = DocumentStatus(mapped)
        except ValueError as exc:
            raise MappingError(spec.status, f"status_map gives {mapped!r}: {exc}") from exc
    else:
        status = DocumentStatus.OPEN
    if status is DocumentStatus.OPEN and balance.is_zero() and total.amount != Decimal(0):
        return DocumentStatus.PAID
    return status


def owed(status: DocumentStatus, balance: Money) -> Money:
    """What a document still owes (or a credit memo holds): nothing once it is void, whatever
    balance Salesforce still shows (a Revenue Cloud invoice Void In Progress keeps its balance
    until the void's credit memo is allocated to it), as the other systems' voids owe none."""
    return Money.zero(balance.currency) if status is DocumentStatus.VOID else balance


def zero(ctx: MappingContext) -> Money:
    return Money.zero(str(ctx.option("currency") or ctx.home_currency))
