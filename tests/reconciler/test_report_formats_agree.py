"""The four report formats carry the same decisions: for every remittance its rule, evidence,
amounts (exact text with their currency, JPY without decimals), cash per invoice, credit
memos netted off, deductions, the unapplied remainder and the ids and command that settle it;
a suggestion's credit memos and write-offs; the credit memos' own decisions."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from jinja2.utils import htmlsafe_json_dumps
from openpyxl import load_workbook

from canonical.money import Money
from canonical.store import Store
from reconciler import reconcile
from reconciler.report import build_report, write_report
from reconciler.rules import DEFAULT_RULES
from sync.ingest import ingest_files
from tests.reconciler.test_reversals import collection, return_of_collection
from tests.support.receivables import Book, ref

HOSTILE_TEXT = '=cmd|" /C calc"!A0'

# the Remittances and Exceptions sheets' columns before anything was appended: kept in place
REMITTANCE_COLUMNS = [
    "Date",
    "Payer",
    "Amount",
    "Currency",
    "Status",
    "Exception",
    "Invoices",
    "Unapplied",
    "Rule",
    "Confidence",
    "Reference",
]
EXCEPTION_COLUMNS = ["Kind", "Date", "Payer", "Amount", "Currency", "Best candidate", "Why"]
CSV_COLUMNS = [
    "remittance_id",
    "value_date",
    "payer",
    "amount",
    "currency",
    "status",
    "exception_kind",
    "rule",
    "confidence",
    "invoice_number",
    "applied",
    "deduction",
    "reason_code",
    "unapplied",
]


@dataclass
class Reported:
    report: dict[str, Any]
    data: dict[str, Any]  # the JSON file read back
    csv_rows: list[dict[str, str]]
    html: str
    xlsx: Path


@pytest.fixture
def reported(sqlite_store: Store, tmp_path: Path) -> Reported:
    """One book, reconciled twice (a duplicate and a return come after the first run)."""
    store = sqlite_store
    # structured references only suggest here, so a suggestion carries a credit and a write-off
    rules = tmp_path / "rules.toml"
    rules.write_text(
        DEFAULT_RULES.read_text().replace(
            "auto = true\nmin_confidence = 95", "auto = false\nmin_confidence = 95", 1
        )
    )
    book = Book(store)
    wonka = book.customer("Wonka Industries")
    book.invoice(wonka, "3001", "500.00")
    book.pay("500.00", payer="WONKA", text="invoice 3001")
    initech = book.customer("Initech")
    book.invoice(initech, "1003", "40.00")
    book.invoice(initech, "1004", "60.00")
    book.pay("100.00", payer="INITECH", text="INVOICE 1003 and inv #1004")
    massive = book.customer("Massive Dynamic")
    book.invoice(massive, "7101", "100.00", issued=date(2026, 9, 1))
    book.invoice(massive, "7102", "250.00", issued=date(2026, 9, 20))
    book.invoice(massive, "7103", "999.99")
    book.credit(massive, "CM-71", "50.00")
    book.pay("300.00", payer="Massive Dynamic")
    stark = book.customer("Stark Industries")
    book.invoice(stark, "4001", "500.00")
    book.pay("497.00", payer="STARK", text="invoice 4001")
    wayne = book.customer("Wayne Enterprises")
    book.invoice(wayne, "5001", "100.00")
    book.pay("120.00", payer="WAYNE", text="invoice 5001")
    aperture = book.customer("Aperture Science")
    book.invoice(aperture, "8001", "50.00", issued=date(2026, 9, 1))
    book.invoice(aperture, "8002", "50.00", issued=date(2026, 9, 15))
    book.pay("50.00", payer="Aperture Science")
    globex = book.customer("Globex")
    book.invoice(globex, "6001", "1000.00")
    book.credit(globex, "CM-61", "150.00")
    book.pay(
        "847.00",
        payer="GLOBEX",
        refs=[ref("6001", "1000.00"), ref("CM-61", "-150.00", kind="credit_memo")],
    )
    book.pay("10.00", payer="Someone Else Entirely", text=HOSTILE_TEXT)
    nippon = book.customer("Nippon Trading KK")
    book.invoice(nippon, "JP-9001", "150000", currency="JPY")
    book.pay("150500", payer="NIPPON TRADING", text="invoice JP-9001", currency="JPY")
    tyrell = book.customer("Tyrell Corp")
    book.invoice(tyrell, "1201", "30.00")
    book.invoice(tyrell, "1202", "30.00")
    book.pay("30.00", payer="Tyrell Corp", iban="DE02100100100006820101", text="invoice 1201")
    cyberdyne = book.customer("Cyberdyne")
    book.invoice(cyberdyne, "1401", "100.00", issued=date(2026, 8, 1))
    book.invoice(cyberdyne, "1402", "100.00", po="PO-77")
    book.credit(cyberdyne, "CM-1", "40.00", reference="PO-77")
    book.invoice(book.customer("Harbor Foods GmbH"), "RE-2026-118", "1000.00", currency="EUR")
    ingest_files(store, [collection(tmp_path)])
    reconcile(store, rules_path=rules)
    book.pay(
        "30.00",
        payer="Tyrell Corp",
        iban="DE02100100100006820101",
        text="invoice 1201",
        day=date(2026, 11, 3),
    )
    ingest_files(store, [return_of_collection(tmp_path)])
    reconcile(store, rules_path=rules)
    report = build_report(store)
    data = json.loads(
        write_report(report, "json", tmp_path / "r.json").read_text(encoding="utf-8"),
        parse_float=Decimal,
    )
    with write_report(report, "csv", tmp_path / "r.csv").open(encoding="utf-8") as handle:
        csv_rows = list(csv.DictReader(handle))
    html = write_report(report, "html", tmp_path / "r.html").read_text(encoding="utf-8")
    return Reported(report, data, csv_rows, html, write_report(report, "xlsx", tmp_path / "r.xlsx"))


def money(amount: dict[str, str]) -> str:
    return f"{amount['amount']} {amount['currency']}"


def from_json(row: dict[str, Any]) -> dict[str, Any]:
    """What every format must say of a remittance, from the JSON model."""
    return {
        "decision_id": row["decision_id"],
        "status": row["status"],
        "exception_kind": row["exception_kind"],
        "rule": row["rule"],
        "amount": money(row["amount"]),
        "applications": sorted(
            (a["invoice_number"], money(a["amount"])) for a in row["applications"]
        ),
        "credits": sorted(
            (c["credit_memo"], c["invoice_number"], money(c["amount"])) for c in row["credits"]
        ),
        "deductions": sorted(
            (d["invoice_number"], money(d["amount"]), d["reason_code"]) for d in row["deductions"]
        ),
        "unapplied": money(row["unapplied"]),
        "evidence": row["evidence"],
        "resolve": row["resolve"],
    }


def by_payer(data: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {(r["payer"], r["amount"]["amount"], r["status"]): r for r in data["remittances"]}


def test_the_json_holds_every_kind_of_decision(reported: Reported) -> None:
    rows = by_payer(reported.data)
    assert len(rows) == len(reported.data["remittances"]) == 13
    rows2 = {(p, a): r for (p, a, _), r in rows.items() if p != "Tyrell Corp"}
    tyrell = [r["status"] for (p, _, _), r in rows.items() if p == "Tyrell Corp"]
    assert sorted(tyrell) == ["auto_applied", "exception"]
    seen = {k: from_json(r) for k, r in rows2.items()}
    # single and multi-invoice payments
    assert seen[("WONKA", "500.00")]["applications"] == [("3001", "500.00 USD")]
    assert seen[("INITECH", "100.00")]["applications"] == [
        ("1003", "40.00 USD"),
        ("1004", "60.00 USD"),
    ]
    # a credit memo netted off with the cash
    massive = seen[("Massive Dynamic", "300.00")]
    assert massive["credits"] == [("CM-71", "7101", "50.00 USD")]
    assert massive["rule"] == "customer_invoice_subset"
    # a short pay written off, an over-payment left unapplied, in yen without decimals
    assert seen[("STARK", "497.00")]["deductions"] == [("4001", "3.00 USD", "SHORTPAY")]
    assert seen[("WAYNE", "120.00")]["unapplied"] == "20.00 USD"
    nippon = seen[("NIPPON TRADING", "150500")]
    assert (nippon["amount"], nippon["unapplied"]) == ("150500 JPY", "500 JPY")
    assert nippon["applications"] == [("JP-9001", "150000 JPY")]
    # suggestions: several candidates; one whose top candidate takes a memo and writes off
    aperture = rows2[("Aperture Science", "50.00")]
    assert (aperture["status"], aperture["exception_kind"]) == ("suggested", "ambiguous")
    assert [c["invoices"][0]["number"] for c in aperture["candidates"]] == ["8001", "8002"]
    top = rows2[("GLOBEX", "847.00")]["candidates"][0]
    assert [(c["credit_memo"], c["amount"]) for c in top["credits"]] == [("CM-61", "150.00")]
    assert [(d["reason_code"], d["amount"]) for d in top["deductions"]] == [("SHORTPAY", "3.00")]
    # exceptions: unknown payer, duplicate, a return (EUR) undone with --reverse
    kinds = {k: r["exception_kind"] for k, r in rows.items() if r["status"] == "exception"}
    assert sorted(kinds.values()) == ["duplicate_payment", "returned_payment", "unidentified_payer"]
    returned = seen[("Harbor Foods GmbH", "-1000.00")]
    assert returned["resolve"] and returned["resolve"].endswith("--reverse")
    for row in rows.values():
        assert row["decision_id"] and row["rule"] and row["evidence"]
        if row["status"] in ("suggested", "exception"):
            assert row["resolve"].startswith(f"arsync resolve {row['decision_id']} ")
    # amounts are exact strings everywhere in the JSON, never numbers
    assert "150500.0" not in json.dumps(reported.report)
    assert reported.data["totals"]["cash"]["JPY"]["unapplied"] == {
        "amount": "500",
        "currency": "JPY",
    }
    [memo] = reported.data["credit_memos"]
    assert (memo["credit_memo"], memo["status"], memo["rule"]) == (
        "CM-1",
        "auto_applied",
        "credit_memo_reference",
    )
    assert memo["decision_id"] and memo["applications"] == [
        {"invoice_number": "1402", "amount": {"amount": "40.00", "currency": "USD"}}
    ]


def test_the_csv_carries_the_same_decisions(reported: Reported) -> None:
    assert list(reported.csv_rows[0])[: len(CSV_COLUMNS)] == CSV_COLUMNS
    grouped: dict[str, list[dict[str, str]]] = {}
    for line in reported.csv_rows:
        grouped.setdefault(line["remittance_id"], []).append(line)
    for row in reported.data["remittances"]:
        lines = grouped.pop(row["id"])
        first = lines[0]
        cur = first["currency"]
        assert all(line["currency"] == cur for line in lines)
        seen = {
            "decision_id": first["decision_id"],
            "status": first["status"],
            "exception_kind": first["exception_kind"] or None,
            "rule": first["rule"] or None,
            "amount": f"{first['amount']} {cur}",
            "applications": sorted(
                (line["invoice_number"], f"{line['applied']} {cur}")
                for line in lines
                if line["applied"]
            ),
            "credits": sorted(
                (line["credit_memo"], line["invoice_number"], f"{line['credited']} {cur}")
                for line in lines
                if line["credit_memo"]
            ),
            "deductions": sorted(
                (line["invoice_number"], f"{line['deduction']} {cur}", line["reason_code"])
                for line in lines
                if line["deduction"]
            ),
            "unapplied": f"{first['unapplied']} {cur}",
            "evidence": json.loads(first["evidence"], parse_float=Decimal),
            "resolve": first["resolve"] or None,
        }
        assert seen == from_json(row), row["payer"]
    # the credit memos' own decisions, with no remittance
    [memo] = grouped.pop("")
    assert (memo["credit_memo"], memo["invoice_number"], memo["credited"], memo["currency"]) == (
        "CM-1",
        "1402",
        "40.00",
        "USD",
    )
    assert memo["decision_id"] == reported.data["credit_memos"][0]["decision_id"]
    assert memo["rule"] == "credit_memo_reference" and json.loads(memo["evidence"])
    assert not grouped
    suggestion = next(r for r in reported.csv_rows if r["payer"] == "GLOBEX")
    assert "credit memos taken: CM-61 on 6001 150.00 USD" in suggestion["candidates"]
    assert "written off: 6001 3.00 USD SHORTPAY" in suggestion["candidates"]
    tie = next(r for r in reported.csv_rows if r["payer"] == "Aperture Science")
    assert "8001 50.00 USD" in tie["candidates"] and "8002 50.00 USD" in tie["candidates"]
    # what a payer wrote stays text in the columns added
    unknown = next(r for r in reported.csv_rows if r["payer"] == "Someone Else Entirely")
    assert unknown["reference"] == "'" + HOSTILE_TEXT


def sheet_rows(path: Path, title: str) -> tuple[list[str], list[dict[str, Any]], Any]:
    sheet = load_workbook(path)[title]
    header = [c.value for c in sheet[1]]
    rows = [
        {name: cell for name, cell in zip(header, cells, strict=True)}
        for cells in sheet.iter_rows(min_row=2)
    ]
    return header, rows, sheet


def parse_lines(text: str | None, parts: int) -> list[tuple[str, ...]]:
    """``"1003 40.00 USD; 1004 60.00 USD"`` back into its lines."""
    if not text:
        return []
    out: list[tuple[str, ...]] = []
    for item in text.split("; "):
        words = item.split(" ")
        if parts == 2:  # invoice, amount currency
            out.append((" ".join(words[:-2]), f"{words[-2]} {words[-1]}"))
        elif parts == 3:  # memo on invoice, amount currency
            memo, rest = item.split(" on ", 1)
            number, amount, cur = rest.rsplit(" ", 2)
            out.append((memo, number, f"{amount} {cur}"))
        else:  # invoice, amount currency, reason
            number, amount, cur, reason = item.rsplit(" ", 3)
            out.append((number, f"{amount} {cur}", reason))
    return sorted(out)


def exact(cell: Any, currency: str) -> str:
    """A number cell as the exact amount it holds, checked against its currency format."""
    assert cell.data_type == "n", cell.coordinate
    digits = len(Money("0", currency).to_json()["amount"].partition(".")[2])
    assert f'"{currency}"' in cell.number_format
    assert ("." + "0" * digits in cell.number_format) == bool(digits)
    value = Decimal(str(cell.value)).quantize(Decimal(1).scaleb(-digits))
    return f"{value} {currency}"


def test_the_xlsx_carries_the_same_decisions(reported: Reported) -> None:
    header, rows, _ = sheet_rows(reported.xlsx, "Remittances")
    assert header[: len(REMITTANCE_COLUMNS)] == REMITTANCE_COLUMNS
    by_id = {r["Remittance id"].value: r for r in rows}
    for row in reported.data["remittances"]:
        cells = by_id.pop(row["id"])
        cur = cells["Currency"].value
        seen = {
            "decision_id": cells["Decision"].value,
            "status": cells["Status"].value,
            "exception_kind": cells["Exception"].value or None,
            "rule": cells["Rule"].value or None,
            "amount": exact(cells["Amount"], cur),
            "applications": parse_lines(cells["Applied to"].value, 2),
            "credits": parse_lines(cells["Credit memos"].value, 3),
            "deductions": parse_lines(cells["Deductions"].value, 4),
            "unapplied": exact(cells["Unapplied"], cur),
            "evidence": json.loads(cells["Evidence"].value, parse_float=Decimal),
            "resolve": cells["Resolve with"].value or None,
        }
        assert seen == from_json(row), row["payer"]
        for column, lines in (
            ("Applied", row["applications"]),
            ("Credited", row["credits"]),
            ("Deducted", row["deductions"]),
        ):
            total = sum((Decimal(line["amount"]["amount"]) for line in lines), Decimal(0))
            assert exact(cells[column], cur) == f"{Money(total, cur).to_json()['amount']} {cur}"
    assert not by_id
    globex = next(r for r in rows if r["Payer"].value == "GLOBEX")
    assert globex["Status"].value == "suggested"
    assert "credit memos taken: CM-61 on 6001 150.00 USD" in globex["Candidates"].value
    assert "written off: 6001 3.00 USD SHORTPAY" in globex["Candidates"].value
    unknown = next(r for r in rows if r["Payer"].value == "Someone Else Entirely")
    assert unknown["Reference"].value == HOSTILE_TEXT and unknown["Reference"].data_type == "s"

    header, rows, _ = sheet_rows(reported.xlsx, "Exceptions")
    assert header[: len(EXCEPTION_COLUMNS)] == EXCEPTION_COLUMNS
    listed = {r["Decision"].value: r for r in rows}
    for kind, items in reported.data["exceptions"].items():
        for row in items:
            cells = listed.pop(row["decision_id"])
            assert (cells["Kind"].value, cells["Rule"].value) == (kind, row["rule"])
            assert cells["Resolve with"].value == row["resolve"]
            assert cells["Remittance id"].value == row["id"]
            assert json.loads(cells["Evidence"].value, parse_float=Decimal) == row["evidence"]
            for c in row["candidates"]:
                cur = c.get("currency") or row["amount"]["currency"]
                for i in c["invoices"]:
                    assert f"{i['number']} {i['amount']} {cur}" in cells["Candidates"].value
    assert not listed

    _, totals, _ = sheet_rows(reported.xlsx, "Totals")
    for line in totals:
        cur = line["Currency"].value
        for name in ("Received", "Applied", "Deductions", "Unapplied"):
            assert exact(line[name], cur) == money(
                reported.data["totals"]["cash"][cur][name.lower()]
            )


def test_the_xlsx_carries_the_credit_memos_own_decisions(reported: Reported) -> None:
    sheet = load_workbook(reported.xlsx)["Credit memos"]
    header = [cell.value for cell in sheet[1]]
    rows = {
        row[header.index("Decision")]: dict(zip(header, row, strict=True))
        for row in sheet.iter_rows(min_row=2, values_only=True)
    }
    for memo in reported.data["credit_memos"]:
        cells = rows[memo["decision_id"]]
        assert (cells["Credit memo"], cells["Status"], cells["Rule"]) == (
            memo["credit_memo"],
            memo["status"],
            memo["rule"],
        )
        credited = sum((Decimal(a["amount"]["amount"]) for a in memo["applications"]), Decimal(0))
        assert cells["Credited"] == credited
        for a in memo["applications"]:
            assert f"{a['invoice_number']} {a['amount']['amount']}" in cells["Applied to"]


def html_row(html: str, start: str, end: str, marker: str) -> str:
    section = html[html.index(start) : html.index(end)]
    [row] = [r for r in re.split(r"<tr>", section) if marker in r]
    return row


def test_the_html_carries_the_same_decisions(reported: Reported) -> None:
    html = reported.html

    def fmt(amount: dict[str, str]) -> str:
        return Money(amount["amount"], amount["currency"]).format()

    for row in reported.report["remittances"]:
        cells = html_row(
            html,
            "<h2>All remittances</h2>",
            "<h2>Credit memos</h2>",
            f"<code>{row['decision_id']}</code>",
        )
        assert f'<td class="num">{fmt(row["amount"])}</td>' in cells
        assert f'<td class="num">{fmt(row["unapplied"])}</td>' in cells
        assert f">{row['status'].replace('_', ' ')}" in cells
        assert f"<td>{row['rule']} " in cells
        for a in row["applications"]:
            assert f"<div>{a['invoice_number']} {fmt(a['amount'])}</div>" in cells
        for c in row["credits"]:
            assert (
                f"<div>{c['credit_memo']} on {c['invoice_number']} {fmt(c['amount'])}</div>"
                in cells
            )
        for d in row["deductions"]:
            assert (
                f"<div>{d['invoice_number']} {fmt(d['amount'])} {d['reason_code']}</div>" in cells
            )
        for key, value in row["evidence"].items():
            shown = htmlsafe_json_dumps(value, sort_keys=True)
            if key == "name_scores":  # each customer scored by name, not id
                named = ", ".join(f"{s['customer']} ({s['score']})" for s in value)
                assert f"<b>name scores</b>: {named}</div>" in cells, row["payer"]
                continue
            facts = f"<b>{key.replace('_', ' ')}</b>: <code>{shown}</code>"
            assert facts in cells, (row["payer"], key)
        if row["resolve"]:
            assert f"<code>{row['resolve']}</code>" in html
    # JPY without decimals, EUR with, each with its symbol
    assert "¥150,500" in html and "¥500" in html and "-€1,000.00" in html
    suggestions = html[html.index("<h2>Suggestions (1)</h2>") : html.index("<h2>All remittances")]
    assert "CM-61 on 6001 $150.00" in suggestions and "6001 $3.00 SHORTPAY" in suggestions
    ambiguous = html[html.index("<h3>ambiguous (1)</h3>") : html.index("<h2>Suggestions")]
    assert "8001 $50.00" in ambiguous and "8002 $50.00" in ambiguous
    memo = reported.data["credit_memos"][0]
    cells = html_row(
        html,
        "<h2>Credit memos</h2>",
        "<h2>Writes to the systems",
        f"<code>{memo['decision_id']}</code>",
    )
    assert "<td>CM-1</td>" in cells and "<div>1402 $40.00</div>" in cells
    assert "credit_memo_reference" in cells
