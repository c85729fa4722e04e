"""What every connector is: a client over one API and thin streams that page through it.

Connectors speak the wire. They know nothing of the canonical model: a stream yields
:class:`RawRecord` pages exactly as the system returned them (numbers as ``Decimal``), and the
runtime maps, stores and bookmarks them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

from connectors.http import ApiSession

STREAMS = ("customers", "invoices", "credit_memos", "payments")
"""The streams every connector offers, in dependency order (customers first)."""


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One record as the system sent it."""

    stream: str
    object_type: str  # the system's own name: "Invoice", "ARINVOICE", "Invoice__c", ...
    remote_id: str
    payload: Mapping[str, Any]
    modified_at: datetime | None = None
    deleted: bool = False
    remote_version: str | None = None


@dataclass(slots=True)
class Page:
    """A page of records; the runtime stores it and its bookmark in one transaction."""

    records: list[RawRecord] = field(default_factory=list)


class TokenStore(Protocol):
    """Where a connector keeps secrets that rotate (QBO refresh tokens). Backed by the store."""

    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str) -> None: ...


class MemoryTokenStore:
    """A TokenStore kept in memory (tests, one-off runs)."""

    def __init__(self, initial: Mapping[str, str] | None = None) -> None:
        self.values: dict[str, str] = dict(initial or {})

    def get(self, key: str) -> str | None:
        return self.values.get(key)

    def set(self, key: str, value: str) -> None:
        self.values[key] = value


class Stream(ABC):
    """One object type of one system, read incrementally.

    ``ordered`` is True when pages come sorted by modification time ascending, so the runtime
    may advance the bookmark page by page; otherwise it advances only when the stream ends.
    ``delete_gap``, set by a stream whose delete log could not answer (purged, too old), is the
    moment before which deletions after ``since`` could not be listed by its last read.
    """

    name: ClassVar[str]
    object_type: ClassVar[str]
    ordered: ClassVar[bool] = False
    delete_gap: datetime | None = None

    @abstractmethod
    def pages(self, since: datetime | None, until: datetime) -> Iterator[Page]:
        """Pages of records modified after ``since`` (everything when None), deletes included."""


class Connector(ABC):
    """A system's client plus its streams."""

    system: ClassVar[str]

    session: ApiSession

    @abstractmethod
    def streams(self) -> dict[str, Stream]:
        """The streams by name (a subset of :data:`STREAMS`)."""

    @abstractmethod
    def check(self) -> None:
        """Authenticate and make one cheap call; raises AuthError with a clear message."""

    def mapping_facts(self) -> dict[str, object]:
        """What :meth:`check` learned of the system that its mappings need (QuickBooks: the
        company's home currency); merged over the configured mapping options."""
        return {}

    def missing(self, stream: str, remote_ids: set[str]) -> set[str]:
        """Of the records a complete full read of ``stream`` did not return, those really
        gone from the system. A full read with no upper time bound reads every live record,
        so by default all of them are; a connector whose full read stops at the run's start
        asks the system (a record changed during the run is alive, though not read)."""
        return set(remote_ids)

    @property
    def api_calls(self) -> int:
        return self.session.stats.total

    def close(self) -> None:
        self.session.close()
