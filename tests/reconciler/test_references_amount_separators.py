"""Amounts as payers write them beside invoice numbers: whole dollars with thousands commas
(``$1,500``: fifteen hundred, not 1.50), Swiss thousands by apostrophes (``CHF 12'500.00``,
``1'234.50``), Indian lakhs (``Rs.1,23,456.00``, ``INR 1,00,000.00``) and whole euros grouped
by dots beside their currency (``EUR 1.000``). Read wrong, the amount a payer states on a
partial payment was lost (a person had to apply it) and pieces of the amount were read as
invoice numbers (``456.00`` of ``1,23,456.00``, ``1.000`` of ``EUR 1.000``)."""

from __future__ import annotations

import pytest

from canonical.store import Store
from reconciler.references import read_references
from tests.reconciler.test_messy_text_probe3 import AUTO, EXCEPTION, Case, check_case
from tests.support.receivables import Book

pytestmark = pytest.mark.usefixtures("book_loading")


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("INV 10023 $1,500", [("10023", "1500")]),
        ("INV 10023 $12,500 INV 10024 $250", [("10023", "12500"), ("10024", "250")]),
        ("INV 10023 1,500 USD", [("10023", "1500")]),
        ("INV 10023 1,500 PAID", [("10023", "1500")]),
        ("RE 10023 1'234.50 RE 10024 500.00", [("10023", "1234.50"), ("10024", "500.00")]),
        ("INV 10023 CHF 1'234'567.50", [("10023", "1234567.50")]),
        ("RE 10023 CHF 12'500", [("10023", "12500")]),
        (
            "INV 10023 Rs.1,23,456.00 INV 10024 Rs.50,000.00",
            [("10023", "123456.00"), ("10024", "50000.00")],
        ),
        ("NEFT INV 10023 INR 1,00,000.00", [("10023", "100000.00")]),
        ("RE 10023 EUR 1.000", [("10023", "1000")]),
        ("RE 10023 1.000 EUR RE 10024 500 EUR", [("10023", "1000"), ("10024", "500")]),
        # unchanged: a decimal comma has two digits; numbers listed after a label stay numbers
        ("RE 10023 1.000,00 EUR", [("10023", "1000.00")]),
        ("INV 10023 1,50", [("10023", "1.50")]),
        ("INV 501,502", [("501", None), ("502", None)]),
        ("INV 101,102,103", [("101", None), ("102", None), ("103", None)]),
    ],
)
def test_amount_stated_after_the_invoice(text: str, want: list[tuple[str, str | None]]) -> None:
    refs = read_references(text).refs
    assert [(r.keys[0][0], r.amount) for r in refs] == want


CASES = [
    Case(
        "usd_whole_dollars_partial",
        "INV 10023 $1,500 PARTIAL PMT",
        "1500.00",
        [("A", "10023", "2000.00")],
        AUTO,
        {"10023": "1500.00"},
    ),
    Case(
        "usd_whole_dollars_two",
        "INV 10023 $1,500 INV 10024 $250",
        "1750.00",
        [("A", "10023", "2000.00"), ("A", "10024", "250.00")],
        AUTO,
        {"10023": "1500.00", "10024": "250.00"},
    ),
    Case(
        "swiss_partial",
        "Rechnung 10023 CHF 12'500.00 Teilzahlung",
        "12500.00",
        [("A", "10023", "20000.00", "CHF"), ("A", "500", "12500.00", "CHF")],
        AUTO,
        {"10023": "12500.00"},
        currency="CHF",
    ),
    Case(
        "indian_lakhs",
        "INV 10023 Rs.1,23,456.00 INV 10024 Rs.50,000.00",
        "173456.00",
        [
            ("A", "10023", "123456.00", "INR"),
            ("A", "10024", "50000.00", "INR"),
            ("A", "45600", "173456.00", "INR"),
        ],
        AUTO,
        {"10023": "123456.00", "10024": "50000.00"},
        currency="INR",
    ),
    Case(
        "indian_lakhs_partial",
        "NEFT INV 10023 INR 1,00,000.00",
        "100000.00",
        [("A", "10023", "150000.00", "INR"), ("A", "100000", "100000.00", "INR")],
        AUTO,
        {"10023": "100000.00"},
        currency="INR",
    ),
    Case(
        "whole_euros_grouped_by_a_dot",
        "Abschlag RE 10023 EUR 1.000",
        "1000.00",
        [("A", "10023", "3000.00", "EUR"), ("A", "1000", "1000.00", "EUR")],
        AUTO,
        {"10023": "1000.00"},
        currency="EUR",
    ),
    # a stated amount that is not the cash still leaves the payment to a person
    Case(
        "whole_dollars_stated_not_the_cash",
        "INV 10023 $1,500 PARTIAL PMT",
        "1400.00",
        [("A", "10023", "2000.00")],
        EXCEPTION,
        kind="short_pay_over_tolerance",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_amount_separators(store: Store, book: Book, case: Case) -> None:
    check_case(store, book, case)
