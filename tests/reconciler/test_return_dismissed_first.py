"""A payment waiting for a person (never applied) that the bank then takes back in part: a
person who closes the return first (as the refusal says: close both) still cannot apply the
payment's whole amount afterwards, and the report offers to dismiss it, not --invoice."""

from __future__ import annotations

import pytest

from canonical.store import Store
from reconciler import reconcile
from reconciler.confirm import ConfirmError, confirm
from reconciler.dismiss import dismiss
from reconciler.report import build_report
from tests.reconciler.test_reverse import returned
from tests.reconciler.test_undo import ALL, planner
from tests.support.receivables import balance, decision
from tests.sync.outbox.books import Book


def test_a_return_dismissed_first_still_keeps_its_cash_from_being_applied(store: Store) -> None:
    book = Book(store)
    acme = book.customer("Acme Corp", ALL)
    book.invoice(acme, "INV-1001", "100.00", ALL)
    second = book.invoice(acme, "INV-1002", "100.00", ALL)
    cash = book.remittance("Acme Corp", "100.00", "payment thank you")
    reconcile(store, sink=planner())
    asked = decision(store, cash)
    assert asked.status in ("suggested", "exception")
    back = returned(store, cash, "30.00")
    reconcile(store, sink=planner())
    dismiss(store, decision(store, back).id, by="person:ana", reason="R01", sink=planner())
    with pytest.raises(ConfirmError) as refused:
        confirm(store, asked.id, by="person:ana", invoice_numbers=["INV-1002"], sink=planner())
    assert "took back 30.00 USD" in str(refused.value)
    assert balance(store, second) == ("100.00", "open")
    row = next(r for r in build_report(store)["remittances"] if r["id"] == cash)
    assert row["resolve"] and "--dismiss" in row["resolve"] and "--invoice" not in row["resolve"]
