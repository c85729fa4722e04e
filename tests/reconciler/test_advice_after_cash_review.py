"""Advice come after its cash, as a review found it misread: an advice for the payer's next
payment never accuses cash its own advice confirmed; an advice without a date pairs with no
applied cash; undoing cash placed with a write-off is refused rather than leaving the
write-off with nothing to justify it."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from canonical.enums import CommandStatus, RemittanceStatus
from canonical.models import Adjustment, Invoice, OutboxCommand
from canonical.store import Store
from canonical.terms import discount_fields
from reconciler import reconcile
from reconciler.confirm import ConfirmError
from reconciler.reverse import reverse
from sync.outbox.plan import OutboxPlanner
from tests.reconciler.test_advice_after_cash import _advice, _cash, _status
from tests.support.receivables import Book, applied, balance, decision, ref
from tests.sync.outbox.books import Book as OutboxBook

ALL = ("quickbooks", "invoiced", "salesforce", "intacct")


def test_the_next_advice_never_accuses_cash_its_own_advice_confirmed(store: Store) -> None:
    book = Book(store)
    initech = book.customer("Initech LLC")
    book.invoice(initech, "7101", "640.00")
    book.invoice(initech, "7102", "400.00")
    book.invoice(initech, "7103", "240.00")
    cash = _cash(store, "640.00", "INITECH LLC", day=date(2026, 11, 2))
    reconcile(store)
    assert applied(store, cash) == {"7101": "640.00"}
    own = _advice(store, "640.00", "INITECH LLC", [ref("7101", "640.00")], day=date(2026, 11, 3))
    reconcile(store)
    assert _status(store, own) == RemittanceStatus.ADVICE_USED
    assert "confirmed_by_advice" in decision(store, cash).evidence
    following = [ref("7102", "400.00"), ref("7103", "240.00")]
    nxt = _advice(store, "640.00", "INITECH LLC", following, day=date(2026, 11, 5))
    assert not reconcile(store).exceptions
    assert _status(store, nxt) == RemittanceStatus.ADVICE  # it waits for its own cash


def test_an_undated_advice_pairs_with_no_applied_cash(store: Store) -> None:
    book = Book(store)
    initech = book.customer("Initech LLC")
    book.invoice(initech, "7101", "640.00")
    book.invoice(initech, "7102", "400.00")
    book.invoice(initech, "7103", "240.00")
    old = _cash(store, "640.00", "INITECH LLC", day=date(2025, 3, 1))
    reconcile(store)
    assert applied(store, old) == {"7101": "640.00"}
    refs = [ref("7102", "400.00"), ref("7103", "240.00")]
    advice = _advice(store, "640.00", "INITECH LLC", refs, day=None)
    assert not reconcile(store).exceptions
    assert _status(store, advice) == RemittanceStatus.ADVICE


def test_undoing_cash_placed_with_a_write_off_is_refused_and_changes_nothing(
    store: Store,
) -> None:
    """640.00 went on 7101 (653.06, 2/10 net 30) with 13.06 discount written off; its advice
    says 7104. The discount was earned by paying 7101: --reverse refuses, naming it."""
    book = OutboxBook(store)
    initech = book.customer("Initech LLC", ALL)
    i7101 = book.invoice(initech, "7101", "653.06", ALL)
    with store.session() as s:
        invoice = s.get(Invoice, i7101)
        assert invoice is not None
        for key, value in discount_fields("2/10 net 30", date(2026, 10, 25)).items():
            setattr(invoice, key, value)
        invoice.issue_date = date(2026, 10, 25)
        s.add(invoice)
    cash = _cash(store, "640.00", "INITECH LLC")
    planner = OutboxPlanner("default", list(ALL))
    reconcile(store, sink=planner)
    with store.session() as s:
        assert list(s.execute(select(Adjustment)).scalars())
        for command in s.execute(select(OutboxCommand)).scalars():
            command.status, command.remote_id = CommandStatus.CONFIRMED, f"r-{command.system}"
            s.add(command)
    book.invoice(initech, "7104", "640.00", ALL)
    advice = _advice(store, "640.00", "INITECH LLC", [ref("7104", "640.00")])
    reconcile(store, sink=planner)
    found = decision(store, advice)
    assert found.exception_kind == "advice_contradicts_applied"
    with pytest.raises(ConfirmError, match="wrote off deductions"):
        reverse(store, found.id, by="person:ana", sink=planner)
    assert applied(store, cash) == {"7101": "640.00"}
    assert balance(store, i7101) == ("0.00", "paid")
    assert decision(store, advice).id == found.id  # still open for a person
