"""The short-pay tolerance holds for each invoice written off, and for the remittance as a
whole: naming many invoices gives no more room on any one of them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from canonical.models import Adjustment
from canonical.store import Store
from reconciler import reconcile
from tests.support.receivables import Book, applied, decision

pytestmark = pytest.mark.usefixtures("book_loading")


def adjustments(store: Store) -> list[Adjustment]:
    with store.session() as s:
        return list(s.execute(select(Adjustment)).scalars())


def test_a_shortfall_within_a_percent_of_the_remittance_but_not_of_the_invoice(
    store: Store, book: Book
) -> None:
    c = book.customer("Acme Corp")
    for n in range(30):
        book.invoice(c, f"80{n:02d}", "1000.00")
    rid = book.pay(
        "29710.00", payer="ACME CORP", text="INV " + " ".join(f"80{n:02d}" for n in range(30))
    )
    reconcile(store)
    d = decision(store, rid)
    # before, 290.00 (29% of one invoice, under 1% of the 30) was written off on 8000
    assert (d.status, d.exception_kind) == ("exception", "short_pay_over_tolerance")
    assert adjustments(store) == [] and applied(store, rid) == {}
    assert d.evidence["short_pay"] == "290.00"
    assert d.evidence["short_pay_over_tolerance_on"] == [{"invoice": "8000", "amount": "290.00"}]


def test_small_invoices_each_within_tolerance_but_not_the_remittance(
    store: Store, book: Book
) -> None:
    c = book.customer("Acme Corp")
    for n in range(5):
        book.invoice(c, f"81{n:02d}", "4.00")
    rid = book.pay("1.00", payer="ACME CORP", text="INV 8100 8101 8102 8103 8104")
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.exception_kind) == ("exception", "short_pay_over_tolerance")
    assert adjustments(store) == []


def test_a_shortfall_within_the_largest_invoices_tolerance_is_written_off_there(
    store: Store, book: Book
) -> None:
    c = book.customer("Acme Corp")
    book.invoice(c, "8201", "300.00")
    book.invoice(c, "8202", "2000.00")
    rid = book.pay("2285.00", payer="ACME CORP", text="INV 8201 8202")
    reconcile(store)
    assert decision(store, rid).status == "auto_applied"
    assert applied(store, rid) == {"8201": "300.00", "8202": "1985.00"}
    assert [(a.amount_minor, a.reason_code) for a in adjustments(store)] == [(1500, "SHORTPAY")]
