"""Payer names as banks deliver them: cut at a field's width inside a word (NACHA's 22
characters), or with a German umlaut written out (ü as ue). A name that fits several
customers equally well is left to a person; a written-out umlaut is the customer's name."""

from __future__ import annotations

import pytest

from canonical.store import Store
from reconciler import reconcile
from tests.support.receivables import Book, applied, decision

pytestmark = pytest.mark.usefixtures("book_loading")


def test_a_name_cut_inside_a_word_that_begins_two_customers_names_is_left_to_a_person(
    store: Store, book: Book
) -> None:
    """JOHNSON CONTROLS INTER is NACHA's 22 characters of either customer's name: the
    shorter completion scores higher, which tells nothing."""
    intl = book.customer("Johnson Controls International plc")
    interiors = book.customer("Johnson Controls Interiors LLC")
    book.invoice(intl, "7001", "1000.00")
    book.invoice(interiors, "7002", "1000.00")
    rid = book.pay("1000.00", payer="JOHNSON CONTROLS INTER", text="PAYMENT")
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.exception_kind) == ("exception", "ambiguous")
    assert applied(store, rid) == {}
    assert {c["customer_id"] for c in d.candidates} >= {intl, interiors}
    assert d.evidence["payer_name_cut_inside_a_word_of"] == 2


def test_a_name_cut_inside_a_word_of_one_customer_only_is_still_found(
    store: Store, book: Book
) -> None:
    c = book.customer("Johnson Controls Interiors LLC")
    other = book.customer("Johnson & Johnson")
    book.invoice(c, "7001", "1000.00")
    book.invoice(other, "7002", "1000.00")
    rid = book.pay("1000.00", payer="JOHNSON CONTROLS INTER", text="PAYMENT")
    reconcile(store)
    d = decision(store, rid)
    assert d.status == "auto_applied"
    assert d.customer_id == c


def test_a_whole_word_name_beginning_longer_names_keeps_the_margin_rule(
    store: Store, book: Book
) -> None:
    """ACME TOOLS is a whole name: Acme Toolsmith (a completion of a cut word) does not make
    it ambiguous; the exact name wins as before."""
    tools = book.customer("Acme Tools Inc")
    smith = book.customer("Acme Toolsmith Ltd")
    book.invoice(tools, "7001", "1000.00")
    book.invoice(smith, "7002", "1000.00")
    rid = book.pay("1000.00", payer="ACME TOOLS INC", text="PAYMENT")
    reconcile(store)
    d = decision(store, rid)
    assert d.status == "auto_applied"
    assert d.customer_id == tools


@pytest.mark.parametrize("payer", ["MUELLER GMBH", "Mueller GmbH", "MÜLLER GMBH", "MULLER GMBH"])
def test_an_umlaut_written_out_is_the_customers_name(store: Store, book: Book, payer: str) -> None:
    """German banks write ü as ue (SEPA's character set has no umlauts) or drop the dots:
    either way the payer is Müller GmbH, not Mueller Industries."""
    muller = book.customer("Müller GmbH")
    mueller = book.customer("Mueller Industries, Inc.")
    book.invoice(muller, "7001", "1000.00")
    book.invoice(mueller, "7002", "1000.00")
    rid = book.pay("1000.00", payer=payer, text="PAYMENT")
    reconcile(store)
    d = decision(store, rid)
    assert d.status == "auto_applied", d.evidence
    assert d.customer_id == muller
    assert applied(store, rid) == {"7001": "1000.00"}


def test_an_umlaut_written_out_without_a_legal_form_beside_a_longer_name_is_left_to_a_person(
    store: Store, book: Book
) -> None:
    """MUELLER: Müller GmbH's name written out, or Mueller Industries' cut short."""
    muller = book.customer("Müller GmbH")
    mueller = book.customer("Mueller Industries, Inc.")
    book.invoice(muller, "7001", "1000.00")
    book.invoice(mueller, "7002", "1000.00")
    rid = book.pay("1000.00", payer="MUELLER", text="PAYMENT")
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.exception_kind) == ("exception", "ambiguous")
    assert applied(store, rid) == {}


def test_a_written_out_umlaut_alone_finds_the_customer(store: Store, book: Book) -> None:
    c = book.customer("Schäfer & Söhne KG")
    other = book.customer("Schaeffler AG")
    book.invoice(c, "7001", "1000.00")
    book.invoice(other, "7002", "1000.00")
    rid = book.pay("1000.00", payer="SCHAEFER UND SOEHNE KG", text="PAYMENT")
    reconcile(store)
    d = decision(store, rid)
    assert d.status == "auto_applied", d.evidence
    assert d.customer_id == c


@pytest.mark.parametrize(
    ("customer", "payer"),
    [
        ("Acme Widgets LLC", "ACME WIDGETS, L.L.C."),
        ("Acme Widgets LLC", "Acme Widgets L. L. C."),
        ("Hoffmann GmbH", "HOFFMANN G.M.B.H."),
        ("Acme Industries PLC", "ACME INDUSTRIES P.L.C."),
    ],
)
def test_a_legal_form_written_with_dots_is_the_legal_form(
    store: Store, book: Book, customer: str, payer: str
) -> None:
    c = book.customer(customer)
    other = book.customer("Zenith Tools Inc")
    book.invoice(c, "7001", "1000.00")
    book.invoice(other, "7002", "1000.00")
    rid = book.pay("1000.00", payer=payer, text="PAYMENT")
    reconcile(store)
    d = decision(store, rid)
    assert d.status == "auto_applied", d.evidence
    assert d.customer_id == c


def test_single_letters_before_a_name_are_the_name(store: Store, book: Book) -> None:
    """A.G. EDWARDS: the letters begin the name, they are no legal form; the payer is not
    Edwards."""
    c = book.customer("Edwards")
    book.invoice(c, "7001", "1000.00")
    rid = book.pay("1000.00", payer="A.G. EDWARDS", text="PAYMENT")
    reconcile(store)
    d = decision(store, rid)
    assert d.status != "auto_applied"
    assert applied(store, rid) == {}


@pytest.mark.parametrize(
    ("customers", "payer"),
    [
        (["Acme", "Acme Widgets"], "ACME, L.L.C."),
        (["Hoffmann", "Hoffmann Logistik"], "HOFFMANN G.M.B.H."),
        (["Acme Widgets", "Acme Widgets International"], "ACME WIDGETS, L.L.C."),
        (["Acme", "Acme Widgets"], "ACME ACCOUNTS PAYABLE"),
        (["Müller GmbH", "Mueller Industries, Inc."], "MUELLER ACCOUNTS PAYABLE"),
    ],
)
def test_a_name_beside_a_longer_customer_name_is_left_to_a_person_however_written(
    store: Store, book: Book, customers: list[str], payer: str
) -> None:
    """ACME, L.L.C. is looked for as ACME LLC is, ACME ACCOUNTS PAYABLE as ACME is: the
    customer's name, or the start of a longer one's (review: the dotted form and the
    department words bypassed that and applied the shorter name's customer)."""
    for i, name in enumerate(customers):
        book.invoice(book.customer(name), f"700{i}", "1000.00")
    rid = book.pay("1000.00", payer=payer, text="PAYMENT")
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.exception_kind) == ("exception", "ambiguous")
    assert applied(store, rid) == {}


def test_a_dotted_legal_form_is_told_from_a_longer_name_by_the_amount_only_with_a_person(
    store: Store, book: Book
) -> None:
    acme = book.customer("Acme")
    widgets = book.customer("Acme Widgets LLC")
    book.invoice(acme, "7001", "1000.00")
    book.invoice(widgets, "7002", "2500.00")
    rid = book.pay("2500.00", payer="ACME, L.L.C.", text="PAYMENT")
    reconcile(store)
    d = decision(store, rid)
    assert d.customer_id != acme
    assert applied(store, rid) == {}


def test_a_dotted_legal_form_picks_the_customer_of_that_form(store: Store, book: Book) -> None:
    """Acme LLC and Acme Inc share a name: ACME, L.L.C. is Acme LLC's legal name."""
    llc = book.customer("Acme LLC")
    inc = book.customer("Acme Inc")
    book.invoice(llc, "7001", "1000.00")
    book.invoice(inc, "7002", "1000.00")
    rid = book.pay("1000.00", payer="ACME, L.L.C.", text="PAYMENT")
    reconcile(store)
    d = decision(store, rid)
    assert d.status == "auto_applied", d.evidence
    assert d.customer_id == llc


@pytest.mark.parametrize(
    ("person", "company", "payer"),
    [
        ("A.G. Edwards", "Edwards Inc", "EDWARDS A G"),
        ("A.G. Edwards", "Edwards Inc", "EDWARDS, A.G."),
        ("A.B. Brown", "Brown Corp", "BROWN A B"),
        ("S.A. Jones", "Jones Ltd", "JONES S A"),
        ("C.O. Smith", "Smith Inc", "SMITH C O"),
    ],
)
def test_two_initials_after_a_surname_are_no_legal_form(
    store: Store, book: Book, person: str, company: str, payer: str
) -> None:
    """EDWARDS A G is A.G. Edwards written surname first, not Edwards Inc with its legal form
    AG spelled out (review: the initials were dropped and the surname's company applied)."""
    c = book.customer(person)
    other = book.customer(company)
    book.invoice(c, "7001", "1000.00")
    book.invoice(other, "7002", "1000.00")
    rid = book.pay("1000.00", payer=payer, text="PAYMENT")
    reconcile(store)
    d = decision(store, rid)
    assert d.customer_id != other
    assert "7002" not in applied(store, rid)
