"""Probe 7: a bank cuts remittance text at its field's length (camt ``Ustrd`` 140, NACHA
addenda 80) in the middle of a list of invoice numbers written short: ``10231/32/34`` becomes
``10231/32/3`` and ``10231-34`` becomes ``10231-3``. The last number read (10233) is then
one the payer never wrote: the cash is not applied on that reading, and the evidence says
where the text was cut."""

from __future__ import annotations

import pytest

from canonical.store import Store
from reconciler import reconcile
from tests.support.receivables import Book, applied, balance, decision

pytestmark = pytest.mark.usefixtures("book_loading")

FILLER = "PAYMENT FOR GOODS DELIVERED " * 6


def _four(book: Book) -> dict[str, str]:
    """Acme's invoices 10231..10234 of 100.00, 200.00, 300.00, 400.00: number -> id."""
    acme = book.customer("Acme Corp")
    return {f"1023{n}": book.invoice(acme, f"1023{n}", f"{n}00.00") for n in range(1, 5)}


@pytest.mark.parametrize(
    ("tail", "length"),
    [(" INV 10231/32/3", 140), (" INV 10231-3", 140), (" INV 10231/32/3", 80)],
)
def test_a_short_written_list_cut_at_the_field_length_is_not_applied(
    store: Store, book: Book, tail: str, length: int
) -> None:
    """700.00 for 10231 + 10232 + 10234, the text cut inside the last number: 10233 is not
    paid on a number the bank cut."""
    ids = _four(book)
    text = FILLER[: length - len(tail)] + tail
    assert len(text) == length
    rid = book.pay("700.00", payer="ACME CORP", text=text)
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.rule) == ("suggested", "invoice_number_in_text")
    assert applied(store, rid) == {}
    assert balance(store, ids["10233"]) == ("300.00", "open")
    assert d.evidence["text_cut_in_list"] == [tail.strip()]
    assert "cut short" in d.evidence["not_applied_because"]


def test_the_same_list_written_whole_is_applied(store: Store, book: Book) -> None:
    """INV 10231/32/33 not at a field's length: the three invoices are paid."""
    _four(book)
    rid = book.pay("600.00", payer="ACME CORP", text="PAYMENT INV 10231/32/33")
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.rule) == ("auto_applied", "invoice_number_in_text")
    assert applied(store, rid) == {"10231": "100.00", "10232": "200.00", "10233": "300.00"}


@pytest.mark.parametrize("length", [140, 80])
def test_a_whole_list_ending_at_the_field_length_that_the_cash_settles_is_applied(
    store: Store, book: Book, length: int
) -> None:
    """INV 10231/32/33 ending exactly at 140 (or 80) characters and paying exactly what the
    three owe: nothing was cut (a cut list leaves cash over or short), so it is applied."""
    _four(book)
    tail = " INV 10231/32/33"
    text = FILLER[: length - len(tail)] + tail
    assert len(text) == length
    rid = book.pay("600.00", payer="ACME CORP", text=text)
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.rule) == ("auto_applied", "invoice_number_in_text")
    assert applied(store, rid) == {"10231": "100.00", "10232": "200.00", "10233": "300.00"}


def test_a_cut_list_whose_last_invoice_owes_more_than_paid_is_not_written_off(
    store: Store, book: Book
) -> None:
    """10231/32/34 cut to 10231/32/3 paying 100 + 200 + 290: reading 10233 (300.00) would
    leave a 10.00 short pay written off on an invoice the payer never named."""
    ids = _four(book)
    tail = " INV 10231/32/3"
    text = FILLER[: 140 - len(tail)] + tail
    rid = book.pay("590.00", payer="ACME CORP", text=text)
    reconcile(store)
    d = decision(store, rid)
    assert d.status != "auto_applied"
    assert balance(store, ids["10233"]) == ("300.00", "open")
