"""Cash applied to 7101 by its amount alone; its remittance advice then names 7102 and 7103
(an ``advice_contradicts_applied`` exception). That exception settles the cash: ``--undo`` on
the cash is refused and points at ``--reverse`` on the advice's exception (which undoes the
cash and lets the advice place it), or at ``--dismiss`` on it when the advice is wrong too.
Undone behind the exception's back, the exception was left naming a superseded decision with a
``--reverse`` command that was always refused."""

from __future__ import annotations

import pytest

from canonical.store import Store
from reconciler import reconcile
from reconciler.confirm import ConfirmError
from reconciler.dismiss import dismiss
from reconciler.report import build_report
from reconciler.reverse import reverse, undo
from tests.reconciler.test_advice_after_cash import (
    CONTRADICTS,
    _advice,
    _applied_on_7101,
    _cash,
    _initech,
)
from tests.support.receivables import Book, balance, decision, ref

pytestmark = pytest.mark.usefixtures("book_loading")


def _contradicted(store: Store, book: Book) -> tuple[str, str, str, dict[str, str]]:
    """(cash, advice, the advice's exception id, the invoices by number)."""
    invoices = _initech(book)
    cash = _cash(store, "640.00", "INITECH LLC")
    _applied_on_7101(store, cash)
    advice = _advice(store, "640.00", "INITECH LLC", [ref("7102", "400.00"), ref("7103", "240.00")])
    reconcile(store)
    exception = decision(store, advice)
    assert exception.exception_kind == CONTRADICTS
    return cash, advice, exception.id, invoices


def _owed(store: Store, invoices: dict[str, str]) -> dict[str, str]:
    return {number: balance(store, i)[0] for number, i in invoices.items()}


def test_undo_of_cash_an_advice_contradicts_is_refused_pointing_at_reverse(
    store: Store, book: Book
) -> None:
    cash, advice, exception, invoices = _contradicted(store, book)
    applied_by = decision(store, cash).id
    with pytest.raises(ConfirmError) as refused:
        undo(store, cash, by="person:ana", reason="the advice says 7102 and 7103")
    said = str(refused.value)
    assert cash in said and advice in said
    assert f"arsync resolve {exception} --by person:NAME --reverse" in said
    assert "--dismiss" in said
    # nothing was undone
    assert decision(store, cash).id == applied_by
    assert _owed(store, invoices) == {"7101": "0.00", "7102": "400.00", "7103": "240.00"}
    # the command it names works, and the advice places the cash
    reverse(store, exception, by="person:ana")
    reconcile(store)
    assert _owed(store, invoices) == {"7101": "640.00", "7102": "0.00", "7103": "0.00"}
    assert build_report(store)["exceptions"].get(CONTRADICTS, []) == []


def test_with_the_advice_dismissed_the_cash_can_be_undone(store: Store, book: Book) -> None:
    cash, _, exception, invoices = _contradicted(store, book)
    dismiss(store, exception, by="person:ana", reason="the advice is of another payment")
    made = undo(store, cash, by="person:ana", reason="it paid 7104")
    assert (made.status, made.exception_kind) == ("exception", "decision_undone")
    assert _owed(store, invoices) == {"7101": "640.00", "7102": "400.00", "7103": "240.00"}
    assert build_report(store)["exceptions"].get(CONTRADICTS, []) == []
