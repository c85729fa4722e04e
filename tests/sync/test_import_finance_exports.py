"""Import probes: spreadsheets as a finance team exports them. Headers named the way ERPs
and reports name them ("Invoice #", "Amount Due", "Customer Name"), dates with the month
named ("01-Jan-2024", "Jan 1, 2024"), ids padded with zeros, and a payments export's refund
lines (positive amounts that are money paid back, never cash received)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select
from sqlmodel import col

from canonical.models import Customer, ExternalRef, Invoice, Payment
from canonical.store import Store
from sync.importer import import_file

CUSTOMERS = "customer_id,name,number,currency\nC1,Acme Corp,000456,USD\n"


def put(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def workbook(tmp_path: Path, name: str, rows: list[list[Any]]) -> Path:
    """An .xlsx whose text values are text cells (as typed in a cell formatted as Text)."""
    book = openpyxl.Workbook()
    sheet: Any = book.active
    for row in rows:
        sheet.append(row)
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.number_format = "@"
    path = tmp_path / name
    book.save(path)
    return path


@pytest.fixture
def store(sqlite_store: Store, tmp_path: Path) -> Store:
    report = import_file(sqlite_store, "customers", put(tmp_path, "c.csv", CUSTOMERS))
    assert (report.created, report.errors) == (1, [])
    return sqlite_store


def invoices(store: Store) -> dict[str, tuple[int, int, str, str]]:
    with store.session() as s:
        return {
            i.number: (i.total_minor, i.balance_minor, str(i.issue_date), str(i.due_date))
            for i in s.execute(select(Invoice)).scalars()
        }


def payments(store: Store) -> dict[str, tuple[int, str]]:
    with store.session() as s:
        found = s.execute(
            select(col(ExternalRef.remote_id), col(Payment.amount_minor), col(Payment.received_on))
            .join(Payment, col(ExternalRef.canonical_id) == col(Payment.id))
            .where(col(ExternalRef.system) == "import")
        ).all()
    return {key: (amount, str(day)) for key, amount, day in found}


@pytest.mark.parametrize(
    "header",
    [
        "Invoice #,Customer Name,Currency,Total,Amount Due,Due Date,Doc Date",
        "Invoice No.,Customer Name,Currency Code,Invoice Total,Open Balance,Due Date,Invoice Date",
        "Inv No,Customer #,Currency,Total Amount,Balance Due,Payment Due Date,Document Date",
    ],
)
def test_a_finance_exports_header_names_are_read(store: Store, tmp_path: Path, header: str) -> None:
    """Each header was refused (``invoice_number`` required) though it names every column
    the import needs: the aliases are read as the documented columns."""
    customer = "000456" if "Customer #" in header else "Acme Corp"
    rows = f"{header}\nINV-7,{customer},USD,100.00,40.00,2024-02-29,2024-01-30\n"
    report = import_file(store, "invoices", put(tmp_path, "i.csv", rows))
    assert (report.created, report.errors) == (1, [])
    assert invoices(store) == {"INV-7": (10000, 4000, "2024-01-30", "2024-02-29")}


def test_a_workbooks_header_names_are_read(store: Store, tmp_path: Path) -> None:
    """The same header as an .xlsx, below a report's title lines (found by its aliases)."""
    path = workbook(
        tmp_path,
        "i.xlsx",
        [
            ["Open Invoices"],
            ["Acme Holdings"],
            [],
            ["Invoice #", "Customer Name", "Currency", "Total", "Open Balance", "Due Date"],
            ["000123", "Acme Corp", "USD", 250, 100.5, "15-Mar-2024"],
        ],
    )
    report = import_file(store, "invoices", path)
    assert (report.created, report.errors) == (1, [])
    assert invoices(store) == {"000123": (25000, 10050, "None", "2024-03-15")}


def test_a_customers_export_names_its_columns_by_the_customer(store: Store, tmp_path: Path) -> None:
    """In a customers file "Customer Name" and "Customer #" are the customer's own name and
    number (the name was required, so every row was refused)."""
    rows = (
        "Customer ID,Customer #,Customer Name,E-mail,Currency Code\nC2,000789,Beta Ltd,a@b.co,EUR\n"
    )
    report = import_file(store, "customers", put(tmp_path, "c2.csv", rows))
    assert (report.created, report.errors) == (1, [])
    with store.session() as s:
        beta = s.execute(select(Customer).where(col(Customer.name) == "Beta Ltd")).scalar_one()
    assert (beta.number, beta.email, beta.currency) == ("000789", "a@b.co", "EUR")


def test_a_payments_export_names_its_columns_by_the_payment(store: Store, tmp_path: Path) -> None:
    rows = (
        "Payment #,Customer #,Payment Amount,Payment Date,Payment Method,Currency\n"
        '000555,000456,"1,250.00","Jan 5, 2024",Check,USD\n'
    )
    report = import_file(store, "payments", put(tmp_path, "p.csv", rows))
    assert (report.created, report.errors) == (1, [])
    assert payments(store) == {"000555": (125000, "2024-01-05")}


def test_a_documented_column_is_read_before_its_alias(store: Store, tmp_path: Path) -> None:
    """With both "Balance" and "Open Balance" the documented column is read, as before."""
    rows = (
        "Invoice #,Customer Name,Currency,Total,Balance,Open Balance\n"
        "B1,Acme Corp,USD,10.00,4.00,7.00\n"
    )
    report = import_file(store, "invoices", put(tmp_path, "i.csv", rows))
    assert (report.created, report.errors) == (1, [])
    assert invoices(store)["B1"][:2] == (1000, 400)


def test_two_aliases_of_one_amount_refuse_the_file(store: Store, tmp_path: Path) -> None:
    rows = (
        "Invoice #,Customer Name,Currency,Total,Amount Due,Open Balance\n"
        "B1,Acme Corp,USD,10.00,4.00,7.00\n"
    )
    report = import_file(store, "invoices", put(tmp_path, "i.csv", rows))
    assert report.errors == [
        "i.csv: the header names column 'balance' twice (columns 5 and 6: 'Amount Due' and "
        "'Open Balance'): nothing was imported; remove or rename one of them"
    ]
    assert invoices(store) == {}


def test_an_ambiguous_amount_header_is_not_read_as_total_or_balance(
    store: Store, tmp_path: Path
) -> None:
    """An "Amount" (QuickBooks' invoice amount, and a payment's amount) is not guessed to
    be an invoice's total; the error names the row, the column and the header as written."""
    rows = (
        "Invoice #,Customer Name,Currency,Amount,Open Balance\n"
        "B1,Acme Corp,USD,10.00,4.00\nB2,Acme Corp,USD,10.00,40.00\n"
    )
    report = import_file(store, "invoices", put(tmp_path, "i.csv", rows))
    assert report.errors == [
        "i.csv: row 2: column 'total': is required",
        "i.csv: row 3: column 'total': is required",
    ]
    rows = "Invoice #,Customer Name,Currency,Total,Open Balance\nB2,Acme Corp,USD,10.00,40.00\n"
    report = import_file(store, "invoices", put(tmp_path, "i.csv", rows))
    assert report.errors == [
        "i.csv: row 2: column 'balance' ('Open Balance'): 40.00 USD is more than the total "
        "10.00 USD"
    ]


def test_json_keys_are_read_by_their_aliases(store: Store, tmp_path: Path) -> None:
    items = [
        {"Invoice #": "J1", "Customer Name": "Acme Corp", "Total": "9.00", "Amount Due": "3.00"},
        {"Invoice #": "J2", "Customer Name": "Acme Corp", "Total": "9.00", "Amount Due": "3.00",
         "Balance Due": "9.00"},
    ]  # fmt: skip
    report = import_file(store, "invoices", put(tmp_path, "i.json", json.dumps(items)))
    assert report.errors == [
        "i.json: row 2: column 'balance': named by two keys ('Amount Due' and 'Balance Due')"
    ]
    assert invoices(store) == {"J1": (900, 300, "None", "None")}


@pytest.mark.parametrize(
    "written",
    ["1 Jan 2024", "01-Jan-2024", "01-JAN-24", "1 January 2024", "Jan 1, 2024",
     "January 1, 2024", "JAN 1 2024", "01-Jan-2024 00:00:00"],
)  # fmt: skip
def test_a_date_naming_its_month_is_read(store: Store, tmp_path: Path, written: str) -> None:
    """As Excel (``d mmm yyyy``, ``mmmm d, yyyy``) and Oracle (``DD-MON-RR``) export dates:
    refused before as not YYYY-MM-DD."""
    rows = (
        f'invoice_number,customer_name,currency,total,issue_date\nD1,Acme Corp,USD,1,"{written}"\n'
    )
    report = import_file(store, "invoices", put(tmp_path, "i.csv", rows))
    assert (report.created, report.errors) == (1, [])
    assert invoices(store)["D1"][2] == "2024-01-01"


def test_a_workbooks_text_date_naming_its_month_is_read(store: Store, tmp_path: Path) -> None:
    path = workbook(
        tmp_path,
        "i.xlsx",
        [
            ["invoice_number", "customer_name", "currency", "total", "issue_date", "due_date"],
            ["D1", "Acme Corp", "USD", 1, "1 Feb 2024", "Mar 2, 2024"],
        ],
    )
    report = import_file(store, "invoices", path)
    assert (report.created, report.errors) == (1, [])
    assert invoices(store)["D1"][2:] == ("2024-02-01", "2024-03-02")


def test_a_named_month_date_that_does_not_exist_is_refused(store: Store, tmp_path: Path) -> None:
    rows = (
        "Invoice #,Customer Name,Currency,Total,Doc Date\n"
        "D1,Acme Corp,USD,1.00,31-Feb-2024\nD2,Acme Corp,USD,1.00,1 Foo 2024\n"
        "D3,Acme Corp,USD,1.00,01-JAN-01\n"
    )
    report = import_file(store, "invoices", put(tmp_path, "i.csv", rows))
    assert report.errors == [
        "i.csv: row 2: column 'issue_date' ('Doc Date'): not a date: '31-Feb-2024'",
        "i.csv: row 3: column 'issue_date' ('Doc Date'): not a date: '1 Foo 2024'",
        "i.csv: row 4: column 'issue_date' ('Doc Date'): 01-JAN-01: read day first as 1 "
        "January 2001, more than 10 years ago: write the year in full",
    ]


def test_a_slash_date_still_needs_its_order(store: Store, tmp_path: Path) -> None:
    """03/04/2024 is March or April: refused without --date-order, as before."""
    rows = "Invoice #,Customer Name,Currency,Total,Invoice Date\nD1,Acme Corp,USD,1.00,03/04/2024\n"
    path = put(tmp_path, "i.csv", rows)
    report = import_file(store, "invoices", path)
    assert report.errors == [
        "i.csv: row 2: column 'issue_date' ('Invoice Date'): '03/04/2024' is a slash date: say "
        "its order with --date-order mdy (month/day/year) or dmy (day/month/year), or write "
        "YYYY-MM-DD"
    ]
    report = import_file(store, "invoices", path, date_order="dmy")
    assert (report.created, report.errors) == (1, [])
    assert invoices(store)["D1"][2] == "2024-04-03"


def test_ids_padded_with_zeros_keep_them(store: Store, tmp_path: Path) -> None:
    """Text ids ("000123" in a CSV, or a text cell) keep their zeros: a customer linked by
    its number 000456, an invoice numbered 000123, a payment 000555 applied to it."""
    rows = "Invoice #,Customer #,Currency,Total\n000123,000456,USD,50.00\n"
    assert import_file(store, "invoices", put(tmp_path, "i.csv", rows)).errors == []
    path = workbook(
        tmp_path,
        "p.xlsx",
        [
            ["Payment #", "Customer #", "Currency", "Amount", "applied_to"],
            ["000555", "000456", "USD", 50, "000123:50.00"],
        ],
    )
    report = import_file(store, "payments", path)
    assert (report.created, report.errors) == (1, [])
    assert list(invoices(store)) == ["000123"]
    assert list(payments(store)) == ["000555"]


@pytest.mark.parametrize(
    ("column", "kind"),
    [("Type", "Refund"), ("Transaction Type", "Customer Refund"), ("Type", "Refund Receipt"),
     ("Txn Type", "Chargeback"), ("Type", "Payment Reversal"), ("Type", "Refunds"),
     ("Type", "ACH Return"), ("Type", "Bounced Check"), ("Type", "payment_refund"),
     ("Type", "Charge back"), ("Type", "Chargeback Reversal"), ("Type", "NSF Redeposit"),
     ("Type", "Return-Item"), ("Type", "ReturnedCheck"), ("Type", "NSF-Check"),
     ("Type", "Cheque Dishonour"), ("Type", "ACH-Return"), ("Type", "Charged Back"),
     ("Type", "Payment Recall"), ("Type", "Refunding"), ("Type", "Reversing Entry"),
     ("Type", "ChgBk"), ("Type", "Payment Reverse"), ("Type", "ReversePayment"),
     ("Type", "Reverse Chargeback"), ("Type", "Reverse ChgBk"), ("Type", "ChgBk_ACH")],
)  # fmt: skip
def test_a_refund_in_a_payments_export_is_never_cash_received(
    store: Store, tmp_path: Path, column: str, kind: str
) -> None:
    """A refund line written positive (the export's type column says what it is) was
    imported as a payment: 20.00 of cash received that went out. The import has no refunds:
    the row is refused naming its row and the type column; the payment beside it lands."""
    rows = (
        f"payment_id,customer_name,currency,amount,{column},received_on\n"
        "P1,Acme Corp,USD,50.00,Payment,2024-01-05\n"
        f"R1,Acme Corp,USD,20.00,{kind},2024-01-06\n"
    )
    report = import_file(store, "payments", put(tmp_path, "p.csv", rows))
    name = column.lower().replace(" ", "_")
    assert (report.created, report.rejected) == (1, 1)
    assert report.errors == [
        f"p.csv: row 3: column {name!r}: {kind!r} is not a plain payment received: refunds, "
        "returns, chargebacks, reversals and NSF lines are not imported (which way their money "
        "moved is not read); record it in the system it came from"
    ]
    assert payments(store) == {"P1": (5000, "2024-01-05")}


def test_a_payment_type_naming_its_method_is_no_refund(store: Store, tmp_path: Path) -> None:
    rows = (
        "payment_id,customer_name,currency,amount,Payment Type\n"
        "P1,Acme Corp,USD,50.00,Check\nP2,Acme Corp,USD,5.00,Credit Card\n"
    )
    report = import_file(store, "payments", put(tmp_path, "p.csv", rows))
    assert (report.created, report.errors) == (2, [])


@pytest.mark.parametrize(
    "kind",
    ["Refundable Deposit", "Security Deposit - Refundable", "Reverse Charge Receipt",
     "Returning Customer Deposit", "Revenue Receipt", "Reverse Factoring", "Exchg Bk Transfer",
     "REVERSE_CHARGE_RECEIPT", "ReverseChargeVAT"],
)  # fmt: skip
def test_a_payment_whose_type_only_begins_like_a_refund_is_received(
    store: Store, tmp_path: Path, kind: str
) -> None:
    """Words are read whole (review: a refundable deposit received was refused)."""
    rows = f"payment_id,customer_name,currency,amount,Type\nR1,Acme Corp,USD,20.00,{kind}\n"
    report = import_file(store, "payments", put(tmp_path, "p.csv", rows))
    assert (report.created, report.errors) == (1, [])


@pytest.mark.parametrize("kind", ["Insufficient Funds", "Dispute", "Charge-backs"])
def test_money_taken_back_in_other_words_is_refused(
    store: Store, tmp_path: Path, kind: str
) -> None:
    rows = f"payment_id,customer_name,currency,amount,Type\nR1,Acme Corp,USD,20.00,{kind}\n"
    report = import_file(store, "payments", put(tmp_path, "p.csv", rows))
    assert (report.created, report.rejected) == (0, 1)


AGING = (
    "Acme Holdings Inc\nA/R Aging Summary\n\n"
    "Inv No,Cust Name,Invoice Date,Invoice Amount,Current,1 - 30,31 - 60,61 - 90,Open Balance\n"
)


def test_an_ageing_reports_bucket_columns_are_no_values(store: Store, tmp_path: Path) -> None:
    """An A/R ageing export names its buckets 1 - 30, 31 - 60 (or 30, 60, 90 in a workbook):
    its header is still found below its title lines (review: nothing was imported)."""
    rows = AGING + "INV-3,Acme Corp,2024-11-01,100.00,0.00,75.00,0.00,0.00,75.00\n"
    report = import_file(store, "invoices", put(tmp_path, "aging.csv", rows))
    assert (report.created, report.errors) == (1, [])
    book = workbook(
        tmp_path,
        "aging.xlsx",
        [
            ["Aged receivables"],
            ["As at 31 Dec 2024"],
            [],
            ["Invoice #", "Cust Name", "Invoice Date", "Invoice Amount", "Amount Due", 30, 60, 90],
            ["INV-4", "Acme Corp", "2024-11-01", "50.00", "20.00", "20.00", "0", "0"],
        ],
    )
    report = import_file(store, "invoices", book)
    assert (report.created, report.errors) == (1, [])
    assert invoices(store)["INV-3"][:2] == (10000, 7500)
    assert invoices(store)["INV-4"][:2] == (5000, 2000)


def test_an_ageing_export_of_a_quiet_day_is_its_header_alone(store: Store, tmp_path: Path) -> None:
    rows = "Invoice #,Cust Name,Invoice Amount,Amount Due,Current,1-30,31-60,61-90\n"
    report = import_file(store, "invoices", put(tmp_path, "open.csv", rows))
    assert (report.created, report.errors) == (0, [])


def test_a_summary_line_of_labels_and_values_is_not_the_header(
    store: Store, tmp_path: Path
) -> None:
    """``Customer Name,Acme Corp,Amount Due,150.00`` names two columns by their aliases but
    holds values: the table's header is the line below (review: nothing was imported)."""
    rows = (
        "Customer Name,Acme Corp,Amount Due,150.00\n"
        "Balance:,200.00,Currency Code:,USD\n"
        "\n"
        "invoice_number,customer_name,total,balance,issue_date\n"
        "INV-1,Acme Corp,100.00,40.00,2024-01-05\n"
    )
    report = import_file(store, "invoices", put(tmp_path, "stmt.csv", rows))
    assert (report.created, report.errors) == (1, [])


def test_an_alias_never_adds_a_customer_key_ahead_of_the_documented_one(
    store: Store, tmp_path: Path
) -> None:
    """The customer is found by customer_id, else customer_number, else customer_name: a file
    naming customer_name is read by it, its ``Customer #`` (an export's number, zeros lost)
    never put ahead of it (review: the invoice went to the customer numbered 456)."""
    customers = "customer_id,name,number,currency\nC2,Beta Inc,456,USD\n"  # Acme Corp: 000456
    assert import_file(store, "customers", put(tmp_path, "c2.csv", customers)).created == 1
    rows = (
        "invoice_number,customer_name,Customer #,total,currency\nINV-7,Acme Corp,456,100.00,USD\n"
    )
    report = import_file(store, "invoices", put(tmp_path, "cn.csv", rows))
    assert (report.created, report.errors) == (1, [])
    with store.session() as session:
        owner = (
            session.execute(
                select(col(Customer.name)).join(
                    Invoice, col(Invoice.customer_id) == col(Customer.id)
                )
            )
            .scalars()
            .all()
        )
    assert owner == ["Acme Corp"]


@pytest.mark.parametrize(
    "summary",
    ["Customer Name,Acme Corp,Amount Due,150", "Customer Name,Acme Corp,Invoice Date,20240131",
     "Cust Name,Acme Corp,Customer No,000456"],
)  # fmt: skip
def test_a_header_naming_documented_columns_wins_over_a_summary_line_above(
    store: Store, tmp_path: Path, summary: str
) -> None:
    """A summary line naming two columns by aliases, its values whole numbers, is no header
    where a line below names the documented columns (review: nothing was imported)."""
    rows = (
        f"{summary}\n\n"
        "invoice_number,customer_name,total,balance,issue_date\n"
        "INV-1,Acme Corp,100.00,40.00,2024-01-05\n"
    )
    report = import_file(store, "invoices", put(tmp_path, "stmt.csv", rows))
    assert (report.created, report.errors) == (1, [])
    book = workbook(
        tmp_path,
        "stmt.xlsx",
        [
            ["Customer Name", "Acme Corp", "Amount Due", 150],
            [],
            ["invoice_number", "customer_name", "total", "balance", "issue_date"],
            ["INV-2", "Acme Corp", "100.00", "40.00", "2024-01-05"],
        ],
    )
    report = import_file(store, "invoices", book)
    assert (report.created, report.errors) == (1, [])


def test_the_header_naming_most_columns_by_aliases_wins(store: Store, tmp_path: Path) -> None:
    rows = (
        "Customer Name,Acme Corp,Amount Due,150\n\n"
        "Invoice #,Cust Name,Invoice Amount,Amount Due,Due Date\n"
        "INV-5,Acme Corp,100.00,40.00,2024-02-05\n"
    )
    report = import_file(store, "invoices", put(tmp_path, "stmt.csv", rows))
    assert (report.created, report.errors) == (1, [])
    assert invoices(store)["INV-5"][:2] == (10000, 4000)


def test_a_documented_header_is_read_as_before_aliases_were(store: Store, tmp_path: Path) -> None:
    """The first line naming two documented columns is the header, whatever a block above it
    names by aliases (review: a statement's customer block, a deposit batch's line, took the
    header and its table was rejected or the batch recorded instead of its payments)."""
    rows = (
        "Statement of Account\n"
        "Cust No,Cust Name,Currency Code,Payment Terms\n"
        "000456,Acme Corp,USD,Net 30\n"
        "\n"
        "invoice_number,customer_id,total\n"
        "INV-1,C1,100.00\n"
    )
    report = import_file(store, "invoices", put(tmp_path, "s.csv", rows))
    assert (report.created, report.errors) == (1, [])
    batch = (
        "Deposit Batch\n"
        "Payment No,Payment Date,Payment Amount,Cust ID,Currency Code\n"
        "B-0207,2026-02-07,350.00,C1,USD\n"
        "\n"
        "payment_id,customer_id,amount,received_on\n"
        "P-1,C1,100.00,2026-02-07\n"
        "P-2,C1,250.00,2026-02-07\n"
    )
    report = import_file(store, "payments", put(tmp_path, "d.csv", batch))
    assert (report.created, report.errors) == (2, [])
    assert set(payments(store)) == {"P-1", "P-2"}


def test_an_exports_first_table_by_aliases_is_read_not_a_wider_one_below(
    store: Store, tmp_path: Path
) -> None:
    """An export without documented names: its first header whose rows follow is read; a
    second table's (credit notes) below is not (review: both invoices were dropped)."""
    rows = (
        "Invoices\n"
        "Invoice No,Cust ID,Doc Date,Payment Due Date,Total Amount\n"
        "INV-1,C1,2026-01-01,2026-01-31,100.00\n"
        "INV-2,C1,2026-01-05,2026-02-04,250.00\n"
        "\n"
        "Credit Notes\n"
        "Credit Note No,Cust ID,Doc Date,Total Amount,Open Balance,Currency Code\n"
        "CN-1,C1,2026-01-10,20.00,20.00,USD\n"
    )
    report = import_file(store, "invoices", put(tmp_path, "f.csv", rows))
    assert report.created == 2
    assert set(invoices(store)) == {"INV-1", "INV-2"}


def test_a_label_block_above_a_documented_table_is_not_its_header(
    store: Store, tmp_path: Path
) -> None:
    """A statement's label line and its values above the table name fewer columns than the
    documented header below: that one is read, as before aliases were (review: nothing was
    imported)."""
    rows = (
        "Statement of Account\n"
        "Customer Name,Amount Due\n"
        "Acme Corp,350.00\n"
        "\n"
        "invoice_number,customer_id,issue_date,due_date,total,balance\n"
        "INV-1,C1,2026-01-01,2026-01-31,100.00,100.00\n"
    )
    report = import_file(store, "invoices", put(tmp_path, "s.csv", rows))
    assert (report.created, report.errors) == (1, [])


def test_the_delimiter_is_the_documented_headers_not_a_label_block_above(
    store: Store, tmp_path: Path
) -> None:
    rows = (
        "Cust No,Cust Name,Currency Code\n"
        "000456,Acme Corp,USD\n"
        "\n"
        "invoice_number;customer_id;total\n"
        "INV-1;C1;100.00\n"
    )
    report = import_file(store, "invoices", put(tmp_path, "semi.csv", rows))
    assert (report.created, report.errors) == (1, [])


def test_an_alias_table_under_a_statements_label_block_is_read(
    store: Store, tmp_path: Path
) -> None:
    """Without documented names, the header is the one with most rows under it: a
    statement's label block and its one line of values above the table is not (review)."""
    rows = (
        "Customer Statement\n"
        "Customer Name,Customer No.,Payment Terms,Amount Due\n"
        "Acme Corp,000456,Net 30,350.00\n"
        "\n"
        "Invoice No.,Customer No.,Invoice Date,Due Date,Invoice Amount,Open Balance\n"
        "INV1,000456,2024-01-01,2024-02-01,100.00,100.00\n"
        "INV2,000456,2024-01-05,2024-02-05,250.00,250.00\n"
    )
    report = import_file(store, "invoices", put(tmp_path, "s.csv", rows))
    assert (report.created, report.errors) == (2, [])


def test_an_alias_tables_rows_count_with_whole_amounts_and_named_months(
    store: Store, tmp_path: Path
) -> None:
    """Rows of data are rows with digits: a table of whole amounts and dates naming the
    month outnumbers the label block's one line above it (review: it took the header)."""
    rows = (
        "Customer Statement\n"
        "Cust No,Statement Date,Amount Due\n"
        "000456,2026-03-31,4000.00\n"
        "\n"
        "Invoice Num,Cust No,Invoice Date,Due Date,Invoice Amount,Amount Due\n"
        "INV-1,000456,15-Jan-2026,14-Feb-2026,1500,1500\n"
        "INV-2,000456,20-Jan-2026,19-Feb-2026,2500,2500\n"
    )
    report = import_file(store, "invoices", put(tmp_path, "s.csv", rows))
    assert (report.created, report.errors) == (2, [])
