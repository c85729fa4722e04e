"""The store works the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import select

from canonical.models import Customer, Invoice
from canonical.money import Money
from canonical.store import Store


def test_money_round_trips_exactly(store: Store) -> None:
    with store.session() as s:
        c = Customer(name="Acme GmbH")
        s.add(c)
        s.flush()
        inv = Invoice(
            customer_id=c.id,
            number="INV-1",
            currency="EUR",
            total_minor=Money("1234567890123.45", "EUR").minor,
            balance_minor=Money("0.10", "EUR").minor + Money("0.20", "EUR").minor,
            issue_date=date(2026, 1, 31),
        )
        s.add(inv)
    with store.session() as s:
        got = s.exec(select(Invoice)).one()
        assert got.total == Money("1234567890123.45", "EUR")
        assert got.balance == Money("0.30", "EUR")
        assert got.updated_at.tzinfo is not None
        assert got.updated_at <= datetime.now(UTC)


def test_failed_session_rolls_back(store: Store) -> None:
    try:
        with store.session() as s:
            s.add(Customer(name="Never stored"))
            s.flush()
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    with store.session() as s:
        assert s.exec(select(Customer)).all() == []


def test_reopen_is_idempotent(store: Store) -> None:
    Store.open(store.url).dispose()
    store.migrate()


def test_json_columns_write_decimals_as_strings_and_keys_as_text() -> None:
    from decimal import Decimal

    from canonical.store import json_dumps

    assert json_dumps({"amount": Decimal("1.10"), 7: [True, None]}) == (
        '{"amount":"1.10","7":[true,null]}'
    )


def test_bulk_growth_refreshes_postgres_planner_statistics(pg_store: Store) -> None:
    from sqlalchemy import text

    from canonical.bulk import insert_rows
    from canonical.store import ANALYZE_AFTER_ROWS

    def estimated_rows() -> float:
        with pg_store.session() as s:
            return float(
                s.execute(
                    text("SELECT reltuples FROM pg_class WHERE oid = 'customer'::regclass")
                ).one()[0]
            )

    with pg_store.session() as s:
        insert_rows(s, Customer.__table__, [{"name": f"C{n}"} for n in range(25)])  # type: ignore[attr-defined]
    pg_store.wrote(ANALYZE_AFTER_ROWS - 1)
    assert estimated_rows() <= 0  # never analyzed: the planner would think it empty
    pg_store.wrote(1)
    assert estimated_rows() == 25
