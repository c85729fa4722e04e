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

An EDI 820 that brings its cash (``BPR01`` ``C``) and the bank's own record of that cash (a
BAI2 item, a NACHA entry, a camt entry: another format) are one payment when they have the
same currency and amount and the bank record names the 820's trace (``TRN02``), compared as
the reconciler compares an advice with its cash (:func:`reconciler.engine.names_trace`), and
exactly one record on each side fits. The bank record is then the cash and the 820 its
advice (status ``advice``: the reconciler lends its invoice references to the cash), in either
order, while the 820 is undecided. Once the reconciler has decided the 820 as cash, the bank
record is not stored (it counts as a duplicate, a warning names the 820). A payer and an
amount alone never make two records one payment.

A record whose key is stored already but which states remittance detail the stored one lacks
(structured references where it has none, as when a bank's credit was kept with the payer's
unreadable detail left out and the corrected file comes; or the same references with dates or
amounts it left out) gives the stored remittance that detail while nothing was applied from it: its
references, free text and raw text, and the payer's name and ids it had not. It counts as
*detailed*. One the reconciler left as its own suggestion or exception is sent back to be
decided again (that decision superseded; nothing was written anywhere for it). The amount,
currency and value date stay the bank's: a copy that states others gives nothing (a warning
names both), nor does one of a remittance applied or decided by a person (a warning names
the remittance and its decision); either counts as a duplicate. A copy that adds nothing
is a duplicate and writes nothing.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Table, delete, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col, select

from canonical.enums import RemittanceStatus
from canonical.models import DEFAULT_TENANT, Decision, Remittance
from canonical.money import Money
from canonical.store import Store
from connectors.bankfiles import RawRemittance, parse_bank_file
from connectors.bankfiles.records import BankFileFormat, is_name
from mappings.bankfiles import remittance_from_raw
from mappings.base import MappingError
from reconciler.cascade import EXCEPTION, SUGGESTED
from reconciler.engine import names_trace, reconsiderable, stated_references

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
    detailed: int = 0  # stored remittances that took the detail they lacked from this file
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
    def detailed(self) -> int:
        return sum(f.detailed for f in self.files)

    @property
    def errors(self) -> list[IngestError]:
        return [e for f in self.files for e in f.errors]

    @property
    def warnings(self) -> list[IngestError]:
        return [w for f in self.files for w in f.warnings]

    def summary(self) -> str:
        """One line for people: ``2 files: 9 new, 0 duplicate, 1 rejected, 1 warning``
        (``..., 0 duplicate, 1 detailed, 1 rejected, ...`` when stored remittances took the
        detail they lacked)."""
        files = len(self.files)
        warnings = len(self.warnings)
        detailed = f"{self.detailed} detailed, " if self.detailed else ""
        return (
            f"{files} file{'' if files == 1 else 's'}: {self.new} new, "
            f"{self.duplicate} duplicate, {detailed}{self.rejected} rejected, "
            f"{warnings} warning{'' if warnings == 1 else 's'}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "new": self.new,
            "duplicate": self.duplicate,
            "detailed": self.detailed,
            "rejected": self.rejected,
            "warnings": len(self.warnings),
            "files": [
                {
                    "path": f.path,
                    "format": f.format,
                    "new": f.new,
                    "duplicate": f.duplicate,
                    "detailed": f.detailed,
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
        "ingested %s (%s): %d new, %d duplicate, %d detailed, %d rejected, %d warnings",
        path.name,
        outcome.format,
        outcome.new,
        outcome.duplicate,
        outcome.detailed,
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
        detailed = _take_detail(
            session,
            [(raw, r) for raw, r in mapped if not existing.isdisjoint(_keys(raw))],
            tenant,
            findings,
        )
        kept = _replace_batch_entries(session, unknown, tenant, findings)
        counted = _pair_with_stored(
            session,
            [(raw, r) for raw, r in unknown if raw.details_of not in kept],
            tenant,
            findings,
        )
        for raw, remittance in mapped:
            if raw.dedup_key in detailed:
                continue
            if (
                not existing.isdisjoint(_keys(raw))
                or raw.details_of in kept
                or raw.dedup_key in counted
            ):
                duplicate += 1
            else:
                session.add(remittance)
                new += 1
        session.flush()
    outcome.new += new
    outcome.duplicate += duplicate
    outcome.detailed += len(detailed)
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
    decided = _decided(session, tenant, [e.id for e in entries], ever=True)
    kept: set[str] = set()
    for entry in sorted(entries, key=lambda e: e.id):  # rows locked in one order (PostgreSQL)
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
        elif not _removed_undecided(session, entry):
            # a reconcile decided it since it was read (it is written, or waited for)
            reason = f"{'comes' if one else 'come'} after the reconciler decided it"
        else:
            log.info("%s: %s %s it", outcome.path, what, "replaces" if one else "replace")
            continue
        kept.add(entry.source_key)
        outcome.warn(
            items[entry.source_key][0][0].location,
            f"{what} {reason}: {'it is' if one else 'they are'} not stored, the entry stays "
            "(check it)",
        )
    return kept


_REMITTANCE: Table = Remittance.__table__  # type: ignore[attr-defined]


def _undecided(remittance: Remittance) -> Any:
    """The row of ``remittance`` while it is as read and undecided: new, of the same amount.

    A reconcile takes no notice of an ingest: it may decide a remittance an ingest has read
    and write that decision before the ingest commits. Each change an ingest makes to a stored
    remittance is therefore made only while this holds (the count of rows changed says
    whether it did); on PostgreSQL a row a reconcile is writing is waited for and read again
    once that commits, on SQLite writers take turns. The reconcile's own write is guarded
    the same way (:meth:`reconciler.apply.Writes.flush`), so of the two the later sees the
    other."""
    return (
        (_REMITTANCE.c.id == remittance.id)
        & (_REMITTANCE.c.status == RemittanceStatus.NEW)
        & (_REMITTANCE.c.amount_minor == remittance.amount_minor)
    )


def _removed_undecided(session: Any, entry: Remittance) -> bool:
    """Delete the stored ``entry`` while it is undecided (see :func:`_undecided`); False
    (nothing deleted) when a reconcile decided it since it was read."""
    gone = session.execute(delete(_REMITTANCE).where(_undecided(entry)))
    if gone.rowcount != 1:
        return False
    session.expunge(entry)
    return True


def _still_undecided(session: Any, row: Remittance, status: str = RemittanceStatus.NEW) -> bool:
    """Give the stored ``row`` ``status`` (by default it stays new, its row now held by this
    transaction) while it is undecided (see :func:`_undecided`); False (nothing changed) when a
    reconcile decided it since it was read."""
    held = session.execute(update(_REMITTANCE).where(_undecided(row)).values(status=status))
    if held.rowcount != 1:
        now = session.execute(
            select(_REMITTANCE.c.status).where(_REMITTANCE.c.id == row.id)
        ).scalar_one_or_none()
        if now is not None:  # as it is now, for the warnings naming it
            set_committed_value(row, "status", now)
        return False
    set_committed_value(row, "status", status)
    return True


def _store_one(store: Store, raw: RawRemittance, tenant: str, outcome: FileIngest) -> None:
    remittance = remittance_from_raw(raw, tenant)
    detailed = False
    try:
        with store.session() as session:
            known = bool(_existing_keys(session, _keys(raw), tenant))
            if known:
                detailed = bool(_take_detail(session, [(raw, remittance)], tenant, outcome))
            else:
                known = bool(_pair_with_stored(session, [(raw, remittance)], tenant, outcome))
            if not known:
                session.add(remittance)
                session.flush()
    except IntegrityError:
        known = True  # stored by a concurrent ingest between our check and our insert
    except DBAPIError as exc:
        reason = str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__
        outcome.reject(raw.location, f"could not be stored: {reason}")
        return
    if detailed:
        outcome.detailed += 1
    elif known:
        outcome.duplicate += 1
    else:
        outcome.new += 1


def _take_detail(
    session: Any,
    known: list[tuple[RawRemittance, Remittance]],
    tenant: str,
    outcome: FileIngest,
) -> set[str]:
    """Give each stored remittance these records' keys name the detail it lacks (see the
    module's docstring); the keys of the records whose detail was taken come back.

    Only a record stating structured references may add any: the stored remittance is read
    for those alone, and written only when it takes the detail.
    """
    fuller = [(raw, r) for raw, r in known if r.structured_refs]
    if not fuller:
        return set()
    stored: dict[str, Remittance] = {}
    keys = [k for raw, _ in fuller for k in _keys(raw)]
    for chunk in _chunks(keys, _KEY_CHUNK):
        rows = session.exec(
            select(Remittance).where(
                Remittance.tenant == tenant, col(Remittance.source_key).in_(chunk)
            )
        ).all()
        stored.update((row.source_key, row) for row in rows)
    lacking: list[tuple[RawRemittance, Remittance, Remittance]] = []
    for raw, new in fuller:
        rows = {stored[k].id: stored[k] for k in _keys(raw) if k in stored}
        if len(rows) == 1:
            (row,) = rows.values()
            if _adds_detail(row.structured_refs, new.structured_refs):
                lacking.append((raw, new, row))
    if not lacking:
        return set()
    decisions = _standing_decisions(session, tenant, [row.id for _, _, row in lacking])
    # decided by the reconciler alone, as a suggestion or exception: taken back and decided again
    reopenable = reconsiderable(session, tenant, [row.id for _, _, row in lacking])
    detailed: set[str] = set()
    taken: set[str] = set()  # a stored remittance takes one record's detail
    for raw, new, row in lacking:
        if row.id in taken:
            continue
        what = f"{_named(row)}, stored without this detail,"
        bank = (row.currency, row.amount_minor, row.value_date)
        if (new.currency, new.amount_minor, new.value_date) != bank:
            outcome.warn(
                raw.location,
                f"{what} is {_stated(row)}, this record {_stated(new)}: its detail is not "
                "taken, the stored remittance stays as it is (check it)",
            )
            continue
        decision = decisions.get(row.id)
        again = reopenable.get(row.id)
        if again is not None and (decision is None or decision.id != again):
            again = None
        if (decision is not None or row.status != RemittanceStatus.NEW) and again is None:
            status = f"decision {decision.id}, {decision.status}" if decision else row.status
            outcome.warn(
                raw.location,
                f"{what} is already decided ({status}): this record's detail ("
                + ", ".join(str(ref.get("ref")) for ref in new.structured_refs)
                + ") is not taken, counted as a duplicate (check the decision against it)",
            )
            continue
        if again is None and not _still_undecided(session, row):
            # a reconcile decided it since it was read: that decision stands
            outcome.warn(
                raw.location,
                f"{what} was decided meanwhile: this record's detail is not taken, counted as "
                "a duplicate (check the decision against it)",
            )
            continue
        if again is not None and not _take_back(session, again):
            # a person (or a reconcile) decided it since it was read: that decision stands
            outcome.warn(
                raw.location,
                f"{what} was decided meanwhile: this record's detail is not taken, counted as "
                "a duplicate (check the decision against it)",
            )
            continue
        _fill_detail(row, new)
        if again is not None:
            # the reconciler's own suggestion or exception, made without this detail: decided
            # again by the next reconcile (nothing was written anywhere for it)
            row.status = RemittanceStatus.NEW
        session.add(row)
        taken.add(row.id)
        detailed.add(raw.dedup_key)
        log.info(
            "%s: %s takes the detail of %s%s",
            outcome.path,
            _named(row),
            raw.location,
            f" and is decided again (its decision {again} is superseded)" if again else "",
        )
    return detailed


def _take_back(session: Any, decision_id: str) -> bool:
    """Supersede the reconciler's own open suggestion or exception ``decision_id`` so the next
    reconcile decides its remittance again; False when it no longer is one (a person confirmed
    it, or a reconcile replaced it, since it was read): then nothing changes."""
    taken = session.execute(
        update(Decision)
        .where(
            col(Decision.id) == decision_id,
            col(Decision.superseded).is_(False),
            col(Decision.decided_by) == "reconciler",
            col(Decision.status).in_([SUGGESTED, EXCEPTION]),
        )
        .values(superseded=True)
    )
    return bool(getattr(taken, "rowcount", 0))


def _adds_detail(stored: list[dict[str, Any]], new: list[dict[str, Any]]) -> bool:
    """Whether structured references ``new`` say more than ``stored`` and nothing else: some
    where there are none, or the same ones with values (a date, an amount) that ``stored``
    left out."""
    if not stored:
        return bool(new)
    if len(stored) != len(new):
        return False
    filled = False
    for old, ref in zip(stored, new, strict=True):
        for key in old.keys() | ref.keys():
            before, after = old.get(key), ref.get(key)
            if before == after:
                continue
            if before is not None:
                return False
            filled = True
    return filled


def _fill_detail(row: Remittance, new: Remittance) -> None:
    """``row`` with the payer's detail of ``new``; the bank's amount, date and references
    stay, and the payer's name and ids only where it had none."""
    row.structured_refs = list(new.structured_refs)
    row.free_text = new.free_text
    row.raw = new.raw
    row.source_file = new.source_file
    for name in ("payer_name", "ultimate_payer_name", "payer_account", "payer_iban"):
        if getattr(row, name) is None:
            setattr(row, name, getattr(new, name))
    if row.end_to_end_id is None:
        row.end_to_end_id = new.end_to_end_id


def _stated(remittance: Remittance) -> str:
    """``1875.00 USD of 2026-11-20``: the bank's amount and value date."""
    when = remittance.value_date.isoformat() if remittance.value_date else "no value date"
    return f"{remittance.amount} of {when}"


def _standing_decisions(session: Any, tenant: str, ids: Sequence[str]) -> dict[str, Decision]:
    """The decision each of ``ids`` has (its standing one, else its latest): any decision
    ever made about a remittance means it is decided."""
    found: dict[str, Decision] = {}
    for start in range(0, len(ids), _KEY_CHUNK):
        rows = session.exec(
            select(Decision)
            .where(
                Decision.tenant == tenant,
                Decision.source_kind == "remittance",
                col(Decision.source_id).in_(ids[start : start + _KEY_CHUNK]),
            )
            .order_by(col(Decision.created_at), col(Decision.id))
        ).all()
        for row in rows:
            held = found.get(row.source_id)
            if held is None or row.superseded is False or held.superseded:
                found[row.source_id] = row
    return found


_EDI820 = BankFileFormat.EDI_820.value
_NOT_CASH = (
    RemittanceStatus.ADVICE.value,
    RemittanceStatus.ADVICE_USED.value,
    RemittanceStatus.REVERSED.value,
)


def _is_cash(remittance: Remittance) -> bool:
    return (
        remittance.reverses is None
        and remittance.amount_minor > 0
        and remittance.status not in _NOT_CASH
    )


def _describes(edi: Remittance, bank: Remittance) -> bool:
    """Whether the cash 820 ``edi`` and the bank record ``bank`` (same currency and amount)
    are one payment: the bank record names the 820's trace."""
    return is_name(edi.bank_reference) and names_trace(edi.bank_reference, stated_references(bank))


def _pair_with_stored(
    session: Any,
    pending: list[tuple[RawRemittance, Remittance]],
    tenant: str,
    outcome: FileIngest,
) -> set[str]:
    """Tie each new record to the stored record of another source that is the same payment
    (see the module's docstring): a cash 820 becomes advice of a stored bank record; a bank
    record makes an undecided stored 820 its advice. The keys of bank records whose 820 was
    already decided come back: they are not stored, a warning names the 820."""
    cash = [(raw, r) for raw, r in pending if _is_cash(r)]
    if not cash:
        return set()
    # an 820 pairs only with another source's record, and a bank record only with an 820:
    # a file without 820s reads only the stored 820s of its amounts
    sources = {r.source == _EDI820 for _, r in cash}
    stored: dict[tuple[str, int], list[Remittance]] = defaultdict(list)
    amounts = sorted({r.amount_minor for _, r in cash})
    for start in range(0, len(amounts), _KEY_CHUNK):
        query = select(Remittance).where(
            Remittance.tenant == tenant,
            col(Remittance.amount_minor).in_(amounts[start : start + _KEY_CHUNK]),
            col(Remittance.reverses).is_(None),
            col(Remittance.status).not_in(_NOT_CASH),
        )
        if sources == {False}:
            query = query.where(Remittance.source == _EDI820)
        elif sources == {True}:
            query = query.where(Remittance.source != _EDI820)
        for row in session.exec(query).all():
            stored[(row.currency, row.amount_minor)].append(row)
    if not stored:
        return set()
    decided = _decided(session, tenant, [row.id for rows in stored.values() for row in rows])
    counted: set[str] = set()
    for raw, new in cash:
        pool = stored.get((new.currency, new.amount_minor), [])
        if new.source == _EDI820:
            found = [b for b in pool if b.source != _EDI820 and _describes(new, b)]
        else:
            found = [e for e in pool if e.source == _EDI820 and _describes(e, new)]
        if len(found) > 1:
            outcome.warn(
                raw.location,
                f"{_named(new)} may be the same payment as "
                + " or ".join(_named(r) for r in found)
                + ": stored as cash on its own (check it is not counted twice)",
            )
            continue
        if not found:
            continue
        other = found[0]
        pool.remove(other)  # one record describes one other
        if new.source == _EDI820:
            new.status = RemittanceStatus.ADVICE
            if other.id in decided or other.status != RemittanceStatus.NEW:
                outcome.warn(
                    raw.location,
                    f"{_named(new)} is the same payment as {_named(other)}, already decided "
                    f"({other.status}): the 820 is stored as its advice, not as cash again "
                    "(the next reconcile decides the cash again with the 820's references "
                    "only if it was left as the reconciler's suggestion or exception)",
                )
            log.info("%s: %s is the advice of %s", outcome.path, _named(new), _named(other))
        elif (
            other.status == RemittanceStatus.NEW
            and other.id not in decided
            and _still_undecided(session, other, RemittanceStatus.ADVICE)
        ):
            log.info("%s: %s becomes the advice of %s", outcome.path, _named(other), _named(new))
        else:
            counted.add(raw.dedup_key)
            outcome.warn(
                raw.location,
                f"{_named(new, stored=False)} is the same payment as {_named(other)}, which "
                f"the reconciler already decided ({other.status}): not stored, the cash is "
                "counted once",
            )
    return counted


def _decided(session: Any, tenant: str, ids: Sequence[str], *, ever: bool = False) -> set[str]:
    """The remittances among ``ids`` that the reconciler (or a person) has decided: that a
    decision stands for, or with ``ever`` that one ever did (one sent back included)."""
    decided: set[str] = set()
    for start in range(0, len(ids), _KEY_CHUNK):
        query = select(Decision.source_id).where(
            Decision.tenant == tenant,
            Decision.source_kind == "remittance",
            col(Decision.source_id).in_(ids[start : start + _KEY_CHUNK]),
        )
        if not ever:
            query = query.where(col(Decision.superseded).is_(False))
        decided.update(session.exec(query).all())
    return decided


def _named(remittance: Remittance, stored: bool = True) -> str:
    """``edi820 remittance 3f2a... (trace INI0000457, 937.50 USD, from payer.edi)``."""
    what = f"{remittance.source} remittance"
    parts = [f"trace {remittance.bank_reference}"] if remittance.bank_reference else []
    parts.append(str(remittance.amount))
    if remittance.source_file:
        parts.append(f"from {remittance.source_file}")
    return f"{what}{f' {remittance.id}' if stored else ''} ({', '.join(parts)})"
