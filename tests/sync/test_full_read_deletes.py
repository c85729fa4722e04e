"""A full sync marks deleted what the system no longer returns, when its delete feed lost it.

QuickBooks' CDC lists deletions for 30 days (and up to its cap), Salesforce's getDeleted for
15 days; both connectors say "run a full re-sync to reconcile them". These tests delete a
record in the sandbox WITHOUT its tombstone (a deletion the feed no longer lists) and check
that an incremental sync cannot see it, that a full one marks it deleted exactly as an
announced delete, and what it must never do: mark a record changed during the read, or
mass-delete the store when most records vanish at once (a filter or a permission changed).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from canonical.enums import ApplicationStatus
from canonical.models import Application, ExternalRef, Invoice, Payment
from canonical.store import Store
from connectors.base import Connector, MemoryTokenStore, Page, Stream
from connectors.http import RetryPolicy
from connectors.quickbooks.sandbox import QuickBooksSandbox
from connectors.registry import entry
from connectors.salesforce.sandbox import SalesforceSandbox
from connectors.sandbox.server import SandboxServer
from connectors.sandbox.world import World
from sync.engine import SyncEngine, too_many_missing

SYSTEMS = ("quickbooks", "salesforce")
ENTITY = {"invoices": "Invoice", "payments": "Payment"}  # QuickBooks' entity per stream


@pytest.fixture(params=SYSTEMS)
def sandbox(request: pytest.FixtureRequest) -> Iterator[SandboxServer]:
    server = entry(request.param).sandbox(world=World.generate(seed=5, customers=20, invoices=120))
    server.start()
    yield server
    server.stop()


def connect(sandbox: SandboxServer) -> Connector:
    config = sandbox.config().model_copy(update={"page_size": 25})  # type: ignore[attr-defined]
    tokens = MemoryTokenStore(sandbox.initial_tokens())  # type: ignore[attr-defined]
    return entry(sandbox.system).build(config, tokens, RetryPolicy(sleep=lambda _: None))


def purge(sandbox: SandboxServer, stream: str, remote_id: str) -> tuple[str, dict[str, Any]]:
    """Delete a record from the sandbox's data without its tombstone (CDC ``Deleted`` entry,
    getDeleted row): a deletion older than the feed. Returns what :func:`restore` needs."""
    with sandbox.lock:
        if isinstance(sandbox, QuickBooksSandbox):
            entity = ENTITY[stream]
            payload = sandbox.records[entity].pop(remote_id)
            stamp = sandbox.stamps[entity].pop(remote_id)
            return entity, {"payload": payload, "stamp": stamp}
        assert isinstance(sandbox, SalesforceSandbox)
        for sobject in sandbox.stream_objects[stream]:
            if remote_id in sandbox.tables[sobject]:
                return sobject, sandbox.tables[sobject].pop(remote_id)
    raise KeyError(remote_id)


def restore(sandbox: SandboxServer, remote_id: str, kept: tuple[str, dict[str, Any]]) -> None:
    """Put a purged record back exactly as it was (same payload, same modification stamp)."""
    where, data = kept
    with sandbox.lock:
        if isinstance(sandbox, QuickBooksSandbox):
            sandbox.records[where][remote_id] = data["payload"]
            sandbox.stamps[where][remote_id] = data["stamp"]
        else:
            assert isinstance(sandbox, SalesforceSandbox)
            sandbox.tables[where][remote_id] = data


def ref(store: Store, system: str, ctype: str, remote_id: str) -> ExternalRef:
    with store.session() as session:
        return session.execute(
            select(ExternalRef).where(
                col(ExternalRef.system) == system,
                col(ExternalRef.canonical_type) == ctype,
                col(ExternalRef.remote_id) == remote_id,
            )
        ).scalar_one()


def invoice_status(store: Store, canonical_id: str) -> str:
    with store.session() as session:
        found = session.get(Invoice, canonical_id)
        assert found is not None
        return str(found.status)


def live_refs(store: Store, system: str, ctype: str) -> set[str]:
    with store.session() as session:
        return set(
            session.execute(
                select(col(ExternalRef.remote_id)).where(
                    col(ExternalRef.system) == system,
                    col(ExternalRef.canonical_type) == ctype,
                    col(ExternalRef.deleted).is_(False),
                )
            ).scalars()
        )


def test_full_sync_marks_a_record_deleted_whose_deletion_the_feed_lost(
    sqlite_store: Store, sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    system = sandbox.system
    engine = SyncEngine(sqlite_store)
    assert engine.sync(connect(sandbox)).error is None
    victim = sandbox.remote_ids("invoices")[3]
    canonical_id = ref(sqlite_store, system, "invoice", victim).canonical_id
    purge(sandbox, "invoices", victim)

    incremental = engine.sync(connect(sandbox))
    assert incremental.error is None
    assert incremental.counts["invoices"].deleted == 0  # the feed does not list it
    assert not ref(sqlite_store, system, "invoice", victim).deleted

    with caplog.at_level(logging.INFO, logger="arsync.sync"):
        full = engine.sync(connect(sandbox), full=True)
    assert full.error is None, full.error
    assert full.counts["invoices"].deleted == 1
    assert full.counts["invoices"].created == full.counts["invoices"].updated == 0
    gone = ref(sqlite_store, system, "invoice", victim)
    assert gone.deleted
    assert invoice_status(sqlite_store, canonical_id) == "deleted"
    assert live_refs(sqlite_store, system, "invoice") == set(sandbox.remote_ids("invoices"))
    assert f"{system} invoices: 1 records no longer in the system" in caplog.text
    for stream, counts in full.counts.items():
        if stream != "invoices":
            assert counts.deleted == 0, stream

    again = engine.sync(connect(sandbox), full=True)  # nothing changed: nothing written
    assert again.error is None and again.total.writes == 0, again.counts


def test_a_record_marked_gone_that_comes_back_is_live_again(
    sqlite_store: Store, sandbox: SandboxServer
) -> None:
    system = sandbox.system
    engine = SyncEngine(sqlite_store)
    assert engine.sync(connect(sandbox)).error is None
    victim = sandbox.remote_ids("invoices")[8]
    canonical_id = ref(sqlite_store, system, "invoice", victim).canonical_id
    before = invoice_status(sqlite_store, canonical_id)
    kept = purge(sandbox, "invoices", victim)
    assert engine.sync(connect(sandbox), full=True).counts["invoices"].deleted == 1

    restore(sandbox, victim, kept)  # back exactly as it was: same payload, same stamp
    back = engine.sync(connect(sandbox), full=True)
    assert back.error is None
    assert back.counts["invoices"].updated == 1 and back.counts["invoices"].deleted == 0
    assert not ref(sqlite_store, system, "invoice", victim).deleted
    assert invoice_status(sqlite_store, canonical_id) == before != "deleted"
    assert engine.sync(connect(sandbox), full=True).total.writes == 0


def test_most_records_vanishing_at_once_marks_nothing_and_warns(
    sqlite_store: Store, sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    system = sandbox.system
    engine = SyncEngine(sqlite_store)
    assert engine.sync(connect(sandbox)).error is None
    stored = sandbox.remote_ids("invoices")
    for remote_id in stored[:100]:  # as a sharing rule or a filter hiding them would
        purge(sandbox, "invoices", remote_id)

    with caplog.at_level(logging.INFO, logger="arsync.sync"):
        full = engine.sync(connect(sandbox), full=True)
    assert full.error is None
    assert full.counts["invoices"].deleted == 0
    assert live_refs(sqlite_store, system, "invoice") == set(stored)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(
        f"{system} invoices: 100 of the {len(stored)} records stored" in m
        and "filters" in m
        and "permissions" in m
        for m in warnings
    ), warnings


def test_a_quickbooks_payment_gone_unlisted_takes_its_applications_back(
    sqlite_store: Store,
) -> None:
    sandbox = entry("quickbooks").sandbox(world=World.generate(seed=5, customers=20, invoices=120))
    with sandbox:
        engine = SyncEngine(sqlite_store)
        assert engine.sync(connect(sandbox)).error is None
        with sqlite_store.session() as session:
            applied = session.execute(
                select(Application, ExternalRef)
                .join(ExternalRef, col(ExternalRef.canonical_id) == col(Application.source_id))
                .where(
                    col(Application.origin) == "system:quickbooks",
                    col(Application.status) == ApplicationStatus.APPLIED,
                    col(ExternalRef.canonical_type) == "payment",
                )
            ).first()
        assert applied is not None
        application, payment_ref = applied
        purge(sandbox, "payments", payment_ref.remote_id)

        full = engine.sync(connect(sandbox), full=True)
        assert full.counts["payments"].deleted == 1
        with sqlite_store.session() as session:
            statuses = set(
                session.execute(
                    select(col(Application.status)).where(
                        col(Application.source_id) == payment_ref.canonical_id
                    )
                ).scalars()
            )
            payment = session.get(Payment, payment_ref.canonical_id)
        assert statuses == {ApplicationStatus.REVERSED}
        assert payment is not None and payment.status == "deleted"
        assert application.amount_minor > 0


class _TouchDuringRead(Stream):
    """Salesforce's invoices stream; after its first page, a user edits ``victim`` (not yet
    read), so its SystemModstamp passes the run's start and the read leaves it out."""

    def __init__(self, inner: Stream, sandbox: SalesforceSandbox, victim: str) -> None:
        self.inner, self.sandbox, self.victim = inner, sandbox, victim
        self.name, self.object_type, self.ordered = inner.name, inner.object_type, inner.ordered  # type: ignore[misc]
        self.read: set[str] = set()

    def pages(self, since: datetime | None, until: datetime) -> Iterator[Page]:
        for number, page in enumerate(self.inner.pages(since, until)):
            self.read.update(r.remote_id for r in page.records)
            if number == 0:
                assert self.victim not in self.read
                self.sandbox.touch("invoices", self.victim)
            yield page


def test_a_salesforce_record_changed_during_the_full_read_is_not_marked_deleted(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = SalesforceSandbox(world=World.generate(seed=5, customers=20, invoices=120))
    with sandbox:
        engine = SyncEngine(sqlite_store)
        assert engine.sync(connect(sandbox)).error is None
        sobject = sandbox.schema.invoice.sobject
        by_stamp = sorted(
            sandbox.tables[sobject], key=lambda i: (sandbox.tables[sobject][i]["SystemModstamp"], i)
        )
        purged, edited = by_stamp[0], by_stamp[-1]  # the edited one is read last
        purge(sandbox, "invoices", purged)

        connector = connect(sandbox)
        original = connector.streams
        wrapped = _TouchDuringRead(original()["invoices"], sandbox, edited)
        monkeypatch.setattr(connector, "streams", lambda: {**original(), "invoices": wrapped})
        full = engine.sync(connector, full=True)
        assert full.error is None, full.error
        assert edited not in wrapped.read  # stamped after the run's start: not read
        assert full.counts["invoices"].deleted == 1
        assert ref(sqlite_store, "salesforce", "invoice", purged).deleted
        assert not ref(sqlite_store, "salesforce", "invoice", edited).deleted
        assert live_refs(sqlite_store, "salesforce", "invoice") == set(
            sandbox.remote_ids("invoices")
        )


@pytest.mark.parametrize(
    ("missing", "stored", "refused"),
    [
        (1, 1, False),  # the only record of a stream, deleted
        (2, 2, True),  # all of them
        (8, 8, True),
        (10, 10, True),
        (1, 3, False),  # a third, but only one
        (2, 3, False),
        (3, 20, False),
        (4, 20, False),  # a fifth exactly
        (5, 20, True),
        (10, 60, False),
        (11, 60, True),  # more than the floor, whatever the share
        (11, 1000, True),
        (0, 0, False),
    ],
)
def test_which_counts_missing_at_once_mark_nothing(
    missing: int, stored: int, refused: bool
) -> None:
    assert too_many_missing(missing, stored) is refused


@pytest.mark.parametrize("system", SYSTEMS)
@pytest.mark.parametrize(("purged", "deleted"), [(1, 1), (2, 2), (3, 0)])
def test_a_small_store_is_never_emptied_by_a_full_read(
    sqlite_store: Store,
    system: str,
    purged: int,
    deleted: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Three invoices stored: one or two gone are deletions; all three gone at once (a filter
    or a permission hiding the stream) marks none, with the warning."""
    server = entry(system).sandbox(world=World.generate(seed=5, customers=2, invoices=3))
    with server:
        engine = SyncEngine(sqlite_store)
        assert engine.sync(connect(server)).error is None
        stored = server.remote_ids("invoices")
        assert len(stored) == 3
        for remote_id in stored[:purged]:
            purge(server, "invoices", remote_id)
        with caplog.at_level(logging.INFO, logger="arsync.sync"):
            full = engine.sync(connect(server), full=True)
        assert full.error is None, full.error
        assert full.counts["invoices"].deleted == deleted
        assert live_refs(sqlite_store, system, "invoice") == set(stored[deleted:])
        warned = f"{system} invoices: {purged} of the 3 records stored" in caplog.text
        assert warned is (deleted == 0)
