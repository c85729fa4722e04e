"""A list or range of invoice numbers cut at its field's length (camt ``Ustrd`` 140, NACHA
addenda 80) is applied only when the cash settles what was read to the cent AND no other open
invoice of the customer could be the number the payer really wrote: ``10231/32/3`` may be
``10231/32/34``, and when 10234 owes what 10233 owes, the cash alone cannot tell them apart."""

from __future__ import annotations

import pytest

from canonical.store import Store
from reconciler import reconcile
from tests.support.receivables import Book, applied, balance, decision

pytestmark = pytest.mark.usefixtures("book_loading")

FILLER = "PAYMENT FOR GOODS DELIVERED " * 6


def _text(tail: str, length: int) -> str:
    text = FILLER[: length - len(tail)] + tail
    assert len(text) == length
    return text


def _acme(book: Book, amounts: dict[str, str]) -> dict[str, str]:
    acme = book.customer("Acme Corp")
    return {number: book.invoice(acme, number, amount) for number, amount in amounts.items()}


@pytest.mark.parametrize(
    ("tail", "length"),
    [(" INV 10231/32/3", 140), (" INV 10231-3", 140), (" INV 10231/32/3", 80)],
)
def test_a_cut_list_is_not_applied_when_another_invoice_it_may_end_with_owes_the_same(
    store: Store, book: Book, tail: str, length: int
) -> None:
    """600.00 for 10231 + 10232 + 10234 (the payer wrote 10231/32/34): 10233 and 10234 both
    owe 300.00, so the cash settles the wrong reading to the cent."""
    ids = _acme(book, {"10231": "100.00", "10232": "200.00", "10233": "300.00", "10234": "300.00"})
    rid = book.pay("600.00", payer="ACME CORP", text=_text(tail, length))
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.rule) == ("suggested", "invoice_number_in_text")
    assert applied(store, rid) == {}
    assert balance(store, ids["10233"]) == ("300.00", "open")
    assert balance(store, ids["10234"]) == ("300.00", "open")
    assert d.evidence["text_cut_in_list"] == [tail.strip()]
    assert d.evidence["text_cut_could_be"] == ["10234"]
    assert d.evidence["not_applied_because"].endswith("cut short (it may stand for 10234)")


def test_a_cut_list_no_other_invoice_could_end_is_applied_when_the_cash_settles_it(
    store: Store, book: Book
) -> None:
    """10240 and another customer's 10234 are no number ``3`` cut from ``34`` could be."""
    _acme(book, {"10231": "100.00", "10232": "200.00", "10233": "300.00", "10240": "300.00"})
    book.invoice(book.customer("Globex Inc"), "10234", "300.00")
    rid = book.pay("600.00", payer="ACME CORP", text=_text(" INV 10231/32/3", 140))
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.rule) == ("auto_applied", "invoice_number_in_text")
    assert applied(store, rid) == {"10231": "100.00", "10232": "200.00", "10233": "300.00"}


def test_a_whole_last_number_at_the_field_length_is_applied_beside_a_next_invoice(
    store: Store, book: Book
) -> None:
    """``10231/32/33``: a cut ``33`` could only be 1033X, 1330X or 33XXX+, never 10234."""
    _acme(book, {"10231": "100.00", "10232": "200.00", "10233": "300.00", "10234": "300.00"})
    rid = book.pay("600.00", payer="ACME CORP", text=_text(" INV 10231/32/33", 140))
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.rule) == ("auto_applied", "invoice_number_in_text")
    assert applied(store, rid) == {"10231": "100.00", "10232": "200.00", "10233": "300.00"}


def test_a_whole_last_number_is_not_applied_when_a_longer_cut_could_be_open(
    store: Store, book: Book
) -> None:
    """``10231/32/33`` at 140 with 10335 open (the payer may have written ``335``), owing
    what 10233 owes: a person decides."""
    _acme(book, {"10231": "100.00", "10232": "200.00", "10233": "300.00", "10335": "300.00"})
    rid = book.pay("600.00", payer="ACME CORP", text=_text(" INV 10231/32/33", 140))
    reconcile(store)
    d = decision(store, rid)
    assert d.status == "suggested"
    assert applied(store, rid) == {}
    assert d.evidence["text_cut_could_be"] == ["10335"]


def test_a_full_range_at_the_field_length_is_not_held_by_an_unrelated_longer_number(
    store: Store, book: Book
) -> None:
    """INV 10231-10234 written in full, ending at 140 characters, paid to the cent: no digit
    was cut, so the payer's other open invoice 2024001 (a longer number) changes nothing."""
    _acme(
        book,
        {
            "10231": "100.00",
            "10232": "200.00",
            "10233": "300.00",
            "10234": "400.00",
            "2024001": "55.55",
        },
    )
    rid = book.pay("1000.00", payer="ACME CORP", text=_text(" INV 10231-10234", 140))
    reconcile(store)
    assert decision(store, rid).status == "auto_applied"


def test_a_completion_the_cash_rules_out_does_not_hold_the_cut_list(
    store: Store, book: Book
) -> None:
    """10231/32/3 at 140 paying 600.00 = 10231 + 10232 + 10233; 10234 owes 999.00, so
    10231/32/34 would be 1,299.00: the cash cannot be that reading, and it is applied."""
    _acme(book, {"10231": "100.00", "10232": "200.00", "10233": "300.00", "10234": "999.00"})
    rid = book.pay("600.00", payer="ACME CORP", text=_text(" INV 10231/32/3", 140))
    reconcile(store)
    assert decision(store, rid).status == "auto_applied"
    assert applied(store, rid) == {"10231": "100.00", "10232": "200.00", "10233": "300.00"}
