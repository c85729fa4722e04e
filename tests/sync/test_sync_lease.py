"""One sync at a time per tenant: a second is refused before it reads anything, and a run that
stalled past its lease and was taken over commits nothing more."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlmodel import col
from typer.testing import CliRunner

from canonical.lease import LeaseHeld, LeaseLost, lease
from canonical.models import ExternalRef, Lease, SyncRun
from canonical.store import Store
from canonical.types import utcnow
from connectors.base import Page, Stream
from connectors.sandbox.server import SandboxServer
from reconciler.engine import RECONCILE_LEASE
from sync.cli import app
from sync.engine import SYNC_LEASE, SyncEngine
from tests.support.pull import qbo_connector


def refs(store: Store, ctype: str | None = None) -> int:
    query = select(func.count()).select_from(ExternalRef)
    if ctype:
        query = query.where(col(ExternalRef.canonical_type) == ctype)
    with store.session() as session:
        return int(session.execute(query).scalar_one())


def test_a_second_sync_while_one_runs_is_refused_and_reads_nothing(
    sqlite_store: Store, qbo_sandbox: SandboxServer
) -> None:
    qbo = qbo_connector(qbo_sandbox)
    with lease(sqlite_store, "default", SYNC_LEASE):
        with pytest.raises(LeaseHeld, match="another sync is running"):
            SyncEngine(sqlite_store).sync(qbo)
        assert qbo.api_calls == 0 and refs(sqlite_store) == 0
        with sqlite_store.session() as session:
            assert session.execute(select(func.count()).select_from(SyncRun)).scalar_one() == 0
    assert SyncEngine(sqlite_store).sync(qbo).error is None  # released: the next one runs
    assert refs(sqlite_store, "invoice") == len(qbo_sandbox.remote_ids("invoices"))


class _TakenOverAfterFirstPage(Stream):
    """The invoices stream; after its first page this run's lease runs out and another run
    takes it, as if this one had stalled for longer than its lease."""

    def __init__(self, inner: Stream, store: Store, others: ExitStack) -> None:
        self.inner, self.store, self.others = inner, store, others
        self.name, self.object_type, self.ordered = inner.name, inner.object_type, inner.ordered  # type: ignore[misc]

    def pages(self, since: datetime | None, until: datetime) -> Iterator[Page]:
        for number, page in enumerate(self.inner.pages(since, until)):
            if number == 1:
                with self.store.session() as session:
                    session.execute(
                        update(Lease).values(expires_at=utcnow() - timedelta(seconds=1))
                    )
                self.others.enter_context(lease(self.store, "default", SYNC_LEASE))
            yield page


def test_a_sync_that_lost_its_lease_commits_nothing_more(
    sqlite_store: Store, qbo_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    qbo = qbo_connector(qbo_sandbox)
    original = qbo.streams

    with ExitStack() as others:

        def streams() -> dict[str, Stream]:
            found = original()
            found["invoices"] = _TakenOverAfterFirstPage(found["invoices"], sqlite_store, others)
            return found

        monkeypatch.setattr(qbo, "streams", streams)
        engine = SyncEngine(sqlite_store, write_batch=1)  # each page its own commit
        with pytest.raises(LeaseLost):
            engine.sync(qbo)
        # the first page was committed under the lease; nothing after the takeover
        assert refs(sqlite_store, "invoice") == 20
    monkeypatch.setattr(qbo, "streams", original)
    assert engine.sync(qbo).error is None
    assert refs(sqlite_store, "invoice") == len(qbo_sandbox.remote_ids("invoices"))


def test_the_cli_says_who_holds_the_step_and_exits_75(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARSYNC_DATABASE_URL", sqlite_store.url)
    monkeypatch.delenv("ARSYNC_CONFIG", raising=False)
    runner = CliRunner()
    customers = tmp_path / "customers.csv"
    customers.write_text("customer_id,name\nc1,Acme Corp\n")
    with lease(sqlite_store, "default", RECONCILE_LEASE) as holder:
        answer = runner.invoke(app, ["reconcile"])
        assert answer.exit_code == 75
        assert "another reconcile is running" in answer.output and holder.holder in answer.output
        # `run` skips the step and still pushes what is decided
        assert runner.invoke(app, ["run"]).exit_code == 75
    with lease(sqlite_store, "default", SYNC_LEASE):
        # (no system is configured here: `sync` would read nothing; the engine test covers it)
        answer = runner.invoke(app, ["import", "customers", str(customers)])
        assert answer.exit_code == 75 and "another sync is running" in answer.output
    assert refs(sqlite_store) == 0
    assert runner.invoke(app, ["import", "customers", str(customers)]).exit_code == 0
    assert runner.invoke(app, ["reconcile"]).exit_code == 0
