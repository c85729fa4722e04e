"""Guards around the cascade: cash that is not incoming is never matched, a payer paying for
another customer is not learned as that customer, a credit memo a pending payment names is
left for the person deciding it."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlmodel import col

from canonical.models import Application, CreditMemo, Decision, PayerAlias
from canonical.store import Store
from reconciler import reconcile
from reconciler.confirm import confirm
from reconciler.report import build_report
from tests.support.receivables import Book, applied, balance, decision, ref

pytestmark = pytest.mark.usefixtures("book_loading")

PARENT_IBAN = "DE89370400440532013000"


def _aliases(store: Store) -> dict[tuple[str, str], str]:
    with store.session() as s:
        return {(a.kind, a.value): a.customer_id for a in s.execute(select(PayerAlias)).scalars()}


def _memo_balance(store: Store, memo_id: str) -> int:
    with store.session() as s:
        memo = s.get(CreditMemo, memo_id)
        assert memo is not None
        return memo.balance_minor


@pytest.mark.parametrize(
    ("amount", "memo", "text", "why"),
    [
        ("0.00", "100.00", None, "zero amount"),  # a prenote: invoice less memo is 0.00
        ("-100.00", "200.00", "REFUND", "names no payment it reverses"),
        ("-100.00", "200.00", "RETURN INV 9181", "names no payment it reverses"),
    ],
)
def test_cash_that_is_not_incoming_is_never_matched(
    store: Store, book: Book, amount: str, memo: str, text: str | None, why: str
) -> None:
    c = book.customer("Acme Widgets LLC")
    invoice = book.invoice(c, "9181", "100.00")
    book.credit(c, "CM-9181", memo)
    rid = book.pay(amount, payer="ACME WIDGETS", text=text)
    summary = reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.rule, d.exception_kind) == (
        "exception",
        "not_incoming_cash",
        "not_incoming_cash",
    )
    assert why in d.evidence["why"] and d.evidence["amount"] == amount
    assert (d.applied_minor, d.customer_id, d.candidates) == (0, None, [])
    with store.session() as s:
        assert not s.execute(select(Application).where(col(Application.decision_id) == d.id)).all()
    assert applied(store, rid) == {}
    assert summary.exceptions["not_incoming_cash"] == 1 and summary.auto_applied == 0
    # the memo policy may still use the memo; the remittance never touched the invoice
    assert balance(store, invoice)[0] in ("100.00", "0.00")
    listed = build_report(store)["exceptions"]["not_incoming_cash"]
    assert [row["id"] for row in listed] == [rid]
    assert listed[0]["resolve"] is None  # nothing to apply, so no command to apply it


@pytest.mark.parametrize("iban", [None, PARENT_IBAN])
def test_a_parent_paying_its_subsidiary_is_not_learned_as_the_subsidiary(
    store: Store, book: Book, iban: str | None
) -> None:
    holdings = book.customer("MegaCorp Holdings Inc")
    east = book.customer("MegaCorp East LLC")
    own = book.invoice(holdings, "H100", "300.00", issued=date(2026, 9, 1))
    book.invoice(east, "E100", "500.00", issued=date(2026, 9, 1))
    sub = book.invoice(east, "E101", "300.00", issued=date(2026, 9, 2))
    book.pay(
        "500.00",
        payer="MEGACORP HOLDINGS INC",
        iban=iban,
        refs=[ref("E100", "500.00")],
        day=date(2026, 11, 2),
    )
    reconcile(store)
    assert ("name", "MEGACORP HOLDINGS") not in _aliases(store)
    rid = book.pay("300.00", payer="MEGACORP HOLDINGS INC", iban=iban, day=date(2026, 11, 10))
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.customer_id, d.evidence["customer_from"]) == (
        "auto_applied",
        holdings,
        "exact name",
    )
    assert applied(store, rid) == {"H100": "300.00"}
    assert balance(store, own) == ("0.00", "paid") and balance(store, sub) == ("300.00", "open")


def test_a_person_putting_a_parent_payment_on_a_subsidiary_shares_its_iban(
    store: Store, book: Book
) -> None:
    holdings = book.customer("MegaCorp Holdings Inc")
    east = book.customer("MegaCorp East LLC")
    book.invoice(holdings, "H100", "300.00")
    book.invoice(east, "E100", "500.00")
    rid = book.pay("500.00", payer="MEGACORP HOLDINGS INC", iban=PARENT_IBAN)
    reconcile(store)
    waiting = decision(store, rid)
    assert waiting.status != "auto_applied"
    confirmed = confirm(store, waiting.id, by="person:ana", invoice_numbers=["E100"])
    assert confirmed.customer_id == east and applied(store, rid) == {"E100": "500.00"}
    assert confirmed.evidence["payer_paid_for_another"]["payer_customers"] == [holdings]
    assert _aliases(store) == {("iban", PARENT_IBAN): ""}  # shared; the name is Holdings'


def test_a_payer_whose_name_is_no_other_customer_s_is_still_learned(
    store: Store, book: Book
) -> None:
    acme = book.customer("Acme Widgets LLC")
    book.invoice(acme, "A100", "120.00", issued=date(2026, 9, 1))
    later = book.invoice(acme, "A101", "75.00", issued=date(2026, 9, 2))
    first = book.pay("120.00", payer="AWL TREASURY SVCS", iban=PARENT_IBAN, refs=[ref("A100")])
    reconcile(store)
    assert decision(store, first).status == "auto_applied"
    assert set(_aliases(store).items()) == {
        (("iban", PARENT_IBAN), acme),
        (("name", "AWL TREASURY SVCS"), acme),
    }
    assert "payer_paid_for_another" not in decision(store, first).evidence
    rid = book.pay("75.00", payer="AWL TREASURY SVCS")
    reconcile(store)
    d = decision(store, rid)
    assert (d.status, d.evidence["customer_from"]) == ("auto_applied", "learned name")
    assert balance(store, later) == ("0.00", "paid")


def test_a_credit_memo_a_pending_suggestion_names_is_left_open(store: Store, book: Book) -> None:
    c = book.customer("Vandelay Industries")
    oldest = book.invoice(c, "9400", "300.00", issued=date(2026, 8, 1))
    named = book.invoice(c, "9501", "1000.00", issued=date(2026, 10, 1))
    memo = book.credit(c, "CM-77", "150.00")
    rid = book.pay(
        "850.00",
        payer="VANDELAY INDUSTRIES",
        refs=[
            ref("9501"),
            ref("9999"),
            {"kind": "credit_memo", "ref": "CM-77", "amount": "150.00"},
        ],
    )
    summary = reconcile(store)
    d = decision(store, rid)
    assert d.status == "suggested"
    assert d.evidence["credit_memos_held"] == [{"id": memo, "number": "CM-77"}]
    assert (summary.credit_memos_applied, summary.credit_memos_suggested) == (0, 0)
    again = reconcile(store)  # still waiting for a person: still left open
    assert (again.credit_memos_applied, again.credit_memos_suggested) == (0, 0)
    assert _memo_balance(store, memo) == 15000
    assert balance(store, oldest) == ("300.00", "open")
    assert balance(store, named) == ("1000.00", "open")
    with store.session() as s:
        assert not s.execute(select(Decision).where(col(Decision.source_id) == memo)).all()


def test_a_credit_memo_named_in_the_text_of_an_exception_is_left_open(
    store: Store, book: Book
) -> None:
    c = book.customer("Vandelay Industries")
    book.invoice(c, "9400", "300.00", issued=date(2026, 8, 1))
    memo = book.credit(c, "CM-78", "40.00")
    other = book.credit(c, "CM-79", "25.00")
    rid = book.pay("960.00", payer="VANDELAY INDUSTRIES", text="INV 9999 LESS CM-78")
    summary = reconcile(store)
    d = decision(store, rid)
    assert d.status != "auto_applied"
    assert d.evidence["credit_memos_held"] == [{"id": memo, "number": "CM-78"}]
    assert _memo_balance(store, memo) == 4000
    assert _memo_balance(store, other) == 0  # a memo nobody names follows the policy
    assert summary.credit_memos_applied == 1
