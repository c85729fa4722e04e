"""A sync asked to stop (``arsync serve`` shutting down) ends at its next page: what it
wrote is committed with its bookmark, its run is recorded as interrupted, its lease is
released, and the next sync reads on from there to the same store as one uninterrupted."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from canonical.enums import RunStatus
from canonical.models import ExternalRef, SyncRun
from canonical.store import Store
from connectors.sandbox.server import SandboxServer
from sync.engine import SyncEngine, SyncStopped
from sync.pull import PageCounts
from tests.support.pull import qbo_connector


def _refs(store: Store) -> int:
    with store.session() as session:
        return int(session.execute(select(func.count()).select_from(ExternalRef)).scalar_one())


def test_a_stopped_sync_ends_at_its_next_page_and_the_next_sync_finishes_the_job(
    store: Store, qbo_sandbox: SandboxServer
) -> None:
    stopping = threading.Event()
    pages: list[int] = []

    def progress(_system: str, _stream: str, counts: PageCounts) -> None:
        pages.append(counts.fetched)
        if len(pages) == 2:
            stopping.set()  # the server is asked to stop while the sync reads

    engine = SyncEngine(store, write_batch=1, stopping=stopping)
    with pytest.raises(SyncStopped):
        engine.sync(qbo_connector(qbo_sandbox), progress=progress)

    assert len(pages) == 2  # no page written after the stop
    stored = _refs(store)
    assert stored == sum(pages)  # what was read before the stop is committed
    with store.session() as session:
        run = session.execute(select(SyncRun)).scalar_one()
    assert (run.status, run.error) == (RunStatus.FAILED, "interrupted")
    assert run.finished_at is not None

    # the lease was released and the bookmark covers only what was written
    stopping.clear()
    resumed = engine.sync(qbo_connector(qbo_sandbox))
    assert resumed.status == RunStatus.OK
    fresh = Store.open("sqlite://")
    try:
        whole = SyncEngine(fresh).sync(qbo_connector(qbo_sandbox))
    finally:
        fresh.dispose()
    assert _refs(store) == whole.total.created > stored


def test_a_sync_not_asked_to_stop_reads_everything(
    store: Store, qbo_sandbox: SandboxServer
) -> None:
    result = SyncEngine(store, write_batch=1, stopping=threading.Event()).sync(
        qbo_connector(qbo_sandbox)
    )
    assert result.status == RunStatus.OK and _refs(store) == result.total.created
