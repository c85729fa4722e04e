"""Import probes with remittance exports as banks and processors write them: workbooks whose
stated used range is wrong (WPS, some export libraries), German dates (Sparkasse's two-digit
years, Excel's date and time), bank statement CSVs given as a payments file, and the ways a
debit is written, none of which may become a receipt."""

from __future__ import annotations

import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select

import sync.importer
from canonical.models import Invoice, Payment
from canonical.store import Store
from sync.importer import import_file

IMPORT_DAY = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def import_day(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two-digit years are read near the import day: every test imports on IMPORT_DAY."""
    monkeypatch.setattr(sync.importer, "utcnow", lambda: IMPORT_DAY)


CUSTOMERS = "customer_id,name,currency\nC1,Acme Corp,USD\nC2,Société Générale,EUR\n"
HEADER = ["payment_id", "customer_id", "currency", "amount", "received_on"]


def put(tmp_path: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode(encoding) if isinstance(content, str) else content)
    return path


def customers(store: Store, tmp_path: Path) -> None:
    report = import_file(store, "customers", put(tmp_path, "c.csv", CUSTOMERS))
    assert (report.created, report.errors) == (2, [])


def payments(store: Store) -> dict[str, tuple[int, str, str | None]]:
    with store.session() as s:
        return {
            p.reference or p.id: (
                p.amount_minor,
                p.currency,
                p.received_on.isoformat() if p.received_on else None,
            )
            for p in s.execute(select(Payment)).scalars()
        }


def workbook(tmp_path: Path, name: str, rows: list[list[Any]], dimension: str | None) -> Path:
    """An .xlsx of ``rows`` whose sheet states ``dimension`` as its used range (None: states
    none), as WPS and some export libraries write it."""
    book = openpyxl.Workbook()
    sheet: Any = book.active
    for row in rows:
        sheet.append(row)
    path = tmp_path / name
    book.save(path)
    with zipfile.ZipFile(path) as source:
        parts = {item: source.read(item) for item in source.namelist()}
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    stated = f'<dimension ref="{dimension}"/>' if dimension else ""
    xml, count = re.subn(r'<dimension ref="[^"]*"/>', stated, xml)
    assert count == 1
    parts["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w") as target:
        for item, data in parts.items():
            target.writestr(item, data)
    return path


ROWS: list[list[Any]] = [
    [*HEADER, "reference"],
    ["P1", "C1", "USD", 1234.1, datetime(2026, 4, 1), "P1"],
    ["P2", "C1", "USD", 0.1 + 0.2, 46114, "P2"],  # a serial date: 2026-04-02
    ["P3", "C1", "USD", 19.99 * 3, "2026-04-03", "P3"],
    ["P4", "C1", "USD", 1234567.89, datetime(2026, 4, 4, 13, 45), "P4"],
    ["P5", "C1", "USD", 100, 46117.5, "P5"],
]
EXPECTED = {
    "P1": (123410, "USD", "2026-04-01"),
    "P2": (30, "USD", "2026-04-02"),
    "P3": (5997, "USD", "2026-04-03"),
    "P4": (123456789, "USD", "2026-04-04"),
    "P5": (10000, "USD", "2026-04-05"),
}


@pytest.mark.parametrize(
    "dimension",
    [
        "A1:F3",  # a stale range: the rows below it were dropped, the import said all was well
        "A1:D6",  # a range short of columns: received_on and reference were dropped
        "A1",  # WPS: the workbook was refused as having no header
    ],
)
def test_xlsx_whose_stated_range_is_wrong_is_read_whole(
    store: Store, tmp_path: Path, dimension: str
) -> None:
    """A workbook's stated used range is not trusted: every row and cell it holds is read,
    its float amounts exact cents and its serial dates dates."""
    customers(store, tmp_path)
    path = workbook(tmp_path, "p.xlsx", ROWS, dimension)
    report = import_file(store, "payments", path)
    assert (report.rows, report.created, report.errors) == (5, 5, [])
    assert payments(store) == EXPECTED


def test_xlsx_without_a_stated_range_and_reimported(store: Store, tmp_path: Path) -> None:
    """No range at all is read as before; importing the file again stores no cash twice."""
    customers(store, tmp_path)
    path = workbook(tmp_path, "p.xlsx", ROWS, None)
    first = import_file(store, "payments", path)
    again = import_file(store, "payments", path)
    assert (first.created, first.errors) == (5, [])
    assert (again.created, again.updated, again.unchanged, again.errors) == (0, 0, 5, [])
    assert payments(store) == EXPECTED


def test_german_dotted_dates_with_two_digit_years_and_times(store: Store, tmp_path: Path) -> None:
    """Sparkasse's CSV-CAMT writes ``24.09.26``; German Excel saves a date-and-time cell as
    ``01.04.2026 10:15``. Both are day first, the time ignored (each row was refused)."""
    customers(store, tmp_path)
    content = (
        "payment_id;customer_id;currency;amount;received_on;reference\r\n"
        "P1;C2;EUR;1.234,56;24.09.26;P1\r\n"
        "P2;C2;EUR;12,00;01.04.2026 10:15;P2\r\n"
        "P3;C2;EUR;5,00;1.4.2026 08:05:09;P3\r\n"
        "P4;C2;EUR;5,00;31.02.26;P4\r\n"
        "P5;C2;EUR;5,00;01.04.2026 25;P5\r\n"
    )
    report = import_file(store, "payments", put(tmp_path, "p.csv", content, "cp1252"))
    assert report.errors == [
        "p.csv: row 5: column 'received_on': not a date (YYYY-MM-DD): '31.02.26'",
        "p.csv: row 6: column 'received_on': not a date (YYYY-MM-DD): '01.04.2026 25'",
    ]
    assert payments(store) == {
        "P1": (123456, "EUR", "2026-09-24"),
        "P2": (1200, "EUR", "2026-04-01"),
        "P3": (500, "EUR", "2026-04-01"),
    }


def test_two_digit_years_are_taken_only_near_the_import_day(store: Store, tmp_path: Path) -> None:
    """A Korean bank writes YY.MM.DD: ``26.04.01`` is 2026-04-01, read day first it was stored
    as 2001-04-26; ``31.12.68`` was stored 42 years ahead. A two-digit year is taken only from
    10 years before the import day (2026-12-07) to 1 year after; outside, the row is refused
    showing the reading. A year written in full is taken as written."""
    customers(store, tmp_path)
    content = (
        "payment_id,customer_id,currency,amount,received_on,reference\n"
        "P1,C1,USD,100.00,26.04.01,P1\n"  # YY.MM.DD 2026-04-01
        "P2,C1,USD,200.00,26.04.15,P2\n"  # YY.MM.DD 2026-04-15
        "P3,C1,USD,300.00,31.12.68,P3\n"
        "P4,C1,USD,400.00,31.12.69,P4\n"
        "P5,C1,USD,500.00,06.12.16,P5\n"  # a day more than 10 years back
        "P6,C1,USD,600.00,07.12.16,P6\n"  # 10 years back to the day
        "P7,C1,USD,700.00,07.12.27 10:15,P7\n"  # a year ahead to the day
        "P8,C1,USD,800.00,08.12.27,P8\n"
        "P9,C1,USD,900.00,31.12.1968,P9\n"  # four digits: as written
        "P10,C1,USD,1000.00,24.09.26,P10\n"
    )
    report = import_file(store, "payments", put(tmp_path, "p.csv", content))
    assert report.errors == [
        "p.csv: row 2: column 'received_on': 26.04.01: read day first as 26 April 2001, "
        "more than 10 years ago: write the year in full",
        "p.csv: row 3: column 'received_on': 26.04.15: read day first as 26 April 2015, "
        "more than 10 years ago: write the year in full",
        "p.csv: row 4: column 'received_on': 31.12.68: read day first as 31 December 2068, "
        "more than 1 year ahead: write the year in full",
        "p.csv: row 5: column 'received_on': 31.12.69: read day first as 31 December 1969, "
        "more than 10 years ago: write the year in full",
        "p.csv: row 6: column 'received_on': 06.12.16: read day first as 6 December 2016, "
        "more than 10 years ago: write the year in full",
        "p.csv: row 9: column 'received_on': 08.12.27: read day first as 8 December 2027, "
        "more than 1 year ahead: write the year in full",
    ]
    assert payments(store) == {
        "P6": (60000, "USD", "2016-12-07"),
        "P7": (70000, "USD", "2027-12-07"),
        "P9": (90000, "USD", "1968-12-31"),
        "P10": (100000, "USD", "2026-09-24"),
    }


@pytest.mark.parametrize(
    ("order", "issue", "due", "error"),
    [
        ("mdy", "04/01/26", "05/01/26", None),
        ("mdy", "12/31/68", "12/31/2068", "issue_date': 12/31/68: read month first as "
         "31 December 2068, more than 1 year ahead"),
        ("dmy", "01/04/26", "26/04/01", "due_date': 26/04/01: read day first as "
         "26 April 2001, more than 10 years ago"),
        ("dmy", "01/04/2001", "01/05/2001", None),  # four digits: an old invoice as written
    ],
)  # fmt: skip
def test_slash_dates_with_two_digit_years_are_taken_only_near_the_import_day(
    store: Store, tmp_path: Path, order: Any, issue: str, due: str, error: str | None
) -> None:
    """Slash dates' two-digit years are read in the same window, in the file's order."""
    customers(store, tmp_path)
    content = (
        f"invoice_number,customer_id,total,issue_date,due_date\nINV-1,C1,10.00,{issue},{due}\n"
    )
    report = import_file(store, "invoices", put(tmp_path, "i.csv", content), date_order=order)
    with store.session() as s:
        stored = [(i.issue_date, i.due_date) for i in s.execute(select(Invoice)).scalars()]
    if error is None:
        assert report.errors == []
        assert [(a.year, b.year) for a, b in stored] in ([(2026, 2026)], [(2001, 2001)])
    else:
        assert report.errors == [f"i.csv: row 2: column '{error}: write the year in full"]
        assert stored == []


def test_xlsx_formatted_down_to_its_last_row_stops_after_a_long_blank_run(
    store: Store, tmp_path: Path
) -> None:
    """Formatting applied to whole columns leaves empty rows down to row 1048576; reading
    them all took 42 s and 600 MB. After 10,000 blank rows in a row reading stops, the
    report says where; a row further down is not read."""
    customers(store, tmp_path)
    path = workbook(tmp_path, "p.xlsx", ROWS[:3], "A1:F3")
    with zipfile.ZipFile(path) as source:
        parts = {item: source.read(item) for item in source.namelist()}
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    ghost = "".join(
        f'<row r="{r}"><c r="A{r}" s="0"/><c r="E{r}" s="0"/></row>' for r in range(4, 30001)
    )
    stray = (
        '<row r="30001"><c r="A30001" t="inlineStr"><is><t>P9</t></is></c>'
        + "".join(
            f'<c r="{c}30001" t="inlineStr"><is><t>{v}</t></is></c>'
            for c, v in zip("BCDE", ["C1", "USD", "9", "2026-04-09"], strict=True)
        )
        + "</row>"
    )
    parts["xl/worksheets/sheet1.xml"] = xml.replace(
        "</sheetData>", ghost + stray + "</sheetData>"
    ).encode()
    with zipfile.ZipFile(path, "w") as target:
        for item, data in parts.items():
            target.writestr(item, data)
    report = import_file(store, "payments", path)
    assert (report.rows, report.created, report.errors) == (2, 2, [])
    note = (
        "p.xlsx: reading stopped at row 10003: rows 4-10003 are blank, "
        "the rows below them were not read"
    )
    assert report.warnings == [note]
    assert report.summary().endswith("; " + note)
    assert payments(store) == {"P1": EXPECTED["P1"], "P2": EXPECTED["P2"]}


# --- already right: a bank statement is no payments file, and a debit is never a receipt ---

BANK_EXPORTS = {
    # Bank of America: a summary block, a blank line, then the header
    "bofa.csv": (
        "Description,,Summary Amt.\r\n"
        'Beginning balance as of 04/01/2026,,"1,000.00"\r\n'
        'Total credits,,"1,500.00"\r\n'
        'Total debits,,"-200.00"\r\n'
        'Ending balance as of 04/30/2026,,"2,300.00"\r\n'
        "\r\n"
        "Date,Description,Amount,Running Bal.\r\n"
        '04/02/2026,"ACME CORP DES:PAYMENT ID:INV-1","1,500.00","2,500.00"\r\n'
        '04/03/2026,"CHECK 101","-200.00","2,300.00"\r\n'
    ),
    # Wells Fargo: no header; date, amount, *, check number, description
    "wf.csv": (
        '"04/02/2026","1500.00","*","","ACH CREDIT ACME CORP INV-1"\r\n'
        '"04/03/2026","-200.00","*","101","CHECK # 101"\r\n'
    ),
    # Chase checking
    "chase.csv": (
        "Details,Posting Date,Description,Amount,Type,Balance,Check or Slip #\r\n"
        'CREDIT,04/02/2026,"ACME CORP PAYMENT",1500.00,ACH_CREDIT,2500.00,,\r\n'
        'DEBIT,04/03/2026,"CHECK 101",-200.00,CHECK_PAID,2300.00,101,\r\n'
    ),
    # PayPal activity download: Currency, Status, Invoice Number and Balance look familiar
    "paypal.csv": (
        '"Date","Time","TimeZone","Name","Type","Status","Currency","Gross","Fee","Net",'
        '"Transaction ID","Invoice Number","Balance"\r\n'
        '"04/02/2026","10:15:00","PDT","Acme Corp","Express Checkout Payment","Completed",'
        '"USD","1,500.00","-43.80","1,456.20","1AB23456CD789012E","INV-1","1,456.20"\r\n'
    ),
}


@pytest.mark.parametrize("name", sorted(BANK_EXPORTS))
def test_a_bank_statement_given_as_payments_stores_nothing(
    store: Store, tmp_path: Path, name: str
) -> None:
    """A statement has no payment id or customer: every row is refused naming a column."""
    customers(store, tmp_path)
    path = put(tmp_path, name, BANK_EXPORTS[name])
    report = import_file(store, "payments", path, date_order="mdy")
    assert report.created == 0 and report.errors
    assert all(re.search(r": row \d+: column '", error) for error in report.errors)
    assert payments(store) == {}


def test_a_debit_written_any_way_is_never_a_receipt(store: Store, tmp_path: Path) -> None:
    """``(50.00)``, ``-$50.00``, ``50.00-``, ``50.00 DR``, ``50.00 CR`` (a ledger's credit),
    an en dash: each row is refused naming ``amount``; the receipts land."""
    customers(store, tmp_path)
    debits = ["(50.00)", "-$50.00", "50.00-", "50.00 DR", "50.00CR", "\u201350.00", "$(50.00)"]
    lines = [",".join(HEADER)]
    lines += [f'D{i},C1,USD,"{value}",2026-04-01' for i, value in enumerate(debits)]
    lines += ['R1,C1,USD,"$1,500.00",2026-04-01']
    report = import_file(store, "payments", put(tmp_path, "p.csv", "\n".join(lines) + "\n"))
    assert report.rejected == len(debits)
    assert all("column 'amount'" in error for error in report.errors)
    with store.session() as s:
        stored = [(p.amount_minor, p.currency) for p in s.execute(select(Payment)).scalars()]
    assert stored == [(150000, "USD")]
