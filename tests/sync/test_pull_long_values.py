"""Values longer than their columns, pulled through the real mappings on both backends: a
record quarantined for its remote id stays one quarantine row however often it is read, and
a customer whose name is longer than its key column is still one customer across systems."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from canonical.models import Customer, Quarantine
from canonical.store import Store
from connectors.base import RawRecord
from mappings.base import MappingContext
from mappings.registry import mapper
from sync.pull import PageCounts, PageWriter
from sync.settings import SystemOfRecord

LONG_NAME = " ".join(["Internationale Handelsgesellschaft fuer Maschinenbau"] * 6)  # 329 chars


def pull(store: Store, system: str, rows: list[tuple[str, dict[str, Any]]], run: str) -> PageCounts:
    writer = PageWriter(
        tenant="default",
        system=system,
        stream="customers",
        mapper=mapper(system, "customers"),
        context=MappingContext(system=system),
        system_of_record=SystemOfRecord(),
        run_id=run,
    )
    records = [
        RawRecord(stream="customers", object_type="customers", remote_id=rid, payload=payload)
        for rid, payload in rows
    ]
    with store.session() as session:
        return writer.write(session, records)


def test_a_record_quarantined_for_its_long_id_is_read_again_without_a_second_row(
    store: Store,
) -> None:
    long_id = "a" * 200
    row = (long_id, {"id": long_id, "name": "Long Id"})
    assert pull(store, "invoiced", [row], "run-1").quarantined == 1
    assert pull(store, "invoiced", [row], "run-2").quarantined == 0  # still failing, seen again
    with store.session() as session:
        [quarantined] = session.exec(select(Quarantine)).all()
    assert quarantined.run_id == "run-2" and quarantined.resolved_at is None
    assert "at most 128 fit" in quarantined.reason


def test_a_name_longer_than_its_key_column_still_links_across_systems(store: Store) -> None:
    pull(store, "invoiced", [("1", {"id": 1, "name": LONG_NAME})], "run-1")
    qbo = {"Id": "7", "DisplayName": LONG_NAME, "SyncToken": "0"}
    assert pull(store, "quickbooks", [("7", qbo)], "run-1").linked == 1
    with store.session() as session:
        [customer] = session.exec(select(Customer)).all()
    assert customer.name == LONG_NAME[:255]
