"""End to end against the sandboxes: a short pay's deduction is written off in every system
(a credit memo arsync creates, applied to the invoice), and a reconcile that runs after the
push but before the next sync (a webhook, a person running the commands one by one) does not
take that credit memo for open credit: it is used up by the write-off. Nothing is applied
twice, no write is refused, and after a sync every system shows the same balances."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import Session, col

from canonical.enums import CommandStatus, DocumentStatus
from canonical.models import (
    Adjustment,
    Application,
    CreditMemo,
    Customer,
    Decision,
    ExternalRef,
    Invoice,
    OutboxCommand,
)
from connectors.sandbox.bankfiles import InvoiceRef, Payment, write_camt054
from connectors.sandbox.world import World
from sync.demo_cash import BANK_ACCOUNT
from sync.ingest import ingest_files
from sync.runtime import Runtime
from sync.sandboxes import SandboxFleet, running_sandboxes
from tests.support.pipeline import open_runtime

pytestmark = pytest.mark.timeout(300)
PAYMENT_SYSTEMS = ("quickbooks", "invoiced", "intacct")
SYSTEMS = (*PAYMENT_SYSTEMS, "salesforce")


@pytest.fixture(scope="module")
def fleet() -> Iterator[SandboxFleet]:
    with running_sandboxes(World.generate(seed=5, customers=20, invoices=120)) as running:
        yield running


def test_a_reconcile_between_push_and_sync_leaves_the_write_off_credit_alone(
    fleet: SandboxFleet, tmp_path: Path
) -> None:
    runtime = open_runtime(fleet, tmp_path / "a.db", push={"systems": list(SYSTEMS)})
    try:
        assert all(r.error is None for r in runtime.sync())
        with runtime.store.session() as s:
            short_pay, full_pay, untouched = _payments(s)
            owed = s.get(Invoice, untouched).balance_minor  # type: ignore[union-attr]
        _ingest(runtime, tmp_path / "bank.camt054.xml", short_pay)
        assert runtime.reconcile().auto_applied == 1
        first = runtime.push()
        assert first.ok
        with runtime.store.session() as s:
            write_offs = _commands(s, "write_off")
            memos = {c.payload["adjustment_id"] for c in write_offs}
            assert write_offs, "the bank file took no deduction"
            assert {c.system for c in write_offs} == set(PAYMENT_SYSTEMS)
            assert all(c.status == CommandStatus.CONFIRMED for c in write_offs)
            # the credit memo each write-off created is in arsync's book, used up
            for memo_id in memos:
                memo = s.get(CreditMemo, memo_id)
                assert memo is not None
                assert (memo.balance_minor, memo.status) == (0, DocumentStatus.PAID)
                assert memo.adjustment_id == memo_id
            done_before = {c.id for c in s.execute(select(OutboxCommand)).scalars()}

        # a new bank file for the same customer, reconciled and pushed before any sync
        _ingest(runtime, tmp_path / "later.camt054.xml", full_pay)
        summary = runtime.reconcile()
        assert summary.auto_applied == 1, summary
        with runtime.store.session() as s:
            applied_memos = set(
                s.execute(
                    select(col(Decision.source_id)).where(
                        col(Decision.source_kind) == "credit_memo",
                        col(Decision.source_id).in_(memos),
                    )
                ).scalars()
            ) | set(
                s.execute(
                    select(col(Application.source_id)).where(
                        col(Application.origin) == "reconciler",
                        col(Application.source_id).in_(memos),
                    )
                ).scalars()
            )
            assert applied_memos == set(), "a write-off's credit memo was applied again"
            assert not [
                c for c in _commands(s, "apply_credit") if c.payload["credit_memo_id"] in memos
            ]
        second = runtime.push()
        assert second.ok
        for system, result in second.systems.items():
            assert (result.dead, result.failed, result.conflicts) == (0, 0, 0), (system, result)
        with runtime.store.session() as s:
            new = [c for c in s.execute(select(OutboxCommand)).scalars() if c.id not in done_before]
            assert new and all(c.status == CommandStatus.CONFIRMED for c in new), [
                (c.system, c.operation, c.status, c.last_error) for c in new
            ]
            deducted = {
                a.invoice_id for a in s.execute(select(Adjustment)).scalars() if a.id in memos
            }

        # the next sync reads the credit memos back applied, and the balances agree
        time.sleep(1.1)  # incremental filters are to the second: let the push's second pass
        assert all(r.error is None for r in runtime.sync())
        again = runtime.reconcile()
        assert (again.credit_memos_applied, again.credit_memos_suggested) == (0, 0)
        with runtime.store.session() as s:
            for memo_id in memos:
                memo = s.get(CreditMemo, memo_id)
                assert memo is not None
                assert (memo.balance_minor, memo.status) == (0, DocumentStatus.PAID)
                views = _views(s, "credit_memo", memo_id)
                assert set(views) == set(PAYMENT_SYSTEMS), views
                assert all(v == 0 for v in views.values()), views
            assert s.get(Invoice, untouched).balance_minor == owed  # type: ignore[union-attr]
            touched = {untouched} | deducted
            touched |= {line["invoice_id"] for c in new for line in c.payload.get("lines") or ()}
            for invoice_id in touched:
                balance = s.get(Invoice, invoice_id).balance_minor  # type: ignore[union-attr]
                views = _views(s, "invoice", invoice_id)
                assert views and all(v == balance for v in views.values()), (balance, views)
    finally:
        runtime.close()


def _commands(s: Session, operation: str) -> list[OutboxCommand]:
    return list(
        s.execute(
            select(OutboxCommand)
            .where(col(OutboxCommand.operation) == operation)
            .order_by(col(OutboxCommand.created_at), col(OutboxCommand.id))
        ).scalars()
    )


def _payments(s: Session) -> tuple[Payment, Payment, str]:
    """A customer every system holds short-pays one open invoice by 3.00 (within the
    tolerance: a deduction), then pays another in full, each quoting the invoice; a third
    invoice stays open (where a memo taken for open credit would go): its id."""
    held: dict[str, set[str]] = {}
    for cid, system in s.execute(
        select(col(ExternalRef.canonical_id), col(ExternalRef.system)).where(
            col(ExternalRef.canonical_type).in_(["customer", "invoice"]),
            col(ExternalRef.deleted).is_(False),
        )
    ):
        held.setdefault(cid, set()).add(system)
    everywhere = set(SYSTEMS)
    invoices: dict[str, list[Invoice]] = {}
    for invoice in s.execute(
        select(Invoice)
        .where(
            col(Invoice.status) == DocumentStatus.OPEN,
            col(Invoice.balance_minor) >= 10000,
            col(Invoice.currency) == "USD",
        )
        .order_by(col(Invoice.customer_id), col(Invoice.number))
    ).scalars():
        if invoice.customer_id and held.get(invoice.id, set()) >= everywhere:
            invoices.setdefault(invoice.customer_id, []).append(invoice)
    customer_id = next(
        cid
        for cid, items in sorted(invoices.items())
        if len(items) >= 3 and held[cid] >= everywhere
    )
    customer = s.get(Customer, customer_id)
    assert customer is not None
    first, second, third = invoices[customer_id][:3]
    short = first.balance.amount - Decimal("3.00")
    return (
        Payment(
            customer.name,
            short,
            first.currency,
            date.today(),
            refs=[InvoiceRef(first.number)],  # no amount stated: short by 3.00
            reference="SHORT-1",
        ),
        Payment(
            customer.name,
            second.balance.amount,
            second.currency,
            date.today(),
            refs=[InvoiceRef(second.number, paid=second.balance.amount)],
            reference="LATER-1",
        ),
        third.id,
    )


def _ingest(runtime: Runtime, path: Path, payment: Payment) -> None:
    write_camt054(
        path,
        [payment],
        account_iban=BANK_ACCOUNT,
        message_id=path.stem.upper(),
        created=datetime.now(UTC),
    )
    report = ingest_files(runtime.store, [path])
    assert not report.errors, report.errors


def _views(s: Session, ctype: str, canonical_id: str) -> dict[str, int]:
    """What each system last showed of a record's balance."""
    return {
        system: int(values["balance_minor"])
        for system, values in s.execute(
            select(col(ExternalRef.system), col(ExternalRef.values)).where(
                col(ExternalRef.canonical_type) == ctype,
                col(ExternalRef.canonical_id) == canonical_id,
                col(ExternalRef.deleted).is_(False),
            )
        )
        if (values or {}).get("balance_minor") is not None
    }
