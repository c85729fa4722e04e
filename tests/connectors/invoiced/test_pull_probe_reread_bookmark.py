"""An Invoiced list that shifted while it was paged is read again from before the shift, so
its pages do not come in time order: the bookmark must not move page by page (it would pass
the record the shift skipped, and a re-read that then fails would lose it for good)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from canonical.models import ExternalRef, SyncBookmark
from canonical.store import Store
from connectors.base import MemoryTokenStore
from connectors.errors import ApiError
from connectors.http import RetryPolicy
from connectors.invoiced import InvoicedConfig, InvoicedConnector, InvoicedSandbox
from connectors.invoiced.client import InvoicedClient
from connectors.sandbox.world import World
from sync.engine import SyncEngine

PAGE = 10


def connect(sandbox: InvoicedSandbox) -> InvoicedConnector:
    config: InvoicedConfig = sandbox.config().model_copy(update={"page_size": PAGE})
    return InvoicedConnector(
        config, MemoryTokenStore(sandbox.initial_tokens()), policy=RetryPolicy(sleep=lambda _: None)
    )


def stored_version(store: Store) -> dict[str, str]:
    with store.session() as s:
        rows = s.execute(
            select(col(ExternalRef.remote_id), col(ExternalRef.hash)).where(
                col(ExternalRef.system) == "invoiced",
                col(ExternalRef.canonical_type) == "invoice",
            )
        ).all()
    return {r[0]: r[1] for r in rows}


def bookmark(store: Store) -> str | None:
    with store.session() as s:
        bm = s.get(SyncBookmark, ("default", "invoiced", "invoices"))
        return bm.cursor if bm else None


def test_a_failed_re_read_never_loses_the_record_the_shift_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = InvoicedSandbox(world=World.generate(seed=11, customers=8, invoices=45))
    sandbox.start()
    try:
        store = Store.open(f"sqlite:///{tmp_path / 'a.db'}")
        engine = SyncEngine(store, write_batch=PAGE)  # commit page by page
        assert engine.sync(connect(sandbox)).error is None  # run 0: a clean full sync

        # 25 invoices edited over 25 minutes (a busy morning), all before this run's cap
        cursor = bookmark(store)
        assert cursor is not None
        base = datetime.fromisoformat(cursor) + timedelta(days=1)
        clock = {"t": base}
        sandbox.ledger.clock = lambda: clock["t"]
        edited = sandbox.remote_ids("invoices")[:25]
        for n, rid in enumerate(edited, 1):
            clock["t"] = base + timedelta(minutes=n)
            sandbox.touch("invoices", rid)
        order = sorted(edited, key=lambda i: (sandbox.record("invoices", i)["updated_at"], int(i)))
        skipped = order[PAGE]  # first of page 2: moves back to page 1 when a page-1 record changes
        skipped_version = sandbox.record("invoices", skipped)["notes"]

        original = InvoicedClient.pages
        calls = {"n": 0}

        def pages(
            self: InvoicedClient, path: str, params: dict[str, Any] | None = None
        ) -> Iterator[list[dict[str, Any]]]:
            if path != "/invoices":
                yield from original(self, path, params)
                return
            calls["n"] += 1
            if calls["n"] == 2:  # the re-read (pass 2): the API is down after retries
                raise ApiError("invoiced", "GET /invoices: 503 after retries")
            for index, items in enumerate(original(self, path, params)):
                yield items
                if index == 0:  # a user edits a record of page 1 before page 2 is read
                    clock["t"] = base + timedelta(minutes=30)
                    sandbox.touch("invoices", str(items[3]["id"]))

        monkeypatch.setattr(InvoicedClient, "pages", pages)
        assert engine.sync(connect(sandbox)).error is not None  # the re-read failed

        monkeypatch.setattr(InvoicedClient, "pages", original)
        assert engine.sync(connect(sandbox)).error is None  # ordinary incremental runs
        assert engine.sync(connect(sandbox)).error is None
        # every invoice's current version is stored: compare with a full read into a new store
        fresh = Store.open(f"sqlite:///{tmp_path / 'b.db'}")
        assert SyncEngine(fresh).sync(connect(sandbox)).error is None
        truth, ours = stored_version(fresh), stored_version(store)
        stale = sorted((i for i in truth if truth[i] != ours.get(i)), key=int)
        assert stale == [], f"edit of invoice {skipped} ({skipped_version!r}) lost for good"
    finally:
        sandbox.stop()
