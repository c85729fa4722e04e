"""Bulk inserts and updates write what the ORM would, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from canonical.bulk import ID_PARAM, delete_in, insert_rows, select_in, update_rows_by_id
from canonical.enums import CustomerStatus, DocumentStatus
from canonical.models import Customer, ExternalRef, Invoice
from canonical.store import Store

CUSTOMER = Customer.__table__  # type: ignore[attr-defined]
INVOICE = Invoice.__table__  # type: ignore[attr-defined]
REF = ExternalRef.__table__  # type: ignore[attr-defined]


def test_insert_fills_left_out_columns_with_their_defaults(store: Store) -> None:
    with store.session() as s:
        insert_rows(s, CUSTOMER, [{"name": "Acme GmbH"}, {"name": "Globex", "credit_hold": True}])
    with store.session() as s:
        rows = {c.name: c for c in s.exec(select(Customer)).all()}
    acme, globex = rows["Acme GmbH"], rows["Globex"]
    assert acme.id != globex.id and len(acme.id) == 32
    assert acme.tenant == "default" and acme.status == CustomerStatus.ACTIVE
    assert acme.credit_hold is False and globex.credit_hold is True
    assert acme.created_at.tzinfo is not None


def test_values_round_trip_through_the_columns_types(store: Store) -> None:
    seen = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    with store.session() as s:
        insert_rows(s, CUSTOMER, [{"id": "c1", "name": "Acme"}])
        insert_rows(
            s,
            INVOICE,
            [
                {
                    "id": f"i{n}",
                    "customer_id": "c1",
                    "number": f"INV-{n}",
                    "currency": "EUR",
                    "total_minor": 12_345_678_901_234 + n,
                    "balance_minor": n,
                    "issue_date": date(2026, 1, 31),
                    "status": DocumentStatus.PAID if n else DocumentStatus.OPEN,
                    "created_at": seen,  # one object shared by every row, as a page writes
                    "updated_at": seen,
                }
                for n in range(3)
            ],
        )
        insert_rows(
            s,
            REF,
            [
                {
                    "canonical_type": "invoice",
                    "canonical_id": "i0",
                    "system": "quickbooks",
                    "remote_id": "17",
                    "object_type": "invoices",
                    "values": {"status": "open", "total_minor": 1},
                    "seen_at": seen,
                }
            ],
        )
    with store.session() as s:
        invoices = {i.id: i for i in s.exec(select(Invoice)).all()}
        ref = s.exec(select(ExternalRef)).one()
    assert invoices["i2"].total_minor == 12_345_678_901_236
    assert invoices["i0"].status == DocumentStatus.OPEN
    assert invoices["i1"].status == DocumentStatus.PAID
    assert invoices["i2"].issue_date == date(2026, 1, 31)
    assert invoices["i2"].updated_at == seen
    assert ref.values == {"status": "open", "total_minor": 1}
    assert ref.seen_at == seen


def test_update_by_id_sets_only_the_columns_each_row_names(store: Store) -> None:
    with store.session() as s:
        insert_rows(
            s,
            CUSTOMER,
            [{"id": "a", "name": "A", "email": "a@x"}, {"id": "b", "name": "B", "email": "b@x"}],
        )
    with store.session() as s:
        update_rows_by_id(
            s,
            CUSTOMER,
            [{ID_PARAM: "a", "email": "new@x"}, {ID_PARAM: "b", "name": "B2", "credit_hold": True}],
        )
    with store.session() as s:
        rows = {c.id: c for c in s.exec(select(Customer)).all()}
    assert (rows["a"].name, rows["a"].email, rows["a"].credit_hold) == ("A", "new@x", False)
    assert (rows["b"].name, rows["b"].email, rows["b"].credit_hold) == ("B2", "b@x", True)


def test_a_failed_bulk_write_leaves_nothing(store: Store) -> None:
    with pytest.raises(Exception), store.session() as s:  # noqa: B017 (driver-specific error)
        insert_rows(s, CUSTOMER, [{"id": "same", "name": "A"}, {"id": "same", "name": "B"}])
    with store.session() as s:
        assert s.exec(select(Customer)).all() == []


def test_update_skipping_unchanged_rows_leaves_them_and_their_stamp_alone(store: Store) -> None:
    before = datetime(2026, 1, 1, tzinfo=UTC)
    after = datetime(2026, 2, 1, tzinfo=UTC)
    with store.session() as s:
        insert_rows(
            s,
            INVOICE,
            [
                {
                    "id": n,
                    "number": n,
                    "currency": "EUR",
                    "issue_date": date(2026, 1, 5),
                    "updated_at": before,
                }
                for n in ("same", "new-total", "was-null")
            ],
        )
        update_rows_by_id(s, INVOICE, [{ID_PARAM: "was-null", "po_number": None}])
    with store.session() as s:
        update_rows_by_id(
            s,
            INVOICE,
            [
                {ID_PARAM: "same", "issue_date": date(2026, 1, 5), "updated_at": after},
                {ID_PARAM: "new-total", "total_minor": 500, "updated_at": after},
                {ID_PARAM: "was-null", "po_number": "PO-1", "updated_at": after},
            ],
            skip_unchanged=True,
        )
    with store.session() as s:
        rows = {i.id: i for i in s.exec(select(Invoice)).all()}
    assert rows["same"].updated_at == before
    assert (rows["new-total"].total_minor, rows["new-total"].updated_at) == (500, after)
    assert (rows["was-null"].po_number, rows["was-null"].updated_at) == ("PO-1", after)


def test_select_in_returns_values_as_the_orm_does_for_any_size_of_set(store: Store) -> None:
    seen = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    refs = [
        {
            "id": f"r{n}",
            "canonical_type": "invoice",
            "canonical_id": f"i{n % 7}",
            "system": "quickbooks" if n % 2 else "invoiced",
            "remote_id": str(n),
            "object_type": "invoices",
            "values": {"total_minor": n, "currency": "EUR"},
            "deleted": n == 3,
            "seen_at": seen,
        }
        for n in range(2_500)  # more members than SQLite's bound-parameter limit of old
    ]
    with store.session() as s:
        insert_rows(s, REF, refs)
    wanted = {str(n) for n in range(1, 2_500, 2)} | {"no such id"}
    with store.session() as s:
        rows = select_in(
            s,
            REF,
            ("id", "remote_id", "values", "deleted", "seen_at"),
            equal={"tenant": "default", "system": "quickbooks"},
            within={"remote_id": wanted},
        )
        nothing = select_in(s, REF, ("id",), within={"remote_id": set()})
        live = select_in(
            s, REF, ("remote_id",), equal={"deleted": False}, within={"canonical_id": {"i3"}}
        )
    assert len(rows) == 1_250 and nothing == []
    by_remote = {row.remote_id: row for row in rows}
    assert by_remote["3"].deleted is True and by_remote["5"].deleted is False
    assert by_remote["5"].values == {"total_minor": 5, "currency": "EUR"}
    assert by_remote["5"].seen_at == seen
    assert {row.remote_id for row in live} == {str(n) for n in range(10, 2_500, 7)}


def test_equal_local_times_of_two_instants_are_stored_as_two_instants(store: Store) -> None:
    # 01:30 in New York before and after the clock goes back compare equal in Python
    zone = ZoneInfo("America/New_York")
    first = datetime(2024, 11, 3, 1, 30, tzinfo=zone)
    second = first.replace(fold=1)
    with store.session() as s:
        insert_rows(s, CUSTOMER, [{"id": "c1", "name": "Acme", "created_at": first}])
        insert_rows(s, CUSTOMER, [{"id": "c2", "name": "Globex", "created_at": second}])
        insert_rows(
            s,
            CUSTOMER,
            [
                {"id": "c3", "name": "Initech", "created_at": first},
                {"id": "c4", "name": "Umbrella", "created_at": second},
            ],
        )
    with store.session() as s:
        stamps = {c.id: c.created_at for c in s.exec(select(Customer)).all()}
    assert stamps["c1"] == stamps["c3"] == datetime(2024, 11, 3, 5, 30, tzinfo=UTC)
    assert stamps["c2"] == stamps["c4"] == datetime(2024, 11, 3, 6, 30, tzinfo=UTC)


def test_delete_in_removes_the_rows_select_in_finds(store: Store) -> None:
    with store.session() as s:
        insert_rows(s, CUSTOMER, [{"id": f"c{n}", "name": f"N{n % 2}"} for n in range(5)])
    with store.session() as s:
        assert delete_in(s, CUSTOMER, equal={"name": "N0"}, within={"id": {"c0", "c1"}}) == 1
        assert delete_in(s, CUSTOMER, within={"id": set()}) == 0
    with store.session() as s:
        assert sorted(c.id for c in s.exec(select(Customer)).all()) == ["c1", "c2", "c3", "c4"]
