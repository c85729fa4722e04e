"""Migrations build the same schema as the models, and an existing database upgrades in place."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel, select

from canonical.models import (
    Adjustment,
    CreditMemo,
    Customer,
    Decision,
    ExternalRef,
    Invoice,
    OutboxCommand,
    Payment,
    Remittance,
)
from canonical.money import Money
from canonical.store import Store, alembic_config, make_engine


def test_migrations_match_the_models(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    command.upgrade(alembic_config(engine), "head")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    engine.dispose()
    assert diff == [], "models changed without a migration: run `make migration m='...'`"


def test_existing_database_is_upgraded_in_place(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    cfg = alembic_config(engine)
    command.upgrade(cfg, "base")
    command.upgrade(cfg, "head")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO customer (id, tenant, name, name_key, status, credit_hold, "
                "created_at, updated_at) VALUES ('c1', 'default', 'Kept', 'KEPT', "
                "'active', 0, '2026-01-01', '2026-01-01')"
            )
        )
    engine.dispose()
    store = Store.open(url)  # an existing database: upgraded, data kept
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM customer")).scalar_one() == "Kept"
        assert "alembic_version" in inspect(conn).get_table_names()
    store.dispose()


ISO_MINOR_UNITS = "579cc0a47296"


def _rows(conn: Any, sql: str) -> list[Any]:
    return [tuple(row) for row in conn.execute(text(sql))]


def test_minor_units_move_from_cldr_to_iso_4217_and_back(store: Store) -> None:
    """Amounts stored at CLDR's scale (HUF 0 digits, IQD 0) are rescaled to ISO 4217's (HUF 2,
    IQD 3), in every table and JSON payload holding minor units; USD and JPY are untouched."""
    cfg = alembic_config(store.engine)
    command.downgrade(cfg, f"{ISO_MINOR_UNITS}-1")
    with store.session() as session:
        session.add(Customer(id="c1", name="Kft"))
        session.flush()
        for iid, currency, total, balance in [
            ("i_huf", "HUF", 1234, 1000),  # 1234 forints, as CLDR's 0 digits stored them
            ("i_iqd", "IQD", 7, 7),
            ("i_usd", "USD", 123450, 123450),
            ("i_jpy", "JPY", 5000, 5000),
        ]:
            session.add(
                Invoice(
                    id=iid,
                    customer_id="c1",
                    number=iid,
                    currency=currency,
                    total_minor=total,
                    balance_minor=balance,
                )
            )
        _old_credit_memo(session, "m_huf", "HUF", 300)
        session.add(Payment(id="p_huf", currency="HUF", amount_minor=2000, unapplied_minor=766))
        for rid, amount in [("r_huf", 1234), ("r_back", -500)]:
            _old_remittance(session, rid, "HUF", amount, [{"ref": "INV-1", "amount": "1234"}])
        session.add(
            Decision(
                id="d_huf",
                source_kind="remittance",
                source_id="r_huf",
                status="auto_applied",
                rule="exact",
                currency="HUF",
                amount_minor=1234,
                applied_minor=1000,
                deduction_minor=34,
                unapplied_minor=200,
                evidence={"amount": "1234"},
            )
        )
        session.flush()
        _old_application(session, "a_huf", "r_huf", "i_huf", "HUF", 1000, "d_huf")
        session.add(
            Adjustment(
                id="j_huf",
                invoice_id="i_huf",
                source_kind="remittance",
                source_id="r_huf",
                currency="HUF",
                amount_minor=34,
                reason_code="short_pay",
                decision_id="d_huf",
            )
        )
        refs: list[tuple[str, str, str, dict[str, Any]]] = [
            (
                "x1",
                "invoice",
                "i_huf",
                {"currency": "HUF", "total_minor": 1234, "balance_minor": "1000"},
            ),
            ("x2", "invoice", "i_huf", {"balance_minor": "1000", "status": "open"}),  # no currency
            ("x3", "invoice", "i_usd", {"currency": "USD", "total_minor": 123450}),
            ("x4", "customer", "c1", {"currency": "HUF", "name": "Kft"}),
        ]
        for rid, ctype, cid, values in refs:
            session.add(
                ExternalRef(
                    id=rid,
                    canonical_type=ctype,
                    canonical_id=cid,
                    system="quickbooks",
                    object_type="Invoice",
                    remote_id=rid,
                    values=values,
                )
            )
        payloads: list[tuple[str, str, dict[str, Any]]] = [
            (
                "o1",
                "apply_cash",
                {
                    "currency": "HUF",
                    "amount_minor": 1234,
                    "unapplied_minor": 200,
                    "lines": [{"invoice_id": "i_huf", "amount_minor": 1000}],
                },
            ),
            ("o2", "write_off", {"currency": "HUF", "invoice_id": "i_huf", "amount_minor": 34}),
            ("o3", "apply_cash", {"currency": "JPY", "amount_minor": 5000, "lines": []}),
            ("o4", "invoice_state", {"invoice_id": "i_huf"}),
        ]
        for oid, operation, payload in payloads:
            session.add(
                OutboxCommand(
                    id=oid,
                    system="quickbooks",
                    operation=operation,
                    decision_id="d_huf",
                    canonical_type="remittance",
                    canonical_id="r_huf",
                    payload=payload,
                    idempotency_key=oid,
                )
            )

    command.upgrade(cfg, "head")
    with store.engine.connect() as conn:
        assert _rows(conn, "SELECT id, total_minor, balance_minor FROM invoice ORDER BY id") == [
            ("i_huf", 123400, 100000),
            ("i_iqd", 7000, 7000),  # IQD: three decimals
            ("i_jpy", 5000, 5000),
            ("i_usd", 123450, 123450),
        ]
        assert _rows(conn, "SELECT total_minor, balance_minor FROM credit_memo") == [(30000, 30000)]
        assert _rows(conn, "SELECT amount_minor, unapplied_minor FROM payment") == [(200000, 76600)]
        assert _rows(conn, "SELECT id, amount_minor FROM remittance ORDER BY id") == [
            ("r_back", -50000),
            ("r_huf", 123400),
        ]
        assert _rows(
            conn,
            "SELECT amount_minor, applied_minor, deduction_minor, unapplied_minor FROM decision",
        ) == [(123400, 100000, 3400, 20000)]
        assert _rows(conn, "SELECT amount_minor FROM application") == [(100000,)]
        assert _rows(conn, "SELECT amount_minor FROM adjustment") == [(3400,)]
    with store.session() as session:
        refs_after = {r.id: r.values for r in session.exec(select(ExternalRef))}
        commands = {c.id: c.payload for c in session.exec(select(OutboxCommand))}
        decision = session.exec(select(Decision)).one()
        remittance = session.get(Remittance, "r_huf")
        invoice = session.get(Invoice, "i_huf")
    assert refs_after["x1"] == {"currency": "HUF", "total_minor": 123400, "balance_minor": "100000"}
    assert refs_after["x2"] == {"balance_minor": "100000", "status": "open"}  # the invoice's HUF
    assert refs_after["x3"] == {"currency": "USD", "total_minor": 123450}
    assert refs_after["x4"] == {"currency": "HUF", "name": "Kft"}
    assert commands["o1"] == {
        "currency": "HUF",
        "amount_minor": 123400,
        "unapplied_minor": 20000,
        "lines": [{"invoice_id": "i_huf", "amount_minor": 100000}],
    }
    assert commands["o2"]["amount_minor"] == 3400
    assert commands["o3"] == {"currency": "JPY", "amount_minor": 5000, "lines": []}
    assert commands["o4"] == {"invoice_id": "i_huf"}
    # decimal text in major units means the same at either scale: left alone
    assert decision.evidence == {"amount": "1234"}
    assert remittance is not None and remittance.structured_refs == [
        {"ref": "INV-1", "amount": "1234"}
    ]
    assert invoice is not None and invoice.total == Money("1234", "HUF")
    assert str(invoice.total.amount) == "1234.00"

    command.downgrade(cfg, f"{ISO_MINOR_UNITS}-1")  # back to CLDR's scale, exactly
    with store.engine.connect() as conn:
        assert _rows(conn, "SELECT id, total_minor FROM invoice ORDER BY id") == [
            ("i_huf", 1234),
            ("i_iqd", 7),
            ("i_jpy", 5000),
            ("i_usd", 123450),
        ]
    with store.session() as session:
        ref = session.get(ExternalRef, "x1")
        cash = session.get(OutboxCommand, "o1")
    assert ref is not None and ref.values["balance_minor"] == "1000"
    assert cash is not None and cash.payload["lines"] == [
        {"invoice_id": "i_huf", "amount_minor": 1000}
    ]
    command.upgrade(cfg, "head")


def test_downgrade_refuses_amounts_the_old_scale_cannot_hold(store: Store) -> None:
    """HUF 1234.50 has no CLDR-scale (whole forint) form: nothing is rounded, nothing changes."""
    with store.session() as session:
        session.add(
            Invoice(id="i1", number="1", currency="HUF", total_minor=123450, balance_minor=0)
        )
    with pytest.raises(RuntimeError, match=r"invoice\.total_minor"):
        command.downgrade(alembic_config(store.engine), f"{ISO_MINOR_UNITS}-1")
    with store.engine.connect() as conn:
        assert _rows(conn, "SELECT total_minor FROM invoice") == [(123450,)]


def test_upgrade_refuses_an_amount_the_new_scale_cannot_store(store: Store) -> None:
    cfg = alembic_config(store.engine)
    command.downgrade(cfg, f"{ISO_MINOR_UNITS}-1")
    with store.session() as session:
        session.add(Invoice(id="i1", number="1", currency="HUF", total_minor=2**62))
        session.add(Invoice(id="i2", number="2", currency="HUF", total_minor=5))
    with pytest.raises(RuntimeError, match="too large"):
        command.upgrade(cfg, "head")
    with store.engine.connect() as conn:  # the whole migration rolled back
        assert _rows(conn, "SELECT total_minor FROM invoice ORDER BY id") == [(2**62,), (5,)]


WRITE_OFF_MEMOS = "51896c668667"


def test_write_off_credit_memos_pushed_before_are_marked_used_up(store: Store) -> None:
    """The credit memos arsync created for write-offs before the column existed (its own, under
    the id of the adjustment they write off) are marked; a customer's credit memo is not."""
    cfg = alembic_config(store.engine)
    command.downgrade(cfg, f"{WRITE_OFF_MEMOS}-1")
    with store.session() as session:
        session.add(Invoice(id="i1", number="1001", currency="USD", total_minor=500))
        session.flush()
        for aid in ("j1", "j2"):
            session.add(
                Adjustment(
                    id=aid,
                    invoice_id="i1",
                    source_kind="remittance",
                    source_id="r1",
                    currency="USD",
                    amount_minor=300,
                    reason_code="SHORTPAY",
                )
            )
        for memo_id in ("j1", "m1"):
            _old_credit_memo(session, memo_id, "USD", 300)
        for rid, memo_id, rule in [("x1", "j1", "pushed"), ("x2", "m1", "number_customer")]:
            session.add(
                ExternalRef(
                    id=rid,
                    canonical_type="credit_memo",
                    canonical_id=memo_id,
                    system="quickbooks",
                    object_type="CreditMemo",
                    remote_id=rid,
                    link_rule=rule,
                )
            )
    command.upgrade(cfg, "head")
    with store.session() as session:
        marked = {m.id: m.adjustment_id for m in session.exec(select(CreditMemo))}
    assert marked == {"j1": "j1", "m1": None}


def _old_remittance(
    session: Any, remittance_id: str, currency: str, minor: int, refs: list[dict[str, str]]
) -> None:
    """A new remittance in a database at an older revision: only the columns it has then."""
    session.execute(
        text(
            "INSERT INTO remittance (id, tenant, source, source_key, currency, amount_minor, "
            "structured_refs, raw, status, created_at) VALUES (:id, 'default', 'stripe', :id, "
            ":currency, :minor, :refs, '', 'NEW', :at)"
        ),
        {
            "id": remittance_id,
            "currency": currency,
            "minor": minor,
            "refs": json.dumps(refs),
            "at": datetime(2026, 1, 1, tzinfo=UTC),
        },
    )


def _old_application(
    session: Any,
    application_id: str,
    source_id: str,
    invoice_id: str,
    currency: str,
    minor: int,
    decision_id: str,
) -> None:
    """The reconciler's application in a database at an older revision: only the columns it
    has then (``payment_id`` came later)."""
    session.execute(
        text(
            "INSERT INTO application (id, tenant, kind, source_id, invoice_id, currency, "
            "amount_minor, origin, decision_id, status, created_at) VALUES (:id, 'default', "
            "'remittance', :source, :invoice, :currency, :minor, 'reconciler', :decision, "
            "'APPLIED', :at)"
        ),
        {
            "id": application_id,
            "source": source_id,
            "invoice": invoice_id,
            "currency": currency,
            "minor": minor,
            "decision": decision_id,
            "at": datetime(2026, 1, 1, tzinfo=UTC),
        },
    )


def _old_credit_memo(session: Any, memo_id: str, currency: str, minor: int) -> None:
    """An open credit memo in a database at an older revision: only the columns it has then
    (the model has gained some since)."""
    session.execute(
        text(
            "INSERT INTO credit_memo (id, tenant, number, number_key, currency, total_minor, "
            "balance_minor, status, created_at, updated_at) VALUES (:id, 'default', :id, '', "
            ":currency, :minor, :minor, 'OPEN', :at, :at)"
        ),
        {
            "id": memo_id,
            "currency": currency,
            "minor": minor,
            "at": datetime(2026, 1, 1, tzinfo=UTC),
        },
    )
