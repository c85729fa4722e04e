"""`arsync outbox plan` after review: cash the bank took back is never planned, a payment
written before is voided where it landed even when undone under a configuration that writes
nowhere, and a decision planned late writes its lines in the order reconcile would have."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, update
from sqlmodel import Session, col

from canonical.enums import CommandStatus
from canonical.models import OutboxCommand
from canonical.store import Store
from reconciler.apply import FlushedBatch
from reconciler.report import build_report
from sync.outbox.plan import OutboxPlanner
from tests.reconciler.test_reverse import returned
from tests.support.receivables import decision
from tests.sync.outbox.books import Book
from tests.sync.outbox.test_outbox_plan_command import (  # noqa: F401  (fixtures)
    QUICKBOOKS,
    SALESFORCE,
    _cli,
    _config,
    _ok,
    _outbox,
    batches,
    db,
)

QBO_SF = ("quickbooks", "salesforce")
INVOICED = '[invoiced]\napi_key = "k"\n'


def test_cash_the_bank_took_back_is_not_planned(tmp_path: Path, db: str) -> None:
    store = Store.open(db)
    book = Book(store)
    acme = book.customer("Acme Corp", QBO_SF)
    book.invoice(acme, "INV-1001", "100.00", QBO_SF)
    cash = book.remittance("Acme Corp", "100.00", "INV-1001")
    nowhere = _config(tmp_path, db)
    _ok("reconcile", "-c", nowhere)
    applied = decision(store, cash)
    taken = returned(store, cash, "100.00")
    _ok("reconcile", "-c", nowhere)
    back = decision(store, taken)
    assert back.exception_kind == "returned_payment"
    assert build_report(store)["outbox"]["not_planned_decisions"] == [applied.id]

    later = _config(tmp_path, db, QUICKBOOKS + SALESFORCE, "later.toml")
    named = _cli("outbox", "plan", applied.id, "-c", later)
    assert named.exit_code == 1
    assert f"decision {applied.id}: the cash it applied was taken back" in named.stderr
    assert f"arsync resolve {back.id} --by person:NAME --reverse" in named.stderr
    everything = _cli("outbox", "plan", "--all", "-c", later)
    assert everything.exit_code == 0 and "taken back" in everything.stderr
    assert _outbox(store) == []


def test_an_undo_where_nothing_is_written_still_voids_the_payment_written_before(
    tmp_path: Path, db: str
) -> None:
    store = Store.open(db)
    book = Book(store)
    acme = book.customer("Acme Corp", ("quickbooks",))
    book.invoice(acme, "INV-1001", "100.00", ("quickbooks",))
    cash = book.remittance("Acme Corp", "100.00", "INV-1001")
    nowhere = _config(tmp_path, db)
    _ok("reconcile", "-c", nowhere)
    applied = decision(store, cash)
    _ok("outbox", "plan", applied.id, "-c", _config(tmp_path, db, QUICKBOOKS, "later.toml"))
    with store.session() as s:  # pushed and confirmed in QuickBooks
        s.execute(
            update(OutboxCommand)
            .where(col(OutboxCommand.decision_id) == applied.id)
            .values(status=CommandStatus.CONFIRMED, remote_id="qb-pay-9")
        )
    undone = _cli("resolve", applied.id, "--by", "person:ana", "--undo", "wrong", "-c", nowhere)
    assert undone.exit_code == 0, undone.output
    assert "voided there once that system is written to again" in undone.stderr
    voids = [c for c in _outbox(store) if c.operation == "void_cash"]
    assert [(c.system, c.status, c.payload["remote_id"]) for c in voids] == [
        ("quickbooks", CommandStatus.PENDING, "qb-pay-9")
    ]


def _written(store: Store) -> list[tuple[str, str, str, str, object]]:
    with store.session() as s:
        rows = s.execute(select(OutboxCommand)).scalars().all()
        return sorted(
            (r.system, r.operation, r.canonical_id, r.idempotency_key, r.payload) for r in rows
        )  # type: ignore[return-value]


def test_lines_planned_late_are_in_the_order_reconcile_writes_them(
    tmp_path: Path, db: str, batches: list[FlushedBatch]
) -> None:
    store = Store.open(db)
    book = Book(store)
    systems = ("quickbooks", "invoiced", "salesforce")
    acme = book.customer("Acme Corp", systems)
    for n in range(1, 9):
        book.invoice(acme, f"INV-10{n:02d}", "100.00", systems)
    book.credit(acme, "CM-9", "30.00", systems)
    text = " ".join(f"INV-10{n:02d}" for n in range(1, 9)) + " less CM-9"
    cash = book.remittance("Acme Corp", "770.00", text)
    _ok("reconcile", "-c", _config(tmp_path, db))
    applied = decision(store, cash)
    assert applied.status == "auto_applied"
    [batch] = batches
    with Session(store.engine) as s:
        OutboxPlanner("default", list(systems))(s, batch)
        rows = s.execute(select(OutboxCommand)).scalars().all()
        expected = sorted(
            (r.system, r.operation, r.canonical_id, r.idempotency_key, r.payload) for r in rows
        )
        s.rollback()
    assert any(len(p.get("lines") or []) == 8 for *_, p in expected)
    later = _config(tmp_path, db, QUICKBOOKS + INVOICED + SALESFORCE, "later.toml")
    _ok("outbox", "plan", applied.id, "-c", later)
    assert _written(store) == expected
