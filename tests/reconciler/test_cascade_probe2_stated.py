"""Amounts the payer states per invoice: never applied beyond an invoice's balance, moved
within the remittance when they settle every invoice it names, and a small difference per
invoice written off within the tolerance."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from canonical.models import Adjustment, Application
from canonical.store import Store
from reconciler import reconcile
from tests.support.receivables import Book, applied, balance, decision, ref

pytestmark = pytest.mark.usefixtures("book_loading")


def test_an_invoice_listed_twice_is_paid_no_more_than_its_balance(store: Store, book: Book) -> None:
    c = book.customer("Acme Corp")
    inv = book.invoice(c, "7301", "1000.00")
    rid = book.pay(
        "1200.00", payer="ACME CORP", refs=[ref("7301", "600.00"), ref("7301", "600.00")]
    )
    reconcile(store)
    d = decision(store, rid)
    with store.session() as s:
        total = s.execute(
            select(func.sum(col(Application.amount_minor))).where(
                col(Application.invoice_id) == inv
            )
        ).scalar_one()
    assert total == 100000  # before, 1200.00
    assert d.unapplied_minor == 20000 and d.evidence["repeated_refs"] == ["7301"]
    assert balance(store, inv) == ("0.00", "paid")


def test_amounts_stated_on_the_wrong_invoice_of_the_remittance_settle_both(
    store: Store, book: Book
) -> None:
    c = book.customer("Acme Corp")
    a = book.invoice(c, "7201", "500.00")
    b = book.invoice(c, "7202", "500.00")
    rid = book.pay(
        "1000.00", payer="ACME CORP", refs=[ref("7201", "600.00"), ref("7202", "400.00")]
    )
    reconcile(store)
    d = decision(store, rid)
    # before, 100.00 stayed unapplied and 7202 open at 100.00
    assert d.status == "auto_applied" and d.unapplied_minor == 0
    assert applied(store, rid) == {"7201": "500.00", "7202": "500.00"}
    assert balance(store, a) == balance(store, b) == ("0.00", "paid")
    assert d.evidence["reallocated"] == [{"invoice": "7202", "amount": "100.00"}]


def test_a_cent_short_on_each_stated_invoice_is_written_off(store: Store, book: Book) -> None:
    c = book.customer("Soylent Corp")
    ids = [book.invoice(c, f"90{n:02d}", "100.01") for n in range(10)]
    refs = [ref(f"90{n:02d}", "100.00") for n in range(10)]
    rid = book.pay("1000.00", payer="SOYLENT CORP", refs=refs)
    reconcile(store)
    d = decision(store, rid)
    assert d.status == "auto_applied" and d.evidence["short_pay"] == "0.10"
    assert {balance(store, i) for i in ids} == {("0.00", "paid")}  # before, 0.01 open on each
    with store.session() as s:
        written_off = [
            (a.amount_minor, a.reason_code) for a in s.execute(select(Adjustment)).scalars()
        ]
    assert written_off == [(1, "SHORTPAY")] * 10


def test_a_stated_partial_payment_stays_partial(store: Store, book: Book) -> None:
    c = book.customer("Soylent Corp")
    inv = book.invoice(c, "9101", "1000.00")
    rid = book.pay(
        "400.00", payer="SOYLENT CORP", refs=[ref("9101", "400.00", invoice_amount="1000.00")]
    )
    reconcile(store)
    assert decision(store, rid).status == "auto_applied"
    assert balance(store, inv) == ("600.00", "open")
