"""References, messy text 3: amounts as payers write them beside each invoice number (US
``$1,000`` without cents, Swiss ``CHF 1'000.00``, ``$ 1,000.00`` with a space, EU
``INV 10023/1.000,00`` and ``1.250 EUR``), a payment advice table whose rows give gross,
discount and net (SAP Zahlungsavis, Oracle), an RF creditor reference typed ``RF 18 ...`` or
with a bad check digit before the invoice, and numbers that are no invoice: German account
and bank codes (Kto, BLZ), an order number (BESTELLNR), the advice's own number
(Zahlungsavis Nr.) and a street address's house number."""

from __future__ import annotations

import pytest

from canonical.store import Store
from reconciler.references import read_references
from tests.reconciler.test_messy_text_probe3 import AUTO, SUGGESTED, Case, check_case
from tests.support.receivables import Book

pytestmark = pytest.mark.usefixtures("book_loading")

SAP_AVIS = (
    "Zahlungsavis\nIhre Belegnr. Betrag Skonto Zahlbetrag\n10023 1.250,00 25,00 1.225,00\n"
    "10024 2.500,00 0,00 2.500,00"
)
SAP_AVIS_DATED = (
    "Zahlungsavis\nBelegdatum Ihre Belegnr. Betrag Skonto Zahlbetrag\n"
    "15.01.2024 10023 1.250,00 25,00 1.225,00\n16.01.2024 10024 2.500,00 0,00 2.500,00"
)
ORACLE_ADVICE = (
    "Invoice Number Invoice Date Invoice Amount Amount Paid Discount Taken\n"
    "10023 01/02/2024 1,250.00 1,225.00 25.00\n10024 01/05/2024 2,500.00 2,500.00 0.00"
)


def _partial(currency: str = "USD") -> list[tuple[str, ...]]:
    # the payer pays 1000.00 of 10023's 1250.00 and all of 10024
    return [("A", "10023", "1250.00", currency), ("A", "10024", "2500.00", currency)]


def _with_discount(other: str) -> list[tuple[str, ...]]:
    # 3725.00 paid: 10023 less its 25.00 discount, 10024 whole; ``other`` an invoice that a
    # number misread from the table would name
    return [
        ("A", "10023", "1250.00", "EUR"),
        ("A", "10024", "2500.00", "EUR"),
        ("A", other, "3725.00", "EUR"),
    ]


CASES = [
    # -- the amount stated on each invoice, in the payer's convention ---------------------
    Case(
        "us_thousands_without_cents",
        "INV 10023 $1,000 INV 10024 $2,500",
        "3500.00",
        _partial(),
        AUTO,
        {"10023": "1000.00", "10024": "2500.00"},
    ),
    Case(
        "swiss_apostrophe_thousands",
        "RECHNUNG 10023 CHF 1'000.00 RECHNUNG 10024 CHF 2'500.00",
        "3500.00",
        _partial("CHF"),
        AUTO,
        {"10023": "1000.00", "10024": "2500.00"},
        currency="CHF",
    ),
    Case(
        "currency_symbol_then_a_space",
        "INV 10023 $ 1,000.00 INV 10024 $ 2,500.00",
        "3500.00",
        _partial(),
        AUTO,
        {"10023": "1000.00", "10024": "2500.00"},
    ),
    Case(
        "eu_amount_after_a_slash",
        "INV 10023/1.000,00 INV 10024/2.500,00",
        "3500.00",
        [*_partial("EUR"), ("A", "11000", "3500.00", "EUR")],
        AUTO,
        {"10023": "1000.00", "10024": "2500.00"},
        currency="EUR",
    ),
    Case(
        "eu_thousands_without_cents_beside_the_currency",
        "INV 10023 1.250 EUR",
        "1250.00",
        [("A", "10023", "1250.00", "EUR"), ("A", "1250", "1250.00", "EUR")],
        AUTO,
        {"10023": "1250.00"},
        currency="EUR",
    ),
    # -- an advice table: gross, discount, net (or gross, paid, discount) on each row --------
    Case(
        "sap_avis_rows",
        SAP_AVIS,
        "3725.00",
        _with_discount("1225"),
        AUTO,
        {"10023": "1225.00", "10024": "2500.00"},
        currency="EUR",
    ),
    Case(
        "sap_avis_rows_with_dates",
        SAP_AVIS_DATED,
        "3725.00",
        _with_discount("12024"),
        AUTO,
        {"10023": "1225.00", "10024": "2500.00"},
        currency="EUR",
    ),
    Case(
        "oracle_rows_gross_paid_discount",
        ORACLE_ADVICE,
        "3725.00",
        [("A", "10023", "1250.00"), ("A", "10024", "2500.00")],
        AUTO,
        {"10023": "1225.00", "10024": "2500.00"},
    ),
    # -- RF creditor references -------------------------------------------------------------
    Case(
        "rf_typed_with_a_space_after_rf",
        "RF 18 5390 0754 7034",
        "100.00",
        [("A", "7034", "100.00"), ("A", "5390", "100.00")],
        SUGGESTED,
    ),
    Case(
        "rf_bad_check_digits_then_the_invoice",
        "RF18 5390 0754 7035 INV 10023",
        "100.00",
        [("A", "10023", "100.00"), ("A", "10024", "100.00")],
        AUTO,
        {"10023": "100.00"},
    ),
    # -- numbers that name no invoice -------------------------------------------------------
    Case(
        "german_account_and_bank_code",
        "Kto 1234567 BLZ 37040044 Rechnung 10023",
        "100.00",
        [("A", "10023", "100.00"), ("A", "1234567", "100.00"), ("A", "37040044", "100.00")],
        AUTO,
        {"10023": "100.00"},
    ),
    Case(
        "german_order_number",
        "BESTELLNR 4500012345 RE 10023",
        "100.00",
        [("A", "10023", "100.00"), ("A", "4500012345", "100.00")],
        AUTO,
        {"10023": "100.00"},
    ),
    Case(
        "payment_advice_number",
        "Zahlungsavis Nr. 2000012345 Rechnung 10023",
        "100.00",
        [("A", "10023", "100.00"), ("A", "2000012345", "100.00")],
        AUTO,
        {"10023": "100.00"},
    ),
    Case(
        "street_number",
        "ACME CORP, 1200 MAIN ST, DALLAS TX 75201 INV 10023",
        "400.00",
        [("A", "10023", "400.00"), ("A", "1200", "400.00")],
        AUTO,
        {"10023": "400.00"},
    ),
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_messy_text_3(store: Store, book: Book, case: Case) -> None:
    check_case(store, book, case)


def _stated(text: str) -> list[tuple[str, str | None]]:
    return [(r.keys[0][0], r.amount) for r in read_references(text).refs if r.how == "written"]


@pytest.mark.parametrize(
    ("text", "stated"),
    [
        ("INV 10023 $1,250 INV 10024 $2,500", [("10023", "1250"), ("10024", "2500")]),
        ("INV 10023 12,500 INV 10024 2,500", [("10023", "12500"), ("10024", "2500")]),
        ("INV 10023 EUR 1.250 INV 10024 EUR 2.500", [("10023", "1250"), ("10024", "2500")]),
        ("INV 10023 1'250.00 CHF", [("10023", "1250.00")]),
        ("INV 10023 CHF 1\u2019250.50", [("10023", "1250.50")]),
        ("INV 10023 € 1.250,00 INV 10024 € 2.500,00", [("10023", "1250.00"), ("10024", "2500.00")]),
        ("INV 10023/1.250,00", [("10023", "1250.00")]),
        (SAP_AVIS, [("10023", "1225.00"), ("10024", "2500.00")]),
        # no discount taken, or a deduction larger than a discount: the first amount
        ("INV 4471 1000.00 1000.00 0.00", [("4471", "1000.00")]),
        ("INV 4471 1000.00 600.00 400.00", [("4471", "1000.00")]),
    ],
)
def test_amounts_stated_in_either_convention(text: str, stated: list[tuple[str, str]]) -> None:
    assert _stated(text) == stated


@pytest.mark.parametrize(
    ("text", "ignored"),
    [
        # (typed with a space, RF 18 ..., it is a reference only when valid)
        ("RF18 5390 0754 7035", "RF reference, bad check digits"),
        ("500 N. Oak Avenue INV 10023", "a street number"),
        ("Kto.-Nr. 1234567 Rechnung 10023", "not an invoice number"),
    ],
)
def test_numbers_that_are_no_invoice(text: str, ignored: str) -> None:
    reading = read_references(text)
    assert [r.keys[0][0] for r in reading.refs] in ([], ["10023"])
    assert ignored in [i["why"] for i in reading.ignored]


def test_lists_and_table_rows_are_not_joined_across_a_line() -> None:
    # an amount's cents and the next row's date or number are never one number
    assert [r.keys[0][0] for r in read_references(SAP_AVIS_DATED).refs] == ["10023", "10024"]
    # a list written with a shorthand tail after a slash stays a list; an invoice with a
    # house-number-like word after it is still read
    assert [k for k, _ in _stated("INVOICES 10023 10024 PAID")] == ["10023", "10024"]
    assert read_references("INV 10023/24,25").refs[0].amount is None
