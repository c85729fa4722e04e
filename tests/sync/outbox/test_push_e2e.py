"""``arsync run`` end to end against the sandboxes: each system, read back through its own
API into a fresh store, shows the applications and balances arsync decided; a second run
writes nothing."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import Session, col

from canonical.enums import CommandStatus
from canonical.models import Application, ExternalRef, Invoice, OutboxCommand
from canonical.store import Store
from connectors.sandbox.world import World
from sync.outbox.registry import adapter_for
from sync.sandboxes import SandboxFleet, running_sandboxes
from tests.support.pipeline import decide, open_runtime

pytestmark = pytest.mark.timeout(300)


def writable(fleet: SandboxFleet) -> list[str]:
    out = []
    for system in fleet.servers:
        try:
            adapter_for(system, None)  # type: ignore[arg-type]
        except KeyError:
            continue
        out.append(system)
    return out


@pytest.fixture(scope="module")
def fleet() -> Iterator[SandboxFleet]:
    with running_sandboxes(World.generate(seed=11, customers=40, invoices=320)) as running:
        yield running


def test_run_writes_every_decision_once_and_the_systems_agree(
    fleet: SandboxFleet, tmp_path: Path
) -> None:
    systems = writable(fleet)
    runtime = open_runtime(fleet, tmp_path / "a.db", push={"systems": systems})
    try:
        decide(runtime, tmp_path)
        summary = runtime.push()
        assert summary.ok
        with runtime.store.session() as s:
            by_status: defaultdict[tuple[str, CommandStatus], int] = defaultdict(int)
            for system, status in s.execute(
                select(col(OutboxCommand.system), col(OutboxCommand.status))
            ):
                by_status[(system, status)] += 1
            decided = {
                invoice_id: balance
                for invoice_id, balance in s.execute(
                    select(col(Invoice.id), col(Invoice.balance_minor)).where(
                        col(Invoice.id).in_(
                            select(col(Application.invoice_id)).where(
                                col(Application.origin) == "reconciler"
                            )
                        )
                    )
                )
            }
            cash = list(
                s.execute(
                    select(OutboxCommand).where(col(OutboxCommand.operation) == "apply_cash")
                ).scalars()
            )
        assert decided, "the bank file paid nothing"
        for system in systems:
            assert by_status[(system, CommandStatus.CONFIRMED)] > 0, system
            assert by_status[(system, CommandStatus.FAILED)] == 0, system
            assert by_status[(system, CommandStatus.DEAD)] == 0, system
        writes_before = {name: server.writes for name, server in fleet.servers.items()}

        # a second run: sync sees arsync's own writes, decides nothing new, writes nothing
        runtime.sync()
        runtime.reconcile()
        again = runtime.push()
        assert again.written == 0
        assert {name: server.writes for name, server in fleet.servers.items()} == writes_before
    finally:
        runtime.close()

    # read every system back through its API into a fresh store
    fresh = open_runtime(fleet, tmp_path / "fresh.db")
    try:
        assert all(r.error is None for r in fresh.sync())
        with fresh.store.session() as s:
            numbers = dict(s.execute(select(col(Invoice.number), col(Invoice.id))).all())
            views: dict[tuple[str, str], int] = {}
            for cid, system, values in s.execute(
                select(
                    col(ExternalRef.canonical_id), col(ExternalRef.system), col(ExternalRef.values)
                ).where(col(ExternalRef.canonical_type) == "invoice")
            ):
                views[(cid, system)] = int(values["balance_minor"])
            pulled_apps: defaultdict[tuple[str, str], int] = defaultdict(int)
            for origin, invoice_id, amount in s.execute(
                select(
                    col(Application.origin),
                    col(Application.invoice_id),
                    col(Application.amount_minor),
                )
            ):
                pulled_apps[(origin, invoice_id)] += amount
        with runtime_store(tmp_path / "a.db") as original:
            number_of = dict(original.execute(select(col(Invoice.id), col(Invoice.number))).all())
            conflicted = {
                (c.system, line["invoice_id"])
                for c in original.execute(
                    select(OutboxCommand).where(col(OutboxCommand.status) == CommandStatus.CONFLICT)
                ).scalars()
                for line in (
                    c.payload.get("lines") or [{"invoice_id": c.payload.get("invoice_id")}]
                )
            }
        checked = 0
        for invoice_id, balance in decided.items():
            fresh_id = numbers[number_of[invoice_id]]
            for system in systems:
                if (system, invoice_id) in conflicted or (fresh_id, system) not in views:
                    continue
                assert views[(fresh_id, system)] == balance, (system, number_of[invoice_id])
                checked += 1
        assert checked >= len(decided)
        # the payments arsync created are there, applied to the invoices it chose
        payment_systems = [s for s in systems if s != "salesforce"]
        for command in cash:
            if command.system not in payment_systems or command.status != CommandStatus.CONFIRMED:
                continue
            for line in command.payload["lines"]:
                fresh_id = numbers[number_of[line["invoice_id"]]]
                assert pulled_apps[(f"system:{command.system}", fresh_id)] >= line["amount_minor"]
    finally:
        fresh.close()


@contextmanager
def runtime_store(path: Path) -> Iterator[Session]:
    """A session on another arsync database file."""
    store = Store.open(f"sqlite:///{path}")
    try:
        with store.session() as session:
            yield session
    finally:
        store.dispose()
