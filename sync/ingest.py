"""Bank-file intake: detect, parse, map and store remittances, once.

Re-ingesting a file creates nothing new: every remittance carries the parser's
de-duplication key as ``Remittance.source_key``. A bad record is reported (file, line or
element, reason) and left out; the file's other records are committed. A finding about
records that were kept anyway (a control total that does not add up) is a *warning*: it is
reported with the file and the figures, and the kept records count as new or duplicate,
never as rejected.

An entry a camt.053 booked as one amount without its transactions (a batch, or a single
payment whose details come in a camt.054) is replaced by its transactions when a camt.054
lists them later (the parser names the entry in each transaction's ``details_of``), once
they add up to its amount and while the reconciler has not decided it; otherwise they count
as duplicates and a warning names the entry. Coming first, the transactions make the entry
a duplicate (the parser gives it the first transaction's key among its earlier ones).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import col, select

from canonical.enums import RemittanceStatus
from canonical.models import DEFAULT_TENANT, Decision, Remittance
from canonical.money import Money
from canonical.store import Store
from connectors.bankfiles import RawRemittance, parse_bank_file
from mappings.bankfiles import remittance_from_raw
from mappings.base import MappingError

log = logging.getLogger(__name__)

_KEY_CHUNK = 500


@dataclass(frozen=True)
class IngestError:
    """A record (or file) that was not ingested, or a warning about kept records: where and why."""

    file: str
    location: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.location}: {self.reason}"


@dataclass
class FileIngest:
    """What ingesting one file did.

    ``rejected`` counts errors: records left out (a broken file counts one). ``warnings``
    are about records that were kept and counted as new or duplicate.
    """

    path: str
    format: str | None
    new: int = 0
    duplicate: int = 0
    rejected: int = 0
    errors: list[IngestError] = field(default_factory=list)
    warnings: list[IngestError] = field(default_factory=list)

    def reject(self, location: str, reason: str) -> None:
        self.rejected += 1
        self.errors.append(IngestError(Path(self.path).name, location, reason))

    def warn(self, location: str, reason: str) -> None:
        self.warnings.append(IngestError(Path(self.path).name, location, reason))


@dataclass
class IngestReport:
    """Per-file counts and every error, in the order the files were given."""

    files: list[FileIngest] = field(default_factory=list)

    @property
    def new(self) -> int:
        return sum(f.new for f in self.files)

    @property
    def duplicate(self) -> int:
        return sum(f.duplicate for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    @property
    def errors(self) -> list[IngestError]:
        return [e for f in self.files for e in f.errors]

    @property
    def warnings(self) -> list[IngestError]:
        return [w for f in self.files for w in f.warnings]

    def summary(self) -> str:
        """One line for people: ``2 files: 9 new, 0 duplicate, 1 rejected, 1 warning``."""
        files = len(self.files)
        warnings = len(self.warnings)
        return (
            f"{files} file{'' if files == 1 else 's'}: {self.new} new, "
            f"{self.duplicate} duplicate, {self.rejected} rejected, "
            f"{warnings} warning{'' if warnings == 1 else 's'}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "new": self.new,
            "duplicate": self.duplicate,
            "rejected": self.rejected,
            "warnings": len(self.warnings),
            "files": [
                {
                    "path": f.path,
                    "format": f.format,
                    "new": f.new,
                    "duplicate": f.duplicate,
                    "rejected": f.rejected,
                    "errors": [_as_dict(e) for e in f.errors],
                    "warnings": [_as_dict(w) for w in f.warnings],
                }
                for f in self.files
            ],
        }


def _as_dict(item: IngestError) -> dict[str, str]:
    return {"file": item.file, "location": item.location, "reason": item.reason}


def ingest_files(store: Store, paths: Sequence[Path], tenant: str = DEFAULT_TENANT) -> IngestReport:
    """Ingest bank files into the store; safe to repeat with the same files."""
    report = IngestReport()
    for path in paths:
        report.files.append(ingest_file(store, Path(path), tenant))
    return report


def ingest_file(store: Store, path: Path, tenant: str = DEFAULT_TENANT) -> FileIngest:
    """Ingest one bank file (see :func:`ingest_files`)."""
    parsed = parse_bank_file(path)
    outcome = FileIngest(path=str(path), format=parsed.format.value if parsed.format else None)
    for error in parsed.errors:
        outcome.reject(error.location, error.reason)
    for warning in parsed.warnings:
        outcome.warn(warning.location, warning.reason)
        log.info("%s: %s: warning: %s", path.name, warning.location, warning.reason)
    mapped: list[tuple[RawRemittance, Remittance]] = []
    seen: set[str] = set()
    for raw in parsed.records:
        if raw.dedup_key in seen:
            outcome.duplicate += 1
            continue
        seen.add(raw.dedup_key)
        try:
            mapped.append((raw, remittance_from_raw(raw, tenant)))
        except MappingError as exc:
            outcome.reject(f"{raw.location}, {exc.field}", exc.reason)
    if mapped:
        try:
            _store_all(store, mapped, tenant, outcome)
        except (IntegrityError, DBAPIError):
            # another ingest of the same file raced us, or one row is unstorable:
            # fall back to one transaction per record so the good ones still land
            with store.session() as session:
                kept = _replace_batch_entries(session, mapped, tenant, outcome)
            for raw, _ in mapped:
                if raw.details_of in kept:
                    outcome.duplicate += 1
                else:
                    _store_one(store, raw, tenant, outcome)
    log.info(
        "ingested %s (%s): %d new, %d duplicate, %d rejected, %d warnings",
        path.name,
        outcome.format,
        outcome.new,
        outcome.duplicate,
        outcome.rejected,
        len(outcome.warnings),
    )
    return outcome


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _keys(raw: RawRemittance) -> list[str]:
    """Every key a record may be stored under: its own, and those of earlier versions."""
    return [raw.dedup_key, *raw.also_known_as]


def _existing_keys(session: Any, keys: list[str], tenant: str) -> set[str]:
    """The keys this tenant has already stored."""
    found: set[str] = set()
    for chunk in _chunks(keys, _KEY_CHUNK):
        rows = session.exec(
            select(Remittance.source_key).where(
                Remittance.tenant == tenant, col(Remittance.source_key).in_(chunk)
            )
        ).all()
        found.update(rows)
    return found


def _store_all(
    store: Store,
    mapped: list[tuple[RawRemittance, Remittance]],
    tenant: str,
    outcome: FileIngest,
) -> None:
    """All new records of a file in one transaction; counts change only once it commits."""
    new = duplicate = 0
    findings = FileIngest(path=outcome.path, format=outcome.format)
    with store.session() as session:
        existing = _existing_keys(session, [k for raw, _ in mapped for k in _keys(raw)], tenant)
        unknown = [(raw, r) for raw, r in mapped if existing.isdisjoint(_keys(raw))]
        kept = _replace_batch_entries(session, unknown, tenant, findings)
        for raw, remittance in mapped:
            if not existing.isdisjoint(_keys(raw)) or raw.details_of in kept:
                duplicate += 1
            else:
                session.add(remittance)
                new += 1
        session.flush()
    outcome.new += new
    outcome.duplicate += duplicate
    outcome.warnings.extend(findings.warnings)


def _replace_batch_entries(
    session: Any,
    mapped: list[tuple[RawRemittance, Remittance]],
    tenant: str,
    outcome: FileIngest,
) -> set[str]:
    """Delete each stored entry these transactions detail (their ``details_of``: a batch's,
    or a single payment's) and may replace; the keys of those that stay come back (their
    transactions are not stored).

    An entry stays when the transactions do not add up to it (a notification that lists
    only some) or when the reconciler has decided it: a warning names it either way.
    """
    items: dict[str, list[tuple[RawRemittance, Remittance]]] = {}
    for raw, remittance in mapped:
        if raw.details_of:
            items.setdefault(raw.details_of, []).append((raw, remittance))
    if not items:
        return set()
    entries = session.exec(
        select(Remittance).where(
            Remittance.tenant == tenant, col(Remittance.source_key).in_(list(items))
        )
    ).all()
    decided = set(
        session.exec(
            select(Decision.source_id).where(
                Decision.tenant == tenant,
                Decision.source_kind == "remittance",
                col(Decision.source_id).in_([e.id for e in entries]),
            )
        ).all()
    )
    kept: set[str] = set()
    for entry in entries:
        transactions = [remittance for _, remittance in items[entry.source_key]]
        one = len(transactions) == 1
        stored = f"({entry.amount}, stored from {entry.source_file} as one amount)"
        name = entry.bank_reference or entry.source_key
        what = (
            f"the transaction of entry {name} {stored}"
            if one
            else f"the {len(transactions)} transactions of batch entry {name} {stored}"
        )
        sums = {
            currency: sum(t.amount_minor for t in transactions if t.currency == currency)
            for currency in sorted({t.currency for t in transactions})
        }
        if sums != {entry.currency: entry.amount_minor}:
            added = " and ".join(str(Money.from_minor(m, c)) for c, m in sums.items())
            reason = f"{'amounts' if one else 'add up'} to {added}, not to it"
        elif entry.status != RemittanceStatus.NEW or entry.id in decided:
            reason = f"{'comes' if one else 'come'} after the reconciler decided it"
        else:
            session.delete(entry)
            log.info("%s: %s %s it", outcome.path, what, "replaces" if one else "replace")
            continue
        kept.add(entry.source_key)
        outcome.warn(
            items[entry.source_key][0][0].location,
            f"{what} {reason}: {'it is' if one else 'they are'} not stored, the entry stays "
            "(check it)",
        )
    return kept


def _store_one(store: Store, raw: RawRemittance, tenant: str, outcome: FileIngest) -> None:
    remittance = remittance_from_raw(raw, tenant)
    try:
        with store.session() as session:
            known = bool(_existing_keys(session, _keys(raw), tenant))
            if not known:
                session.add(remittance)
                session.flush()
    except IntegrityError:
        known = True  # stored by a concurrent ingest between our check and our insert
    except DBAPIError as exc:
        reason = str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__
        outcome.reject(raw.location, f"could not be stored: {reason}")
        return
    if known:
        outcome.duplicate += 1
    else:
        outcome.new += 1
