"""A payer takes a credit off by its amount, not its number: ``PYMT FOR INV#1001/1002 LESS CM
55.00``, ``LESS CREDIT $55.00``. The amount was read as the credit memo's number (5500, or
550 without its zeros) or, after a currency sign, as an invoice number of its own; no memo of
that number being open, the payment was a short pay for a person. The amount is the credit's:
the customer's one open credit memo of exactly what the payment is short is netted, as for a
payer that names no memo at all."""

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
        ("PYMT FOR INV#1001/1002 LESS CM 55.00", {"10011002", "1001", "1002"}),
        ("INV 1001 1002 LESS CM $55.00", {"1001", "1002"}),
        ("INV 1001 LESS CREDIT MEMO 55.00", {"1001"}),
        ("INV 1001 1002 LESS CREDIT 55.00", {"1001", "1002"}),
        # a memo's number is still read as one
        ("INV 1001 LESS CM 501 55.00", {"1001", "501"}),
        ("INV 1001 CM 5501", {"1001", "5501"}),
    ],
)
def test_amount_after_a_credit_word_is_no_number(text: str, want: set[str]) -> None:
    assert {ref.keys[0][0] for ref in read_references(text).refs} == want


TWO: list[tuple[str, ...]] = [("A", "1001", "100.00"), ("A", "1002", "100.00")]

CASES = [
    Case(
        "less_cm_amount",
        "PYMT FOR INV#1001/1002 LESS CM 55.00",
        "145.00",
        TWO,
        AUTO,
        {"1001": "45.00", "1002": "100.00"},
        credits=[("A", "CM-9", "55.00")],
    ),
    Case(
        "less_credit_dollar_amount",
        "INV 1001 1002 LESS CREDIT $55.00",
        "145.00",
        [*TWO, ("A", "550", "55.00")],
        AUTO,
        {"1001": "45.00", "1002": "100.00"},
        credits=[("A", "CM-9", "55.00")],
    ),
    # no open memo of that amount: still a person's
    Case(
        "no_memo_of_that_amount",
        "PYMT FOR INV#1001/1002 LESS CM 55.00",
        "145.00",
        TWO,
        EXCEPTION,
        credits=[("A", "CM-9", "60.00")],
        kind="short_pay_over_tolerance",
    ),
    # two open memos of that amount: which one is not said
    Case(
        "two_memos_of_that_amount",
        "PYMT FOR INV#1001/1002 LESS CM 55.00",
        "145.00",
        TWO,
        EXCEPTION,
        credits=[("A", "CM-9", "55.00"), ("A", "CM-10", "55.00")],
        kind="short_pay_over_tolerance",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_credit_amount_after_memo_word(store: Store, book: Book, case: Case) -> None:
    check_case(store, book, case)
