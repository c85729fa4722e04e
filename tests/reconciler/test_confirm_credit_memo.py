"""A credit memo the reconciler only suggested (the ``suggest`` policy) is applied by a person
with `arsync resolve`, as a remittance's suggestion is: its top candidate, or the invoices
named, never more than each owes or the memo holds, and only its own customer's."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import col

from canonical.models import Application, CreditMemo, Decision, ExternalRef, OutboxCommand
from canonical.store import Store
from reconciler import reconcile
from reconciler.confirm import ConfirmError, confirm
from reconciler.report import build_report
from reconciler.rules import DEFAULT_RULES
from sync.outbox.plan import OutboxPlanner
from tests.support.receivables import Book, balance


@pytest.fixture
def suggest_only(tmp_path: Path) -> Path:
    rules = tmp_path / "rules.toml"
    rules.write_text(
        DEFAULT_RULES.read_text().replace(
            'policy = "reference_then_oldest"', 'policy = "suggest"', 1
        )
    )
    return rules


def memo_decision(store: Store, memo_id: str) -> Decision:
    with store.session() as s:
        return s.execute(
            select(Decision).where(
                col(Decision.source_id) == memo_id, col(Decision.superseded).is_(False)
            )
        ).scalar_one()


def test_a_suggested_credit_memo_is_applied_by_a_person_and_sent_to_the_systems(
    store: Store, book: Book, suggest_only: Path
) -> None:
    acme = book.customer("Acme Corp")
    older = book.invoice(acme, "5001", "30.00")
    newer = book.invoice(acme, "5002", "100.00")
    memo = book.credit(acme, "CM-9", "50.00")
    with store.session() as s:  # the customer lives in QuickBooks: the write goes there
        s.add(
            ExternalRef(
                canonical_type="customer",
                canonical_id=acme,
                system="quickbooks",
                object_type="Customer",
                remote_id="58",
            )
        )
    summary = reconcile(store, rules_path=suggest_only)
    assert summary.credit_memos_suggested == 1
    suggested = memo_decision(store, memo)
    assert suggested.status == "suggested" and suggested.candidates
    [shown] = build_report(store)["credit_memos"]
    assert shown["resolve"] == f"arsync resolve {suggested.id} --by person:NAME"
    planner = OutboxPlanner("default", ["quickbooks"])
    applied = confirm(store, suggested.id, by="person:ana", sink=planner)
    assert (applied.status, applied.rule, applied.decided_by) == (
        "auto_applied",
        "confirmed_by_person",
        "person:ana",
    )
    assert applied.evidence["replaces"] == suggested.id
    assert memo_decision(store, memo).id == applied.id  # the suggestion is superseded
    assert balance(store, older) == ("0.00", "paid")
    assert balance(store, newer) == ("80.00", "open")
    with store.session() as s:
        assert s.get(CreditMemo, memo).balance_minor == 0  # type: ignore[union-attr]
        lines = s.execute(
            select(col(Application.invoice_id), col(Application.amount_minor)).where(
                col(Application.source_id) == memo
            )
        ).all()
        commands = s.execute(select(OutboxCommand)).scalars().all()
    assert sorted(lines) == sorted([(older, 3000), (newer, 2000)])
    assert [(c.system, c.operation) for c in commands] == [("quickbooks", "apply_credit")]
    # the next run leaves it alone
    again = reconcile(store, rules_path=suggest_only)
    assert (again.credit_memos_applied, again.credit_memos_suggested) == (0, 0)
    with pytest.raises(ConfirmError, match="not an open suggestion"):
        confirm(store, suggested.id, by="person:ana")


def test_a_person_names_the_invoices_of_the_memos_own_customer_only(
    store: Store, book: Book, suggest_only: Path
) -> None:
    acme = book.customer("Acme Corp")
    other = book.customer("Globex")
    book.invoice(acme, "6001", "30.00")
    named = book.invoice(acme, "6002", "20.00")
    book.invoice(other, "6003", "500.00")
    memo = book.credit(acme, "CM-10", "50.00")
    reconcile(store, rules_path=suggest_only)
    suggested = memo_decision(store, memo)
    with pytest.raises(ConfirmError, match="another customer's"):
        confirm(store, suggested.id, by="person:ana", invoice_numbers=["6003"])
    applied = confirm(store, suggested.id, by="person:ana", invoice_numbers=["6002"])
    assert balance(store, named) == ("0.00", "paid")
    assert applied.unapplied_minor == 3000  # the rest of the memo stays credit
    with store.session() as s:
        assert s.get(CreditMemo, memo).balance_minor == 3000  # type: ignore[union-attr]
