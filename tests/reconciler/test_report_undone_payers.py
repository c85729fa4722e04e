"""Cash a person undid is listed under who sent it: the payer the rules or the store know, never
merely the customer whose invoices it was on (a parent paying a subsidiary's invoice, a match
to the wrong customer); and under a payer learned after the undo."""

from __future__ import annotations

from typing import Any

from canonical.store import Store
from reconciler import reconcile
from reconciler.confirm import confirm
from reconciler.report import build_report
from reconciler.reverse import undo
from tests.support.receivables import Book, decision, ref

IBAN = "DE89370400440532013000"


def _listed(store: Store, cash: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The unapplied-cash group and item of the remittance, and its remittances row."""
    report = build_report(store)
    [row] = [r for r in report["remittances"] if r["id"] == cash]
    for group in report["unapplied_cash"]["customers"]:
        for item in group["items"]:
            if item["remittance_id"] == cash:
                return group, item, row
    raise AssertionError(f"remittance {cash} is not in the unapplied cash")


def _parent_paid_subsidiary(store: Store, book: Book) -> dict[str, str]:
    """ACME HOLDINGS PLC (no customer of that name) paid Acme Widgets' invoice 1019 naming
    it; the rules applied it there, and a person undid that."""
    widgets = book.customer("Acme Widgets Ltd")
    book.invoice(widgets, "1019", "6527.96")
    cash = book.pay("6527.96", payer="ACME HOLDINGS PLC", iban=IBAN, refs=[ref("1019", "6527.96")])
    reconcile(store)
    applied = decision(store, cash)
    assert (applied.status, applied.decided_by, applied.customer_id) == (
        "auto_applied",
        "reconciler",
        widgets,
    )
    undone = undo(store, cash, by="person:ana", reason="the holding company's, not Widgets'")
    assert undone.customer_id == widgets  # the outbox voids Widgets' writes from it
    return {"cash": cash, "widgets": widgets, "decision": undone.id}


def test_undone_rules_cash_on_another_customers_invoice_is_not_that_customers(
    store: Store,
) -> None:
    ids = _parent_paid_subsidiary(store, Book(store))
    group, item, row = _listed(store, ids["cash"])
    # it was listed as Acme Widgets' unapplied cash, its payer taken to be Widgets
    assert (group["customer_id"], group["customer"]) == (None, None)
    assert row["customer"] is None
    step = item["next"]
    assert "no customer is known as the payer (ACME HOLDINGS PLC)" in step
    assert "taken back from Acme Widgets Ltd's invoice 1019" in step
    assert f"arsync resolve {ids['decision']} --by person:NAME --invoice NUMBER" in step


def test_undone_rules_cash_is_the_payers_once_its_iban_is_learned(store: Store) -> None:
    book = Book(store)
    ids = _parent_paid_subsidiary(store, book)
    group = book.customer("Acme Group")
    book.invoice(group, "3001", "450.00")
    # the parent pays again from the same account; a person applies it to its own invoice
    later = book.pay("450.00", payer="ACME HOLDINGS PLC", iban=IBAN, text="PAYMENT")
    reconcile(store)
    confirm(store, decision(store, later).id, by="person:bo", invoice_numbers=["3001"])
    found, item, row = _listed(store, ids["cash"])
    assert (found["customer_id"], found["customer"]) == (group, "Acme Group")
    assert row["customer"] == "Acme Group"
    assert "apply it to Acme Group's invoices" in item["next"]
    assert "Acme Widgets Ltd is not the payer" in item["next"]


def test_undone_cash_of_an_unknown_payer_moves_to_the_payer_learned_after(
    store: Store,
) -> None:
    book = Book(store)
    cyberdyne = book.customer("Cyberdyne Systems Corp")
    book.invoice(cyberdyne, "2001", "1200.00")
    harbor = book.customer("Harborview Energy Ltd")
    book.invoice(harbor, "1019", "6527.96")
    cash = book.pay("6527.96", payer="J SMITH", text="PAYMENT")
    reconcile(store)
    made = confirm(store, decision(store, cash).id, by="person:bo", invoice_numbers=["1019"])
    undo(store, made.id, by="person:ana", reason="not Harborview's")
    assert _listed(store, cash)[0]["customer_id"] is None
    # J SMITH pays again and a person applies it to Cyberdyne's invoice: the name is learned
    later = book.pay("1200.00", payer="J SMITH", text="PAYMENT")
    reconcile(store)
    confirm(store, decision(store, later).id, by="person:bo", invoice_numbers=["2001"])
    group, item, row = _listed(store, cash)
    # it stayed listed with no payer known
    assert (group["customer_id"], group["customer"]) == (cyberdyne, "Cyberdyne Systems Corp")
    assert row["customer"] == "Cyberdyne Systems Corp"
    assert "apply it to Cyberdyne Systems Corp's invoices" in item["next"]


def test_undone_rules_cash_of_a_payer_bearing_the_customers_name_stays_its(
    store: Store,
) -> None:
    book = Book(store)
    acme = book.customer("Acme Corp")
    book.invoice(acme, "INV-1001", "100.00")
    book.invoice(acme, "INV-1002", "100.00")
    cash = book.pay("100.00", payer="ACME CORP", text="INV-1001")
    reconcile(store)
    assert decision(store, cash).status == "auto_applied"
    undo(store, cash, by="person:ana", reason="the customer meant INV-1002")
    group, item, _ = _listed(store, cash)
    assert (group["customer_id"], group["customer"]) == (acme, "Acme Corp")
    assert "apply it to Acme Corp's invoices with" in item["next"]


def test_undone_rules_cash_of_a_payer_known_by_its_iban_stays_its(store: Store) -> None:
    book = Book(store)
    cyberdyne = book.customer("Cyberdyne Systems Corp")
    book.invoice(cyberdyne, "2001", "300.00")
    book.invoice(cyberdyne, "2002", "300.00")
    book.invoice(cyberdyne, "2003", "300.00")
    first = book.pay("300.00", payer="CDS TREASURY", iban=IBAN, refs=[ref("2001", "300.00")])
    reconcile(store)
    assert decision(store, first).status == "auto_applied"  # the IBAN is learned for it
    cash = book.pay("300.00", payer="CDS TREASURY", iban=IBAN, refs=[ref("2002", "300.00")])
    reconcile(store)
    assert decision(store, cash).evidence.get("customer_from") == "learned iban"
    undo(store, cash, by="person:ana", reason="it paid 2003")
    group, _, _ = _listed(store, cash)
    assert (group["customer_id"], group["customer"]) == (cyberdyne, "Cyberdyne Systems Corp")
