"""Unapplied cash and returns: ``unapplied_cash.totals`` is ``totals.cash.unapplied`` per
currency once a person reversed a partial return (the bank took back 30.00 of a 100.00 payment:
the 70.00 kept is paid to no invoice, listed with why and what to do); and cash whose applied
decision a person undid says why, in the person's words."""

from __future__ import annotations

from typing import Any

from canonical.store import Store
from reconciler import reconcile
from reconciler.report import build_report
from reconciler.reverse import reverse, undo
from sync.outbox.plan import OutboxPlanner
from tests.reconciler.test_reverse import ALL, returned
from tests.reconciler.test_undo import auto, planner  # noqa: F401  (fixture)
from tests.support.receivables import decision
from tests.sync.outbox.books import Book


def _tie(report: dict[str, Any]) -> tuple[str, str]:
    """(totals.cash.USD.unapplied, unapplied_cash.totals.USD.unapplied)."""
    listed = report["unapplied_cash"]["totals"].get("USD", {}).get("unapplied", {})
    return report["totals"]["cash"]["USD"]["unapplied"]["amount"], listed.get("amount", "0.00")


def _items(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        i["remittance_id"]: i for c in report["unapplied_cash"]["customers"] for i in c["items"]
    }


def test_a_partial_return_reversed_ties_out_and_lists_the_cash_kept(store: Store) -> None:
    book = Book(store)
    acme = book.customer("Acme Corp", ALL)
    book.invoice(acme, "INV-1001", "100.00", ALL)
    cash = book.remittance("Acme Corp", "100.00", "INV-1001")
    sink = OutboxPlanner("default", list(ALL))
    reconcile(store, sink=sink)
    back = returned(store, cash, "30.00")
    reconcile(store, sink=sink)
    assert _tie(build_report(store)) == ("0.00", "0.00")  # the return waits: nothing kept yet
    reverse(store, decision(store, back).id, by="person:ana", sink=sink)
    report = build_report(store)
    assert _tie(report) == ("70.00", "70.00")
    item = _items(report)[cash]
    assert (item["unapplied"]["amount"], item["reason"], item["status"]) == (
        "70.00",
        "returned_in_part",
        "reversed",
    )
    assert back in item["why"] and "30.00" in item["why"] and "70.00" in item["why"]
    assert "by hand" in item["next"] and item["resolve"] is None
    assert not item["in_exceptions"]
    assert report["unapplied_cash"]["customers"][0]["customer"] == "Acme Corp"


def test_a_whole_return_reversed_lists_nothing(store: Store) -> None:
    book = Book(store)
    acme = book.customer("Acme Corp", ALL)
    book.invoice(acme, "INV-1001", "100.00", ALL)
    cash = book.remittance("Acme Corp", "100.00", "INV-1001")
    sink = OutboxPlanner("default", list(ALL))
    reconcile(store, sink=sink)
    back = returned(store, cash, "100.00")
    reconcile(store, sink=sink)
    reverse(store, decision(store, back).id, by="person:ana", sink=sink)
    report = build_report(store)
    assert _tie(report) == ("0.00", "0.00")
    assert report["unapplied_cash"]["customers"] == []


def test_undone_cash_says_why_in_the_persons_words(
    store: Store,
    auto: dict[str, str],  # noqa: F811
) -> None:
    made = undo(
        store, auto["cash"], by="person:ana", reason="the customer meant INV-1002", sink=planner()
    )
    report = build_report(store)
    item = _items(report)[auto["cash"]]
    assert item["reason"] == "decision_undone" and item["in_exceptions"]
    assert "the customer meant INV-1002" in item["why"]
    assert "person:ana" in item["why"] and made.evidence["undone"] in item["why"]
    assert _tie(report) == ("100.00", "100.00")


def test_a_return_not_reconciled_yet_waits_apart_from_another_payers_unapplied_cash(
    store: Store,
) -> None:
    """HEAD counted the 100.00 taken back, before the reconciler saw it, as unapplied: 40.00
    of another payer's unapplied cash showed as -60.00 in ``totals.cash``, not as the 40.00
    ``unapplied_cash`` lists."""
    book = Book(store)
    acme = book.customer("Acme Corp", ALL)
    book.invoice(acme, "INV-1001", "100.00", ALL)
    paid = book.remittance("Acme Corp", "100.00", "INV-1001")
    book.remittance("Nobody Known", "40.00", "no reference")
    reconcile(store)
    returned(store, paid, "100.00")
    report = build_report(store)
    cash = {k: v["amount"] for k, v in report["totals"]["cash"]["USD"].items()}
    assert (cash["received"], cash["applied"]) == ("40.00", "100.00")
    assert (cash["unapplied"], cash["returns_pending"]) == ("40.00", "-100.00")
    assert _tie(report) == ("40.00", "40.00")
    reconcile(store)
    assert _tie(build_report(store)) == ("40.00", "40.00")
