"""What the outbox worker asks of each system: turn a canonical command into the system's
write, send writes in batches, find writes whose reply was lost.

A command may need several steps (a write-off: create the credit memo, then apply it). Each
step has its own idempotency key derived from the command's, and the worker records each
step's result before the next, so a crash between steps never repeats the first.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from canonical.enums import CommandStatus
from canonical.money import Money
from connectors.base import Connector
from connectors.errors import ApiError
from sync.outbox.errors import Unwritable
from sync.outbox.refs import RefIndex, RemoteRef

__all__ = [
    "AlreadyDone",
    "Command",
    "PushAdapter",
    "Step",
    "StepResult",
    "Unwritable",
    "may_have_landed",
]

# in a command's result: the reversal decision that undid its payment while its write may have
# landed unseen; such a command is only looked for in the system, never sent again
REVERSED_BY = "reversed_by"
# in a command's result: its last attempt is known to have written nothing (the system refused
# it, or looking for it after a lost reply did not find it); gone once it is sent again
NOT_LANDED = "not_landed"
# in a command's result: the key of the step marked sent; a step written has its remote id
SENDING, REMOTE_IDS = "sending", "remote_ids"
# in a command's result: how many of its attempts the system answered with a refusal (nothing
# written); each one gives the next attempt its own wire key (:meth:`Command.wire_key`)
REFUSALS = "refusals"


def may_have_landed(
    status: str, attempts: int, sent_at: datetime | None, result: Mapping[str, Any] | None
) -> bool:
    """Whether something of a command may be in its system, written or not recorded: it is
    ``sent`` (its reply lost, or in flight), a step of it was written, or it was attempted
    and its last attempt is not known to have written nothing. Attempts count even after
    ``outbox retry`` set the counter back to 0 (it was marked sent at some time)."""
    result = result or {}
    if status in (CommandStatus.SENT, CommandStatus.CONFIRMED) or result.get(REMOTE_IDS):
        return True
    attempted = attempts > 0 or sent_at is not None or SENDING in result
    return attempted and not result.get(NOT_LANDED)


@dataclass
class Command:
    """The worker's view of one outbox row."""

    id: str
    system: str
    operation: str
    key: str
    canonical_type: str
    canonical_id: str
    payload: dict[str, Any]
    result: dict[str, Any]
    attempts: int
    status: str
    sent_at: datetime | None = None
    decision_id: str | None = None
    updated_at: datetime | None = None  # as read: the row is marked sent only if unchanged

    @property
    def step_index(self) -> int:
        return int(self.result.get("step", 0))

    @property
    def refusals(self) -> int:
        return int(self.result.get(REFUSALS, 0))

    def wire_key(self, step_key: str) -> str:
        """The key a step is sent with where the system answers a repeated key with its first
        reply (QBO ``requestid``, Invoiced ``Idempotency-Key``): ``step_key`` until the system
        refuses an attempt, then one of its own per refusal, so a retry once the cause is
        fixed is not answered with the refusal again. Fixed between refusals: a resend after a
        lost reply or a crash carries the key of the attempt it repeats. The record itself
        carries ``step_key`` whatever the attempt, for :meth:`PushAdapter.landed`."""
        return f"{step_key}-r{self.refusals}" if self.refusals else step_key

    @property
    def reversed_by(self) -> str | None:
        """The decision that reversed this command's payment before its outcome was known."""
        value = self.result.get(REVERSED_BY)
        return str(value) if value else None

    def money(self, minor: int) -> Decimal:
        """Minor units of the command's currency as a Decimal amount."""
        return Money.from_minor(int(minor), str(self.payload["currency"])).amount

    def money_minor(self, amount: Any) -> int:
        """An amount a system returned (Decimal or text) in the command's minor units."""
        return Money(amount, str(self.payload["currency"])).minor

    @property
    def on(self) -> date | None:
        raw = self.payload.get("on")
        return date.fromisoformat(raw) if raw else None

    @property
    def write_off_keys(self) -> tuple[str, str]:
        """The keys of a write-off's two steps: the credit document, then the payment
        applying it to the invoice."""
        return f"{self.key}:m", f"{self.key}:a"

    @property
    def deduction(self) -> str:
        """The text a write-off's credit document carries: ``Deduction`` and the reason."""
        return f"Deduction {self.payload.get('reason') or ''}".strip()


@dataclass
class Step:
    """One write to send for a command (the whole command, or one step of it)."""

    command: Command
    key: str
    write: Any
    final: bool = True
    diff: list[str] = field(default_factory=list)  # what changes, from what to what
    # what the write creates, when it creates a record: (canonical type, the system's object
    # type as its pull stream names it), so the next pull links it instead of importing it
    creates: tuple[str, str] | None = None


@dataclass(frozen=True)
class AlreadyDone:
    """The write a step would make is already in the system (found when the step was built,
    e.g. a payment already voided): the worker confirms the step without sending anything."""

    remote_id: str


@dataclass
class StepResult:
    step: Step
    remote_id: str | None = None
    error: ApiError | None = None
    # False: the error came before the write left arsync (nothing the system could refuse;
    # its next attempt keeps its wire key)
    sent: bool = True

    @property
    def ok(self) -> bool:
        return self.error is None


class PushAdapter(ABC):
    """One system's side of the outbox. Subclasses live in ``mappings/<system>/push.py``."""

    system: str = ""
    batch_size: int = 1  # writes per request the system allows
    # Writes are the record's current state, computed when sent: a record's commands are
    # taken together (ordered by record, not by age) so they collapse into one write.
    sends_state: bool = False

    def __init__(self, connector: Connector, options: dict[str, Any] | None = None) -> None:
        self.connector = connector
        self.options = options or {}

    @abstractmethod
    def step(self, command: Command, refs: RefIndex, session: Session) -> Step:
        """The next write of ``command``; raises :class:`Unwritable` when it cannot be."""

    @abstractmethod
    def send(self, steps: Sequence[Step]) -> list[StepResult]:
        """Send the steps (batched as the system allows); one result per step, in order.
        An auth failure is raised; any other failure is that step's result. When the steps
        take several requests, an auth failure after the first is raised as a
        :class:`~connectors.errors.PartialAuthError` whose ``answered`` holds the
        :class:`StepResult` of every step answered before it: the worker records those and
        puts the others back as never sent."""

    def landed(self, steps: Sequence[Step], since: datetime) -> dict[str, str]:
        """Step key -> remote id of the steps that already reached the system (their reply
        was lost). Systems whose writes are absolute values need not look: resending is
        harmless there."""
        return {}

    def refresh(self, command: Command, refs: RefIndex) -> None:
        """Re-read the records ``command`` touches so the next :meth:`step` validates against
        the system's current state (after a stale-version conflict). Default: nothing."""
        return None

    # shared checks --------------------------------------------------------------------------
    def customer(self, refs: RefIndex, command: Command) -> RemoteRef:
        cid = str(command.payload["customer_id"])
        return refs.live("customer", cid, f"customer {cid}")

    def invoice(
        self, refs: RefIndex, command: Command, invoice_id: str, amount_minor: int, diff: list[str]
    ) -> RemoteRef:
        """The invoice's remote record, checked (unless ``refs`` are
        :meth:`~sync.outbox.refs.RefIndex.unchecked`) to still owe at least ``amount_minor`` as
        the system last showed it; the balance change is added to ``diff``."""
        ref = refs.live("invoice", invoice_id, f"invoice {invoice_id}")
        name = label("invoice", ref)
        status = str(ref.values.get("status") or "")
        if status in ("void", "deleted") and refs.checks:
            raise Unwritable(f"{name} is {status} in {self.system}", conflict=True)
        balance = ref.balance_minor
        if balance is not None and balance < amount_minor and refs.checks:
            raise Unwritable(
                f"{name} owes {command.money(balance)} in {self.system}, the decision applies "
                f"{command.money(amount_minor)}: paid or changed there since",
                conflict=True,
            )
        if balance is not None:
            diff.append(
                f"{name}: balance {command.money(balance)} -> "
                f"{command.money(balance - amount_minor)}"
            )
        return ref

    def credit(
        self, refs: RefIndex, command: Command, memo_id: str, amount_minor: int, diff: list[str]
    ) -> RemoteRef:
        ref = refs.live("credit_memo", memo_id, f"credit memo {memo_id}")
        name = label("credit memo", ref)
        balance = ref.balance_minor
        if balance is not None and balance < amount_minor and refs.checks:
            raise Unwritable(
                f"{name} has {command.money(balance)} left in {self.system}, the decision "
                f"applies {command.money(amount_minor)}",
                conflict=True,
            )
        if balance is not None:
            diff.append(
                f"{name}: credit left {command.money(balance)} -> "
                f"{command.money(balance - amount_minor)}"
            )
        return ref

    def applied_invoices(
        self, refs: RefIndex, command: Command, diff: list[str]
    ) -> list[tuple[RemoteRef, Decimal]]:
        """Each line of ``command`` in order: its invoice's remote record, checked by
        :meth:`invoice` (the balance change added to ``diff``), and the amount it applies."""
        return [
            (
                self.invoice(refs, command, line["invoice_id"], line["amount_minor"], diff),
                command.money(line["amount_minor"]),
            )
            for line in command.payload["lines"]
        ]

    @staticmethod
    def touched_invoices(refs: RefIndex, command: Command) -> list[RemoteRef]:
        """The known remote records of the invoices ``command`` touches: its lines'
        invoices, then a write-off's invoice."""
        ids = [line["invoice_id"] for line in command.payload.get("lines") or ()]
        if command.payload.get("invoice_id"):
            ids.append(command.payload["invoice_id"])
        found = (refs.get("invoice", invoice_id) for invoice_id in ids)
        return [ref for ref in found if ref is not None]

    def given_back(self, refs: RefIndex, command: Command, diff: list[str]) -> None:
        """Add to ``diff`` what voiding ``command``'s payment gives back to each invoice."""
        for line in command.payload.get("lines") or ():
            ref = refs.get("invoice", str(line["invoice_id"]))
            if ref is None or ref.balance_minor is None:
                continue
            amount = int(line["amount_minor"])
            diff.append(
                f"{label('invoice', ref)}: balance {command.money(ref.balance_minor)} -> "
                f"{command.money(ref.balance_minor + amount)}"
            )

    def voided_payment(self, command: Command) -> str:
        """The remote id of the payment a ``void_cash`` command voids: what the original
        write created, as its confirmation recorded it (when the void was planned, or when the
        worker found the original's lost reply later)."""
        remote_id = command.payload.get("remote_id")
        if not remote_id:
            raise Unwritable(
                f"the payment of command {command.payload.get('original_command')} was never "
                f"recorded in {self.system}: nothing known to void"
            )
        return str(remote_id)

    @staticmethod
    def write_off_credit(command: Command, what: str) -> str:
        """The remote id of the credit document a write-off's first step created, as its
        result recorded it; :class:`~sync.outbox.errors.Unwritable` naming ``what`` when
        none was."""
        remote_id = (command.result.get("remote_ids") or {}).get(command.write_off_keys[0])
        if not remote_id:
            raise Unwritable(f"write-off {what} of {command.key} was not recorded")
        return str(remote_id)


def label(kind: str, ref: RemoteRef) -> str:
    number = ref.values.get("number")
    return f"{kind} {number} ({ref.remote_id})" if number else f"{kind} {ref.remote_id}"
