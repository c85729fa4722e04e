"""A full Invoiced read can pass over a live record (a list that shifted as one record was
deleted and another created while it was paged keeps its count): what it did not return is
asked for by id (404: gone) before anything is marked deleted."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlmodel import col

from canonical.models import ExternalRef
from canonical.store import Store
from connectors.base import MemoryTokenStore, Page, RawRecord, Stream
from connectors.http import RetryPolicy
from connectors.invoiced import InvoicedConnector, InvoicedSandbox
from connectors.sandbox.world import World
from sync.engine import SyncEngine


def connect(sandbox: InvoicedSandbox) -> InvoicedConnector:
    return InvoicedConnector(
        sandbox.config(),
        MemoryTokenStore(sandbox.initial_tokens()),
        policy=RetryPolicy(sleep=lambda _: None),
    )


class _PassingOver(Stream):
    """A stream with one live record passed over, as a shifted list does."""

    def __init__(self, inner: Stream, skipped: str) -> None:
        self.inner, self.skipped = inner, skipped
        self.name, self.object_type, self.ordered = inner.name, inner.object_type, inner.ordered  # type: ignore[misc]

    def pages(self, since: datetime | None, until: datetime) -> Iterator[Page]:
        for page in self.inner.pages(since, until):
            kept: list[RawRecord] = [r for r in page.records if r.remote_id != self.skipped]
            yield Page(kept)


def test_only_what_invoiced_no_longer_has_is_marked_deleted(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'inv.db'}")
    sandbox = InvoicedSandbox(world=World.generate(seed=5, customers=4, invoices=30))
    sandbox.start()
    try:
        engine = SyncEngine(store)
        assert engine.sync(connect(sandbox)).error is None
        ids = sandbox.remote_ids("payments")
        passed_over, gone = ids[3], ids[-1]
        sandbox.remove("payments", gone)  # a full read reads no delete feed: known by absence
        connector = connect(sandbox)
        streams = connector.streams()
        wrapped = _PassingOver(streams["payments"], passed_over)
        connector.streams = lambda: {**streams, "payments": wrapped}  # type: ignore[method-assign]
        assert engine.sync(connector, full=True).error is None
        with store.session() as session:
            deleted = set(
                session.execute(
                    select(col(ExternalRef.remote_id)).where(
                        col(ExternalRef.system) == "invoiced",
                        col(ExternalRef.canonical_type) == "payment",
                        col(ExternalRef.deleted).is_(True),
                    )
                ).scalars()
            )
        assert deleted == {gone}
    finally:
        sandbox.stop()
        store.dispose()
