"""An import's link to a customer found by name or number (``import:customer_name``) is a
lookup key, no record of the import system: that customer is still linked by exact name and
proposed by a similar one when a customers file brings it."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from canonical.models import Customer, IdentityCandidate
from canonical.store import Store
from sync.importer import import_file
from tests.support.pull import write


def _invoice_naming(store: Store, tmp_path: Path, name: str) -> None:
    path = tmp_path / "i.csv"
    path.write_text(
        "invoice_number,customer_name,currency,issue_date,total\n"
        f"INV-1,{name},USD,2026-10-01,10.00\n"
    )
    assert import_file(store, "invoices", path).created == 1


def test_a_similar_name_is_proposed_past_an_imports_link(
    sqlite_store: Store, tmp_path: Path
) -> None:
    write(sqlite_store, "quickbooks", "customers", [("58", {"name": "Northwind Traders"})])
    _invoice_naming(sqlite_store, tmp_path, "Northwind Traders")
    path = tmp_path / "c.csv"
    path.write_text("customer_id,name\nC-9,Northwind Trader\n")
    assert import_file(sqlite_store, "customers", path).created == 1
    with sqlite_store.session() as s:
        candidates = s.exec(select(IdentityCandidate)).all()
    assert len(candidates) == 1 and candidates[0].score >= 88


def test_the_same_name_links_past_an_imports_link(sqlite_store: Store, tmp_path: Path) -> None:
    write(sqlite_store, "quickbooks", "customers", [("58", {"name": "Northwind Traders"})])
    _invoice_naming(sqlite_store, tmp_path, "Northwind Traders")
    path = tmp_path / "c.csv"
    path.write_text("customer_id,name\nC-9,Northwind Traders\n")
    import_file(sqlite_store, "customers", path)
    with sqlite_store.session() as s:
        assert len(s.exec(select(Customer)).all()) == 1
