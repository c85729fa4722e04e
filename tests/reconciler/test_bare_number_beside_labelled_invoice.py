"""An invoice named with its word beside a number written bare that is another open invoice
of the customer: the payer may be paying the bare one (a replacement, a reissue, "not", "or",
a list with months or dates), so the cash never goes to the labelled invoice alone, even when
it owes exactly the cash; a person decides."""

from __future__ import annotations

import pytest

from canonical.store import Store
from tests.reconciler.test_messy_text_probe3 import EXCEPTION, Case, check_case
from tests.support.receivables import Book

pytestmark = pytest.mark.usefixtures("book_loading")

TWO: list[tuple[str, ...]] = [("A", "10023", "100.00"), ("A", "10024", "100.00")]
TEXTS = [
    "INV 10023 REPLACED BY 10024",
    "INV 10023 REISSUED AS 10024",
    "INV 10023 CANCELLED PLS USE 10024",
    "PAYING 10024 NOT INV 10023",
    "PAY INV 10023 INSTEAD OF 10024",
    "INV 10023 OR 10024",
    "INV 10023 ALSO 10024",
    # both named in one list (dates / months after each number): the second is read bare
    "INV 10023 DTD 10/01/26, 10024 DTD 11/01/26",
    "INV 10023 OCT, 10024 NOV",
    "INV 10023 (OCT) AND 10024 (NOV)",
]
CASES = [
    Case(f"t{i}", t, "100.00", TWO, EXCEPTION, kind="short_pay_over_tolerance")
    for i, t in enumerate(TEXTS)
] + [
    Case(
        "list_with_replacement",
        "INV 10023, 10025 (10023 REPLACED BY 10024)",
        "200.00",
        [*TWO, ("A", "10025", "100.00")],
        EXCEPTION,
        kind="short_pay_over_tolerance",
    )
]


@pytest.mark.parametrize("case", CASES, ids=[c.text for c in CASES])
def test_the_labelled_invoice_is_not_paid_alone(store: Store, book: Book, case: Case) -> None:
    check_case(store, book, case)
