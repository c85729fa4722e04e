"""A sync whose process was killed (SIGKILL, the OOM killer, a host gone) leaves its run's row
'running'; the next sync of the tenant, holding the tenant's sync lease and so sure no other
sync of it is alive, closes those rows as interrupted. Other tenants' runs are not its to
close, nor are any while another run holds the lease."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from canonical.enums import RunStatus
from canonical.lease import LeaseHeld, lease
from canonical.models import SyncRun
from canonical.store import Store
from canonical.types import utcnow
from connectors.sandbox.server import SandboxServer
from sync.engine import SYNC_LEASE, SyncEngine
from tests.support.pull import qbo_connector


def _running(store: Store, tenant: str, system: str, minutes_ago: int) -> str:
    run = SyncRun(
        tenant=tenant,
        system=system,
        status=RunStatus.RUNNING,
        started_at=utcnow() - timedelta(minutes=minutes_ago),
    )
    with store.session() as session:
        session.add(run)
    return run.id


def _rows(store: Store) -> dict[str, SyncRun]:
    with store.session() as session:
        return {r.id: r for r in session.execute(select(SyncRun)).scalars()}


def test_runs_left_running_by_a_killed_process_are_closed_by_the_next_sync(
    store: Store, qbo_sandbox: SandboxServer
) -> None:
    killed_qbo = _running(store, "default", "quickbooks", 90)
    killed_inv = _running(store, "default", "invoiced", 60)  # the lease covers every system
    other_tenant = _running(store, "globex", "quickbooks", 5)

    result = SyncEngine(store).sync(qbo_connector(qbo_sandbox))

    rows = _rows(store)
    assert result.status == RunStatus.OK and rows[result.run_id].status == RunStatus.OK
    for run_id in (killed_qbo, killed_inv):
        assert rows[run_id].status == RunStatus.FAILED
        assert rows[run_id].error == "interrupted (the process ended)"
        assert rows[run_id].finished_at is not None
    assert rows[other_tenant].status == RunStatus.RUNNING  # another tenant's lease, not ours
    assert rows[other_tenant].error is None


def test_runs_are_left_alone_while_another_sync_holds_the_lease(
    sqlite_store: Store, qbo_sandbox: SandboxServer
) -> None:
    alive = _running(sqlite_store, "default", "invoiced", 1)  # its process is syncing now
    with lease(sqlite_store, "default", SYNC_LEASE), pytest.raises(LeaseHeld):
        SyncEngine(sqlite_store).sync(qbo_connector(qbo_sandbox))
    row = _rows(sqlite_store)[alive]
    assert row.status == RunStatus.RUNNING and row.finished_at is None and row.error is None
