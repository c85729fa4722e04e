"""Within a run, payments whose references name their invoices are decided before those only
an amount places, so an earlier guess never takes an invoice a later remittance names; the
same payment twice is still caught in value-date order."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from canonical.store import Store
from reconciler import reconcile
from tests.support.receivables import Book, applied, decision

pytestmark = pytest.mark.usefixtures("book_loading")


def test_an_amount_only_payment_never_takes_the_invoice_a_later_one_names(
    store: Store, book: Book
) -> None:
    c = book.customer("Acme Corp")
    book.invoice(c, "7501", "300.00")
    book.invoice(c, "7502", "200.00")
    book.invoice(c, "7503", "500.00")
    guess = book.pay("500.00", payer="ACME CORP", day=date(2026, 11, 2))
    named = book.pay("500.00", payer="ACME CORP", text="INV 7503", day=date(2026, 11, 3))
    summary = reconcile(store)
    d = decision(store, named)
    assert (d.status, d.rule) == ("auto_applied", "invoice_number_in_text")
    assert applied(store, named) == {"7503": "500.00"}
    assert "7503" not in applied(store, guess)
    assert decision(store, guess).status == "auto_applied"  # the two left sum to it
    assert applied(store, guess) == {"7501": "300.00", "7502": "200.00"}
    assert summary.remittances == 2 and summary.auto_applied == 2


def test_a_structured_reference_is_decided_before_an_earlier_exact_balance(
    store: Store, book: Book
) -> None:
    c = book.customer("Acme Corp")
    book.invoice(c, "7601", "500.00", issued=date(2026, 9, 1))
    book.invoice(c, "7602", "120.00", issued=date(2026, 9, 2))
    guess = book.pay("500.00", payer="ACME CORP", day=date(2026, 11, 1))
    named = book.pay(
        "500.00",
        payer="ACME CORP",
        refs=[{"kind": "invoice", "ref": "7601", "amount": "500.00"}],
        day=date(2026, 11, 4),
    )
    reconcile(store)
    assert applied(store, named) == {"7601": "500.00"}
    d = decision(store, guess)
    assert d.status != "auto_applied" and applied(store, guess) == {}


def test_the_same_amount_only_payment_twice_is_still_a_duplicate_of_the_first(
    store: Store, book: Book
) -> None:
    c = book.customer("Acme Corp")
    book.invoice(c, "7701", "250.00")
    book.invoice(c, "7702", "90.00")
    first = book.pay("250.00", payer="ACME CORP", text="THANK YOU", day=date(2026, 11, 2))
    book.pay("90.00", payer="ACME CORP", text="INV 7702", day=date(2026, 11, 3))
    again = book.pay("250.00", payer="ACME CORP", text="THANK YOU", day=date(2026, 11, 4))
    reconcile(store)
    assert applied(store, first) == {"7701": "250.00"}
    d = decision(store, again)
    assert (d.status, d.exception_kind) == ("exception", "duplicate_payment")
    assert d.evidence["duplicate_of"]["remittance_id"] == first


def test_a_run_decides_the_same_way_however_its_payments_are_batched(
    store: Store, book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Payments naming invoices go first across the whole run, not batch by batch."""
    import reconciler.engine

    monkeypatch.setattr(reconciler.engine, "BATCH", 1)
    c = book.customer("Acme Corp")
    book.invoice(c, "7801", "300.00")
    book.invoice(c, "7802", "200.00")
    book.invoice(c, "7803", "500.00")
    guess = book.pay("500.00", payer="ACME CORP", day=date(2026, 11, 2))
    named = book.pay("500.00", payer="ACME CORP", text="INV 7803", day=date(2026, 11, 3))
    reconcile(store)
    assert applied(store, named) == {"7803": "500.00"}
    assert applied(store, guess) == {"7801": "300.00", "7802": "200.00"}


def test_an_amount_only_payment_is_worked_out_twice_only_when_its_customer_changed(
    store: Store, book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first pass's answer for a payment only its amount places is kept for the second
    unless a payment decided in between changed that customer's open items."""
    from reconciler.cascade import Cascade

    decided: list[str | None] = []
    decide = Cascade.decide

    def counting(self: Cascade, r: Any) -> Any:
        decided.append(r.payer_name)
        return decide(self, r)

    monkeypatch.setattr(Cascade, "decide", counting)
    acme, globex = book.customer("Acme Corp"), book.customer("Globex LLC")
    book.invoice(acme, "7901", "300.00")
    book.invoice(acme, "7902", "500.00")
    book.invoice(globex, "8901", "500.00")
    book.invoice(globex, "8902", "120.00")
    untouched = book.pay("300.00", payer="ACME CORP", day=date(2026, 11, 1))
    touched = book.pay("500.00", payer="GLOBEX LLC", day=date(2026, 11, 1))
    book.pay("120.00", payer="GLOBEX LLC", text="INV 8902", day=date(2026, 11, 2))
    reconcile(store)
    assert decided == ["ACME CORP", "GLOBEX LLC", "GLOBEX LLC", "GLOBEX LLC"]
    assert applied(store, untouched) == {"7901": "300.00"}
    assert applied(store, touched) == {"8901": "500.00"}
