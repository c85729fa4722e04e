"""A sync changing an invoice's or credit memo's balance while a reconcile applies cash to it,
on both backends.

A reconcile reads the open book once, at its start; a sync holds its own lease, not the
reconcile's, and may commit the ERP's new balance (a payment recorded there) or its void
meanwhile. A batch writes the balances it computed only while each invoice and credit memo
still has the balance and status the run read: else nothing of the batch is written, the run
stops and says why, and the next run decides with the new balances. The interleavings are
made deterministic by committing the sync's change, on another connection, at the point
where the race would happen: after the run's decisions, before they are written.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlmodel import col

import reconciler.apply as apply_module
import reconciler.engine as engine_module
from canonical.enums import DocumentStatus
from canonical.models import Application, CreditMemo, Decision, Invoice
from canonical.store import Store
from reconciler import reconcile
from tests.support.receivables import Book, applied, balance, decision, ref


def _before_flush(monkeypatch: pytest.MonkeyPatch, meanwhile: Callable[[], object]) -> list[bool]:
    """Run ``meanwhile`` once, when a reconcile batch has decided and not yet written."""
    real = apply_module.Writes.flush
    ran: list[bool] = []

    def flush(self: apply_module.Writes, session: Any) -> None:
        if self.decisions and not ran:
            ran.append(True)
            meanwhile()
        real(self, session)

    monkeypatch.setattr(apply_module.Writes, "flush", flush)
    return ran


def _sync(store: Store, table: Any, row_id: str, **values: Any) -> Callable[[], None]:
    """A sync committing ``values`` (what sync.pull's upsert writes) on its own connection."""

    def commit() -> None:
        with store.session() as s:
            s.execute(update(table).where(table.c.id == row_id).values(**values))

    return commit


INVOICES = Invoice.__table__  # type: ignore[attr-defined]
MEMOS = CreditMemo.__table__  # type: ignore[attr-defined]


def _nothing_written(store: Store) -> None:
    with store.session() as s:
        assert s.execute(select(func.count()).select_from(Decision)).scalar_one() == 0
        assert s.execute(select(func.count()).select_from(Application)).scalar_one() == 0


def _memo(store: Store, memo_id: str) -> tuple[int, str]:
    with store.session() as s:
        memo = s.get(CreditMemo, memo_id)
        assert memo is not None
        return memo.balance_minor, memo.status


def test_cash_is_not_applied_to_a_balance_a_sync_lowered_meanwhile_then_to_the_new_one(
    store: Store, book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    acme = book.customer("Acme Corp")
    invoice = book.invoice(acme, "1001", "100.00")
    paid = book.pay("100.00", payer="Acme Corp", refs=[ref("1001", "100.00")])
    # meanwhile the ERP recorded 60.00 paid on it elsewhere: a sync pulls balance 40.00
    ran = _before_flush(monkeypatch, _sync(store, INVOICES, invoice, balance_minor=4000))

    first = reconcile(store)

    assert ran
    assert list(first.balances_changed) == [invoice]
    assert first.balances_changed[invoice] == (
        f"invoice 1001 ({invoice}): read as open owing 100.00 USD, now open owing 40.00 USD"
    )
    assert (first.remittances, first.auto_applied, first.changed) == (0, 0, {})
    assert "stopped early" in str(first) and "balances_changed" in first.as_dict()
    _nothing_written(store)
    assert balance(store, invoice) == ("40.00", DocumentStatus.OPEN)  # the ERP's 60.00 kept
    monkeypatch.undo()

    second = reconcile(store)

    assert second.balances_changed == {} and second.remittances == 1
    # decided against what is owed now: never more than 40.00 applied to it
    taken = applied(store, paid)
    assert sum(float(v) for v in taken.values()) <= 40.00
    owed, status = balance(store, invoice)
    assert float(owed) == 40.00 - float(taken.get("1001", "0"))
    assert status == (DocumentStatus.PAID if owed == "0.00" else DocumentStatus.OPEN)


def test_cash_is_not_applied_to_an_invoice_a_sync_voided_meanwhile(
    store: Store, book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    acme = book.customer("Acme Corp")
    invoice = book.invoice(acme, "1001", "100.00")
    paid = book.pay("100.00", payer="Acme Corp", refs=[ref("1001", "100.00")])
    void = _sync(store, INVOICES, invoice, status=DocumentStatus.VOID, balance_minor=0)
    ran = _before_flush(monkeypatch, void)

    first = reconcile(store)

    assert ran and "now void owing 0.00 USD" in first.balances_changed[invoice]
    _nothing_written(store)
    assert balance(store, invoice) == ("0.00", DocumentStatus.VOID)  # never comes back paid
    monkeypatch.undo()

    reconcile(store)

    assert applied(store, paid) == {}
    assert decision(store, paid).status != "auto_applied"
    assert balance(store, invoice) == ("0.00", DocumentStatus.VOID)


def test_a_balance_an_earlier_batch_of_the_run_wrote_is_applied_to_again(
    store: Store, book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not a race: the run's own earlier write is what a later batch expects to find."""
    monkeypatch.setattr(engine_module, "BATCH", 1)
    acme = book.customer("Acme Corp")
    invoice = book.invoice(acme, "1001", "100.00")
    first = book.pay("30.00", payer="Acme Corp", refs=[ref("1001", "30.00")])
    second = book.pay(
        "25.00", payer="Acme Corp", refs=[ref("1001", "25.00")], day=date(2026, 11, 3)
    )
    third = book.pay("45.00", payer="Acme Corp", refs=[ref("1001", "45.00")], day=date(2026, 11, 4))

    summary = reconcile(store)

    assert (summary.auto_applied, summary.balances_changed) == (3, {})
    assert [applied(store, r) for r in (first, second, third)] == [
        {"1001": "30.00"},
        {"1001": "25.00"},
        {"1001": "45.00"},
    ]
    assert balance(store, invoice) == ("0.00", DocumentStatus.PAID)


def test_a_later_batch_stops_when_a_sync_changed_what_an_earlier_one_wrote(
    store: Store, book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "BATCH", 1)
    acme = book.customer("Acme Corp")
    invoice = book.invoice(acme, "1001", "100.00")
    first = book.pay("30.00", payer="Acme Corp", refs=[ref("1001", "30.00")])
    second = book.pay(
        "25.00", payer="Acme Corp", refs=[ref("1001", "25.00")], day=date(2026, 11, 3)
    )
    real = apply_module.Writes.flush
    flushed: list[bool] = []

    def flush(self: apply_module.Writes, session: Any) -> None:
        if self.decisions and len(flushed) == 1:  # the second batch: the ERP voided it
            _sync(store, INVOICES, invoice, status=DocumentStatus.VOID)()
        flushed.append(True)
        real(self, session)

    monkeypatch.setattr(apply_module.Writes, "flush", flush)

    summary = reconcile(store)

    assert summary.auto_applied == 1 and list(summary.balances_changed) == [invoice]
    assert (
        "read as open owing 70.00 USD, now void owing 70.00 USD"
        in (summary.balances_changed[invoice])
    )
    assert applied(store, first) == {"1001": "30.00"} and applied(store, second) == {}
    assert balance(store, invoice) == ("70.00", DocumentStatus.VOID)


def test_a_credit_memo_a_sync_used_up_meanwhile_is_not_applied_again(
    store: Store, book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    acme = book.customer("Acme Corp")
    invoice = book.invoice(acme, "1001", "100.00")
    memo = book.credit(acme, "CM-1", "30.00")
    # the ERP applied the memo elsewhere: a sync pulls it fully applied
    used = _sync(store, MEMOS, memo, balance_minor=0, status=DocumentStatus.PAID)
    ran = _before_flush(monkeypatch, used)

    first = reconcile(store)

    assert ran and list(first.balances_changed) == [memo]
    assert first.balances_changed[memo] == (
        f"credit memo CM-1 ({memo}): read as open owing 30.00 USD, now paid owing 0.00 USD"
    )
    assert first.credit_memos_applied == 0
    _nothing_written(store)
    assert balance(store, invoice) == ("100.00", DocumentStatus.OPEN)
    assert _memo(store, memo) == (0, DocumentStatus.PAID)
    monkeypatch.undo()

    second = reconcile(store)

    assert (second.credit_memos_applied, second.balances_changed) == (0, {})
    assert balance(store, invoice) == ("100.00", DocumentStatus.OPEN)


def test_a_credit_memo_is_not_applied_to_an_invoice_a_sync_paid_meanwhile(
    store: Store, book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    acme = book.customer("Acme Corp")
    invoice = book.invoice(acme, "1001", "100.00")
    memo = book.credit(acme, "CM-1", "30.00")
    paid = _sync(store, INVOICES, invoice, balance_minor=0, status=DocumentStatus.PAID)
    ran = _before_flush(monkeypatch, paid)

    first = reconcile(store)

    assert ran and list(first.balances_changed) == [invoice]
    assert "now paid owing 0.00 USD" in first.balances_changed[invoice]
    _nothing_written(store)
    assert _memo(store, memo) == (3000, DocumentStatus.OPEN)  # its credit still there
    assert balance(store, invoice) == ("0.00", DocumentStatus.PAID)


def test_a_memo_applied_beside_the_cash_is_written_only_while_a_sync_left_it(
    store: Store, book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    wayne = book.customer("Wayne Enterprises")
    invoice = book.invoice(wayne, "5001", "1000.00")
    memo = book.credit(wayne, "CM-77", "50.00")
    paid = book.pay("950.00", payer="WAYNE ENTERPRISES", text="INV 5001 LESS CM 77")
    ran = _before_flush(monkeypatch, _sync(store, MEMOS, memo, balance_minor=2000))

    first = reconcile(store)

    assert ran and list(first.balances_changed) == [memo]
    assert (
        "read as open owing 50.00 USD, now open owing 20.00 USD" in (first.balances_changed[memo])
    )
    _nothing_written(store)
    assert balance(store, invoice) == ("1000.00", DocumentStatus.OPEN)
    assert _memo(store, memo) == (2000, DocumentStatus.OPEN)
    monkeypatch.undo()

    reconcile(store)

    # the memo holds 20.00 now: never 50.00 taken from it
    assert _memo(store, memo)[0] >= 0
    with store.session() as s:
        taken = s.execute(
            select(func.coalesce(func.sum(Application.amount_minor), 0)).where(
                col(Application.source_id) == memo
            )
        ).scalar_one()
    assert taken <= 2000
    assert decision(store, paid) is not None
