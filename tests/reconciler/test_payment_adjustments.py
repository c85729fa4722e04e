"""An 820 adjustment of the whole payment (an ADX outside any RMR loop: a chargeback, a
promotion deducted) names no document: it is evidence for the person deciding, never a
reference that was not found."""

from __future__ import annotations

from decimal import Decimal

from canonical.store import Store
from reconciler import reconcile
from tests.support.receivables import Book, applied, decision, ref


def payment_adjustment(amount: str, own: str = "") -> dict[str, str | None]:
    return {"kind": "other", "ref": own, "amount": None, "adjustment": amount, "reason": "CS"}


def test_a_small_payment_adjustment_is_a_short_pay_within_tolerance(
    store: Store, book: Book
) -> None:
    c = book.customer("Megamart Stores")
    book.invoice(c, "1001", "600.00")
    book.invoice(c, "1002", "400.00")
    rid = book.pay(
        "997.00",
        payer="MEGAMART STORES",
        refs=[ref("1001", "600.00"), ref("1002", "400.00"), payment_adjustment("-3.00")],
    )
    reconcile(store)
    d = decision(store, rid)
    assert d.status == "auto_applied", d.evidence
    assert "unresolved_refs" not in d.evidence  # the adjustment is no document not found
    assert d.evidence["payment_adjustments"] == [{"ref": None, "amount": "-3.00", "reason": "CS"}]
    assert d.deduction_minor == 300
    assert sum(map(Decimal, applied(store, rid).values())) == Decimal("997.00")


def test_a_large_payment_adjustment_goes_to_a_person_with_its_reason(
    store: Store, book: Book
) -> None:
    c = book.customer("Megamart Stores")
    book.invoice(c, "1001", "600.00")
    book.invoice(c, "1002", "400.00")
    rid = book.pay(
        "950.00",
        payer="MEGAMART STORES",
        refs=[
            ref("1001", "600.00"),
            ref("1002", "400.00"),
            payment_adjustment("-50.00", "DED-778"),
        ],
    )
    reconcile(store)
    d = decision(store, rid)
    assert d.status != "auto_applied"
    assert d.evidence["payment_adjustments"] == [
        {"ref": "DED-778", "amount": "-50.00", "reason": "CS"}
    ]
    assert "DED-778" not in d.evidence.get("other_refs", [])
