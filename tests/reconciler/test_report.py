"""The report in each format carries the decisions, exceptions, drift and totals."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from canonical.store import Store
from reconciler import reconcile
from reconciler.report import build_report, write_report
from tests.reconciler.test_reconcile import Book, ref


def seeded(store: Store) -> dict[str, Any]:
    book = Book(store)
    c = book.customer("Acme Corp")
    book.invoice(c, "1001", "1234.50")
    book.invoice(c, "1002", "10.00", currency="EUR")
    book.pay("1234.50", payer="ACME", refs=[ref("1001", "1234.50")])
    book.pay("55.00", payer="Unknown Payer Ltd", day=date(2026, 11, 3))
    reconcile(store)
    return build_report(store)


def test_json_model(sqlite_store: Store, tmp_path: Path) -> None:
    report = seeded(sqlite_store)
    path = write_report(report, "json", tmp_path / "r.json")
    data = json.loads(path.read_text())
    assert data["totals"]["remittances"] == 2 and data["totals"]["match_rate"] == "50.0%"
    applied = next(r for r in data["remittances"] if r["status"] == "auto_applied")
    assert applied["applications"] == [
        {"invoice_number": "1001", "amount": {"amount": "1234.50", "currency": "USD"}}
    ]
    assert applied["rule"] == "structured_reference"
    assert [r["payer"] for r in data["exceptions"]["unidentified_payer"]] == ["Unknown Payer Ltd"]
    assert data["totals"]["cash"]["USD"]["unapplied"] == {"amount": "55.00", "currency": "USD"}


def test_html_is_readable_and_sortable(sqlite_store: Store, tmp_path: Path) -> None:
    html = write_report(seeded(sqlite_store), "html", tmp_path / "r.html").read_text()
    assert "$1,234.50" in html and "unidentified payer" in html and "sortable" in html


def test_csv_has_a_row_per_application(sqlite_store: Store, tmp_path: Path) -> None:
    rows = list(
        csv.DictReader(write_report(seeded(sqlite_store), "csv", tmp_path / "r.csv").open())
    )
    assert {(r["status"], r["invoice_number"], r["applied"]) for r in rows} == {
        ("auto_applied", "1001", "1234.50"),
        ("exception", "", ""),
    }


def test_xlsx_numbers_are_numbers_with_currency_format(sqlite_store: Store, tmp_path: Path) -> None:
    book = load_workbook(write_report(seeded(sqlite_store), "xlsx", tmp_path / "r.xlsx"))
    assert book.sheetnames == ["Remittances", "Exceptions", "Writes to check", "Drift", "Totals"]
    sheet = book["Remittances"]
    amounts = {sheet.cell(row=r, column=3).value for r in range(2, sheet.max_row + 1)}
    assert 1234.5 in amounts
    assert '"USD"' in sheet.cell(row=2, column=3).number_format
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref


def test_writes_that_need_a_person_are_in_the_report(sqlite_store: Store, tmp_path: Path) -> None:
    from canonical.enums import CommandStatus
    from canonical.models import OutboxCommand

    with sqlite_store.session() as s:
        for key, status, error in (
            ("a", CommandStatus.CONFIRMED, None),
            ("b", CommandStatus.CONFLICT, "invoiced: invoice INV-9 owes 0.00 in invoiced"),
            ("c", CommandStatus.DEAD, "quickbooks: 6000 business validation error"),
        ):
            s.add(
                OutboxCommand(
                    system="invoiced" if key == "b" else "quickbooks",
                    operation="apply_cash",
                    canonical_type="remittance",
                    canonical_id=f"r-{key}",
                    idempotency_key=key,
                    status=status,
                    last_error=error,
                )
            )
    report = build_report(sqlite_store)
    assert report["outbox"]["counts"] == {
        "invoiced": {"conflict": 1},
        "quickbooks": {"confirmed": 1, "dead": 1},
    }
    stuck = {w["status"]: w for w in report["outbox"]["needs_attention"]}
    assert set(stuck) == {"conflict", "dead"}
    assert "owes 0.00" in stuck["conflict"]["error"]
    html = write_report(report, "html", tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Writes to the systems" in html and "6000 business validation error" in html
    sheet = load_workbook(write_report(report, "xlsx", tmp_path / "r.xlsx"))["Writes to check"]
    assert sheet.max_row == 3
