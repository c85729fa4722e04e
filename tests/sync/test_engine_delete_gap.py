"""A stream whose delete log could not list some deletions makes the run partial, says so.

Salesforce's getDeleted keeps 15 days and refuses (INVALID_REPLICATION_DATE) a window before
the org's replication date; a deletion it cannot list stays live in the store until a full
sync reads every record. The run row, ``arsync status`` and the ``arsync sync`` summary name
the stream and the command; a quiet stream's old bookmark (asked from before the log's window
on every run, though the last run listed everything) is no gap.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import select, update
from sqlmodel import col

from canonical.enums import RunStatus
from canonical.models import ExternalRef, SyncRun
from canonical.store import Store
from connectors.base import Connector, MemoryTokenStore
from connectors.http import RetryPolicy
from connectors.registry import entry
from connectors.salesforce.sandbox import SalesforceSandbox
from connectors.sandbox.world import World
from sync.cli import print_runs
from sync.engine import SyncEngine
from sync.status import print_status

pytestmark = pytest.mark.slow
FULL = "run `arsync sync --system salesforce --full` to find them"


class RefusingSandbox(SalesforceSandbox):
    """An org whose delete log refuses every window, as before its replication date."""

    refuse = False

    def get_deleted(self, request: Any, version: str, sobject: str) -> Any:
        if self.refuse:
            return self.error(
                400, "INVALID_REPLICATION_DATE", "startDate before org replication enabled date"
            )
        return super().get_deleted(request, version, sobject)


@pytest.fixture
def sandbox() -> Iterator[RefusingSandbox]:
    server = RefusingSandbox(world=World.generate(seed=5, customers=20, invoices=120))
    server.start()
    yield server
    server.stop()


def connect(sandbox: SalesforceSandbox) -> Connector:
    config = sandbox.config().model_copy(update={"page_size": 25})
    tokens = MemoryTokenStore(sandbox.initial_tokens())
    return entry("salesforce").build(config, tokens, RetryPolicy(sleep=lambda _: None))


def gap_lines(error: str | None) -> dict[str, str]:
    """The gap lines of a run's error by stream."""
    lines = (error or "").splitlines()
    return {line.split(": ")[1]: line for line in lines if line.startswith("salesforce: ")}


def test_refused_delete_log_is_partial_and_full_sync_finds_the_deletion(
    tmp_path: Any, sandbox: RefusingSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'a.db'}")
    engine = SyncEngine(store)
    assert engine.sync(connect(sandbox), full=True).status == RunStatus.OK
    victim, edited = sandbox.remote_ids("invoices")[3], sandbox.remote_ids("invoices")[5]
    sandbox.remove("invoices", victim)
    sandbox.touch("invoices", edited)
    sandbox.refuse = True

    result = engine.sync(connect(sandbox))

    assert result.status == RunStatus.PARTIAL
    lines = gap_lines(result.error)
    assert set(lines) == {"customers", "invoices", "credit_memos", "payments"}
    assert lines["invoices"].startswith("salesforce: invoices: deletions before ")
    assert lines["invoices"].endswith(f"can no longer be listed; {FULL}")
    with store.session() as session:
        row = session.get(SyncRun, result.run_id)
        assert row is not None and row.status == RunStatus.PARTIAL
        assert row.error == result.error
        ref = session.execute(
            select(ExternalRef).where(col(ExternalRef.remote_id) == victim)
        ).scalar_one()
        assert ref.deleted is False  # the log could not say: still live until a full sync
    shown = io.StringIO()
    print_status(store, "default", Console(file=shown, width=400))
    assert "partial" in shown.getvalue() and lines["invoices"] in shown.getvalue()
    print_runs([result])
    assert "salesforce: invoices: deletions before" in capsys.readouterr().err

    full = engine.sync(connect(sandbox), full=True)  # the log still refuses: no matter

    assert full.status == RunStatus.OK and full.error is None
    assert full.counts["invoices"].deleted == 1
    with store.session() as session:
        ref = session.execute(
            select(ExternalRef).where(col(ExternalRef.remote_id) == victim)
        ).scalar_one()
        assert ref.deleted is True


def test_old_bookmark_is_no_gap_until_the_last_run_is_older_than_the_log(
    tmp_path: Any, sandbox: RefusingSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'a.db'}")
    engine = SyncEngine(store)
    engine.sync(connect(sandbox), full=True)
    # customers last changed weeks ago: their bookmark is older than the log's 15 days
    with store.session() as session:
        row = session.execute(select(SyncRun)).scalar_one()
        assert row.status == RunStatus.OK

    with caplog.at_level(logging.WARNING, logger="arsync.salesforce"):
        quiet = engine.sync(connect(sandbox))

    assert "Account: deletions before" in caplog.text  # the stream saw an old bookmark
    assert quiet.status == RunStatus.OK and quiet.error is None

    # the last runs were 20 days ago: deletions since then and older than 15 days are lost
    with store.session() as session:
        session.execute(update(SyncRun).values(started_at=datetime.now(UTC) - timedelta(days=20)))
    before = datetime.now(UTC)

    late = engine.sync(connect(sandbox))

    assert late.status == RunStatus.PARTIAL
    line = gap_lines(late.error)["customers"]
    moment = datetime.strptime(line.split("deletions before ")[1][:19], "%Y-%m-%d %H:%M:%S")
    expected = before - timedelta(days=15) + timedelta(minutes=5)
    assert abs(moment.replace(tzinfo=UTC) - expected) < timedelta(minutes=1)
    assert line.endswith(FULL)
