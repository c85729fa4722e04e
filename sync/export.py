"""Exporting canonical records as JSON or CSV, each with its refs in every system."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime
from enum import Enum
from typing import Any, Literal

from sqlalchemy import select
from sqlmodel import SQLModel, col

from canonical.models import Application, CreditMemo, Customer, ExternalRef, Invoice, Payment
from canonical.money import Money
from canonical.store import Store
from reconciler.report import spreadsheet_text

ExportKind = Literal["customers", "invoices", "credit-memos", "payments", "applications"]

_TABLES: dict[str, tuple[type[SQLModel], str | None]] = {
    "customers": (Customer, "customer"),
    "invoices": (Invoice, "invoice"),
    "credit-memos": (CreditMemo, "credit_memo"),
    "payments": (Payment, "payment"),
    "applications": (Application, None),
}
_HIDDEN = {"tenant", "name_key", "number_key"}


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _row(obj: SQLModel) -> dict[str, Any]:
    """Canonical fields; ``*_minor`` columns become amounts as strings."""
    data = obj.model_dump()
    currency = data.get("currency")
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in _HIDDEN:
            continue
        if key.endswith("_minor"):
            out[key.removesuffix("_minor")] = (
                str(Money.from_minor(value, currency).amount) if currency else str(value)
            )
        else:
            out[key] = _plain(value)
    return out


def export_rows(
    store: Store, kind: ExportKind, tenant: str = "default"
) -> Iterator[dict[str, Any]]:
    """Rows of one kind with ``refs``: ``[{"system", "id"}]``, streamed in chunks."""
    table, ctype = _TABLES[kind]
    with store.session() as session:
        columns = table.__table__.c  # type: ignore[attr-defined]
        result = session.execute(
            select(table)
            .where(columns.tenant == tenant)
            .order_by(columns.id)
            .execution_options(yield_per=2000)
        ).scalars()
        batch: list[SQLModel] = []
        for obj in result:
            batch.append(obj)
            if len(batch) >= 2000:
                yield from _with_refs(session, batch, ctype)
                batch = []
        if batch:
            yield from _with_refs(session, batch, ctype)


def _with_refs(session: Any, batch: list[SQLModel], ctype: str | None) -> Iterator[dict[str, Any]]:
    refs: dict[str, list[dict[str, str]]] = defaultdict(list)
    if ctype is not None:
        ids = [obj.id for obj in batch]  # type: ignore[attr-defined]
        for ref in session.execute(
            select(ExternalRef).where(
                col(ExternalRef.canonical_type) == ctype,
                col(ExternalRef.canonical_id).in_(ids),
            )
        ).scalars():
            item = {"system": ref.system, "id": ref.remote_id}
            if ref.deleted:
                item["deleted"] = "true"
            refs[ref.canonical_id].append(item)
    for obj in batch:
        row = _row(obj)
        if ctype is not None:
            row["refs"] = sorted(refs.get(row["id"], []), key=lambda r: r["system"])
        yield row


def export_columns(kind: ExportKind) -> list[str]:
    """The columns of one kind, as :func:`export_rows` names them (the CSV header)."""
    table, ctype = _TABLES[kind]
    columns = [name.removesuffix("_minor") for name in table.model_fields if name not in _HIDDEN]
    return [*columns, "refs"] if ctype is not None else columns


def write_export(
    store: Store,
    kind: ExportKind,
    fmt: Literal["json", "csv"],
    out: io.TextIOBase | Any,
    tenant: str = "default",
) -> int:
    """Write an export to a text stream; returns the number of rows. A CSV export has its
    header row even when there are no rows."""
    count = 0
    if fmt == "json":
        out.write("[")
        for row in export_rows(store, kind, tenant):
            out.write(("," if count else "") + "\n  " + json.dumps(row, ensure_ascii=False))
            count += 1
        out.write("\n]\n" if count else "]\n")
        return count
    writer = csv.DictWriter(out, fieldnames=export_columns(kind))
    writer.writeheader()
    for row in export_rows(store, kind, tenant):
        if "refs" in row:
            row["refs"] = ";".join(f"{r['system']}:{r['id']}" for r in row["refs"])
        writer.writerow({key: spreadsheet_text(value) for key, value in row.items()})
        count += 1
    return count
