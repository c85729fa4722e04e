"""Sending the outbox: due commands, per system, in batches, exactly once.

Per round and system: read due commands, build each one's next write from the refs known
now (validating it against the system's last known state), mark the batch ``sent`` and
commit, send, then store every answer and commit. A crash between the two commits leaves
commands ``sent``: the next push asks the system which of them landed (read-before-retry)
before sending the rest again with the same idempotency keys.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlmodel import Session, col

from canonical.enums import CommandStatus, DocumentStatus, PaymentStatus
from canonical.ids import new_id
from canonical.lease import Held, LeaseHeld, LeaseLost, lease
from canonical.models import CreditMemo, ExternalRef, OutboxCommand, Payment
from canonical.store import Store
from canonical.types import utcnow
from connectors.errors import (
    ApiError,
    AuthError,
    ErrorKind,
    ReplayedFaultError,
    UncertainAuthError,
    UncertainWriteError,
    answered_before,
    share_of_failed_call,
)
from sync.outbox.adapter import (
    NOT_LANDED,
    REFUSALS,
    REMOTE_IDS,
    REVERSED_BY,
    SENDING,
    AlreadyDone,
    Command,
    PushAdapter,
    Step,
    StepResult,
)
from sync.outbox.errors import Unwritable
from sync.outbox.refs import RefIndex
from sync.settings import PushSettings

log = logging.getLogger(__name__)

PUSH_LEASE = "push"  # one per system: push:quickbooks, ...
DUE = (CommandStatus.PENDING, CommandStatus.SENT, CommandStatus.FAILED)
_RETRYABLE = {ErrorKind.RETRY, ErrorKind.RATE_LIMITED, ErrorKind.REFRESH, ErrorKind.FAIL}
LANDED_MARGIN = timedelta(minutes=10)
_LOOKED_FOR_ONLY = "only looked for, never sent again: its payment was reversed by decision {}"

# a hook the crash tests use to stop the process at a named point of a push
CrashPoint = Callable[[str], None]


@dataclass
class SystemPush:
    """What one push did in one system."""

    system: str
    confirmed: int = 0
    failed: int = 0
    dead: int = 0
    conflicts: int = 0
    landed_unseen: int = 0  # found already written after a lost reply
    waiting: int = 0  # left as they were until the next push (a read failed, or an outcome)
    requests: int = 0
    error: str | None = None
    busy: str | None = None  # skipped: another push of this system holds its lease
    planned: list[Step] = field(default_factory=list)  # dry run: what would be sent
    refused: list[tuple[Command, str]] = field(default_factory=list)  # dry run: why not

    def as_dict(self) -> dict[str, Any]:
        return {
            "system": self.system,
            "confirmed": self.confirmed,
            "failed": self.failed,
            "dead": self.dead,
            "conflicts": self.conflicts,
            "landed_unseen": self.landed_unseen,
            "waiting": self.waiting,
            "requests": self.requests,
            "error": self.error,
            "busy": self.busy,
        }


@dataclass
class PushSummary:
    dry_run: bool
    systems: dict[str, SystemPush] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(s.error is None for s in self.systems.values())

    @property
    def written(self) -> int:
        return sum(s.confirmed for s in self.systems.values())


def push(
    store: Store,
    adapters: Mapping[str, PushAdapter],
    *,
    tenant: str = "default",
    settings: PushSettings | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
    crash: CrashPoint | None = None,
    api_calls: Callable[[str], int] | None = None,
) -> PushSummary:
    """Send every due command of the given systems; a dry run only plans and changes nothing."""
    summary = PushSummary(dry_run=dry_run)
    for system, adapter in adapters.items():
        worker = _SystemWorker(
            store, adapter, tenant, settings or PushSettings(), now or utcnow(), crash
        )
        before = api_calls(system) if api_calls else 0
        result = SystemPush(system)
        try:
            if dry_run:
                worker.plan(result)
            else:
                # one push per system at a time: a second would take the first's commands in
                # flight (sent) for lost replies, find them not landed yet and send them again
                # (regrouped into other QuickBooks batches, whose requestid then differs)
                with (
                    lease(store, tenant, f"{PUSH_LEASE}:{system}") as held,
                    held.kept_alive(store),
                ):
                    worker.held = held
                    worker.run(result)
        except LeaseHeld as exc:
            result.busy = str(exc)
            log.info("push %s skipped: %s", system, exc)
        except LeaseLost as exc:
            result.error = str(exc)
            log.error("push %s stopped: %s", system, exc)
        except ApiError as exc:  # bad credentials, or a failure no command can be charged with
            result.error = str(exc)
            log.error("push %s stopped: %s", system, exc)
        if api_calls:
            result.requests = api_calls(system) - before
        summary.systems[system] = result
    return summary


class _SystemWorker:
    def __init__(
        self,
        store: Store,
        adapter: PushAdapter,
        tenant: str,
        settings: PushSettings,
        now: datetime,
        crash: CrashPoint | None,
    ) -> None:
        self.store = store
        self.adapter = adapter
        self.system = adapter.system
        self.tenant = tenant
        self.settings = settings
        self.now = now
        self.crash = crash or (lambda point: None)
        self.settled: set[str] = set()  # commands not to pick up again in this push
        self.held: Held | None = None  # the system's push lease, renewed in every write

    def _renew(self, session: Session) -> None:
        """Renew the push lease in ``session``'s transaction: a push that stalled past it and
        was taken over records nothing more (its sent commands are looked for by the other)."""
        if self.held is not None:
            self.held.renew(session)

    # reading -------------------------------------------------------------------------------
    def _due(self, session: Session, limit: int | None) -> list[Command]:
        """Due commands, oldest first; for a state-writing system, those of up to ``limit``
        records, every command of a record in the same round."""
        filters = [
            col(OutboxCommand.tenant) == self.tenant,
            col(OutboxCommand.system) == self.system,
            col(OutboxCommand.status).in_(DUE),
            or_(
                col(OutboxCommand.status) != CommandStatus.FAILED,
                col(OutboxCommand.next_attempt_at).is_(None),
                col(OutboxCommand.next_attempt_at) <= self.now,
            ),
        ]
        if self.settled:
            filters.append(col(OutboxCommand.id).not_in(self.settled))
        query = select(OutboxCommand).where(*filters)
        if self.adapter.sends_state:
            record = (col(OutboxCommand.operation), col(OutboxCommand.canonical_id))
            if limit:
                records = (
                    select(*record).where(*filters).group_by(*record).order_by(*record).limit(limit)
                ).subquery()
                query = query.join(
                    records,
                    and_(record[0] == records.c.operation, record[1] == records.c.canonical_id),
                )
            query = query.order_by(*record)
        elif limit:
            query = query.limit(limit)
        query = query.order_by(col(OutboxCommand.created_at), col(OutboxCommand.id))
        return [_command(row) for row in session.execute(query).scalars()]

    def _refs(self, session: Session, commands: Sequence[Command]) -> RefIndex:
        wanted: set[tuple[str, str]] = set()
        for c in commands:
            p = c.payload
            for key, ctype in (
                ("customer_id", "customer"),
                ("invoice_id", "invoice"),
                ("credit_memo_id", "credit_memo"),
            ):
                if p.get(key):
                    wanted.add((ctype, str(p[key])))
            for line in p.get("lines") or ():
                wanted.add(("invoice", str(line["invoice_id"])))
        return RefIndex.load(session, self.tenant, self.system, wanted)

    # dry run -------------------------------------------------------------------------------
    def plan(self, result: SystemPush) -> None:
        """What the push would send; each command it would not send is counted as the push
        would leave it (a conflict, dead, waiting; one only looked for or cancelled in none)."""
        with self.store.session() as session:
            commands = self._due(session, None)
            refs = self._refs(session, commands)
            for c in commands:
                if c.reversed_by:
                    result.refused.append((c, _LOOKED_FOR_ONLY.format(c.reversed_by)))
                    continue
                original = self._original(session, c)
                if original is not None:
                    result.waiting += original != CommandStatus.CANCELLED
                    result.refused.append((c, self._void_reason(c, original)))
                    continue
                try:
                    step = self.adapter.step(c, refs, session)
                except Unwritable as exc:
                    if exc.conflict:
                        result.conflicts += 1
                        label = "would be a conflict for a person to check"
                    else:
                        result.dead += 1
                        label = "would be dead (cannot be written as decided)"
                    result.refused.append((c, f"{label}: {exc.reason}"))
                    continue
                except AuthError:
                    raise
                except ApiError as exc:
                    result.waiting += 1
                    result.refused.append((c, f"reading for it failed: {exc}"))
                    continue
                _expect(refs, c)
                result.planned.append(step)
            session.rollback()

    # sending -------------------------------------------------------------------------------
    def run(self, result: SystemPush) -> None:
        while True:
            steps = self._prepare(result)
            if steps is None:
                return
            if not steps:
                continue
            self.crash("before_send")
            try:
                answers = self.adapter.send(steps)
            except AuthError as exc:
                self._stopped(steps, exc, result)
                raise
            except ApiError as exc:
                # the adapter could not answer write by write: each shares the call's fate
                # (uncertain after a transient failure, refused otherwise)
                log.warning("push %s: a call failed as a whole: %s", self.system, exc)
                answers = [
                    StepResult(step, error=share_of_failed_call(exc, f"command {step.command.id}"))
                    for step in steps
                ]
            self.crash("after_send")
            self._record(answers, result)
            # credentials that failed while a write was retried stop this system's push too
            # (the write itself is recorded as uncertain, looked for first)
            stopped = next(
                (a.error.auth for a in answers if isinstance(a.error, UncertainAuthError)), None
            )
            if stopped is not None:
                raise stopped

    def _prepare(self, result: SystemPush) -> list[Step] | None:
        """Due commands of one round as steps, marked sent and committed; None when done.

        Commands that may have landed are looked for first, so that a void built in the same
        round knows whether the payment it voids was written."""
        with self.store.session() as session:
            commands = self._due(session, self.settings.chunk)
            if not commands:
                return None
            refs = self._refs(session, commands)
            # a command whose payment was reversed while its outcome was unknown is only ever
            # looked for, whatever a concurrent attempt left it as
            looked_for = [c for c in commands if c.status == CommandStatus.SENT or c.reversed_by]
            rest = [c for c in commands if c not in looked_for]
            steps = self._look_up(session, looked_for, refs, result)
            for c in rest:
                built = self._build(session, c, refs, result)
                if isinstance(built, Unwritable):
                    self._refuse(session, c, built, result)
                elif built is not None:
                    steps.append(built)
            self._renew(session)  # before marking: a push taken over marks nothing
            marked: list[Step] = []
            for step in steps:
                c = step.command
                kept = {k: v for k, v in c.result.items() if k != NOT_LANDED}
                # as read: not cancelled, reversed or sent meanwhile by another transaction
                unchanged = [col(OutboxCommand.status) == c.status]
                if c.updated_at is not None:
                    unchanged.append(col(OutboxCommand.updated_at) == c.updated_at)
                changed = session.execute(
                    update(OutboxCommand)
                    .where(col(OutboxCommand.id) == c.id, *unchanged)
                    .values(
                        status=CommandStatus.SENT,
                        attempts=c.attempts + 1,
                        sent_at=self.now,
                        updated_at=utcnow(),
                        result={**kept, SENDING: step.key},
                    )
                )
                if not changed.rowcount:  # type: ignore[attr-defined]
                    log.info("push %s: command %s changed meanwhile; read again", self.system, c.id)
                    continue
                c.attempts += 1
                marked.append(step)
        return marked

    def _look_up(
        self, session: Session, commands: Sequence[Command], refs: RefIndex, result: SystemPush
    ) -> list[Step]:
        """Look for the writes of commands that may have landed unseen (``sent``: the reply was
        lost, or a crash came between marking and sending); the steps to send again.

        Found: confirmed. Not found: sent again, unless the command cannot be written now
        (refused) or its payment was reversed meanwhile (cancelled: only looked for). A write
        is looked for even when the records no longer allow it: its own landing may be what
        changed them. When the lookup fails, the commands wait as they are."""
        looking: list[tuple[Step, Unwritable | None]] = []
        for c in commands:
            built = self._build(session, c, refs.unchecked() if c.reversed_by else refs, result)
            held: Unwritable | None = None  # why it cannot be sent again, if it is not found
            if isinstance(built, Unwritable) and not c.reversed_by:
                held, built = built, self._build(session, c, refs.unchecked(), result)
            if isinstance(built, Unwritable):
                self._refuse(session, c, held or built, result)
            elif built is not None:
                looking.append((built, held))
        if not looking:
            return []
        since = min(s.command.sent_at or self.now for s, _ in looking) - LANDED_MARGIN
        try:
            landed = self.adapter.landed([s for s, _ in looking], since)
        except AuthError:
            raise
        except ApiError as exc:
            log.warning(
                "push %s: looking for writes whose reply was lost failed: %s", self.system, exc
            )
            for step, _ in looking:
                self._wait(session, step.command, f"looking for its write failed: {exc}", result)
            result.error = result.error or f"looking for writes whose reply was lost failed: {exc}"
            return []
        steps: list[Step] = []
        for step, held in looking:
            c = step.command
            if step.key in landed:
                result.landed_unseen += 1
                self._succeed(session, StepResult(step, landed[step.key]), result)
            elif c.reversed_by:
                self.settled.add(c.id)
                reason = f"not found in {self.system}: never written, and reversed by decision"
                _set(
                    session,
                    c.id,
                    status=CommandStatus.CANCELLED,
                    last_error=f"{self.system}: {reason} {c.reversed_by}",
                )
            elif held is not None:
                self._refuse(session, c, held, result, not_landed=True)
            elif c.refusals and c.attempts >= self.settings.max_attempts:
                # answered with a fault each time it was sent (none landed): not sent again
                # until a person asks, as any write refused that many times
                reason = (
                    f"sent {c.attempts} times, answered with a fault each time and not found "
                    f"in {self.system}: `arsync outbox retry {c.id}` sends it again once the "
                    f"cause is fixed, `arsync outbox cancel {c.id}` drops it"
                )
                self._refuse(session, c, Unwritable(reason), result, not_landed=True)
            else:
                # not there: known not written until it is sent again (an auth failure
                # before it goes out puts it back so)
                c.result = {k: v for k, v in c.result.items() if k != SENDING}
                c.result[NOT_LANDED] = True
                steps.append(step)
        return steps

    def _build(
        self, session: Session, c: Command, refs: RefIndex, result: SystemPush
    ) -> Step | Unwritable | None:
        """The next write of ``c``, or why it cannot be written; None when there is none to
        send now: done already (confirmed here), or waiting (a read it needs failed, or it
        voids a payment whose write may have landed unseen and is still being looked for)."""
        original = self._original(session, c)
        if original == CommandStatus.CANCELLED:
            self.settled.add(c.id)
            _set(
                session,
                c.id,
                status=CommandStatus.CANCELLED,
                last_error=f"{self.system}: {self._void_reason(c, original)}",
            )
            return None
        if original is not None:
            self._wait(session, c, self._void_reason(c, original), result)
            return None
        try:
            step = self.adapter.step(c, refs, session)
        except Unwritable as exc:
            return exc
        except AuthError:
            raise
        except ApiError as exc:
            log.warning("push %s: command %s: reading for it failed: %s", self.system, c.id, exc)
            self._wait(session, c, f"reading for it failed: {exc}", result)
            result.error = result.error or f"command {c.id}: reading for it failed: {exc}"
            return None
        if refs.checks:
            _expect(refs, c)
        if isinstance(step.write, AlreadyDone):
            result.landed_unseen += c.status == CommandStatus.SENT
            self._succeed(session, StepResult(step, step.write.remote_id), result)
            return None
        return step

    def _original(self, session: Session, c: Command) -> str | None:
        """For a void planned before the payment it voids was known to be written (the
        original write's reply was lost): the original's status while it is not confirmed.
        Once it is, its remote id becomes the void's and this is None."""
        original = c.payload.get("original_command")
        if c.operation != "void_cash" or c.payload.get("remote_id") or not original:
            return None
        row = session.execute(
            select(col(OutboxCommand.status), col(OutboxCommand.remote_id)).where(
                col(OutboxCommand.id) == original
            )
        ).one_or_none()
        if row is None or (row.status == CommandStatus.CONFIRMED and not row.remote_id):
            return None  # the adapter refuses it: nothing known to void
        if row.status == CommandStatus.CONFIRMED:
            c.payload["remote_id"] = row.remote_id
            return None
        return str(row.status)

    def _void_reason(self, c: Command, original_status: str) -> str:
        """Why the void ``c`` is not built: its payment never reached the system, or is
        still being looked for."""
        original = c.payload.get("original_command")
        if original_status == CommandStatus.CANCELLED:
            return f"the payment of command {original} never reached {self.system}: nothing to void"
        return (
            f"waits for command {original}: whether its payment reached {self.system} is not "
            f"known yet ({original_status})"
        )

    def _wait(self, session: Session, c: Command, reason: str, result: SystemPush) -> None:
        """Leave ``c`` as it is until the next push: nothing written, nothing refused."""
        self.settled.add(c.id)
        _set(session, c.id, last_error=f"{self.system}: {reason}")
        result.waiting += 1

    def _stopped(self, steps: Sequence[Step], exc: AuthError, result: SystemPush) -> None:
        """An auth failure stopped the sending of ``steps``: the steps answered before it (by
        earlier requests of the round) are recorded with their answers; the others never
        reached the system (the request the failure refused ran nothing) and wait as they
        were. Answers the adapter did not translate into its steps' results say nothing about
        which step they belong to: the whole round is then uncertain, looked for first."""
        answered = answered_before(exc)
        sent = {id(s) for s in steps}
        if not all(isinstance(a, StepResult) and id(a.step) in sent for a in answered):
            log.error("push %s: answers before an auth failure are not its steps'", self.system)
            where = "sending stopped by an auth failure after some requests were answered"
            lost = UncertainWriteError(self.system, f"{where}: outcome unknown ({exc.message})")
            answered = [StepResult(step, error=lost) for step in steps]
        done = {id(a.step) for a in answered}
        self._record(answered, result)
        self._unsend([s for s in steps if id(s) not in done])

    def _unsend(self, steps: Sequence[Step]) -> None:
        """Never sent (an auth failure refused it or stopped the round before it): the
        commands wait as they were."""
        with self.store.session() as session:
            self._renew(session)
            for step in steps:
                c = step.command
                session.execute(
                    update(OutboxCommand)
                    .where(col(OutboxCommand.id) == c.id)
                    .values(
                        status=CommandStatus.PENDING,
                        attempts=c.attempts - 1,
                        sent_at=c.sent_at,
                        result=c.result,
                        updated_at=utcnow(),
                    )
                )

    def _record(self, answers: Sequence[StepResult], result: SystemPush) -> None:
        with self.store.session() as session:
            self._renew(session)
            for answer in answers:
                if answer.ok:
                    self._succeed(session, answer, result)
                else:
                    assert answer.error is not None
                    self._fail(session, answer.step, answer.error, result, sent=answer.sent)

    # outcomes ------------------------------------------------------------------------------
    def _succeed(self, session: Session, answer: StepResult, result: SystemPush) -> None:
        step = answer.step
        c = step.command
        progress = {k: v for k, v in c.result.items() if k not in (SENDING, NOT_LANDED)}
        progress.setdefault(REMOTE_IDS, {})[step.key] = answer.remote_id
        if step.creates and answer.remote_id:
            _link_created(session, self.tenant, self.system, c, step.creates, answer.remote_id)
        if not step.final:
            progress["step"] = c.step_index + 1
            _set(session, c.id, status=CommandStatus.PENDING, result=progress, last_error=None)
            c.result = progress
            c.status = CommandStatus.PENDING
            return
        _set(
            session,
            c.id,
            status=CommandStatus.CONFIRMED,
            result=progress,
            remote_id=answer.remote_id,
            last_error=None,
        )
        _mirror_balances(session, self.tenant, self.system, c)
        self.settled.add(c.id)
        result.confirmed += 1

    def _fail(
        self, session: Session, step: Step, error: ApiError, result: SystemPush, *, sent: bool
    ) -> None:
        c = step.command
        self.settled.add(c.id)
        message = str(error)
        if isinstance(error, UncertainWriteError):
            # it may have landed: stays sent, and the next push looks before resending
            _set(session, c.id, status=CommandStatus.SENT, last_error=message)
            if isinstance(error, ReplayedFaultError):  # resent, if not found, under a new key
                _count_refusal(session, c.id)
            result.failed += 1
            return
        if error.kind is not ErrorKind.RETRY:
            # the system answered and refused it: this attempt wrote nothing (a transient
            # failure with no such answer, a 5xx, is not known either way); the next attempt
            # goes with a wire key of its own, never answered with this refusal (one never
            # sent keeps its key: the system may still know an earlier attempt of it by that key)
            refused = sent and _answered(error)
            reversed_by = _mark_not_landed(session, c.id, refused=refused).get(REVERSED_BY)
            if reversed_by and not c.result.get(REMOTE_IDS):
                # its payment was reversed while it was on its way: never written, never sent
                # again (its void is cancelled with it)
                reason = f"refused ({message}): never written, and reversed by decision"
                _set(
                    session,
                    c.id,
                    status=CommandStatus.CANCELLED,
                    last_error=f"{reason} {reversed_by}",
                )
                return
        if error.kind in (ErrorKind.CONFLICT, ErrorKind.DATA, ErrorKind.NOT_FOUND):
            # re-read the records and re-validate the decision against them as they are now
            refs = self._refs(session, [c])
            try:
                self.adapter.refresh(c, refs)
                self.adapter.step(c, refs, session)
            except Unwritable as exc:
                self._refuse(session, c, Unwritable(exc.reason, conflict=True), result)
                return
            except ApiError as exc:
                message = f"{message}; re-reading failed: {exc}"
            else:
                if error.kind == ErrorKind.CONFLICT:
                    # still valid with the record's new version: send again (next push)
                    _set(session, c.id, status=CommandStatus.PENDING, last_error=message)
                    result.failed += 1
                    return
        if error.kind in _RETRYABLE and c.attempts < self.settings.max_attempts:
            delay = min(
                self.settings.backoff_seconds * 2 ** max(c.attempts - 1, 0),
                self.settings.backoff_max_seconds,
            )
            if error.retry_after:
                delay = max(delay, error.retry_after)
            _set(
                session,
                c.id,
                status=CommandStatus.FAILED,
                last_error=message,
                next_attempt_at=self.now + timedelta(seconds=delay),
            )
            result.failed += 1
            return
        _set(session, c.id, status=CommandStatus.DEAD, last_error=message)
        result.dead += 1

    def _refuse(
        self,
        session: Session,
        c: Command,
        exc: Unwritable,
        result: SystemPush,
        *,
        not_landed: bool = False,
    ) -> None:
        """Park ``c`` as dead or a conflict; ``not_landed``: it was just looked for and is not
        in the system (without it, one sent before may still have landed there)."""
        self.settled.add(c.id)
        status = CommandStatus.CONFLICT if exc.conflict else CommandStatus.DEAD
        _set(session, c.id, status=status, last_error=f"{self.system}: {exc.reason}")
        if not_landed:
            _mark_not_landed(session, c.id)
        if exc.conflict:
            result.conflicts += 1
        else:
            result.dead += 1


def _command(row: OutboxCommand) -> Command:
    return Command(
        id=row.id,
        system=row.system,
        operation=row.operation,
        key=row.idempotency_key,
        canonical_type=row.canonical_type,
        canonical_id=row.canonical_id,
        payload=dict(row.payload or {}),
        result=dict(row.result or {}),
        attempts=row.attempts,
        status=row.status,
        decision_id=row.decision_id,
        sent_at=row.sent_at,
        updated_at=row.updated_at,
    )


def _answered(error: ApiError) -> bool:
    """Whether ``error`` is the system's own refusal of the write: a 4xx answer (a 409, a
    request still in progress under the key, is none), or a refused item of a batch (its
    code, no status). Only such an answer gives the next attempt a wire key of its own; any
    other failure (a reply that could not be read) may hide a write that landed, and a new
    key would write it again."""
    if error.status is not None:
        return 400 <= error.status < 500 and error.status != 409
    return error.code is not None


def _mark_not_landed(session: Session, command_id: str, *, refused: bool = False) -> dict[str, Any]:
    """Record that the command's last attempt wrote nothing, keeping what else its result
    holds as stored now (a reversal may have marked it meanwhile: the row is locked first);
    the result as recorded. ``refused``: the system said so (counted in ``refusals``, in the
    same transaction as the outcome, so the next attempt's wire key is fixed before it is
    sent); without it (looked for and not found) the next attempt keeps the key."""
    stored = session.execute(
        select(col(OutboxCommand.result))
        .where(col(OutboxCommand.id) == command_id)
        .with_for_update()
    ).scalar_one()
    kept = {k: v for k, v in (stored or {}).items() if k != SENDING}
    recorded = {**kept, NOT_LANDED: True}
    if refused:
        recorded[REFUSALS] = int(kept.get(REFUSALS, 0)) + 1
    _set(session, command_id, result=recorded)
    return recorded


def _count_refusal(session: Session, command_id: str) -> None:
    """Count an answer the command's wire key now replays, so its next attempt goes under a
    key of its own; whether it landed is still to be looked for (it stays sent)."""
    stored = session.execute(
        select(col(OutboxCommand.result))
        .where(col(OutboxCommand.id) == command_id)
        .with_for_update()
    ).scalar_one()
    kept = dict(stored or {})
    _set(session, command_id, result={**kept, REFUSALS: int(kept.get(REFUSALS, 0)) + 1})


def _set(session: Session, command_id: str, **values: Any) -> None:
    session.execute(
        update(OutboxCommand)
        .where(col(OutboxCommand.id) == command_id)
        .values(updated_at=utcnow(), **values)
    )


def _amounts(c: Command) -> dict[str, int]:
    """Invoice id -> what the command takes off its balance (a void gives it back)."""
    taken: dict[str, int] = {}
    if c.operation in ("apply_cash", "apply_credit", "void_cash"):
        sign = -1 if c.operation == "void_cash" else 1
        for line in c.payload.get("lines") or ():
            amount = sign * int(line["amount_minor"])
            taken[line["invoice_id"]] = taken.get(line["invoice_id"], 0) + amount
    elif c.operation == "write_off":
        taken[c.payload["invoice_id"]] = int(c.payload["amount_minor"])
    return taken


def _expect(refs: RefIndex, c: Command) -> None:
    """Within one round, a later command sees what an earlier one takes off an invoice."""
    for invoice_id, amount in _amounts(c).items():
        ref = refs.get("invoice", invoice_id)
        if ref is not None and ref.balance_minor is not None:
            ref.values["balance_minor"] = str(ref.balance_minor - amount)


def _mirror_balances(session: Session, tenant: str, system: str, c: Command) -> None:
    """The system's view of the invoices after a confirmed write, until the next pull."""
    for invoice_id, amount in _amounts(c).items():
        row = session.execute(
            select(ExternalRef).where(
                and_(
                    col(ExternalRef.tenant) == tenant,
                    col(ExternalRef.system) == system,
                    col(ExternalRef.canonical_type) == "invoice",
                    col(ExternalRef.canonical_id) == invoice_id,
                    col(ExternalRef.deleted).is_(False),
                )
            )
        ).scalar_one_or_none()
        if row is None or row.values.get("balance_minor") is None:
            continue
        balance = max(int(row.values["balance_minor"]) - amount, 0)
        values = {**row.values, "balance_minor": str(balance)}
        if balance == 0:
            values["status"] = DocumentStatus.PAID.value
        elif values.get("status") == DocumentStatus.PAID.value:
            values["status"] = DocumentStatus.OPEN.value
        row.values = values
        session.add(row)


def _link_created(
    session: Session,
    tenant: str,
    system: str,
    c: Command,
    creates: tuple[str, str],
    remote_id: str,
) -> None:
    """Remember what a write created, so the next pull links it instead of importing it."""
    ctype, object_type = creates
    p = c.payload
    if ctype == "payment":
        canonical_id = {
            "apply_cash": c.canonical_id,  # the remittance's cash, as posted in the systems
            "write_off": f"w{str(p.get('adjustment_id'))[:31]}",
        }.get(c.operation, c.decision_id or c.id)
        if session.get(Payment, canonical_id) is None:
            cash = int(p.get("amount_minor") or 0) if c.operation == "apply_cash" else 0
            session.add(
                Payment(
                    id=canonical_id,
                    tenant=tenant,
                    customer_id=p.get("customer_id"),
                    currency=p["currency"],
                    amount_minor=cash,
                    unapplied_minor=int(p.get("unapplied_minor") or 0),
                    received_on=c.on,
                    reference=(p.get("reference") or None),
                    memo=f"arsync {c.operation} {c.key}",
                    status=PaymentStatus.POSTED,
                )
            )
            session.flush()
    elif ctype == "credit_memo":
        # a write-off's credit memo, under the id of the deduction it writes off: that
        # deduction already took its amount off the invoice in arsync's book, so the memo is
        # used up from the start (in the systems too, once the write-off's next step applies
        # it) and is never credit for the reconciler to apply
        canonical_id = str(p.get("adjustment_id") or c.id)[:32]
        if session.get(CreditMemo, canonical_id) is None:
            session.add(
                CreditMemo(
                    id=canonical_id,
                    tenant=tenant,
                    customer_id=p.get("customer_id"),
                    number=f"WO-{canonical_id[:8]}",
                    currency=p["currency"],
                    issue_date=c.on,
                    total_minor=int(p["amount_minor"]),
                    balance_minor=0,
                    status=DocumentStatus.PAID,
                    memo=f"write-off: {p.get('reason') or ''}".strip(),
                    adjustment_id=canonical_id,
                )
            )
            session.flush()
    else:
        return
    linked = session.execute(
        select(col(ExternalRef.canonical_id)).where(
            col(ExternalRef.tenant) == tenant,
            col(ExternalRef.system) == system,
            col(ExternalRef.canonical_type) == ctype,
            col(ExternalRef.remote_id) == remote_id,
        )
    ).first()
    if linked is not None:
        if ctype == "credit_memo" and linked.canonical_id != canonical_id:
            # a pull read the write-off's credit memo before its reply was recorded (a lost
            # reply, a crash) and imported it as another record: that one is the write-off's too
            session.execute(
                update(CreditMemo)
                .where(col(CreditMemo.id) == linked.canonical_id)
                .values(adjustment_id=canonical_id, updated_at=utcnow())
            )
    else:
        session.add(
            ExternalRef(
                id=new_id(),
                tenant=tenant,
                canonical_type=ctype,
                canonical_id=canonical_id,
                system=system,
                object_type=object_type,
                remote_id=remote_id,
                link_rule="pushed",
            )
        )
