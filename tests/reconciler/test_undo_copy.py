"""After a person undoes the decision that applied a payment, a copy of that payment arriving
through another channel (a processor's webhook of the bank's credit) is still a copy: a
``duplicate_payment`` exception, never applied by the rules to the invoice the person just
said was wrong."""

from __future__ import annotations

from canonical.models import Remittance
from canonical.store import Store
from reconciler import reconcile
from reconciler.confirm import confirm
from reconciler.reverse import undo
from tests.reconciler.test_undo import auto, planner  # noqa: F401  (fixture)
from tests.support.receivables import balance, decision


def copy_of(store: Store, cash: str, key: str, text: str | None = None) -> str:
    """The same payment as ``cash``, reported by Stripe (its own key and reference)."""
    with store.session() as s:
        r = s.get(Remittance, cash)
        assert r is not None
        c = Remittance(
            source="stripe",
            source_key=key,
            currency=r.currency,
            amount_minor=r.amount_minor,
            value_date=r.value_date,
            payer_name=r.payer_name,
            free_text=r.free_text if text is None else text,
            bank_reference=f"py_{key}",
        )
        s.add(c)
    return c.id


def test_a_copy_before_the_undo_is_a_duplicate(
    store: Store,
    auto: dict[str, str],  # noqa: F811
) -> None:
    dup = copy_of(store, auto["cash"], "3Qx1")
    reconcile(store, sink=planner())
    assert decision(store, dup).exception_kind == "duplicate_payment"


def test_a_copy_after_the_undo_is_a_duplicate_not_applied_to_the_invoice_undone(
    store: Store,
    auto: dict[str, str],  # noqa: F811
) -> None:
    made = undo(store, auto["cash"], by="person:ana", reason="they paid INV-1002", sink=planner())
    dup = copy_of(store, auto["cash"], "3Qx1")
    reconcile(store, sink=planner())
    d = decision(store, dup)
    assert (d.status, d.exception_kind) == ("exception", "duplicate_payment")
    assert d.evidence["duplicate_of"]["remittance_id"] == auto["cash"]
    assert balance(store, auto["i1"]) == ("100.00", "open")
    # the person places the one payment where it belongs: one invoice paid, not two
    confirm(store, made.id, by="person:ana", invoice_numbers=["INV-1002"], sink=planner())
    assert balance(store, auto["i1"]) == ("100.00", "open")
    assert balance(store, auto["i2"]) == ("0.00", "paid")


def test_a_copy_worded_otherwise_is_not_applied_to_the_invoice_undone(
    store: Store,
    auto: dict[str, str],  # noqa: F811
) -> None:
    undo(store, auto["cash"], by="person:ana", reason="they paid INV-1002", sink=planner())
    dup = copy_of(store, auto["cash"], "3Qx2", text="Payment for invoice INV-1001 via Stripe")
    reconcile(store, sink=planner())
    d = decision(store, dup)
    assert (d.status, d.exception_kind) == ("exception", "duplicate_payment"), (d.status, d.rule)
    assert balance(store, auto["i1"]) == ("100.00", "open")
