"""A return that, with the returns already standing against its payment, takes back more than
the payment (the same return reported in two files, or the bank taking the money twice) takes
nothing back: it is a ``return_exceeds_payment`` exception for a person, and the report's two
unapplied totals stay equal."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from canonical.models import Remittance
from canonical.money import Money
from canonical.store import Store
from reconciler import reconcile
from reconciler.confirm import ConfirmError
from reconciler.dismiss import dismiss
from reconciler.report import build_report
from reconciler.reverse import reverse
from sync.ingest import ingest_files
from tests.support.receivables import Book, applied, decision

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bankfiles"
FILES = (FIXTURES / "bai2_reversals.bai", FIXTURES / "nacha_reversals.ach")


def _returned(store: Store, payment: str, amount: str, key: str, text: str) -> str:
    """The bank takes back ``amount`` of the payment ``payment`` (a remittance id)."""
    with store.session() as s:
        cash = s.get(Remittance, payment)
        assert cash is not None
        r = Remittance(
            source="nacha",
            source_key=key,
            currency="USD",
            amount_minor=-Money(amount, "USD").minor,
            value_date=date(2026, 11, 9),
            payer_name="Acme Corp",
            free_text=text,
            reverses=cash.source_key,
        )
        s.add(r)
    return r.id


def _unapplied(report: dict[str, Any]) -> tuple[str, str]:
    """``totals.cash.USD.unapplied`` and ``unapplied_cash.totals.USD.unapplied``."""
    listed = report["unapplied_cash"]["totals"].get("USD", {}).get("unapplied")
    return (
        report["totals"]["cash"]["USD"]["unapplied"]["amount"],
        listed["amount"] if listed else "0.00",
    )


def _by_source(store: Store, amount_minor: int) -> dict[str, Remittance]:
    with store.session() as s:
        found = s.execute(
            select(Remittance).where(Remittance.amount_minor == amount_minor)  # type: ignore[arg-type]
        ).scalars()
        return {r.source: r for r in found}


@pytest.mark.parametrize("runs", ["one run", "a run per file"])
def test_a_bai2_and_a_nacha_return_of_one_payment_take_it_back_once(
    store: Store, runs: str
) -> None:
    book = Book(store)
    harbor = book.customer("Harbor Foods Inc")
    book.invoice(harbor, "INV-2026-0415", "480.00")
    book.invoice(harbor, "INV-2026-0431", "1250.00")
    if runs == "one run":
        ingest_files(store, list(FILES))
        summary = reconcile(store)
    else:
        ingest_files(store, [FILES[0]])
        reconcile(store)
        ingest_files(store, [FILES[1]])
        summary = reconcile(store)
    report = build_report(store)
    # before: both returns netted 960.00 against the 480.00 payment (470.55 against 950.55)
    assert _unapplied(report) == ("950.55", "950.55")
    assert summary.exceptions["return_exceeds_payment"] == 1
    [payment] = _by_source(store, 48000).values()
    backs = _by_source(store, -48000)
    first, again = backs["bai2"], backs["nacha"]

    taken = decision(store, first.id)
    assert (taken.exception_kind, taken.rule) == ("returned_payment", "reversal")
    assert taken.evidence["original"]["remittance"] == payment.id
    assert decision(store, payment.id).evidence["taken_back_by"] == first.id

    flagged = decision(store, again.id)
    assert (flagged.status, flagged.rule, flagged.exception_kind) == (
        "exception",
        "reversal",
        "return_exceeds_payment",
    )
    assert flagged.evidence["reverses"] == "HF-AP-20877"
    assert "original" not in flagged.evidence  # it takes none of the payment's cash back
    assert flagged.evidence["payment"]["remittance"] == payment.id
    assert flagged.evidence["payment_amount"] == "480.00"
    assert [
        (r["remittance"], r["source"], r["amount"]) for r in flagged.evidence["returns_standing"]
    ] == [(first.id, "bai2", "480.00")]
    assert flagged.evidence["returns_standing"][0]["decision"] == taken.id
    assert "amount_minor" not in flagged.evidence["returns_standing"][0]
    assert (flagged.evidence["returns_total"], flagged.evidence["exceeds_by"]) == (
        "480.00",
        "480.00",
    )
    assert "dismiss" in flagged.evidence["action"] and "bank" in flagged.evidence["action"]

    report = build_report(store)
    assert _unapplied(report)[0] == _unapplied(report)[1]
    [row] = report["exceptions"]["return_exceeds_payment"]
    assert row["id"] == again.id and row["unapplied"]["amount"] == "0.00"
    assert row["resolve"].startswith(f"arsync resolve {flagged.id} --by person:")
    assert "--dismiss REASON" in row["resolve"] and "twice" in row["resolve"]
    returns = {r["id"]: r for r in report["exceptions"]["returned_payment"]}
    assert again.id not in returns and first.id in returns
    # nothing to reverse: the flagged return is no returned payment to undo
    with pytest.raises(ConfirmError, match="not an open reversal exception"):
        reverse(store, flagged.id, by="person:ana")

    # the same return reported twice: the person dismisses it, and the totals still agree
    dismiss(store, flagged.id, by="person:ana", reason="the NACHA file repeats the BAI2 558")
    report = build_report(store)
    assert _unapplied(report)[0] == _unapplied(report)[1]
    assert report["totals"]["cash"]["USD"]["dismissed"]["amount"] == "-480.00"
    assert decision(store, first.id).exception_kind == "returned_payment"  # still standing


@pytest.fixture
def paid(store: Store) -> dict[str, str]:
    """Acme paid INV-1001 (150.00) and the payment was applied."""
    book = Book(store)
    acme = book.customer("Acme Corp")
    invoice = book.invoice(acme, "INV-1001", "150.00")
    cash = book.pay("150.00", payer="Acme Corp", text="INV-1001")
    reconcile(store)
    assert applied(store, cash) == {"INV-1001": "150.00"}
    return {"invoice": invoice, "cash": cash}


def test_a_second_whole_return_of_an_applied_payment_is_held_not_netted(
    store: Store, paid: dict[str, str]
) -> None:
    back = _returned(store, paid["cash"], "150.00", "ret-1", "R01 INSUFFICIENT FUNDS")
    summary = reconcile(store)
    assert summary.reversals == 1
    again = _returned(store, paid["cash"], "150.00", "ret-2", "R01 INSUFFICIENT FUNDS")
    summary = reconcile(store)
    assert summary.exceptions == {"return_exceeds_payment": 1}
    assert summary.reversals == 0  # it takes no payment back
    flagged = decision(store, again)
    assert flagged.exception_kind == "return_exceeds_payment"
    assert flagged.evidence["returns_standing"][0]["remittance"] == back
    report = build_report(store)
    cash = report["totals"]["cash"]["USD"]
    # the first return waits for the person's reversal, the second for their decision
    assert cash["returns_pending"]["amount"] == "-300.00"
    assert _unapplied(report) == ("0.00", "0.00")

    # the person reverses the payment once; the second return stays apart
    reverse(store, decision(store, back).id, by="person:ana")
    report = build_report(store)
    assert _unapplied(report)[0] == _unapplied(report)[1]
    assert decision(store, again).exception_kind == "return_exceeds_payment"
    # a third return seen after the reversal exceeds it too: the reversed one still stands
    third = _returned(store, paid["cash"], "150.00", "ret-3", "R01 INSUFFICIENT FUNDS")
    reconcile(store)
    later = decision(store, third)
    assert later.exception_kind == "return_exceeds_payment"
    assert [r["remittance"] for r in later.evidence["returns_standing"]] == [back]
    assert later.evidence["returns_standing"][0]["status"] == "reversed"


def test_partial_returns_up_to_the_payment_each_take_back_their_part(
    store: Store, paid: dict[str, str]
) -> None:
    a = _returned(store, paid["cash"], "100.00", "ret-a", "R01 PART")
    b = _returned(store, paid["cash"], "50.00", "ret-b", "R01 PART")
    c = _returned(store, paid["cash"], "0.01", "ret-c", "R01 PART")
    reconcile(store)
    kinds = {r: decision(store, r).exception_kind for r in (a, b, c)}
    assert kinds == {
        a: "returned_payment",
        b: "returned_payment",
        c: "return_exceeds_payment",
    }
    flagged = decision(store, c).evidence
    assert (flagged["returns_total"], flagged["exceeds_by"]) == ("150.00", "0.01")
    report = build_report(store)
    assert _unapplied(report)[0] == _unapplied(report)[1]


def test_a_return_larger_than_its_payment_alone_takes_nothing_back(
    store: Store, paid: dict[str, str]
) -> None:
    back = _returned(store, paid["cash"], "150.01", "ret-1", "R01")
    reconcile(store)
    flagged = decision(store, back)
    assert flagged.exception_kind == "return_exceeds_payment"
    assert (flagged.evidence["returns_standing"], flagged.evidence["returns_total"]) == (
        [],
        "0.00",
    )
    assert flagged.evidence["exceeds_by"] == "0.01"
    assert applied(store, paid["cash"]) == {"INV-1001": "150.00"}
    report = build_report(store)
    assert _unapplied(report)[0] == _unapplied(report)[1]


def test_a_larger_return_in_the_same_batch_leaves_its_payment_to_be_decided(
    store: Store,
) -> None:
    book = Book(store)
    acme = book.customer("Acme Corp")
    book.invoice(acme, "INV-1001", "150.00")
    cash = book.pay("150.00", payer="Acme Corp", text="INV-1001")
    back = _returned(store, cash, "160.00", "ret-1", "R01")
    reconcile(store)
    assert decision(store, cash).rule != "taken_back"
    assert decision(store, back).exception_kind == "return_exceeds_payment"
    report = build_report(store)
    assert _unapplied(report)[0] == _unapplied(report)[1]


def test_returns_with_nothing_to_reverse_print_the_dismissal(store: Store) -> None:
    book = Book(store)
    book.customer("Acme Corp")
    unpaid = book.pay("75.00", payer="Nobody Known", text="no reference")
    reconcile(store)
    assert decision(store, unpaid).status == "exception"  # applied nothing
    nothing_paid = _returned(store, unpaid, "75.00", "ret-u", "R01")
    with store.session() as s:
        unknown = Remittance(
            source="nacha",
            source_key="ret-x",
            currency="USD",
            amount_minor=-2000,
            value_date=date(2026, 11, 9),
            free_text="R01",
            reverses="NO-SUCH-PAYMENT",
        )
        s.add(unknown)
    reconcile(store)
    rows = {r["id"]: r for r in build_report(store)["exceptions"]["returned_payment"]}
    for rid, why in ((nothing_paid, "nothing to reverse"), (unknown.id, "no payment")):
        row = rows[rid]
        assert row["resolve"].startswith(f"arsync resolve {row['decision_id']} --by person:")
        assert "--dismiss REASON" in row["resolve"] and why in row["resolve"]
    # the printed way out works
    closed = dismiss(store, rows[unknown.id]["decision_id"], by="person:ana", reason="bank fee")
    assert closed.status == "dismissed"
