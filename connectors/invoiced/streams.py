"""Invoiced streams: list endpoints sorted by ``updated_at`` and filtered by ``updated_after``,
with the deletes read from ``/events`` merged in by time, so every page is in time order.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar

from connectors.base import Page, RawRecord, Stream
from connectors.errors import TransientError
from connectors.invoiced.client import SYSTEM, InvoicedClient, Payload

SORT = "updated_at ASC"
MAX_PASSES = 5  # reads of a list that kept changing under the pages, before giving up

log = logging.getLogger("arsync.invoiced")


def moment(value: Any) -> datetime | None:
    """A unix timestamp as an aware datetime; None when it is not one."""
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def deleted_objects(
    client: InvoicedClient, event_type: str, after: int
) -> list[tuple[int, Payload]]:
    """``(timestamp, object)`` of the ``event_type`` events stamped after ``after``.

    ``/events`` lists newest first, so reading stops at the first page reaching back to
    ``after``. Events are also checked by type here, whatever the server did with the filter.
    """
    found: list[tuple[int, Payload]] = []
    for events in client.pages("/events", {"filter[type]": event_type}):
        reached_back = False
        for event in events:
            stamp = event.get("timestamp")
            if not isinstance(stamp, int) or stamp <= after:
                reached_back = reached_back or isinstance(stamp, int)
                continue
            obj = (event.get("data") or {}).get("object")
            if event.get("type") == event_type and isinstance(obj, dict) and "id" in obj:
                found.append((stamp, obj))
        if reached_back:
            break
    found.sort(key=lambda item: item[0])
    return found


class InvoicedStream(Stream):
    """One Invoiced object type: what changed after the bookmark, deletes included."""

    # Sorted by updated_at, deletes merged in by their event time; yet not ``ordered``: a list
    # that shifted while it was paged is read again from before the shift (see ``listed``),
    # so a page may come after newer ones, and the bookmark moves only once the stream ends
    ordered = False
    path: ClassVar[str]
    deleted_event: ClassVar[str]
    extra: ClassVar[dict[str, str]] = {}

    def __init__(self, client: InvoicedClient) -> None:
        self.client = client

    def record(self, payload: Payload, *, modified: Any = None, deleted: bool = False) -> RawRecord:
        return RawRecord(
            stream=self.name,
            object_type=self.object_type,
            remote_id=str(payload.get("id", "")),
            payload=payload,
            modified_at=moment(payload.get("updated_at") if modified is None else modified),
            deleted=deleted,
        )

    def pages(self, since: datetime | None, until: datetime) -> Iterator[Page]:
        params: dict[str, Any] = {**self.extra, "sort": SORT}
        pending: deque[RawRecord] = deque()
        after: int | None = None
        if since is not None:
            after = int(since.timestamp())
            pending.extend(
                self.record(obj, modified=stamp, deleted=True)
                for stamp, obj in deleted_objects(self.client, self.deleted_event, after)
            )
        for items in self.listed(params, after):
            records = [self.record(item) for item in items]
            stamps = [r.modified_at for r in records if r.modified_at is not None]
            newest = max(stamps) if stamps else None
            while pending and newest is not None and pending[0].modified_at <= newest:  # type: ignore[operator]
                records.append(pending.popleft())
            yield Page(records)
        if pending:
            yield Page(list(pending))

    def listed(self, params: dict[str, Any], after: int | None) -> Iterator[list[Payload]]:
        """Every record of the list endpoint (``updated_after`` ``after`` when set), page by page.

        The pages are numbered over a list sorted by ``updated_at``: a record read on one page
        and changed (or deleted) before the next is read leaves its place, each later record
        moves one place up, and the one that was first on the next page is never read. Such a
        move shows as a record read twice in one pass (it comes back at the end, stamped anew)
        or as ``X-Total-Count`` falling between pages; the list is then read again from the last
        stamp of the page before the first boundary that may have moved (what was read already
        comes again; unchanged, the store writes nothing for it). A quiet list costs one call a
        page, as before.
        """
        for _ in range(MAX_PASSES):
            query = dict(params) if after is None else {**params, "updated_after": after}
            first_page: dict[str, int] = {}
            last_stamps: list[int | None] = []
            previous_total: int | None = None
            suspect: int | None = None
            for index, items in enumerate(self.client.pages(self.path, query)):
                total = self.client.last_total
                if previous_total is not None and total is not None and total < previous_total:
                    suspect = index - 1 if suspect is None else min(suspect, index - 1)
                previous_total = total
                for item in items:
                    remote_id = str(item.get("id", ""))
                    if remote_id in first_page:
                        moved_from = first_page[remote_id]
                        suspect = moved_from if suspect is None else min(suspect, moved_from)
                    else:
                        first_page[remote_id] = index
                stamps = [
                    v for v in (item.get("updated_at") for item in items) if isinstance(v, int)
                ]
                last_stamps.append(max(stamps) if stamps else None)
                yield items
            if suspect is None:
                return
            resume = next((s for s in reversed(last_stamps[: suspect + 1]) if s is not None), None)
            after = resume - 1 if resume is not None else after
            log.info(
                "invoiced %s: the list changed while it was paged; reading again after %s",
                self.path,
                after,
            )
        # a record may have been passed over: the stream fails (its bookmark stays) and the
        # next run reads it again, rather than end as if complete (a full read would take
        # what it passed over for deleted)
        raise TransientError(
            SYSTEM,
            f"GET {self.path}: the list kept changing while it was paged ({MAX_PASSES} reads); "
            "read again on the next run",
        )


class Customers(InvoicedStream):
    name = "customers"
    object_type = "customer"
    path = "/customers"
    deleted_event = "customer.deleted"


class Invoices(InvoicedStream):
    name = "invoices"
    object_type = "invoice"
    path = "/invoices"
    deleted_event = "invoice.deleted"


class CreditNotes(InvoicedStream):
    name = "credit_memos"
    object_type = "credit_note"
    path = "/credit_notes"
    deleted_event = "credit_note.deleted"


class Payments(InvoicedStream):
    """Payments with their applications (``include=applied_to``) in the same list call."""

    name = "payments"
    object_type = "payment"
    path = "/payments"
    deleted_event = "payment.deleted"
    extra = {"include": "applied_to"}
