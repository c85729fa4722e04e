"""Probe 7: a payer written with its legal name and the trade name it does business under
(``ACME CORP DBA ROADRUNNER SUPPLY``, ``D/B/A``, British ``T/A``). The customer may be kept
under either name: the one the payer's names name exactly is the payer; where they name two
customers, or one name only begins another customer's, a person decides."""

from __future__ import annotations

import pytest

from canonical.store import Store
from reconciler import reconcile
from tests.support.receivables import Book, applied, decision

pytestmark = pytest.mark.usefixtures("book_loading")


@pytest.mark.parametrize(
    ("customer", "payer"),
    [
        ("Acme Corporation", "ACME CORP DBA ROADRUNNER SUPPLY"),
        ("Acme Corporation", "ACME CORPORATION D/B/A ROADRUNNER"),
        ("Roadrunner Supply", "ACME CORP DBA ROADRUNNER SUPPLY"),
        ("Roadrunner Supply Ltd", "ACME HOLDINGS LTD T/A ROADRUNNER SUPPLY"),
    ],
)
def test_a_payer_named_with_its_trade_name_is_the_customer_of_either_name(
    store: Store, book: Book, customer: str, payer: str
) -> None:
    c = book.customer(customer)
    book.invoice(c, "7001", "1000.00")
    book.invoice(c, "7002", "250.00")
    rid = book.pay("1000.00", payer=payer, text="PAYMENT")
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.rule) == ("auto_applied", "customer_exact_balance")
    assert applied(store, rid) == {"7001": "1000.00"}
    assert d.customer_id == c
    assert d.evidence["customer_from"] == "exact name, one of the payer's names (DBA)"
    assert len(d.evidence["payer_names"]) == 2


def test_legal_and_trade_name_of_two_customers_is_left_to_a_person(
    store: Store, book: Book
) -> None:
    """Acme Corporation and Roadrunner Supply are both customers: the payment of one of
    them names both; nothing is applied, both are candidates."""
    acme = book.customer("Acme Corporation")
    road = book.customer("Roadrunner Supply")
    book.invoice(acme, "7001", "1000.00")
    book.invoice(road, "7002", "1000.00")
    rid = book.pay("1000.00", payer="ACME CORP DBA ROADRUNNER SUPPLY", text="PAYMENT")
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.exception_kind) == ("exception", "ambiguous")
    assert applied(store, rid) == {}
    assert d.evidence["payer_names"] == ["ACME CORP", "ROADRUNNER SUPPLY"]


def test_a_trade_name_beginning_another_customers_name_is_left_to_a_person(
    store: Store, book: Book
) -> None:
    """ACME DBA ROADRUNNER: ACME is Acme Corporation's name, ROADRUNNER begins Roadrunner
    Supply's: either may be the payer."""
    acme = book.customer("Acme Corporation")
    road = book.customer("Roadrunner Supply")
    book.invoice(acme, "7001", "1000.00")
    book.invoice(road, "7002", "1000.00")
    rid = book.pay("1000.00", payer="ACME DBA ROADRUNNER", text="PAYMENT")
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.exception_kind) == ("exception", "ambiguous")
    assert applied(store, rid) == {}


def test_a_name_beginning_with_dba_is_no_trade_name(store: Store, book: Book) -> None:
    """DBA CONSULTING LLC is one company's name: it is not Consulting LLC's payment."""
    other = book.customer("Consulting LLC")
    book.invoice(other, "7001", "1000.00")
    rid = book.pay("1000.00", payer="DBA CONSULTING LLC", text="PAYMENT")
    reconcile(store)
    d = decision(store, rid)
    assert d.status != "auto_applied"
    assert applied(store, rid) == {}
    assert "payer_names" not in d.evidence
