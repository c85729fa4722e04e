"""Early-payment discounts from invoice terms: in time, lapsed, with or without a reference."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from canonical.models import Adjustment
from canonical.store import Store
from reconciler import reconcile
from tests.support.receivables import Book, applied, balance, decision, ref

ISSUED = date(2026, 10, 1)  # 2/10 net 30: the discount may be taken until 2026-10-11


def adjustments(store: Store) -> list[tuple[str, str]]:
    with store.session() as s:
        rows = s.execute(select(Adjustment)).scalars().all()
    return sorted((str(a.amount.amount), a.reason_code) for a in rows)


def test_referenced_invoice_paid_less_its_discount_in_time_is_closed(
    store: Store, book: Book
) -> None:
    c = book.customer("Initech")
    inv = book.invoice(c, "5001", "1000.00", issued=ISSUED, terms="2/10 net 30")
    rid = book.pay("980.00", text="INV 5001", day=date(2026, 10, 9))
    reconcile(store)
    d = decision(store, rid)
    assert d.status == "auto_applied"
    assert applied(store, rid) == {"5001": "980.00"}
    assert adjustments(store) == [("20.00", "DISCOUNT")]
    assert balance(store, inv) == ("0.00", "paid")
    assert d.evidence["early_payment_discount"] == [
        {"invoice": "5001", "percent": "2", "until": "2026-10-11", "amount": "20.00"}
    ]


def test_discount_taken_after_its_last_day_is_not_granted(store: Store, book: Book) -> None:
    c = book.customer("Initech")
    inv = book.invoice(c, "5002", "1000.00", issued=ISSUED, terms="2/10 net 30")
    rid = book.pay("980.00", text="INV 5002", day=date(2026, 10, 30))
    reconcile(store)
    d = decision(store, rid)
    assert d.status == "exception" and d.exception_kind == "short_pay_over_tolerance"
    assert d.evidence["discount_lapsed"] == [
        {"invoice": "5002", "until": "2026-10-11", "received_on": "2026-10-30"}
    ]
    assert adjustments(store) == []
    assert balance(store, inv) == ("1000.00", "open")


def test_grace_days_cover_bank_float(store: Store, book: Book) -> None:
    c = book.customer("Initech")
    book.invoice(c, "5003", "1000.00", issued=ISSUED, terms="2% 10 Net 30")
    rid = book.pay("980.00", text="INV 5003", day=date(2026, 10, 14))  # default grace: 3 days
    reconcile(store)
    assert decision(store, rid).status == "auto_applied"
    assert adjustments(store) == [("20.00", "DISCOUNT")]


def test_no_reference_discounted_balance_of_the_payer(store: Store, book: Book) -> None:
    c = book.customer("Globex Corporation")
    book.invoice(c, "6001", "500.00", issued=ISSUED, terms="1/10 net 30")
    other = book.invoice(c, "6002", "720.00", issued=ISSUED)
    rid = book.pay("495.00", payer="GLOBEX CORPORATION", day=date(2026, 10, 5))
    reconcile(store)
    d = decision(store, rid)
    assert d.status == "auto_applied" and d.rule == "customer_exact_balance"
    assert d.evidence["discounted_balance_of"] == "6001"
    assert applied(store, rid) == {"6001": "495.00"}
    assert adjustments(store) == [("5.00", "DISCOUNT")]
    assert balance(store, other) == ("720.00", "open")


def test_an_exact_balance_beats_a_discounted_one(store: Store, book: Book) -> None:
    c = book.customer("Globex Corporation")
    book.invoice(c, "6101", "500.00", issued=ISSUED, terms="1/10 net 30")
    book.invoice(c, "6102", "495.00", issued=ISSUED)
    rid = book.pay("495.00", payer="Globex Corporation", day=date(2026, 10, 5))
    reconcile(store)
    assert applied(store, rid) == {"6102": "495.00"}
    assert adjustments(store) == []


def test_several_invoices_each_less_its_discount(store: Store, book: Book) -> None:
    c = book.customer("Hooli")
    book.invoice(c, "7001", "300.00", issued=ISSUED, terms="2/10 net 30")
    book.invoice(c, "7002", "200.00", issued=ISSUED, terms="2/10 net 30")
    book.invoice(c, "7003", "999.99", issued=ISSUED)
    rid = book.pay("490.00", payer="Hooli", day=date(2026, 10, 8))  # 294.00 + 196.00
    reconcile(store)
    d = decision(store, rid)
    assert d.status == "auto_applied" and d.rule == "customer_invoice_subset"
    assert applied(store, rid) == {"7001": "294.00", "7002": "196.00"}
    assert adjustments(store) == [("4.00", "DISCOUNT"), ("6.00", "DISCOUNT")]


def test_stated_amounts_less_the_discount_close_the_invoice(store: Store, book: Book) -> None:
    c = book.customer("Umbrella")
    inv = book.invoice(c, "8001", "250.00", issued=ISSUED, terms="2/10 net 30")
    rid = book.pay("245.00", refs=[ref("8001", "245.00")], day=date(2026, 10, 10))
    reconcile(store)
    assert decision(store, rid).status == "auto_applied"
    assert adjustments(store) == [("5.00", "DISCOUNT")]
    assert balance(store, inv) == ("0.00", "paid")


def test_a_payment_with_no_date_takes_no_discount(store: Store, book: Book) -> None:
    c = book.customer("Initech")
    inv = book.invoice(c, "5004", "1000.00", issued=ISSUED, terms="2/10 net 30")
    rid = book.pay("980.00", text="INV 5004", day=None)
    reconcile(store)
    assert decision(store, rid).exception_kind == "short_pay_over_tolerance"
    assert balance(store, inv) == ("1000.00", "open")


def test_same_name_customers_one_with_the_discounted_amount_is_a_suggestion(
    store: Store, book: Book
) -> None:
    first = book.customer("Acme Foods")
    second = book.customer("Acme Foods")
    book.invoice(first, "9001", "400.00", issued=ISSUED, terms="2/10 net 30")
    book.invoice(second, "9002", "650.00", issued=ISSUED)
    rid = book.pay("392.00", payer="ACME FOODS", day=date(2026, 10, 6))
    reconcile(store)
    d = decision(store, rid)
    assert d.status == "suggested" and d.evidence["discounted_balance_of"] == "9001"
    assert [i["number"] for i in d.candidates[0]["invoices"]] == ["9001"]
    assert adjustments(store) == []
