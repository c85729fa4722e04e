"""Import: documented columns, row/column errors, idempotent re-import, links to synced data."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import col
from typer.testing import CliRunner

from canonical.models import Customer, ExternalRef, Invoice, Payment
from canonical.money import Money
from canonical.store import Store
from sync.cli import app
from sync.importer import import_file
from tests.support.pull import seed_two_systems

CUSTOMERS = (
    "customer_id,name,number,email,currency\nC1,Acme Corp,C-1,ap@acme.test,USD\nC2,Globex,,,EUR\n"
)
INVOICES = (
    "invoice_number,customer_id,currency,issue_date,due_date,total,balance,po_number\n"
    'INV-1,C1,USD,2026-10-01,2026-10-31,"1,234.50",,PO-9\n'
    "INV-2,C2,EUR,2026-10-02,,99.999,,\n"
    "INV-3,C9,USD,2026-10-02,,10.00,,\n"
    "INV-4,C1,USD,01/02/2026,,10.00,,\n"
    "INV-5,C1,USD,2026-10-05,,12.00,2.00,\n"
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_names_row_and_column_and_keeps_good_rows(store: Store, tmp_path: Path) -> None:
    customers = import_file(store, "customers", write(tmp_path, "c.csv", CUSTOMERS))
    assert (customers.created, customers.rejected) == (2, 0)
    report = import_file(store, "invoices", write(tmp_path, "i.csv", INVOICES))
    assert report.created == 2 and report.rejected == 3
    assert report.errors == [
        "i.csv: row 3: column 'total': 99.999 has more decimals than EUR allows",
        "i.csv: row 4: column 'customer_id': no imported customer 'C9' (import customers first,"
        " or give customer_number or customer_name)",
        "i.csv: row 5: column 'issue_date': '01/02/2026' is a slash date: say its order with"
        " --date-order mdy (month/day/year) or dmy (day/month/year), or write YYYY-MM-DD",
    ]
    with store.session() as s:
        invoices = {i.number: i for i in s.execute(select(Invoice)).scalars()}
    assert invoices["INV-1"].total == Money("1234.50", "USD")
    assert invoices["INV-1"].balance == Money("1234.50", "USD")  # balance defaults to total
    assert invoices["INV-5"].balance == Money("2.00", "USD")


SLASHED = (
    "invoice_number,customer_id,currency,issue_date,due_date,total\n"
    "INV-1,C1,USD,03/04/2026,3/31/2026 0:00,10.00\n"
    "INV-2,C1,USD,12/1/26,12/31/2026 12:00 AM,10.00\n"
    "INV-3,C1,USD,2/30/2026,,10.00\n"
)


def test_slash_dates_read_in_the_order_the_import_is_given(store: Store, tmp_path: Path) -> None:
    import_file(store, "customers", write(tmp_path, "c.csv", CUSTOMERS))
    us = import_file(store, "invoices", write(tmp_path, "us.csv", SLASHED), date_order="mdy")
    assert (us.created, us.rejected) == (2, 1)
    assert us.errors == [
        "us.csv: row 4: column 'issue_date': not a date in month/day/year order: '2/30/2026'"
    ]
    with store.session() as s:
        invoices = {i.number: i for i in s.execute(select(Invoice)).scalars()}
    assert (invoices["INV-1"].issue_date, invoices["INV-1"].due_date) == (
        date(2026, 3, 4),
        date(2026, 3, 31),
    )
    assert (invoices["INV-2"].issue_date, invoices["INV-2"].due_date) == (
        date(2026, 12, 1),
        date(2026, 12, 31),
    )


def test_a_file_whose_dates_contradict_the_order_given_imports_nothing(
    store: Store, tmp_path: Path
) -> None:
    """03/04/2026 fits both orders; 31/12/2026 shows the file is day first, so the first row
    would be imported as March 4 when it is April 3: nothing is imported."""
    import_file(store, "customers", write(tmp_path, "c.csv", CUSTOMERS))
    text = (
        "invoice_number,customer_id,currency,issue_date,due_date,total\n"
        "INV-1,C1,USD,03/04/2026,,1.00\nINV-2,C1,USD,2026-12-01,31/12/2026,2.00\n"
    )
    report = import_file(store, "invoices", write(tmp_path, "eu.csv", text), date_order="mdy")
    assert report.errors == [
        "eu.csv: row 3: column 'due_date': '31/12/2026' is day/month/year, so the file's slash"
        " dates are not in month/day/year order (--date-order mdy): nothing was imported"
    ]
    with store.session() as s:
        assert s.execute(select(Invoice)).scalars().all() == []


def test_slash_dates_read_day_first(store: Store, tmp_path: Path) -> None:
    import_file(store, "customers", write(tmp_path, "c.csv", CUSTOMERS))
    text = "invoice_number,customer_id,currency,issue_date,total\nINV-9,C1,USD,03/04/2026,1.00\n"
    eu = import_file(store, "invoices", write(tmp_path, "eu.csv", text), date_order="dmy")
    assert (eu.created, eu.rejected) == (1, 0)
    with store.session() as s:
        invoice = s.execute(select(Invoice)).scalars().one()
    assert invoice.issue_date == date(2026, 4, 3)


def test_reimport_updates_instead_of_duplicating(store: Store, tmp_path: Path) -> None:
    import_file(store, "customers", write(tmp_path, "c.csv", CUSTOMERS))
    path = write(
        tmp_path, "i.csv", "invoice_number,customer_id,currency,total\nINV-1,C1,USD,10.00\n"
    )
    import_file(store, "invoices", path)
    again = import_file(store, "invoices", path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    write(tmp_path, "i.csv", "invoice_number,customer_id,currency,total\nINV-1,C1,USD,11.00\n")
    changed = import_file(store, "invoices", path)
    assert changed.updated == 1
    with store.session() as s:
        assert [i.total for i in s.execute(select(Invoice)).scalars()] == [Money("11.00", "USD")]


def test_json_payments_with_applications(store: Store, tmp_path: Path) -> None:
    import_file(store, "customers", write(tmp_path, "c.csv", CUSTOMERS))
    import_file(
        store,
        "invoices",
        write(tmp_path, "i.csv", "invoice_number,customer_id,currency,total\nINV-1,C1,USD,10.00\n"),
    )
    rows = [
        {
            "payment_id": "P1",
            "customer_id": "C1",
            "currency": "USD",
            "amount": "10.00",
            "received_on": "2026-11-01",
            "applied_to": "INV-1:10.00",
        }
    ]
    report = import_file(store, "payments", write(tmp_path, "p.json", json.dumps(rows)))
    assert report.created == 1 and not report.errors
    with store.session() as s:
        assert s.execute(select(Payment)).scalar_one().amount == Money("10.00", "USD")


def test_imported_invoice_links_to_the_synced_one(store: Store, tmp_path: Path) -> None:
    seed_two_systems(store)  # customer "Acme Corp." with QBO invoice 1001
    path = write(
        tmp_path,
        "i.csv",
        "invoice_number,customer_name,currency,total\n1001,ACME CORPORATION,USD,100.00\n",
    )
    report = import_file(store, "invoices", path)
    assert report.errors == [] and report.created == 0
    with store.session() as s:
        assert len(s.execute(select(Invoice)).all()) == 1
        assert len(s.execute(select(Customer)).all()) == 1
        systems = set(
            s.execute(
                select(col(ExternalRef.system)).where(col(ExternalRef.canonical_type) == "invoice")
            ).scalars()
        )
    assert systems == {"quickbooks", "import"}


def test_invoice_terms_give_the_early_payment_discount(store: Store, tmp_path: Path) -> None:
    import_file(store, "customers", write(tmp_path, "c.csv", CUSTOMERS))
    report = import_file(
        store,
        "invoices",
        write(
            tmp_path,
            "i.csv",
            "invoice_number,customer_id,currency,issue_date,total,terms,discount_until\n"
            "T-1,C1,USD,2026-10-01,100.00,2/10 net 30,\n"
            "T-2,C1,USD,2026-10-01,100.00,1% 15 Net 45,2026-10-20\n"
            "T-3,C1,USD,2026-10-01,100.00,Net 30,\n"
            "T-4,C1,USD,2026-10-01,100.00,Net 30,2026-10-20\n",
        ),
    )
    assert report.errors == [
        "i.csv: row 5: column 'terms': 'Net 30' names no early-payment discount (2/10 net 30)"
    ]
    with store.session() as s:
        found = {
            i.number: (i.terms, i.discount_basis_points, str(i.discount_until))
            for i in s.execute(select(Invoice)).scalars()
        }
    assert found == {
        "T-1": ("2/10 net 30", 200, "2026-10-11"),
        "T-2": ("1% 15 Net 45", 100, "2026-10-20"),
        "T-3": ("Net 30", None, "None"),
    }


def test_a_payment_applied_to_an_invoice_not_imported_is_refused_whole(
    store: Store, tmp_path: Path
) -> None:
    """Its cash would be neither applied nor unapplied: the row names its column instead."""
    import_file(store, "customers", write(tmp_path, "c.csv", CUSTOMERS))
    import_file(
        store,
        "invoices",
        write(tmp_path, "i.csv", "invoice_number,customer_id,currency,total\nINV-1,C1,USD,10.00\n"),
    )
    path = write(
        tmp_path,
        "p.csv",
        "payment_id,customer_id,currency,amount,applied_to\n"
        "P1,C1,USD,60.00,INV-1:10.00;W-9999:50.00\n"
        "P2,C1,USD,10.00,INV-1:10.00\n",
    )
    report = import_file(store, "payments", path)
    assert (report.created, report.rejected) == (1, 1)
    assert report.errors == [
        "p.csv: row 2: column 'applied_to': no imported invoice 'W-9999' of this customer "
        "(import it first)"
    ]
    with store.session() as s:
        assert [p.amount for p in s.execute(select(Payment)).scalars()] == [Money("10.00", "USD")]


def test_the_cli_passes_the_date_order(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARSYNC_DATABASE_URL", store.url)
    monkeypatch.delenv("ARSYNC_CONFIG", raising=False)
    runner = CliRunner()
    customers = write(tmp_path, "c.csv", CUSTOMERS)
    assert runner.invoke(app, ["import", "customers", str(customers)]).exit_code == 0
    text = "invoice_number,customer_id,currency,issue_date,total\nINV-9,C1,USD,03/04/2026,1.00\n"
    invoices = write(tmp_path, "i.csv", text)
    refused = runner.invoke(app, ["import", "invoices", str(invoices)])
    assert refused.exit_code == 1 and "--date-order" in refused.output
    answer = runner.invoke(app, ["import", "invoices", str(invoices), "--date-order", "dmy"])
    assert answer.exit_code == 0, answer.output
    with store.session() as s:
        assert s.execute(select(Invoice)).scalars().one().issue_date == date(2026, 4, 3)
