"""A payer name learned from one person's confirmation, when many unrelated payments carry it
(a name several unrelated payers carry, here OAKWOOD TRADING; a bank's placeholder such as
UNKNOWN REMITTER LTD is never learned at all), and what the run summary counts.

1. Learned from one confirmation, the name alone made the other payments bearing it that
   customer's exceptions, even in currencies it bills nothing in (``currency_mismatch`` for
   cash that fits another customer's invoice exactly). A learned name alone no longer does
   that; in the customer's own currency it still names the customer.
2. Once a person has attributed payments of that name to two customers, the name is kept as
   shared; the payments the name had placed on the first customer stayed that customer's
   exceptions for good. They are decided again.
3. The run summary: applied + suggested + exceptions is the remittances decided (an advice
   contradicting applied cash was counted among the exceptions of no remittance), and its
   match rate is the report's (a bank fee lowered it).
"""

from __future__ import annotations

import re
from datetime import date

import pytest

from canonical.enums import RemittanceStatus
from canonical.models import Remittance
from canonical.money import Money
from canonical.store import Store
from reconciler import reconcile
from reconciler.confirm import confirm
from reconciler.engine import ReconcileSummary
from reconciler.report import build_report
from tests.support.receivables import Book, decision, ref

pytestmark = pytest.mark.usefixtures("book_loading")

GENERIC = "OAKWOOD TRADING"


def _adds_up(summary: ReconcileSummary) -> None:
    """The printed head counts add up to the remittances it names."""
    head = re.match(
        r"(\d+) remittances: (\d+) applied, (\d+) suggested, (\d+) exceptions", str(summary)
    )
    assert head, str(summary)
    total, *parts = (int(n) for n in head.groups())
    assert total == sum(parts) == summary.remittances, str(summary)


def test_a_generic_name_learned_once_moves_no_cash_of_other_currencies(
    store: Store, book: Book
) -> None:
    granite = book.customer("Granite Textiles Ltd")
    fabrikam = book.customer("Fabrikam GmbH")
    contoso = book.customer("Contoso UK Ltd")
    book.invoice(granite, "INV-01621", "46.10")
    book.invoice(granite, "INV-01622", "300.00")
    book.invoice(fabrikam, "INV-02001", "812.40", currency="EUR")
    book.invoice(contoso, "INV-03001", "120.00", currency="GBP")
    first = book.pay("46.10", payer=GENERIC, text="ref 99887766")
    euros = book.pay("812.40", payer=GENERIC, currency="EUR", text="ref 99887766")
    pounds = book.pay("120.00", payer=GENERIC, currency="GBP", text="ref 99887766")
    dollars = book.pay("871.49", payer=GENERIC, text="ref 99887766")
    reconcile(store)
    assert all(
        decision(store, rid).exception_kind == "unidentified_payer"
        for rid in (first, euros, pounds, dollars)
    )
    confirm(store, decision(store, first).id, by="person:ana", invoice_numbers=["INV-01621"])
    summary = reconcile(store)
    for rid in (euros, pounds):
        d = decision(store, rid)
        assert (d.status, d.exception_kind, d.customer_id) == (
            "exception",
            "unidentified_payer",
            None,
        ), d.evidence
        assert "customer_from" not in d.evidence
        assert d.evidence["learned_name_not_used"]["customer_id"] == granite
    # in the customer's own currency the learned name still names it (nothing else can)
    d = decision(store, dollars)
    assert (d.customer_id, d.evidence["customer_from"]) == (granite, "learned name")
    # the payments decided again are among the remittances counted
    assert summary.late == summary.remittances == 3
    _adds_up(summary)


def test_a_name_found_shared_no_longer_holds_what_it_placed(store: Store, book: Book) -> None:
    granite = book.customer("Granite Textiles Ltd")
    fabrikam = book.customer("Fabrikam GmbH")
    book.invoice(granite, "INV-01621", "46.10")
    book.invoice(granite, "INV-01622", "300.00")
    book.invoice(fabrikam, "INV-02001", "500.00")
    first = book.pay("46.10", payer=GENERIC, text="ref 1")
    second = book.pay("500.00", payer=GENERIC, text="ref 2")
    third = book.pay("999.99", payer=GENERIC, text="ref 3")
    reconcile(store)
    confirm(store, decision(store, first).id, by="person:ana", invoice_numbers=["INV-01621"])
    reconcile(store)
    placed = decision(store, third)
    assert (placed.customer_id, placed.evidence["customer_from"]) == (granite, "learned name")
    # a person says the name's next payment is another customer's: the name is shared
    confirm(store, decision(store, second).id, by="person:ana", invoice_numbers=["INV-02001"])
    summary = reconcile(store)
    d = decision(store, third)
    assert d.id != placed.id
    assert (d.exception_kind, d.customer_id) == ("unidentified_payer", None)
    assert d.evidence["decided_again"]["payer_no_longer_known"] == (
        "its name was found paying for several customers"
    )
    assert d.evidence["supersedes_decision"] == placed.id
    assert summary.late == 1
    # asked once: the next run leaves it be
    again = reconcile(store)
    assert again.remittances == 0 and decision(store, third).id == d.id


def _advice(store: Store, amount: str, payer: str, refs: list[dict[str, str | None]]) -> str:
    """An 820 advice without cash (BPR01 ``I``) as ingest stores it."""
    with store.session() as s:
        row = Remittance(
            source="edi820",
            source_file="payer.edi",
            source_key=f"advice-{payer}-{amount}",
            currency="USD",
            amount_minor=Money(amount, "USD").minor,
            value_date=date(2026, 11, 3),
            payer_name=payer,
            structured_refs=refs,
            status=RemittanceStatus.ADVICE,
        )
        s.add(row)
    return row.id


def test_an_advice_contradicting_applied_cash_is_counted_apart(store: Store, book: Book) -> None:
    """Before: ``0 remittances: 0 applied, 0 suggested, 1 exceptions
    (advice_contradicts_applied 1)``: an exception of no remittance counted."""
    initech = book.customer("Initech LLC")
    for number, amount in (("7101", "640.00"), ("7102", "400.00"), ("7103", "240.00")):
        book.invoice(initech, number, amount)
    cash = book.pay("640.00", payer="INITECH LLC", text="ACH CREDIT", source="bai2")
    reconcile(store)
    assert decision(store, cash).rule == "customer_exact_balance"
    _advice(store, "640.00", "INITECH LLC", [ref("7102", "400.00"), ref("7103", "240.00")])
    summary = reconcile(store)
    assert summary.exceptions["advice_contradicts_applied"] == 1
    _adds_up(summary)
    assert "1 advices contradict applied cash" in str(summary)


def test_the_summary_match_rate_is_the_reports(store: Store, book: Book) -> None:
    """A bank fee (cash going out) is no payment to match: the report leaves it out of the
    match rate; the run summary said 50.0% where the report says 100.0%."""
    acme = book.customer("Acme Widgets LLC")
    book.invoice(acme, "9181", "100.00")
    book.pay("100.00", payer="ACME WIDGETS", text="INV 9181")
    book.pay("-12.50", payer="BANK", text="ACCOUNT FEE")
    summary = reconcile(store)
    assert summary.exceptions["not_incoming_cash"] == 1
    assert f"{summary.match_rate}%" == build_report(store)["totals"]["match_rate"] == "100.0%"
    assert "match rate 100.0%" in str(summary)
    _adds_up(summary)


def test_a_name_forgotten_by_an_undo_no_longer_holds_what_it_placed(
    store: Store, book: Book
) -> None:
    from reconciler.reverse import undo

    granite = book.customer("Granite Textiles Ltd")
    book.invoice(granite, "INV-01621", "46.10")
    first = book.pay("46.10", payer=GENERIC, text="ref 1")
    other = book.pay("999.99", payer=GENERIC, text="ref 2")
    reconcile(store)
    confirm(store, decision(store, first).id, by="person:ana", invoice_numbers=["INV-01621"])
    reconcile(store)
    placed = decision(store, other)
    assert (placed.customer_id, placed.evidence["customer_from"]) == (granite, "learned name")
    undo(store, first, by="person:ana", reason="not Granite's payment")
    reconcile(store)
    d = decision(store, other)
    assert (d.exception_kind, d.customer_id) == ("unidentified_payer", None)
    assert "forgotten" in d.evidence["decided_again"]["payer_no_longer_known"]
