"""A payer states a partial amount on one invoice and names others with no amount beside them
(``INV 10023 PARTIAL 50.00 INV 10024``, ``PMT FOR INV 10023 10024 AND 10025 $250.00
PARTIAL``): when the cash is exactly the amounts stated plus the others' balances, those are
paid in full and the stated ones by what was stated. Before, the amounts were thrown away and
the cash read as a short pay of every invoice, for a person."""

from __future__ import annotations

import pytest

from canonical.store import Store
from tests.reconciler.test_messy_text_probe3 import AUTO, EXCEPTION, SUGGESTED, Case, check_case
from tests.support.receivables import Book

pytestmark = pytest.mark.usefixtures("book_loading")

CASES = [
    Case(
        "partial_first_rest_in_full",
        "INV 10023 PARTIAL 50.00 INV 10024",
        "150.00",
        [("A", "10023", "100.00"), ("A", "10024", "100.00")],
        AUTO,
        {"10023": "50.00", "10024": "100.00"},
    ),
    Case(
        "list_then_partial_on_the_last",
        "PMT FOR INV 10023 10024 AND 10025 $250.00 PARTIAL",
        "1250.00",
        [("A", "10023", "500.00"), ("A", "10024", "500.00"), ("A", "10025", "400.00")],
        AUTO,
        {"10023": "500.00", "10024": "500.00", "10025": "250.00"},
    ),
    Case(
        "partial_and_a_credit_memo",
        "INV 10023 50.00 INV 10024 LESS CM 501",
        "100.00",
        [("A", "10023", "100.00"), ("A", "10024", "100.00")],
        AUTO,
        # the memo's 50.00 pays the first invoice's stated 50.00, the cash the second
        {"10024": "100.00"},
        credits=[("A", "CM-501", "50.00")],
    ),
    # the cash is not what was stated plus the rest: a person decides, as before
    Case(
        "cash_is_not_stated_plus_rest",
        "INV 10023 PARTIAL 50.00 INV 10024",
        "160.00",
        [("A", "10023", "100.00"), ("A", "10024", "100.00")],
        EXCEPTION,
        kind="short_pay_over_tolerance",
    ),
    # the total written after the last number is not that invoice's: never read as one
    Case(
        "total_after_the_last_number",
        "INV 10023, 10024 PAID 150.00",
        "150.00",
        [("A", "10023", "100.00"), ("A", "10024", "100.00")],
        EXCEPTION,
        kind="short_pay_over_tolerance",
    ),
    # the number beside the stated one is not named as an invoice (REF: perhaps the payer's
    # own): it is not taken as paid in full on that reading
    Case(
        "rest_named_only_as_a_reference",
        "INV 10023 50.00 REF 10024",
        "150.00",
        [("A", "10023", "100.00"), ("A", "10024", "100.00")],
        EXCEPTION,
        kind="short_pay_over_tolerance",
    ),
    # another customer's invoice among them: still a person's
    Case(
        "rest_is_another_customers",
        "INV 10023 PARTIAL 50.00 INV 10024",
        "150.00",
        [("A", "10023", "100.00"), ("G", "10024", "100.00")],
        SUGGESTED,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_stated_partial_beside_unstated(store: Store, book: Book, case: Case) -> None:
    check_case(store, book, case)
