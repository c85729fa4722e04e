"""A full QuickBooks read can pass over a live record (many sharing one LastUpdatedTime are
paged by position; an edit moves one past the others): what it did not return is asked for by
Id before anything is marked deleted, and only what QuickBooks no longer has is."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlmodel import col

from canonical.models import ExternalRef
from canonical.store import Store
from connectors.base import Connector, MemoryTokenStore, Page, Stream
from connectors.http import RetryPolicy
from connectors.quickbooks.sandbox import QuickBooksSandbox, render_time
from connectors.registry import entry
from connectors.sandbox.world import World
from sync.engine import SyncEngine


def connect(sandbox: QuickBooksSandbox, page_size: int) -> Connector:
    config = sandbox.config().model_copy(update={"page_size": page_size})
    tokens = MemoryTokenStore(sandbox.initial_tokens())
    return entry(sandbox.system).build(config, tokens, RetryPolicy(sleep=lambda _: None))


def deleted_refs(store: Store) -> set[str]:
    with store.session() as session:
        return set(
            session.execute(
                select(col(ExternalRef.remote_id)).where(
                    col(ExternalRef.system) == "quickbooks",
                    col(ExternalRef.canonical_type) == "invoice",
                    col(ExternalRef.deleted).is_(True),
                )
            ).scalars()
        )


class _EditAfterFirstPage(Stream):
    """The invoices stream, with a user editing the first invoice read after page one."""

    def __init__(self, inner: Stream, sandbox: QuickBooksSandbox) -> None:
        self.inner, self.sandbox = inner, sandbox
        self.name, self.object_type, self.ordered = inner.name, inner.object_type, inner.ordered  # type: ignore[misc]
        self.read: list[str] = []

    def pages(self, since: datetime | None, until: datetime) -> Iterator[Page]:
        for number, page in enumerate(self.inner.pages(since, until)):
            self.read.extend(r.remote_id for r in page.records)
            if number == 0:
                self.sandbox.touch("invoices", page.records[0].remote_id)
            yield page


def test_a_live_invoice_a_full_read_passed_over_is_not_marked_deleted(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'qbo.db'}")
    sandbox = QuickBooksSandbox(world=World.generate(seed=5, customers=3, invoices=12))
    with sandbox:
        same = datetime.fromisoformat("2026-01-05T10:00:00+00:00")
        with sandbox.lock:  # imported in one second
            for rid, record in sandbox.records["Invoice"].items():
                record["MetaData"]["LastUpdatedTime"] = render_time(same)
                sandbox.stamps["Invoice"][rid] = same
        engine = SyncEngine(store)
        assert engine.sync(connect(sandbox, 4)).error is None
        gone = sandbox.remote_ids("invoices")[-1]
        with sandbox.lock:  # and one really deleted, its deletion unlisted
            sandbox.records["Invoice"].pop(gone)
            sandbox.stamps["Invoice"].pop(gone)
        connector = connect(sandbox, 4)
        streams = connector.streams()
        wrapped = _EditAfterFirstPage(streams["invoices"], sandbox)
        connector.streams = lambda: {**streams, "invoices": wrapped}  # type: ignore[method-assign]
        full = engine.sync(connector, full=True)
        assert full.error is None, full.error
        live = set(sandbox.remote_ids("invoices"))
        assert live - set(wrapped.read), "the scenario must pass over a live invoice"
        assert deleted_refs(store) == {gone}
    store.dispose()
