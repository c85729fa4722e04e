"""A currency code ending a line is the amount's before it, not the next line's number."""

from __future__ import annotations

import pytest

from reconciler.references import read_references


@pytest.mark.parametrize(
    ("text", "read"),
    [
        # a table whose last column is the currency lost every row after the first
        (
            "Invoice   Amount\n10024  2,450.00 USD\n10031  1,000.00 USD\n10040  75.00 USD\n",
            [("10024", "2450.00"), ("10031", "1000.00"), ("10040", "75.00")],
        ),
        (
            "Rechnung 10024 2.450,00 EUR\n10031 1.000,00 EUR",
            [("10024", "2450.00"), ("10031", "1000.00")],
        ),
        ("INV 10024 1500 USD\n10031 200 USD", None),  # checked below: 10031 is an invoice
        # a narrative wrapped after the code still reads the amount on the next line
        ("PAID INV 10024 USD\n1500", [("10024", "1500")]),
        ("PAYMENT INV 4471 4472 USD\n3000", [("4471", None), ("4472", "3000")]),
        (
            "INV 10024 USD\n2,450.00 INV 10031 USD 1,000.00",
            [("10024", "2450.00"), ("10031", "1000.00")],
        ),
        ("INV 10024 USD 1500", [("10024", "1500")]),
    ],
)
def test_currency_at_a_line_end(text: str, read: list[tuple[str, str | None]] | None) -> None:
    found = [(r.keys[0][0], r.amount) for r in read_references(text).refs]
    if read is None:
        assert ("10031", "200") in found
    else:
        assert found == read


@pytest.mark.parametrize(
    "text",
    [
        "PAID INV 4472 USD\n3000 2 ITEMS",
        "PAID INV 4472 USD\n3000 15/03",
        "INV 4472 EUR\n3000 1234567890 ACME GMBH",
        "INV 4472 EUR\n3000 12.03.2024",
        "PAID INV 4472 USD\n3000 15.03",  # a short date, shaped like an amount
        "INV 4472 EUR\n3000 30.04 valuta",
    ],
)
def test_a_wrapped_amount_followed_by_a_date_count_or_account_is_read(text: str) -> None:
    first = read_references(text).refs[0]
    assert (first.keys[0][0], first.amount) == ("4472", "3000")


@pytest.mark.parametrize(
    "text",
    [
        "Payment in USD \n10032 and 10033",
        "Payment in USD\n   10032 and 10033",
        "ACME CORP PAYMENT USD   \n10032 10033",
        "INV 10031 1,500.00  USD \n10032 paid 15.03.2026",
    ],
)
def test_a_padded_line_break_after_a_code_leaves_the_next_number_an_invoice(text: str) -> None:
    assert "10032" in [r.keys[0][0] for r in read_references(text).refs]
