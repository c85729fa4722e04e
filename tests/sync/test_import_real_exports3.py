"""Import probes, third round: workbooks written by a library and never saved by Excel
(formulas without a computed value), a header naming a column twice (as a saved search or a
report with two "Balance" columns writes it), and a customer whose name starts with "Total"."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import openpyxl
from sqlalchemy import select

from canonical.models import Invoice
from canonical.store import Store
from sync.importer import import_file

CUSTOMERS = "customer_id,name,currency\nC1,Acme Corp,USD\nC2,Total Quality Logistics,USD\n"


def put(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def customers(store: Store, tmp_path: Path) -> None:
    report = import_file(store, "customers", put(tmp_path, "c.csv", CUSTOMERS))
    assert (report.created, report.errors) == (2, [])


def invoices(store: Store) -> dict[str, tuple[int, int]]:
    with store.session() as s:
        return {
            i.number: (i.total_minor, i.balance_minor) for i in s.execute(select(Invoice)).scalars()
        }


def workbook(
    tmp_path: Path, rows: list[list[Any]], cached: dict[str, str], saved_by_excel: bool = True
) -> Path:
    """An .xlsx as a library writes it (formulas without values); ``cached`` gives some
    formulas the value Excel would have stored on saving (``{"D3-E3": "75"}``; ``""``: an
    empty text), and Excel's saving drops the library's ask to calculate on opening
    (``fullCalcOnLoad``) unless not ``saved_by_excel`` (XlsxWriter stores 0 for each formula
    and asks for it)."""
    book = openpyxl.Workbook()
    sheet: Any = book.active
    for row in rows:
        sheet.append(row)
    path = tmp_path / "i.xlsx"
    book.save(path)
    with zipfile.ZipFile(path) as source:
        parts = {item: source.read(item) for item in source.namelist()}
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    for formula, value in cached.items():
        assert f"<f>{formula}</f><v></v>" in xml
        if value:
            xml = xml.replace(f"<f>{formula}</f><v></v>", f"<f>{formula}</f><v>{value}</v>")
        else:  # computed to "": Excel stores an empty text
            xml = xml.replace(f'"><f>{formula}</f>', f'" t="str"><f>{formula}</f>')
    parts["xl/worksheets/sheet1.xml"] = xml.encode()
    if saved_by_excel:
        book_xml = parts["xl/workbook.xml"].decode()
        parts["xl/workbook.xml"] = book_xml.replace(' fullCalcOnLoad="1"', "").encode()
    with zipfile.ZipFile(path, "w") as target:
        for item, data in parts.items():
            target.writestr(item, data)
    return path


def test_a_formula_without_a_computed_value_is_refused_not_read_as_empty(
    store: Store, tmp_path: Path
) -> None:
    """``balance =D2-E2`` never computed read as an empty balance, so the invoice was stored
    fully open (100.00 of 100.00, though 40.00 was paid): the row is refused naming the
    column. A computed formula is read by its value (one computed to an empty text is an
    empty cell); a ``Total`` line of uncomputed sums is still a total line, skipped."""
    customers(store, tmp_path)
    path = workbook(
        tmp_path,
        [
            ["invoice_number", "customer_id", "currency", "total", "paid", "balance", "memo"],
            ["F1", "C1", "USD", 100, 40, "=D2-E2"],
            ["F2", "C1", "USD", 100, 25, "=D3-E3", '=TRIM("")'],
            ["F3", "C1", "USD", "=10*5", 0, 50],
            ["Total", None, None, "=SUM(D2:D4)", None, "=SUM(F2:F4)"],
        ],
        cached={"D3-E3": "75", 'TRIM("")': ""},
    )
    report = import_file(store, "invoices", path)
    assert (report.created, report.rejected, report.skipped) == (1, 2, 1), report.errors
    assert report.errors == [
        "i.xlsx: row 2: column 'balance': =D2-E2 is a formula whose value was never computed "
        "(the workbook was not saved by Excel): open it in Excel and save it, then import it",
        "i.xlsx: row 4: column 'total': =10*5 is a formula whose value was never computed "
        "(the workbook was not saved by Excel): open it in Excel and save it, then import it",
    ]
    assert invoices(store) == {"F2": (10000, 7500)}


def test_a_formula_a_library_stored_0_for_is_refused_not_read_as_0(
    store: Store, tmp_path: Path
) -> None:
    """XlsxWriter stores 0 as every formula's value and asks Excel to calculate on opening:
    the 0 was read, the invoice stored paid (balance 0.00 though 60.00 is open)."""
    customers(store, tmp_path)
    path = workbook(
        tmp_path,
        [
            ["invoice_number", "customer_id", "currency", "total", "paid", "balance"],
            ["X1", "C1", "USD", 100, 40, "=D2-E2"],
            ["X2", "C1", "USD", 100, 0, 100],
        ],
        cached={"D2-E2": "0"},
        saved_by_excel=False,
    )
    report = import_file(store, "invoices", path)
    assert (report.created, report.rejected) == (1, 1), report.errors
    assert (
        "row 2: column 'balance': =D2-E2 is a formula whose value was never computed"
        in (report.errors[0])
    )
    assert invoices(store) == {"X2": (10000, 10000)}


def test_a_column_named_twice_in_the_header_refuses_the_file(store: Store, tmp_path: Path) -> None:
    """``Balance`` and ``balance`` (two open amounts, say the document's and the base
    currency's): the later cell silently won (100.00 stored open 40.00). Which one is meant
    is not guessed: the file is refused naming both columns, nothing stored."""
    customers(store, tmp_path)
    text = (
        "Invoice Number,Customer ID,Currency,Total,Balance,balance\nD1,C1,USD,100.00,100.00,40.00\n"
    )
    report = import_file(store, "invoices", put(tmp_path, "i.csv", text))
    assert report.errors == [
        "i.csv: the header names column 'balance' twice (columns 5 and 6): nothing was "
        "imported; remove or rename one of them"
    ]
    assert (report.created, invoices(store)) == (0, {})
    # columns the import does not read may repeat (a report's two "Memo" columns)
    text = "invoice_number,customer_id,currency,total,Memo x,memo-x\nD1,C1,USD,100.00,a,b\n"
    report = import_file(store, "invoices", put(tmp_path, "i.csv", text))
    assert (report.created, report.errors) == (1, [])


def test_a_customer_named_total_is_a_record_not_a_total_line(store: Store, tmp_path: Path) -> None:
    """A row of ``Total Quality Logistics`` with its invoice number but no total was skipped
    as a report's total line (exit 0, the invoice missing): a row with its record's number is
    a record, refused naming the column it lacks. ``Total for Acme Corp`` is still a total."""
    customers(store, tmp_path)
    text = (
        "Customer Name,Invoice Number,Currency,Total\n"
        "Total Quality Logistics,INV-9,USD,\n"
        "Total Quality Logistics,INV-10,USD,5.00\n"
        "Total for Total Quality Logistics,,,5.00\n"
        "TOTAL,,,5.00\n"
    )
    report = import_file(store, "invoices", put(tmp_path, "i.csv", text))
    assert (report.created, report.rejected, report.skipped) == (1, 1, 2)
    assert report.errors == ["i.csv: row 2: column 'total': is required"]
    assert invoices(store) == {"INV-10": (500, 500)}
    # the number column holding the word itself is a total line, as before
    text = "invoice_number,customer_name,currency,total\nTOTAL,,,5.00\n"
    report = import_file(store, "invoices", put(tmp_path, "t.csv", text))
    assert (report.rows, report.skipped, report.errors) == (0, 1, [])


def test_a_total_line_counting_its_records_is_still_a_total_line(
    store: Store, tmp_path: Path
) -> None:
    customers(store, tmp_path)
    content = "customer_id,invoice_number,currency,total\nC1,T3,USD,10.00\nTotal,Count: 1,,\n"
    report = import_file(store, "invoices", put(tmp_path, "i.csv", content))
    assert (report.created, report.rejected, report.skipped) == (1, 0, 1), report.errors


def test_a_column_the_kind_may_repeat_does_not_refuse_the_file(
    store: Store, tmp_path: Path
) -> None:
    """Two name columns in an invoices file (the customer's and a sales rep's) are read by
    no invoice: the file is imported."""
    customers(store, tmp_path)
    content = "invoice_number,customer_id,currency,total,Name,Name\nN1,C1,USD,10.00,Acme,Ann\n"
    report = import_file(store, "invoices", put(tmp_path, "i.csv", content))
    assert (report.created, report.errors) == (1, [])


def test_a_text_starting_with_an_equals_sign_is_no_formula(store: Store, tmp_path: Path) -> None:
    """In a workbook asking to be calculated on opening, a reference written as text
    ``=> see remittance`` was taken for a formula and its row refused."""
    customers(store, tmp_path)
    path = workbook(
        tmp_path,
        [
            ["invoice_number", "customer_id", "currency", "total", "balance", "reference"],
            ["Y1", "C1", "USD", 100, 60, "PLACEHOLDER-TEXT"],
        ],
        cached={},
        saved_by_excel=False,
    )
    with zipfile.ZipFile(path) as source:
        parts = {item: source.read(item) for item in source.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    assert "<t>PLACEHOLDER-TEXT</t>" in sheet  # an inline string, not a formula
    parts["xl/worksheets/sheet1.xml"] = sheet.replace(
        "<t>PLACEHOLDER-TEXT</t>", "<t>=&gt; see remittance</t>"
    ).encode()
    with zipfile.ZipFile(path, "w") as target:
        for item, data in parts.items():
            target.writestr(item, data)
    report = import_file(store, "invoices", path)
    assert (report.created, report.errors) == (1, [])
    assert invoices(store) == {"Y1": (10000, 6000)}
