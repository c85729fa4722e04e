"""What a person types when resolving: invoice numbers as payers and the systems write them,
a candidate that names only a customer, invoices of two customers, an invoice in another
currency, and who decides. Each is applied as meant or refused saying what to do; none is
recorded as applied while nothing is written anywhere."""

from __future__ import annotations

import pytest

from canonical.store import Store
from reconciler import reconcile
from reconciler.confirm import ConfirmError, confirm
from reconciler.dismiss import dismiss
from reconciler.reverse import reverse
from tests.support.receivables import Book, balance, decision

pytestmark = pytest.mark.usefixtures("book_loading")


def unknown_payment(store: Store, book: Book, amount: str = "500.00") -> str:
    """A payment no rule can place: its decision's id."""
    rid = book.pay(amount, payer="SOMEONE NOBODY KNOWS", text="THANK YOU")
    reconcile(store)
    made = decision(store, rid)
    assert made.status == "exception"
    return made.id


@pytest.mark.parametrize("written", ["INV-02856", "inv-02856", " 2856 ", "#2856", "Inv 2856"])
def test_an_invoice_named_as_payers_write_it_is_found(
    store: Store, book: Book, written: str
) -> None:
    acme = book.customer("Acme Logistics")
    invoice = book.invoice(acme, "2856", "500.00")
    confirmed = confirm(
        store, unknown_payment(store, book), by="person:ana", invoice_numbers=[written]
    )
    assert confirmed.status == "auto_applied"
    assert balance(store, invoice) == ("0.00", "paid")


def test_invoices_of_two_customers_are_refused_naming_them(store: Store, book: Book) -> None:
    """Before: applied in arsync (both invoices paid) with no customer, so no system was ever
    written and the balances disagreed for good."""
    acme = book.customer("Acme Logistics")
    aperture = book.customer("Aperture Partners")
    first = book.invoice(acme, "1188", "200.00")
    second = book.invoice(aperture, "2148", "300.00")
    decision_id = unknown_payment(store, book)
    with pytest.raises(ConfirmError) as refusal:
        confirm(store, decision_id, by="person:ana", invoice_numbers=["1188", "2148"])
    message = str(refusal.value)
    assert "of 2 customers" in message and "--dismiss" in message
    assert balance(store, first) == ("200.00", "open")
    assert balance(store, second) == ("300.00", "open")


def test_a_candidate_naming_only_a_customer_is_refused_saying_what_to_do(
    store: Store, book: Book
) -> None:
    """Two customers share the payer's name: the candidates are the customers alone. Before:
    "applied by person:ana" with nothing applied, the cash left unapplied for good and the
    item gone from the exceptions."""
    for name in ("Evergreen Holdings", "Evergreen Holdings LLC"):
        book.invoice(book.customer(name), f"{len(name)}01", "450.00")
    rid = book.pay("17022.18", payer="EVERGREEN HOLDINGS")
    reconcile(store)
    made = decision(store, rid)
    assert made.status in ("exception", "suggested")
    assert made.candidates and not made.candidates[0].get("invoices")
    with pytest.raises(ConfirmError) as refusal:
        confirm(store, made.id, by="person:ana")
    assert "--invoice NUMBER" in str(refusal.value) and "--dismiss" in str(refusal.value)
    assert decision(store, rid).id == made.id  # still open


def test_an_invoice_in_another_currency_says_so(store: Store, book: Book) -> None:
    acme = book.customer("Acme Logistics")
    book.invoice(acme, "1020", "500.00", currency="USD")
    rid = book.pay("500.00", payer="SOMEONE NOBODY KNOWS", currency="EUR")
    reconcile(store)
    with pytest.raises(ConfirmError) as refusal:
        confirm(store, decision(store, rid).id, by="person:ana", invoice_numbers=["1020"])
    assert str(refusal.value).startswith("invoice '1020' is in USD, the cash in EUR")


@pytest.mark.parametrize("who", ["ana", "reconciler", "person:", " ", "Person ana"])
def test_who_decides_is_a_person(store: Store, book: Book, who: str) -> None:
    """``reconciler`` would make a person's decision look like the rules' own."""
    acme = book.customer("Acme Logistics")
    book.invoice(acme, "1188", "500.00")
    decision_id = unknown_payment(store, book)
    for act in (
        lambda: confirm(store, decision_id, by=who, invoice_numbers=["1188"]),
        lambda: dismiss(store, decision_id, by=who, reason="a vendor refund"),
        lambda: reverse(store, decision_id, by=who),
    ):
        with pytest.raises(ConfirmError) as refusal:
            act()
        assert "as person:NAME" in str(refusal.value)


def test_the_report_prints_a_command_that_works_for_a_decision_without_invoices(
    store: Store, book: Book
) -> None:
    """A payment no rule could place: the report printed `resolve ID --by person:NAME`, which
    is refused ("has no candidate"); it says to name the invoice, or to dismiss it."""
    from reconciler.report import build_report

    decision_id = unknown_payment(store, book)
    [row] = [r for r in build_report(store)["remittances"] if r.get("decision_id") == decision_id]
    assert row["resolve"] == (
        f"arsync resolve {decision_id} --by person:NAME --invoice NUMBER "
        "(or --dismiss REASON if it needs no cash movement)"
    )


@pytest.mark.parametrize(
    ("theirs_number", "typed"), [("INV-0100", "INV-0100"), ("INV-0100", "0100")]
)
def test_a_paid_invoice_named_is_never_read_as_another_invoice_of_its_number(
    store: Store, book: Book, theirs_number: str, typed: str
) -> None:
    """Globex's INV-0100 is paid; Acme's 100 is open. Naming INV-0100 (the payer paid it
    twice) applied the cash to Acme's 100 without a word."""
    acme = book.customer("Acme Logistics")
    globex = book.customer("Globex Inc")
    theirs = book.invoice(globex, theirs_number, "500.00")
    other = book.invoice(acme, "100", "500.00")
    first = book.pay("500.00", payer="GLOBEX INC", text=f"INVOICE {theirs_number}")
    reconcile(store)
    assert balance(store, theirs) == ("0.00", "paid")
    decision_id = unknown_payment(store, book)
    with pytest.raises(ConfirmError) as refusal:
        confirm(store, decision_id, by="person:ana", invoice_numbers=[typed])
    assert "owes nothing now" in str(refusal.value) or "several invoices" in str(refusal.value)
    assert balance(store, other) == ("500.00", "open")
    assert decision(store, first).status == "auto_applied"


def test_a_credit_memo_number_is_no_invoice_of_its_digits(store: Store, book: Book) -> None:
    acme = book.customer("Acme Logistics")
    invoice = book.invoice(acme, "100", "500.00")
    decision_id = unknown_payment(store, book)
    with pytest.raises(ConfirmError):
        confirm(store, decision_id, by="person:ana", invoice_numbers=["CM-100"])
    assert balance(store, invoice) == ("500.00", "open")


def test_the_report_never_prints_a_confirm_of_two_customers_invoices(
    store: Store, book: Book
) -> None:
    """A payer naming two subsidiaries' invoices: the top candidate holds both, which
    confirm refuses; the report tells the person to name one customer's, or dismiss."""
    from reconciler.report import build_report
    from tests.support.receivables import ref

    book.customer("Hooli Holdings AG")
    book.invoice(book.customer("Hooli Deutschland GmbH"), "7101", "500.00")
    book.invoice(book.customer("Hooli France SAS"), "7201", "300.00")
    rid = book.pay("800.00", payer="J SMITH", refs=[ref("7101", "500.00"), ref("7201", "300.00")])
    reconcile(store)
    made = decision(store, rid)
    assert [i["number"] for i in made.candidates[0]["invoices"]] == ["7101", "7201"]
    [row] = [r for r in build_report(store)["remittances"] if r.get("decision_id") == made.id]
    assert row["resolve"].startswith(f"arsync resolve {made.id} --by person:NAME --invoice NUMBER")
