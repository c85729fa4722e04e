"""The report's header counts what its sections list: a suggestion the reconciler gave a kind
(``invoice_already_paid``: the invoice named is paid, another open one fits the cash) is listed
under Exceptions, so it is counted there, never also as Suggested."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from canonical.enums import DocumentStatus
from canonical.models import Invoice
from canonical.store import Store
from reconciler import reconcile
from reconciler.report import build_report, render_html
from reconciler.rules import DEFAULT_RULES
from tests.support.receivables import Book, decision, ref


def _card(html: str, name: str) -> int:
    found = re.search(rf'<div class="card">{name}<b>(\d+)</b></div>', html)
    assert found, name
    return int(found.group(1))


def test_the_header_counts_agree_with_the_sections(sqlite_store: Store, tmp_path: Path) -> None:
    """Acme's 1029 is paid and 1031 owes 800.00: 800.00 naming 1029 is a suggestion of kind
    invoice_already_paid. Globex pays 250.00 naming 2001, with rules that only suggest
    on a structured reference: a plain suggestion. Nobody known pays 77.00: an exception."""
    book = Book(sqlite_store)
    acme = book.customer("Acme Corp")
    paid = book.invoice(acme, "1029", "500.00", issued=date(2026, 9, 1))
    book.invoice(acme, "1031", "800.00", issued=date(2026, 9, 15))
    with sqlite_store.session() as s:
        invoice = s.get(Invoice, paid)
        assert invoice is not None
        invoice.balance_minor, invoice.status = 0, DocumentStatus.PAID
        s.add(invoice)
    kinded = book.pay("800.00", payer="ACME CORP", refs=[ref("1029")])
    globex = book.customer("Globex Inc")
    book.invoice(globex, "2001", "250.00", issued=date(2026, 9, 1))
    plain = book.pay("250.00", payer="GLOBEX INC", refs=[ref("2001", "250.00")])
    book.pay("77.00", payer="Nobody Known Ltd")
    rules = tmp_path / "rules.toml"  # a structured reference is only suggested
    rules.write_text(
        DEFAULT_RULES.read_text().replace(
            "auto = true\nmin_confidence = 95", "auto = false\nmin_confidence = 95", 1
        )
    )
    reconcile(sqlite_store, rules_path=rules)
    assert (
        decision(sqlite_store, kinded).status,
        decision(sqlite_store, kinded).exception_kind,
    ) == (
        "suggested",
        "invoice_already_paid",
    )
    assert (decision(sqlite_store, plain).status, decision(sqlite_store, plain).exception_kind) == (
        "suggested",
        None,
    )

    report = build_report(sqlite_store)
    listed = sum(len(items) for items in report["exceptions"].values())
    suggestions = [
        r for r in report["remittances"] if r["status"] == "suggested" and not r["exception_kind"]
    ]
    assert (listed, len(suggestions)) == (2, 1)
    assert (report["totals"]["suggested"], report["totals"]["exceptions"]) == (1, 2)
    html = render_html(report)
    assert _card(html, "Suggested") == 1 and "<h2>Suggestions (1)</h2>" in html
    assert _card(html, "Exceptions") == 2
    headed = re.findall(r"<h3>[a-z ]+ \((\d+)\)</h3>", html.split("<h2>Exceptions by kind")[1])
    assert sum(map(int, headed)) == 2
