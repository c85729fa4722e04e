"""Looking at and steering the outbox: list, retry, cancel, plan the writes of decisions
applied while no system was written to, and the dry-run's diff."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlmodel import Session, col

from canonical.bulk import insert_rows
from canonical.enums import CommandStatus
from canonical.lease import lease
from canonical.models import OutboxCommand
from canonical.store import Store
from canonical.types import utcnow
from reconciler.engine import RECONCILE_LEASE
from sync.outbox.adapter import REMOTE_IDS, may_have_landed
from sync.outbox.plan import LatePlan, not_planned, plan_later
from sync.outbox.worker import PushSummary

OPEN = (
    CommandStatus.PENDING,
    CommandStatus.SENT,
    CommandStatus.FAILED,
    CommandStatus.DEAD,
    CommandStatus.CONFLICT,
)
RETRYABLE = (CommandStatus.FAILED, CommandStatus.DEAD, CommandStatus.CONFLICT)
CANCELLABLE = (
    CommandStatus.PENDING,
    CommandStatus.FAILED,
    CommandStatus.DEAD,
    CommandStatus.CONFLICT,
)


class OutboxError(ValueError):
    """A retry or cancel that cannot be done; the message says why."""


@dataclass(frozen=True)
class CommandRow:
    id: str
    system: str
    operation: str
    status: str
    attempts: int
    decision_id: str | None
    last_error: str | None
    created_at: str


def counts(store: Store, tenant: str) -> dict[tuple[str, str], int]:
    """(system, status) -> commands."""
    with store.session() as session:
        rows = session.execute(
            select(col(OutboxCommand.system), col(OutboxCommand.status), func.count())
            .where(col(OutboxCommand.tenant) == tenant)
            .group_by(col(OutboxCommand.system), col(OutboxCommand.status))
        ).all()
    return {(system, str(status)): n for system, status, n in rows}


def listing(
    store: Store,
    tenant: str,
    *,
    statuses: Sequence[str] = OPEN,
    system: str | None = None,
    limit: int = 200,
) -> list[CommandRow]:
    """Commands in the given states, oldest first."""
    with store.session() as session:
        query = select(OutboxCommand).where(
            col(OutboxCommand.tenant) == tenant, col(OutboxCommand.status).in_(statuses)
        )
        if system:
            query = query.where(col(OutboxCommand.system) == system)
        rows = session.execute(query.order_by(col(OutboxCommand.created_at)).limit(limit))
        return [
            CommandRow(
                r.id,
                r.system,
                r.operation,
                str(r.status),
                r.attempts,
                r.decision_id,
                r.last_error,
                r.created_at.isoformat(timespec="seconds"),
            )
            for r in rows.scalars()
        ]


def retry(
    store: Store, tenant: str, command_id: str | None = None, *, all_failed: bool = False
) -> int:
    """Make failed, dead or conflicted commands due now (their key stays the same; one whose
    last attempt the system refused goes with the wire key its refusal gave it, see
    :meth:`~sync.outbox.adapter.Command.wire_key`). One sent before and not known to have
    written nothing is ``sent`` again: its write may have landed with the reply lost, so the
    next push looks for it first and sends it again only if it is not there."""
    if not command_id and not all_failed:
        raise OutboxError("name a command id, or say --all-failed")
    with store.session() as session:
        query = select(OutboxCommand).where(
            col(OutboxCommand.tenant) == tenant, col(OutboxCommand.status).in_(RETRYABLE)
        )
        if command_id:
            _must_exist(session, tenant, command_id, RETRYABLE, "retried")
            query = query.where(col(OutboxCommand.id) == command_id)
        else:
            query = query.where(
                col(OutboxCommand.status).in_((CommandStatus.FAILED, CommandStatus.DEAD))
            )
        changed = 0
        for row in session.execute(query.with_for_update()).scalars().all():
            # ``sent`` is not retryable: none is set twice
            landed = may_have_landed(row.status, row.attempts, row.sent_at, row.result)
            result = session.execute(
                update(OutboxCommand)
                .where(col(OutboxCommand.id) == row.id, col(OutboxCommand.status) == row.status)
                .values(
                    status=CommandStatus.SENT if landed else CommandStatus.PENDING,
                    next_attempt_at=None,
                    attempts=0,
                    updated_at=utcnow(),
                )
            )
            changed += int(result.rowcount)  # type: ignore[attr-defined]
        return changed


def cancel(store: Store, tenant: str, command_id: str) -> None:
    """Never send this command. Refused for one that may have written something in its system
    (sent, its reply lost; or part of it written): cancelling it would lose arsync's record of
    what is there, cash applied included. Such a command is retried instead (looked for
    first), or its payment reversed."""
    with store.session() as session:
        row = _must_exist(session, tenant, command_id, CANCELLABLE, "cancelled")
        if row.operation == "void_cash":
            raise OutboxError(
                f"command {row.id} (void_cash in {row.system}) cannot be cancelled: it undoes a "
                f"payment written to {row.system} for cash arsync took back; it is written once "
                f"`arsync push` writes to {row.system} (a payment voided there by hand is found "
                "voided and nothing more is written)"
            )
        if may_have_landed(row.status, row.attempts, row.sent_at, row.result):
            raise OutboxError(_not_cancellable(row))
        done = session.execute(
            update(OutboxCommand)
            .where(col(OutboxCommand.id) == command_id, col(OutboxCommand.status) == row.status)
            .values(status=CommandStatus.CANCELLED, updated_at=utcnow())
        )
        if not done.rowcount:  # type: ignore[attr-defined]
            raise OutboxError(
                f"command {command_id} changed while it was being cancelled (a push is sending "
                "it, or it was reversed): look at `arsync outbox` and try again"
            )


def _not_cancellable(row: OutboxCommand) -> str:
    """Why a command that may have landed is not cancelled, and what to do instead (one line)."""
    what = f"command {row.id} ({row.operation} in {row.system}, {row.status})"
    if (row.result or {}).get(REMOTE_IDS):
        if row.status == CommandStatus.PENDING:
            todo = "run `arsync push` to finish it"
        else:
            todo = f"run `arsync outbox retry {row.id}` to finish it"
        return f"{what} cannot be cancelled: part of it is already written in {row.system}; {todo}"
    return (
        f"{what} cannot be cancelled: it was sent to {row.system} and may have landed there "
        "with its reply lost, so cancelling could lose the record of what it wrote (cash "
        f"applied); run `arsync outbox retry {row.id}`, which looks for it in {row.system} "
        "first and sends it again only if it is not there"
    )


def _must_exist(
    session: Session, tenant: str, command_id: str, allowed: Sequence[str], verb: str
) -> OutboxCommand:
    row = session.get(OutboxCommand, command_id, with_for_update=True)
    if row is None or row.tenant != tenant:
        raise OutboxError(f"no outbox command {command_id!r}")
    if row.status == CommandStatus.SENT and row.status not in allowed:
        raise OutboxError(
            f"command {command_id} is sent: whether it landed in {row.system} is not known yet "
            f"(its reply was lost); it cannot be {verb}: the next `arsync push` looks for it "
            f"in {row.system} first and sends it again only if it is not there"
        )
    if row.status not in allowed:
        raise OutboxError(
            f"command {command_id} is {row.status}: only {', '.join(allowed)} can be {verb}"
        )
    return row


def plan_writes(
    store: Store,
    tenant: str,
    systems: Sequence[str],
    decision_ids: Sequence[str] | None = None,
    *,
    dry_run: bool = False,
) -> list[LatePlan]:
    """Plan the writes, in ``systems``, of the applied decisions named (None: every one no
    write was planned for, as the report counts them) that have none there yet; see
    :func:`~sync.outbox.plan.plan_later`. One transaction under the reconcile lease, so no
    decision is undone or decided again meanwhile and two plans never run at once. A dry run
    takes no lease and writes nothing."""
    if dry_run:
        with store.session() as session:
            ids = not_planned(session, tenant) if decision_ids is None else decision_ids
            return plan_later(session, tenant, systems, ids)
    with lease(store, tenant, RECONCILE_LEASE) as held, store.session() as session:
        ids = not_planned(session, tenant) if decision_ids is None else decision_ids
        plans = plan_later(session, tenant, systems, ids)
        rows = [row for plan in plans for row in plan.commands]
        if rows:
            held.renew(session)  # a plan that stalled past its lease commits nothing
            insert_rows(session, OutboxCommand.__table__, rows)  # type: ignore[attr-defined]
    return plans


def render_late_plan(plans: Sequence[LatePlan], *, dry_run: bool) -> tuple[list[str], list[str]]:
    """The planned decisions as lines (each one's systems and operations, and the total),
    and one line per decision refused."""
    lines: list[str] = []
    refused: list[str] = []
    writes = 0
    for plan in plans:
        if plan.refused:
            refused.append(plan.refused)
            continue
        writes += len(plan.commands)
        per_system: dict[str, Counter[str]] = {}
        for row in plan.commands:
            per_system.setdefault(row["system"], Counter())[row["operation"]] += 1
        said = "; ".join(
            f"{system} " + ", ".join(f"{op} {n}" if n > 1 else op for op, n in ops.items())
            for system, ops in per_system.items()
        )
        line = f"decision {plan.decision_id} ({plan.what}): "
        line += f"{'would plan' if dry_run else 'planned'} {said}"
        if plan.before:
            line += f"; planned before in {', '.join(plan.before)} (nothing more there)"
        if plan.lacking:
            line += f"; its customer is in none of {', '.join(plan.lacking)} (nothing there)"
        lines.append(line)
    decided = len(plans) - len(refused)
    if dry_run:
        lines.append(
            f"dry run: {writes} write{'s' if writes != 1 else ''} for {decided} "
            f"decision{'s' if decided != 1 else ''} would be planned; nothing written. Check "
            "first that nobody recorded them by hand in those systems meanwhile"
        )
    elif writes:
        lines.append(
            f"{writes} write{'s' if writes != 1 else ''} planned for {decided} "
            f"decision{'s' if decided != 1 else ''}: `arsync push` sends them"
        )
    else:
        lines.append("nothing planned")
    return lines, refused


def render_plan(summary: PushSummary) -> list[str]:
    """The dry run as readable lines: per system, each planned write and what it changes."""
    lines: list[str] = []
    for system, result in summary.systems.items():
        ops = Counter(step.command.operation for step in result.planned)
        lines.append(
            f"== {system}: {len(result.planned)} writes planned"
            + (f" ({', '.join(f'{op} {n}' for op, n in sorted(ops.items()))})" if ops else "")
            + (f", {len(result.refused)} refused" if result.refused else "")
        )
        if result.error:
            lines.append(f"  ! {result.error}")
        for step in result.planned:
            c = step.command
            lines.append(f"  {c.operation} [{c.id}] decision {c.decision_id}")
            lines.extend(f"    {change}" for change in step.diff)
        for command, reason in result.refused:
            lines.append(f"  x {command.operation} [{command.id}]: {reason}")
    return lines
