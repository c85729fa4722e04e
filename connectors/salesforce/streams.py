"""Salesforce streams: SOQL on SystemModstamp merged with the getDeleted log, oldest first.

Each stream reads one or more SObjects (the payments stream also reads credit-memo
applications when the org keeps them as their own object). Live records come from
``SELECT ... WHERE SystemModstamp > since AND SystemModstamp <= until ORDER BY
SystemModstamp, Id``; deletions from ``sobjects/X/deleted/``. Both are merged by time so
pages are in ascending modification order and the bookmark may advance page by page.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from connectors.base import Page, RawRecord, Stream
from connectors.errors import ApiError, AuthError
from connectors.salesforce.client import MAX_RESTARTS, SYSTEM, SalesforceClient
from connectors.salesforce.errors import QUERY_LOCATOR
from connectors.salesforce.soql import incremental_query, next_second
from mappings.salesforce.schema import SalesforceSchema

log = logging.getLogger("arsync.salesforce")

_CONFIG_CODES = ("INVALID_FIELD", "INVALID_TYPE", "MALFORMED_QUERY")
_SHORTEST_WINDOW = timedelta(minutes=2)  # whole minutes; getDeleted wants more than one


def parse_sf_datetime(value: Any) -> datetime | None:
    """``2024-05-01T10:00:00.000+0000`` (Salesforce's form) or ISO 8601 -> aware UTC."""
    if not value:
        return None
    raw = str(value).strip().replace("Z", "+00:00")
    if len(raw) >= 5 and raw[-5] in "+-" and raw[-3] != ":":
        raw = raw[:-2] + ":" + raw[-2:]
    moment = datetime.fromisoformat(raw)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class Source:
    """One SObject a stream reads: its fields and any child subqueries."""

    sobject: str
    fields: list[str]
    children: list[tuple[str, list[str]]] = field(default_factory=list)


class SalesforceStream(Stream):
    """A stream over one or more SObjects, in SystemModstamp order, deletes included."""

    ordered = True

    def __init__(
        self,
        client: SalesforceClient,
        sources: list[Source],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client = client
        self.sources = sources
        self.clock = clock
        self.delete_gap: datetime | None = None  # set when deletes before it are unknowable

    def pages(self, since: datetime | None, until: datetime) -> Iterator[Page]:
        """Live records and deletions in (since, until], merged oldest first.

        Deletions are read first: the delete log says how far it is complete
        (``latestDateCovered``), and nothing later is read this run, so the bookmark never
        passes a deletion the log has yet to list.
        """
        deletions: list[list[RawRecord]] = []
        if since is not None:
            for source in self.sources:
                found, covered = self._deleted(source, since, until)
                deletions.append(found)
                if covered is not None and covered < until:
                    until = covered
            if until <= since:
                return
        feeds: list[Iterator[RawRecord]] = [self._live(s, since, until) for s in self.sources]
        feeds += [iter([r for r in found if _order_key(r)[0] <= until]) for found in deletions]
        merged = heapq.merge(*feeds, key=_order_key) if len(feeds) > 1 else feeds[0]
        page = Page()
        for record in merged:
            page.records.append(record)
            if len(page.records) >= self.client.config.page_size:
                yield page
                page = Page()
        if page.records:
            yield page

    def _live(self, source: Source, since: datetime | None, until: datetime) -> Iterator[RawRecord]:
        """The records of one SObject; a query whose cursor expired is sent again from the
        last stamp read (``>=``), skipping the records of that stamp already read.

        The query is ordered by SystemModstamp then Id, so every record not yet read has a
        stamp at or after the last one read. Records are told apart by Id, never by comparing
        Ids: SOQL sorts Ids of one stamp case-insensitively, which is not Python's order.
        """
        stamp: datetime | None = None  # the newest stamp read so far
        at_stamp: set[str] = set()  # the ids read with that stamp
        stalled = 0  # resumes in a row that handed out no new record
        while True:
            floor, done = stamp, set(at_stamp)  # where a resumed query starts, what it repeats
            soql = incremental_query(
                source.sobject,
                source.fields,
                since=floor if floor is not None else since,
                until=until,
                children=source.children,
                inclusive=floor is not None,
            )
            try:
                for record in self._query(source, soql, until):
                    moment = _order_key(record)[0]
                    if floor is not None and (
                        moment < floor or (moment == floor and record.remote_id in done)
                    ):
                        continue  # already yielded before the cursor was lost
                    if stamp is None or moment > stamp:
                        stamp, at_stamp = moment, set()
                    at_stamp.add(record.remote_id)
                    stalled = 0
                    yield record
                return
            except ApiError as exc:
                # A query cursor left idle too long expires; resume after the last record.
                # A resume that hands out a new record made progress, so only resumes in a
                # row without one are bounded (an object read over hours may expire often).
                if exc.code != QUERY_LOCATOR or stalled >= MAX_RESTARTS:
                    raise
                stalled += 1
                start = stamp or since
                log.warning(
                    "salesforce %s: query cursor expired (%s, HTTP %s); querying again from "
                    "%s (resume %d of %d without a new record)",
                    source.sobject,
                    exc.code,
                    exc.status,
                    start.isoformat() if start is not None else "the start",
                    stalled,
                    MAX_RESTARTS,
                )

    def _query(self, source: Source, soql: str, until: datetime) -> Iterator[RawRecord]:
        try:
            for records in self.client.query_pages(soql):
                for payload in records:
                    modified = parse_sf_datetime(payload.get("SystemModstamp"))
                    if modified is not None and modified > until:
                        continue
                    yield RawRecord(
                        stream=self.name,
                        object_type=source.sobject,
                        remote_id=str(payload["Id"]),
                        payload=payload,
                        modified_at=modified,
                        remote_version=_text(payload.get("LastModifiedDate")),
                    )
        except AuthError as exc:
            if exc.code in _CONFIG_CODES:
                raise AuthError(
                    SYSTEM,
                    f"{source.sobject}: {exc.message}; check the object and field names "
                    "configured in SalesforceConfig.objects",
                    status=exc.status,
                    code=exc.code,
                ) from None
            raise

    def _deleted(
        self, source: Source, since: datetime, until: datetime
    ) -> tuple[list[RawRecord], datetime | None]:
        """Deletions in (since, until], oldest first, and the ``latestDateCovered`` of the
        log when it stops short of ``until``.

        getDeleted covers the last 15 days at most, at minute granularity; deletions before
        its ``earliestDateAvailable`` were purged from the log. Either way the deletions
        before that moment cannot be listed: :attr:`delete_gap` says from when.
        """
        oldest = self.clock() - timedelta(days=self.client.config.deleted_window_days)
        start = since
        if since < oldest:
            start = oldest + timedelta(minutes=5)
            self._gap(source, start)
        start = start.replace(second=0, microsecond=0)
        if start >= until:
            return [], None
        # getDeleted ignores seconds and refuses (INVALID_REPLICATION_DATE) a window of a minute
        # or less: start earlier; the deletions before ``since`` are left out below.
        asked = min(start, until.replace(second=0, microsecond=0) - _SHORTEST_WINDOW)
        try:
            body = self.client.deleted(source.sobject, asked, next_second(until))
        except ApiError as exc:
            if exc.code != "INVALID_REPLICATION_DATE":
                raise
            # the log cannot answer for this window (purged, or older than the org's
            # replication date): the live records are still read
            self._gap(source, until, exc.message)
            return [], None
        purged = _moment(body.get("earliestDateAvailable"))
        if purged is not None and purged > start:
            self._gap(source, purged)
        covered = _moment(body.get("latestDateCovered"))
        found = []
        for item in body.get("deletedRecords", []):
            moment = parse_sf_datetime(item.get("deletedDate"))
            if moment is None or moment <= since or moment > until:
                continue
            found.append(
                RawRecord(
                    stream=self.name,
                    object_type=source.sobject,
                    remote_id=str(item["id"]),
                    payload=dict(item),
                    modified_at=moment,
                    deleted=True,
                )
            )
        found.sort(key=_order_key)
        return found, covered if covered is not None and covered < until else None

    def _gap(self, source: Source, start: datetime, reason: str | None = None) -> None:
        """Note that deletions of ``source`` before ``start`` can no longer be listed."""
        if self.delete_gap is None or start > self.delete_gap:
            self.delete_gap = start
        log.warning(
            "salesforce %s: deletions before %s are no longer in the delete log%s; "
            "run a full re-sync to reconcile them",
            source.sobject,
            start.isoformat(),
            f" ({reason})" if reason else "",
        )


def _moment(value: Any) -> datetime | None:
    """A dateTime of a getDeleted answer, or None when absent or unreadable."""
    try:
        return parse_sf_datetime(value)
    except ValueError:
        return None


def _order_key(record: RawRecord) -> tuple[datetime, str]:
    return (record.modified_at or datetime.min.replace(tzinfo=UTC), record.remote_id)


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


class CustomersStream(SalesforceStream):
    name: ClassVar[str] = "customers"
    object_type: ClassVar[str] = "Account"


class InvoicesStream(SalesforceStream):
    name: ClassVar[str] = "invoices"
    object_type: ClassVar[str] = "Invoice"


class CreditMemosStream(SalesforceStream):
    name: ClassVar[str] = "credit_memos"
    object_type: ClassVar[str] = "CreditMemo"


class PaymentsStream(SalesforceStream):
    """Payments with their applications (a child subquery: no call per payment)."""

    name: ClassVar[str] = "payments"
    object_type: ClassVar[str] = "Payment"


def build_streams(client: SalesforceClient, schema: SalesforceSchema) -> dict[str, Stream]:
    """The four streams for the org's configured objects."""
    apps = schema.payment.applications
    payment_sources = [
        Source(
            schema.payment.sobject,
            schema.payment.select_fields(),
            [(apps.relationship, apps.select_fields())],
        )
    ]
    if schema.credit_application is not None:
        credit = schema.credit_application
        payment_sources.append(Source(credit.sobject, credit.select_fields()))
    streams: list[SalesforceStream] = [
        CustomersStream(client, [Source(schema.account.sobject, schema.account.select_fields())]),
        InvoicesStream(client, [Source(schema.invoice.sobject, schema.invoice.select_fields())]),
        CreditMemosStream(
            client, [Source(schema.credit_memo.sobject, schema.credit_memo.select_fields())]
        ),
        PaymentsStream(client, payment_sources),
    ]
    return {stream.name: stream for stream in streams}
