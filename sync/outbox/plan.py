"""From decisions to commands: which writes each applied decision needs in which system.

Runs inside the reconciler's flush (as its :class:`~reconciler.apply.DecisionSink`), so a
decision and its commands commit together or not at all.

* ``apply_cash``: a remittance's cash applied to invoices (the rest stays unapplied on the
  customer) — a payment in every system that keeps payments.
* ``apply_credit``: a credit memo applied to invoices.
* ``write_off``: a short-pay deduction on one invoice, to the configured account/reason.
* ``invoice_state`` / ``credit_memo_state`` / ``account_summary``: the invoice's status,
  balance and paid date, the credit memo's status and what is left of it, and the account's
  AR summary, in systems that only show state (the CRM): after every decision that applies a
  credit memo, and every reversal that gives its credit back.
* ``void_cash``: a person reversed a payment the bank took back (``reverse_payment``): the
  payment an ``apply_cash`` or ``apply_credit`` of the original decision created is voided
  in that system. Such a command never sent is cancelled instead; one sent but not confirmed
  (its write may have landed, the reply lost) is from then on only looked for, never sent, and
  the void waits for what the lookup finds: it voids the payment if it was written, and is
  cancelled with the original if it was not.

A system gets a command only when it holds the decision's customer; a command whose
invoices that system lacks is refused with a clear reason when sent, not silently dropped.

A decision applied while a system was not written to gets that system's commands later only
when a person asks (``arsync outbox plan``, :func:`plan_later`): the same planner, from the
decision's stored rows, so each command has the key it would have had at decision time.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Table, select, update
from sqlmodel import Session, col

from canonical.bulk import insert_rows, select_in
from canonical.enums import ApplicationStatus, CommandStatus
from canonical.ids import new_id
from canonical.models import (
    Adjustment,
    Application,
    Decision,
    ExternalRef,
    OutboxCommand,
    Remittance,
)
from canonical.money import Money
from canonical.types import utcnow
from reconciler.apply import FlushedBatch
from reconciler.cascade import AUTO, EXCEPTION
from reconciler.confirm import returned_by
from reconciler.reverse import RULE as REVERSE_RULE
from reconciler.reverse import contradicted_by
from sync.outbox.adapter import REVERSED_BY, may_have_landed

PAYMENT_SYSTEMS = frozenset({"quickbooks", "intacct", "invoiced"})
STATE_SYSTEMS = frozenset({"salesforce"})
_OUTBOX: Table = OutboxCommand.__table__  # type: ignore[attr-defined]
_DECISION: Table = Decision.__table__  # type: ignore[attr-defined]
_APPLICATION: Table = Application.__table__  # type: ignore[attr-defined]
_ADJUSTMENT: Table = Adjustment.__table__  # type: ignore[attr-defined]
_CHUNK = 500
VOIDABLE = ("apply_cash", "apply_credit")  # the writes of a decision that create a payment


def command_key(tenant: str, system: str, operation: str, canonical_id: str, version: str) -> str:
    """The idempotency key of a command: fixed at creation, the same on every attempt."""
    raw = "\x1f".join((tenant, system, operation, canonical_id, version))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


class OutboxPlanner:
    """Creates the commands of each batch of applied decisions, for the target systems."""

    def __init__(self, tenant: str, systems: Sequence[str]) -> None:
        self.tenant = tenant
        self.systems = list(systems)

    def __call__(self, session: Session, batch: FlushedBatch) -> None:
        for d in batch.decisions:
            if d["rule"] == REVERSE_RULE:
                insert_rows(session, _OUTBOX, self._reversal(session, d))
        insert_rows(session, _OUTBOX, self.applied_commands(session, batch))

    def applied_commands(self, session: Session, batch: FlushedBatch) -> list[dict[str, Any]]:
        """The commands of the batch's applied decisions, as rows not yet inserted."""
        applied = [d for d in batch.decisions if d["status"] == AUTO]
        if not applied or not self.systems:
            return []
        lines: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in batch.applications:
            lines[row["decision_id"]].append(row)
        deductions: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in batch.adjustments:
            deductions[row["decision_id"]].append(row)
        wanted: set[tuple[str, str]] = set()
        for d in applied:
            if d["customer_id"]:
                wanted.add(("customer", d["customer_id"]))
            if d["source_kind"] == "credit_memo":
                wanted.add(("credit_memo", d["source_id"]))
            for row in lines[d["id"]] + deductions[d["id"]]:
                wanted.add(("invoice", row["invoice_id"]))
                if row.get("kind") == "credit_memo":
                    wanted.add(("credit_memo", row["source_id"]))
        held = _systems_holding(session, self.tenant, wanted)
        remittances = _remittances(
            session, [d["source_id"] for d in applied if d["source_kind"] == "remittance"]
        )
        rows: list[dict[str, Any]] = []
        for d in applied:
            rows.extend(self._commands(d, lines[d["id"]], deductions[d["id"]], held, remittances))
        return rows

    def _commands(
        self,
        decision: dict[str, Any],
        lines: list[dict[str, Any]],
        deductions: list[dict[str, Any]],
        held: dict[tuple[str, str], set[str]],
        remittances: dict[str, Any],
    ) -> Iterable[dict[str, Any]]:
        customer_id = decision["customer_id"]
        if not customer_id:
            return
        systems = held.get(("customer", customer_id), set())
        currency = decision["currency"]
        on = _day(decision["created_at"])
        cash_lines: list[dict[str, Any]] = []
        credit_lines: dict[str, list[dict[str, Any]]] = defaultdict(list)  # memo id -> lines
        for row in lines:
            line = {"invoice_id": row["invoice_id"], "amount_minor": row["amount_minor"]}
            if decision["source_kind"] == "remittance" and row["kind"] == "credit_memo":
                credit_lines[row["source_id"]].append(line)  # a memo the payer netted off
            else:
                cash_lines.append(line)
        # in invoice order, as a decision planned later reads them back
        cash_lines.sort(key=lambda line: line["invoice_id"])
        for memo_lines in credit_lines.values():
            memo_lines.sort(key=lambda line: line["invoice_id"])
        if decision["source_kind"] == "credit_memo" and cash_lines:
            credit_lines[decision["source_id"]] = cash_lines
        touched = sorted({row["invoice_id"] for row in lines + deductions})
        memos = sorted(credit_lines)
        for system in self.systems:
            if system not in systems:
                continue
            if system in PAYMENT_SYSTEMS:
                if decision["source_kind"] == "remittance":
                    remittance = remittances.get(decision["source_id"])
                    yield self._row(
                        system,
                        "apply_cash",
                        decision,
                        "remittance",
                        decision["source_id"],
                        {
                            "customer_id": customer_id,
                            "currency": currency,
                            "amount_minor": decision["amount_minor"],
                            "unapplied_minor": decision["unapplied_minor"],
                            "lines": cash_lines,
                            "on": (_day(remittance.value_date) if remittance else None) or on,
                            "reference": remittance.bank_reference if remittance else None,
                            "payer": remittance.payer_name if remittance else None,
                        },
                    )
                for memo_id, memo_lines in sorted(credit_lines.items()):
                    yield self._row(
                        system,
                        "apply_credit",
                        decision,
                        "credit_memo",
                        memo_id,
                        {
                            "customer_id": customer_id,
                            "currency": currency,
                            "credit_memo_id": memo_id,
                            "lines": memo_lines,
                            "on": on,
                        },
                    )
                for row in deductions:
                    yield self._row(
                        system,
                        "write_off",
                        decision,
                        "invoice",
                        row["invoice_id"],
                        {
                            "customer_id": customer_id,
                            "currency": currency,
                            "invoice_id": row["invoice_id"],
                            "amount_minor": row["amount_minor"],
                            "reason": row["reason_code"],
                            "adjustment_id": row["id"],
                            "on": on,
                        },
                        version=f"{decision['id']}:{row['id']}",
                    )
            elif system in STATE_SYSTEMS:
                yield from self._state(system, decision, customer_id, touched, memos, held)

    def _reversal(self, session: Session, decision: dict[str, Any]) -> list[dict[str, Any]]:
        """Undo the original decision's payments: cancel the writes never sent, void the
        payments written; the CRM gets the reopened invoices' state."""
        evidence = decision["evidence"]
        original = str(evidence["reverses_decision"])
        customer_id = decision["customer_id"]
        on = _day(decision["created_at"])
        rows: list[dict[str, Any]] = []
        commands = session.execute(
            select(OutboxCommand)
            .where(
                col(OutboxCommand.tenant) == self.tenant,
                col(OutboxCommand.decision_id) == original,
                col(OutboxCommand.operation).in_(VOIDABLE),
            )
            .order_by(col(OutboxCommand.created_at), col(OutboxCommand.id))
            # a push marking one sent meanwhile waits, or is seen: never both cancelled and sent
            .with_for_update()
        ).scalars()
        for c in list(commands):
            if c.status == CommandStatus.CANCELLED:
                continue
            if not _may_have_landed(c):
                session.execute(
                    update(OutboxCommand)
                    .where(col(OutboxCommand.id) == c.id)
                    .values(
                        status=CommandStatus.CANCELLED,
                        last_error=f"cancelled: payment reversed by decision {decision['id']}",
                        updated_at=utcnow(),
                    )
                )
                continue
            if c.status != CommandStatus.CONFIRMED:
                # in every system, pushed to or not: never sent again, only looked for
                session.execute(
                    update(OutboxCommand)
                    .where(col(OutboxCommand.id) == c.id)
                    .values(
                        status=CommandStatus.SENT,
                        result={**(c.result or {}), REVERSED_BY: decision["id"]},
                        updated_at=utcnow(),
                    )
                )
            # voided where it may have landed, written to now or not: a system not written
            # to now holds its void until it is again (push sends only configured systems')
            rows.append(
                self._row(
                    c.system,
                    "void_cash",
                    decision,
                    c.canonical_type,
                    c.canonical_id,
                    {
                        "customer_id": c.payload.get("customer_id") or customer_id,
                        "currency": c.payload.get("currency") or decision["currency"],
                        "original_command": c.id,
                        "original_operation": c.operation,
                        "remote_id": c.remote_id,
                        "lines": list(c.payload.get("lines") or []),
                        "on": on,
                        "reason": f"payment taken back ({evidence.get('event') or 'reversal'})",
                    },
                    version=c.id,
                )
            )
        if not customer_id:
            return rows
        reversed_lines = evidence["applications_reversed"]
        invoices = sorted({str(line["invoice_id"]) for line in reversed_lines})
        memos = sorted(
            {str(m) for m in (line.get("credit_memo_id") for line in reversed_lines) if m}
        )
        wanted = {("customer", customer_id)} | {("invoice", i) for i in invoices}
        wanted |= {("credit_memo", m) for m in memos}
        held = _systems_holding(session, self.tenant, wanted)
        for system in self.systems:
            if system in STATE_SYSTEMS and system in held.get(("customer", customer_id), ()):
                rows.extend(self._state(system, decision, customer_id, invoices, memos, held))
        return rows

    def _state(
        self,
        system: str,
        decision: dict[str, Any],
        customer_id: str,
        invoices: Iterable[str],
        memos: Iterable[str],
        held: dict[tuple[str, str], set[str]],
    ) -> Iterable[dict[str, Any]]:
        """A state system's commands after a decision: each invoice it holds, each credit
        memo it holds whose credit the decision used or gave back, then the account's AR
        summary."""
        for invoice_id in invoices:
            if system in held.get(("invoice", invoice_id), set()):
                yield self._row(
                    system,
                    "invoice_state",
                    decision,
                    "invoice",
                    invoice_id,
                    {"invoice_id": invoice_id},
                )
        for memo_id in memos:
            if system in held.get(("credit_memo", memo_id), set()):
                yield self._row(
                    system,
                    "credit_memo_state",
                    decision,
                    "credit_memo",
                    memo_id,
                    {"credit_memo_id": memo_id},
                )
        yield self._row(
            system,
            "account_summary",
            decision,
            "customer",
            customer_id,
            {"customer_id": customer_id},
        )

    def _row(
        self,
        system: str,
        operation: str,
        decision: dict[str, Any],
        canonical_type: str,
        canonical_id: str,
        payload: dict[str, Any],
        *,
        version: str | None = None,
    ) -> dict[str, Any]:
        now = utcnow()
        return {
            "id": new_id(),
            "tenant": self.tenant,
            "system": system,
            "operation": operation,
            "decision_id": decision["id"],
            "canonical_type": canonical_type,
            "canonical_id": canonical_id,
            "payload": payload,
            "idempotency_key": command_key(
                self.tenant, system, operation, canonical_id, version or decision["id"]
            ),
            "status": CommandStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": None,
            "last_error": None,
            "remote_id": None,
            "result": {},
            "created_at": now,
            "sent_at": None,
            "updated_at": now,
        }


@dataclass
class LatePlan:
    """One decision's writes planned after the fact (or why none are): ``commands`` are the
    outbox rows, ``before`` the systems that had its writes already, ``lacking`` the systems
    written to that hold none of its customer."""

    decision_id: str
    commands: list[dict[str, Any]] = field(default_factory=list)
    before: list[str] = field(default_factory=list)
    lacking: list[str] = field(default_factory=list)
    refused: str | None = None
    what: str = ""  # e.g. "remittance R, 100.00 USD applied"


_DECISION_COLUMNS = (
    "id",
    "tenant",
    "status",
    "rule",
    "superseded",
    "customer_id",
    "currency",
    "source_kind",
    "source_id",
    "amount_minor",
    "applied_minor",
    "unapplied_minor",
    "created_at",
)


def not_planned(session: Session, tenant: str) -> list[str]:
    """The applied decisions (cash in force, not superseded) with no write planned to any
    system, oldest first: those the report counts as ``not_planned``."""
    return list(
        session.execute(
            select(col(Decision.id))
            .where(
                col(Decision.tenant) == tenant,
                col(Decision.superseded).is_(False),
                col(Decision.status) == AUTO,
                select(col(Application.id))
                .where(
                    col(Application.decision_id) == col(Decision.id),
                    col(Application.status) != ApplicationStatus.REVERSED,
                )
                .exists(),
                ~select(col(OutboxCommand.id))
                .where(col(OutboxCommand.decision_id) == col(Decision.id))
                .exists(),
            )
            .order_by(col(Decision.created_at), col(Decision.id))
        ).scalars()
    )


def plan_later(
    session: Session, tenant: str, systems: Sequence[str], decision_ids: Sequence[str]
) -> list[LatePlan]:
    """The commands the planner gives each applied, not superseded decision for the systems
    in ``systems`` that have none of its commands yet (a command cancelled counts as one),
    read from its stored applications and deductions: the rows and keys it would have
    planned at decision time. Nothing is inserted. A decision unknown, not applied,
    superseded, with no cash in force, or planned in every system already is refused with
    one line naming it and why."""
    ids = list(dict.fromkeys(decision_ids))
    decisions = {
        row.id: row._asdict()
        for row in select_in(
            session, _DECISION, _DECISION_COLUMNS, equal={"tenant": tenant}, within={"id": ids}
        )
    }
    known = list(decisions)
    existing: dict[str, set[str]] = defaultdict(set)
    for row in select_in(
        session,
        _OUTBOX,
        ("decision_id", "system"),
        equal={"tenant": tenant},
        within={"decision_id": known},
    ):
        existing[row.decision_id].add(row.system)
    lines: dict[str, list[dict[str, Any]]] = defaultdict(list)
    had_lines: set[str] = set()
    application_rows = select_in(
        session,
        _APPLICATION,
        ("id", "decision_id", "kind", "source_id", "invoice_id", "amount_minor", "status"),
        within={"decision_id": known},
    )
    for row in sorted(application_rows, key=lambda r: r.id):
        had_lines.add(row.decision_id)
        if row.status != ApplicationStatus.REVERSED:
            lines[row.decision_id].append(row._asdict())
    deductions: dict[str, list[dict[str, Any]]] = defaultdict(list)
    adjustment_rows = select_in(
        session,
        _ADJUSTMENT,
        ("id", "decision_id", "invoice_id", "amount_minor", "reason_code"),
        within={"decision_id": known},
    )
    for row in sorted(adjustment_rows, key=lambda r: r.id):
        deductions[row.decision_id].append(row._asdict())

    plans: dict[str, LatePlan] = {}
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for decision_id in ids:
        plan = plans[decision_id] = LatePlan(decision_id)
        d = decisions.get(decision_id)
        if d is None:
            plan.refused = f"decision {decision_id}: no such decision"
            continue
        plan.what = _applied_what(d)
        missing = tuple(s for s in systems if s not in existing[decision_id])
        plan.before = [s for s in systems if s in existing[decision_id]]
        refused = _not_plannable(
            d, decision_id in had_lines, lines[decision_id], missing, plan.before
        ) or _contested(session, tenant, d)
        if refused:
            plan.refused = f"decision {decision_id}: {refused}"
            continue
        groups[missing].append(d)
    for missing, group in groups.items():
        batch = FlushedBatch(
            group,
            [row for d in group for row in lines[d["id"]]],
            [row for d in group for row in deductions[d["id"]]],
        )
        for row in OutboxPlanner(tenant, missing).applied_commands(session, batch):
            plans[row["decision_id"]].commands.append(row)
        for d in group:
            plan = plans[d["id"]]
            planned = {row["system"] for row in plan.commands}
            plan.lacking = [s for s in missing if s not in planned]
            if not plan.commands:
                plan.refused = f"decision {d['id']}: " + (
                    f"its customer is in none of the systems written to ({', '.join(missing)}): "
                    "sync it from them first, or record the payment there by hand"
                    if d["customer_id"]
                    else "it names no customer: no system can take its writes"
                )
    return [plans[i] for i in ids]


def _not_plannable(
    decision: dict[str, Any],
    had_lines: bool,
    lines: list[dict[str, Any]],
    missing: Sequence[str],
    before: list[str],
) -> str | None:
    """Why a decision gets no commands planned now (``before``: the systems written to that
    have its commands already), or None."""
    if decision["superseded"]:
        return (
            "it is superseded (undone, reversed or decided again since): its writes are never "
            "planned"
        )
    if decision["status"] != AUTO or decision["rule"] == REVERSE_RULE:
        return f"it is {decision['status']}, not applied cash: it has no writes to plan"
    if had_lines and not lines:
        return "none of the cash it applied is still in force: nothing to write"
    if not missing:
        return f"its writes are planned already in {', '.join(before)}: nothing more to plan"
    return None


def _contested(session: Session, tenant: str, decision: dict[str, Any]) -> str | None:
    """Why a decision's cash must not be written as it stands: the bank or processor took it
    back (a return, open or dismissed), or its remittance advice says it belongs elsewhere."""
    if decision["source_kind"] != "remittance":
        return None
    back = returned_by(session, tenant, decision["source_id"])
    if back is not None:
        return (
            f"the cash it applied was taken back (return decision {back.id}): it is not "
            f"written; take the payment back with `arsync resolve {back.id} --by person:NAME "
            "--reverse` (or dismiss the return)"
            if back.status == EXCEPTION
            else f"the cash it applied was taken back (return decision {back.id}, dismissed): "
            "it is not written"
        )
    advice = contradicted_by(session, tenant, decision["id"])
    if advice is not None:
        return (
            f"its remittance advice says the cash belongs elsewhere (exception {advice.id}): "
            f"settle that first with `arsync resolve {advice.id} --by person:NAME --reverse`"
        )
    return None


def _applied_what(decision: dict[str, Any]) -> str:
    """What a decision applied, for the command's lines: its source and amount."""
    amount = Money.from_minor(decision["applied_minor"], decision["currency"])
    source = str(decision["source_kind"]).replace("_", " ")
    return f"{source} {decision['source_id']}, {amount.amount} {amount.currency} applied"


def _may_have_landed(c: OutboxCommand) -> bool:
    """Confirmed, or sent and not known to have written nothing: its reply may have been lost
    after it landed (see :func:`~sync.outbox.adapter.may_have_landed`)."""
    return may_have_landed(c.status, c.attempts, c.sent_at, c.result)


def _day(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return (value.date() if hasattr(value, "date") else value).isoformat()
    return str(value)[:10]


def _systems_holding(
    session: Session, tenant: str, wanted: set[tuple[str, str]]
) -> dict[tuple[str, str], set[str]]:
    """(canonical type, id) -> the systems holding a live record of it."""
    held: dict[tuple[str, str], set[str]] = defaultdict(set)
    by_type: dict[str, list[str]] = defaultdict(list)
    for ctype, cid in wanted:
        by_type[ctype].append(cid)
    for ctype, ids in by_type.items():
        for start in range(0, len(ids), _CHUNK):
            query = select(col(ExternalRef.canonical_id), col(ExternalRef.system)).where(
                col(ExternalRef.tenant) == tenant,
                col(ExternalRef.canonical_type) == ctype,
                col(ExternalRef.canonical_id).in_(ids[start : start + _CHUNK]),
                col(ExternalRef.deleted).is_(False),
            )
            for cid, system in session.execute(query):
                held[(ctype, cid)].add(system)
    return held


def _remittances(session: Session, ids: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for start in range(0, len(ids), _CHUNK):
        query = select(
            col(Remittance.id),
            col(Remittance.value_date),
            col(Remittance.bank_reference),
            col(Remittance.payer_name),
        ).where(col(Remittance.id).in_(ids[start : start + _CHUNK]))
        for row in session.execute(query):
            found[row.id] = row
    return found
