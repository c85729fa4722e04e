"""Confirming a suggestion carries out all of it: the credit memos the payer netted off and
the deductions (a discount its terms grant) as well as the cash, each re-checked against the
balances left when the person confirms."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlmodel import col

from canonical.models import Adjustment, Application, CreditMemo
from canonical.store import Store
from reconciler import reconcile
from reconciler.confirm import confirm
from reconciler.rules import DEFAULT_RULES
from tests.support.receivables import Book, balance, decision, ref

pytestmark = pytest.mark.usefixtures("book_loading")


@pytest.fixture
def suggest_references(tmp_path: Path) -> Path:
    """Rules under which a structured reference is only ever suggested, for a person."""
    rules = tmp_path / "rules.toml"
    text = DEFAULT_RULES.read_text()
    assert "auto = true\nmin_confidence = 95" in text
    rules.write_text(
        text.replace("auto = true\nmin_confidence = 95", "auto = false\nmin_confidence = 95", 1)
    )
    return rules


def lines(
    store: Store, decision_id: str
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """The applications (kind, source, amount) and deductions (reason, amount) of a decision."""
    with store.session() as s:
        apps = s.execute(
            select(Application).where(col(Application.decision_id) == decision_id)
        ).scalars()
        applications = sorted((a.kind, a.source_id, str(a.amount.amount)) for a in apps)
        adjustments = s.execute(
            select(Adjustment).where(col(Adjustment.decision_id) == decision_id)
        ).scalars()
        return applications, sorted((a.reason_code, str(a.amount.amount)) for a in adjustments)


def memo_balance(store: Store, memo_id: str) -> str:
    with store.session() as s:
        memo = s.get(CreditMemo, memo_id)
        assert memo is not None
        return str(memo.balance.amount)


def netted_suggestion(store: Store, book: Book, rules: Path) -> tuple[str, str, str, str]:
    """850.00 paying 5001 (1000.00) net of CM-301 (150.00), suggested; an older 4900 open."""
    c = book.customer("Wayne Enterprises")
    older = book.invoice(c, "4900", "300.00", issued=date(2026, 9, 1))
    invoice = book.invoice(c, "5001", "1000.00")
    memo = book.credit(c, "CM-301", "150.00")
    rid = book.pay(
        "850.00",
        payer="WAYNE ENTERPRISES",
        refs=[ref("5001", "1000.00"), ref("CM-301", "-150.00", kind="credit_memo")],
    )
    reconcile(store, rules_path=rules)
    return rid, older, invoice, memo


def test_confirming_a_suggestion_applies_the_credit_memo_it_nets_off(
    store: Store, book: Book, suggest_references: Path
) -> None:
    rid, older, invoice, memo = netted_suggestion(store, book, suggest_references)
    suggested = decision(store, rid)
    assert suggested.status == "suggested"
    [top] = suggested.candidates
    assert [(c["credit_memo"], c["invoice_number"], c["amount"]) for c in top["credits"]] == [
        ("CM-301", "5001", "150.00")
    ]
    confirmed = confirm(store, suggested.id, by="person:ana")
    assert confirmed.evidence["as_suggested"] is True
    assert "changed_since_suggested" not in confirmed.evidence
    assert lines(store, confirmed.id) == (
        [("credit_memo", memo, "150.00"), ("remittance", rid, "850.00")],
        [],
    )
    assert balance(store, invoice) == ("0.00", "paid")
    assert memo_balance(store, memo) == "0.00"
    summary = reconcile(store, rules_path=suggest_references)
    assert (summary.credit_memos_applied, summary.credit_memos_suggested) == (0, 0)
    assert balance(store, older) == ("300.00", "open")  # the memo was not spent on it


def test_confirming_a_suggestion_writes_off_the_discount_its_terms_grant(
    store: Store, book: Book, suggest_references: Path
) -> None:
    c = book.customer("Stark Industries")
    invoice = book.invoice(c, "6001", "1000.00", issued=date(2026, 10, 25), terms="2% 10 Net 30")
    rid = book.pay("980.00", payer="STARK INDUSTRIES", refs=[ref("6001")], day=date(2026, 11, 2))
    reconcile(store, rules_path=suggest_references)
    suggested = decision(store, rid)
    assert suggested.status == "suggested"
    assert suggested.candidates[0]["deductions"] == [
        {
            "invoice_number": "6001",
            "invoice_id": invoice,
            "reason_code": "DISCOUNT",
            "amount": "20.00",
        }
    ]
    confirmed = confirm(store, suggested.id, by="person:ana")
    assert lines(store, confirmed.id) == ([("remittance", rid, "980.00")], [("DISCOUNT", "20.00")])
    assert (confirmed.applied_minor, confirmed.deduction_minor) == (98000, 2000)
    assert balance(store, invoice) == ("0.00", "paid")


def test_what_changed_since_the_suggestion_is_applied_no_further_than_it_can_be(
    store: Store, book: Book, suggest_references: Path
) -> None:
    rid, _, invoice, memo = netted_suggestion(store, book, suggest_references)
    with store.session() as s:  # the memo was spent elsewhere before the person confirmed
        s.execute(update(CreditMemo).where(col(CreditMemo.id) == memo).values(balance_minor=0))
    confirmed = confirm(store, decision(store, rid).id, by="person:ana")
    assert lines(store, confirmed.id) == ([("remittance", rid, "850.00")], [])
    assert confirmed.evidence["changed_since_suggested"] == [
        {
            "line": "credit memo CM-301 on 5001",
            "suggested": "150.00",
            "applied": "0.00",
            "why": "no more than the invoice owes, the credit memo holds and the cash left now",
        }
    ]
    assert balance(store, invoice) == ("150.00", "open")
    assert memo_balance(store, memo) == "0.00"


def test_invoices_a_person_names_instead_get_the_cash_alone(
    store: Store, book: Book, suggest_references: Path
) -> None:
    rid, older, invoice, memo = netted_suggestion(store, book, suggest_references)
    confirmed = confirm(store, decision(store, rid).id, by="person:ana", invoice_numbers=["4900"])
    assert confirmed.evidence["as_suggested"] is False
    assert lines(store, confirmed.id) == ([("remittance", rid, "300.00")], [])
    assert confirmed.unapplied_minor == 55000
    assert balance(store, older) == ("0.00", "paid")
    assert balance(store, invoice) == ("1000.00", "open")
    assert memo_balance(store, memo) == "150.00"
