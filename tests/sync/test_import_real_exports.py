"""Import probes with files as finance teams really produce them: Excel CSVs (BOM, cp1252,
CRLF, empty rows, semicolons), European and US number and date formats, JSON exports with
numbers, duplicates and re-imports, malformed rows, and large files that must stream."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import col

import sync.importer as importer
from canonical.models import Application, CreditMemo, Customer, ExternalRef, Invoice, Payment
from canonical.store import Store
from sync.importer import ImportReport, import_file, read_rows

CUSTOMERS = "customer_id,name,currency\nC1,Acme Corp,USD\nC2,Müller GmbH,EUR\nC3,Kuwait Co,KWD\n"
CUSTOMERS_NO_CCY = "customer_id,name\nC9,No Currency Ltd\n"


def put(tmp_path: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode(encoding)
    path.write_bytes(content)
    return path


def load(
    store: Store,
    tmp_path: Path,
    kind: Any,
    name: str,
    content: str | bytes,
    encoding: str = "utf-8",
) -> ImportReport:
    return import_file(store, kind, put(tmp_path, name, content, encoding))


def customers(store: Store, tmp_path: Path) -> None:
    report = load(store, tmp_path, "customers", "c.csv", CUSTOMERS)
    assert (report.created, report.rejected) == (3, 0), report.errors


def invoices(store: Store) -> dict[str, Invoice]:
    with store.session() as s:
        return {i.number: i for i in s.execute(select(Invoice)).scalars()}


def minor(doc: Any) -> tuple[int, int, str]:
    return doc.total_minor, doc.balance_minor, doc.currency


# --- encodings, line ends, empty rows -------------------------------------------------------


def test_utf8_bom_header_is_read(store: Store, tmp_path: Path) -> None:
    """Excel's "CSV UTF-8" starts with a BOM: the first column is still customer_id."""
    report = load(store, tmp_path, "customers", "c.csv", "\ufeffcustomer_id,name\r\nC1,Acme\r\n")
    assert (report.created, report.rejected, report.errors) == (1, 0, [])


def test_cp1252_names_from_excel_are_decoded(store: Store, tmp_path: Path) -> None:
    """Excel's plain "CSV" is the ANSI code page: é, ü, ß arrive as cp1252 bytes, not UTF-8."""
    text = "customer_id,name\r\nC1,Müller GmbH\r\nC2,Société Générale\r\nC3,Straße AG\r\n"
    report = load(store, tmp_path, "customers", "c.csv", text, encoding="cp1252")
    assert (report.created, report.rejected, report.errors) == (3, 0, [])
    with store.session() as s:
        names = sorted(c.name for c in s.execute(select(Customer)).scalars())
    assert names == ["Müller GmbH", "Société Générale", "Straße AG"]


def test_utf8_names_are_not_mistaken_for_cp1252(store: Store, tmp_path: Path) -> None:
    """A UTF-8 file without a BOM keeps its accents (no mojibake like 'MÃ¼ller')."""
    load(store, tmp_path, "customers", "c.csv", "customer_id,name\nC1,Müller GmbH\nC2,Ærø A/S\n")
    with store.session() as s:
        names = sorted(c.name for c in s.execute(select(Customer)).scalars())
    assert names == ["Müller GmbH", "Ærø A/S"]


def test_german_excel_file_cp1252_semicolons_decimal_comma_euro_sign(
    store: Store, tmp_path: Path
) -> None:
    """German Excel: cp1252, ';' between cells, '1.234,56 €' amounts, 31.12.2026 dates."""
    customers(store, tmp_path)
    text = (
        "invoice_number;customer_id;currency;issue_date;due_date;total;balance;memo\r\n"
        "R-1;C2;EUR;01.12.2026;31.12.2026;1.234,56 €;234,56 €;Größe ß\r\n"
        "R-2;C2;EUR;02.12.2026;;99,90;;\r\n"
    )
    report = load(store, tmp_path, "invoices", "r.csv", text, encoding="cp1252")
    assert (report.created, report.rejected, report.errors) == (2, 0, [])
    found = invoices(store)
    assert minor(found["R-1"]) == (123456, 23456, "EUR")
    assert (found["R-1"].issue_date, found["R-1"].due_date) == (
        date(2026, 12, 1),
        date(2026, 12, 31),
    )
    assert found["R-1"].memo == "Größe ß"
    assert minor(found["R-2"]) == (9990, 9990, "EUR")


def test_crlf_and_trailing_empty_lines(store: Store, tmp_path: Path) -> None:
    """CRLF line ends and blank lines at the end are neither rows nor rejections."""
    report = load(
        store, tmp_path, "customers", "c.csv", "customer_id,name\r\nC1,A\r\nC2,B\r\n\r\n\r\n"
    )
    assert (report.rows, report.created, report.rejected, report.errors) == (2, 2, 0, [])


def test_excel_empty_rows_of_separators_are_skipped(store: Store, tmp_path: Path) -> None:
    """Excel saves a cleared row as ',,,' — skipped, not rejected for missing columns."""
    customers(store, tmp_path)
    text = (
        "invoice_number,customer_id,currency,total\r\n"
        "INV-1,C1,USD,10.00\r\n"
        ",,,\r\n"
        "INV-2,C1,USD,20.00\r\n"
        ", , ,\r\n"
        ",,,\r\n"
    )
    report = load(store, tmp_path, "invoices", "i.csv", text)
    assert (report.rows, report.created, report.rejected, report.errors) == (2, 2, 0, [])


def test_row_numbers_are_spreadsheet_rows_despite_blank_lines(store: Store, tmp_path: Path) -> None:
    """A blank line is a row in Excel: the error names the row the user sees (row 4)."""
    customers(store, tmp_path)
    text = "invoice_number,customer_id,currency,total\nINV-1,C1,USD,10.00\n\nINV-2,C1,USD,abc\n"
    report = load(store, tmp_path, "invoices", "i.csv", text)
    assert report.errors == ["i.csv: row 4: column 'total': not an amount: 'abc'"]


def test_quoted_commas_and_newlines_stay_in_one_cell(store: Store, tmp_path: Path) -> None:
    """A memo with a comma and a line break is one cell; the next row's number is still right."""
    customers(store, tmp_path)
    text = (
        "invoice_number,customer_id,currency,total,memo\r\n"
        'INV-1,C1,USD,"1,234.50","Line one, with comma\r\nline two"\r\n'
        "INV-2,C1,USD,,\r\n"
    )
    report = load(store, tmp_path, "invoices", "i.csv", text)
    assert report.errors == ["i.csv: row 3: column 'total': is required"]
    found = invoices(store)
    assert minor(found["INV-1"]) == (123450, 123450, "USD")
    assert found["INV-1"].memo == "Line one, with comma\r\nline two"


def test_header_names_with_case_blanks_and_spaces(store: Store, tmp_path: Path) -> None:
    """' Invoice Number ', 'Customer-ID', 'CURRENCY', 'Total ' name the documented columns."""
    customers(store, tmp_path)
    text = (
        " Invoice Number ,Customer-ID,CURRENCY,Total ,Issue Date\nINV-1,C1,usd,10.00,2026-03-04\n"
    )
    report = load(store, tmp_path, "invoices", "i.csv", text)
    assert (report.created, report.errors) == (1, [])
    assert invoices(store)["INV-1"].issue_date == date(2026, 3, 4)


def test_tab_delimited_export(store: Store, tmp_path: Path) -> None:
    """A tab-separated export (many ERPs' "text" export) is read like a CSV."""
    customers(store, tmp_path)
    text = "invoice_number\tcustomer_id\tcurrency\ttotal\nINV-1\tC1\tUSD\t1,234.50\n"
    report = load(store, tmp_path, "invoices", "i.txt", text)
    assert (report.created, report.errors) == (1, [])
    assert minor(invoices(store)["INV-1"]) == (123450, 123450, "USD")


# --- amounts --------------------------------------------------------------------------------


def test_us_amounts_with_dollar_sign_and_thousands(store: Store, tmp_path: Path) -> None:
    """'$1,234.56' and '$ 12,345,678.90' are amounts in USD."""
    customers(store, tmp_path)
    text = (
        "invoice_number,customer_id,currency,total,balance\n"
        'INV-1,C1,USD,"$1,234.56","$ 1,000.00"\n'
        'INV-2,C1,USD,"$12,345,678.90",\n'
    )
    report = load(store, tmp_path, "invoices", "i.csv", text)
    assert (report.created, report.errors) == (2, [])
    found = invoices(store)
    assert minor(found["INV-1"]) == (123456, 100000, "USD")
    assert minor(found["INV-2"]) == (1234567890, 1234567890, "USD")


def test_credit_memo_negative_in_parentheses_or_trailing_minus(
    store: Store, tmp_path: Path
) -> None:
    """ERPs export credits as '(1,234.56)' or '250.00-': a credit memo of that size."""
    customers(store, tmp_path)
    text = (
        "credit_memo_number,customer_id,currency,total,balance\n"
        'CM-1,C1,USD,"(1,234.56)","(1,234.56)"\n'
        'CM-2,C2,EUR,"250,00-",\n'
        "CM-3,C1,USD,-15.00,-5.00\n"
    )
    report = load(store, tmp_path, "credit-memos", "cm.csv", text)
    assert (report.created, report.errors) == (3, [])
    with store.session() as s:
        memos = {m.number: minor(m) for m in s.execute(select(CreditMemo)).scalars()}
    assert memos == {
        "CM-1": (123456, 123456, "USD"),
        "CM-2": (25000, 25000, "EUR"),
        "CM-3": (1500, 500, "USD"),
    }


def test_negative_invoice_total_and_payment_are_rejected(store: Store, tmp_path: Path) -> None:
    """An invoice or a payment cannot be negative: the row names the column, nothing lands."""
    customers(store, tmp_path)
    report = load(
        store,
        tmp_path,
        "invoices",
        "i.csv",
        'invoice_number,customer_id,currency,total\nINV-1,C1,USD,"(10.00)"\nINV-2,C1,USD,5.00\n',
    )
    assert report.created == 1 and report.rejected == 1
    assert report.errors[0].startswith("i.csv: row 2: column 'total': ")
    assert "negative" in report.errors[0]
    pay = load(
        store,
        tmp_path,
        "payments",
        "p.csv",
        "payment_id,customer_id,currency,amount\nP1,C1,USD,-5.00\n",
    )
    assert pay.rejected == 1 and pay.errors[0].startswith("p.csv: row 2: column 'amount': ")


def test_accounting_format_dash_is_zero(store: Store, tmp_path: Path) -> None:
    """Excel's accounting format writes a zero balance as ' $ -   ': the invoice is paid."""
    customers(store, tmp_path)
    text = 'invoice_number,customer_id,currency,total,balance\nINV-1,C1,USD,"$ 10.00 "," $ -   "\n'
    report = load(store, tmp_path, "invoices", "i.csv", text)
    assert report.errors == []
    inv = invoices(store)["INV-1"]
    assert minor(inv) == (1000, 0, "USD") and inv.status == "paid"


def test_more_decimals_than_the_currency_allows(store: Store, tmp_path: Path) -> None:
    """10.005 USD and 1000.5 JPY are refused; 1.234 KWD has its three decimals."""
    customers(store, tmp_path)
    load(store, tmp_path, "customers", "j.csv", "customer_id,name,currency\nJ1,Nippon KK,JPY\n")
    text = (
        "invoice_number,customer_id,currency,total\n"
        "INV-1,C1,USD,10.005\n"
        "INV-2,J1,JPY,1000.5\n"
        "INV-3,C3,KWD,1.234\n"
        'INV-4,J1,JPY,"1,000,000"\n'
    )
    report = load(store, tmp_path, "invoices", "i.csv", text)
    assert report.errors == [
        "i.csv: row 2: column 'total': 10.005 has more decimals than USD allows",
        "i.csv: row 3: column 'total': 1000.5 has more decimals than JPY allows",
    ]
    found = invoices(store)
    assert minor(found["INV-3"]) == (1234, 1234, "KWD")
    assert minor(found["INV-4"]) == (1000000, 1000000, "JPY")


def test_single_comma_with_three_digits_is_ambiguous(store: Store, tmp_path: Path) -> None:
    """'1,234' is 1234 in a US file and 1.234 in a German one: refused as ambiguous,
    never stored as either."""
    customers(store, tmp_path)
    text = 'invoice_number,customer_id,currency,total\nINV-1,C1,USD,"1,234"\n'
    report = load(store, tmp_path, "invoices", "i.csv", text)
    assert report.rejected == 1 and invoices(store) == {}
    assert report.errors[0].startswith("i.csv: row 2: column 'total': ")
    assert "ambiguous" in report.errors[0]


def test_european_grouping_with_dots_spaces_and_apostrophes(store: Store, tmp_path: Path) -> None:
    """'1.234.567,00', '1.234.567', '1 234,56' (no-break space, French) and "1'234.56" (Swiss)."""
    customers(store, tmp_path)
    load(store, tmp_path, "customers", "ch.csv", "customer_id,name,currency\nS1,Swiss AG,CHF\n")
    text = (
        "invoice_number;customer_id;currency;total\n"
        "E-1;C2;EUR;1.234.567,00\n"
        "E-2;C2;EUR;1.234.567\n"
        "E-3;C2;EUR;1\u00a0234,56\n"
        "E-4;S1;CHF;1'234.56\n"
        "E-5;C2;EUR;\u22121.234,50\n"
    )
    report = load(store, tmp_path, "invoices", "e.csv", text)
    assert len(report.errors) == 1 and report.errors[0].startswith("e.csv: row 6: column 'total'")
    assert "negative" in report.errors[0]
    found = invoices(store)
    assert minor(found["E-1"]) == (123456700, 123456700, "EUR")
    assert minor(found["E-2"]) == (123456700, 123456700, "EUR")
    assert minor(found["E-3"]) == (123456, 123456, "EUR")
    assert minor(found["E-4"]) == (123456, 123456, "CHF")
    assert "E-5" not in found and report.rejected == 1


def test_malformed_grouping_is_not_an_amount(store: Store, tmp_path: Path) -> None:
    """'1,23,4.00' or '12.34.5' are typos, not amounts to guess at."""
    customers(store, tmp_path)
    text = 'invoice_number,customer_id,currency,total\nA,C1,USD,"1,23,4.00"\nB,C1,USD,12.34.5\n'
    report = load(store, tmp_path, "invoices", "i.csv", text)
    assert report.errors == [
        "i.csv: row 2: column 'total': not an amount: '1,23,4.00'",
        "i.csv: row 3: column 'total': not an amount: '12.34.5'",
    ]


def test_currency_symbol_of_another_currency_is_refused(store: Store, tmp_path: Path) -> None:
    """'€100.00' in a USD row contradicts its currency column: rejected, not stored."""
    customers(store, tmp_path)
    text = (
        "invoice_number,customer_id,currency,total\nINV-1,C1,USD,€100.00\nINV-2,C1,USD,USD 5.00\n"
    )
    report = load(store, tmp_path, "invoices", "i.csv", text)
    assert report.rejected == 1
    assert report.errors[0].startswith("i.csv: row 2: column 'total': ")
    assert minor(invoices(store)["INV-2"]) == (500, 500, "USD")


def test_empty_amount_cells(store: Store, tmp_path: Path) -> None:
    """An empty total is required; an empty balance is the total."""
    customers(store, tmp_path)
    text = "invoice_number,customer_id,currency,total,balance\nA,C1,USD,,\nB,C1,USD,7.00,  \n"
    report = load(store, tmp_path, "invoices", "i.csv", text)
    assert report.errors == ["i.csv: row 2: column 'total': is required"]
    assert minor(invoices(store)["B"]) == (700, 700, "USD")


# --- currencies -----------------------------------------------------------------------------


def test_currency_lower_case_and_padded(store: Store, tmp_path: Path) -> None:
    """' eur ' is EUR."""
    customers(store, tmp_path)
    report = load(
        store,
        tmp_path,
        "invoices",
        "i.csv",
        "invoice_number,customer_id,currency,total\nA,C2, eur ,5\n",
    )
    assert report.errors == [] and minor(invoices(store)["A"]) == (500, 500, "EUR")


def test_missing_currency_is_the_customers_currency(store: Store, tmp_path: Path) -> None:
    """A single-currency export has no currency column: the customer's currency applies;
    a customer without one makes the row name the currency column."""
    customers(store, tmp_path)
    load(store, tmp_path, "customers", "c9.csv", CUSTOMERS_NO_CCY)
    text = "invoice_number,customer_id,total\nA,C2,5.00\nB,C9,6.00\nC,C1,7.00\n"
    report = load(store, tmp_path, "invoices", "i.csv", text)
    assert report.errors == [
        "i.csv: row 3: column 'currency': is required (customer 'C9' has no currency)"
    ]
    found = invoices(store)
    assert minor(found["A"]) == (500, 500, "EUR")
    assert minor(found["C"]) == (700, 700, "USD")


# --- dates ----------------------------------------------------------------------------------


def test_day_first_dotted_dates(store: Store, tmp_path: Path) -> None:
    """31.12.2026 and 1.2.2026 (day first: the only dotted order in use) are dates."""
    customers(store, tmp_path)
    text = (
        "invoice_number,customer_id,currency,total,issue_date,due_date\n"
        "A,C2,EUR,5,1.2.2026,31.12.2026\n"
    )
    report = load(store, tmp_path, "invoices", "i.csv", text)
    assert report.errors == []
    inv = invoices(store)["A"]
    assert (inv.issue_date, inv.due_date) == (date(2026, 2, 1), date(2026, 12, 31))


def test_slash_dates_are_refused_not_guessed(store: Store, tmp_path: Path) -> None:
    """12/31/2026 (US) and 31/12/2026 (UK) share a shape with 01/02/2026, which is either:
    without --date-order every slash date is refused with the column named and the option to
    give, none stored with a guessed month."""
    customers(store, tmp_path)
    text = (
        "invoice_number,customer_id,currency,total,issue_date\n"
        "A,C1,USD,5,12/31/2026\nB,C2,EUR,5,31/12/2026\nC,C1,USD,5,2026-12-31 00:00:00\n"
    )
    report = load(store, tmp_path, "invoices", "i.csv", text)
    hint = (
        "is a slash date: say its order with --date-order mdy (month/day/year) or dmy"
        " (day/month/year), or write YYYY-MM-DD"
    )
    assert report.errors == [
        f"i.csv: row 2: column 'issue_date': '12/31/2026' {hint}",
        f"i.csv: row 3: column 'issue_date': '31/12/2026' {hint}",
    ]
    assert invoices(store)["C"].issue_date == date(2026, 12, 31)


def test_impossible_dates_are_refused(store: Store, tmp_path: Path) -> None:
    """31.02.2026 and 2026-13-01 do not exist."""
    customers(store, tmp_path)
    text = (
        "invoice_number,customer_id,currency,total,issue_date\n"
        "A,C1,USD,5,31.02.2026\nB,C1,USD,5,2026-13-01\n"
    )
    report = load(store, tmp_path, "invoices", "i.csv", text)
    assert [e.split(": column ")[0] for e in report.errors] == ["i.csv: row 2", "i.csv: row 3"]
    assert all("'issue_date'" in e for e in report.errors) and invoices(store) == {}


# --- duplicates and re-imports --------------------------------------------------------------


def test_same_invoice_twice_in_one_file(store: Store, tmp_path: Path) -> None:
    """The second copy is rejected naming the first; the first is stored as written."""
    customers(store, tmp_path)
    text = (
        "invoice_number,customer_id,currency,total\n"
        "INV-1,C1,USD,10.00\nINV-1,C1,USD,99.00\nINV-2,C1,USD,1.00\n"
    )
    report = load(store, tmp_path, "invoices", "i.csv", text)
    assert (report.created, report.rejected) == (2, 1)
    assert report.errors == ["i.csv: row 3: duplicate key 'C1/INV-1' in the file (first in row 2)"]
    assert minor(invoices(store)["INV-1"]) == (1000, 1000, "USD")


def test_duplicate_across_a_chunk_boundary_is_still_a_duplicate(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows are written in chunks; a copy in a later chunk must not overwrite the first."""
    monkeypatch.setattr(importer, "CHUNK", 2)
    customers(store, tmp_path)
    text = (
        "invoice_number,customer_id,currency,total\n"
        "INV-1,C1,USD,10.00\nINV-2,C1,USD,1.00\nINV-3,C1,USD,2.00\nINV-1,C1,USD,99.00\n"
    )
    report = load(store, tmp_path, "invoices", "i.csv", text)
    assert (report.created, report.updated, report.rejected) == (3, 0, 1)
    assert report.errors == ["i.csv: row 5: duplicate key 'C1/INV-1' in the file (first in row 2)"]
    assert minor(invoices(store)["INV-1"]) == (1000, 1000, "USD")


def test_reimporting_the_same_file_writes_nothing(store: Store, tmp_path: Path) -> None:
    """The second import of a file is all 'unchanged': no row's timestamp, no new ref."""
    customers(store, tmp_path)
    text = (
        "invoice_number;customer_id;currency;total;balance;issue_date\n"
        "R-1;C2;EUR;1.234,56;100,00;31.12.2026\nR-2;C2;EUR;5,00;;01.01.2027\n"
    )
    path = put(tmp_path, "r.csv", text, encoding="cp1252")
    first = import_file(store, "invoices", path)
    assert (first.created, first.errors) == (2, [])
    before = {n: (i.updated_at, minor(i)) for n, i in invoices(store).items()}
    with store.session() as s:
        refs = s.execute(select(func.count()).select_from(ExternalRef)).scalar_one()
    again = import_file(store, "invoices", path)
    assert (again.created, again.updated, again.unchanged, again.rejected) == (0, 0, 2, 0)
    assert {n: (i.updated_at, minor(i)) for n, i in invoices(store).items()} == before
    with store.session() as s:
        assert s.execute(select(func.count()).select_from(ExternalRef)).scalar_one() == refs


def test_second_file_changes_one_balance(store: Store, tmp_path: Path) -> None:
    """A later export with one invoice part-paid updates that balance only."""
    customers(store, tmp_path)
    head = "invoice_number,customer_id,currency,total,balance\n"
    load(store, tmp_path, "invoices", "a.csv", head + "A,C1,USD,100.00,\nB,C1,USD,50.00,\n")
    report = load(
        store, tmp_path, "invoices", "b.csv", head + "A,C1,USD,100.00,40.00\nB,C1,USD,50.00,\n"
    )
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    found = invoices(store)
    assert minor(found["A"]) == (10000, 4000, "USD") and minor(found["B"]) == (5000, 5000, "USD")


# --- references and applications -------------------------------------------------------------


def test_unknown_customer_is_rejected_and_the_rest_lands(store: Store, tmp_path: Path) -> None:
    """An unknown customer number names its column; the other rows are stored."""
    customers(store, tmp_path)
    text = "invoice_number,customer_number,currency,total\nA,NOPE-1,USD,5\n"
    report = load(store, tmp_path, "invoices", "i.csv", text)
    assert report.errors == [
        "i.csv: row 2: column 'customer_number': no customer with number 'NOPE-1'"
    ]
    text = "invoice_number,customer_id,currency,total\nA,C404,USD,5\nB,C1,USD,5\n"
    report = load(store, tmp_path, "invoices", "j.csv", text)
    assert report.rejected == 1 and report.errors[0].startswith(
        "j.csv: row 2: column 'customer_id'"
    )
    assert list(invoices(store)) == ["B"]


def test_payment_applied_to_several_invoices(store: Store, tmp_path: Path) -> None:
    """'INV-1:1.000,00;INV-2:234,56' in a semicolon file: two applications, exact cents."""
    customers(store, tmp_path)
    load(
        store,
        tmp_path,
        "invoices",
        "i.csv",
        "invoice_number,customer_id,currency,total\nINV-1,C2,EUR,1000.00\nINV-2,C2,EUR,234.56\n",
    )
    text = (
        "payment_id;customer_id;currency;amount;received_on;applied_to\n"
        '"P1";C2;EUR;1.234,56;15.01.2027;"INV-1:1.000,00; INV-2:234,56"\n'
    )
    report = load(store, tmp_path, "payments", "p.csv", text)
    assert (report.created, report.errors) == (1, [])
    with store.session() as s:
        pay = s.execute(select(Payment)).scalar_one()
        apps = sorted(a.amount_minor for a in s.execute(select(Application)).scalars())
    assert (pay.amount_minor, pay.currency, pay.received_on) == (123456, "EUR", date(2027, 1, 15))
    assert apps == [23456, 100000]


def test_applications_exceeding_the_payment_are_rejected(store: Store, tmp_path: Path) -> None:
    """Applying 150.00 of a 100.00 payment would create cash: the row names applied_to."""
    customers(store, tmp_path)
    load(
        store,
        tmp_path,
        "invoices",
        "i.csv",
        "invoice_number,customer_id,currency,total\nINV-1,C1,USD,100.00\nINV-2,C1,USD,50.00\n",
    )
    text = (
        "payment_id,customer_id,currency,amount,applied_to\n"
        'P1,C1,USD,100.00,"INV-1:100.00;INV-2:50.00"\n'
    )
    report = load(store, tmp_path, "payments", "p.csv", text)
    assert report.rejected == 1 and report.created == 0
    assert report.errors[0].startswith("p.csv: row 2: column 'applied_to': ")
    with store.session() as s:
        assert s.execute(select(Payment)).first() is None


# --- ragged rows ----------------------------------------------------------------------------


def test_row_with_more_cells_than_the_header_is_rejected(store: Store, tmp_path: Path) -> None:
    """An unquoted '1,234.50' splits into two cells: never stored as 1.00."""
    customers(store, tmp_path)
    text = "invoice_number,customer_id,currency,total\nINV-1,C1,USD,1,234.50\nINV-2,C1,USD,3.00\n"
    report = load(store, tmp_path, "invoices", "i.csv", text)
    assert (report.created, report.rejected) == (1, 1)
    assert report.errors == [
        "i.csv: row 2: column 'total': the row has 5 cells, the header 4 "
        "(an unquoted comma in an amount?)"
    ]
    assert list(invoices(store)) == ["INV-2"]


def test_trailing_empty_extra_cells_are_harmless(store: Store, tmp_path: Path) -> None:
    """'INV-1,C1,USD,10.00,,' (Excel pads rows to the widest) is the row without the padding."""
    customers(store, tmp_path)
    text = "invoice_number,customer_id,currency,total\nINV-1,C1,USD,10.00,,\n"
    report = load(store, tmp_path, "invoices", "i.csv", text)
    assert (report.created, report.errors) == (1, [])


def test_row_with_fewer_cells_than_the_header(store: Store, tmp_path: Path) -> None:
    """Missing trailing optional cells are empty; a missing required one names its column."""
    customers(store, tmp_path)
    text = "invoice_number,customer_id,currency,total,po_number\nINV-1,C1,USD,10.00\nINV-2,C1,USD\n"
    report = load(store, tmp_path, "invoices", "i.csv", text)
    assert report.errors == ["i.csv: row 3: column 'total': is required"]
    assert invoices(store)["INV-1"].po_number is None


# --- JSON -----------------------------------------------------------------------------------


def test_json_numbers_become_exact_decimals(store: Store, tmp_path: Path) -> None:
    """1234.56, 0.1 and 100.0 (JPY) as JSON numbers: exact minor units, no float on the way."""
    customers(store, tmp_path)
    load(store, tmp_path, "customers", "j.csv", "customer_id,name,currency\nJ1,Nippon KK,JPY\n")
    rows = (
        '[{"invoice_number": "A", "customer_id": "C1", "currency": "USD", "total": 1234.56,'
        ' "balance": 0.1},'
        ' {"invoice_number": "B", "customer_id": "J1", "currency": "JPY", "total": 100.0},'
        ' {"invoice_number": "C", "customer_id": "C1", "currency": "USD", "total": 1234.567},'
        ' {"invoice_number": 1001, "customer_id": "C1", "currency": "USD", "total": 5}]'
    )
    report = load(store, tmp_path, "invoices", "i.json", rows)
    assert report.errors == [
        "i.json: row 3: column 'total': 1234.567 has more decimals than USD allows"
    ]
    found = invoices(store)
    assert minor(found["A"]) == (123456, 10, "USD")
    assert minor(found["B"]) == (100, 100, "JPY")
    assert minor(found["1001"]) == (500, 500, "USD")


def test_json_amounts_as_strings(store: Store, tmp_path: Path) -> None:
    """Amounts as JSON strings follow the CSV rules ('1,234.56', '1.234,56')."""
    customers(store, tmp_path)
    rows = [
        {"invoice_number": "A", "customer_id": "C1", "currency": "USD", "total": "1,234.56"},
        {"invoice_number": "B", "customer_id": "C2", "currency": "EUR", "total": "1.234,56"},
    ]
    report = load(store, tmp_path, "invoices", "i.json", json.dumps(rows))
    assert report.errors == []
    assert {n: minor(i) for n, i in invoices(store).items()} == {
        "A": (123456, 123456, "USD"),
        "B": (123456, 123456, "EUR"),
    }


def test_json_object_holding_the_list(store: Store, tmp_path: Path) -> None:
    """{"invoices": [...]} (an export's envelope) holds the rows."""
    customers(store, tmp_path)
    doc = {
        "invoices": [{"invoice_number": "A", "customer_id": "C1", "currency": "USD", "total": "5"}]
    }
    report = load(store, tmp_path, "invoices", "i.json", json.dumps(doc))
    assert (report.created, report.errors) == (1, [])


def test_json_single_record_is_refused_with_a_clear_message(store: Store, tmp_path: Path) -> None:
    """One object that is a record, not a list of them: the file is refused, nothing stored."""
    customers(store, tmp_path)
    doc = {"invoice_number": "A", "customer_id": "C1", "currency": "USD", "total": "5"}
    report = load(store, tmp_path, "invoices", "i.json", json.dumps(doc))
    assert report.created == 0 and len(report.errors) == 1
    assert report.errors[0].startswith("i.json: ") and "list" in report.errors[0]


def test_json_keys_are_case_insensitive_like_csv_headers(store: Store, tmp_path: Path) -> None:
    """'Invoice_Number', 'Customer ID', 'Total' name the same columns as in a CSV."""
    customers(store, tmp_path)
    rows = [{"Invoice_Number": "A", "Customer ID": "C1", "Currency": "USD", "Total": "5.00"}]
    report = load(store, tmp_path, "invoices", "i.json", json.dumps(rows))
    assert (report.created, report.errors) == (1, [])


def test_json_item_that_is_not_an_object(store: Store, tmp_path: Path) -> None:
    """[1, {...}]: item 1 is rejected, item 2 lands."""
    customers(store, tmp_path)
    rows = [1, {"invoice_number": "A", "customer_id": "C1", "currency": "USD", "total": "5"}]
    report = load(store, tmp_path, "invoices", "i.json", json.dumps(rows))
    assert report.errors == ["i.json: row 1: column '(row)': is not an object"]
    assert report.created == 1


# --- large files ----------------------------------------------------------------------------


def test_large_csv_is_written_in_chunks(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """3,000 rows in chunks of 500: every row lands, counted once."""
    monkeypatch.setattr(importer, "CHUNK", 500)
    customers(store, tmp_path)
    lines = ["invoice_number;customer_id;currency;total"]
    lines += [f"INV-{n};C2;EUR;{n}.{n % 100:02d}" for n in range(3000)]
    report = load(store, tmp_path, "invoices", "big.csv", "\r\n".join(lines) + "\r\n", "cp1252")
    assert (report.rows, report.created, report.rejected) == (3000, 3000, 0)
    assert minor(invoices(store)["INV-2999"]) == (299999, 299999, "EUR")


def test_json_rows_stream_before_the_end_of_the_file(tmp_path: Path) -> None:
    """A JSON list is read item by item: the first rows come out before a broken tail is read
    (the whole document is never held at once)."""
    good = ", ".join(json.dumps({"invoice_number": f"A{n}", "total": "1.00"}) for n in range(3))
    path = put(tmp_path, "i.json", "[" + good + ", {broken")
    rows = read_rows(path)
    first = [next(rows) for _ in range(3)]
    assert [n for n, _ in first] == [1, 2, 3]
    assert first[0][1]["invoice_number"] == "A0"
    with pytest.raises(ValueError):
        next(rows)


def test_a_broken_cell_mid_file_keeps_the_rows_read(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cell beyond the CSV reader's limit stops the file at that row with its number; the
    rows before it are stored, not silently dropped with the unwritten chunk."""
    customers(store, tmp_path)
    huge = "x" * 200_000
    text = (
        "invoice_number,customer_id,currency,total,memo\n"
        "INV-1,C1,USD,1.00,\n"
        f"INV-2,C1,USD,2.00,{huge}\n"
        "INV-3,C1,USD,3.00,\n"
    )
    report = load(store, tmp_path, "invoices", "i.csv", text)
    assert "INV-1" in invoices(store) and report.created >= 1
    assert any(e.startswith("i.csv: row 3: ") for e in report.errors)
    assert report.created + report.rejected + report.unchanged + report.updated == report.rows


def test_a_zero_balance_is_a_paid_invoice_not_an_open_one(store: Store, tmp_path: Path) -> None:
    """'0.00' in the balance column means paid in full: it is not 'no balance given'."""
    customers(store, tmp_path)
    text = "invoice_number,customer_id,currency,total,balance\nINV-1,C1,USD,10.00,0.00\n"
    report = load(store, tmp_path, "invoices", "i.csv", text)
    assert report.errors == []
    inv = invoices(store)["INV-1"]
    assert minor(inv) == (1000, 0, "USD") and inv.status == "paid"


def test_utf16_unicode_text_export(store: Store, tmp_path: Path) -> None:
    """Excel's "Unicode Text" is UTF-16 with a BOM and tabs between cells."""
    text = "customer_id\tname\r\nC1\tŁódź Sp. z o.o.\r\n"
    report = load(store, tmp_path, "customers", "c.txt", text, encoding="utf-16")
    assert (report.created, report.errors) == (1, [])
    with store.session() as s:
        assert s.execute(select(col(Customer.name))).scalar_one() == "Łódź Sp. z o.o."


def test_excel_text_formula_keeps_leading_zeros(store: Store, tmp_path: Path) -> None:
    """ERP exports write '="00123"' so Excel keeps the zeros: the number is 00123."""
    customers(store, tmp_path)
    text = 'invoice_number,customer_id,currency,total\n"=""00123""",C1,USD,5.00\n'
    report = load(store, tmp_path, "invoices", "i.csv", text)
    assert report.errors == [] and list(invoices(store)) == ["00123"]


def test_customer_name_in_cp1252_links_to_the_imported_customer(
    store: Store, tmp_path: Path
) -> None:
    """An invoice file naming 'MÜLLER GMBH' (cp1252) links to the customer 'Müller GmbH'."""
    customers(store, tmp_path)
    text = "invoice_number;customer_name;total\r\nR-9;MÜLLER GMBH;12,50\r\n"
    report = load(store, tmp_path, "invoices", "r.csv", text, encoding="cp1252")
    assert (report.created, report.errors) == (1, [])
    with store.session() as s:
        inv = s.execute(select(Invoice)).scalar_one()
        owner = s.get(Customer, inv.customer_id)
    assert owner is not None and owner.name == "Müller GmbH"
    assert minor(inv) == (1250, 1250, "EUR")  # the customer's currency: no currency column


# --- from a review of the above ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("bom.json", b"\xef\xbb\xbf" + b'[{"invoice_number": "A", "customer_id": "C1", '),
        ("u16.json", '[{"invoice_number": "A", "customer_id": "C1", '.encode("utf-16")),
        ("cp.json", '[{"invoice_number": "A", "customer_id": "C1", '.encode("cp1252")),
    ],
)
def test_json_with_a_bom_in_utf16_or_cp1252_is_read(
    store: Store, tmp_path: Path, name: str, content: bytes
) -> None:
    """JSON saved with a BOM, as UTF-16 or as Windows-1252 is recoded before it is parsed,
    as the CSV files are (ijson reads UTF-8 only)."""
    customers(store, tmp_path)
    rest = '"currency": "USD", "total": 12.50, "memo": "Müller"}]'
    encoding = {"bom.json": "utf-8", "u16.json": "utf-16-le", "cp.json": "cp1252"}[name]
    report = load(store, tmp_path, "invoices", name, content + rest.encode(encoding))
    assert (report.created, report.errors) == (1, [])
    assert minor(invoices(store)["A"]) == (1250, 1250, "USD")


def test_yen_written_with_thousands_separators(store: Store, tmp_path: Path) -> None:
    """JPY has no minor units, so 1,234 and ¥250,000 can only group thousands."""
    customers(store, tmp_path)
    text = 'invoice_number,customer_id,currency,total\nA,C1,JPY,"1,234"\nB,C1,JPY,"¥250,000"\n'
    report = load(store, tmp_path, "invoices", "i.csv", text)
    assert (report.created, report.errors) == (2, [])
    assert [minor(invoices(store)[n])[0] for n in "AB"] == [1234, 250000]


def test_an_amount_cut_at_an_unquoted_comma_in_a_row_as_long_as_the_header(
    store: Store, tmp_path: Path
) -> None:
    """``1,234.50`` unquoted in a row that left its last (optional) cell out has as many
    cells as the header: the amount's halves must not land as total 1.00 and a PO 234.50."""
    customers(store, tmp_path)
    text = "invoice_number,customer_id,currency,total,po_number\nA,C1,USD,1,234.50\n"
    report = load(store, tmp_path, "invoices", "i.csv", text)
    assert report.created == 0 and report.rejected == 1
    assert "column 'total'" in report.errors[0] and "unquoted comma" in report.errors[0]


def test_a_balance_above_the_total_is_refused(store: Store, tmp_path: Path) -> None:
    """An invoice cannot owe more than it totals: the row names ``balance``."""
    customers(store, tmp_path)
    text = "invoice_number,customer_id,currency,total,balance\nA,C1,USD,100.00,250.00\n"
    report = load(store, tmp_path, "invoices", "i.csv", text)
    assert report.created == 0
    assert report.errors == [
        "i.csv: row 2: column 'balance': 250.00 USD is more than the total 100.00 USD"
    ]
