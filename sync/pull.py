"""Storing one page of pulled records: map, resolve identity, upsert, remember, flag drift.

Everything a page does happens in the caller's transaction, together with the bookmark that
covers it. Unchanged records (same payload hash as last seen) cost one lookup and no write.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

import orjson
from rapidfuzz import fuzz, process
from sqlalchemy import Table, func, insert, or_, select, update
from sqlmodel import Session, col

from canonical.bulk import ID_PARAM, delete_in, insert_rows, select_in, update_rows_by_id
from canonical.enums import ApplicationKind, ApplicationStatus, FindingStatus
from canonical.ids import new_id
from canonical.keys import legal_form, split_prefix
from canonical.models import (
    Application,
    Customer,
    DriftFinding,
    ExternalRef,
    IdentityCandidate,
    Quarantine,
)
from canonical.records import PaymentIn, RecordIn
from canonical.types import ClippedString, as_utc, utcnow
from connectors.base import RawRecord
from connectors.redact import redact
from mappings.base import MappingContext, MappingError
from mappings.registry import Mapper
from sync.columns import DRIFT_FIELDS, STREAM_TYPES, TABLES, columns, display, snapshot
from sync.settings import SystemOfRecord

log = logging.getLogger("arsync.sync")

DELETED_STATUS = "deleted"
# the hash of a ref marked deleted because a full read no longer returned it: no payload
# hashes to it, so the record is processed again whenever it comes back, unchanged or not
UNREAD_HASH = ""
REF: Table = ExternalRef.__table__  # type: ignore[attr-defined]
QUARANTINE: Table = Quarantine.__table__  # type: ignore[attr-defined]
DRIFT: Table = DriftFinding.__table__  # type: ignore[attr-defined]
APPLICATION: Table = Application.__table__  # type: ignore[attr-defined]
CANDIDATES: Table = IdentityCandidate.__table__  # type: ignore[attr-defined]
_CHUNK = 500
FUZZY_CANDIDATE_SCORE = 88
_SHAPES_KEPT = 4096  # field-ownership answers remembered per writer
_OTHER_REFS_KEPT = 200_000  # refs of other streams remembered per writer


def payload_hash(record: RawRecord, mapping_version: str = "") -> str:
    """A digest of what the system said and of the mapping that reads it, to tell a changed
    record (or one a newer mapping reads differently) from a re-read one."""
    body = orjson.dumps(record.payload, default=str, option=orjson.OPT_SORT_KEYS)
    digest = hashlib.blake2b(body, digest_size=16)
    digest.update(b"\x01" if record.deleted else b"\x00")
    digest.update(mapping_version.encode())
    return digest.hexdigest()


# the link rule of an import's ref to a customer it found by name or number (sync.importer)
IMPORT_LINK = "import:"


def _is_import_link(link_rule: str) -> bool:
    return link_rule.startswith(IMPORT_LINK)


# what a system reports of a record it still holds but that is over: it is no document to
# join a new one with
DEAD_STATUSES = frozenset({"void", DELETED_STATUS})


def _alive(ref: Any) -> bool:
    """Whether a ref says its system holds the record alive: not deleted there, not reported
    void or deleted, and no import's lookup key."""
    return (
        not ref.deleted
        and not _is_import_link(ref.link_rule)
        and (ref.values or {}).get("status") not in DEAD_STATUSES
    )


def _over(refs: list[Any]) -> bool:
    """Whether a record is over everywhere: deleted in one system, voided in another, alive
    in none. A new live record with its key (its number used again) is another document: the
    void copy holds its system's place, so a new copy from there could not join it and would
    stand apart from its twin. Deleted alone, or void alone, it may be the same document read
    here first (joined, the difference shows as drift)."""
    held = [r for r in refs if not _is_import_link(r.link_rule)]
    return (
        not any(_alive(r) for r in held)
        and any(r.deleted for r in held)
        and any(not r.deleted and (r.values or {}).get("status") == "void" for r in held)
    )


def _holders_agree(
    fields: tuple[str, ...], mine: dict[str, Any], views_of: dict[str, dict[str, Any]]
) -> bool:
    """Whether every system holding each of ``fields`` holds the same value (this system's
    view ``mine``, the others' ``views_of``)."""
    for fieldname in fields:
        value = mine.get(fieldname, _ABSENT)
        for view in views_of.values():
            theirs = view.get(fieldname, _ABSENT)
            if theirs is _ABSENT:
                continue
            if value is _ABSENT:
                value = theirs
            elif theirs != value:
                return False
    return True


_ABSENT = object()


def _sorted_words(key: str) -> str:
    return " ".join(sorted(key.split()))


def _json_safe(payload: Any) -> Any:
    return json.loads(
        json.dumps(
            payload, default=lambda v: str(v) if isinstance(v, Decimal | datetime) else repr(v)
        )
    )


@dataclass
class PageCounts:
    fetched: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    quarantined: int = 0
    linked: int = 0

    def add(self, other: PageCounts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @property
    def writes(self) -> int:
        return self.created + self.updated + self.deleted + self.quarantined


@dataclass(slots=True)
class _Pending:
    raw: RawRecord
    hash: str
    record: RecordIn
    ref: Any | None  # the ref row of this remote id (see _refs_by_remote)
    customer_id: str | None = None
    canonical_id: str | None = None
    link_rule: str = "created"
    values: dict[str, Any] = field(default_factory=dict)


class PageWriter:
    """Writes pages of one stream of one system into the store."""

    def __init__(
        self,
        *,
        tenant: str,
        system: str,
        stream: str,
        mapper: Mapper,
        context: MappingContext,
        system_of_record: SystemOfRecord,
        run_id: str | None = None,
        mapping_version: str = "",
    ) -> None:
        self.tenant = tenant
        self.system = system
        self.stream = stream
        self.ctype = STREAM_TYPES[stream]
        self.table = TABLES[self.ctype]
        self.mapper = mapper
        self.context = context
        self.sor = system_of_record
        self.run_id = run_id
        self.mapping_version = mapping_version
        self._rivals_of: dict[tuple[str, bool], tuple[str, ...] | None] = {}
        self._owned_by_shape: dict[tuple[Any, ...], tuple[str, ...]] = {}
        self._other_refs_of: dict[str, dict[str, Any]] = {}
        self.map_seconds = 0.0  # spent hashing and mapping records (the rest is storing)
        self.seen: set[str] | None = None  # remote ids read, during a full read only

    def remember_seen(self) -> None:
        """Keep the remote id of every record written from now on (a full read: what the
        stream no longer returns is then known, see :meth:`unseen`)."""
        self.seen = set()

    # entry point ---------------------------------------------------------------------------
    def write(self, session: Session, records: list[RawRecord]) -> PageCounts:
        counts = PageCounts(fetched=len(records))
        if self.seen is not None:
            self.seen.update(r.remote_id for r in records)
        if not records:
            return counts
        records = list({r.remote_id: r for r in records}.values())  # last copy of an id wins
        refs = self._refs_by_remote(session, [r.remote_id for r in records])
        quarantined = self._open_quarantine(session, [r.remote_id for r in records])
        pending: list[_Pending] = []
        # open quarantines of records read again fine: stored, the copy stored before (an
        # edit undone), or deleted in the system
        settled: list[str] = []
        mapping = time.perf_counter()
        for raw in records:
            digest = payload_hash(raw, self.mapping_version)
            ref = refs.get(raw.remote_id)
            if ref is not None and ref.hash == digest:
                counts.unchanged += 1
                settled.append(raw.remote_id)
                continue
            if raw.deleted:
                if ref is not None and not ref.deleted:
                    self._delete(session, ref, digest)
                    counts.deleted += 1
                else:
                    counts.unchanged += 1
                settled.append(raw.remote_id)
                continue
            try:
                record = self.mapper(raw, self.context)
            except MappingError as exc:
                if self._quarantine(session, raw, exc.field, exc.reason, quarantined):
                    counts.quarantined += 1
                continue
            except (ValueError, TypeError, KeyError) as exc:
                if self._quarantine(session, raw, None, str(exc), quarantined):
                    counts.quarantined += 1
                continue
            if record.deleted and ref is None:
                counts.unchanged += 1
                settled.append(raw.remote_id)
                continue
            pending.append(_Pending(raw, digest, record, ref))
        self.map_seconds += time.perf_counter() - mapping
        if pending:
            self._resolve_customers(session, pending)
            for p in pending:
                p.values = columns(p.record, p.customer_id)
            refs_of: dict[str, list[Any]] = {}  # canonical id -> every system's refs
            self._resolve_identity(session, pending, counts, refs_of)
            self._upsert(session, pending, counts, refs_of)
            settled.extend(p.raw.remote_id for p in pending)
        if quarantined:
            resolved = {
                row.id
                for r in settled
                if (row := quarantined.get(r)) is not None and row.resolved_at is None
            }
            if resolved:
                session.execute(
                    update(Quarantine)
                    .where(col(Quarantine.id).in_(resolved))
                    .values(resolved_at=utcnow())
                )
        return counts

    # lookups ---------------------------------------------------------------------------------
    def _refs_by_remote(
        self,
        session: Session,
        remote_ids: Collection[str],
        system: str | None = None,
        ctype: str | None = None,
    ) -> dict[str, Any]:
        """Refs (id, remote_id, canonical_id, hash, deleted) of remote ids in one system."""
        rows = select_in(
            session,
            REF,
            ("id", "remote_id", "canonical_id", "hash", "deleted"),
            equal={
                "tenant": self.tenant,
                "system": system or self.system,
                "canonical_type": ctype or self.ctype,
            },
            within={"remote_id": remote_ids},
        )
        return {row.remote_id: row for row in rows}

    def _other_refs(
        self, session: Session, remote_ids: Collection[str], ctype: str
    ) -> dict[str, Any]:
        """This system's refs of another canonical type (a page's customers, a payment's
        invoices). Another stream wrote them, so they cannot change while this one is
        written: each is read once per writer and remembered (up to ``_OTHER_REFS_KEPT``)."""
        known = self._other_refs_of.setdefault(ctype, {})
        missing = {r for r in remote_ids if r not in known}
        if missing:
            if len(known) + len(missing) > _OTHER_REFS_KEPT:
                known.clear()
                missing = set(remote_ids)
            known.update(self._refs_by_remote(session, missing, ctype=ctype))
        return {r: known[r] for r in remote_ids if r in known}

    def _open_quarantine(self, session: Session, remote_ids: Collection[str]) -> dict[str, Any]:
        """Quarantine rows of remote ids, by the ids as given (a row holds an over-long id
        cut to its column, see ``ClippedString``)."""
        rows = select_in(
            session,
            QUARANTINE,
            ("id", "remote_id", "reason", "payload", "resolved_at", "run_id"),
            equal={"tenant": self.tenant, "system": self.system, "object_type": self.stream},
            within={"remote_id": remote_ids},
        )
        by_stored = {row.remote_id: row for row in rows}
        if not by_stored:
            return {}
        clip = cast(ClippedString, QUARANTINE.c.remote_id.type).process_bind_param
        dialect = session.get_bind().dialect
        return {r: by_stored[key] for r in remote_ids if (key := clip(r, dialect)) in by_stored}

    def resolve_unseen(self, session: Session) -> int:
        """After a full read of the stream: quarantined records this run did not see again
        no longer come from the system (deleted, or now read by another stream), so their
        quarantine is resolved. Returns how many."""
        if self.run_id is None:
            return 0
        result = session.execute(
            update(Quarantine)
            .where(
                col(Quarantine.tenant) == self.tenant,
                col(Quarantine.system) == self.system,
                col(Quarantine.object_type) == self.stream,
                col(Quarantine.resolved_at).is_(None),
                or_(col(Quarantine.run_id).is_(None), col(Quarantine.run_id) != self.run_id),
            )
            .values(resolved_at=utcnow())
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def unseen(self, session: Session, before: datetime) -> tuple[int, set[str]]:
        """After a whole full read: how many of this system's refs of the stream's type are
        live in the store, and the remote ids of those the read did not return (seen last
        before ``before``, the run's start: a ref written meanwhile, by a push, is not one).
        Only ids are held."""
        if self.seen is None:
            return 0, set()
        live = (
            col(ExternalRef.tenant) == self.tenant,
            col(ExternalRef.system) == self.system,
            col(ExternalRef.canonical_type) == self.ctype,
            col(ExternalRef.deleted).is_(False),
        )
        stored = session.execute(select(func.count()).select_from(ExternalRef).where(*live))
        rows = session.execute(
            select(col(ExternalRef.remote_id)).where(*live, col(ExternalRef.seen_at) < before),
            execution_options={"yield_per": 10_000},
        )
        seen = self.seen
        return int(stored.scalar_one()), {r for (r,) in rows if r not in seen}

    def delete_missing(
        self, session: Session, remote_ids: Collection[str], before: datetime
    ) -> int:
        """Mark deleted, as a delete the system announced, the refs of records a full read no
        longer returned and the connector confirmed gone (those still live and seen last
        before ``before``); returns how many. Their hash is :data:`UNREAD_HASH`, so a record
        that comes back is read again."""
        refs = select_in(
            session,
            REF,
            ("id", "remote_id", "canonical_id", "deleted", "seen_at"),
            equal={"tenant": self.tenant, "system": self.system, "canonical_type": self.ctype},
            within={"remote_id": set(remote_ids)},
        )
        gone = 0
        for ref in refs:
            if ref.deleted or as_utc(ref.seen_at) >= before:
                continue
            self._delete(session, ref, UNREAD_HASH)
            gone += 1
        return gone

    def _refs_of(self, session: Session, canonical_ids: Collection[str]) -> dict[str, list[Any]]:
        """Every system's refs (id, canonical_id, system, deleted, values, link_rule) of
        canonical ids."""
        out: dict[str, list[Any]] = defaultdict(list)
        for ref in select_in(
            session,
            REF,
            ("id", "canonical_id", "system", "deleted", "values", "link_rule"),
            equal={"tenant": self.tenant, "canonical_type": self.ctype},
            within={"canonical_id": set(canonical_ids)},
        ):
            out[ref.canonical_id].append(ref)
        return out

    # quarantine and deletes ----------------------------------------------------------------------
    def _quarantine(
        self,
        session: Session,
        raw: RawRecord,
        fieldname: str | None,
        reason: str,
        existing: dict[str, Any],
    ) -> bool:
        message = (
            f"{self.system} {raw.object_type or self.stream} {raw.remote_id}: "
            + (f"field {fieldname!r}: " if fieldname else "")
            + reason
        )
        payload = _json_safe(redact(dict(raw.payload)))
        log.warning("quarantined %s", message)
        old = existing.get(raw.remote_id)
        if old is not None:
            if old.reason == message and old.payload == payload and old.resolved_at is None:
                if old.run_id != self.run_id:  # still failing: seen by this run
                    session.execute(
                        update(Quarantine)
                        .where(col(Quarantine.id) == old.id)
                        .values(run_id=self.run_id)
                    )
                return False
            session.execute(
                update(Quarantine)
                .where(col(Quarantine.id) == old.id)
                .values(
                    reason=message,
                    payload=payload,
                    field=fieldname,
                    run_id=self.run_id,
                    resolved_at=None,
                    created_at=utcnow(),
                )
            )
            return True
        session.execute(
            insert(Quarantine).values(
                id=new_id(),
                tenant=self.tenant,
                run_id=self.run_id,
                system=self.system,
                object_type=self.stream,
                remote_id=raw.remote_id,
                field=fieldname,
                reason=message,
                payload=payload,
                created_at=utcnow(),
                resolved_at=None,
            )
        )
        return True

    def refused(self, session: Session, raw: RawRecord, reason: str) -> bool:
        """Quarantine a record the store refused to keep (``reason``: the database's own
        first line, never the values); True when newly quarantined."""
        if self.seen is not None:
            self.seen.add(raw.remote_id)
        existing = self._open_quarantine(session, [raw.remote_id])
        return self._quarantine(session, raw, None, f"the store refused it: {reason}", existing)

    def _delete(self, session: Session, ref: Any, digest: str) -> None:
        now = utcnow()
        session.execute(
            update(ExternalRef)
            .where(col(ExternalRef.id) == ref.id)
            .values(deleted=True, hash=digest, seen_at=now)
        )
        live = [
            r
            for r in self._refs_of(session, [ref.canonical_id])[ref.canonical_id]
            if not r.deleted and r.id != ref.id
        ]
        self._settle_drift(session, ref.canonical_id, live, now)
        owner = self._owner("status", {r.system for r in live} | {self.system})
        if owner == self.system:
            session.execute(
                update(self.table)
                .where(self.table.id == ref.canonical_id)  # type: ignore[attr-defined]
                .values(status=DELETED_STATUS, updated_at=now)
            )
        if self.ctype == "payment":  # its cash and the credits it applied
            session.execute(
                update(Application)
                .where(
                    or_(
                        col(Application.source_id) == ref.canonical_id,
                        col(Application.payment_id) == ref.canonical_id,
                    ),
                    col(Application.origin) == f"system:{self.system}",
                )
                .values(status=ApplicationStatus.REVERSED)
            )

    def _settle_drift(
        self, session: Session, canonical_id: str, live: list[Any], now: datetime
    ) -> None:
        """The open drift findings of a record a system no longer holds, compared again among
        the systems still holding it (``live``, their refs): a field fewer than two of them
        hold disagrees with no one, and is resolved."""
        findings = select_in(
            session,
            DRIFT,
            ("id", "field", "values"),
            equal={
                "tenant": self.tenant,
                "canonical_type": self.ctype,
                "status": FindingStatus.OPEN,
            },
            within={"canonical_id": [canonical_id]},
        )
        if not findings:
            return
        views_of = {r.system: r.values or {} for r in live}
        currency = next((v["currency"] for v in views_of.values() if "currency" in v), None)
        columns_of = {f.removesuffix("_minor"): f for f in DRIFT_FIELDS[self.ctype]}
        updates: list[dict[str, Any]] = []
        for finding in findings:
            fieldname = columns_of.get(finding.field, finding.field)
            shown = {
                system: display(fieldname, view[fieldname], currency)
                for system, view in views_of.items()
                if fieldname in view
            }
            agree = len(set(shown.values())) < 2
            if len(shown) < 2:
                shown = finding.values  # what disagreed, kept for the report
            elif not agree and shown == finding.values:
                continue
            updates.append(
                {
                    ID_PARAM: finding.id,
                    "values": shown,
                    "last_seen": now,
                    "status": FindingStatus.RESOLVED if agree else FindingStatus.OPEN,
                }
            )
        update_rows_by_id(session, DRIFT, updates)

    # identity ------------------------------------------------------------------------------------
    def _resolve_customers(self, session: Session, pending: list[_Pending]) -> None:
        if self.ctype == "customer":
            return
        wanted = [cid for p in pending if (cid := getattr(p.record, "customer_remote_id", None))]
        refs = self._other_refs(session, wanted, "customer")
        for p in pending:
            remote = getattr(p.record, "customer_remote_id", None)
            if remote and remote in refs:
                p.customer_id = refs[remote].canonical_id

    def _resolve_identity(
        self,
        session: Session,
        pending: list[_Pending],
        counts: PageCounts,
        refs_of: dict[str, list[Any]],
    ) -> None:
        unresolved: list[_Pending] = []
        for p in pending:
            if p.ref is not None:
                p.canonical_id = p.ref.canonical_id
            else:
                unresolved.append(p)
        if not unresolved:
            return
        # 1. links the systems carry themselves
        by_system: dict[str, list[str]] = defaultdict(list)
        for p in unresolved:
            for other, remote in p.record.links.items():
                if other != self.system:
                    by_system[other].append(remote)
        linked: dict[tuple[str, str], str] = {}
        for other, remotes in by_system.items():
            for remote, ref in self._refs_by_remote(
                session, list(set(remotes)), system=other
            ).items():
                linked[(other, remote)] = ref.canonical_id
        # a record this system already holds live (another remote id of it) is another
        # record here, never this one, whichever page read that one: as ``claimed`` within
        # a page, as ``taken`` in _match_by_keys
        claimed: set[str] = set()
        if linked:
            targets = set(linked.values())
            refs_of.update(self._refs_of(session, targets - refs_of.keys()))
            claimed = {cid for cid in targets if self._held_here(refs_of.get(cid, ()))}
        for p in unresolved:
            for other, remote in p.record.links.items():
                target = linked.get((other, remote))
                if target and target not in claimed:
                    p.canonical_id, p.link_rule = target, f"link:{other}"
                    break
                if target:
                    log.warning(
                        "%s %s %s links to %s %s, whose record %s already holds: kept apart",
                        self.system,
                        self.ctype,
                        p.raw.remote_id,
                        other,
                        remote,
                        self.system,
                    )
            if p.canonical_id:
                claimed.add(p.canonical_id)
        # 2. document number + customer (or customer number / exact name, payment facts)
        rest = [p for p in unresolved if p.canonical_id is None]
        if rest:
            self._match_by_keys(session, rest, claimed, refs_of)
        for p in unresolved:
            if p.canonical_id is not None:
                counts.linked += 1

    def _match_by_keys(
        self,
        session: Session,
        rest: list[_Pending],
        claimed: set[str],
        refs_of: dict[str, list[Any]],
    ) -> None:
        # the keys to try for each record, strongest first
        key_of: dict[int, list[tuple[Any, ...]]] = {}
        own_number: dict[int, str | None] = {}
        for index, p in enumerate(rest):
            values = p.values
            if self.ctype == "customer":
                tried = [("number", values["number"])] if values["number"] else []
                if values["name_key"]:
                    tried.append(("name", values["name_key"]))
                if tried:
                    key_of[index] = tried
                    own_number[index] = values["number"]
            elif self.ctype in ("invoice", "credit_memo"):
                if not p.customer_id or not values["number_key"]:
                    continue
                key_of[index] = [(p.customer_id, values["number_key"])]
            else:
                if not p.customer_id or values["received_on"] is None:
                    continue
                key_of[index] = [(p.customer_id, values["received_on"], values["amount_minor"])]
        if not key_of:
            return
        keys = {key for tried in key_of.values() for key in tried}
        numbers_of: dict[str, str | None] = {}
        names_of: dict[str, str] = {}  # customers: the canonical name
        found: dict[tuple[Any, ...], list[str]] = defaultdict(list)
        table = self.table.__table__  # type: ignore[attr-defined]
        names = ("id", *self._key_columns())
        tenant = {"tenant": self.tenant}
        if self.ctype == "customer":
            numbers = {k[1] for k in keys if k[0] == "number"}
            name_keys = {k[1] for k in keys if k[0] == "name"}
            by_number = select_in(session, table, names, equal=tenant, within={"number": numbers})
            by_name = select_in(session, table, names, equal=tenant, within={"name_key": name_keys})
            rows = {row.id: row for row in by_number + by_name}
            for row in rows.values():
                numbers_of[row.id] = row.number
                names_of[row.id] = row.name
                if row.number in numbers:
                    found[("number", row.number)].append(row.id)
                if row.name_key in name_keys:
                    found[("name", row.name_key)].append(row.id)
        elif self.ctype in ("invoice", "credit_memo"):
            # by number alone (its own index); the customer is checked here
            for row in select_in(
                session, table, names, equal=tenant, within={"number_key": {k[1] for k in keys}}
            ):
                if (row.customer_id, row.number_key) in keys:
                    found[(row.customer_id, row.number_key)].append(row.id)
                    numbers_of[row.id] = row.number
        else:
            for row in select_in(
                session,
                table,
                names,
                equal=tenant,
                within={"customer_id": {k[0] for k in keys}, "amount_minor": {k[2] for k in keys}},
            ):
                found[(row.customer_id, row.received_on, row.amount_minor)].append(row.id)
        candidates = {cid for ids in found.values() for cid in ids}
        found_refs = self._refs_of(session, candidates)
        for cid in candidates:
            refs_of[cid] = found_refs.get(cid, [])
        # a record already living in this system is another record of it, never this one (an
        # import's link to a customer by name or number is a lookup key, no record), and so
        # is one this system deleted that lives nowhere any more (its number used again)
        taken = {cid for cid in candidates if self._taken_here(refs_of[cid])}
        over = {cid for cid in candidates if _over(refs_of[cid])}
        rule = {
            "customer": "customer_number",
            "invoice": "number_customer",
            "credit_memo": "number_customer",
            "payment": "customer_date_amount",
        }[self.ctype]
        for index, tried in key_of.items():
            alive = not rest[index].record.deleted and rest[index].values.get("status") != "void"
            for key in tried:
                options = [
                    cid
                    for cid in found.get(key, [])
                    if cid not in taken and cid not in claimed and not (alive and cid in over)
                ]
                if key[0] == "name":  # a name never overrides two different customer numbers
                    mine = own_number.get(index)
                    options = [
                        c
                        for c in options
                        if not (mine and numbers_of.get(c) and numbers_of[c] != mine)
                    ]
                    # nor two legal forms: Acme Foods Inc and Acme Foods LLC are two
                    # companies (a fuzzy candidate proposes them for review)
                    options = self._same_legal_form(
                        rest[index].values["name"], options, names_of, refs_of
                    )
                elif self.ctype == "invoice":
                    options = self._alike_documents(rest[index], options, numbers_of, refs_of)
                if len(options) == 1:
                    p = rest[index]
                    p.canonical_id = options[0]
                    p.link_rule = "exact_name" if key[0] == "name" else rule
                    claimed.add(options[0])
                if options:
                    break  # linked, or ambiguous: a weaker key must not decide

    @staticmethod
    def _same_legal_form(
        name: str, options: list[str], names_of: dict[str, str], refs_of: dict[str, list[Any]]
    ) -> list[str]:
        """The customers known by a name (stored, or a system's that still holds them) whose
        legal form is ``name``'s or shows none: Acme Foods and Acme Foods Inc may be one
        company, Acme Foods Inc and Acme Foods LLC are two."""
        mine = legal_form(name)
        if not mine:
            return options
        kept = []
        for cid in options:
            names = [names_of.get(cid)]
            names += [(r.values or {}).get("name") for r in refs_of.get(cid, ()) if not r.deleted]
            forms = {legal_form(n) for n in names if n}
            if not forms or "" in forms or mine in forms:
                kept.append(cid)
        return kept

    def _held_here(self, refs: Collection[Any]) -> bool:
        """Whether this system holds the record live (no import's lookup key)."""
        return any(
            r.system == self.system and not r.deleted and not _is_import_link(r.link_rule)
            for r in refs
        )

    def _taken_here(self, refs: Collection[Any]) -> bool:
        """Whether a record (its refs) is another than a new record of this system with its
        key: this system holds it live, or deleted it here and no system holds it alive any
        more (its number is free again: a payment of the deleted invoice must not land on the
        new one). A copy another system deleted or voided, read here for the first time, may
        be the same document: it is joined, and any difference shows as drift."""
        if self._held_here(refs):
            return True
        held = [r for r in refs if not _is_import_link(r.link_rule)]
        return any(r.system == self.system for r in held) and not any(_alive(r) for r in held)

    @staticmethod
    def _alike_documents(
        p: _Pending,
        options: list[str],
        numbers_of: dict[str, str | None],
        refs_of: dict[str, list[Any]],
    ) -> list[str]:
        """Where a debit memo is on either side, the invoices whose number is written alike:
        ``ADJ5025`` and ``5025`` share a number key but are two documents."""
        mine = bool(getattr(p.record, "debit_memo", False))
        kept = []
        for cid in options:
            theirs = any(r.values.get("debit_memo") for r in refs_of.get(cid, ()) if not r.deleted)
            if not (mine or theirs) or split_prefix(p.values["number"]) == split_prefix(
                numbers_of.get(cid) or ""
            ):
                kept.append(cid)
        return kept

    def _key_columns(self) -> tuple[str, ...]:
        if self.ctype == "customer":
            return ("number", "name_key", "name")
        if self.ctype in ("invoice", "credit_memo"):
            return ("customer_id", "number_key", "number")
        return ("customer_id", "received_on", "amount_minor")

    def _owned(self, values: dict[str, Any], views_of: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """The fields this system wins. In each field's priority the first system holding a
        value wins; this system, when it holds none, wins only if no other system has one."""
        if not views_of:
            return dict(values)
        # the answer depends only on which fields each side holds: a page repeats few shapes
        shape = (
            tuple((system, tuple(view)) for system, view in views_of.items()),
            tuple(fieldname for fieldname, value in values.items() if value is None),
            tuple(values),
        )
        names = self._owned_by_shape.get(shape)
        if names is None:
            if len(self._owned_by_shape) >= _SHAPES_KEPT:
                self._owned_by_shape.clear()
            names = self._owned_by_shape[shape] = self._owned_names(values, views_of)
        return {fieldname: values[fieldname] for fieldname in names}

    def _owned_names(
        self, values: dict[str, Any], views_of: dict[str, dict[str, Any]]
    ) -> tuple[str, ...]:
        # a snapshot holds only the fields a system has a value for
        held_anywhere = set().union(*views_of.values())
        owned = []
        for fieldname, value in values.items():
            if fieldname not in held_anywhere:
                owned.append(fieldname)
                continue
            rivals = self._rivals(fieldname, value is not None)
            if rivals is not None and not any(
                fieldname in views_of.get(system, ()) for system in rivals
            ):
                owned.append(fieldname)
        return tuple(owned)

    def _rivals(self, fieldname: str, has_value: bool) -> tuple[str, ...] | None:
        """Systems whose value beats this system's for a field: those ahead of it in the
        field's priority when it holds a value; when it holds none and is in the priority,
        every other system (None). A system outside the priority loses to all in it."""
        key = (fieldname, has_value)
        if key in self._rivals_of:
            return self._rivals_of[key]
        priority = self.sor.priority(self.ctype, fieldname)
        found: tuple[str, ...] | None
        if self.system not in priority:
            found = tuple(priority)
        elif has_value:
            found = tuple(priority[: priority.index(self.system)])
        else:
            found = None
        self._rivals_of[key] = found
        return found

    def _owner(self, fieldname: str, systems: set[str]) -> str:
        for system in self.sor.priority(self.ctype, fieldname):
            if system in systems:
                return system
        return self.system

    # writes ----------------------------------------------------------------------------------
    def _upsert(
        self,
        session: Session,
        pending: list[_Pending],
        counts: PageCounts,
        refs_of: dict[str, list[Any]],
    ) -> None:
        now = utcnow()
        table = self.table.__table__  # type: ignore[attr-defined]
        existing_ids = {p.canonical_id for p in pending if p.canonical_id}
        refs_of.update(self._refs_of(session, existing_ids - refs_of.keys()))
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        ref_inserts: list[dict[str, Any]] = []
        ref_updates: list[dict[str, Any]] = []
        linked: list[tuple[str, dict[str, dict[str, Any]], dict[str, Any], str | None]] = []
        new_customers: list[tuple[str, str]] = []
        created: set[str] = set()
        documents = self.ctype in ("invoice", "credit_memo")
        for p in pending:
            values = p.values
            mine = snapshot(values)
            if self.ctype == "invoice" and p.record.debit_memo:  # type: ignore[attr-defined]
                mine["debit_memo"] = True
            if p.canonical_id is None:
                p.canonical_id = new_id()
                created.add(p.canonical_id)
                inserts.append(
                    {
                        **values,
                        "id": p.canonical_id,
                        "tenant": self.tenant,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                counts.created += 1
                if self.ctype == "customer":
                    new_customers.append((p.canonical_id, values["name_key"]))
            else:
                views_of = {
                    r.system: r.values
                    for r in refs_of.get(p.canonical_id, ())
                    if r.system != self.system and not r.deleted
                }
                owned = self._owned(values, views_of)
                if self.ctype == "customer" and "name" in owned:
                    owned["name_key"] = values["name_key"]
                if documents and "number" in owned:
                    owned["number_key"] = values["number_key"]
                if owned:
                    owned[ID_PARAM] = p.canonical_id
                    owned["updated_at"] = now
                    updates.append(owned)
                counts.updated += 1
                if views_of:
                    linked.append((p.canonical_id, views_of, mine, values.get("currency")))
            ref_row = {  # what every pull says of its ref, new or not
                "remote_version": p.raw.remote_version or p.record.remote_version,
                "hash": p.hash,
                "values": mine,
                "seen_at": now,
                "deleted": p.record.deleted,
                "object_type": p.raw.object_type or self.stream,
            }
            if p.ref is None:
                ref_row["id"] = new_id()
                ref_row["tenant"] = self.tenant
                ref_row["canonical_type"] = self.ctype
                ref_row["canonical_id"] = p.canonical_id
                ref_row["system"] = self.system
                ref_row["remote_id"] = p.raw.remote_id
                ref_row["link_rule"] = p.link_rule
                ref_inserts.append(ref_row)
            else:
                ref_row[ID_PARAM] = p.ref.id
                ref_updates.append(ref_row)
        insert_rows(session, table, inserts)
        # a record that changes nothing in the canonical row leaves it (and updated_at) alone
        update_rows_by_id(session, table, updates, skip_unchanged=True)
        insert_rows(session, REF, ref_inserts)
        update_rows_by_id(session, REF, ref_updates)
        if linked:
            self._record_drift(session, linked)
        if new_customers:
            self._fuzzy_candidates(session, new_customers)
        if self.ctype == "payment":
            self._replace_applications(session, pending, created)

    def _record_drift(
        self,
        session: Session,
        linked: list[tuple[str, dict[str, dict[str, Any]], dict[str, Any], str | None]],
    ) -> None:
        """Drift findings of records other systems hold too: (canonical id, the other
        systems' views, this system's view, currency) each. A field is compared where at
        least two systems hold it; a finding is opened where they differ and updated or
        resolved where one was open."""
        now = utcnow()
        existing = {
            (row.canonical_id, row.field): row
            for row in select_in(
                session,
                DRIFT,
                ("id", "canonical_id", "field", "values", "status"),
                equal={"tenant": self.tenant, "canonical_type": self.ctype},
                within={"canonical_id": {cid for cid, *_ in linked}},
            )
        }
        found_before = {cid for cid, _ in existing}
        fields = DRIFT_FIELDS[self.ctype]
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for canonical_id, views_of, mine, currency in linked:
            if canonical_id not in found_before and _holders_agree(fields, mine, views_of):
                continue  # the systems agree and nothing was found before: the common case
            for fieldname in fields:
                views = {
                    system: view[fieldname]
                    for system, view in views_of.items()
                    if fieldname in view
                }
                if fieldname in mine:
                    views[self.system] = mine[fieldname]
                name = fieldname.removesuffix("_minor")
                old = existing.get((canonical_id, name))
                if len(views) < 2:  # held by one system: nothing disagrees with it
                    if old is not None and old.status == FindingStatus.OPEN:
                        updates.append(
                            {ID_PARAM: old.id, "last_seen": now, "status": FindingStatus.RESOLVED}
                        )
                    continue
                if old is None and len(set(views.values())) == 1:
                    continue
                shown = {
                    system: display(fieldname, value, currency) for system, value in views.items()
                }
                agree = len(set(shown.values())) == 1
                owner = self._owner(fieldname, set(views))
                if old is None:
                    if agree:
                        continue
                    inserts.append(
                        {
                            "id": new_id(),
                            "tenant": self.tenant,
                            "canonical_type": self.ctype,
                            "canonical_id": canonical_id,
                            "field": name,
                            "values": shown,
                            "system_of_record": owner,
                            "status": FindingStatus.OPEN,
                            "first_seen": now,
                            "last_seen": now,
                        }
                    )
                elif old.values != shown or (old.status == FindingStatus.OPEN) == agree:
                    updates.append(
                        {
                            ID_PARAM: old.id,
                            "values": shown,
                            "system_of_record": owner,
                            "last_seen": now,
                            "status": FindingStatus.RESOLVED if agree else FindingStatus.OPEN,
                        }
                    )
        insert_rows(session, DRIFT, inserts)
        update_rows_by_id(session, DRIFT, updates)

    def _fuzzy_candidates(self, session: Session, new_customers: list[tuple[str, str]]) -> None:
        """Similar names in other systems are proposed for review, never linked silently.

        Only customers this system holds no live record of are compared: two of one system's
        customers are two records there, never one to link (and a file of 40,000 customers
        would otherwise compare each with all before it). An import's link to a customer by
        name or number (``import:...``) is a lookup key, no record of it.
        Similarity is ``token_sort_ratio``: the ratio of the names with their words sorted.
        The words of every existing name are sorted once here rather than once per new name.
        """
        new = {cid for cid, _ in new_customers}
        held_here = (
            select(col(ExternalRef.id))
            .where(
                col(ExternalRef.tenant) == self.tenant,
                col(ExternalRef.canonical_type) == "customer",
                col(ExternalRef.canonical_id) == col(Customer.id),
                col(ExternalRef.system) == self.system,
                col(ExternalRef.deleted).is_(False),
                col(ExternalRef.link_rule).not_like(f"{IMPORT_LINK}%"),
            )
            .exists()
        )
        others = session.execute(
            select(col(Customer.id), col(Customer.name_key)).where(
                col(Customer.tenant) == self.tenant, col(Customer.name_key) != "", ~held_here
            )
        ).all()
        choices = {row.id: row.name_key for row in others if row.id not in new}
        if not choices:
            return
        sorted_words = {cid: _sorted_words(key) for cid, key in choices.items()}
        rows = []
        now = utcnow()
        for canonical_id, key in new_customers:
            if not key:
                continue
            for _, score, other_id in process.extract(
                _sorted_words(key),
                sorted_words,
                scorer=fuzz.ratio,
                limit=3,
                score_cutoff=FUZZY_CANDIDATE_SCORE,
            ):
                rows.append(
                    {
                        "id": new_id(),
                        "tenant": self.tenant,
                        "canonical_type": "customer",
                        "canonical_id": canonical_id,
                        "candidate_id": other_id,
                        "score": int(score),
                        "evidence": {
                            "rule": "fuzzy_name",
                            "name_key": key,
                            "candidate_name_key": choices[other_id],
                            "system": self.system,
                        },
                        "status": "pending",
                        "created_at": now,
                    }
                )
        insert_rows(session, CANDIDATES, rows)

    def _replace_applications(
        self, session: Session, pending: list[_Pending], created: set[str]
    ) -> None:
        payments = [p for p in pending if isinstance(p.record, PaymentIn)]
        if not payments:
            return
        origin = f"system:{self.system}"
        # the rows these payments wrote before: their cash (their own source) and the credits
        # they applied (the memo's source, the payment named in payment_id); a payment this
        # page created has none
        ids = {p.canonical_id for p in payments if p.canonical_id not in created}
        equal = {"tenant": self.tenant, "origin": origin}
        delete_in(session, APPLICATION, equal=equal, within={"source_id": ids})
        delete_in(session, APPLICATION, equal=equal, within={"payment_id": ids})
        invoice_remote = {
            a.target_remote_id
            for p in payments
            for a in p.record.applied  # type: ignore[attr-defined]
            if a.target == "invoice"
        }
        memo_remote = {
            a.target_remote_id
            for p in payments
            for a in p.record.applied  # type: ignore[attr-defined]
            if a.target == "credit_memo"
        }
        invoices = self._other_refs(session, invoice_remote, "invoice")
        memos = self._other_refs(session, memo_remote, "credit_memo")
        rows: list[dict[str, Any]] = []
        now = utcnow()
        for p in payments:
            record: PaymentIn = p.record  # type: ignore[assignment]
            status = (
                ApplicationStatus.REVERSED
                if record.status != "posted"
                else ApplicationStatus.APPLIED
            )
            # the payment's credits pay its invoices before its cash does; a credit arsync
            # holds no document for (a QBO journal entry, a memo not stored) is applied by no
            # one's row, but it is never counted as cash
            credits: list[tuple[str | None, int]] = [
                (
                    memos[a.target_remote_id].canonical_id
                    if a.target == "credit_memo" and a.target_remote_id in memos
                    else None,
                    a.amount.minor,
                )
                for a in record.applied
                if a.target != "invoice"
            ]
            for applied in record.applied:
                if applied.target != "invoice":
                    continue
                ref = invoices.get(applied.target_remote_id)
                if ref is None:  # its credits are still used up: never another invoice's
                    log.warning(
                        "%s payment %s applies to unknown invoice %s",
                        self.system,
                        p.raw.remote_id,
                        applied.target_remote_id,
                    )
                cash = applied.amount.minor
                while credits and cash > 0:
                    memo_id, left = credits[0]
                    used = min(left, cash)
                    if memo_id is not None and ref is not None:
                        rows.append(
                            self._application(
                                ApplicationKind.CREDIT_MEMO,
                                memo_id,
                                ref.canonical_id,
                                used,
                                p,
                                origin,
                                status,
                                now,
                            )
                        )
                    cash -= used
                    credits[0] = (memo_id, left - used)
                    if credits[0][1] == 0:
                        credits.pop(0)
                if cash and ref is not None:
                    rows.append(
                        self._application(
                            ApplicationKind.PAYMENT,
                            p.canonical_id or "",
                            ref.canonical_id,
                            cash,
                            p,
                            origin,
                            status,
                            now,
                        )
                    )
        insert_rows(session, APPLICATION, rows)

    def _application(
        self,
        kind: ApplicationKind,
        source_id: str,
        invoice_id: str,
        amount_minor: int,
        payment: _Pending,
        origin: str,
        status: ApplicationStatus,
        now: datetime,
    ) -> dict[str, Any]:
        record: PaymentIn = payment.record  # type: ignore[assignment]
        payment_id = payment.canonical_id
        return {
            "id": new_id(),
            "tenant": self.tenant,
            "kind": kind,
            "source_id": source_id,
            "invoice_id": invoice_id,
            "currency": record.amount.currency,
            "amount_minor": amount_minor,
            "applied_on": record.received_on,
            "origin": origin,
            "decision_id": None,
            "payment_id": payment_id,
            "status": status,
            "created_at": now,
        }
