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
from reconciler.rules import DEFAULT_RULES
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
    assert book.sheetnames == [
        "Remittances",
        "Exceptions",
        "Credit memos",
        "Writes to check",
        "Drift",
        "Totals",
    ]
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


HOSTILE_PAYER = '<script>alert("payer")</script> & <b>WAYNE</b>'
HOSTILE_TEXT = "INV 5001 <img src=x onerror=alert(1)>"


def suggestion_with_credit_and_write_off(store: Store, tmp_path: Path) -> dict[str, Any]:
    """847.00 paying 5001 (1000.00) net of CM-301 (150.00) and 3.00 short, only suggested (these
    rules never apply a structured reference on their own); a hostile payer's exception beside
    it."""
    rules = tmp_path / "rules.toml"
    text = DEFAULT_RULES.read_text()
    rules.write_text(
        text.replace("auto = true\nmin_confidence = 95", "auto = false\nmin_confidence = 95", 1)
    )
    book = Book(store)
    wayne = book.customer("Wayne Enterprises")
    book.invoice(wayne, "5001", "1000.00")
    book.credit(wayne, "CM-301", "150.00")
    book.pay(
        "847.00",
        payer=HOSTILE_PAYER,
        text=HOSTILE_TEXT,
        refs=[ref("5001", "1000.00"), ref("CM-301", "-150.00", kind="credit_memo")],
    )
    book.pay("55.00", payer=HOSTILE_PAYER + " UNKNOWN", text="<i>no invoice</i>")
    reconcile(store, rules_path=rules)
    return build_report(store)


def test_the_json_top_candidate_carries_the_credits_and_write_offs(
    sqlite_store: Store, tmp_path: Path
) -> None:
    report = suggestion_with_credit_and_write_off(sqlite_store, tmp_path)
    [row] = [r for r in report["remittances"] if r["status"] == "suggested"]
    top = row["candidates"][0]
    assert [(c["credit_memo"], c["invoice_number"], c["amount"]) for c in top["credits"]] == [
        ("CM-301", "5001", "150.00")
    ]
    assert [(d["invoice_number"], d["reason_code"], d["amount"]) for d in top["deductions"]] == [
        ("5001", "SHORTPAY", "3.00")
    ]
    assert (top["currency"], top["customer"]) == ("USD", "Wayne Enterprises")


def test_the_html_shows_what_a_suggestion_would_take_and_write_off(
    sqlite_store: Store, tmp_path: Path
) -> None:
    report = suggestion_with_credit_and_write_off(sqlite_store, tmp_path)
    html = write_report(report, "html", tmp_path / "r.html").read_text(encoding="utf-8")
    suggestions = html[html.index("<h2>Suggestions (1)</h2>") : html.index("<h2>All remittances")]
    # the cash, the credit memo it nets off and the short pay it writes off, with currency
    assert "5001 $847.00" in suggestions
    assert "credit memos taken</b><div>CM-301 on 5001 $150.00</div>" in suggestions
    assert "written off</b><div>5001 $3.00 SHORTPAY</div>" in suggestions
    # the rule and its evidence, and how to settle it
    assert "structured_reference (" in suggestions
    assert "<b>matched</b>" in suggestions and "arsync resolve " in suggestions
    assert "Wayne Enterprises" in suggestions


def test_the_html_shows_a_candidate_s_amounts_in_the_invoice_s_currency(
    sqlite_store: Store, tmp_path: Path
) -> None:
    book = Book(sqlite_store)
    acme = book.customer("Acme Corp")
    book.invoice(acme, "7001", "500.00", currency="EUR")
    book.pay("500.00", payer="ACME CORP", refs=[ref("7001", "500.00")])
    reconcile(sqlite_store)
    report = build_report(sqlite_store)
    [row] = report["exceptions"]["currency_mismatch"]
    assert row["candidates"][0]["currency"] == "EUR"
    html = write_report(report, "html", tmp_path / "r.html").read_text(encoding="utf-8")
    assert "7001 €500.00" in html and "7001 $500.00" not in html


def test_the_html_escapes_what_payers_write(sqlite_store: Store, tmp_path: Path) -> None:
    report = suggestion_with_credit_and_write_off(sqlite_store, tmp_path)
    assert report["exceptions"]["unidentified_payer"]
    html = write_report(report, "html", tmp_path / "r.html").read_text(encoding="utf-8")
    for hostile in ("<script>alert", "<b>WAYNE", "<img src=x", "<i>no invoice"):
        assert hostile not in html
    assert "&lt;script&gt;alert(&#34;payer&#34;)&lt;/script&gt; &amp; &lt;b&gt;WAYNE" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    # in the evidence too (JSON in the page, its markup characters escaped)
    assert "\\u003cscript\\u003e" in html
    assert html.count("<script>") == 1  # the page's own sorting script, nothing else
