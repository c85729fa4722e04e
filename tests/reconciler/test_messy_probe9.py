"""Probe 9: remittance text carrying a raw Fedwire message (``{1510}1000{2000}...{6000}INV
10023*``), payment terms beside the invoice numbers (``2/10 NET 30``, ``1/10 N30``,
``2/10NET30``), the payer's own debit memo, chargeback and deduction numbers, a remit-to
address (``PO BOX 660367``, ``SUITE 400``) and an invoice number written with its year
(``Fattura n. 10023/2024``, ``FT 2024/10023``): none of the wire's fields, terms, payer's
documents or address numbers is read as one of our invoices."""

from __future__ import annotations

import pytest

from canonical.store import Store
from reconciler.references import read_references
from tests.reconciler.test_messy_text_probe3 import AUTO, SUGGESTED, Case, check_case
from tests.support.receivables import Book

pytestmark = pytest.mark.usefixtures("book_loading")

FEDWIRE = (
    "{1500}30        T {1510}1000{1520}20261015MMQFMP2K000123{2000}000000100000"
    "{3100}021000021CHASE NYC*{3320}SREF88123*{3400}111000614BANK ONE DALLAS*{3600}CTR"
    "{4200}D123456789*ACME SUPPLY INC*{5000}D987654321*ACME CORP*5000 MAIN ST*"
    "{6000}INV 10023*"
)

CASES = [
    # -- LESS DM: the payer's debit memo taken off, whatever header word comes before it, and
    # its number on the next line (the cash went on invoice 7701: review of 19b5768) -------
    Case(
        "paid_less_dm",
        "INV 10023 PAID LESS DM 7701",
        "950.00",
        [("A", "10023", "600.00"), ("A", "7701", "350.00")],
        AUTO,
        {"10023": "600.00"},
    ),
    Case(
        "less_dm_number_on_the_next_line",
        "INV 10023 LESS DM\n7701",
        "950.00",
        [("A", "10023", "600.00"), ("A", "7701", "350.00")],
        AUTO,
        {"10023": "600.00"},
    ),
    # -- a raw Fedwire message: only the payer's remittance fields are read ---------------
    Case(
        "fedwire_obi_tag",
        "{6000}INV 10023*",
        "1000.00",
        [("A", "10023", "1000.00"), ("A", "6000", "1000.00")],
        AUTO,
        {"10023": "1000.00"},
    ),
    Case(
        "fedwire_message",
        FEDWIRE,
        "1000.00",
        [("A", "10023", "1000.00"), ("A", "1000", "1000.00"), ("A", "5000", "1000.00")],
        AUTO,
        {"10023": "1000.00"},
    ),
    Case(
        "fedwire_amount_field_no_invoice",
        "{2000}000000100000{6000}PAYMENT*",
        "1000.00",
        [("A", "100000", "1000.00"), ("A", "10024", "1000.00")],
        SUGGESTED,
    ),
    Case(
        "fedwire_reference_for_beneficiary",
        "{3320}SREF88123*{4320}10023*{6000}THANK YOU*",
        "1000.00",
        [("A", "10023", "1000.00"), ("A", "88123", "1000.00")],
        AUTO,
        {"10023": "1000.00"},
    ),
    # -- payment terms ------------------------------------------------------------------
    Case(
        "terms_1_10_n30",
        "INV 10023 1/10 N30",
        "1000.00",
        [("A", "10023", "1000.00"), ("A", "110", "1000.00")],
        AUTO,
        {"10023": "1000.00"},
    ),
    Case(
        "terms_2_10_net_30",
        "INV 10023 TERMS 2/10 NET 30",
        "1000.00",
        [("A", "10023", "1000.00"), ("A", "210", "1000.00")],
        AUTO,
        {"10023": "1000.00"},
    ),
    Case(
        "terms_glued_after_list",
        "INVOICES 10023 10024 2/10NET30",
        "2000.00",
        [("A", "10023", "1000.00"), ("A", "10024", "1000.00")],
        AUTO,
        {"10023": "1000.00", "10024": "1000.00"},
    ),
    # -- the payer's debit memos, chargebacks and deductions --------------------------------
    Case(
        "debit_memo_number",
        "INV 10023 DEBIT MEMO 7701",
        "1000.00",
        [("A", "10023", "1000.00"), ("A", "7701", "50.00")],
        AUTO,
        {"10023": "1000.00"},
    ),
    Case(
        "dm_number",
        "INV 10023 DM 7701",
        "1000.00",
        [("A", "10023", "1000.00"), ("A", "7701", "50.00")],
        AUTO,
        {"10023": "1000.00"},
    ),
    Case(
        "chargeback_number",
        "INV 10023 CHARGEBACK 7701",
        "1000.00",
        [("A", "10023", "1000.00"), ("A", "7701", "50.00")],
        AUTO,
        {"10023": "1000.00"},
    ),
    Case(
        "deduction_number",
        "INV 10023 DEDUCTION #7701",
        "1000.00",
        [("A", "10023", "1000.00"), ("A", "7701", "50.00")],
        AUTO,
        {"10023": "1000.00"},
    ),
    Case(
        "deduction_column_header",
        "REMITTANCE ADVICE\nINVOICE   AMOUNT PAID   DEDUCTION\n4471      1000.00       0.00\n"
        "4472      1000.00       0.00\n",
        "2000.00",
        [("A", n, "1000.00") for n in ("4471", "4472", "4473", "4474")],
        AUTO,
        {"4471": "1000.00", "4472": "1000.00"},
    ),
    Case(
        "deduction_column_header_flattened",
        "INVOICE AMOUNT PAID DEDUCTION 4471 1000.00 1000.00 0.00 4472 1000.00 1000.00 0.00",
        "2000.00",
        [("A", n, "1000.00") for n in ("4471", "4472", "4473", "4474")],
        AUTO,
        {"4471": "1000.00", "4472": "1000.00"},
    ),
    Case(
        "deductions_column_after_dates",
        "Invoice Date Invoice Number Gross Discount Deductions\n"
        "10/01/2026 4471 1,000.00 0.00 0.00\n10/02/2026 4472 1,000.00 0.00 0.00\n",
        "2000.00",
        [("A", n, "1000.00") for n in ("4471", "4472", "4473", "4474")],
        AUTO,
        {"4471": "1000.00", "4472": "1000.00"},
    ),
    # -- our own debit memos (Intacct numbers them DM-n), paid -------------------------------
    Case(
        "our_debit_memo_written_with_its_prefix",
        "DEBIT MEMO DM-1234",
        "50.00",
        [("A", "DM-1234", "50.00"), ("A", "DM-1235", "50.00"), ("A", "4471", "1000.00")],
        AUTO,
        {"DM-1234": "50.00"},
    ),
    Case(
        "our_debit_memo_beside_an_invoice",
        "INV 4471 DEBIT MEMO DM-1234",
        "1050.00",
        [
            ("A", "DM-1234", "50.00"),
            ("A", "DM-1235", "50.00"),
            ("A", "4471", "1000.00"),
            ("A", "4472", "1000.00"),
        ],
        AUTO,
        {"DM-1234": "50.00", "4471": "1000.00"},
    ),
    Case(
        "payment_for_our_debit_memo",
        "PAYMENT FOR DEBIT MEMO 7701",
        "50.00",
        [("A", "7701", "50.00"), ("A", "7702", "50.00"), ("A", "4471", "1000.00")],
        AUTO,
        {"7701": "50.00"},
    ),
    Case(
        "payment_dm_number",
        "PAYMENT DM 1234",
        "50.00",
        [("A", "1234", "50.00"), ("A", "1235", "50.00"), ("A", "4471", "1000.00")],
        AUTO,
        {"1234": "50.00"},
    ),
    Case(
        "payment_against_our_debit_note",
        "PAYMENT AGAINST DEBIT NOTE 4471",
        "1000.00",
        [("A", "4471", "1000.00"), ("A", "4472", "1000.00")],
        AUTO,
        {"4471": "1000.00"},
    ),
    Case(
        "debit_memo_taken_off",
        "LESS DM 7701 INV 4471",
        "950.00",
        [("A", "4471", "1000.00"), ("A", "7701", "950.00")],
        "exception",
        kind="short_pay_over_tolerance",  # 4471 short by the memo, never 7701 paid
    ),
    # -- numbers beside NET that are no payment terms -------------------------------------
    Case(
        "slash_list_then_net_terms",
        "INV 45/46 NET 30",
        "1000.00",
        [("A", "45", "500.00"), ("A", "46", "500.00"), ("A", "47", "500.00")],
        AUTO,
        {"45": "500.00", "46": "500.00"},
    ),
    # -- a remit-to address ---------------------------------------------------------------
    Case(
        "po_box",
        "REMIT TO PO BOX 660367 INV 4471",
        "500.00",
        [("A", "4471", "500.00"), ("A", "660367", "500.00")],
        AUTO,
        {"4471": "500.00"},
    ),
    Case(
        "suite_number",
        "ACME CORP SUITE 400 INV 4471",
        "500.00",
        [("A", "4471", "500.00"), ("A", "400", "500.00")],
        AUTO,
        {"4471": "500.00"},
    ),
    # -- a number written with its year ------------------------------------------------
    Case(
        "number_and_year_not_a_shorthand",
        "Fattura n. 10023/2024",
        "500.00",
        [("A", "12024", "500.00")],
        SUGGESTED,
    ),
    Case(
        "number_and_year_is_the_number",
        "Fattura n. 10023/2024",
        "500.00",
        [("A", "10023", "500.00"), ("A", "10024", "500.00"), ("A", "12024", "500.00")],
        AUTO,
        {"10023": "500.00"},
    ),
    Case(
        "numbers_and_years_listed",
        "Saldo fatture 10023/2024 10024/2024",
        "1000.00",
        [("A", "10023", "500.00"), ("A", "10024", "500.00"), ("A", "10025", "500.00")],
        AUTO,
        {"10023": "500.00", "10024": "500.00"},
    ),
    Case(
        "inv_number_and_next_year",
        "INV 10023/2025",
        "500.00",
        [("A", "10023", "500.00"), ("A", "10024", "500.00")],
        AUTO,
        {"10023": "500.00"},
    ),
    Case(
        "year_and_longer_sequence",
        "FT 2024/10023",
        "1000.00",
        [("A", "10023", "1000.00"), ("A", "2024", "1000.00")],
        AUTO,
        {"10023": "1000.00"},
    ),
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_messy_remittance_text_probe9(store: Store, book: Book, case: Case) -> None:
    check_case(store, book, case)


def _keys(text: str) -> list[tuple[str, bool, str]]:
    return [(r.keys[0][0], r.labelled, r.how) for r in read_references(text).refs]


def _ignored(text: str) -> list[tuple[str, str]]:
    return [(i["written"].strip(), i["why"]) for i in read_references(text).ignored]


def test_a_fedwire_message_gives_only_its_remittance_fields() -> None:
    """The tags, IMAD, amount, banks, parties and their accounts are the wire's own."""
    assert _keys(FEDWIRE) == [("10023", True, "written")]
    assert _keys("{3320}INV 88123*{6000}INV 10023 10024*{8750}CM 5501*") == [
        ("10023", True, "written"),
        ("10024", True, "written"),
        ("5501", True, "written"),
    ]


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("INV 10023 1/10 N30", "1/10 N30"),
        ("INV 10023 TERMS 2/10 NET 30", "2/10 NET 30"),
        ("INV 10023 2%10NET30", "2%10NET30"),
        ("INV 10023 NET 30 DAYS", "NET 30 DAYS"),
        ("INV 10023 NET30", "NET30"),
    ],
)
def test_payment_terms_are_no_document_numbers(text: str, terms: str) -> None:
    assert _keys(text) == [("10023", True, "written")]
    assert (terms, "payment terms") in _ignored(text)


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("INV 10023 1.5/10 NET 30", "1.5/10 NET 30"),
        ("INV 10023 2/10 NET 120", "2/10 NET 120"),
        ("INV 10023 2/10 N30", "2/10 N30"),
    ],
)
def test_payment_terms_with_a_decimal_discount_or_long_net(text: str, terms: str) -> None:
    assert _keys(text) == [("10023", True, "written")]
    assert (terms, "payment terms") in _ignored(text)


def test_numbers_beside_net_that_are_no_terms_are_read() -> None:
    """A two-digit number is no discount percent, nor is an N apart from its number net
    days: INV 45/46 NET 30 is invoices 45 and 46; 1/10 N 345 keeps 345."""
    assert _keys("INV 45/46 NET 30") == [
        ("4546", True, "written"),
        ("45", True, "part"),
        ("46", True, "part"),
    ]
    assert ("NET 30", "payment terms") in _ignored("INV 45/46 NET 30")
    assert "345" in [key for key, _, _ in _keys("FT 1/10 N 345")]
    assert [why for _, why in _ignored("FT 1/10 N 345")] == []


def test_a_net_amount_or_a_table_is_not_taken_for_terms() -> None:
    """NET 980.00 is the amount paid on the invoice, not net-30 terms; nor is a table's NET
    column header followed by its first row's date or invoice number."""
    assert _keys("INV 10023 NET 980.00") == [("10023", True, "written")]
    assert _ignored("INV 10023 NET 980.00") == []
    assert _ignored("INV 10023 NET 1,475.00") == []
    header = "INVOICE DATE INVOICE NO AMOUNT DISCOUNT NET "
    assert _keys(header + "01/15/24 10023 1,000.00 20.00 980.00") == [("10023", False, "written")]
    assert _keys("INVOICE NO AMOUNT DISCOUNT NET 123 1,000.00 20.00 980.00") == [
        ("123", False, "written")
    ]


@pytest.mark.parametrize(
    "text",
    [
        "INV 10023 DEBIT MEMO 7701",
        "INV 10023 DM# 7701",
        "INV 10023 CHARGEBACK 7701",
        "INV 10023 CHARGE-BACK 7701, 7702",
        "INV 10023 DEDUCTION 7701",
        "INV 10023 DED #7701",
        "INV 10023 DEDUCTION NO. 7701",
        "DM 7701 INV 10023",
        "REMIT TO PO BOX 7701 INV 10023",
        "P.O. BOX 7701 INV 10023",
        "SUITE 7701 INV 10023",
    ],
)
def test_the_payers_documents_and_address_numbers_are_no_invoices(text: str) -> None:
    reading = read_references(text)
    assert [r.keys[0][0] for r in reading.refs] == ["10023"]
    assert reading.pos == []  # a PO box is no purchase order


def test_a_number_and_its_year_are_not_a_shorthand_list() -> None:
    """10023/2024 is invoice 10023 of 2024, not 10023 and 12024; 2024/10023 the year, then
    its sequence, not invoices 2024 and 10023; 2024/2025 stays a list."""
    assert _keys("Fattura n. 10023/2024") == [
        ("100232024", True, "written"),
        ("10023", True, "sequence"),
    ]
    assert _keys("INV 4471/2024") == [
        ("44712024", True, "written"),
        ("4471", True, "part"),
        ("2024", True, "part"),
    ]
    assert _keys("FT 2024/10023") == [("202410023", True, "written"), ("10023", True, "sequence")]
    assert _keys("INV 2024/2025") == [
        ("20242025", True, "written"),
        ("2024", True, "part"),
        ("2025", True, "part"),
    ]
