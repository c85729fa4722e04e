"""Push under faults, over real HTTP against the sandboxes: 429 and 5xx bursts, replies lost
after the server applied the write, and invoices paid elsewhere after the decision."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from canonical.enums import CommandStatus
from canonical.models import ExternalRef, OutboxCommand
from connectors.sandbox.server import Faults
from connectors.sandbox.world import World
from sync.sandboxes import SandboxFleet, running_sandboxes
from tests.support.pipeline import decide, open_runtime
from tests.sync.outbox.test_push_crash import written_keys

pytestmark = pytest.mark.timeout(300)
SYSTEMS = ["quickbooks", "invoiced", "intacct"]


@pytest.fixture
def fleet() -> Iterator[SandboxFleet]:
    with running_sandboxes(
        World.generate(seed=9, customers=30, invoices=220), systems=tuple(SYSTEMS)
    ) as running:
        yield running


def statuses(runtime: Any) -> Counter[str]:
    with runtime.store.session() as s:
        return Counter(str(status) for (status,) in s.execute(select(col(OutboxCommand.status))))


@pytest.mark.parametrize(
    "faults",
    [
        {"rate_limit_every": 3, "retry_after": 0},
        {"fail_next": 2, "fail_status": 503},
        {"drop_reply_next": 2},
    ],
    ids=["429-bursts", "5xx-burst", "reply-lost-after-the-write"],
)
def test_push_under_faults_writes_everything_exactly_once(
    fleet: SandboxFleet, tmp_path: Path, faults: dict[str, Any]
) -> None:
    runtime = open_runtime(fleet, tmp_path / "a.db", push={"systems": SYSTEMS, "chunk": 10})
    try:
        decide(runtime, tmp_path)
        for server in fleet.servers.values():
            server.faults = Faults(**faults)
        first = runtime.push()
        for server in fleet.servers.values():
            server.faults = Faults()
        runtime.push(dry_run=False)  # whatever was left uncertain is settled now
        counts = statuses(runtime)
        assert counts[CommandStatus.CONFIRMED] > 0
        assert counts[CommandStatus.PENDING] == counts[CommandStatus.SENT] == 0
        assert counts[CommandStatus.FAILED] == counts[CommandStatus.DEAD] == 0
        assert first.ok
    finally:
        runtime.close()
    keys = written_keys(fleet)
    assert keys and max(keys.values()) == 1


def test_an_invoice_paid_elsewhere_after_the_decision_is_parked_not_forced(
    fleet: SandboxFleet, tmp_path: Path
) -> None:
    runtime = open_runtime(fleet, tmp_path / "a.db", push={"systems": SYSTEMS})
    try:
        decide(runtime, tmp_path)
        with runtime.store.session() as s:
            command = (
                s.execute(
                    select(OutboxCommand).where(
                        col(OutboxCommand.system) == "quickbooks",
                        col(OutboxCommand.operation) == "apply_cash",
                    )
                )
                .scalars()
                .first()
            )
            assert command is not None
            invoice_id = command.payload["lines"][0]["invoice_id"]
            remote = s.execute(
                select(col(ExternalRef.remote_id)).where(
                    col(ExternalRef.system) == "quickbooks",
                    col(ExternalRef.canonical_type) == "invoice",
                    col(ExternalRef.canonical_id) == invoice_id,
                )
            ).scalar_one()
        qbo: Any = fleet.servers["quickbooks"]
        qbo.records["Invoice"][remote]["Balance"] = Decimal("0.00")  # paid by someone else
        runtime.push()
        with runtime.store.session() as s:
            parked = s.get(OutboxCommand, command.id)
            assert parked is not None
            assert parked.status == CommandStatus.CONFLICT
            assert "owes 0.00 in quickbooks" in (parked.last_error or "")
            others = (
                s.execute(
                    select(col(OutboxCommand.status)).where(
                        col(OutboxCommand.system) == "quickbooks",
                        col(OutboxCommand.id) != command.id,
                    )
                )
                .scalars()
                .all()
            )
        assert CommandStatus.CONFIRMED in others
        assert not [
            p
            for p in qbo.records["Payment"].values()
            if command.idempotency_key in (p.get("PrivateNote") or "")
        ]
    finally:
        runtime.close()
