"""Probe 7: a number in the text names one invoice, the cash over-pays it, and the cash is
exactly what two or more of the payer's other open invoices owe together. The number may be
the payer's own (a payment run, a voucher) that happens to equal one of our invoices: the
cash is left to a person, with the invoices it would fit named, never put on the invoice the
number names with the rest left unapplied."""

from __future__ import annotations

import pytest

from canonical.store import Store
from reconciler import reconcile
from tests.support.receivables import Book, applied, balance, decision

pytestmark = pytest.mark.usefixtures("book_loading")


def _three(book: Book) -> dict[str, str]:
    """Acme's open invoices 7001 (500.00), 7002 (500.00) and 7003 (800.00): number -> id."""
    acme = book.customer("Acme Corp")
    return {
        n: book.invoice(acme, n, a)
        for n, a in (("7001", "500.00"), ("7002", "500.00"), ("7003", "800.00"))
    }


@pytest.mark.parametrize("text", ["REF 7003", "7003", "INV 7003"])
def test_cash_of_two_other_invoices_is_not_put_on_the_one_a_number_names(
    store: Store, book: Book, text: str
) -> None:
    """1,000.00 naming 7003 (800.00): 7001 + 7002 owe exactly 1,000.00. Nothing is applied;
    the suggestion names both readings."""
    ids = _three(book)
    rid = book.pay("1000.00", payer="ACME CORP", text=text)
    reconcile(store)
    d = decision(store, rid)
    assert d.status == "suggested"
    assert applied(store, rid) == {}
    assert balance(store, ids["7003"]) == ("800.00", "open")
    why = d.evidence["not_applied_because"]
    assert "7001" in why and "7002" in why
    assert d.evidence["over_payment"] == "200.00"
    numbers = [[i["number"] for i in c["invoices"]] for c in d.candidates]
    assert ["7003"] in numbers
    assert sorted(["7001", "7002"]) in [sorted(n) for n in numbers]


def test_over_payment_that_includes_the_named_invoice_still_applies(
    store: Store, book: Book
) -> None:
    """1,300.00 naming 7003 (800.00): the cash fits 7003 + 7001, which holds the invoice
    named, so 7003 is paid and 500.00 stays unapplied (the other 500.00 is not guessed)."""
    _three(book)
    rid = book.pay("1300.00", payer="ACME CORP", text="INV 7003")
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.rule) == ("auto_applied", "invoice_number_in_text")
    assert applied(store, rid) == {"7003": "800.00"}
    assert d.unapplied_minor == 50000
