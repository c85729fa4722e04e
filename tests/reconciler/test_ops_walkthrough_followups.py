"""Follow-ups of an ops walkthrough: cash a person put on another customer's invoice and then
took back (``resolve --undo``) is the payer's unapplied cash in the report, not the cash of
the customer whose invoice it was on (the undo keeps that customer for the outbox's voids)."""

from __future__ import annotations

from canonical.store import Store
from reconciler import reconcile
from reconciler.confirm import confirm
from reconciler.report import build_report
from reconciler.reverse import undo
from tests.support.receivables import Book, decision


def _undone_on_another_customer(store: Store, payer: str, text: str) -> dict[str, str]:
    """A payment of 6527.96 that a person applied to Harborview's invoice 1019, then undid."""
    book = Book(store)
    cyberdyne = book.customer("Cyberdyne Systems Corp")
    book.invoice(cyberdyne, "2001", "1200.00")
    harbor = book.customer("Harborview Energy Ltd")
    book.invoice(harbor, "1019", "6527.96")
    cash = book.pay("6527.96", payer=payer, text=text)
    reconcile(store)
    made = confirm(store, decision(store, cash).id, by="person:bo", invoice_numbers=["1019"])
    assert made.customer_id == harbor
    undone = undo(store, made.id, by="person:ana", reason="Cyberdyne never owed Harborview's")
    assert undone.customer_id == harbor  # the outbox voids Harborview's writes from it
    return {"cash": cash, "cyberdyne": cyberdyne, "harbor": harbor, "decision": undone.id}


def _group_of(report: dict[str, object], cash: str) -> tuple[dict[str, object], dict[str, str]]:
    for group in report["unapplied_cash"]["customers"]:  # type: ignore[index]
        for item in group["items"]:
            if item["remittance_id"] == cash:
                return group, item
    raise AssertionError(f"remittance {cash} is not in the unapplied cash")


def test_undone_cash_of_a_known_payer_is_listed_under_the_payer(store: Store) -> None:
    ids = _undone_on_another_customer(store, "CYBERDYNE SYSTEMS CORP", "PAYMENT")
    report = build_report(store)
    group, item = _group_of(report, ids["cash"])
    # it was listed as Harborview's unapplied cash
    assert (group["customer_id"], group["customer"]) == (ids["cyberdyne"], "Cyberdyne Systems Corp")
    assert item["unapplied"] == {"amount": "6527.96", "currency": "USD"}
    assert item["reason"] == "decision_undone"
    step = item["next"]
    assert "Cyberdyne Systems Corp's invoices" in step
    assert "Harborview Energy Ltd" in step and "1019" in step  # where it was taken back from
    assert f"arsync resolve {ids['decision']} --by person:NAME" in step
    [row] = [r for r in report["remittances"] if r["id"] == ids["cash"]]
    assert row["customer"] == "Cyberdyne Systems Corp"
    # the payer's own invoice is no other customer's
    assert "not the payer's" not in (row["resolve"] or "")
    assert report["unapplied_cash"]["totals"]["USD"]["unapplied"]["amount"] == "6527.96"


def test_undone_cash_of_an_unknown_payer_is_listed_as_unidentified(store: Store) -> None:
    ids = _undone_on_another_customer(store, "J SMITH", "PAYMENT")
    report = build_report(store)
    group, item = _group_of(report, ids["cash"])
    assert (group["customer_id"], group["customer"]) == (None, None)
    step = item["next"]
    assert "no customer is known as the payer (J SMITH)" in step
    assert "find who paid" in step
    assert f"arsync resolve {ids['decision']} --by person:NAME --invoice NUMBER" in step
    assert item["resolve"].startswith(
        f"arsync resolve {ids['decision']} --by person:NAME --invoice"
    )


def test_undone_cash_the_payer_named_on_another_customers_invoice_is_the_payers(
    store: Store,
) -> None:
    ids = _undone_on_another_customer(store, "CYBERDYNE SYSTEMS CORP", "INV 1019")
    group, item = _group_of(build_report(store), ids["cash"])
    assert group["customer_id"] == ids["cyberdyne"]
    assert "Cyberdyne Systems Corp's invoices" in item["next"]
