"""Test helpers: tiny mappings and a page writer for two fake-but-shaped systems."""

from __future__ import annotations

from typing import Any

from canonical.enums import DocumentStatus
from canonical.money import Money
from canonical.records import AppliedIn, CustomerIn, InvoiceIn, PaymentIn, RecordIn
from canonical.store import Store
from connectors.base import RawRecord
from mappings.base import MappingContext, MappingError, get_path
from sync.pull import PageWriter
from sync.settings import SystemOfRecord


def customer_mapper(raw: RawRecord, ctx: MappingContext) -> RecordIn:
    p = raw.payload
    return CustomerIn(
        system=ctx.system,
        object_type="C",
        remote_id=raw.remote_id,
        name=get_path(p, "name"),
        number=p.get("number"),
        links=p.get("links", {}),
    )


def invoice_mapper(raw: RawRecord, ctx: MappingContext) -> RecordIn:
    p = raw.payload
    if p.get("total") == "garbage":
        raise MappingError("total", "not a number: 'garbage'")
    return InvoiceIn(
        system=ctx.system,
        object_type="I",
        remote_id=raw.remote_id,
        customer_remote_id=p["customer"],
        number=p["number"],
        total=Money(p["total"], "USD"),
        balance=Money(p["balance"], "USD"),
        status=DocumentStatus(p.get("status", "open")),
        links=p.get("links", {}),
    )


def payment_mapper(raw: RawRecord, ctx: MappingContext) -> RecordIn:
    p = raw.payload
    return PaymentIn(
        system=ctx.system,
        object_type="P",
        remote_id=raw.remote_id,
        customer_remote_id=p["customer"],
        amount=Money(p["amount"], "USD"),
        applied=[
            AppliedIn(target=t, target_remote_id=r, amount=Money(a, "USD"))
            for t, r, a in p["applied"]
        ],
    )


MAPPERS = {"customers": customer_mapper, "invoices": invoice_mapper, "payments": payment_mapper}


def write(
    store: Store,
    system: str,
    stream: str,
    rows: list[tuple[str, dict[str, Any]]],
    deleted: bool = False,
) -> Any:
    writer = PageWriter(
        tenant="default",
        system=system,
        stream=stream,
        mapper=MAPPERS[stream],
        context=MappingContext(system=system),
        system_of_record=SystemOfRecord(),
    )
    records = [
        RawRecord(
            stream=stream, object_type=stream, remote_id=rid, payload=payload, deleted=deleted
        )
        for rid, payload in rows
    ]
    with store.session() as session:
        return writer.write(session, records)


def seed_two_systems(store: Store) -> None:
    write(store, "quickbooks", "customers", [("58", {"name": "Acme Corp."})])
    write(
        store,
        "invoiced",
        "customers",
        [("c1", {"name": "ACME CORPORATION", "number": "C-1", "links": {"quickbooks": "58"}})],
    )
    write(
        store,
        "quickbooks",
        "invoices",
        [("130", {"customer": "58", "number": "1001", "total": "100.00", "balance": "100.00"})],
    )


def qbo_connector(sandbox: Any) -> Any:
    """A QuickBooks connector to ``sandbox`` reading pages of 20, retrying without sleeping."""
    from connectors.base import MemoryTokenStore
    from connectors.http import RetryPolicy
    from connectors.registry import entry

    config = sandbox.config().model_copy(update={"page_size": 20})
    tokens = MemoryTokenStore(sandbox.initial_tokens())
    return entry("quickbooks").build(config, tokens, RetryPolicy(sleep=lambda _: None))
