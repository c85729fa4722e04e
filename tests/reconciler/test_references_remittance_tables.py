"""Remittance advices listing invoices as a table under a header (Oracle Payables, SAP, NetSuite,
Bill.com, e-mailed spreadsheets): the amount paid on each invoice is the paid column's, not
the gross that comes first after the number; a header naming no clear paid column, a tax
column, or a row whose gross less its discount is not what was paid, is read as before."""

from __future__ import annotations

import pytest

from canonical.store import Store
from reconciler.references import TextRef, read_references
from tests.reconciler.test_messy_text_probe3 import AUTO, Case, check_case
from tests.support.receivables import Book

# Oracle Payables' remittance advice, as its e-mailed text prints it
ORACLE = (
    "REMITTANCE ADVICE                      Payment Number: 88213\n"
    "Payment Date: 02-NOV-26                Payment Amount: 3,475.00 USD\n"
    "\n"
    "Invoice Number   Invoice Date   Gross Amount   Discount   Paid Amount\n"
    "---------------  ------------   ------------   --------   -----------\n"
    "10024            15-OCT-26          2,500.00      25.00      2,475.00\n"
    "10031            18-OCT-26          1,000.00       0.00      1,000.00\n"
    "                                                           -----------\n"
    "Total                               3,500.00      25.00      3,475.00\n"
)
# SAP's payment advice (F110) as a PDF's text comes out: single spaces, German dates, a credit
# memo with its minus sign after the amount
SAP = (
    "Payment advice note from 02.11.2026\n"
    "Your Invoice Doc. Date Gross Amount Cash Discount Net Amount\n"
    "10024 15.10.2026 2,500.00 25.00 2,475.00\n"
    "10031 18.10.2026 1,000.00 0.00 1,000.00\n"
    "7702 20.10.2026 150.00- 0.00 150.00-\n"
    "Total 3,350.00 25.00 3,325.00\n"
)
# NetSuite's vendor payment export: tab separated
NETSUITE = "Inv #\tInv Amt\tDisc Taken\tNet Paid\n10024\t2,500.00\t25.00\t2,475.00\n"
# a payables mailbox's markdown table (Bill.com style columns)
PIPES = (
    "| Document | Amount | Deduction | Net |\n"
    "|----------|--------|-----------|-----|\n"
    "| 10024 | 2,500.00 | 25.00 | 2,475.00 |\n"
    "| 10031 | 1,000.00 | 0.00 | 1,000.00 |\n"
)


def _table(text: str) -> list[tuple[str, str | None, str | None, str | None]]:
    """(number, amount, discount, deduction) of each invoice number read, in order."""
    refs: list[TextRef] = read_references(text).refs
    return [
        (ref.keys[0][0], ref.amount, ref.discount, ref.deduction)
        for ref in refs
        if ref.how == "written" and ref.kind == "invoice"
    ]


def test_oracle_payables_advice_the_paid_column_and_the_discount() -> None:
    assert _table(ORACLE) == [("10024", "2475.00", "25.00", None), ("10031", "1000.00", None, None)]


def test_sap_advice_single_spaced_its_credit_memo_netted() -> None:
    reading = read_references(SAP)
    assert _table(SAP) == [("10024", "2475.00", "25.00", None), ("10031", "1000.00", None, None)]
    assert [(r.keys[0][0], r.kind) for r in reading.refs if r.how == "written"][-1] == (
        "7702",
        "credit",
    )


def test_netsuite_tab_separated() -> None:
    assert _table(NETSUITE) == [("10024", "2475.00", "25.00", None)]


def test_pipes_amount_less_deduction_is_net() -> None:
    assert _table(PIPES) == [("10024", "2475.00", None, "25.00"), ("10031", "1000.00", None, None)]


def test_a_tax_column_is_no_discount_and_net_beside_it_no_paid_amount() -> None:
    # an EU advice: NET is before VAT; gross less VAT is net, which is no discount taken
    text = (
        "Invoice No.   Gross Amount   VAT      Net Amount\n"
        "10024         2,400.00       400.00   2,000.00\n"
        "10031         1,200.00       200.00   1,000.00\n"
    )
    assert _table(text) == [("10024", "2400.00", None, None), ("10031", "1200.00", None, None)]
    paid = (
        "Invoice No. | Net Amount | VAT | Gross Amount | Amount Paid\n"
        "10024 | 2,000.00 | 400.00 | 2,400.00 | 2,400.00\n"
    )
    assert _table(paid) == [("10024", "2400.00", None, None)]


@pytest.mark.parametrize(
    "text",
    [
        # AMOUNT alone could be gross or paid
        "Invoice   Amount\n10024     2,500.00\n",
        # gross and discount, no paid column
        "Invoice Number   Gross Amount   Discount\n10024            2,500.00      25.00\n",
        # NET beside GROSS with nothing taken off between them: net of what?
        "Invoice   Gross      Net\n10024     2,500.00   2,475.00\n",
        # gross less the discount is not what the row says was paid
        "Invoice Number   Gross Amount   Discount   Paid Amount\n"
        "10024            2,500.00       25.00      2,400.00\n",
    ],
    ids=["amount_alone", "no_paid_column", "net_beside_gross", "figures_disagree"],
)
def test_a_table_whose_paid_amount_is_unclear_is_read_as_before(text: str) -> None:
    assert _table(text) == [("10024", "2500.00", None, None)]


def test_an_address_under_the_table_ends_it() -> None:
    text = (
        "Invoice Number   Gross Amount   Discount   Paid Amount\n"
        "10024            2,500.00       25.00      2,475.00\n"
        "Acme Corp  1200 Industrial Pkwy  Suite 400  Dallas, TX 75201\n"
    )
    read = _table(text)
    assert read[0] == ("10024", "2475.00", "25.00", None)
    assert all(d is None for _, _, d, _ in read[1:])


def test_sap_document_number_beside_the_reference_is_not_taken_for_the_invoice() -> None:
    # SAP numbers its own document; our invoice is the Reference: neither column is sure
    text = (
        "Document No.   Reference   Gross Amount   Cash Discount   Net Amount\n"
        "5100012345     10024       2,500.00       25.00           2,475.00\n"
    )
    assert all(d is None for _, _, d, _ in _table(text))


CASES = [
    # the payer kept 25.00 off invoice 10031 (over the tolerance on it: left open there); read
    # by gross, the 25.00 was written off invoice 10024, which the payer paid in full
    Case(
        "short_pay_on_the_row_that_says_so",
        "Invoice No.   Invoice Amount   Amount Paid\n"
        "10024         2,500.00         2,500.00\n"
        "10031         1,000.00           975.00\n",
        "3475.00",
        [("A", "10024", "2500.00"), ("A", "10031", "1000.00"), ("A", "10040", "900.00")],
        AUTO,
        {"10024": "2500.00", "10031": "975.00"},
        deduction="0.00",
    ),
    # a partial payment on one invoice: read by gross, the payment was short of it all
    Case(
        "partial_payment_row",
        "Invoice No.   Invoice Amount   Amount Paid\n"
        "10024         2,500.00         1,500.00\n"
        "10031         1,000.00         1,000.00\n",
        "2500.00",
        [("A", "10024", "2500.00"), ("A", "10031", "1000.00"), ("A", "10040", "900.00")],
        AUTO,
        {"10024": "1500.00", "10031": "1000.00"},
        deduction="0.00",
    ),
    Case(
        "oracle_discount_within_terms",
        ORACLE,
        "3475.00",
        [
            ("A", "10024", "2500.00", "USD", "1/10 net 30", "2026-10-28"),
            ("A", "10031", "1000.00", "USD", "1/10 net 30", "2026-10-28"),
            ("A", "10040", "900.00"),
        ],
        AUTO,
        {"10024": "2475.00", "10031": "1000.00"},
        deduction="25.00",
    ),
    Case(
        "pipes_deduction",
        PIPES,
        "3475.00",
        [("A", "10024", "2500.00"), ("A", "10031", "1000.00"), ("A", "10040", "900.00")],
        AUTO,
        {"10024": "2475.00", "10031": "1000.00"},
        deduction="25.00",
    ),
    # the payment written in an accountant's brackets (cash out of the payer's books): what
    # it pays, never a credit taken (review: 10024 was netted as a credit memo and the cash
    # went to 10040, which happened to owe the amount)
    Case(
        "paid_in_brackets",
        "Invoice No  Invoice Amount  Amount Paid\nINV-10024  2,500.00  (2,475.00)\n",
        "2475.00",
        [("A", "10024", "2500.00"), ("A", "10031", "1000.00"), ("A", "10040", "2475.00")],
        AUTO,
        {"10024": "2475.00"},
        deduction="25.00",
    ),
    # paid at gross: VAT is neither a discount nor a short pay
    Case(
        "vat_table_paid_at_gross",
        "Invoice No.   Net Amount   VAT      Gross Amount\n"
        "10024         2,000.00     400.00   2,400.00\n"
        "10031         1,000.00     200.00   1,200.00\n",
        "3600.00",
        [("A", "10024", "2400.00"), ("A", "10031", "1200.00"), ("A", "10040", "900.00")],
        AUTO,
        {"10024": "2400.00", "10031": "1200.00"},
        deduction="0.00",
    ),
]


@pytest.mark.usefixtures("book_loading")
@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_remittance_tables_reconciled(store: Store, book: Book, case: Case) -> None:
    check_case(store, book, case)
