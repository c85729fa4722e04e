"""Two reconciles at once (the schedule in `arsync serve` and an operator's `arsync run`, a
webhook's cycle and a cron job) never decide the same cash twice, nor from balances the other
is changing: the second is refused before it decides anything, and so is a person's resolve."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

import reconciler.engine
from canonical.lease import LeaseHeld
from canonical.models import Decision
from canonical.store import Store
from reconciler import reconcile
from reconciler.confirm import confirm
from tests.support.receivables import Book, applied, balance, ref


def live_decisions(store: Store, remittance_id: str) -> list[Decision]:
    with store.session() as s:
        return list(
            s.execute(
                select(Decision).where(
                    col(Decision.source_id) == remittance_id, col(Decision.superseded).is_(False)
                )
            ).scalars()
        )


class Paused:
    """Holds the run in the thread named ``first`` after it has read its batch of new
    remittances and before it decides them, until released."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.reached = threading.Event()
        self.release = threading.Event()
        original = reconciler.engine._superseded

        def paused(*args: Any, **kwargs: Any) -> Any:
            if threading.current_thread().name == "first":
                self.reached.set()
                self.release.wait(timeout=30)
            return original(*args, **kwargs)

        monkeypatch.setattr(reconciler.engine, "_superseded", paused)

    def start(self, work: Any) -> tuple[threading.Thread, list[BaseException]]:
        errors: list[BaseException] = []

        def run() -> None:
            try:
                work()
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=run, name="first")
        thread.start()
        assert self.reached.wait(timeout=30), "the first run never reached its batch"
        return thread, errors


def test_a_second_reconcile_while_one_runs_is_refused_and_the_cash_is_applied_once(
    store: Store, book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    acme = book.customer("Acme Corp")
    invoice = book.invoice(acme, "INV-1001", "1200.00")
    paid = book.pay("1200.00", payer="ACME CORP", refs=[ref("INV-1001", "1200.00")])
    pause = Paused(monkeypatch)
    thread, errors = pause.start(lambda: reconcile(store))
    try:
        with pytest.raises(LeaseHeld, match="another reconcile is running"):
            reconcile(store)
    finally:
        pause.release.set()
        thread.join(timeout=60)
    assert errors == []
    [decision] = live_decisions(store, paid)
    assert decision.status == "auto_applied"
    assert applied(store, paid) == {"INV-1001": "1200.00"}
    assert balance(store, invoice) == ("0.00", "paid")
    # the lease is released: the next run goes ahead (and finds nothing new)
    assert reconcile(store).remittances == 0


def test_a_person_cannot_resolve_while_a_reconcile_runs(
    store: Store, book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    acme = book.customer("Acme Corp")
    book.invoice(acme, "INV-2001", "500.00")
    book.invoice(acme, "INV-2002", "700.00")
    unclear = book.pay("300.00", payer="ACME CORP")
    reconcile(store)
    [suggestion] = live_decisions(store, unclear)
    assert suggestion.status != "auto_applied"
    book.pay("500.00", payer="ACME CORP", refs=[ref("INV-2001", "500.00")])
    pause = Paused(monkeypatch)
    thread, errors = pause.start(lambda: reconcile(store))
    try:
        with pytest.raises(LeaseHeld):
            confirm(store, suggestion.id, by="person:ana", invoice_numbers=["INV-2002"])
    finally:
        pause.release.set()
        thread.join(timeout=60)
    assert errors == []
    confirmed = confirm(store, suggestion.id, by="person:ana", invoice_numbers=["INV-2002"])
    assert confirmed.status == "auto_applied"
    assert applied(store, unclear) == {"INV-2002": "300.00"}
