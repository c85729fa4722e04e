"""What a newcomer walkthrough of the report found: quarantined records and drift findings
with no next step, drift rows naming the record by its internal id, and a document voided in
one system shown as an amount disagreement (``total quickbooks: 0.00``) instead of as void."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from canonical.models import DriftFinding
from canonical.store import Store
from reconciler.report import build_report, render_html, write_report
from tests.support.pull import seed_two_systems, write
from tests.support.receivables import Book

INVOICED_1001 = {"customer": "c1", "number": "INV-01001", "total": "19439.09"}


def _sheet(path: Path, title: str) -> list[dict[str, Any]]:
    sheet = load_workbook(path)[title]
    header = [c.value for c in sheet[1]]
    return [
        dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)
    ]


def _section(html: str, title: str) -> str:
    return html.split(f"<h2>{title}")[1].split("<h2>")[0].split("<script>")[0]


def _rows(section: str) -> list[str]:
    body = section.split("<tbody>")[1].split("</tbody>")[0]
    return re.findall(r"<tr.*?</tr>", body, flags=re.S)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


# 1. quarantine --------------------------------------------------------------------------


def test_a_quarantined_record_says_what_to_fix_where_and_that_sync_reads_it_again(
    sqlite_store: Store, tmp_path: Path
) -> None:
    seed_two_systems(sqlite_store)
    bad = {"customer": "58", "number": "1002", "total": "garbage", "balance": "0.00"}
    write(sqlite_store, "quickbooks", "invoices", [("131", bad)])
    report = build_report(sqlite_store)
    [item] = report["quarantine"]
    assert (item["system"], item["object"], item["id"]) == ("quickbooks", "invoices", "131")
    assert item["field"] == "total"
    step = item["next"]
    assert "131" in step and "total" in step and "quickbooks" in step
    assert "`arsync sync --system quickbooks`" in step  # reads it again once it changed
    assert "`arsync sync --system quickbooks --full`" in step

    section = _section(render_html(report), "Quarantined records")
    assert "arsync sync --system quickbooks --full" in section

    [row] = _sheet(write_report(report, "xlsx", tmp_path / "r.xlsx"), "Quarantined")
    assert (row["System"], row["Id"], row["Field"], row["Next step"]) == (
        "quickbooks",
        "131",
        "total",
        step,
    )


def test_a_fixed_record_is_read_again_and_leaves_the_quarantine(sqlite_store: Store) -> None:
    """What the next step promises holds: the record changed in its system is read again."""
    seed_two_systems(sqlite_store)
    bad = {"customer": "58", "number": "1002", "total": "garbage", "balance": "0.00"}
    write(sqlite_store, "quickbooks", "invoices", [("131", bad)])
    write(sqlite_store, "quickbooks", "invoices", [("131", {**bad, "total": "5.00"})])
    assert build_report(sqlite_store)["quarantine"] == []


# 2. drift: which system is right, what to change where -----------------------------------


def test_a_drift_finding_says_which_system_is_right_and_what_to_change_where(
    store: Store, tmp_path: Path
) -> None:
    seed_two_systems(store)
    write(
        store,
        "invoiced",
        "invoices",
        [("i9", {**INVOICED_1001, "total": "100.00", "balance": "60.00"})],
    )
    report = build_report(store)
    [finding] = report["drift"]
    assert finding["field"] == "balance" and finding["system_of_record"] == "quickbooks"
    assert finding["change_in"] == ["invoiced"]
    assert finding["explained_by"] is None
    step = finding["next"]
    assert "quickbooks is the system of record" in step
    assert "invoiced" in step and "100.00 USD" in step
    assert "`arsync sync --system invoiced`" in step
    # a payment system's balance is never written by arsync: payments change it
    assert "never writes a balance" in step

    rows = _sheet(write_report(report, "xlsx", tmp_path / "r.xlsx"), "Drift")
    assert [(r["Next step"], r["Change in"]) for r in rows] == [(step, "invoiced")]


def test_push_writes_only_what_the_plan_pushes(sqlite_store: Store) -> None:
    """Salesforce's invoice balance is written by push after a decision on the invoice; an
    invoice's due date is written by no push."""
    book = Book(sqlite_store)
    invoice_id = book.invoice(book.customer("Acme Corp."), "1001", "100.00")
    with sqlite_store.session() as s:
        for field, values in (
            ("balance", {"quickbooks": "100.00 USD", "salesforce": "60.00 USD"}),
            ("due_date", {"quickbooks": "2026-12-01", "invoiced": "2026-12-15"}),
        ):
            s.add(
                DriftFinding(
                    canonical_type="invoice",
                    canonical_id=invoice_id,
                    field=field,
                    values=values,
                    system_of_record="quickbooks",
                )
            )
    report = build_report(sqlite_store)
    by_field = {d["field"]: d for d in report["drift"]}
    balance = by_field["balance"]
    assert balance["change_in"] == ["salesforce"]
    assert "`arsync push` writes salesforce's balance" in balance["next"]
    assert "decision" in balance["next"]
    due = by_field["due_date"]
    assert due["change_in"] == ["invoiced"]
    assert "never writes" in due["next"] and "due date" in due["next"]


# 3. the drift table names the record, not its internal id ---------------------------------


def test_the_drift_tables_record_column_names_the_document_not_its_hex_id(
    sqlite_store: Store,
) -> None:
    seed_two_systems(sqlite_store)
    write(
        sqlite_store,
        "invoiced",
        "invoices",
        [("i9", {**INVOICED_1001, "total": "100.00", "balance": "60.00"})],
    )
    report = build_report(sqlite_store)
    [finding] = report["drift"]
    [row] = _rows(_section(render_html(report), "Drift between systems"))
    first = re.search(r"<td.*?</td>", row, flags=re.S)
    assert first is not None
    cell = _text(first.group(0))
    assert cell.startswith("invoice 1001") and "Acme Corp." in cell
    assert finding["id"] not in cell
    assert finding["id"] in row  # still there, whole, to look it up


# 4. a document voided in one system -------------------------------------------------------


def _voided_in_quickbooks(store: Store) -> None:
    """Invoice 1001 (19439.09) open in Invoiced, voided in QuickBooks (QuickBooks keeps a
    void invoice with zero amounts)."""
    seed_two_systems(store)
    write(store, "invoiced", "invoices", [("i9", {**INVOICED_1001, "balance": "19439.09"})])
    write(
        store,
        "quickbooks",
        "invoices",
        [
            (
                "130",
                {
                    "customer": "58",
                    "number": "1001",
                    "total": "0",
                    "balance": "0",
                    "status": "void",
                },
            )
        ],
    )


def test_a_void_in_one_system_is_a_status_disagreement_not_an_amount_drift(
    store: Store, tmp_path: Path
) -> None:
    _voided_in_quickbooks(store)
    report = build_report(store)
    by_field = {d["field"]: d for d in report["drift"]}
    assert set(by_field) == {"status", "total", "balance"}  # as recorded: nothing dropped
    status = by_field["status"]
    assert status["values"] == {"quickbooks": "void", "invoiced": "open"}
    assert status["void_in"] == ["quickbooks"]
    assert status["explains"] == ["balance", "total"]
    step = status["next"]
    assert "void in quickbooks" in step and "open in invoiced" in step
    assert "void it in invoiced" in step
    assert "restore it in quickbooks" in step
    for field in ("total", "balance"):
        assert by_field[field]["explained_by"] == "status"
        assert "void in quickbooks" in by_field[field]["next"]

    section = _section(render_html(report), "Drift between systems")
    rows = _rows(section)
    assert len(rows) == 1  # the status, its zero amounts said with it
    text = _text(rows[0])
    assert "void in quickbooks" in text and "void it in invoiced" in text
    assert "19439.09" in text  # the amounts are still shown, as the void's consequence

    sheet = _sheet(write_report(report, "xlsx", tmp_path / "r.xlsx"), "Drift")
    assert {r["Field"]: r["Explained by"] for r in sheet} == {
        "status": None,
        "total": "status",
        "balance": "status",
    }
