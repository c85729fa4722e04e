"""A payment naming an invoice that exists but is paid (or void): its own exception naming
the invoice and what paid it, never cash placed on the payer's oldest open invoice by
default; the same payment again stays a ``duplicate_payment``."""

from __future__ import annotations

from datetime import date

import pytest

from canonical.enums import DocumentStatus
from canonical.models import Invoice
from canonical.store import Store
from reconciler import reconcile
from reconciler.report import build_report
from tests.support.receivables import Book, applied, decision, ref

pytestmark = pytest.mark.usefixtures("book_loading")


def _set(store: Store, invoice_id: str, status: DocumentStatus, balance: int = 0) -> None:
    with store.session() as s:
        invoice = s.get(Invoice, invoice_id)
        assert invoice is not None
        invoice.balance_minor = balance
        invoice.status = status
        s.add(invoice)


def _acme(store: Store) -> tuple[Book, str, str]:
    """Acme owes 1030 (300.00, its oldest) and 1031 (800.00); 1029 (500.00) is paid by a
    transfer a month ago. Returns the book, the customer and the transfer."""
    book = Book(store)
    acme = book.customer("Acme Corp")
    book.invoice(acme, "1029", "500.00", issued=date(2026, 9, 1))
    book.invoice(acme, "1030", "300.00", issued=date(2026, 8, 1))
    book.invoice(acme, "1031", "800.00", issued=date(2026, 9, 15))
    first = book.pay("500.00", payer="ACME CORP", refs=[ref("INV-01029")], day=date(2026, 10, 2))
    reconcile(store)
    assert applied(store, first) == {"1029": "500.00"}
    return book, acme, first


def test_a_paid_invoice_named_is_said_so_with_what_paid_it(store: Store) -> None:
    book, _, first = _acme(store)
    again = book.pay("500.00", payer="ACME CORP", refs=[ref("INV-01029")])
    reconcile(store)
    found = decision(store, again)
    assert found.status == "exception"
    assert found.exception_kind == "invoice_already_paid"
    assert applied(store, again) == {}
    # no invoice is offered by default: not the oldest open one, nor any other
    assert not any(c.get("invoices") for c in found.candidates)
    (named,) = found.evidence["invoices_not_open"]
    assert named["invoice"] == "1029" and named["status"] == "paid"
    assert named["written"] == "INV-01029"
    (paid,) = named["paid_by"]
    assert paid["remittance_id"] == first
    assert paid["decision_id"] == decision(store, first).id
    assert paid["amount"] == "500.00" and paid["on"]
    assert "duplicate" in found.evidence["action"]


def test_the_report_lists_it_and_prints_no_oldest_first_command(store: Store) -> None:
    book, _, _ = _acme(store)
    again = book.pay("500.00", payer="ACME CORP", refs=[ref("INV-01029")])
    reconcile(store)
    report = build_report(store)
    (row,) = report["exceptions"]["invoice_already_paid"]
    assert row["id"] == again
    assert "--invoice NUMBER" in row["resolve"] and "--dismiss" in row["resolve"]


def test_an_invoice_number_in_text_that_is_paid(store: Store) -> None:
    book, _, first = _acme(store)
    again = book.pay("500.00", payer="ACME CORP", text="PAYMENT INV 1029 THANK YOU")
    reconcile(store)
    found = decision(store, again)
    assert found.exception_kind == "invoice_already_paid"
    assert not any(c.get("invoices") for c in found.candidates)
    assert found.evidence["invoices_not_open"][0]["paid_by"][0]["remittance_id"] == first


def test_a_void_invoice_named(store: Store) -> None:
    book = Book(store)
    acme = book.customer("Acme Corp")
    voided = book.invoice(acme, "1029", "500.00", issued=date(2026, 9, 1))
    book.invoice(acme, "1030", "300.00", issued=date(2026, 8, 1))
    book.invoice(acme, "1031", "800.00", issued=date(2026, 9, 15))
    _set(store, voided, DocumentStatus.VOID)
    pay = book.pay("500.00", payer="ACME CORP", refs=[ref("1029")])
    reconcile(store)
    found = decision(store, pay)
    assert found.exception_kind == "invoice_void"
    assert applied(store, pay) == {}
    assert not any(c.get("invoices") for c in found.candidates)
    (named,) = found.evidence["invoices_not_open"]
    assert named["invoice"] == "1029" and named["status"] == "void"


def test_paid_in_the_same_run_by_another_payment(store: Store) -> None:
    """Two transfers in one file both name 1029: the first pays it, the second is told so,
    naming the first."""
    book = Book(store)
    acme = book.customer("Acme Corp")
    book.invoice(acme, "1029", "500.00", issued=date(2026, 9, 1))
    book.invoice(acme, "1030", "300.00", issued=date(2026, 8, 1))
    first = book.pay("500.00", payer="ACME CORP", refs=[ref("1029")], day=date(2026, 11, 1))
    second = book.pay("450.00", payer="ACME CORP", refs=[ref("1029")], day=date(2026, 11, 2))
    reconcile(store)
    assert applied(store, first) == {"1029": "500.00"}
    found = decision(store, second)
    assert found.exception_kind == "invoice_already_paid"
    assert applied(store, second) == {}
    paid = found.evidence["invoices_not_open"][0]["paid_by"][0]
    assert paid["remittance_id"] == first
    assert paid["decision_id"] == decision(store, first).id


def test_paid_outside_arsync_names_the_systems_payment(store: Store) -> None:
    """Paid in the ERP and pulled as such: no application arsync made, so it names none."""
    book = Book(store)
    acme = book.customer("Acme Corp")
    paid = book.invoice(acme, "1029", "500.00", issued=date(2026, 9, 1))
    book.invoice(acme, "1030", "300.00", issued=date(2026, 8, 1))
    _set(store, paid, DocumentStatus.PAID)
    pay = book.pay("500.00", payer="ACME CORP", refs=[ref("1029")])
    reconcile(store)
    found = decision(store, pay)
    assert found.exception_kind == "invoice_already_paid"
    assert found.evidence["invoices_not_open"][0]["paid_by"] == []
    assert not any(c.get("invoices") for c in found.candidates)


def test_a_fit_for_another_open_invoice_stays_a_candidate(store: Store) -> None:
    """The cash is exactly what 1031 owes: 1029 may be a slip for it. Offered, not applied."""
    book, _, _ = _acme(store)
    pay = book.pay("800.00", payer="ACME CORP", refs=[ref("1029")])
    reconcile(store)
    found = decision(store, pay)
    assert (found.status, found.exception_kind) == ("suggested", "invoice_already_paid")
    assert applied(store, pay) == {}
    assert [i["number"] for i in found.candidates[0]["invoices"]] == ["1031"]
    (row,) = build_report(store)["exceptions"]["invoice_already_paid"]
    assert row["id"] == pay and row["resolve"].endswith("--by person:NAME")


def test_another_customers_paid_invoice_of_that_number_is_not_claimed(store: Store) -> None:
    """Globex's 1029 is paid; Acme names 1029, which Acme does not have: not said paid."""
    book = Book(store)
    acme = book.customer("Acme Corp")
    globex = book.customer("Globex Inc")
    book.invoice(acme, "1030", "300.00", issued=date(2026, 8, 1))
    _set(store, book.invoice(globex, "1029", "500.00"), DocumentStatus.PAID)
    pay = book.pay("500.00", payer="ACME CORP", refs=[ref("1029")])
    reconcile(store)
    found = decision(store, pay)
    assert found.exception_kind not in ("invoice_already_paid", "invoice_void")
    assert "invoices_not_open" not in found.evidence


def test_the_same_payment_through_another_channel_stays_a_duplicate(store: Store) -> None:
    """The bank's line paid 1029; the processor's event of that payment names it a day
    later: the duplicate case, as before."""
    book = Book(store)
    acme = book.customer("Acme Corp")
    book.invoice(acme, "1029", "500.00")
    book.invoice(acme, "1030", "300.00", issued=date(2026, 8, 1))
    bank = book.pay("500.00", payer="ACME CORP", text="INV 1029", source="camt.054")
    reconcile(store)
    assert applied(store, bank) == {"1029": "500.00"}
    hook = book.pay(
        "500.00", payer="ACME CORP", refs=[ref("1029")], day=date(2026, 11, 3), source="stripe"
    )
    reconcile(store)
    found = decision(store, hook)
    assert found.exception_kind == "duplicate_payment"
    assert found.evidence["duplicate_of"]["remittance_id"] == bank


def test_the_same_file_line_again_stays_a_duplicate(store: Store) -> None:
    book = Book(store)
    acme = book.customer("Acme Corp")
    book.invoice(acme, "1029", "500.00")
    first = book.pay("500.00", payer="ACME CORP", refs=[ref("1029")])
    reconcile(store)
    again = book.pay("500.00", payer="ACME CORP", refs=[ref("1029")], day=date(2026, 11, 3))
    reconcile(store)
    assert applied(store, first) == {"1029": "500.00"}
    found = decision(store, again)
    assert found.exception_kind == "duplicate_payment"


def test_an_over_payment_says_why_cash_is_left_unapplied(store: Store) -> None:
    """500.00 more than 1031 owes: applied to 1031, the rest the customer's credit, and the
    decision says so in words the report shows."""
    book, _, _ = _acme(store)
    pay = book.pay("1300.00", payer="ACME CORP", refs=[ref("INV-01031")])
    reconcile(store)
    found = decision(store, pay)
    assert found.status == "auto_applied" and found.unapplied_minor == 50000
    assert applied(store, pay) == {"1031": "800.00"}
    assert found.evidence["unapplied_because"].startswith(
        "over-payment of invoice 1031 by 500.00 USD: left unapplied"
    )
    (row,) = [r for r in build_report(store)["remittances"] if r["id"] == pay]
    assert row["unapplied"] == {"amount": "500.00", "currency": "USD"}
    assert "over-payment of invoice 1031" in row["evidence"]["unapplied_because"]


def test_a_payment_naming_a_paid_and_an_open_invoice_keeps_its_open_candidate(
    store: Store,
) -> None:
    """1029 paid, 1031 open (800.00); 500.00 naming both is a short pay of 1031, decided by
    the open invoice it names: it was relabelled as naming only paid invoices, and the
    candidate for 1031 lost."""
    from tests.support.receivables import Book as Receivables
    from tests.support.receivables import applied, decision, ref

    book = Receivables(store)
    acme = book.customer("Acme Corp")
    book.invoice(acme, "1029", "500.00", issued=date(2026, 9, 1))
    book.invoice(acme, "1031", "800.00", issued=date(2026, 9, 15))
    first = book.pay("500.00", payer="ACME CORP", refs=[ref("INV-01029")], day=date(2026, 10, 2))
    reconcile(store)
    assert applied(store, first) == {"1029": "500.00"}
    for how in ({"refs": [ref("1029"), ref("1031")]}, {"text": "INV 1029 INV 1031"}):
        pay = book.pay("500.00", payer="ACME CORP", **how)
        reconcile(store)
        found = decision(store, pay)
        assert found.exception_kind != "invoice_already_paid"
        numbers = [line["number"] for c in found.candidates for line in c.get("invoices") or []]
        assert "1031" in numbers
