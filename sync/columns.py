"""How a mapped record becomes column values of its canonical table."""

from __future__ import annotations

from typing import Any

from sqlmodel import SQLModel

from canonical.keys import document_key, name_key
from canonical.models import CreditMemo, Customer, Invoice, Payment
from canonical.money import Money
from canonical.records import CreditMemoIn, CustomerIn, InvoiceIn, PaymentIn, RecordIn

STREAM_TYPES: dict[str, str] = {
    "customers": "customer",
    "invoices": "invoice",
    "credit_memos": "credit_memo",
    "payments": "payment",
}
TABLES: dict[str, type[SQLModel]] = {
    "customer": Customer,
    "invoice": Invoice,
    "credit_memo": CreditMemo,
    "payment": Payment,
}
# fields on which systems must agree; a disagreement becomes a drift finding
DRIFT_FIELDS: dict[str, tuple[str, ...]] = {
    "customer": ("currency",),
    "invoice": ("currency", "total_minor", "balance_minor", "status", "due_date"),
    "credit_memo": ("currency", "total_minor", "balance_minor", "status"),
    "payment": ("currency", "amount_minor", "status"),
}
_KEY_COLUMNS = frozenset({"name_key", "number_key"})
_AS_IS = frozenset({str, int, bool})  # kept in a snapshot as they are


def columns(record: RecordIn, customer_id: str | None) -> dict[str, Any]:
    """Canonical column values for a mapped record (without id, tenant or timestamps)."""
    if isinstance(record, CustomerIn):
        values: dict[str, Any] = {
            "name": record.name,
            "name_key": name_key(record.name),
            "number": record.number,
            "email": record.email,
            "currency": record.currency,
            "tax_id": record.tax_id,
            "status": record.status,
        }
        if record.credit_hold is not None:
            values["credit_hold"] = record.credit_hold
        return values
    if isinstance(record, InvoiceIn):
        return {
            "customer_id": customer_id,
            "number": record.number,
            "number_key": document_key(record.number),
            "currency": record.total.currency,
            "issue_date": record.issue_date,
            "due_date": record.due_date,
            "total_minor": record.total.minor,
            "balance_minor": record.balance.minor,
            "status": record.status,
            "po_number": record.po_number,
            "memo": record.memo,
            "terms": record.terms,
            "discount_basis_points": record.discount_basis_points,
            "discount_until": record.discount_until,
        }
    if isinstance(record, CreditMemoIn):
        return {
            "customer_id": customer_id,
            "number": record.number,
            "number_key": document_key(record.number),
            "currency": record.total.currency,
            "issue_date": record.issue_date,
            "total_minor": record.total.minor,
            "balance_minor": record.balance.minor,
            "status": record.status,
            "reference": record.reference,
            "memo": record.memo,
        }
    if isinstance(record, PaymentIn):
        unapplied = record.unapplied
        if unapplied is None:
            applied = sum((a.amount.minor for a in record.applied if a.target == "invoice"), 0)
            credits = sum((a.amount.minor for a in record.applied if a.target != "invoice"), 0)
            unapplied = Money.from_minor(
                record.amount.minor - (applied - credits), record.amount.currency
            )
        return {
            "customer_id": customer_id,
            "currency": record.amount.currency,
            "amount_minor": record.amount.minor,
            "unapplied_minor": unapplied.minor,
            "received_on": record.received_on,
            "method": record.method,
            "reference": record.reference,
            "memo": record.memo,
            "status": record.status,
        }
    raise TypeError(f"not a canonical record: {type(record).__name__}")


def snapshot(values: dict[str, Any]) -> dict[str, Any]:
    """What an ExternalRef remembers of a system's view: JSON-safe column values."""
    return {
        key: value if type(value) in _AS_IS or isinstance(value, int | str) else str(value)
        for key, value in values.items()
        if value is not None and key not in _KEY_COLUMNS
    }  # enums of str or int are kept as such


def display(field: str, value: Any, currency: str | None) -> str:
    """A snapshot value as a person reads it (minor units shown as money)."""
    if field.endswith("_minor") and currency and value is not None:
        return str(Money.from_minor(int(value), currency))
    return "" if value is None else str(value)
