"""A payment naming no invoice waits for a person to ask the customer which invoices it pays:
the report's next step gives the command with ``--invoice NUMBER``, never the bare one that
would apply the oldest-open-invoices suggestion (score 30) the text says not to rely on."""

from __future__ import annotations

from datetime import date

from canonical.store import Store
from reconciler import reconcile
from reconciler.report import build_report, render_html
from tests.support.receivables import Book, decision


def test_the_next_step_for_cash_naming_no_invoice_names_the_invoices(
    sqlite_store: Store,
) -> None:
    """Acme owes 7001 (60.00) and 7002 (900.00); 100.00 comes from Acme naming nothing."""
    book = Book(sqlite_store)
    acme = book.customer("Acme Corp")
    book.invoice(acme, "7001", "60.00")
    book.invoice(acme, "7002", "900.00")
    paid = book.pay("100.00", payer="Acme Corp", day=date(2026, 11, 10))
    reconcile(sqlite_store)
    found = decision(sqlite_store, paid)
    assert found.exception_kind == "no_matching_invoice"
    assert found.candidates and "oldest open invoices" in found.candidates[0]["why"]

    report = build_report(sqlite_store)
    [group] = report["unapplied_cash"]["customers"]
    [item] = group["items"]
    assert item["reason"] == "no_invoice_named"
    named = f"arsync resolve {found.id} --by person:NAME --invoice NUMBER"
    assert "ask Acme Corp which invoices it pays" in item["next"]
    assert f"`{named}`" in item["next"]
    assert item["resolve"] == named  # the command shown beside the next step agrees
    section = render_html(report).split("<h2>Unapplied cash to act on</h2>")[1].split("<h2>")[0]
    assert f"<code>{named}</code>" in section
    assert f"<code>arsync resolve {found.id} --by person:NAME</code>" not in section
