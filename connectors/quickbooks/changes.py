"""Change data capture: one CDC call per run serves all four streams.

QBO's CDC returns, for each entity asked, the current state of every object changed since a
moment no more than 30 days back, deleted objects as ``{"Id", "status": "Deleted",
"MetaData"}``. The first stream to ask fetches all entities; the others reuse that answer
(filtered to their own ``since``) within the same run, identified by its ``until``.

A response holds at most 1,000 objects in all, whatever the entities asked: an answer that
reached the cap may lack changes of any entity. Each stream then asks for its own entity
alone; only when that answer reaches the cap too does the stream page a query instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from connectors.quickbooks.client import Payload, QuickBooksClient, floor_second, last_updated

CDC_ENTITIES = ("Customer", "Invoice", "CreditMemo", "Payment")
WINDOW_MARGIN = timedelta(hours=1)  # stay clear of the 30-day edge while the call travels


@dataclass
class _Capture:
    until: datetime
    since: datetime
    rows: dict[str, list[Payload]] = field(default_factory=dict)
    complete: bool = True  # False when the combined answer reached the response cap
    # asked one by one: entity -> (since asked, rows or None when that answer reached the cap)
    alone: dict[str, tuple[datetime, list[Payload] | None]] = field(default_factory=dict)


class ChangeFeed:
    """Answers "what changed in ``entity`` since ``since``" from a per-run CDC capture."""

    def __init__(self, client: QuickBooksClient, *, clock: type[datetime] = datetime) -> None:
        self.client = client
        self.clock = clock
        self._capture: _Capture | None = None

    def usable(self, since: datetime) -> bool:
        """True when ``since`` is inside the CDC look-back window."""
        days = self.client.config.cdc_window_days
        if days <= 0:
            return False
        return since > self.clock.now(UTC) - timedelta(days=days) + WINDOW_MARGIN

    def changes(self, entity: str, since: datetime, until: datetime) -> list[Payload] | None:
        """Objects changed at or after ``since`` (second precision), oldest first.

        None when CDC cannot answer: ``since`` is too old, or the entity asked alone still
        reached the server's per-response cap (some changes may be missing), so the caller
        pages a query.
        """
        if entity not in CDC_ENTITIES or not self.usable(since):
            return None
        cap = self.client.config.cdc_max_objects
        capture = self._capture
        if capture is None or capture.until != until or capture.since > since:
            captured = self.client.change_data_capture(list(CDC_ENTITIES), since)
            total = sum(len(found) for found in captured.values())
            capture = self._capture = _Capture(
                until=until, since=since, rows=captured, complete=total < cap
            )
        rows: list[Payload] | None = capture.rows.get(entity, [])
        if not capture.complete:
            # from this stream's own since: the capture's may be far older (another stream's)
            asked = capture.alone.get(entity)
            if asked is None or asked[0] > since:
                own = self.client.change_data_capture([entity], since).get(entity, [])
                asked = capture.alone[entity] = (since, own if len(own) < cap else None)
            rows = asked[1]
        if rows is None:
            return None
        floor = floor_second(since)
        fresh = [row for row in rows if (last_updated(row) or floor) >= floor]
        return sorted(fresh, key=lambda row: last_updated(row) or floor)
