"""The small toolkit every mapping uses: field paths, coercions, the mapping error and the
record a deleted document maps to.

Plain renaming and coercion is declared as ``{canonical_field: F(path, coerce)}``;
anything with logic is a named function in the system's mapping module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any, TypeVar

from sqlalchemy import Enum

from canonical.enums import DocumentStatus
from canonical.models import CreditMemo, Customer, ExternalRef, Invoice, Payment
from canonical.money import Money, MoneyError
from canonical.records import AppliedIn, CreditMemoIn, CustomerIn, InvoiceIn, PaymentIn, RecordIn
from canonical.types import ClippedString, without_nul

Document = TypeVar("Document", InvoiceIn, CreditMemoIn)

_MISSING = object()
_PARTS: dict[str, tuple[str, ...]] = {}  # a path's steps (paths are few and fixed)


class MappingError(ValueError):
    """A raw record could not be translated. Names the field and why."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"field {field!r}: {reason}")


def get_path(payload: Mapping[str, Any], path: str, default: Any = _MISSING) -> Any:
    """Value at a dotted path (``CustomerRef.value``); ``default`` when any step is absent.

    Where the steps are absent, a key that is itself the whole dotted path is read: Intacct's
    readByQuery writes related fields flat (``<DISPLAYCONTACT.EMAIL1>``) where ``read`` nests
    them.
    """
    # fast path: a plain key of a plain dict (nearly every read); a dotted path walks below
    if type(payload) is dict and path in payload and "." not in path:
        return payload[path]
    node: Any = payload
    parts = _PARTS.get(path)
    if parts is None:
        parts = _PARTS[path] = tuple(path.split("."))
    for part in parts:
        # a list is told apart first (asking the Mapping ABC about one is slow), and a plain
        # dict (nearly always) is recognised without the ABC check
        if isinstance(node, list):
            if part.isdigit() and int(part) < len(node):
                node = node[int(part)]
                continue
        elif isinstance(node, (dict, Mapping)) and part in node:
            node = node[part]
            continue
        # this step is absent
        if len(parts) > 1 and isinstance(payload, (dict, Mapping)) and path in payload:
            return payload[path]
        if default is _MISSING:
            raise MappingError(path, "is missing")
        return default
    return node


# coercions ---------------------------------------------------------------------------


def text(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | Decimal):
        return str(value)
    raise ValueError(f"expected text, got {type(value).__name__}")


def optional_text(value: Any) -> str | None:
    if value is None:
        return None
    result = value.strip() if type(value) is str else text(value)  # str: nearly always
    return result or None


def decimal(value: Any) -> Decimal:
    if type(value) is Decimal and value.is_finite():  # already exact: nothing to coerce
        return value
    if isinstance(value, bool | float):
        raise ValueError(f"expected an exact number, got {value!r}")
    try:
        result = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, TypeError) as exc:
        raise ValueError(f"not a number: {value!r}") from exc
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def iso_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError as exc:
        raise ValueError(f"not a date: {value!r}") from exc


def us_date(value: Any) -> date | None:
    """``MM/DD/YYYY`` (Intacct's legacy format) or ISO."""
    if value in (None, ""):
        return None
    raw = str(value).strip()
    if "/" in raw:
        parts = raw.split("/")
        try:
            if len(parts) != 3 or len(parts[2]) != 4 or not all(map(str.isdigit, parts)):
                raise ValueError(raw)
            return date(int(parts[2]), int(parts[0]), int(parts[1]))
        except ValueError as exc:
            raise ValueError(f"not a MM/DD/YYYY date: {value!r}") from exc
    return iso_date(raw)


def iso_datetime(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        result = value
    else:
        raw = str(value).strip().replace("Z", "+00:00")
        if len(raw) >= 5 and raw[-5] in "+-" and raw[-4:].isdigit() and raw[-3] != ":":
            raw = raw[:-2] + ":" + raw[-2:]  # Salesforce: 2024-01-01T00:00:00.000+0000
        try:
            result = datetime.fromisoformat(raw)
        except ValueError as exc:
            raise ValueError(f"not a timestamp: {value!r}") from exc
    return result.replace(tzinfo=UTC) if result.tzinfo is None else result.astimezone(UTC)


def unix_datetime(value: Any) -> datetime | None:
    """A Unix timestamp in seconds; one no calendar holds (``1e20``) is a ValueError, so the
    record is quarantined naming its field."""
    if value in (None, ""):
        return None
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (OverflowError, OSError) as exc:
        raise ValueError(f"not a timestamp: {value!r} ({exc})") from None


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.strip().lower() in ("true", "1", "yes")
    if isinstance(value, int):
        return bool(value)
    raise ValueError(f"not a boolean: {value!r}")


def money(amount: Any, currency: str, field: str) -> Money:
    """Money exactly as the system sent it. Not an amount, or more decimals than the currency
    has (``12.345`` USD), names the field: the record is quarantined, never rounded silently."""
    return _money(amount, currency, field, exact=True)


def rounded_money(amount: Any, currency: str, field: str) -> Money:
    """Money rounded half-even to the currency's minor unit (``12.345`` USD is ``12.34``), for
    systems that legitimately keep more decimals than the currency has (Intacct, Salesforce).
    Not an amount names the field."""
    return _money(amount, currency, field, exact=False)


def _money(amount: Any, currency: str, field: str, *, exact: bool) -> Money:
    try:
        return Money(decimal(amount), currency, exact=exact)
    except (ValueError, MoneyError) as exc:
        raise MappingError(field, str(exc)) from exc


@dataclass(frozen=True)
class F:
    """A declared field: where it is in the payload and how to coerce it."""

    path: str
    coerce: Callable[[Any], Any] = lambda v: v
    required: bool = True
    default: Any = None

    @cached_property
    def key(self) -> str | None:
        """The path as one plain key (no dots): :func:`extract` reads it without
        :func:`get_path`."""
        return None if "." in self.path else self.path


def extract(payload: Mapping[str, Any], spec: Mapping[str, F]) -> dict[str, Any]:
    """Apply a declared field map; a missing required field or bad value names the field."""
    out: dict[str, Any] = {}
    plain = type(payload) is dict
    for name, rule in spec.items():
        key = rule.key
        # fast path: a plain key of a plain dict, read as get_path reads it
        raw = payload.get(key) if plain and key is not None else get_path(payload, rule.path, None)
        if raw is None or raw == "":
            if rule.required:
                raise MappingError(rule.path, "is required but missing")
            out[name] = rule.default
            continue
        try:
            out[name] = rule.coerce(raw)
        except (ValueError, TypeError, MoneyError) as exc:
            raise MappingError(rule.path, str(exc)) from exc
    return out


def deleted_document(kind: type[Document], origin: Mapping[str, Any], nothing: Money) -> Document:
    """The invoice or credit memo a deletion maps to: where it came from, and nothing else
    (no customer, no number, ``nothing`` as its total and balance)."""
    return kind(
        **origin,
        customer_remote_id=None,
        number="",
        total=nothing,
        balance=nothing,
        status=DocumentStatus.DELETED,
    )


@dataclass(frozen=True)
class MappingContext:
    """What a mapping may need besides the record: the system, home currency, options."""

    system: str
    home_currency: str = "USD"
    options: Mapping[str, Any] | None = None

    def option(self, key: str, default: Any = None) -> Any:
        return (self.options or {}).get(key, default)


# fitting a record to the store ---------------------------------------------------------------

_TABLE_OF: dict[type[RecordIn], Any] = {
    CustomerIn: Customer,
    InvoiceIn: Invoice,
    CreditMemoIn: CreditMemo,
    PaymentIn: Payment,
}
_REF_ID = int(ExternalRef.__table__.c["remote_id"].type.length)  # type: ignore[attr-defined]
_REF_FIELDS = {"remote_id": _REF_ID, "customer_remote_id": _REF_ID}
_BOUNDS: dict[type[RecordIn], tuple[tuple[str, int], ...]] = {}


def _bounds(kind: type[RecordIn]) -> tuple[tuple[str, int], ...]:
    """The record's identifiers with the length their column holds: its plain VARCHAR text
    columns. Names and narratives are cut and cleaned by their own column types
    (:class:`~canonical.types.ClippedString`, :class:`~canonical.types.CleanText`)."""
    found = _BOUNDS.get(kind)
    if found is None:
        table = _TABLE_OF[kind].__table__
        out: list[tuple[str, int]] = []
        for name in kind.model_fields:
            if name in _REF_FIELDS:
                out.append((name, _REF_FIELDS[name]))
            elif name in table.c:
                column = table.c[name].type
                length = getattr(column, "length", None)  # a VARCHAR's (AutoString's too)
                if length and not isinstance(column, ClippedString | Enum):
                    out.append((name, int(length)))
        found = _BOUNDS[kind] = tuple(out)
    return found


def fit(record: RecordIn) -> RecordIn:
    """``record`` as the store can keep it on every backend. NUL characters are left out of
    its identifiers (PostgreSQL refuses them); one longer than its column holds (a number, a
    remote id, an email, a tax id) raises MappingError naming the field: the record is
    quarantined, never stored cut (SQLite would keep it whole, PostgreSQL refuse it)."""
    changed: dict[str, Any] = {}
    fields = record.__dict__  # the model's field values: read without attribute lookup
    for name, limit in _bounds(type(record)):
        value = fields[name]
        if not isinstance(value, str):
            continue
        if len(value) <= limit and "\x00" not in value:
            continue  # fast path: nearly every value fits as it is
        clean = without_nul(value) if "\x00" in value else value
        if clean is not value and name in _REF_FIELDS:
            raise MappingError(name, "holds a NUL character")
        if len(clean) > limit:
            raise MappingError(name, f"is {len(clean)} characters long, at most {limit} fit")
        if clean is not value:
            changed[name] = clean
    for system, remote_id in record.links.items():
        if len(remote_id) > _REF_ID:
            raise MappingError(
                f"links.{system}", f"is {len(remote_id)} characters long, at most {_REF_ID} fit"
            )
    if isinstance(record, PaymentIn):
        for index, line in enumerate(record.applied):
            if len(line.target_remote_id) > _REF_ID:
                raise MappingError(
                    f"applied[{index}].target_remote_id",
                    f"is {len(line.target_remote_id)} characters long, at most {_REF_ID} fit",
                )
        if any("\x00" in line.target_remote_id for line in record.applied):
            changed["applied"] = [
                AppliedIn(
                    target=line.target,
                    target_remote_id=without_nul(line.target_remote_id),
                    amount=line.amount,
                )
                for line in record.applied
            ]
    return record.model_copy(update=changed) if changed else record
