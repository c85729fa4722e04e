"""A credit memo arsync applies shows applied in Salesforce too: after the push, the CRM's
credit memo record has the balance and status every other system has, and the next sync
finds no drift on it (Salesforce is what sales reads)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import col

from canonical.enums import ApplicationKind, CommandStatus, FindingStatus
from canonical.models import Application, CreditMemo, DriftFinding, ExternalRef, OutboxCommand
from canonical.money import Money
from connectors.sandbox.world import World
from sync.sandboxes import SandboxFleet, running_sandboxes
from tests.support.pipeline import decide, open_runtime

pytestmark = pytest.mark.timeout(300)

SYSTEMS = ["quickbooks", "invoiced", "salesforce", "intacct"]


@pytest.fixture(scope="module")
def fleet() -> Iterator[SandboxFleet]:
    with running_sandboxes(World.generate(seed=11, customers=40, invoices=320)) as running:
        yield running


def test_a_credit_memo_applied_by_arsync_shows_applied_in_salesforce(
    fleet: SandboxFleet, tmp_path: Path
) -> None:
    runtime = open_runtime(fleet, tmp_path / "a.db", push={"systems": SYSTEMS})
    try:
        decide(runtime, tmp_path)
        with runtime.store.session() as s:
            applied = set(
                s.execute(
                    select(col(Application.source_id)).where(
                        col(Application.kind) == ApplicationKind.CREDIT_MEMO,
                        col(Application.origin) == "reconciler",
                    )
                ).scalars()
            )
            memos = {
                m.id: (m.balance_minor, m.currency)
                for m in s.execute(
                    select(CreditMemo).where(col(CreditMemo.id).in_(applied))
                ).scalars()
            }
            remote = dict(
                s.execute(
                    select(col(ExternalRef.canonical_id), col(ExternalRef.remote_id)).where(
                        col(ExternalRef.system) == "salesforce",
                        col(ExternalRef.canonical_type) == "credit_memo",
                        col(ExternalRef.canonical_id).in_(applied),
                    )
                ).all()
            )
        assert memos and set(remote) == set(memos), "the reconciler applied no credit memo"
        assert any(balance == 0 for balance, _ in memos.values())

        summary = runtime.push()
        assert summary.ok

        org = fleet.servers["salesforce"]
        for memo_id, (balance, currency) in memos.items():
            row = org.row("Credit_Memo__c", remote[memo_id])  # type: ignore[attr-defined]
            assert Money(row["Balance__c"], currency).minor == balance, memo_id
            assert row["Status__c"] == ("Applied" if balance == 0 else "Open"), memo_id

        runtime.sync()
        with runtime.store.session() as s:
            drift = s.execute(
                select(DriftFinding).where(
                    col(DriftFinding.canonical_type) == "credit_memo",
                    col(DriftFinding.status) == FindingStatus.OPEN,
                    col(DriftFinding.canonical_id).in_(list(memos)),
                )
            ).scalars()
            # Salesforce shows what the ERP shows; a memo differs only where another system
            # refused its application (its invoice changed there since the decision)
            found = {
                (d.canonical_id, d.field, d.values["salesforce"], d.values["quickbooks"])
                for d in drift
            }
            refused = set(
                s.execute(
                    select(col(OutboxCommand.canonical_id)).where(
                        col(OutboxCommand.operation) == "apply_credit",
                        col(OutboxCommand.status) == CommandStatus.CONFLICT,
                    )
                ).scalars()
            )
        assert all(crm == erp for _, _, crm, erp in found), found
        assert {memo for memo, *_ in found} <= refused

        # the state is absolute: nothing new decided, nothing written again
        writes = org.writes
        runtime.reconcile()
        assert runtime.push().written == 0
        assert org.writes == writes
    finally:
        runtime.close()
