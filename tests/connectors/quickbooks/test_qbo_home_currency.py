"""A QuickBooks company without multicurrency writes amounts without ``CurrencyRef``: they are
in the company's home currency, which its Preferences name, whatever arsync's own home
currency is."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import select

from canonical.models import Customer, ExternalRef, Invoice
from canonical.store import Store
from connectors.quickbooks import QuickBooksSandbox
from connectors.sandbox.world import World
from sync.engine import SyncEngine
from tests.connectors.quickbooks.qbo_helpers import sandbox_connector


@pytest.fixture
def pound_box() -> Iterator[QuickBooksSandbox]:
    box = QuickBooksSandbox(world=World.generate(5, customers=6, invoices=30), home_currency="GBP")
    box.start()
    yield box
    box.stop()


def test_check_learns_the_home_currency_from_the_preferences(pound_box: QuickBooksSandbox) -> None:
    connector, _ = sandbox_connector(pound_box)
    assert connector.mapping_facts() == {}
    connector.check()
    assert connector.mapping_facts() == {"home_currency": "GBP"}


def stored(store: Store, model: type[Invoice] | type[Customer], remote_id: str) -> str:
    ctype = "invoice" if model is Invoice else "customer"
    with store.session() as session:
        canonical_id = session.exec(
            select(ExternalRef.canonical_id).where(
                ExternalRef.system == "quickbooks",
                ExternalRef.canonical_type == ctype,
                ExternalRef.remote_id == remote_id,
            )
        ).one()
        row = session.get(model, canonical_id)
        assert isinstance(row, Invoice | Customer) and row.currency is not None
        return row.currency


def test_amounts_without_a_currency_ref_are_in_the_company_home_currency(
    pound_box: QuickBooksSandbox, sqlite_store: Store
) -> None:
    invoice = next(iter(pound_box.records["Invoice"].values()))
    customer = pound_box.records["Customer"][invoice["CustomerRef"]["value"]]
    invoice.pop("CurrencyRef")  # a company without multicurrency: no CurrencyRef anywhere
    customer.pop("CurrencyRef")
    connector, _ = sandbox_connector(pound_box)
    result = SyncEngine(sqlite_store, home_currency="USD").sync(connector)
    assert result.error is None
    assert stored(sqlite_store, Invoice, invoice["Id"]) == "GBP"
    assert stored(sqlite_store, Customer, customer["Id"]) == "GBP"
