"""An AP system's or a bank's advice names the invoice with its word and writes the payer's
own payment or reference number bare beside it (Coupa ``PAYMENT 10024 INVOICE 10023``,
AvidXchange ``PMT 20261102 REF 10024 INV 10023``, ``Ref: 10024 / Inv: 10023``, a wire's
``/BNF/INV 10023 /RFB/4471``). When the bare number is by chance one of the customer's open
invoices, both were taken and the cash read as a short pay of the two, for a person; the
invoices named as such, owing exactly the cash, are what the payer pays."""

from __future__ import annotations

import pytest

from canonical.store import Store
from tests.reconciler.test_messy_text_probe3 import AUTO, EXCEPTION, Case, check_case
from tests.support.receivables import Book

pytestmark = pytest.mark.usefixtures("book_loading")

TWO: list[tuple[str, ...]] = [("A", "10023", "100.00"), ("A", "10024", "100.00")]

CASES = [
    Case(
        "coupa_payment_number",
        "COUPA PAY PAYMENT 10024 INVOICE 10023",
        "100.00",
        TWO,
        AUTO,
        {"10023": "100.00"},
    ),
    Case(
        "avidxchange_ref",
        "AVIDXCHANGE PMT 20261102 REF 10024 INV 10023",
        "100.00",
        TWO,
        AUTO,
        {"10023": "100.00"},
    ),
    Case("ref_then_inv", "Ref: 10024 / Inv: 10023", "100.00", TWO, AUTO, {"10023": "100.00"}),
    Case(
        "wire_rfb",
        "/BNF/INV 10023 /RFB/4471",
        "100.00",
        [("A", "10023", "100.00"), ("A", "4471", "100.00")],
        AUTO,
        {"10023": "100.00"},
    ),
    Case(
        "two_labelled_one_bare",
        "PAYMENT 10024 INVOICES 10023, 10025",
        "300.00",
        [("A", "10023", "100.00"), ("A", "10024", "50.00"), ("A", "10025", "200.00")],
        AUTO,
        {"10023": "100.00", "10025": "200.00"},
    ),
    # the invoices named owe less than the cash: both numbers are read as paid, as before
    Case(
        "named_owe_less",
        "REF 10024 INV 10023",
        "200.00",
        TWO,
        AUTO,
        {"10023": "100.00", "10024": "100.00"},
    ),
    Case(
        "named_owe_more_than_cash",
        "REF 10024 INV 10023",
        "150.00",
        TWO,
        EXCEPTION,
        kind="short_pay_over_tolerance",
    ),
    # nothing named as an invoice: as before
    Case(
        "both_bare",
        "EREF+10024 SVWZ+RE 10023",
        "100.00",
        TWO,
        EXCEPTION,
        kind="short_pay_over_tolerance",
    ),
    # the bare number is another customer's invoice: set aside as before (the payer's own)
    Case(
        "bare_number_another_customers",
        "REF 10024 INV 10023",
        "100.00",
        [("A", "10023", "100.00"), ("G", "10024", "100.00")],
        AUTO,
        {"10023": "100.00"},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_labelled_invoices_beside_payer_reference(store: Store, book: Book, case: Case) -> None:
    check_case(store, book, case)
