"""A controller's month-end walk through the report: the CSV's columns sum to the report's
totals, a candidate of another customer than the payer is never confirmed bare, a currency
mismatch is never confirmed bare, credit memos applied are in the totals, the header's counts
add up, a reversed payment shows no open unapplied cash, and every command names the person
as ``person:NAME``."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from canonical.store import Store
from reconciler import reconcile
from reconciler.report import build_report, render_html, write_report
from reconciler.reverse import reverse
from sync.outbox.plan import OutboxPlanner
from tests.reconciler.test_reverse import ALL, returned
from tests.support.receivables import Book, decision, ref
from tests.sync.outbox.books import Book as SyncedBook


def _csv_sums(path: Path) -> dict[str, dict[str, Decimal]]:
    """Per currency, the sum of each amount column over the remittances' CSV rows."""
    sums: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    with path.open(encoding="utf-8", newline="") as handle:
        for line in csv.DictReader(handle):
            if not line["remittance_id"] or line["status"] == "dismissed":
                continue
            for column in ("amount", "applied", "unapplied", "credited"):
                sums[line["currency"]][column] += Decimal(line[column] or "0")
    return sums


def test_csv_columns_sum_to_the_report_totals(sqlite_store: Store, tmp_path: Path) -> None:
    """Acme pays 1001 (300.00) and 1002 (200.00) with 520.00: one remittance, two lines, 20.00
    over. Summed in a spreadsheet, amount is 520.00 and unapplied 20.00, not twice each."""
    book = Book(sqlite_store)
    acme = book.customer("Acme Corp")
    book.invoice(acme, "1001", "300.00")
    book.invoice(acme, "1002", "200.00")
    book.pay("520.00", payer="ACME CORP", refs=[ref("1001", "300.00"), ref("1002", "200.00")])
    book.pay("80.00", payer="Nobody Known Ltd")
    reconcile(sqlite_store)
    report = build_report(sqlite_store)
    cash = report["totals"]["cash"]["USD"]
    assert (cash["received"]["amount"], cash["unapplied"]["amount"]) == ("600.00", "100.00")
    path = write_report(report, "csv", tmp_path / "r.csv")
    sums = _csv_sums(path)["USD"]
    assert sums["amount"] == Decimal(cash["received"]["amount"]) == Decimal("600.00")
    assert sums["applied"] == Decimal(cash["applied"]["amount"]) == Decimal("500.00")
    assert sums["unapplied"] == Decimal(cash["unapplied"]["amount"]) == Decimal("100.00")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["invoice_number"] in ("1001", "1002")]
    assert [(r["line"], r["amount"], r["unapplied"]) for r in rows] == [
        ("1", "520.00", "20.00"),
        ("2", "", ""),
    ]
    assert rows[1]["remittance_id"] == rows[0]["remittance_id"] and rows[1]["payer"]


def _other_customers_invoice(store: Store, book: Book | None = None) -> tuple[str, dict[str, Any]]:
    """UMBRELLA CORP LTD (no customer of that name) pays 2500.00 naming invoices 1020 (Atlas
    Freight's, 20569.40) and 1021 (Riverbend Software's, 4140.76)."""
    book = book or Book(store)
    atlas = book.customer("Atlas Freight GmbH")
    riverbend = book.customer("Riverbend Software")
    book.invoice(atlas, "1020", "20569.40", issued=date(2026, 9, 1))
    book.invoice(riverbend, "1021", "4140.76", issued=date(2026, 9, 2))
    pay = book.pay("2500.00", payer="UMBRELLA CORP LTD", text="INVOICES 1020, 1021")
    reconcile(store)
    row = next(r for r in build_report(store)["remittances"] if r["id"] == pay)
    return pay, row


def test_a_candidate_of_another_customer_is_not_confirmed_bare(
    sqlite_store: Store, tmp_path: Path
) -> None:
    _, row = _other_customers_invoice(sqlite_store)
    assert row["status"] == "exception" and row["customer"] is None
    top = row["candidates"][0]
    assert [i["number"] for i in top["invoices"]] == ["1021"]
    assert top["customer"] == "Riverbend Software"
    made = row["decision_id"]
    assert row["resolve"].startswith(f"arsync resolve {made} --by person:NAME --invoice NUMBER")
    assert row["resolve"] != f"arsync resolve {made} --by person:NAME"
    assert "1021" in row["resolve"] and "Riverbend Software" in row["resolve"]
    # short by what the candidate's own invoice owes: 4140.76 - 2500.00
    assert "short by 1640.76" in top["why"] and "22210.16" not in top["why"]
    report = build_report(sqlite_store)
    html = render_html(report)
    cell = html.split("<h2>Exceptions by kind")[1].split("</table>")[0]
    assert "Riverbend Software" in cell.split("<td>", 6)[6]  # the best-candidates cell
    write_report(report, "xlsx", tmp_path / "r.xlsx")
    sheet = load_workbook(tmp_path / "r.xlsx")["Exceptions"]
    header = [c.value for c in sheet[1]]
    values = [c.value for c in sheet[2]]
    assert "Riverbend Software" in values[header.index("Candidates")]
    assert "Riverbend Software" in values[header.index("Resolve with")]


def test_the_identified_customers_own_candidate_is_confirmed_bare(sqlite_store: Store) -> None:
    """Riverbend pays 2500.00 naming its own 1021: the candidate is the payer's own."""
    book = Book(sqlite_store)
    riverbend = book.customer("Riverbend Software")
    book.invoice(riverbend, "1021", "4140.76")
    pay = book.pay("2500.00", payer="RIVERBEND SOFTWARE", text="INVOICE 1021")
    reconcile(sqlite_store)
    row = next(r for r in build_report(sqlite_store)["remittances"] if r["id"] == pay)
    assert row["exception_kind"] == "short_pay_over_tolerance", row
    assert row["resolve"] == f"arsync resolve {row['decision_id']} --by person:NAME"


def test_a_currency_mismatch_is_not_confirmed_bare(sqlite_store: Store) -> None:
    """Initech pays 937.50 USD naming 1010, an invoice in GBP: confirming it is refused."""
    book = Book(sqlite_store)
    initech = book.customer("Initech LLC")
    book.invoice(initech, "1010", "937.50", currency="GBP")
    pay = book.pay("937.50", payer="INITECH LLC", refs=[ref("INV-1010")])
    reconcile(sqlite_store)
    row = next(r for r in build_report(sqlite_store)["remittances"] if r["id"] == pay)
    assert row["exception_kind"] == "currency_mismatch", row
    made = row["decision_id"]
    assert row["resolve"].startswith(f"arsync resolve {made} --by person:NAME --invoice NUMBER")
    assert "USD" in row["resolve"] and "--dismiss REASON" in row["resolve"]


def test_credit_memos_applied_are_in_the_totals(sqlite_store: Store, tmp_path: Path) -> None:
    """Acme's CM-7 (50.00) names 1001 and is applied by the memo pass; Acme then pays 1002
    (200.00) netting nothing. 50.00 USD credited."""
    book = Book(sqlite_store)
    acme = book.customer("Acme Corp")
    book.invoice(acme, "1001", "300.00")
    book.invoice(acme, "1002", "200.00")
    book.credit(acme, "CM-7", "50.00", reference="1001")
    book.pay("200.00", payer="ACME CORP", refs=[ref("1002", "200.00")])
    reconcile(sqlite_store)
    report = build_report(sqlite_store)
    applied = [m for m in report["credit_memos"] if m["applications"]]
    assert [m["credit_memo"] for m in applied] == ["CM-7"], report["credit_memos"]
    assert report["totals"]["cash"]["USD"]["credited"] == {"amount": "50.00", "currency": "USD"}
    html = render_html(report)
    cash_table = html.split("<h2>Cash</h2>")[1].split("</table>")[0]
    assert "<th>Credited</th>" in cash_table and "$50.00" in cash_table
    with write_report(report, "csv", tmp_path / "r.csv").open(encoding="utf-8") as handle:
        credited = sum(Decimal(line["credited"] or "0") for line in csv.DictReader(handle))
    assert credited == Decimal("50.00")
    write_report(report, "xlsx", tmp_path / "r.xlsx")
    totals = load_workbook(tmp_path / "r.xlsx")["Totals"]
    header = [c.value for c in totals[1]]
    assert totals.cell(row=2, column=header.index("Credited") + 1).value == Decimal("50.00")


def test_a_reversed_payment_adds_up_and_shows_no_open_cash(store: Store) -> None:
    """Acme's 100.00 paid INV-1001; the bank took it all back and a person reversed it: the
    header counts both remittances as reversed, and neither row shows unapplied cash."""
    book = SyncedBook(store)
    acme = book.customer("Acme Corp", ALL)
    book.invoice(acme, "INV-1001", "100.00", ALL)
    cash = book.remittance("Acme Corp", "100.00", "INV-1001")
    sink = OutboxPlanner("default", list(ALL))
    reconcile(store, sink=sink)
    back = returned(store, cash, "100.00")
    reconcile(store, sink=sink)
    reverse(store, decision(store, back).id, by="person:ana", sink=sink)
    report = build_report(store)
    t = report["totals"]
    assert (t["remittances"], t["reversed"]) == (2, 2)
    counted = (
        t["auto_applied"]
        + t["applied_by_person"]
        + t["suggested"]
        + t["exceptions"]
        + t["dismissed"]
        + t["reversed"]
        + t["not_reconciled"]
    )
    assert counted == t["remittances"]
    rows = {r["id"]: r for r in report["remittances"]}
    assert rows[cash]["unapplied"]["amount"] == "0.00"
    assert rows[back]["unapplied"]["amount"] == "0.00"
    assert '<div class="card">Reversed<b>2</b></div>' in render_html(report)


def test_a_partial_return_reversed_shows_the_cash_kept_on_the_payment(store: Store) -> None:
    """Of Acme's 100.00 the bank took back 30.00, reversed: the payment's row shows the 70.00
    kept, the return's none, and the rows sum to the total."""
    book = SyncedBook(store)
    acme = book.customer("Acme Corp", ALL)
    book.invoice(acme, "INV-1001", "100.00", ALL)
    cash = book.remittance("Acme Corp", "100.00", "INV-1001")
    sink = OutboxPlanner("default", list(ALL))
    reconcile(store, sink=sink)
    back = returned(store, cash, "30.00")
    reconcile(store, sink=sink)
    reverse(store, decision(store, back).id, by="person:ana", sink=sink)
    report = build_report(store)
    rows = {r["id"]: r for r in report["remittances"]}
    assert (rows[cash]["unapplied"]["amount"], rows[back]["unapplied"]["amount"]) == (
        "70.00",
        "0.00",
    )
    assert report["totals"]["cash"]["USD"]["unapplied"]["amount"] == "70.00"


def test_every_command_names_the_person_one_way(sqlite_store: Store) -> None:
    """Commands in every section spell the person ``person:NAME``, never ``person:you``."""
    book = Book(sqlite_store)
    acme = book.customer("Acme Corp")
    book.invoice(acme, "1001", "300.00")
    book.pay("77.00", payer="Nobody Known Ltd")
    book.pay("310.00", payer="ACME CORP", refs=[ref("1001", "300.00")])
    _other_customers_invoice(sqlite_store, book)
    report = build_report(sqlite_store)
    html = render_html(report)
    assert "person:you" not in html
    commands = re.findall(r"--by person:[A-Za-z]+", html)
    assert commands and set(commands) == {"--by person:NAME"}
