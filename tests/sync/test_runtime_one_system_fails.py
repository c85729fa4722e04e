"""One system's trouble never stops the others: `Runtime.sync` (the CLI's sync and run, and
every cycle of `arsync serve`) turns a system's unexpected error (a lease lost after a stall, a
wrong section of its own) into that system's failed result, a system whose lease another run
holds into a skipped one, and syncs the systems after it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlmodel import col

from canonical.enums import RunStatus
from canonical.lease import lease
from canonical.models import ExternalRef, Lease, SyncRun
from canonical.types import utcnow
from connectors.base import Connector, Page, Stream
from connectors.sandbox.world import World
from sync.engine import SYNC_LEASE
from sync.runtime import Runtime
from sync.sandboxes import SandboxFleet, running_sandboxes
from sync.settings import load_settings
from tests.support.pipeline import FAST, open_runtime

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def fleet() -> Iterator[SandboxFleet]:
    world = World.generate(seed=5, customers=12, invoices=60)
    with running_sandboxes(world, systems=("quickbooks", "invoiced")) as running:
        yield running


@pytest.fixture
def runtime(fleet: SandboxFleet, tmp_path: Path) -> Iterator[Runtime]:
    opened = open_runtime(fleet, tmp_path / "a.db")
    yield opened
    opened.close()


def invoice_refs(runtime: Runtime, system: str) -> int:
    with runtime.store.session() as session:
        return int(
            session.execute(
                select(func.count())
                .select_from(ExternalRef)
                .where(
                    col(ExternalRef.system) == system,
                    col(ExternalRef.canonical_type) == "invoice",
                )
            ).scalar_one()
        )


def remote_invoices(fleet: SandboxFleet, system: str) -> int:
    return len(fleet.servers[system].remote_ids("invoices"))


class _TakenOverOnFirstPage(Stream):
    """QuickBooks' invoices; while the first page is read the run stalls past its lease and
    another run (serve's webhook cycle) takes it over, then ends without releasing it."""

    def __init__(self, inner: Stream, runtime: Runtime) -> None:
        self.inner, self.runtime = inner, runtime
        self.name, self.object_type, self.ordered = inner.name, inner.object_type, inner.ordered  # type: ignore[misc]

    def pages(self, since: datetime | None, until: datetime) -> Iterator[Page]:
        for number, page in enumerate(self.inner.pages(since, until)):
            if number == 0:
                with self.runtime.store.session() as session:
                    session.execute(
                        update(Lease).values(
                            holder="serve-host pid 42 in x (abcd1234)",
                            expires_at=utcnow() - timedelta(seconds=1),
                        )
                    )
            yield page


def test_a_lease_lost_in_one_system_fails_it_and_the_next_still_syncs(
    runtime: Runtime, fleet: SandboxFleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    qbo = runtime.connector("quickbooks")
    original = qbo.streams

    def streams() -> dict[str, Stream]:
        found = original()
        found["invoices"] = _TakenOverOnFirstPage(found["invoices"], runtime)
        return found

    monkeypatch.setattr(qbo, "streams", streams)
    qbo_result, invoiced = runtime.sync(["quickbooks", "invoiced"])

    assert qbo_result.status == RunStatus.FAILED
    assert qbo_result.error is not None
    assert qbo_result.error.startswith("quickbooks: sync stopped: LeaseLost: sync: this run's")
    assert "\n" not in qbo_result.error
    with runtime.store.session() as session:
        rows = {r.system: r for r in session.execute(select(SyncRun)).scalars()}
    assert rows["quickbooks"].status == RunStatus.FAILED
    assert rows["quickbooks"].error == qbo_result.error  # the row says why, not 'interrupted'
    # invoiced was synced whole after it
    assert invoiced.status == RunStatus.OK and invoiced.error is None
    assert invoice_refs(runtime, "invoiced") == len(
        fleet.servers["invoiced"].remote_ids("invoices")
    )


def test_a_wrong_section_fails_that_system_only(fleet: SandboxFleet, tmp_path: Path) -> None:
    sections = fleet.settings_overrides()
    del sections["quickbooks"]["client_id"]
    settings = load_settings(
        None, database_url=f"sqlite:///{tmp_path / 'a.db'}", sync={"lag_seconds": 0}, **sections
    )
    runtime = Runtime.open(settings, policy=FAST)
    try:
        qbo, invoiced = runtime.sync()
    finally:
        runtime.close()
    assert qbo.system == "quickbooks" and qbo.status == RunStatus.FAILED and qbo.misconfigured
    assert qbo.error == "config error: quickbooks.client_id: Field required"
    assert invoiced.status == RunStatus.OK and invoiced.error is None
    assert invoice_refs(runtime, "invoiced") == len(
        fleet.servers["invoiced"].remote_ids("invoices")
    )


def test_a_system_whose_lease_another_run_took_is_skipped_the_others_kept(
    runtime: Runtime, fleet: SandboxFleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another run (a cron job) takes the sync lease between QuickBooks and Invoiced."""
    built = runtime.connector
    other = ExitStack()
    holder: list[str] = []

    def connector(system: str) -> Connector:
        if system == "invoiced":
            holder.append(other.enter_context(lease(runtime.store, "default", SYNC_LEASE)).holder)
        return built(system)

    monkeypatch.setattr(runtime, "connector", connector)
    with other:
        qbo, invoiced = runtime.sync()
    assert qbo.status == RunStatus.OK and qbo.error is None
    assert invoice_refs(runtime, "quickbooks") == remote_invoices(fleet, "quickbooks")
    assert invoiced.status == "skipped" and invoiced.error is None
    assert invoiced.skipped is not None and holder[0] in invoiced.skipped
    assert "another sync is running" in invoiced.skipped
    assert invoice_refs(runtime, "invoiced") == 0


@pytest.mark.parametrize("stop", [KeyboardInterrupt, SystemExit])
def test_an_interrupt_still_ends_the_sync(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, stop: type[BaseException]
) -> None:
    calls: list[str] = []

    def connector(system: str) -> Any:
        calls.append(system)
        raise stop()

    monkeypatch.setattr(runtime, "connector", connector)
    with pytest.raises(stop):
        runtime.sync()
    assert calls == ["quickbooks"]
