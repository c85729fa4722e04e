"""Import probes with report exports as QuickBooks Online, Sage Intacct, Salesforce and Excel
write them: workbooks (.xlsx) with float amounts and date cells, title lines above the header,
total lines, report footers, ``CR`` credits and whole amounts side by side."""

from __future__ import annotations

import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
from sqlalchemy import select

from canonical.models import CreditMemo, Invoice, Payment
from canonical.store import Store
from sync.importer import ImportReport, import_file

CUSTOMERS = "customer_id,name,currency\nC1,Acme Corp,USD\nC2,Société Générale,EUR\n"


def put(tmp_path: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode(encoding) if isinstance(content, str) else content)
    return path


def customers(store: Store, tmp_path: Path) -> None:
    report = import_file(store, "customers", put(tmp_path, "c.csv", CUSTOMERS))
    assert (report.created, report.errors) == (2, []), report.errors


def invoices(store: Store) -> dict[str, tuple[int, int, str, str | None]]:
    with store.session() as s:
        return {
            i.number: (
                i.total_minor,
                i.balance_minor,
                i.currency,
                i.issue_date.isoformat() if i.issue_date else None,
            )
            for i in s.execute(select(Invoice)).scalars()
        }


def workbook(
    tmp_path: Path, name: str, rows: list[list[Any]], stored: dict[str, str] | None = None
) -> Path:
    """An .xlsx of ``rows``; ``stored`` replaces a cell's stored number text, as Excel keeps a
    computed value at full precision (``<v>59.970000000000006</v>``)."""
    book = openpyxl.Workbook()
    sheet: Any = book.active
    for row in rows:
        sheet.append(row)
    if rows and rows[0] and len(rows[0]) == 1:
        sheet.merge_cells("A1:F1")  # a report's title spread over the columns
    path = tmp_path / name
    book.save(path)
    if stored:
        with zipfile.ZipFile(path) as source:
            parts = {item: source.read(item) for item in source.namelist()}
        xml = parts["xl/worksheets/sheet1.xml"].decode()
        for old, new in stored.items():
            assert f"<v>{old}</v>" in xml
            xml = xml.replace(f"<v>{old}</v>", f"<v>{new}</v>")
        parts["xl/worksheets/sheet1.xml"] = xml.encode()
        with zipfile.ZipFile(path, "w") as target:
            for item, data in parts.items():
                target.writestr(item, data)
    return path


# --- Excel workbooks ------------------------------------------------------------------------


def test_xlsx_export_amounts_exact_and_date_cells_read(store: Store, tmp_path: Path) -> None:
    """A QuickBooks "Export to Excel": a merged title line, a blank row, then the header;
    amounts are float cells (one computed, stored as 59.970000000000006), dates are date
    cells or serial numbers (46022 is 2025-12-31), a number is a number cell. Each amount is
    what Excel shows, to the cent; before, the workbook was read as text and every row
    refused with its zip bytes as a column name."""
    customers(store, tmp_path)
    path = workbook(
        tmp_path,
        "Invoice List.xlsx",
        [
            ["Invoice List"],
            [],
            ["Invoice Number", "Customer ID", "Currency", "Issue Date", "Total", "Balance"],
            ["INV-1", "C1", "USD", datetime(2025, 12, 31), 1234.56, 0.1],
            [1002, "C1", "USD", 46022, 111.111, 111.111],
            ["INV-3", "C1", "USD", "2025-11-30", "1,234.56", "0.00"],
        ],
        stored={"111.111": "59.970000000000006", "0.1": "0.30000000000000004"},
    )
    report = import_file(store, "invoices", path)
    assert (report.rows, report.created, report.rejected, report.errors) == (3, 3, 0, [])
    assert invoices(store) == {
        "INV-1": (123456, 30, "USD", "2025-12-31"),
        "1002": (5997, 5997, "USD", "2025-12-31"),
        "INV-3": (123456, 0, "USD", "2025-11-30"),
    }


def test_xlsx_bad_row_is_named_and_the_rest_imported(store: Store, tmp_path: Path) -> None:
    """A float of more decimals than the currency has (10.005 USD) refuses its row only,
    named by its sheet row and column."""
    customers(store, tmp_path)
    path = workbook(
        tmp_path,
        "i.xlsx",
        [
            ["invoice_number", "customer_id", "currency", "total"],
            ["A", "C1", "USD", 10.005],
            ["B", "C1", "USD", 20.5],
        ],
    )
    report = import_file(store, "invoices", path)
    assert report.created == 1 and report.rejected == 1
    assert report.errors[0].startswith("i.xlsx: row 2: column 'total':")
    assert invoices(store)["B"][0] == 2050


def test_legacy_xls_workbook_is_refused_with_a_clear_message(store: Store, tmp_path: Path) -> None:
    """An Excel 97-2003 .xls is named as such, not read as garbage text row by row."""
    customers(store, tmp_path)
    path = put(tmp_path, "i.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    report = import_file(store, "invoices", path)
    assert (report.rows, report.created) == (0, 0)
    assert report.errors == [
        "i.xls: an Excel 97-2003 workbook (.xls): save it as .xlsx or CSV",
    ]


# --- report layouts in CSV ------------------------------------------------------------------


def test_title_lines_above_the_header_are_passed_over(store: Store, tmp_path: Path) -> None:
    """QuickBooks report CSVs start with the report's name, the company and the period, then
    a blank line: the header is the first line naming the columns. Before, 'Invoice List'
    was taken for the header and every row refused."""
    customers(store, tmp_path)
    text = (
        '"Invoice List"\r\n"Acme Design, Inc."\r\n"All Dates"\r\n\r\n'
        "Issue Date,Invoice Number,Customer ID,Currency,Total,Balance\r\n"
        '12/31/2025,INV-1,C1,USD,"1,234.56","1,234.56"\r\n'
        '12/30/2025,INV-2,C1,USD,"$2,000.00",$0.00\r\n'
    )
    report = import_file(store, "invoices", put(tmp_path, "i.csv", text), date_order="mdy")
    assert (report.created, report.rejected, report.errors) == (2, 0, [])
    assert invoices(store) == {
        "INV-1": (123456, 123456, "USD", "2025-12-31"),
        "INV-2": (200000, 0, "USD", "2025-12-30"),
    }


def test_title_lines_above_a_semicolon_header(store: Store, tmp_path: Path) -> None:
    """A European export with a title (holding a comma) above a ';' header: the delimiter
    is the header's, and the rows are read with it."""
    customers(store, tmp_path)
    text = (
        "Offene Posten, Stand 31.12.2025\r\n\r\n"
        "invoice_number;customer_name;issue_date;total\r\n"
        "R-1;Société Générale;31.12.2025;1.234,56\r\n"
    )
    report = import_file(store, "invoices", put(tmp_path, "r.csv", text, encoding="cp1252"))
    assert (report.created, report.errors) == (1, [])
    assert invoices(store) == {"R-1": (123456, 123456, "EUR", "2025-12-31")}


def test_salesforce_report_footer_is_skipped(store: Store, tmp_path: Path) -> None:
    """A Salesforce report CSV ends with a blank line and single-cell footer lines (report
    name, copyright, confidentiality, who generated it, the company): they are no rows to
    refuse. Amounts are written with their ISO code (``USD 1,234.56``)."""
    customers(store, tmp_path)
    text = (
        '"Account Name","Invoice Number","Currency","Total","Balance"\n'
        '"Acme Corp","INV-9","USD","USD 1,234.56","USD 234.56"\n'
        '"Acme Corp","INV-10","USD","USD 10.00","USD 0.00"\n'
        '""\n""\n'
        '"Open Invoices"\n'
        '"Copyright (c) 2000-2025 salesforce.com, inc. All rights reserved."\n'
        '"Confidential Information - Do Not Distribute"\n'
        '"Generated By:  Jane Doe  12/31/2025 10:00 AM"\n'
        '"Acme Inc"\n'
    ).replace('"Account Name"', '"Customer Name"')
    report = import_file(store, "invoices", put(tmp_path, "sf.csv", text))
    assert (report.rows, report.created, report.rejected, report.errors) == (2, 2, 0, [])
    assert report.skipped == 5
    assert "5 total or footer lines skipped" in report.summary()
    assert invoices(store)["INV-9"] == (123456, 23456, "USD", None)


def test_total_lines_are_skipped_not_refused(store: Store, tmp_path: Path) -> None:
    """QuickBooks' ``TOTAL`` and A/R aging ``Total for ...`` lines, Intacct's ``Total``: a
    report's sums are no records (they lack a number or a customer), so they are neither
    imported nor reported as bad rows."""
    customers(store, tmp_path)
    text = (
        "Invoice Number,Customer Name,Currency,Total,Balance\n"
        'INV-1,Acme Corp,USD,"1,234.56","1,234.56"\n'
        'Total for Acme Corp,,,"$1,234.56","$1,234.56"\n'
        "INV-2,Acme Corp,USD,10.00,10.00\n"
        'TOTAL,,,"$1,244.56","$1,244.56"\n'
    )
    report = import_file(store, "invoices", put(tmp_path, "aging.csv", text))
    assert (report.rows, report.created, report.rejected, report.errors) == (2, 2, 0, [])
    assert report.skipped == 2
    assert sorted(invoices(store)) == ["INV-1", "INV-2"]


def test_a_row_that_is_a_record_is_never_taken_for_a_total(store: Store, tmp_path: Path) -> None:
    """An invoice numbered ``Total 7`` with its customer and total is imported; a bad row
    below a blank line at the end is refused naming its column, not skipped as a footer."""
    customers(store, tmp_path)
    text = "invoice_number,customer_id,currency,total\nTotal 7,C1,USD,5.00\n\nINV-8,,,\n"
    report = import_file(store, "invoices", put(tmp_path, "i.csv", text))
    assert (report.created, report.rejected, report.skipped) == (1, 1, 0)
    assert report.errors == [
        "i.csv: row 4: column 'customer_id': one of customer_id, customer_number or "
        "customer_name is required"
    ]


def test_cr_marks_a_credit(store: Store, tmp_path: Path) -> None:
    """``$250.00 CR`` (a credit as aging and ledger exports write it) is a credit memo of
    250.00; on an invoice it is a negative amount, refused as such."""
    customers(store, tmp_path)
    memos = 'credit_memo_number,customer_id,currency,total\nCM-1,C1,USD,"$250.00 CR"\n'
    report: ImportReport = import_file(store, "credit-memos", put(tmp_path, "m.csv", memos))
    assert (report.created, report.errors) == (1, [])
    with store.session() as s:
        memo = s.execute(select(CreditMemo)).scalars().one()
    assert (memo.total_minor, memo.balance_minor) == (25000, 25000)
    text = 'invoice_number,customer_id,currency,total\nINV-1,C1,USD,"1,234.56 CR"\n'
    report = import_file(store, "invoices", put(tmp_path, "i.csv", text))
    assert report.created == 0
    assert "is negative" in report.errors[0]


def test_whole_amounts_side_by_side_are_two_amounts(store: Store, tmp_path: Path) -> None:
    """A sheet of whole amounts saved as CSV (total 500, balance 500) is not an amount cut
    at an unquoted comma; ``1`` then ``234.50`` still is."""
    customers(store, tmp_path)
    text = (
        "invoice_number,customer_id,currency,total,balance\n"
        "INV-1,C1,USD,500,500\n"
        "INV-2,C1,USD,250,100\n"
        "INV-3,C1,USD,1,234.50\n"
    )
    report = import_file(store, "invoices", put(tmp_path, "i.csv", text))
    assert (report.created, report.rejected) == (2, 1)
    assert "row 4: column 'total'" in report.errors[0] and "unquoted comma" in report.errors[0]
    found = invoices(store)
    assert (found["INV-1"][:2], found["INV-2"][:2]) == ((50000, 50000), (25000, 10000))


def test_xlsx_payments_with_customer_numbers_as_number_cells(store: Store, tmp_path: Path) -> None:
    """A payments workbook: ids typed as numbers (1001, not 1001.0), amounts as floats, the
    received date a date cell."""
    customers(store, tmp_path)
    path = workbook(
        tmp_path,
        "p.xlsx",
        [
            ["payment_id", "customer_id", "currency", "amount", "received_on"],
            [1001, "C1", "USD", 0.07, datetime(2026, 1, 2, 13, 45)],
            [1002.0, "C1", "USD", 1234567.89, datetime(2026, 1, 3)],
        ],
    )
    report = import_file(store, "payments", path)
    assert (report.created, report.errors) == (2, [])
    with store.session() as s:
        paid = {
            (p.amount_minor, p.received_on.isoformat() if p.received_on else None)
            for p in s.execute(select(Payment)).scalars()
        }
    assert paid == {(7, "2026-01-02"), (123456789, "2026-01-03")}
