"""Invoiced streams: list endpoints filtered by ``updated_after``, deletes from ``/events``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar

from connectors.base import Page, RawRecord, Stream
from connectors.invoiced.client import InvoicedClient, Payload


def _moment(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError):
        return None


class InvoicedStream(Stream):
    """One Invoiced object: changed records since the bookmark, then the deletes."""

    path: ClassVar[str]
    deleted_event: ClassVar[str]
    extra: ClassVar[dict[str, str]] = {}

    def __init__(self, client: InvoicedClient) -> None:
        self.client = client

    def record(self, payload: Payload, *, deleted: bool = False) -> RawRecord:
        return RawRecord(
            stream=self.name,
            object_type=self.object_type,
            remote_id=str(payload.get("id", "")),
            payload=payload,
            modified_at=_moment(payload.get("updated_at")),
            deleted=deleted,
        )

    def pages(self, since: datetime | None, until: datetime) -> Iterator[Page]:
        params: dict[str, Any] = dict(self.extra)
        if since is not None:
            params["updated_after"] = int(since.timestamp())
        for items in self.client.pages(self.path, params):
            yield Page([self.record(item) for item in items])
        if since is None:
            return  # a full pull lists only what exists: nothing to delete
        events = {"filter[type]": self.deleted_event, "start_date": int(since.timestamp())}
        for items in self.client.pages("/events", events):
            gone = []
            for event in items:
                obj = (event.get("data") or {}).get("object") or {}
                if event.get("type") == self.deleted_event and obj.get("id") is not None:
                    stamp = event.get("timestamp")
                    gone.append(self.record({**obj, "updated_at": stamp}, deleted=True))
            if gone:
                yield Page(gone)


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
    name = "payments"
    object_type = "payment"
    path = "/payments"
    deleted_event = "payment.deleted"
    extra = {"include": "applied_to"}
