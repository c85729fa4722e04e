"""A third finance-ops walk through the report: a drift row whose value arsync's own write
still waits to change points to that write (never to a change by hand, which the write would
then apply a second time); an invoice voided in QuickBooks reads as void in candidates and
applications; a dismissed partial return says what it took back of what, and the totals still
add up."""

from __future__ import annotations

import csv
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import update
from sqlmodel import col

from canonical.enums import CommandStatus
from canonical.models import OutboxCommand, Remittance
from canonical.store import Store
from reconciler import reconcile
from reconciler.dismiss import dismiss
from reconciler.report import build_report, render_html, write_report
from sync.outbox.plan import OutboxPlanner
from tests.reconciler.test_reverse import returned
from tests.support.pull import seed_two_systems, write
from tests.support.receivables import Book, decision

QBO_1001 = {"customer": "58", "number": "1001", "total": "100.00", "balance": "100.00"}
INVOICED_1001 = {"customer": "c1", "number": "INV-01001", "total": "100.00", "balance": "100.00"}


def _pay(store: Store, amount_minor: int, text: str, key: str = "k1") -> str:
    with store.session() as s:
        r = Remittance(
            source="camt.054",
            source_key=key,
            currency="USD",
            amount_minor=amount_minor,
            value_date=date(2026, 11, 2),
            payer_name="ACME CORP",
            free_text=text,
            bank_reference=key,
        )
        s.add(r)
    return r.id


def _commands(store: Store, system: str, status: CommandStatus) -> str:
    """Set ``system``'s commands to ``status``; returns the apply_cash command's id."""
    with store.session() as s:
        s.execute(
            update(OutboxCommand).where(col(OutboxCommand.system) == system).values(status=status)
        )
        found = s.execute(
            OutboxCommand.__table__.select().where(  # type: ignore[attr-defined]
                col(OutboxCommand.system) == system,
                col(OutboxCommand.operation) == "apply_cash",
            )
        ).one()
    return str(found.id)


def _paid_in_arsync(store: Store) -> None:
    """Acme's invoice 1001 (100.00) is in QuickBooks and Invoiced; a 100.00 payment naming it
    is applied, and an apply_cash is planned to each system."""
    seed_two_systems(store)
    write(store, "invoiced", "invoices", [("i9", INVOICED_1001)])
    _pay(store, 10000, "INVOICE 1001")
    reconcile(store, sink=OutboxPlanner("default", ["quickbooks", "invoiced"]))


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def _section(html: str, title: str) -> str:
    return html.split(f"<h2>{title}")[1].split("<h2>")[0]


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _adds_up(report: dict[str, Any], path: Path) -> None:
    """received = applied + unapplied + returns_pending, and the CSV's columns sum to them."""
    cash = {k: Decimal(v["amount"]) for k, v in report["totals"]["cash"]["USD"].items()}
    assert cash["received"] == cash["applied"] + cash["unapplied"] + cash["returns_pending"]
    lines = [r for r in _csv(path) if r["remittance_id"] and r["status"] != "dismissed"]
    for column, total in (("amount", "received"), ("applied", "applied")):
        assert sum(Decimal(r[column] or "0") for r in lines) == cash[total], column
    assert sum(Decimal(r["unapplied"] or "0") for r in lines) == cash["unapplied"]
    listed = report["unapplied_cash"]["totals"].get("USD", {}).get("unapplied")
    assert Decimal(listed["amount"] if listed else "0") == cash["unapplied"]


# 1. drift while arsync's own write waits ---------------------------------------------------


def test_drift_that_a_write_in_conflict_would_change_points_to_the_write(
    sqlite_store: Store, tmp_path: Path
) -> None:
    """QuickBooks took the payment (balance 0.00); Invoiced's apply_cash is parked as a
    conflict, so Invoiced still shows 100.00. Changing Invoiced's balance by hand and then
    retrying the write would apply the cash there twice: the row names the write instead."""
    _paid_in_arsync(sqlite_store)
    _commands(sqlite_store, "quickbooks", CommandStatus.CONFIRMED)
    parked = _commands(sqlite_store, "invoiced", CommandStatus.CONFLICT)
    write(sqlite_store, "quickbooks", "invoices", [("130", {**QBO_1001, "balance": "0.00"})])
    write(sqlite_store, "invoiced", "invoices", [("i9", INVOICED_1001)])
    report = build_report(sqlite_store)
    [finding] = [d for d in report["drift"] if d["field"] == "balance"]
    assert finding["values"] == {"invoiced": "100.00 USD", "quickbooks": "0.00 USD"}
    step = finding["next"]
    assert "Change balance of invoice 1001" not in step
    assert "do not change it by hand in invoiced" in step
    assert parked in step and f"`arsync outbox retry {parked}`" in step
    assert [(w["command_id"], w["status"], w["resolve"]) for w in finding["waiting_writes"]] == [
        (parked, "conflict", f"arsync outbox retry {parked}")
    ]
    html = _section(render_html(report), "Drift between systems")
    assert f"arsync outbox retry {parked}" in html and "Change balance" not in _text(html)
    path = write_report(report, "xlsx", tmp_path / "r.xlsx")
    sheet = load_workbook(path)["Drift"]
    header = [c.value for c in sheet[1]]
    cells = [str(r[header.index("Waiting writes")]) for r in sheet.iter_rows(2, values_only=True)]
    assert any(parked in cell for cell in cells)


def test_drift_whose_system_of_record_waits_for_its_write_names_that_write(
    sqlite_store: Store,
) -> None:
    """Invoiced took the payment (0.00); QuickBooks, the system of record, still shows 100.00
    because its write is pending: the row must not ask to put 100.00 back in Invoiced."""
    _paid_in_arsync(sqlite_store)
    _commands(sqlite_store, "invoiced", CommandStatus.CONFIRMED)
    pending = _commands(sqlite_store, "quickbooks", CommandStatus.PENDING)
    write(sqlite_store, "invoiced", "invoices", [("i9", {**INVOICED_1001, "balance": "0.00"})])
    [finding] = [d for d in build_report(sqlite_store)["drift"] if d["field"] == "balance"]
    assert finding["values"] == {"invoiced": "0.00 USD", "quickbooks": "100.00 USD"}
    step = finding["next"]
    assert "to 100.00 USD in invoiced" not in step
    assert pending in step and "`arsync push --system quickbooks` sends it" in step


# 2. an invoice voided in QuickBooks ------------------------------------------------------------


def test_an_invoice_voided_since_reads_as_void_in_candidates_and_applications(
    sqlite_store: Store, tmp_path: Path
) -> None:
    """1001 was paid by arsync, 1002 suggested for a short pay; QuickBooks then voids both
    (status void, balance 0). Neither reads as an invoice still owing its balance."""
    seed_two_systems(sqlite_store)
    qbo_1002 = {"customer": "58", "number": "1002", "total": "250.00", "balance": "250.00"}
    write(sqlite_store, "quickbooks", "invoices", [("131", qbo_1002)])
    paid = _pay(sqlite_store, 10000, "INVOICE 1001", "k1")
    short = _pay(sqlite_store, 6000, "INVOICE 1002", "k2")
    reconcile(sqlite_store)
    void = {"total": "0.00", "balance": "0.00", "status": "void"}
    write(sqlite_store, "quickbooks", "invoices", [("130", {**QBO_1001, **void})])
    write(sqlite_store, "quickbooks", "invoices", [("131", {**qbo_1002, **void})])
    report = build_report(sqlite_store)
    rows = {r["id"]: r for r in report["remittances"]}

    [line] = rows[paid]["applications"]
    assert (line["invoice_number"], line["invoice_status"]) == ("1001", "void")
    [top] = rows[short]["candidates"]
    assert top["invoices"][0]["status"] == "void"
    assert "invoice 1002 is void now" in top["why"] and "short by" not in top["why"]
    made = rows[short]["decision_id"]
    assert rows[short]["resolve"] != f"arsync resolve {made} --by person:NAME"
    assert "--invoice NUMBER" in rows[short]["resolve"] and "1002" in rows[short]["resolve"]

    text = _text(render_html(report))
    assert "1001 (void) $100.00" in text and "1002 (void) $60.00" in text
    path = write_report(report, "csv", tmp_path / "r.csv")
    lines = {r["remittance_id"]: r for r in _csv(path)}
    assert lines[paid]["invoice_status"] == "void"
    assert lines[short]["candidates"].startswith("1002 (void) 60.00 USD")
    _adds_up(report, path)


# 3. a partial return dismissed -----------------------------------------------------------------


def test_a_dismissed_partial_return_says_what_it_took_back_of_what(
    sqlite_store: Store, tmp_path: Path
) -> None:
    """Acme's 4250.00 pays no invoice; the bank takes back 1500.00 of it and a person dismisses
    the return (its payment paid nothing: nothing to reverse)."""
    book = Book(sqlite_store)
    book.invoice(book.customer("Acme Corp"), "1001", "9000.00")
    cash = book.pay("4250.00", payer="ACME CORP", text="ADVANCE")
    reconcile(sqlite_store)
    back = returned(sqlite_store, cash, "1500.00")
    reconcile(sqlite_store)
    dismiss(sqlite_store, decision(sqlite_store, back).id, by="person:ana", reason="R01")
    report = build_report(sqlite_store)

    [item] = report["dismissed"]
    assert item["took_back"].startswith("took back 1500.00 USD of 4250.00 USD: 2750.00 USD kept")
    assert cash in item["took_back"]
    # the return's take-back is what is dismissed: the 2750.00 kept is no dismissed cash
    cash_totals = report["totals"]["cash"]["USD"]
    assert cash_totals["dismissed"]["amount"] == "-1500.00"
    [[left]] = [c["items"] for c in report["unapplied_cash"]["customers"]]
    assert left["reason"] == "returned_in_part"
    assert "took back 1500.00 USD of its 4250.00 USD" in left["why"]
    assert "2750.00 USD kept" in left["why"] and "2750.00 USD kept" in left["next"]
    assert "apply it to them with" not in left["next"]

    html = _section(render_html(report), "Dismissed")
    assert "took back 1500.00 USD of 4250.00 USD" in html
    path = write_report(report, "csv", tmp_path / "r.csv")
    [row] = [r for r in _csv(path) if r["remittance_id"] == back]
    assert row["took_back"].startswith("took back 1500.00 USD of 4250.00 USD")
    _adds_up(report, path)

    dismiss(sqlite_store, decision(sqlite_store, cash).id, by="person:ana", reason="by hand")
    report = build_report(sqlite_store)
    said = {d["remittance_id"]: d["took_back"] for d in report["dismissed"]}
    assert said[cash].startswith("the bank took back 1500.00 USD of 4250.00 USD")
    _adds_up(report, write_report(report, "csv", tmp_path / "r2.csv"))
