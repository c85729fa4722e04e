"""Remittance tables with more columns than invoice and amount (a PO, a description, a
reference): a number in another column than the invoice column is no invoice (a PO column's
is a PO), no number runs on into the next cell, an ``Amount`` column that is the table's only
money column gives each row's invoice its amount, and a credit memo row does not make the row
after it a credit. Amounts whose currency code ends a line are not taken for the next line's.
An invoice cell written with its label and one space (``INV 10031``, ``CN 501``) is one cell,
and the rows after it are still the table's; a row's number after a line ending in an
amount's currency code is that row's reference, not the thousands of a spaced amount. A whole
number in an amount column (``10031  1000``) is still not read as an amount: a Payment
column's payment number, a whole percent discount or a row of two numbers after the table
would be read as amounts too (review)."""

from __future__ import annotations

import pytest

from reconciler.references import read_references


def _read(text: str) -> list[tuple[str, str, str | None]]:
    """(key, kind, amount) of every reference read, in order."""
    return [(r.keys[0][0], r.kind, r.amount) for r in read_references(text).refs]


def _pos(text: str) -> set[str]:
    return {key for po in read_references(text).pos for key, _ in po.keys}


PAID = [("10031", "invoice", "1000.00"), ("10032", "invoice", "500.00")]


@pytest.mark.parametrize(
    "text",
    [
        "Invoice#  PO#  Amount\n10031  7781  1,000.00\n10032  7782  500.00",
        "Invoice#  PO#  Amount\n10031  PO-7781  1,000.00\n10032  PO-7782  500.00",
        "Invoice\tPO Number\tAmount\n10031\t7781\t1,000.00\n10032\t7782\t500.00",
        "| Invoice | PO | Amount |\n| 10031 | 7781 | 1,000.00 |\n| 10032 | 7782 | 500.00 |",
    ],
    ids=["spaces", "po_prefixed", "tabs", "pipes"],
)
def test_a_po_column_holds_pos_never_invoices(text: str) -> None:
    assert _read(text) == PAID
    assert _pos(text) == {"7781", "7782"}


@pytest.mark.parametrize(
    "header",
    ["Invoice  Description  Amount", "Invoice Number  Description  Amount", "Inv #  Desc  Amount"],
)
def test_a_description_between_the_invoice_and_its_amount(header: str) -> None:
    assert _read(f"{header}\n10031  Widgets  1,000.00\n10032  Gadgets  500.00") == PAID


def test_bill_pay_advice_with_date_and_description() -> None:
    text = (
        "Invoice #  Invoice Date  Description  Amount\n"
        "INV-10031  01/15/2026  Monthly service  $1,000.00\n"
        "INV-10032  01/20/2026  Setup fee  $500.00\n"
    )
    assert _read(text) == PAID


def test_the_payers_own_reference_column_is_no_invoice() -> None:
    text = (
        "Our Reference  Your Invoice  Amount Paid\n"
        "AP-88123  10031  1,000.00\n"
        "AP-88124  10032  500.00\n"
    )
    assert _read(text) == PAID


def test_a_document_number_is_not_continued_into_the_next_cell() -> None:
    text = (
        "Document No  Reference  Doc Date  Gross  Discount  Net\n"
        "5100001234  10031  01/15/2026  1,000.00  20.00  980.00\n"
    )
    assert "510000123410031" not in [key for key, _, _ in _read(text)]


def test_a_credit_memo_row_does_not_make_the_next_row_a_credit() -> None:
    text = (
        "Invoice Number  Invoice Date  Amount\n"
        "10031  01/15/2026  1,000.00\n"
        "CM-501  01/20/2026  -100.00\n"
        "10032  01/20/2026  500.00\n"
    )
    assert _read(text) == [
        ("10031", "invoice", "1000.00"),
        ("501", "credit", None),
        ("10032", "invoice", "500.00"),
    ]


def test_coupa_po_column_beside_gross_discount_paid() -> None:
    text = (
        "Invoice  PO Number  Invoice Date  Gross  Discount  Paid\n"
        "10031  PO7781  01/15/2026  1,000.00  20.00  980.00\n"
        "10032  PO7782  01/20/2026  500.00  0.00  500.00\n"
    )
    assert _read(text) == [("10031", "invoice", "980.00"), ("10032", "invoice", "500.00")]
    assert _pos(text) == {"7781", "7782"}


def test_two_money_columns_beside_amount_are_read_as_before() -> None:
    # Amount beside Balance: which is paid is not said; the amount written after the number
    text = "Invoice  Amount  Balance\n10031  1,000.00  0.00\n"
    assert _read(text) == [("10031", "invoice", "1000.00")]


def test_a_code_padded_after_an_amount_is_the_amounts_not_the_next_rows_number() -> None:
    text = "10031  Widgets  1,000.00  USD\n10032  Gadgets  500.00  USD"
    assert [key for key, _, _ in _read(text)] == ["10031", "10032"]


def test_a_credit_memo_named_in_a_type_column_stays_a_credit() -> None:
    text = "Type  Invoice  Amount\nInvoice  10031  1,000.00\nCredit Memo  501  100.00"
    assert _read(text) == [("10031", "invoice", "1000.00"), ("501", "credit", None)]
    assert _read("Type  Invoice  Amount\nCM  501  100.00") == [("501", "credit", None)]


@pytest.mark.parametrize(
    "header",
    [
        "Invoice  Reference  Amount",
        "Invoice  Your Ref  Amount",
        "Rechnungsnr.  Ihre Referenz  Betrag",
    ],
)
def test_a_reference_column_may_hold_our_invoice(header: str) -> None:
    # the payer's number in the invoice column, ours under Reference: both read, as before
    keys = [key for key, _, _ in _read(f"{header}\n5100001234  INV-10031  1,000.00")]
    assert "10031" in keys
    assert "510000123410031" not in keys


@pytest.mark.parametrize(
    ("text", "amounts"),
    [
        # thousands grouped by dots elsewhere: a line's 12 500,00 EUR is still one amount
        ("RE 4711 1.250,00 EUR\nRE 4712\n12 500,00 EUR", ["1250.00", "12500.00"]),
        (
            "Gesamtbetrag 13.750,00 EUR\nRE 4711\n1 250,00 EUR\nRE 4712\n12 500,00 EUR",
            ["1250.00", "12500.00"],
        ),
        # a currency sign ending the line, its amount on the next
        ("INV 4711 €\n1 234,56", ["1234.56"]),
    ],
)
def test_amounts_grouped_by_spaces_on_their_own_line(text: str, amounts: list[str]) -> None:
    assert [amount for _, _, amount in _read(text)] == amounts


@pytest.mark.parametrize(
    "text",
    [
        "Invoice  Type  Amount\n10031  INV  1,000.00\n501  CM  100.00",
        "Invoice  Description  Amount\n10031  Widgets  1,000.00\n501  Credit memo  100.00",
        "Type  Invoice  Amount\nInvoice  10031  1,000.00\nCR  501  100.00",
    ],
)
def test_a_row_naming_a_credit_memo_anywhere_is_a_credit_never_paid(text: str) -> None:
    assert _read(text) == [("10031", "invoice", "1000.00"), ("501", "credit", None)]


@pytest.mark.parametrize(
    "text",
    [
        " " * 120 + "PURCHASE ORDER\n" + " " * 120 + "NO. 4471\nINVOICE 10031  1,000.00",
        "PURCHASE ORDER" + " " * 125 + "NO 4471\nINVOICE 10031 1,000.00",
    ],
)
def test_a_label_spread_over_a_wide_layout_is_still_a_label(text: str) -> None:
    assert _read(text) == [("10031", "invoice", "1000.00")]
    assert _pos(text) == {"4471"}


def test_labels_are_seen_across_dot_leaders_and_in_long_advices() -> None:
    filler = "".join(f"INV {20000 + n}  {n + 1}.00\n" for n in range(300))
    text = filler + "PO NO. .................... 4471\nINVOICE 10031"
    reading = read_references(text)
    assert "4471" not in [r.keys[0][0] for r in reading.refs]
    assert {key for po in reading.pos for key, _ in po.keys} == {"4471"}
    assert reading.refs[-1].keys[0][0] == "10031"
    assert len(reading.refs) == 301


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("INV 4472 EUR 1 234,56", "1234.56"),
        ("PAID INV 4472 EUR\n1 234,56", "1234.56"),
        ("INV 4472 1 234,56 EUR", "1234.56"),
    ],
)
def test_thousands_grouped_by_spaces_still_read(text: str, amount: str) -> None:
    assert _read(text) == [("4472", "invoice", amount)]


def test_words_between_a_number_and_an_amount_without_a_header_give_no_amount() -> None:
    # no header says which column is which: LESS DISCOUNT 20.00 would read the same
    assert _read("INV 10031 Widgets 1,000.00; INV 10032 Gadgets 500.00") == [
        ("10031", "invoice", None),
        ("10032", "invoice", None),
    ]


# cells with a label and one space: INV 10031, CN 501


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


# a row's number after a line ending with an amount's currency code


def test_a_rows_number_after_an_amounts_code_is_no_thousands_group() -> None:
    assert _read("123 1.000,00 EUR\n124 500,00 EUR") == [
        ("123", "invoice", "1000.00"),
        ("124", "invoice", "500.00"),
    ]
    assert _read("123 1.000,00  EUR\r\n124 500,00 EUR") == [
        ("123", "invoice", "1000.00"),
        ("124", "invoice", "500.00"),
    ]
    # a third row after a second whose amount looks grouped by spaces (review)
    assert _read("123 1.000,00 EUR\n124 500,00 EUR\n125 250,00 EUR") == [
        ("123", "invoice", "1000.00"),
        ("124", "invoice", "500.00"),
        ("125", "invoice", "250.00"),
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


# whole numbers in money columns are no amounts (review of a version that read them)


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
