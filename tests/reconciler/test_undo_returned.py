"""The bank takes back a payment whose applied decision a person undid: the undone cash is no
longer there to apply. Confirming it to invoices is refused, naming the return and what to do
(close both with --dismiss), and the report offers no --invoice command for it."""

from __future__ import annotations

import pytest

from canonical.store import Store
from reconciler import reconcile
from reconciler.confirm import ConfirmError, confirm
from reconciler.dismiss import dismiss
from reconciler.report import build_report
from reconciler.reverse import undo
from tests.reconciler.test_reverse import commands, returned
from tests.reconciler.test_undo import auto, planner  # noqa: F401  (fixture)
from tests.support.receivables import balance, decision


def test_the_report_offers_no_invoice_for_cash_taken_back_after_an_undo(
    store: Store,
    auto: dict[str, str],  # noqa: F811
) -> None:
    made = undo(store, auto["cash"], by="person:ana", reason="paid INV-1002", sink=planner())
    back = returned(store, auto["cash"], "100.00")
    reconcile(store, sink=planner())
    report = build_report(store)
    rows = {r["id"]: r for r in report["remittances"]}
    still = rows[auto["cash"]]
    assert still["decision_id"] == made.id
    assert "--invoice" not in still["resolve"]
    assert still["resolve"].startswith(f"arsync resolve {made.id} --by person:NAME --dismiss")
    assert back in still["resolve"]
    # all of it taken back: no unapplied cash left to act on
    assert report["unapplied_cash"]["totals"] == {}
    assert report["totals"]["cash"]["USD"]["unapplied"]["amount"] == "0.00"


def test_confirming_undone_cash_after_its_return_is_refused(
    store: Store,
    auto: dict[str, str],  # noqa: F811
) -> None:
    made = undo(store, auto["cash"], by="person:ana", reason="paid INV-1002", sink=planner())
    back = returned(store, auto["cash"], "100.00")
    reconcile(store, sink=planner())
    ret = decision(store, back)
    before = len(commands(store, operation="apply_cash"))
    with pytest.raises(ConfirmError) as refused:
        confirm(store, made.id, by="person:ana", invoice_numbers=["INV-1002"], sink=planner())
    said = str(refused.value)
    assert made.id in said and back in said and ret.id in said and "--dismiss" in said
    assert balance(store, auto["i2"]) == ("100.00", "open")
    assert len(commands(store, operation="apply_cash")) == before
    # what it says to do works: both closed
    dismiss(store, ret.id, by="person:ana", reason="R01: the payment bounced", sink=planner())
    dismiss(store, made.id, by="person:ana", reason="R01: the payment bounced", sink=planner())
    report = build_report(store)
    assert report["exceptions"].get("decision_undone", []) == []
    assert report["exceptions"].get("returned_payment", []) == []


def test_confirming_cash_a_partial_return_takes_back_is_refused_naming_what_is_left(
    store: Store,
    auto: dict[str, str],  # noqa: F811
) -> None:
    made = undo(store, auto["cash"], by="person:ana", reason="paid INV-1002", sink=planner())
    returned(store, auto["cash"], "30.00")
    reconcile(store, sink=planner())
    with pytest.raises(ConfirmError, match=r"70\.00 USD left"):
        confirm(store, made.id, by="person:ana", invoice_numbers=["INV-1002"], sink=planner())
    [item] = [
        i
        for c in build_report(store)["unapplied_cash"]["customers"]
        for i in c["items"]
        if i["remittance_id"] == auto["cash"]
    ]
    assert (item["unapplied"]["amount"], item["reason"]) == ("70.00", "returned_in_part")
    assert "by hand" in item["next"] and "--dismiss" in item["next"]


def test_the_undo_of_a_payment_with_an_open_return_is_refused(
    store: Store,
    auto: dict[str, str],  # noqa: F811
) -> None:
    back = returned(store, auto["cash"], "100.00")
    reconcile(store, sink=planner())
    with pytest.raises(ConfirmError, match="--reverse") as refused:
        undo(store, auto["cash"], by="person:ana", reason="wrong", sink=planner())
    assert decision(store, back).id in str(refused.value)
