"""Invoiced pages by ``page``/``per_page`` over a list sorted by ``updated_at``: a record read
on an earlier page and changed (or deleted) while later pages are read leaves the list's
earlier part, every later record moves one place up, and the record at the next page's first
place would never be read. The stream must still reach every record."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from connectors.base import MemoryTokenStore
from connectors.errors import TransientError
from connectors.http import RetryPolicy
from connectors.invoiced import InvoicedConfig, InvoicedConnector, InvoicedSandbox, streams
from connectors.sandbox.world import World

PAGE = 10


@pytest.fixture
def sandbox() -> Iterator[InvoicedSandbox]:
    server = InvoicedSandbox(world=World.generate(seed=11, customers=8, invoices=45))
    server.start()
    yield server
    server.stop()


def connect(sandbox: InvoicedSandbox) -> InvoicedConnector:
    config: InvoicedConfig = sandbox.config().model_copy(update={"page_size": PAGE})
    return InvoicedConnector(
        config, MemoryTokenStore(sandbox.initial_tokens()), policy=RetryPolicy(sleep=lambda _: None)
    )


@pytest.mark.parametrize("change", ["touch", "remove"])
def test_a_record_changed_on_a_read_page_shifts_no_record_out_of_the_pull(
    sandbox: InvoicedSandbox, change: str
) -> None:
    before = set(sandbox.remote_ids("invoices"))
    conn = connect(sandbox)
    pages = conn.streams()["invoices"].pages(None, datetime.now(UTC))
    first = next(pages).records
    assert len(first) == PAGE
    changed = first[3].remote_id
    getattr(sandbox, change)("invoices", changed)  # a user edits (or deletes) it meanwhile
    seen = {r.remote_id for r in first}
    for page in pages:
        seen.update(r.remote_id for r in page.records)
    missing = sorted(before - seen, key=int)
    assert missing == [], f"never read: invoices {missing}"


def test_a_quiet_pull_still_costs_one_call_a_page(sandbox: InvoicedSandbox) -> None:
    conn = connect(sandbox)
    total = len(sandbox.remote_ids("invoices"))
    before = conn.api_calls
    ids = [
        r.remote_id
        for page in conn.streams()["invoices"].pages(None, datetime.now(UTC))
        for r in page.records
    ]
    assert sorted(ids, key=int) == sorted(sandbox.remote_ids("invoices"), key=int)
    assert conn.api_calls - before == -(-total // PAGE)


def test_a_list_that_never_stops_shifting_fails_the_stream_instead_of_ending_short(
    sandbox: InvoicedSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read again as often as allowed and still shifting: the stream fails (its bookmark stays,
    the next run reads it again) instead of ending as if complete, which a full read would
    take as the records it passed over being deleted."""
    monkeypatch.setattr(streams, "MAX_PASSES", 1)
    conn = connect(sandbox)
    pages = conn.streams()["invoices"].pages(None, datetime.now(UTC))
    first = next(pages).records
    sandbox.touch("invoices", first[3].remote_id)
    with pytest.raises(TransientError, match="kept changing while it was paged"):
        for _ in pages:
            pass
