"""The conformance suite every connector must pass, run end to end against its sandbox.

Parametrised over the four systems: full pull to the last page, incremental pulls that see
exactly the changes, idempotent re-runs, 429/5xx bursts, token expiry, malformed records,
crashes between pages, and bad credentials.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlmodel import col

from canonical.enums import RunStatus
from canonical.models import ExternalRef, Quarantine, SyncBookmark
from canonical.store import Store
from connectors.base import Connector, MemoryTokenStore, Page, Stream
from connectors.http import Refreshable, RetryPolicy
from connectors.registry import SYSTEMS, entry
from connectors.sandbox.server import SandboxServer
from connectors.sandbox.world import World
from sync.columns import STREAM_TYPES
from sync.engine import SyncEngine

PAGE_SIZE = 25


@pytest.fixture(params=SYSTEMS)
def system(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def sandbox(system: str) -> Iterator[SandboxServer]:
    server = entry(system).sandbox(world=World.generate(seed=11, customers=30, invoices=240))
    server.start()
    yield server
    server.stop()


def make_connector(sandbox: SandboxServer, system: str, **config_changes: Any) -> Connector:
    config = sandbox.config().model_copy(update={"page_size": PAGE_SIZE, **config_changes})  # type: ignore[attr-defined]
    tokens = MemoryTokenStore(sandbox.initial_tokens())  # type: ignore[attr-defined]
    return entry(system).build(config, tokens, RetryPolicy(sleep=lambda _: None, max_delay=0))


def stored_ids(store: Store, system: str, stream: str, *, live: bool = True) -> set[str]:
    with store.session() as session:
        query = select(col(ExternalRef.remote_id)).where(
            col(ExternalRef.system) == system,
            col(ExternalRef.canonical_type) == STREAM_TYPES[stream],
        )
        if live:
            query = query.where(col(ExternalRef.deleted).is_(False))
        return set(session.execute(query).scalars())


def assert_complete(store: Store, sandbox: SandboxServer, connector: Connector) -> None:
    for stream in connector.streams():
        assert stored_ids(store, connector.system, stream) == set(sandbox.remote_ids(stream)), (
            stream
        )


def test_full_pull_reaches_the_last_page(
    sqlite_store: Store, sandbox: SandboxServer, system: str
) -> None:
    connector = make_connector(sandbox, system)
    result = SyncEngine(sqlite_store).sync(connector)
    assert result.status == RunStatus.OK, result.error
    assert_complete(sqlite_store, sandbox, connector)
    invoices = len(sandbox.remote_ids("invoices"))
    assert invoices > PAGE_SIZE * 3  # paging was exercised
    assert result.counts["invoices"].created + result.counts["invoices"].linked >= 0
    assert result.api_calls >= invoices // PAGE_SIZE


def test_incremental_sees_exactly_the_changes_and_rerun_writes_nothing(
    sqlite_store: Store, sandbox: SandboxServer, system: str
) -> None:
    engine = SyncEngine(sqlite_store)
    connector = make_connector(sandbox, system)
    assert engine.sync(connector).status == RunStatus.OK
    ids = sandbox.remote_ids("invoices")
    touched, removed = ids[3], ids[7]
    sandbox.touch("invoices", touched)
    created = sandbox.create("invoices")
    sandbox.remove("invoices", removed)

    second = engine.sync(connector)
    assert second.status == RunStatus.OK, second.error
    invoices = second.counts["invoices"]
    assert invoices.created == 1
    assert invoices.updated + invoices.deleted == 2
    for stream, counts in second.counts.items():
        if stream != "invoices":
            assert counts.writes == 0, (stream, counts)
    assert created in stored_ids(sqlite_store, system, "invoices", live=False)
    assert_complete(sqlite_store, sandbox, connector)

    third = engine.sync(connector)
    assert third.status == RunStatus.OK
    assert third.total.writes == 0, third.counts


def test_rate_limits_and_server_errors_are_survived(
    sqlite_store: Store, sandbox: SandboxServer, system: str
) -> None:
    sandbox.faults.rate_limit_every = 4
    sandbox.faults.retry_after = 0
    sandbox.faults.fail_next = 2
    connector = make_connector(sandbox, system)
    result = SyncEngine(sqlite_store).sync(connector)
    assert result.status == RunStatus.OK, result.error
    assert connector.session.stats.retries >= 3
    assert_complete(sqlite_store, sandbox, connector)


def test_expired_token_is_refreshed_once_and_the_run_continues(
    sqlite_store: Store, sandbox: SandboxServer, system: str
) -> None:
    connector = make_connector(sandbox, system)
    if not isinstance(connector.session.auth, Refreshable):
        pytest.skip(f"{system} authenticates with a static API key: nothing expires")
    sandbox.faults.expire_tokens_after = 5
    result = SyncEngine(sqlite_store).sync(connector)
    assert result.status == RunStatus.OK, result.error
    assert connector.session.stats.refreshes >= 1
    assert_complete(sqlite_store, sandbox, connector)


def test_malformed_record_is_quarantined_and_the_rest_stored(
    sqlite_store: Store, sandbox: SandboxServer, system: str
) -> None:
    bad = sandbox.remote_ids("invoices")[5]
    sandbox.corrupt("invoices", bad)
    connector = make_connector(sandbox, system)
    result = SyncEngine(sqlite_store).sync(connector)
    assert result.status == RunStatus.PARTIAL
    assert result.counts["invoices"].quarantined == 1
    with sqlite_store.session() as session:
        row = session.execute(
            select(Quarantine).where(col(Quarantine.remote_id) == bad)
        ).scalar_one()
    assert system in row.reason and bad in row.reason
    assert "field" in row.reason
    assert stored_ids(sqlite_store, system, "invoices") == set(sandbox.remote_ids("invoices")) - {
        bad
    }


def test_a_full_read_resolves_the_quarantine_of_records_no_longer_served(
    sqlite_store: Store, sandbox: SandboxServer, system: str
) -> None:
    still_bad = sandbox.remote_ids("invoices")[5]
    sandbox.corrupt("invoices", still_bad)
    engine = SyncEngine(sqlite_store)
    assert engine.sync(make_connector(sandbox, system)).counts["invoices"].quarantined == 1
    with sqlite_store.session() as session:  # quarantined once, since deleted (or moved)
        session.add(
            Quarantine(
                system=system,
                object_type="invoices",
                remote_id="gone-since",
                reason="an older run's",
                payload={},
                run_id="an-older-run",
            )
        )
    engine.sync(make_connector(sandbox, system))  # incremental: cannot tell what is gone
    with sqlite_store.session() as session:
        ghost = session.execute(
            select(Quarantine).where(col(Quarantine.remote_id) == "gone-since")
        ).scalar_one()
    assert ghost.resolved_at is None
    engine.sync(make_connector(sandbox, system), full=True)
    with sqlite_store.session() as session:
        rows = {q.remote_id: q for q in session.execute(select(Quarantine)).scalars()}
    assert rows["gone-since"].resolved_at is not None
    assert rows[still_bad].resolved_at is None


def test_a_full_sync_marks_deleted_what_the_system_no_longer_returns(
    sqlite_store: Store, sandbox: SandboxServer, system: str
) -> None:
    engine = SyncEngine(sqlite_store)
    assert engine.sync(make_connector(sandbox, system)).status == RunStatus.OK
    gone = sandbox.remote_ids("payments")[2]
    sandbox.remove("payments", gone)
    # a full read reads no delete feed: the payment is known gone only by its absence
    full = engine.sync(make_connector(sandbox, system), full=True)
    assert full.status == RunStatus.OK, full.error
    assert full.counts["payments"].deleted == 1
    assert gone in stored_ids(sqlite_store, system, "payments", live=False)
    assert_complete(sqlite_store, sandbox, make_connector(sandbox, system))
    assert engine.sync(make_connector(sandbox, system), full=True).total.writes == 0


class _Crashing(Stream):
    """Wraps a stream and dies after a number of pages, as a killed process would."""

    def __init__(self, inner: Stream, pages: int) -> None:
        self.inner, self.left = inner, pages
        self.name, self.object_type, self.ordered = inner.name, inner.object_type, inner.ordered  # type: ignore[misc]

    def pages(self, since: datetime | None, until: datetime) -> Iterator[Page]:
        for page in self.inner.pages(since, until):
            if self.left == 0:
                raise RuntimeError("crash injected between pages")
            self.left -= 1
            yield page


@pytest.mark.parametrize("write_batch", [1, 1000], ids=["page_commits", "batch_commits"])
def test_crash_between_pages_never_skips_data(
    sqlite_store: Store,
    sandbox: SandboxServer,
    system: str,
    monkeypatch: pytest.MonkeyPatch,
    write_batch: int,
) -> None:
    engine = SyncEngine(sqlite_store, write_batch=write_batch)
    connector = make_connector(sandbox, system)
    original = connector.streams

    def crashing() -> dict[str, Stream]:
        streams = original()
        streams["invoices"] = _Crashing(streams["invoices"], 2)
        return streams

    monkeypatch.setattr(connector, "streams", crashing)
    with pytest.raises(RuntimeError):
        engine.sync(connector)
    with sqlite_store.session() as session:
        mark = session.get(SyncBookmark, ("default", system, "invoices"))
        partial = session.execute(
            select(func.count())
            .select_from(ExternalRef)
            .where(col(ExternalRef.system) == system, col(ExternalRef.canonical_type) == "invoice")
        ).scalar_one()
    assert partial < len(sandbox.remote_ids("invoices"))
    assert partial > 0 or write_batch > 1  # one page per commit: the first pages are kept
    assert mark is None or mark.cursor is None or stream_is_ordered(connector, "invoices")
    monkeypatch.setattr(connector, "streams", original)
    result = engine.sync(connector)
    assert result.status == RunStatus.OK, result.error
    assert_complete(sqlite_store, sandbox, connector)


def stream_is_ordered(connector: Connector, stream: str) -> bool:
    return connector.streams()[stream].ordered


def test_bad_credentials_stop_the_connector_and_touch_nothing(
    sqlite_store: Store, sandbox: SandboxServer, system: str
) -> None:
    wrong = "definitely-wrong-secret-value"
    config = sandbox.config()  # type: ignore[attr-defined]
    changes = {name: SecretStr(wrong) for name, value in config if isinstance(value, SecretStr)}
    assert changes, f"{system} config declares no SecretStr credential"
    tokens = MemoryTokenStore({key: wrong for key in sandbox.initial_tokens()})  # type: ignore[attr-defined]
    connector = entry(system).build(
        config.model_copy(update=changes), tokens, RetryPolicy(sleep=lambda _: None, max_delay=0)
    )
    result = SyncEngine(sqlite_store).sync(connector)
    assert result.status == RunStatus.FAILED
    assert result.error and system in result.error.lower()
    assert wrong not in result.error
    assert stored_ids(sqlite_store, system, "customers") == set()


def test_new_mappings_read_every_record_again_once_and_keep_the_cursor(
    sqlite_store: Store, sandbox: SandboxServer, system: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = SyncEngine(sqlite_store)
    first = engine.sync(make_connector(sandbox, system))
    assert first.status == RunStatus.OK, first.error
    with sqlite_store.session() as session:
        cursors = {b.stream: b.cursor for b in session.execute(select(SyncBookmark)).scalars()}

    import sync.engine

    monkeypatch.setattr(sync.engine, "mapping_version", lambda _system: "next")
    remapped = engine.sync(make_connector(sandbox, system))
    assert remapped.status == RunStatus.OK, remapped.error
    # every live record was read and written again through the new mappings
    live = sum(len(sandbox.remote_ids(stream)) for stream in remapped.counts)
    assert remapped.total.updated == live and remapped.total.created == 0
    with sqlite_store.session() as session:
        bookmarks = list(session.execute(select(SyncBookmark)).scalars())
    assert {b.stream: b.cursor for b in bookmarks} == cursors  # deletes since are still seen
    assert {b.mapping_version for b in bookmarks} == {"next"}

    again = engine.sync(make_connector(sandbox, system))
    assert again.total.writes == 0 and again.api_calls < remapped.api_calls
