"""The applications a pulled payment writes are its own: its cash (the payment their source)
and the credits it applies (the memo their source, the payment named in ``payment_id``).
Writing the payment again (any change, a remap after a mapping version bump), voiding or
deleting it replaces or reverses all of them; a credit whose invoice is not stored is used
up on no row, never on the next invoice."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from alembic import command
from sqlalchemy import text
from sqlmodel import col, select

from canonical.models import Application, CreditMemo, ExternalRef, Invoice, SyncBookmark
from canonical.store import Store, alembic_config
from connectors.base import RawRecord
from mappings.base import MappingContext
from mappings.registry import mapper
from sync.pull import PageWriter
from sync.settings import SystemOfRecord
from tests.mappings.intacct.test_intacct_payment_credit_pairing import (
    SECOND_INVOICE,
    detail,
    payment,
)
from tests.mappings.intacct.test_intacct_pull import CREDIT_MEMO, CUSTOMER, INVOICE, write
from tests.mappings.invoiced.test_invoiced_pull_credit_balance import raw, store_pages

STAMP = datetime(2026, 4, 20, 17, 0, tzinfo=UTC)
BEFORE_PAYMENT_ID = "d81f3a6c5e02"  # the migration before application.payment_id
RIGHT = [
    ("credit_memo", "ADJ8105", "INV8102", 4000, "applied"),
    ("payment", "cash", "INV8101", 20000, "applied"),
    ("payment", "cash", "INV8102", 5000, "applied"),
]


def write_payment(store: Store, row: dict[str, Any], *, deleted: bool = False) -> None:
    writer = PageWriter(
        tenant="default",
        system="intacct",
        stream="payments",
        mapper=mapper("intacct", "payments"),
        context=MappingContext(system="intacct", home_currency="USD"),
        system_of_record=SystemOfRecord(),
    )
    record = RawRecord("payments", "ARPYMT", "8140", row, modified_at=STAMP, deleted=deleted)
    with store.session() as session:
        writer.write(session, [record])


def rows(store: Store) -> list[tuple[str, str, str, int, str]]:
    with store.session() as s:
        numbers = {i.id: i.number for i in s.exec(select(Invoice)).all()}
        memos = {m.id: m.number for m in s.exec(select(CreditMemo)).all()}
        return sorted(
            (
                str(a.kind),
                memos.get(a.source_id, "cash"),
                numbers[a.invoice_id],
                a.amount_minor,
                str(a.status),
            )
            for a in s.exec(select(Application)).all()
        )


def book(store: Store) -> dict[str, Any]:
    write(store, "customers", [("C-00031", CUSTOMER)])
    write(store, "invoices", [("8101", INVOICE), ("8102", SECOND_INVOICE)])
    write(store, "credit_memos", [("8105", CREDIT_MEMO)])
    return payment("250.00", detail("8101", "200.00"), detail("8102", "50.00", "40.00"))


def test_a_payment_written_again_replaces_its_credit_rows(sqlite_store: Store) -> None:
    row = book(sqlite_store)
    write_payment(sqlite_store, row)
    assert rows(sqlite_store) == RIGHT
    changed = {**row, "DESCRIPTION": "edited in Intacct"}
    write_payment(sqlite_store, changed)
    assert rows(sqlite_store) == RIGHT  # the credit row was kept and written again: doubled


def test_credit_rows_stored_before_they_named_their_payment_are_written_again(
    store: Store,
) -> None:
    """A database upgraded from before ``payment_id``: which payment wrote a credit row
    cannot be told, so the migration drops those rows and has every payment read and
    written again (its ref unread, its stream remapped); the next write puts them back."""
    row = book(store)
    write_payment(store, row)
    cfg = alembic_config(store.engine)
    command.downgrade(cfg, BEFORE_PAYMENT_ID)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE sync_bookmark SET mapping_version = '10'"))
        conn.execute(
            text(
                "INSERT INTO sync_bookmark (tenant, system, stream, cursor, boundary_ids, "
                "mapping_version, updated_at) VALUES ('default', 'intacct', 'payments', "
                "'2026-04-20T17:00:00+00:00', '[]', '10', :at)"
            ),
            {"at": STAMP},
        )
    command.upgrade(cfg, "head")
    assert [r for r in rows(store) if r[0] == "credit_memo"] == []
    with store.session() as s:
        hashes = s.exec(
            select(ExternalRef.hash).where(col(ExternalRef.canonical_type) == "payment")
        ).all()
        versions = s.exec(select(SyncBookmark.mapping_version)).all()
    assert hashes == [""] and versions == [None]
    write_payment(store, row)  # the remap reads it again: unchanged payload, unread hash
    assert rows(store) == RIGHT


def test_a_voided_or_deleted_payment_leaves_none_of_its_rows_applied(
    sqlite_store: Store,
) -> None:
    row = book(sqlite_store)
    write_payment(sqlite_store, row)
    write_payment(sqlite_store, {**row, "STATE": "Voided"})
    assert {r[4] for r in rows(sqlite_store)} == {"reversed"}
    write_payment(sqlite_store, row)
    write_payment(sqlite_store, {}, deleted=True)
    assert {r[4] for r in rows(sqlite_store)} == {"reversed"}


def test_a_credit_on_an_invoice_not_stored_is_on_no_row(sqlite_store: Store) -> None:
    write(sqlite_store, "customers", [("C-00031", CUSTOMER)])
    write(sqlite_store, "invoices", [("8102", SECOND_INVOICE)])  # 8101 not stored
    write(sqlite_store, "credit_memos", [("8105", CREDIT_MEMO)])
    write_payment(
        sqlite_store, payment("50.00", detail("8101", "0", "40.00"), detail("8102", "50.00"))
    )
    assert rows(sqlite_store) == [("payment", "cash", "INV8102", 5000, "applied")]


def test_invoiced_credit_balance_on_an_invoice_not_stored_takes_no_cash(
    sqlite_store: Store,
) -> None:
    store_pages(sqlite_store, "customers", raw("customers", '{"id": 9, "name": "Initech"}'))
    store_pages(
        sqlite_store,
        "invoices",
        raw(
            "invoices",
            '{"id": 502, "customer": 9, "currency": "usd", "number": "INV-0502", '
            '"status": "paid", "paid": true, "total": 100, "balance": 0}',
        ),
    )
    store_pages(
        sqlite_store,
        "payments",
        raw(
            "payments",
            '{"id": 7100, "customer": 9, "currency": "usd", "amount": 100, "balance": 0, '
            '"voided": false, "applied_to": ['
            '{"type": "applied_credit", "document_type": "invoice", "invoice": 501, '
            '"amount": 30}, {"type": "invoice", "invoice": 502, "amount": 100}]}',
        ),
    )
    assert rows(sqlite_store) == [("payment", "cash", "INV-0502", 10000, "applied")]
