"""``arsync import``: customers, invoices, credit memos and payments from CSV or JSON files.

The columns are documented in docs/import-format.md. Each file is the system ``import``:
its records get refs like any system's, so re-importing a file updates instead of
duplicating, and an imported invoice links to the same invoice synced from an ERP (document
number + customer). A bad row is rejected with its row number and column; the others land.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select
from sqlmodel import col

from canonical.enums import CustomerStatus, DocumentStatus, PaymentStatus
from canonical.ids import new_id
from canonical.keys import name_key
from canonical.lease import Held, lease
from canonical.models import Customer, ExternalRef
from canonical.money import Money, MoneyError, minor_digits, normalize_currency
from canonical.records import AppliedIn, CreditMemoIn, CustomerIn, InvoiceIn, PaymentIn, RecordIn
from canonical.store import Store
from canonical.terms import discount_fields
from canonical.types import utcnow
from connectors.base import RawRecord
from mappings.base import MappingContext, MappingError, iso_date
from sync.engine import SYNC_LEASE
from sync.pull import PageCounts, PageWriter
from sync.settings import SystemOfRecord

ImportKind = Literal["customers", "invoices", "credit-memos", "payments"]
SYSTEM = "import"
CHUNK = 1000
STREAMS: dict[str, str] = {
    "customers": "customers",
    "invoices": "invoices",
    "credit-memos": "credit_memos",
    "payments": "payments",
}


@dataclass
class ImportReport:
    """What an import did; ``errors`` name the row and the column."""

    path: str
    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.path}: {self.rows} rows -> {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.rejected} rejected"
        )


class RowError(ValueError):
    def __init__(self, column: str, reason: str) -> None:
        self.column = column
        super().__init__(f"column {column!r}: {reason}")


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number, row) from a CSV with a header, or a JSON list of objects."""
    if path.suffix.lower() == ".json":
        data = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
        if not isinstance(data, list):
            raise ValueError(f"{path}: expected a JSON list of objects")
        for index, item in enumerate(data, start=1):
            yield index, item if isinstance(item, dict) else {"__invalid__": item}
        return
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        for index, row in enumerate(reader, start=2):  # row 1 is the header
            yield index, {k.strip().lower(): v for k, v in row.items() if k}


def _text(row: dict[str, Any], column: str, required: bool = False) -> str | None:
    value = row.get(column)
    text = str(value).strip() if value is not None else ""
    if not text:
        if required:
            raise RowError(column, "is required")
        return None
    return text


def _amount(row: dict[str, Any], column: str, currency: str, required: bool = True) -> Money | None:
    raw = _text(row, column, required)
    if raw is None:
        return None
    if isinstance(row.get(column), float):
        raise RowError(column, "must be a string or an exact number, not a float")
    cleaned = raw.replace(",", "") if "." in raw or raw.count(",") > 1 else raw.replace(",", ".")
    try:
        value = Decimal(cleaned)
    except ArithmeticError:
        raise RowError(column, f"not an amount: {raw!r}") from None
    if not value.is_finite():
        raise RowError(column, f"not an amount: {raw!r}")
    if -value.as_tuple().exponent > minor_digits(currency):  # type: ignore[operator]
        raise RowError(column, f"{raw} has more decimals than {currency} allows")
    return Money(value, currency)


def _date(row: dict[str, Any], column: str) -> Any:
    raw = _text(row, column)
    try:
        return iso_date(raw)
    except ValueError:
        raise RowError(column, f"not a date (YYYY-MM-DD): {raw!r}") from None


def _currency(row: dict[str, Any]) -> str:
    raw = _text(row, "currency", required=True) or ""
    try:
        return normalize_currency(raw)
    except MoneyError as exc:
        raise RowError("currency", str(exc)) from None


def _status(row: dict[str, Any], enum: Any, default: Any) -> Any:
    raw = _text(row, "status")
    if raw is None:
        return default
    try:
        return enum(raw.lower())
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        raise RowError("status", f"{raw!r} is not one of {allowed}") from None


class Importer:
    """Turns rows into canonical records and stores them through the page writer."""

    def __init__(self, store: Store, kind: ImportKind, tenant: str) -> None:
        self.store = store
        self.kind = kind
        self.tenant = tenant
        self.customer_keys: dict[str, str] = {}  # "number:C-1" / "name:ACME" -> remote key
        self._imported: dict[str, set[str]] = {}  # canonical type -> imported remote ids

    def customer_key(self, row: dict[str, Any]) -> str:
        """The import system's key of the row's customer: its id, or a link by number/name."""
        if (value := _text(row, "customer_id")) is not None:
            if value not in self.imported_customers():
                raise RowError(
                    "customer_id",
                    f"no imported customer {value!r} (import customers "
                    "first, or give customer_number or customer_name)",
                )
            return value
        for column in ("customer_number", "customer_name"):
            value = _text(row, column)
            if value is None:
                continue
            label = column.removeprefix("customer_")
            key = f"{label}:{value if label == 'number' else name_key(value)}"
            if key not in self.customer_keys:
                self._link_customer(column, value, key)
            return key
        raise RowError(
            "customer_id", "one of customer_id, customer_number or customer_name is required"
        )

    def imported_customers(self) -> set[str]:
        return self._imported_ids("customer")

    def _imported_ids(self, canonical_type: str) -> set[str]:
        """The import keys of the records of a type imported before (read once)."""
        if canonical_type not in self._imported:
            with self.store.session() as session:
                self._imported[canonical_type] = set(
                    session.execute(
                        select(col(ExternalRef.remote_id)).where(
                            col(ExternalRef.tenant) == self.tenant,
                            col(ExternalRef.system) == SYSTEM,
                            col(ExternalRef.canonical_type) == canonical_type,
                            col(ExternalRef.deleted).is_(False),
                        )
                    ).scalars()
                )
        return self._imported[canonical_type]

    def _link_customer(self, column: str, value: str, key: str) -> None:
        with self.store.session() as session:
            query = select(col(Customer.id)).where(col(Customer.tenant) == self.tenant)
            query = (
                query.where(col(Customer.number) == value)
                if column == "customer_number"
                else query.where(col(Customer.name_key) == name_key(value))
            )
            found = list(session.execute(query).scalars())
            if len(found) != 1:
                reason = "no customer" if not found else f"{len(found)} customers"
                raise RowError(
                    column, f"{reason} with {column.removeprefix('customer_')} {value!r}"
                )
            exists = session.execute(
                select(col(ExternalRef.id)).where(
                    col(ExternalRef.tenant) == self.tenant,
                    col(ExternalRef.system) == SYSTEM,
                    col(ExternalRef.canonical_type) == "customer",
                    col(ExternalRef.remote_id) == key,
                )
            ).first()
            if exists is None:
                session.add(
                    ExternalRef(
                        id=new_id(),
                        tenant=self.tenant,
                        canonical_type="customer",
                        canonical_id=found[0],
                        system=SYSTEM,
                        object_type="customer",
                        remote_id=key,
                        hash="",
                        link_rule=f"import:{column}",
                        seen_at=utcnow(),
                    )
                )
        self.customer_keys[key] = found[0]

    def record(self, row: dict[str, Any]) -> tuple[str, RecordIn]:
        """(remote key, canonical record) for one row; RowError names the column."""
        if "__invalid__" in row:
            raise RowError("(row)", "is not an object")
        common: dict[str, Any] = {"system": SYSTEM, "object_type": self.kind}
        if self.kind == "customers":
            key = _text(row, "customer_id", required=True) or ""
            currency = _text(row, "currency")
            return key, CustomerIn(
                **common,
                remote_id=key,
                name=_text(row, "name", required=True) or "",
                number=_text(row, "number"),
                email=_text(row, "email"),
                currency=_currency(row) if currency else None,
                tax_id=_text(row, "tax_id"),
                status=_status(row, CustomerStatus, CustomerStatus.ACTIVE),
            )
        currency = _currency(row)
        customer = self.customer_key(row)
        if self.kind in ("invoices", "credit-memos"):
            column = "invoice_number" if self.kind == "invoices" else "credit_memo_number"
            number = _text(row, column, required=True) or ""
            total = _amount(row, "total", currency)
            balance = _amount(row, "balance", currency, required=False) or total
            assert total is not None and balance is not None
            default = DocumentStatus.PAID if balance.is_zero() else DocumentStatus.OPEN
            fields = dict(
                common,
                remote_id=f"{customer}/{number}",
                customer_remote_id=customer,
                number=number,
                total=total,
                balance=balance,
                issue_date=_date(row, "issue_date"),
                status=_status(row, DocumentStatus, default),
                memo=_text(row, "memo"),
            )
            if self.kind == "invoices":
                terms = _text(row, "terms")
                discount = discount_fields(
                    terms, fields["issue_date"], _date(row, "discount_until")
                )
                if _text(row, "discount_until") and not discount["discount_basis_points"]:
                    raise RowError(
                        "terms", f"{terms or ''!r} names no early-payment discount (2/10 net 30)"
                    )
                return fields["remote_id"], InvoiceIn(
                    **fields,
                    **discount,
                    due_date=_date(row, "due_date"),
                    po_number=_text(row, "po_number"),
                )
            return fields["remote_id"], CreditMemoIn(**fields, reference=_text(row, "reference"))
        key = _text(row, "payment_id", required=True) or ""
        amount = _amount(row, "amount", currency)
        assert amount is not None
        applied = []
        for part in (_text(row, "applied_to") or "").split(";"):
            if not part.strip():
                continue
            number, _, value = part.rpartition(":")
            if not number:
                raise RowError("applied_to", f"{part!r} is not INVOICE:AMOUNT")
            share = _amount({"applied_to": value}, "applied_to", currency)
            assert share is not None
            target = f"{customer}/{number.strip()}"
            if target not in self._imported_ids("invoice"):
                # its cash would be neither applied nor unapplied: the row is refused whole
                raise RowError(
                    "applied_to",
                    f"no imported invoice {number.strip()!r} of this customer (import it first)",
                )
            applied.append(AppliedIn(target="invoice", target_remote_id=target, amount=share))
        return key, PaymentIn(
            **common,
            remote_id=key,
            customer_remote_id=customer,
            amount=amount,
            received_on=_date(row, "received_on"),
            method=_text(row, "method"),
            reference=_text(row, "reference"),
            memo=_text(row, "memo"),
            status=_status(row, PaymentStatus, PaymentStatus.POSTED),
            applied=applied,
        )


def import_file(
    store: Store, kind: ImportKind, path: Path, tenant: str = "default"
) -> ImportReport:
    """Import one CSV or JSON file of ``kind``; bad rows are reported, good rows stored.

    Records are linked as a sync links them, so an import holds the sync lease: while a sync
    runs it raises :class:`~canonical.lease.LeaseHeld` and stores nothing."""
    if kind not in STREAMS:
        raise ValueError(f"unknown import kind {kind!r}: {', '.join(STREAMS)}")
    with lease(store, tenant, SYNC_LEASE) as held:
        return _import_file(store, kind, path, tenant, held)


def _import_file(
    store: Store, kind: ImportKind, path: Path, tenant: str, held: Held
) -> ImportReport:
    report = ImportReport(path=str(path), kind=kind)
    importer = Importer(store, kind, tenant)
    mapped: dict[str, RecordIn] = {}
    writer = PageWriter(
        tenant=tenant,
        system=SYSTEM,
        stream=STREAMS[kind],
        mapper=lambda raw, _ctx: mapped[raw.remote_id],
        context=MappingContext(system=SYSTEM),
        system_of_record=SystemOfRecord(),
    )
    page: list[RawRecord] = []

    def flush() -> None:
        if not page:
            return
        with store.session() as session:
            held.renew(session)
            counts: PageCounts = writer.write(session, page)
        report.created += counts.created
        report.updated += counts.updated
        report.unchanged += counts.unchanged
        page.clear()
        mapped.clear()

    try:
        rows = read_rows(path)
        for number, row in rows:
            report.rows += 1
            try:
                key, record = importer.record(row)
            except (RowError, MappingError, MoneyError) as exc:
                report.rejected += 1
                report.errors.append(f"{path.name}: row {number}: {exc}")
                continue
            if key in mapped:
                report.rejected += 1
                report.errors.append(
                    f"{path.name}: row {number}: duplicate key {key!r} in the file"
                )
                continue
            mapped[key] = record
            payload = json.loads(record.model_dump_json())
            page.append(
                RawRecord(stream=STREAMS[kind], object_type=kind, remote_id=key, payload=payload)
            )
            if len(page) >= CHUNK:
                flush()
        flush()
    except (OSError, ValueError, csv.Error) as exc:
        report.errors.append(f"{path.name}: {exc}")
    return report
