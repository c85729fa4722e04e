"""References, messy text 3, as reviewed: the rules for street numbers, numbers cut by a line
break, payment advice and order numbers, RF typed with a space and Swiss apostrophes read
only what they name; the payer's invoices around them are read as before."""

from __future__ import annotations

import pytest

from canonical.store import Store
from reconciler.references import read_references
from tests.reconciler.test_messy_text_probe3 import AUTO, Case, check_case
from tests.support.receivables import Book

pytestmark = pytest.mark.usefixtures("book_loading")


def _inv(*rows: tuple[str, str], currency: str = "USD") -> list[tuple[str, ...]]:
    return [("A", number, amount, currency) for number, amount in rows]


CASES = [
    # a city after the last invoice of a list is no street: ST LOUIS, STAMFORD CT 06901
    Case(
        "list_then_st_louis",
        "INV 10023 10024 ACME ST LOUIS MO",
        "350.00",
        _inv(("10023", "100.00"), ("10024", "250.00"), ("10025", "250.00")),
        AUTO,
        {"10023": "100.00", "10024": "250.00"},
    ),
    # a list cut by a line break after its last number's first two digits
    Case(
        "list_cut_in_its_middle",
        "INV 10023,10\n024,10025",
        "600.00",
        _inv(("10023", "100.00"), ("10024", "200.00"), ("10025", "300.00"), ("10026", "200.00")),
        AUTO,
        {"10023": "100.00", "10024": "200.00", "10025": "300.00"},
    ),
    # a payment advice's title is no label of the invoice numbers after it
    Case(
        "zahlungsavis_then_its_invoices",
        "Zahlungsavis 10023 1.250,00 10024 2.500,00",
        "3750.00",
        _inv(
            ("10023", "1250.00"),
            ("10024", "2500.00"),
            ("10025", "1250.00"),
            ("10026", "2500.00"),
            currency="EUR",
        ),
        AUTO,
        {"10023": "1250.00", "10024": "2500.00"},
        currency="EUR",
    ),
    # RF and a space before numbers that are no valid creditor reference: the payer's invoices
    Case(
        "rf_and_a_space_before_invoices",
        "RF 10023 10024",
        "200.00",
        _inv(("10023", "100.00"), ("10024", "100.00"), ("10025", "100.00")),
        AUTO,
        {"10023": "100.00", "10024": "100.00"},
    ),
    # an amount in quotes is an amount, not a number shaped 12500
    Case(
        "quoted_amount",
        "INVOICE 10023 AMOUNT '1250.00'",
        "1250.00",
        _inv(("10023", "1250.00"), ("12500", "1250.00")),
        AUTO,
        {"10023": "1250.00"},
    ),
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_messy_text_3_review(store: Store, book: Book, case: Case) -> None:
    check_case(store, book, case)


def _keys(text: str) -> list[str]:
    return [r.keys[0][0] for r in read_references(text).refs]


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("INV 10023 10024 ACME ST LOUIS MO", ["10023", "10024"]),
        ("PMT INV 10023 10024 GLOBEX STAMFORD CT 06901", ["10023", "10024"]),
        ("PAYMENT 10023 ACME CORP ST LOUIS MO", ["10023"]),
        ("INV 10021,10022,10023,10024,10025,10\n026", [f"1002{n}" for n in range(1, 7)]),
        ("INV 10\n023,10024", ["10023", "10024"]),
        ("INV 10\n023/024", ["10023", "10024"]),
        ("INV 88\n125,126", ["88125", "88126"]),
        ("Zahlungsavis: 10023, 10024", ["10023", "10024"]),
        ("Zahlungsavis\n10023 1.250,00\n10024 2.500,00", ["10023", "10024"]),
        ("Bestellnummer 4500012345 10023", ["10023"]),
        ("RF 45 10023", ["10023"]),
        ("INVOICE 10023 AMOUNT \u2019100.00\u2019", ["10023"]),
    ],
)
def test_invoices_beside_the_new_rules(text: str, keys: list[str]) -> None:
    assert _keys(text) == keys


def test_the_new_rules_still_read_what_they_name() -> None:
    assert "a street number" in [i["why"] for i in read_references("1200 MAIN ST").ignored]
    assert _keys("INV 10\n023-10025")[0] == "10023"
    # cents at a line's end and a date after the break are never joined
    assert _keys("10023 1.250,00\n10024 2.500,00") == ["10023", "10024"]
    assert _keys("INV 10023 1.250,00\n16.01.2024 10024") == ["10023", "10024"]
    assert [r.how for r in read_references("RF 18 5390 0754 7034").refs] == ["rf"]
    assert read_references("INV 10023 CHF 1'250.00").refs[0].amount == "1250.00"
