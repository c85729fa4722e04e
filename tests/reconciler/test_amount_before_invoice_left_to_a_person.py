"""An amount a payer writes before its invoice, beside an invoice written without one: the
reader may pin the amount on the invoice named before it, so the cash is not split by the
amounts stated and the others' balances; a person decides (a short-pay exception)."""

from __future__ import annotations

import pytest

from canonical.store import Store
from tests.reconciler.test_messy_text_probe3 import EXCEPTION, Case, _inv, check_case
from tests.support.receivables import Book

pytestmark = pytest.mark.usefixtures("book_loading")

CASES = [
    # the payer writes each amount before its invoice; 1002 (no amount) paid in full, 50.00 on 1003
    Case(
        "amount_before_lines",
        "$100.00 INV 1001\nINV 1002\n$50.00 INV 1003",
        "250.00",
        _inv("1001", "1002", "1003"),
        EXCEPTION,
        kind="short_pay_over_tolerance",
    ),
    Case(
        "amount_before_lines_no_sign",
        "100.00 INV 1001\nINV 1002\n50.00 INV 1003",
        "250.00",
        _inv("1001", "1002", "1003"),
        EXCEPTION,
        kind="short_pay_over_tolerance",
    ),
    Case(
        "amount_before_inline",
        "$100.00 INV 1001, INV 1002, $50.00 INV 1003",
        "250.00",
        _inv("1001", "1002", "1003"),
        EXCEPTION,
        kind="short_pay_over_tolerance",
    ),
    # the text says 1001 is paid in full and 1002 partially
    Case(
        "full_then_partial",
        "PAID IN FULL: INV 1001, 50.00 PARTIAL INV 1002",
        "150.00",
        _inv("1001", "1002"),
        EXCEPTION,
        kind="short_pay_over_tolerance",
    ),
    Case(
        "partial_before_its_invoice",
        "INV 1001, 50.00 PARTIAL INV 1002",
        "150.00",
        _inv("1001", "1002"),
        EXCEPTION,
        kind="short_pay_over_tolerance",
    ),
    Case(
        "partial_next_line",
        "Inv 1001\n$50.00 partial - Inv 1002",
        "150.00",
        _inv("1001", "1002"),
        EXCEPTION,
        kind="short_pay_over_tolerance",
    ),
    Case(
        "paid_then_amount_dash",
        "INV 1001 - PAID, $50.00 - INV 1002",
        "150.00",
        _inv("1001", "1002"),
        EXCEPTION,
        kind="short_pay_over_tolerance",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_the_split_is_left_to_a_person(store: Store, book: Book, case: Case) -> None:
    check_case(store, book, case)
