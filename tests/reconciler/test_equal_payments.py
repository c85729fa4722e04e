"""Equal payments that are not copies, and a shortfall read two ways (from a review of the
cross-channel duplicate check and of discounts taken on some invoices)."""

from __future__ import annotations

from datetime import date

from canonical.store import Store
from reconciler import reconcile
from tests.support.receivables import Book, applied, decision


def test_two_instalments_through_one_channel_are_both_applied(store: Store, book: Book) -> None:
    """Invoice 2001 (1,000.00) paid in two instalments of 500.00 two days apart on the same
    bank channel, each naming it: two payments, not one seen twice."""
    acme = book.customer("Acme Corp")
    book.invoice(acme, "2001", "1000.00", "USD", issued=date(2026, 10, 1))
    first = book.pay("500.00", payer="ACME CORP", text="INV 2001 500.00 INSTALMENT 1 OF 2")
    reconcile(store)
    second = book.pay(
        "500.00", payer="ACME CORP", text="INV 2001 500.00 INSTALMENT 2 OF 2", day=date(2026, 11, 4)
    )
    reconcile(store)
    assert applied(store, first) == {"2001": "500.00"}
    assert decision(store, second).status == "auto_applied"
    assert applied(store, second) == {"2001": "500.00"}


def test_two_lockbox_checks_for_one_invoice_in_one_run_are_both_applied(
    store: Store, book: Book
) -> None:
    """Two checks (numbers 10001 and 10002) of 500.00 for invoice 2002, deposited the same
    day in one lockbox file."""
    acme = book.customer("Acme Corp")
    book.invoice(acme, "2002", "1000.00", "USD", issued=date(2026, 10, 1))
    a = book.pay("500.00", payer="ACME CORP", text="CHK 10001 INV 2002 500.00", source="bai2")
    b = book.pay("500.00", payer="ACME CORP", text="CHK 10002 INV 2002 500.00", source="bai2")
    reconcile(store)
    assert [decision(store, a).status, decision(store, b).status] == ["auto_applied"] * 2
    assert applied(store, a) == applied(store, b) == {"2002": "500.00"}


def test_an_open_credit_memo_netted_off_is_read_before_a_discount_on_one_invoice(
    store: Store, book: Book
) -> None:
    """3001 (1,000.00) and 3002 (500.00), both 2/10 net 30, paid in time with 1,490.00: the
    10.00 short is 3002's discount or the open credit memo CM-9 (10.00) netted off. The memo
    is taken, as before discounts on some invoices were read: it is never left open to be
    applied a second time."""
    acme = book.customer("Acme Corp")
    book.invoice(acme, "3001", "1000.00", "USD", issued=date(2026, 10, 1), terms="2/10 net 30")
    book.invoice(acme, "3002", "500.00", "USD", issued=date(2026, 10, 1), terms="2/10 net 30")
    book.credit(acme, "CM-9", "10.00")
    paid = book.pay("1490.00", payer="ACME CORP", text="INV 3001 INV 3002", day=date(2026, 10, 9))
    reconcile(store)
    made = decision(store, paid)
    assert made.evidence.get("credit_taken") == "CM-9"
    assert not made.evidence.get("early_payment_discount")
