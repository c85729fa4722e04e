"""What a remittance table's cells hold: an invoice cell written with its label and one
space (``INV 10031``, ``CN 501``) is one cell, and the rows after it are still the table's;
a row's number after a line ending in an amount's currency code is that row's reference, not
the thousands of a spaced amount. A whole number in an amount column (``10031  1000``) is
still not read as an amount: a Payment column's payment number, a whole percent discount or
a row of two numbers after the table would be read as amounts too (review)."""

from __future__ import annotations

import pytest

from reconciler.references import read_references


def _read(text: str) -> list[tuple[str, str, str | None]]:
    """(key, kind, amount) of every reference read, in order."""
    return [(r.keys[0][0], r.kind, r.amount) for r in read_references(text).refs]


def _pos(text: str) -> set[str]:
    return {key for po in read_references(text).pos for key, _ in po.keys}


PAID = [("10031", "invoice", "1000.00"), ("10032", "invoice", "500.00")]


# 1. cells with a label and one space


@pytest.mark.parametrize(
    "text",
    [
        "Invoice      Amount\nINV 10031    1,000.00\nCN 501       -200.00\nINV 10032    500.00",
        "Invoice\tAmount\nINV 10031\t1,000.00\nCN 501\t-200.00\nINV 10032\t500.00",
        "Invoice      Amount\n10031        1,000.00\nCM 501       -200.00\n10032        500.00",
    ],
    ids=["spaces", "tabs", "bare_invoices"],
)
def test_a_labelled_cell_is_one_cell_and_the_rows_after_it_are_read(text: str) -> None:
    assert _read(text) == [
        ("10031", "invoice", "1000.00"),
        ("501", "credit", None),
        ("10032", "invoice", "500.00"),
    ]


def test_rows_after_a_labelled_cell_keep_their_po_column() -> None:
    text = (
        "Invoice      PO      Amount\n"
        "INV 10031    7781    1,000.00\n"
        "CN 501       7782    -200.00\n"
        "INV 10032    7783    500.00"
    )
    assert _read(text) == [
        ("10031", "invoice", "1000.00"),
        ("501", "credit", None),
        ("10032", "invoice", "500.00"),
    ]
    assert _pos(text) == {"7781", "7782", "7783"}


def test_rows_after_a_labelled_cell_keep_their_paid_column() -> None:
    text = (
        "Invoice      Gross      Discount   Paid\n"
        "INV 10031    1,000.00   20.00      980.00\n"
        "INV 10032    500.00     0.00       500.00"
    )
    assert _read(text) == [("10031", "invoice", "980.00"), ("10032", "invoice", "500.00")]


def test_a_cell_of_two_numbers_is_no_invoice_cell() -> None:
    # two numbers in the invoice cell (one space): which one is ours is not said
    text = "Invoice      Amount\n10031 10032  1,500.00"
    assert ("10031", "invoice", "1500.00") not in _read(text)


# 2. a row's number after a line ending with an amount's currency code


def test_a_rows_number_after_an_amounts_code_is_no_thousands_group() -> None:
    assert _read("123 1.000,00 EUR\n124 500,00 EUR") == [
        ("123", "invoice", "1000.00"),
        ("124", "invoice", "500.00"),
    ]
    assert _read("123 1.000,00  EUR\r\n124 500,00 EUR") == [
        ("123", "invoice", "1000.00"),
        ("124", "invoice", "500.00"),
    ]


@pytest.mark.parametrize(
    ("text", "amounts"),
    [
        # a code wrapped before its amount: still one amount grouped by spaces
        ("INV 4711 EUR\n1 234,56", ["1234.56"]),
        ("PAID INV 4472 EUR\n1 234,56", ["1234.56"]),
        ("RE 4711 1.250,00 EUR\nRE 4712\n12 500,00 EUR", ["1250.00", "12500.00"]),
        # the row before wrote its amount grouped by spaces: 124 500,00 may be one amount
        ("123 1 000,00 EUR\n124 500,00 EUR", ["1000.00"]),
    ],
)
def test_spaced_amounts_after_a_code_are_read_as_before(text: str, amounts: list[str]) -> None:
    assert [amount for _, _, amount in _read(text)] == amounts


def test_a_head_of_another_length_is_not_taken_for_a_rows_number() -> None:
    # 4711's row, then 124 500,00 EUR: not a row of the same shape, read as before
    assert [key for key, _, _ in _read("4711 1.000,00 EUR\n124 500,00 EUR")] == ["4711"]


# 3. whole numbers in money columns are no amounts (review of a version that read them)


def test_a_payment_columns_number_is_no_rows_amount() -> None:
    text = "Payment  Invoice  Amount\n5567  10031  1,000.00\n5567  10032  500.00"
    amounts = {key: amount for key, kind, amount in _read(text) if kind == "invoice"}
    assert amounts["10031"] == "1000.00"
    assert amounts["10032"] == "500.00"


def test_a_row_of_two_numbers_after_a_table_is_no_amount() -> None:
    text = "Invoice  Amount\n10031  1,000.00\n10032  500.00\n5567  10034"
    read = _read(text)
    assert ("10034", "invoice", None) in read
    assert all(amount != "10034.00" for _, _, amount in read)
