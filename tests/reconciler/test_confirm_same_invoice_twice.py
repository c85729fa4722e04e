"""A person naming the same invoice twice (as written twice, or written two ways) applies it
once: the cash is never put on one invoice twice."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlmodel import col

from canonical.models import Application
from canonical.store import Store
from reconciler import reconcile
from reconciler.confirm import confirm
from tests.support.receivables import Book, balance, decision

pytestmark = pytest.mark.usefixtures("book_loading")


@pytest.mark.parametrize("numbers", [["2856", "2856"], ["2856", "INV-02856"]])
def test_the_same_invoice_named_twice_is_applied_once(
    store: Store, book: Book, numbers: list[str]
) -> None:
    acme = book.customer("Acme Logistics")
    invoice = book.invoice(acme, "2856", "300.00")
    rid = book.pay("500.00", payer="SOMEONE NOBODY KNOWS", text="THANK YOU")
    reconcile(store)
    made = decision(store, rid)
    confirmed = confirm(store, made.id, by="person:ana", invoice_numbers=numbers)
    assert confirmed.status == "auto_applied"
    assert balance(store, invoice) == ("0.00", "paid")
    with store.session() as session:
        rows = session.execute(
            select(col(Application.invoice_id), col(Application.amount_minor)).where(
                col(Application.decision_id) == confirmed.id
            )
        ).all()
    assert [(row.invoice_id, row.amount_minor) for row in rows] == [(invoice, 30000)]
