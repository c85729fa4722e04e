"""`arsync outbox cancel` never loses a write that may be in the system: a command ever sent is
cancelled only when it is known to have written nothing; the others are retried (looked for
first). The same knowledge decides whether a reversal cancels a command or looks for it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pytest
from sqlalchemy import select, update
from sqlmodel import Session, col

from canonical.enums import CommandStatus
from canonical.models import ExternalRef, OutboxCommand
from canonical.store import Store
from canonical.types import utcnow
from connectors.errors import AuthError, ConflictError, DataError, TransientError
from reconciler.apply import FlushedBatch
from reconciler.reverse import RULE as REVERSE_RULE
from sync.outbox.adapter import Command, Step, StepResult
from sync.outbox.control import OutboxError, cancel, retry
from sync.outbox.plan import OutboxPlanner
from sync.outbox.refs import RefIndex
from sync.outbox.worker import push
from sync.settings import PushSettings
from tests.sync.outbox.books import Book
from tests.sync.outbox.test_worker import Scripted, add, reverse, state, void_of

NOW = PushSettings(backoff_seconds=0)


@pytest.fixture
def book(store: Store) -> tuple[Store, str, str]:
    b = Book(store)
    acme = b.customer("Acme Corp", ("quickbooks",))
    return store, acme, b.invoice(acme, "INV-1", "100.00", ("quickbooks",))


def refused_cancel(store: Store, command_id: str) -> str:
    with pytest.raises(OutboxError) as caught:
        cancel(store, "default", command_id)
    message = str(caught.value)
    assert "\n" not in message and f"command {command_id} (" in message
    assert state(store, command_id).status != CommandStatus.CANCELLED
    return message


def as_stored(store: Store, command_id: str, **values: object) -> None:
    with store.session() as s:
        s.execute(update(OutboxCommand).where(col(OutboxCommand.id) == command_id).values(**values))


def test_a_command_failing_without_an_answer_is_not_cancelled_but_retried(
    book: tuple[Store, str, str],
) -> None:
    """A 503 after the connector's retries: the write may be there. Cancelling it would leave
    cash applied in QuickBooks that arsync no longer knows it wrote."""
    store, acme, inv = book
    cid = add(store, acme, inv, "k1")
    adapter = Scripted()
    adapter.script["k1"] = [TransientError("quickbooks", "503 after 5 attempts")]
    push(store, {"quickbooks": adapter}, settings=NOW)
    adapter.remote["k1"] = "R9"  # it landed after all
    assert state(store, cid).status == CommandStatus.FAILED
    message = refused_cancel(store, cid)
    assert message == (
        f"command {cid} (apply_cash in quickbooks, failed) cannot be cancelled: it was sent to "
        "quickbooks and may have landed there with its reply lost, so cancelling could lose "
        f"the record of what it wrote (cash applied); run `arsync outbox retry {cid}`, which "
        "looks for it in quickbooks first and sends it again only if it is not there"
    )
    assert retry(store, "default", cid) == 1
    push(store, {"quickbooks": adapter}, settings=NOW)
    row = state(store, cid)
    assert (row.status, row.remote_id) == (CommandStatus.CONFIRMED, "R9")
    assert adapter.sent == ["k1"]  # found, not written twice


def test_a_dead_command_stored_before_this_version_counts_its_attempts(
    book: tuple[Store, str, str],
) -> None:
    store, acme, inv = book
    cid = add(store, acme, inv, "k1")
    as_stored(store, cid, status=CommandStatus.DEAD, attempts=3, sent_at=utcnow())
    assert "may have landed" in refused_cancel(store, cid)


def test_a_command_the_system_refused_can_be_cancelled(book: tuple[Store, str, str]) -> None:
    store, acme, inv = book
    cid = add(store, acme, inv, "k1")
    adapter = Scripted()
    adapter.script["k1"] = [DataError("quickbooks", "Invoice 12: amount is more than the balance")]
    push(store, {"quickbooks": adapter}, settings=NOW)
    assert state(store, cid).status == CommandStatus.DEAD
    cancel(store, "default", cid)
    assert state(store, cid).status == CommandStatus.CANCELLED


def test_a_command_never_sent_can_be_cancelled_even_after_an_auth_failure(
    book: tuple[Store, str, str],
) -> None:
    store, acme, inv = book
    cid = add(store, acme, inv, "k1")
    adapter = Scripted()
    adapter.script["k1"] = [AuthError("quickbooks", "invalid_grant")]
    push(store, {"quickbooks": adapter}, settings=NOW)
    row = state(store, cid)
    assert (row.status, row.attempts, row.sent_at) == (CommandStatus.PENDING, 0, None)
    cancel(store, "default", cid)
    assert state(store, cid).status == CommandStatus.CANCELLED


def move_customer(store: Store, acme: str, source: str, to: str) -> None:
    """The customer's record leaves ``source`` (arsync knows none there: nothing can be
    written for it, not even to look it up) for ``to``."""
    with store.session() as s:
        s.execute(
            update(ExternalRef)
            .where(col(ExternalRef.canonical_id) == acme, col(ExternalRef.system) == source)
            .values(system=to)
        )


def test_a_command_refused_before_it_was_looked_for_may_still_have_landed(
    book: tuple[Store, str, str],
) -> None:
    """Retried (its counter set back to 0), then refused before the lookup could run: it was
    sent before, so it is neither cancelled nor sent again blind by a second retry."""
    store, acme, inv = book
    cid = add(store, acme, inv, "k1")
    as_stored(store, cid, status=CommandStatus.DEAD, attempts=2, sent_at=utcnow())
    retry(store, "default", cid)
    move_customer(store, acme, "quickbooks", "elsewhere")
    adapter = Scripted()
    adapter.remote["k1"] = "R5"
    push(store, {"quickbooks": adapter}, settings=NOW)
    row = state(store, cid)
    assert (row.status, row.attempts) == (CommandStatus.DEAD, 0)
    assert adapter.lookups == 0 and adapter.sent == []
    assert "may have landed" in refused_cancel(store, cid)
    retry(store, "default", cid)
    assert state(store, cid).status == CommandStatus.SENT  # looked for first, not sent blind


def test_a_command_looked_for_and_not_found_can_be_cancelled(
    book: tuple[Store, str, str],
) -> None:
    store, acme, inv = book
    cid = add(store, acme, inv, "k1", amount=15000)  # more than the invoice owes there
    as_stored(store, cid, status=CommandStatus.SENT, attempts=1, sent_at=utcnow())
    adapter = Scripted()
    push(store, {"quickbooks": adapter}, settings=NOW)
    assert adapter.lookups == 1 and adapter.sent == []
    assert state(store, cid).status == CommandStatus.CONFLICT
    cancel(store, "default", cid)
    assert state(store, cid).status == CommandStatus.CANCELLED


def test_a_write_off_half_written_is_not_cancelled(book: tuple[Store, str, str]) -> None:
    store, acme, inv = book
    cid = add(store, acme, inv, "wo", 500, op="write_off")
    adapter = Scripted()
    adapter.script["wo:1"] = [DataError("quickbooks", "the credit memo cannot be applied")]
    push(store, {"quickbooks": adapter}, settings=NOW)
    push(store, {"quickbooks": adapter}, settings=NOW)
    row = state(store, cid)
    assert row.status == CommandStatus.DEAD and row.result["remote_ids"]
    assert "part of it is already written in quickbooks" in refused_cancel(store, cid)


class CancelledWhileBuilding(Scripted):
    """A person cancels the command in another transaction after the push read it."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store

    def step(self, command: Command, refs: RefIndex, session: Session) -> Step:
        built = super().step(command, refs, session)
        if state(self.store, command.id).status == CommandStatus.PENDING:
            cancel(self.store, "default", command.id)
        return built


def test_a_command_cancelled_while_a_push_prepares_it_is_not_sent(
    book: tuple[Store, str, str],
) -> None:
    store, acme, inv = book
    cid = add(store, acme, inv, "k1")
    adapter = CancelledWhileBuilding(store)
    push(store, {"quickbooks": adapter}, settings=NOW)
    assert adapter.sent == [] and state(store, cid).status == CommandStatus.CANCELLED


# reversals: cancelled only when known not written ---------------------------------------------


def test_a_reversal_looks_for_a_retried_command_instead_of_cancelling_it(
    book: tuple[Store, str, str],
) -> None:
    """Its attempt counter is 0 after `outbox retry`, but it was sent: it may have landed."""
    store, acme, inv = book
    cid = add(store, acme, inv, "k1")
    as_stored(store, cid, status=CommandStatus.DEAD, attempts=2, sent_at=utcnow())
    retry(store, "default", cid)
    move_customer(store, acme, "quickbooks", "elsewhere")
    push(store, {"quickbooks": Scripted()}, settings=NOW)  # refused before the lookup
    assert state(store, cid).status == CommandStatus.DEAD
    move_customer(store, acme, "elsewhere", "quickbooks")
    reverse(store, acme, inv, "d-k1")
    assert state(store, cid).status == CommandStatus.SENT  # looked for, not cancelled
    adapter = Scripted()
    adapter.remote["k1"] = "R7"  # it had landed
    push(store, {"quickbooks": adapter}, settings=NOW)
    assert state(store, cid).status == CommandStatus.CONFIRMED
    assert adapter.voided == ["R7"] and void_of(store).status == CommandStatus.CONFIRMED


def test_a_reversal_cancels_a_command_the_system_refused(book: tuple[Store, str, str]) -> None:
    store, acme, inv = book
    cid = add(store, acme, inv, "k1")
    adapter = Scripted()
    adapter.script["k1"] = [DataError("quickbooks", "refused")]
    push(store, {"quickbooks": adapter}, settings=NOW)
    reverse(store, acme, inv, "d-k1")
    assert state(store, cid).status == CommandStatus.CANCELLED
    with store.session() as s:  # nothing written: nothing to void
        voids = select(OutboxCommand).where(col(OutboxCommand.operation) == "void_cash")
        assert s.execute(voids).first() is None


class ReversedInFlight(Scripted):
    """A person reverses the payment while its write is on its way; the system then answers
    with ``outcome`` (None: written)."""

    def __init__(self, store: Store, acme: str, inv: str, outcome: Exception | None) -> None:
        super().__init__()
        self.store, self.acme, self.inv = store, acme, inv
        self.outcome = outcome

    def send(self, steps: Sequence[Step]) -> list[StepResult]:
        if steps[0].command.operation == "apply_cash":
            reverse(self.store, self.acme, self.inv, "d-k1")
            self.script["k1"] = [self.outcome]
        return super().send(steps)


@pytest.mark.parametrize(
    ("outcome", "voided"),
    [
        (None, ["R0"]),  # written: voided
        (DataError("quickbooks", "refused"), []),  # refused: both cancelled
        (ConflictError("quickbooks", "5010 stale object"), []),
    ],
    ids=["written", "refused", "stale"],
)
def test_a_payment_reversed_while_its_write_is_in_flight_is_never_lost_nor_resent(
    book: tuple[Store, str, str], outcome: Exception | None, voided: list[str]
) -> None:
    store, acme, inv = book
    cid = add(store, acme, inv, "k1")
    adapter = ReversedInFlight(store, acme, inv, outcome)
    push(store, {"quickbooks": adapter}, settings=NOW)
    push(store, {"quickbooks": adapter}, settings=NOW)
    push(store, {"quickbooks": adapter}, settings=NOW)
    assert adapter.sent.count("k1") == 1  # never sent again
    assert adapter.voided == voided
    expected = CommandStatus.CONFIRMED if voided else CommandStatus.CANCELLED
    assert state(store, cid).status == expected
    assert void_of(store).status == expected


class ReversedWhileLookingUp(Scripted):
    """A person reverses the payment while the push looks for its lost write."""

    def __init__(self, store: Store, acme: str, inv: str) -> None:
        super().__init__()
        self.store, self.acme, self.inv = store, acme, inv

    def landed(self, steps: Sequence[Step], since: datetime) -> dict[str, str]:
        found = super().landed(steps, since)
        if self.lookups == 1:
            reverse(self.store, self.acme, self.inv, "d-k1")
        return found


def test_a_payment_reversed_while_its_lost_write_is_looked_for_is_not_sent_again(
    book: tuple[Store, str, str],
) -> None:
    store, acme, inv = book
    cid = add(store, acme, inv, "k1")
    as_stored(store, cid, status=CommandStatus.SENT, attempts=1, sent_at=utcnow())
    adapter = ReversedWhileLookingUp(store, acme, inv)
    push(store, {"quickbooks": adapter}, settings=NOW)
    assert adapter.sent == []  # not found, but reversed meanwhile: never sent again
    assert state(store, cid).status == CommandStatus.CANCELLED
    assert void_of(store).status == CommandStatus.CANCELLED


def test_a_lost_write_in_a_system_no_longer_pushed_to_is_never_resent_after_a_reversal(
    book: tuple[Store, str, str],
) -> None:
    """The reversal plans no void in a system it does not push to, but the write there whose
    reply was lost must not be sent again once that system is pushed to again."""
    store, acme, inv = book
    cid = add(store, acme, inv, "k1")
    as_stored(store, cid, status=CommandStatus.SENT, attempts=1, sent_at=utcnow())
    with store.session() as s:
        decision = {
            "id": "d-back",
            "rule": REVERSE_RULE,
            "status": "auto",
            "customer_id": acme,
            "currency": "USD",
            "created_at": utcnow(),
            "source_kind": "remittance",
            "source_id": "rem-back",
            "evidence": {"reverses_decision": "d-k1", "applications_reversed": []},
        }
        batch = FlushedBatch(decisions=[decision], applications=[], adjustments=[])
        OutboxPlanner("default", ["invoiced"])(s, batch)
    row = state(store, cid)
    assert row.status == CommandStatus.SENT and row.result["reversed_by"] == "d-back"
    adapter = Scripted()
    push(store, {"quickbooks": adapter}, settings=NOW)
    assert adapter.lookups == 1 and adapter.sent == []  # looked for, not found, not resent
    assert state(store, cid).status == CommandStatus.CANCELLED
