"""The pull runtime: one run per system, streams in dependency order, page by page.

Pages are written in batches of about ``WRITE_BATCH`` records; each batch and the bookmark
that covers it commit in one transaction (a crash re-reads the uncommitted pages). The
bookmark never passes the run's start minus the lag (systems stamp modification times inside long
transactions), and is rewound one second below the last stamp seen, so records sharing that
stamp are read again and de-duplicated by hash rather than skipped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError
from sqlmodel import Session, col

from canonical.batch_gc import frozen_heap
from canonical.enums import RunStatus
from canonical.lease import Held, lease
from canonical.models import SyncBookmark, SyncRun
from canonical.store import Store, store_reason
from canonical.types import as_utc, utcnow
from connectors.base import STREAMS, Connector, RawRecord, Stream
from connectors.errors import ApiError, AuthError
from connectors.redact import redact_text
from mappings.base import MappingContext
from mappings.registry import mapper, mapping_version
from sync.pull import PageCounts, PageWriter
from sync.settings import SystemOfRecord

log = logging.getLogger("arsync.sync")

Progress = Callable[[str, str, PageCounts], None]
"""Called after every page with (system, stream, counts so far for the stream)."""

BOUNDARY_REWIND = timedelta(seconds=1)
SYNC_LEASE = "sync"
WRITE_BATCH = 1000  # small pages (Invoiced's 100) are written and committed together
# what the store answers about a record (not about itself): that record is quarantined
REFUSED = (DataError, IntegrityError)
ABANDONED = "interrupted (the process ended)"  # a run's row left 'running' by a process gone
# a full read not returning more stored records than this (count, or share of those stored)
# marks none deleted: a misconfigured filter or a permission change, not deletions
MISSING_FLOOR = 10
MISSING_SHARE = 0.2
MISSING_FEW = 2  # so few are deletions even past the share (1 of 3), unless they are all


class SyncStopped(BaseException):
    """Raised between pages when the process is asked to stop (``arsync serve`` shutting
    down): the pages read so far are committed with their bookmark, the run is recorded as
    interrupted and its lease released. Not an ``Exception``: a handler that lets one
    system's failure pass on to the next system must not catch it."""


def too_many_missing(missing: int, stored: int) -> bool:
    """Whether ``missing`` of ``stored`` records gone at once is rather a filter or a
    permission that changed: all of them (of more than one), more than
    :data:`MISSING_FLOOR`, or more than :data:`MISSING_SHARE` of them unless at most
    :data:`MISSING_FEW`."""
    if stored > 1 and missing >= stored:
        return True
    if missing > MISSING_FLOOR:
        return True
    return missing > stored * MISSING_SHARE and missing > MISSING_FEW


def describe_failure(system: str, exc: BaseException) -> str:
    """An unexpected error of one system's sync as one line naming the system, secrets
    masked (``quickbooks: sync stopped: LeaseLost: ...``)."""
    reason = " ".join(str(exc).split()) or "no detail"
    return redact_text(f"{system}: sync stopped: {type(exc).__name__}: {reason}")[:1000]


@dataclass
class RunResult:
    """What one system's sync did."""

    system: str
    run_id: str
    status: RunStatus
    counts: dict[str, PageCounts] = field(default_factory=dict)
    api_calls: int = 0
    error: str | None = None
    seconds: float = 0.0
    write_seconds: float = 0.0  # mapping + identity + store, HTTP excluded
    map_seconds: float = 0.0  # of which hashing and mapping records
    skipped: str | None = None  # why it was not run (another run holds the sync lease)
    misconfigured: bool = False  # failed on its own settings (a wrong or missing key)
    gaps: list[str] = field(default_factory=list)  # deletions a stream could not list, per stream

    @classmethod
    def held(cls, system: str, reason: str) -> RunResult:
        """A system not synced because another run holds its lease."""
        return cls(system, "", RunStatus.SKIPPED, skipped=reason)

    @property
    def total(self) -> PageCounts:
        total = PageCounts()
        for counts in self.counts.values():
            total.add(counts)
        return total


class SyncEngine:
    """Pulls systems into the store."""

    def __init__(
        self,
        store: Store,
        *,
        tenant: str = "default",
        lag: timedelta = timedelta(seconds=60),
        home_currency: str = "USD",
        system_of_record: SystemOfRecord | None = None,
        mapping_options: dict[str, dict[str, object]] | None = None,
        write_batch: int = WRITE_BATCH,
        stopping: threading.Event | None = None,
    ) -> None:
        self.store = store
        self.tenant = tenant
        self.lag = lag
        self.home_currency = home_currency
        self.sor = system_of_record or SystemOfRecord()
        self.mapping_options = mapping_options or {}
        self.write_batch = write_batch
        self.stopping = stopping  # set: stop between pages (see SyncStopped)

    def sync(
        self,
        connector: Connector,
        *,
        full: bool = False,
        progress: Progress | None = None,
        lag: timedelta | None = None,
    ) -> RunResult:
        """Pull every stream of a connector; returns what happened (never half a bookmark).

        One sync runs at a time per tenant, whoever starts it (two would each create the
        canonical record the other is linking): another raises
        :class:`~canonical.lease.LeaseHeld` before reading anything. Holding the tenant's
        lease proves no other sync of it is alive: its runs still 'running' (their process
        killed) are closed first. An error not of the system, the store or the credentials
        (a :class:`~canonical.lease.LeaseLost` after a stall) is written to the run's row and
        raised."""
        with lease(self.store, self.tenant, SYNC_LEASE) as held:
            self._close_abandoned()
            return self._sync(connector, held, full=full, progress=progress, lag=lag)

    def _close_abandoned(self) -> None:
        """Mark this tenant's runs left 'running' (their process was killed: SIGKILL, a
        host gone) failed, so `arsync status` and health stop showing them as running."""
        with self.store.session() as session:
            closed = session.execute(
                update(SyncRun)
                .where(
                    col(SyncRun.tenant) == self.tenant,
                    col(SyncRun.status) == RunStatus.RUNNING,
                )
                .values(status=RunStatus.FAILED, finished_at=utcnow(), error=ABANDONED)
            )
        count = getattr(closed, "rowcount", 0)
        if count:
            log.warning("%d earlier sync runs of %s never ended: %s", count, self.tenant, ABANDONED)

    def _sync(
        self,
        connector: Connector,
        held: Held,
        *,
        full: bool,
        progress: Progress | None,
        lag: timedelta | None,
    ) -> RunResult:
        system = connector.system
        started = utcnow()
        clock = time.monotonic()
        calls_before = connector.api_calls
        run = SyncRun(
            tenant=self.tenant,
            system=system,
            mode="full" if full else "incremental",
            started_at=started,
        )
        with self.store.session() as session:
            session.add(run)
        result = RunResult(system=system, run_id=run.id, status=RunStatus.RUNNING)
        cap = started - max(lag or timedelta(0), self.lag)
        try:
            connector.check()
            streams = connector.streams()
            with frozen_heap():
                for name in STREAMS:
                    if name in streams:
                        result.counts[name] = self._sync_stream(
                            connector,
                            streams[name],
                            run.id,
                            full,
                            cap,
                            started,
                            progress,
                            result,
                            held,
                        )
            quarantined = result.total.quarantined
            result.status = RunStatus.PARTIAL if quarantined or result.gaps else RunStatus.OK
            result.error = "\n".join(result.gaps) or None
        except AuthError as exc:
            result.status, result.error = RunStatus.FAILED, str(exc)
            log.error("%s sync stopped: %s", system, exc)
        except ApiError as exc:
            result.status, result.error = RunStatus.FAILED, str(exc)
            log.error("%s sync stopped: %s", system, exc)
        except SQLAlchemyError as exc:  # the store itself failed (unreachable, locked, full)
            result.status, result.error = RunStatus.FAILED, f"store error: {store_reason(exc)}"
            log.error("%s sync stopped: %s", system, result.error)
        except Exception as exc:  # unexpected (a lease lost after a stall): the row says what
            result.status, result.error = RunStatus.FAILED, describe_failure(system, exc)
            raise
        finally:
            if result.gaps and result.status == RunStatus.FAILED:
                result.error = "\n".join([result.error or "failed", *result.gaps])
            result.api_calls = connector.api_calls - calls_before
            result.seconds = time.monotonic() - clock
            with self.store.session() as session:
                stored = session.get(SyncRun, run.id)
                if stored is not None:
                    stored.status = (
                        result.status if result.status != RunStatus.RUNNING else RunStatus.FAILED
                    )
                    stored.finished_at = utcnow()
                    stored.counts = {k: v.as_dict() for k, v in result.counts.items()}
                    stored.api_calls = result.api_calls
                    stored.error = result.error or (
                        "interrupted" if result.status == RunStatus.RUNNING else None
                    )
                    session.add(stored)
        return result

    def _sync_stream(
        self,
        connector: Connector,
        stream: Stream,
        run_id: str,
        full: bool,
        cap: datetime,
        started: datetime,
        progress: Progress | None,
        result: RunResult,
        held: Held,
    ) -> PageCounts:
        system = connector.system
        writer = PageWriter(
            tenant=self.tenant,
            system=system,
            stream=stream.name,
            mapper=mapper(system, stream.name),
            context=MappingContext(
                system=system,
                home_currency=self.home_currency,
                options={**(self.mapping_options.get(system) or {}), **connector.mapping_facts()},
            ),
            system_of_record=self.sor,
            run_id=run_id,
            mapping_version=mapping_version(system),
        )
        with self.store.session() as session:
            bookmark = self._bookmark(session, system, stream.name)
        # records stored through older mappings are read and mapped again, all of them; the
        # cursor stays, so the next pull still sees what changed since (deletes included)
        remap = bookmark.cursor is not None and bookmark.mapping_version != writer.mapping_version
        if remap and not full:
            log.info("%s %s: mappings changed, reading every record again", system, stream.name)
        since = (
            None
            if full or remap or bookmark.cursor is None
            else as_utc(datetime.fromisoformat(bookmark.cursor))
        )
        advance = full or not remap
        if since is None:
            writer.remember_seen()
        counts = PageCounts()
        newest: datetime | None = None
        pending: list[RawRecord] = []
        stream.delete_gap = None  # a connector kept between runs (serve) reads its streams again

        def flush() -> None:
            writing = time.perf_counter()
            try:
                with self.store.session() as session:
                    held.renew(session)  # a run that lost its lease commits nothing more
                    written = writer.write(session, pending)
                    if stream.ordered and newest is not None and advance:
                        self._advance(session, system, stream.name, since, newest, cap, pending)
            except REFUSED as exc:
                log.warning(
                    "%s %s: the store refused a batch (%s); writing it record by record",
                    system,
                    stream.name,
                    store_reason(exc),
                )
                written = self._one_by_one(writer, pending, held)
                with self.store.session() as session:
                    held.renew(session)
                    if stream.ordered and newest is not None and advance:
                        self._advance(session, system, stream.name, since, newest, cap, pending)
            counts.add(written)
            self.store.wrote(written.writes)
            result.write_seconds += time.perf_counter() - writing
            pending.clear()
            if progress:
                progress(system, stream.name, counts)

        for page in stream.pages(since, started):
            if self.stopping is not None and self.stopping.is_set():
                if pending:
                    flush()
                raise SyncStopped(f"{system} {stream.name}: stopped between pages")
            stamps = [r.modified_at for r in page.records if r.modified_at is not None]
            if stamps:
                newest = max([newest, *stamps] if newest else stamps)
            pending.extend(page.records)
            if len(pending) >= self.write_batch:
                flush()
        if pending:
            flush()
        result.map_seconds += writer.map_seconds
        if since is not None and stream.delete_gap is not None:
            gap = self._unlisted(system, stream.name, as_utc(stream.delete_gap))
            if gap is not None:
                result.gaps.append(gap)
        # the whole stream was read: what it no longer holds is gone
        missing = self._missing(connector, stream.name, writer, started) if since is None else set()
        with self.store.session() as session:
            held.renew(session)
            if since is None:
                resolved = writer.resolve_unseen(session)
                if resolved:
                    log.info(
                        "%s %s: %d quarantined records no longer read",
                        system,
                        stream.name,
                        resolved,
                    )
                gone = writer.delete_missing(session, missing, started) if missing else 0
                if gone:
                    counts.deleted += gone
                    self.store.wrote(gone)
                    log.info(
                        "%s %s: %d records no longer in the system (their deletion was not "
                        "listed) marked deleted",
                        system,
                        stream.name,
                        gone,
                    )
            if newest is not None and advance:
                self._advance(session, system, stream.name, since, newest, cap, [])
            bookmark = self._bookmark(session, system, stream.name)
            if bookmark.mapping_version != writer.mapping_version:
                bookmark.mapping_version = writer.mapping_version
                session.add(bookmark)
        return counts

    def _unlisted(self, system: str, stream: str, gap: datetime) -> str | None:
        """What to tell of deletions before ``gap`` an incremental read could not list, or
        None when an earlier run that read the stream to its end started after ``gap`` (it
        listed them, or said it could not): a stream unchanged for weeks keeps an old
        bookmark, so the log is asked from before its window on every run."""
        with self.store.session() as session:
            runs = session.execute(
                select(col(SyncRun.started_at), col(SyncRun.counts))
                .where(
                    col(SyncRun.tenant) == self.tenant,
                    col(SyncRun.system) == system,
                    col(SyncRun.status).in_((RunStatus.OK, RunStatus.PARTIAL)),
                )
                .order_by(col(SyncRun.started_at).desc())
                .limit(20)
            ).all()
        read = next((as_utc(started) for started, counts in runs if stream in counts), None)
        if read is not None and gap <= read:
            return None
        return (
            f"{system}: {stream}: deletions before {gap:%Y-%m-%d %H:%M:%S} UTC can no longer be "
            f"listed; run `arsync sync --system {system} --full` to find them"
        )

    def _missing(
        self, connector: Connector, stream: str, writer: PageWriter, started: datetime
    ) -> set[str]:
        """After a whole full read of a stream: remote ids of this system's live refs the
        read did not return and the connector confirms gone (its deletion was never listed:
        older than the delete feed). All the stored refs (of more than one), more than
        :data:`MISSING_FLOOR`, or more than :data:`MISSING_SHARE` of them (unless at most
        :data:`MISSING_FEW`) at once is a filter or a permission that changed, not deletions:
        nothing is then marked, and a warning says so (:func:`too_many_missing`)."""
        with self.store.session() as session:
            stored, candidates = writer.unseen(session, started)
        writer.seen = None  # the ids read are no longer needed
        if not candidates:
            return set()
        try:
            confirmed = connector.missing(stream, candidates) & candidates
        except ApiError as exc:
            log.warning(
                "%s %s: %d stored records were not read by this full sync, and the system "
                "could not confirm they are gone (%s): none is marked deleted",
                connector.system,
                stream,
                len(candidates),
                exc,
            )
            return set()
        if too_many_missing(len(confirmed), stored):
            log.warning(
                "%s %s: %d of the %d records stored were not returned by this full sync; none "
                "is marked deleted (so many at once is no deletion): check the connector's "
                "filters and the integration user's permissions",
                connector.system,
                stream,
                len(confirmed),
                stored,
            )
            return set()
        return confirmed

    def _one_by_one(self, writer: PageWriter, records: list[RawRecord], held: Held) -> PageCounts:
        """A batch the store refused, written again a record at a time: the records it keeps
        are stored, the one it refuses (a value no column of it can hold, a key it already
        has) is quarantined with the database's reason, and the stream goes on."""
        counts = PageCounts()
        for record in records:
            try:
                with self.store.session() as session:
                    held.renew(session)
                    counts.add(writer.write(session, [record]))
            except REFUSED as exc:
                with self.store.session() as session:
                    held.renew(session)
                    counts.fetched += 1
                    counts.quarantined += writer.refused(session, record, store_reason(exc))
        return counts

    def _bookmark(self, session: Session, system: str, stream: str) -> SyncBookmark:
        found = session.get(SyncBookmark, (self.tenant, system, stream))
        return found or SyncBookmark(tenant=self.tenant, system=system, stream=stream)

    def _advance(
        self,
        session: Session,
        system: str,
        stream: str,
        since: datetime | None,
        newest: datetime,
        cap: datetime,
        records: list,
    ) -> None:
        target = min(as_utc(newest) - BOUNDARY_REWIND, cap)
        bookmark = self._bookmark(session, system, stream)
        current = as_utc(datetime.fromisoformat(bookmark.cursor)) if bookmark.cursor else None
        if current is not None and target <= current:
            return
        if since is not None and target < since:
            return
        bookmark.cursor = target.isoformat()
        bookmark.boundary_ids = sorted(
            {r.remote_id for r in records if r.modified_at and as_utc(r.modified_at) > target}
        )[:1000]
        bookmark.updated_at = utcnow()
        session.add(bookmark)

    def reset(self, system: str) -> None:
        """Forget a system's bookmarks (the next sync is a full one)."""
        with self.store.session() as session:
            for stream in STREAMS:
                found = session.get(SyncBookmark, (self.tenant, system, stream))
                if found is not None:
                    session.delete(found)
