"""Three-digit invoice numbers listed with commas and no spaces are a list, never one amount
(502,503,504 is not $502,503,504 without a currency beside it); a credit amount written with
its sign after a memo word keeps the invoices after it invoices."""

from __future__ import annotations

import pytest

from canonical.store import Store
from reconciler.references import read_references
from tests.reconciler.test_messy_text_probe3 import AUTO, EXCEPTION, Case, check_case
from tests.support.receivables import Book

pytestmark = pytest.mark.usefixtures("book_loading")

FOUR: list[tuple[str, ...]] = [("A", n, "100.00") for n in ("501", "502", "503", "504")]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("INVOICES 501, 502,503,504", ["501", "502", "503", "504"]),
        ("INV 501 502,503,504", ["501", "502", "503", "504"]),
        ("INV 501 / 502,503,504", ["501", "502", "503", "504"]),
        ("INV 501,502,503 & 504,505,506", ["501", "502", "503", "504", "505", "506"]),
        ("PAYMENT FOR 501,502,503", ["501", "502", "503"]),
    ],
)
def test_list_read(text: str, want: list[str]) -> None:
    assert [r.keys[0][0] for r in read_references(text).refs] == want


CASES = [
    Case(
        "list_all_paid",
        "INVOICES 501, 502,503,504",
        "400.00",
        FOUR,
        AUTO,
        {"501": "100.00", "502": "100.00", "503": "100.00", "504": "100.00"},
    ),
    Case(
        "list_after_slash",
        "INV 501 / 502,503,504",
        "400.00",
        FOUR,
        AUTO,
        {"501": "100.00", "502": "100.00", "503": "100.00", "504": "100.00"},
    ),
    Case(
        "list_short_paid",
        "INVOICES 501, 502,503,504",
        "100.00",
        FOUR,
        EXCEPTION,
        kind="short_pay_over_tolerance",
    ),
    Case(
        "unlabelled_list",
        "PAYMENT FOR 501,502,503",
        "300.00",
        FOUR,
        AUTO,
        {"501": "100.00", "502": "100.00", "503": "100.00"},
    ),
]


THREE: list[tuple[str, ...]] = [("A", n, "100.00") for n in ("10023", "10024", "10025")]


def test_invoices_after_credit_amount_with_sign_read() -> None:
    refs = read_references("LESS CM $55.00 10023 10024").refs
    assert [(r.keys[0][0], r.kind) for r in refs if r.keys[0][0] != "5500"] == [
        ("10023", "invoice"),
        ("10024", "invoice"),
    ]


CASES2 = [
    Case(
        "credit_amount_then_invoices",
        "LESS CREDIT $55.00\n10023 100.00\n10024 100.00",
        "145.00",
        THREE,
        AUTO,
        {"10023": "45.00", "10024": "100.00"},
        credits=[("A", "CM-9", "55.00")],
    ),
    Case(
        "credit_amount_then_invoices_inline",
        "LESS CM $55.00 10023 10024",
        "145.00",
        THREE,
        AUTO,
        {"10023": "45.00", "10024": "100.00"},
        credits=[("A", "CM-9", "55.00")],
    ),
    # German RE (Rechnung) beside an English INV, both owing the cash: which one is not said
    Case(
        "re_and_inv_equal",
        "RE 10023 INV 10024",
        "300.00",
        [("A", "10023", "300.00"), ("A", "10024", "300.00")],
        EXCEPTION,
        kind="short_pay_over_tolerance",
    ),
]


@pytest.mark.parametrize("case", [*CASES, *CASES2], ids=[c.id for c in [*CASES, *CASES2]])
def test_applied_as_the_payer_wrote(store: Store, book: Book, case: Case) -> None:
    check_case(store, book, case)
