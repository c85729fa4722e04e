"""Collections scenarios end to end, to the minor unit in USD, a zero-decimal (JPY) and a
three-decimal currency (KWD): short pays, discounts, over-payments, subset sums, returns.

Wrong cash (the wrong invoice, cash applied twice, or cash the bank took back) is the worst
outcome: where a clerk would not be sure, the reconciler leaves it to a person.
"""

from __future__ import annotations

from datetime import date

import pytest

from canonical.models import Remittance
from canonical.money import Money
from canonical.store import Store
from reconciler import reconcile
from tests.support.receivables import Book, applied, balance, decision

pytestmark = pytest.mark.usefixtures("book_loading")

# (currency, an invoice's amount, a tenth of it, two fifths of it)
CURRENCIES = [
    ("USD", "1000.00", "100.00", "400.00"),
    ("JPY", "100000", "10000", "40000"),
    ("KWD", "1000.000", "100.000", "400.000"),
]


def payment(
    store: Store, key: str, amount: str, currency: str, text: str, day: date = date(2026, 11, 2)
) -> str:
    """A payment the bank reports under ``key`` (a trace or end-to-end id)."""
    with store.session() as s:
        r = Remittance(
            source="nacha",
            source_key=key,
            currency=currency,
            amount_minor=Money(amount, currency).minor,
            value_date=day,
            payer_name="ACME CORP",
            free_text=text,
        )
        s.add(r)
    return r.id


def returned(store: Store, key: str, amount: str, currency: str) -> str:
    """The bank takes back the payment reported under ``key``."""
    with store.session() as s:
        r = Remittance(
            source="nacha",
            source_key=f"return-{key}",
            currency=currency,
            amount_minor=-Money(amount, currency).minor,
            value_date=date(2026, 11, 4),
            payer_name="ACME CORP",
            free_text="R01 INSUFFICIENT FUNDS",
            reverses=key,
        )
        s.add(r)
    return r.id


@pytest.mark.parametrize(("currency", "amount", "tenth", "_"), CURRENCIES)
def test_a_short_pay_beyond_tolerance_is_left_to_a_person(
    store: Store, book: Book, currency: str, amount: str, tenth: str, _: str
) -> None:
    """A tenth short on a named invoice is beyond any tolerance: nothing applied, the
    shortfall and the invoice named in the evidence and the candidate."""
    acme = book.customer("Acme Corp")
    invoice = book.invoice(acme, "INV-2001", amount, currency)
    paid = Money(amount, currency).amount - Money(tenth, currency).amount
    cash = book.pay(str(paid), payer="ACME CORP", text="INV-2001", currency=currency)
    reconcile(store)
    got = decision(store, cash)
    assert (got.status, got.exception_kind) == ("exception", "short_pay_over_tolerance")
    assert got.evidence["short_pay"] == tenth
    assert [i["number"] for i in got.candidates[0]["invoices"]] == ["INV-2001"]
    assert balance(store, invoice) == (amount, "open")


@pytest.mark.parametrize(("currency", "amount", "tenth", "two_fifths"), CURRENCIES)
def test_an_over_payment_of_a_named_invoice_is_kept_unapplied(
    store: Store, book: Book, currency: str, amount: str, tenth: str, two_fifths: str
) -> None:
    """Invoice and a tenth more, naming it: the invoice closes, the tenth stays unapplied on
    the payment, never spread over the customer's other open invoice."""
    acme = book.customer("Acme Corp")
    named = book.invoice(acme, "INV-3001", amount, currency)
    other = book.invoice(acme, "INV-3002", two_fifths, currency)
    total = Money(amount, currency).amount + Money(tenth, currency).amount
    cash = book.pay(str(total), payer="ACME CORP", text="INV-3001", currency=currency)
    reconcile(store)
    got = decision(store, cash)
    assert got.status == "auto_applied"
    assert applied(store, cash) == {"INV-3001": amount}
    assert got.unapplied_minor == Money(tenth, currency).minor
    assert got.evidence["over_payment"] == tenth
    assert balance(store, named) == (str(Money("0", currency).amount), "paid")
    assert balance(store, other) == (two_fifths, "open")


@pytest.mark.parametrize(("currency", "amount", "tenth", "two_fifths"), CURRENCIES)
def test_a_sum_two_sets_of_invoices_make_is_only_suggested(
    store: Store, book: Book, currency: str, amount: str, tenth: str, two_fifths: str
) -> None:
    """Open: one, four, three and two tenths of the amount; paid: five tenths, no reference.
    One + four and three + two tenths both make it: suggested, nothing applied."""
    acme = book.customer("Acme Corp")
    unit = Money(tenth, currency).amount
    for number, tenths in (("INV-401", 1), ("INV-402", 4), ("INV-403", 3), ("INV-404", 2)):
        book.invoice(acme, number, str(unit * tenths), currency)
    cash = book.pay(str(unit * 5), payer="ACME CORP", currency=currency)
    reconcile(store)
    got = decision(store, cash)
    assert (got.status, got.exception_kind) == ("suggested", "ambiguous")
    assert got.evidence["subset_search"]["solutions"] == 2
    assert applied(store, cash) == {}
