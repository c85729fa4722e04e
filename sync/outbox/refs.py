"""The remote side of canonical records in one system, as of the last pull (or write)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from canonical.models import ExternalRef
from sync.outbox.errors import Unwritable

_CHUNK = 500


@dataclass
class RemoteRef:
    """One canonical record as one system holds it."""

    canonical_type: str
    canonical_id: str
    remote_id: str
    version: str | None
    values: dict[str, Any] = field(default_factory=dict)
    deleted: bool = False
    object_type: str | None = None  # the system's own object (Intacct: ARINVOICE, ARADJUSTMENT)

    @property
    def balance_minor(self) -> int | None:
        value = self.values.get("balance_minor")
        return int(value) if value is not None else None


class RefIndex:
    """Remote ids, versions and views of canonical records in one system."""

    def __init__(self, system: str) -> None:
        self.system = system
        self.refs: dict[tuple[str, str], RemoteRef] = {}
        self.checks = True  # refuse writes the records no longer allow (see :meth:`unchecked`)

    @classmethod
    def load(
        cls, session: Session, tenant: str, system: str, wanted: Iterable[tuple[str, str]]
    ) -> RefIndex:
        index = cls(system)
        by_type: dict[str, set[str]] = {}
        for ctype, cid in wanted:
            by_type.setdefault(ctype, set()).add(cid)
        for ctype, ids in by_type.items():
            ordered = sorted(ids)
            for start in range(0, len(ordered), _CHUNK):
                rows = session.exec(
                    select(ExternalRef).where(
                        col(ExternalRef.tenant) == tenant,
                        col(ExternalRef.system) == system,
                        col(ExternalRef.canonical_type) == ctype,
                        col(ExternalRef.canonical_id).in_(ordered[start : start + _CHUNK]),
                    )
                ).all()
                for row in rows:
                    known = index.refs.get((ctype, row.canonical_id))
                    if known is not None and not known.deleted and row.deleted:
                        continue  # a live record wins over a deleted twin
                    index.refs[(ctype, row.canonical_id)] = RemoteRef(
                        ctype,
                        row.canonical_id,
                        row.remote_id,
                        row.remote_version,
                        dict(row.values or {}),
                        row.deleted,
                        row.object_type,
                    )
        return index

    def unchecked(self) -> RefIndex:
        """The same records, not checked against: for looking a write up in the system, where
        what the write did may be what changed them (a balance paid, a record gone)."""
        index = RefIndex(self.system)
        index.refs = self.refs
        index.checks = False
        return index

    def get(self, ctype: str, canonical_id: str) -> RemoteRef | None:
        return self.refs.get((ctype, canonical_id))

    def live(self, ctype: str, canonical_id: str, what: str) -> RemoteRef:
        """The live remote record, or :class:`~sync.outbox.adapter.Unwritable` naming it."""
        ref = self.refs.get((ctype, canonical_id))
        if ref is None:
            raise Unwritable(f"{what} has no record in {self.system}")
        if ref.deleted and self.checks:
            raise Unwritable(f"{what} was deleted in {self.system}", conflict=True)
        return ref
