"""A credit memo the payer names is taken only when it is open, in the payment's currency
and within its balance; otherwise a person decides, and no other memo is taken instead."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlmodel import col

from canonical.enums import ApplicationKind
from canonical.keys import document_key
from canonical.models import Adjustment, Application, CreditMemo
from canonical.money import Money
from canonical.store import Store
from reconciler import reconcile
from tests.support.receivables import Book, applied, balance, decision, ref

pytestmark = pytest.mark.usefixtures("book_loading")


def memo(store: Store, customer: str, number: str, amount: str, currency: str = "USD") -> str:
    minor = Money(amount, currency).minor
    with store.session() as s:
        m = CreditMemo(
            customer_id=customer,
            number=number,
            number_key=document_key(number),
            currency=currency,
            total_minor=minor,
            balance_minor=minor,
            issue_date=date(2026, 10, 5),
        )
        s.add(m)
    return m.id


def credits(store: Store, remittance_id: str) -> list[tuple[str, str]]:
    """(credit memo number, amount) of each memo the remittance's decision applied."""
    d = decision(store, remittance_id)
    with store.session() as s:
        rows = s.execute(
            select(Application, CreditMemo)
            .join(CreditMemo, col(CreditMemo.id) == col(Application.source_id))
            .where(
                col(Application.decision_id) == d.id,
                col(Application.kind) == ApplicationKind.CREDIT_MEMO,
            )
        ).all()
    return sorted((m.number, str(a.amount.amount)) for a, m in rows)


def memo_balance(store: Store, memo_id: str) -> str:
    with store.session() as s:
        m = s.get(CreditMemo, memo_id)
        assert m is not None
        return str(m.balance.amount)


def no_adjustments(store: Store) -> bool:
    with store.session() as s:
        return not s.execute(select(Adjustment)).scalars().all()


def test_a_memo_in_another_currency_named_in_text_is_not_taken(store: Store, book: Book) -> None:
    c = book.customer("Wayne Enterprises")
    inv = book.invoice(c, "5001", "1000.00")
    eur = memo(store, c, "CM-301", "150.00", currency="EUR")
    rid = book.pay("850.00", payer="WAYNE ENTERPRISES", text="INV 5001 LESS CM 301")
    reconcile(store)
    d = decision(store, rid)
    # before, 150.00 EUR was applied to the USD invoice as 150.00 USD
    assert d.status != "auto_applied" and credits(store, rid) == []
    assert d.evidence["credit_memos_not_taken"] == [
        {"credit_memo": "CM 301", "why": "in EUR, not USD"}
    ]
    assert memo_balance(store, eur) == "150.00" and balance(store, inv) == ("1000.00", "open")


def test_a_memo_in_another_currency_named_in_a_structured_reference_is_not_taken(
    store: Store, book: Book
) -> None:
    c = book.customer("Wayne Enterprises")
    book.invoice(c, "5001", "1000.00")
    eur = memo(store, c, "CM-301", "150.00", currency="EUR")
    rid = book.pay(
        "850.00",
        payer="WAYNE ENTERPRISES",
        refs=[ref("5001", "1000.00"), ref("CM-301", "-150.00", kind="credit_memo")],
    )
    reconcile(store)
    d = decision(store, rid)
    assert d.status != "auto_applied" and credits(store, rid) == []
    assert d.evidence["credit_memos_not_taken"] == [
        {"credit_memo": "CM-301", "why": "in EUR, not USD"}
    ]
    assert memo_balance(store, eur) == "150.00"


def test_a_named_memo_that_does_not_exist_is_not_replaced_by_another(
    store: Store, book: Book
) -> None:
    c = book.customer("Wayne Enterprises")
    book.invoice(c, "5001", "1000.00")
    memo(store, c, "CM-78", "50.00")
    rid = book.pay("950.00", payer="WAYNE ENTERPRISES", text="INV 5001 LESS CM 99")
    reconcile(store)
    d = decision(store, rid)
    # before, CM-78 (of the shortfall's amount) was netted off in its place, unseen
    assert d.status != "auto_applied" and credits(store, rid) == []
    assert d.evidence["credit_memos_not_taken"] == [{"credit_memo": "CM 99", "why": "not open"}]
    assert "credit_taken" not in d.evidence and no_adjustments(store)


def test_a_memo_another_remittance_used_earlier_in_the_run_is_not_replaced(
    store: Store, book: Book
) -> None:
    c = book.customer("Wayne Enterprises")
    book.invoice(c, "5001", "1000.00")
    book.invoice(c, "5002", "1000.00", issued=date(2026, 10, 3))
    memo(store, c, "CM-77", "50.00")
    memo(store, c, "CM-78", "50.00")  # of the shortfall's amount: the one taken before
    first = book.pay("950.00", payer="WAYNE ENTERPRISES", text="INV 5001 LESS CM 77")
    second = book.pay("950.00", payer="WAYNE ENTERPRISES", text="INV 5002 LESS CM 77")
    reconcile(store)
    assert decision(store, first).status == "auto_applied"
    assert credits(store, first) == [("CM-77", "50.00")]
    assert decision(store, second).status != "auto_applied" and credits(store, second) == []
    assert "credit_taken" not in decision(store, second).evidence and no_adjustments(store)


def test_a_short_pay_within_tolerance_is_not_written_off_when_the_named_memo_is_not_open(
    store: Store, book: Book
) -> None:
    c = book.customer("Wayne Enterprises")
    book.invoice(c, "5001", "1000.00")
    rid = book.pay("997.00", payer="WAYNE ENTERPRISES", text="INV 5001 LESS CM 99")
    reconcile(store)
    d = decision(store, rid)
    assert d.status == "suggested" and applied(store, rid) == {} and no_adjustments(store)
    assert "CM 99" in d.evidence["not_applied_because"]


def test_a_memo_named_twice_is_never_taken_beyond_its_balance(store: Store, book: Book) -> None:
    c = book.customer("Acme Corp")
    book.invoice(c, "7401", "1000.00")
    cm = memo(store, c, "CM-41", "150.00")
    rid = book.pay(
        "700.00",
        payer="ACME CORP",
        refs=[
            ref("7401", "1000.00"),
            ref("CM-41", "-150.00", kind="credit_memo"),
            ref("CM-41", "-150.00", kind="credit_memo"),
        ],
    )
    reconcile(store)
    d = decision(store, rid)
    # before, two 150.00 credit lines left the memo at -150.00
    assert sum(Money(a, "USD").minor for _, a in credits(store, rid)) <= 15000
    assert not memo_balance(store, cm).startswith("-")
    assert d.evidence["credit_memo_beyond_balance"] == [
        {"credit_memo": "CM-41", "taken": "300.00", "balance": "150.00"}
    ]
