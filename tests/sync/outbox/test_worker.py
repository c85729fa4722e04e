"""The worker's promises, with a scripted adapter: once, in order, never lost."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session, col

from canonical.enums import CommandStatus
from canonical.models import CreditMemo, ExternalRef, OutboxCommand, Payment
from canonical.store import Store
from canonical.types import utcnow
from connectors.errors import (
    AuthError,
    ConflictError,
    DataError,
    PartialAuthError,
    TransientError,
    UncertainWriteError,
)
from sync.outbox.adapter import Command, PushAdapter, Step, StepResult
from sync.outbox.control import OutboxError, cancel, retry
from sync.outbox.refs import RefIndex
from sync.outbox.worker import push
from sync.settings import PushSettings
from tests.sync.outbox.books import Book, plan_reversal


class Scripted(PushAdapter):
    """Answers each step key from a script; remembers what was sent and what 'landed'."""

    system = "quickbooks"
    batch_size = 30

    def __init__(self) -> None:
        super().__init__(connector=None)  # type: ignore[arg-type]
        self.sent: list[str] = []
        self.script: dict[str, list[Exception | None]] = {}
        self.remote: dict[str, str] = {}  # what the system holds: key -> remote id
        self.lookups = 0
        self.refreshed: list[str] = []
        self.refreshed_balance: int | None = None
        self.voided: list[str] = []  # remote ids of the payments voided

    def step(self, command: Command, refs: RefIndex, session: Session) -> Step:
        diff: list[str] = []
        self.customer(refs, command)
        if command.operation == "void_cash":
            return Step(command, command.key, write=("void", self.voided_payment(command)))
        for line in command.payload.get("lines") or ():
            self.invoice(refs, command, line["invoice_id"], line["amount_minor"], diff)
        if command.operation == "write_off":
            key = f"{command.key}:{command.step_index}"
            return Step(
                command,
                key,
                write=key,
                final=command.step_index == 1,
                creates=("credit_memo", "CreditMemo") if command.step_index == 0 else None,
            )
        return Step(
            command, command.key, write=command.key, diff=diff, creates=("payment", "Payment")
        )

    def send(self, steps: Sequence[Step]) -> list[StepResult]:
        out: list[StepResult] = []
        for step in steps:
            self.sent.append(step.key)
            outcome = (
                (self.script.get(step.key) or [None]).pop(0) if self.script.get(step.key) else None
            )
            if isinstance(outcome, AuthError):  # one request per step: what came before stands
                raise PartialAuthError(outcome, out)
            if isinstance(step.write, tuple) and outcome is None:
                self.voided.append(step.write[1])
            if isinstance(outcome, UncertainWriteError):
                self.remote[step.key] = f"R{len(self.remote)}"  # it landed; the reply was lost
                out.append(StepResult(step, error=outcome))
            elif outcome is not None:
                out.append(StepResult(step, error=outcome))  # type: ignore[arg-type]
            else:
                self.remote.setdefault(step.key, f"R{len(self.remote)}")
                out.append(StepResult(step, remote_id=self.remote[step.key]))
        return out

    def landed(self, steps: Sequence[Step], since: datetime) -> dict[str, str]:
        self.lookups += 1
        return {s.key: self.remote[s.key] for s in steps if s.key in self.remote}

    def refresh(self, command: Command, refs: RefIndex) -> None:
        self.refreshed.append(command.id)
        if self.refreshed_balance is not None:
            for line in command.payload.get("lines") or ():
                ref = refs.get("invoice", line["invoice_id"])
                assert ref is not None
                ref.values["balance_minor"] = str(self.refreshed_balance)


@pytest.fixture
def setup(store: Store) -> tuple[Store, Book, str, str]:
    book = Book(store)
    acme = book.customer("Acme Corp", ("quickbooks",))
    inv = book.invoice(acme, "INV-1", "100.00", ("quickbooks",))
    return store, book, acme, inv


def add(
    store: Store, acme: str, inv: str, key: str, amount: int = 4000, op: str = "apply_cash"
) -> str:
    with store.session() as s:
        c = OutboxCommand(
            system="quickbooks",
            operation=op,
            canonical_type="remittance",
            canonical_id=f"rem-{key}",
            idempotency_key=key,
            decision_id=f"d-{key}",
            payload={
                "customer_id": acme,
                "currency": "USD",
                "amount_minor": amount,
                "unapplied_minor": 0,
                "lines": [{"invoice_id": inv, "amount_minor": amount}] if op != "write_off" else [],
                "invoice_id": inv,
                "adjustment_id": f"adj-{key}",
                "on": "2026-11-02",
            },
        )
        s.add(c)
    return c.id


def state(store: Store, command_id: str) -> OutboxCommand:
    with store.session() as s:
        row = s.get(OutboxCommand, command_id)
        assert row is not None
        s.expunge(row)
        return row


def test_each_command_is_sent_once_and_confirmed(setup: tuple[Store, Book, str, str]) -> None:
    store, _, acme, inv = setup
    a, b = add(store, acme, inv, "k1"), add(store, acme, inv, "k2")
    adapter = Scripted()
    summary = push(store, {"quickbooks": adapter})
    assert summary.systems["quickbooks"].confirmed == 2
    assert adapter.sent == ["k1", "k2"]
    assert state(store, a).status == CommandStatus.CONFIRMED and state(store, a).remote_id == "R0"
    push(store, {"quickbooks": adapter})
    assert adapter.sent == ["k1", "k2"]  # nothing twice
    with store.session() as s:
        refs = (
            s.execute(select(ExternalRef).where(col(ExternalRef.link_rule) == "pushed"))
            .scalars()
            .all()
        )
        assert {(r.canonical_type, r.canonical_id, r.remote_id) for r in refs} == {
            ("payment", "rem-k1", "R0"),
            ("payment", "rem-k2", "R1"),
        }
        assert s.get(Payment, "rem-k1") is not None  # the next pull links, not imports
        view = s.execute(
            select(ExternalRef).where(col(ExternalRef.canonical_id) == inv)
        ).scalar_one()
        assert view.values["balance_minor"] == "2000"  # mirrored until the next pull
    assert state(store, b).attempts == 1


def test_a_lost_reply_is_found_before_anything_is_resent(
    setup: tuple[Store, Book, str, str],
) -> None:
    store, _, acme, inv = setup
    cid = add(store, acme, inv, "k1")
    adapter = Scripted()
    adapter.script["k1"] = [UncertainWriteError("quickbooks", "timeout after sending")]
    push(store, {"quickbooks": adapter})
    assert state(store, cid).status == CommandStatus.SENT
    summary = push(store, {"quickbooks": adapter})
    assert adapter.sent == ["k1"]  # found by read-before-retry, not sent again
    assert summary.systems["quickbooks"].landed_unseen == 1
    assert state(store, cid).status == CommandStatus.CONFIRMED


def test_a_command_marked_sent_that_never_landed_is_resent_with_its_key(
    setup: tuple[Store, Book, str, str],
) -> None:
    store, _, acme, inv = setup
    cid = add(store, acme, inv, "k1")
    with store.session() as s:  # as left by a crash after marking, before sending
        row = s.get(OutboxCommand, cid)
        assert row is not None
        row.status, row.attempts, row.sent_at = CommandStatus.SENT, 1, utcnow()
    adapter = Scripted()
    push(store, {"quickbooks": adapter})
    assert adapter.lookups == 1 and adapter.sent == ["k1"]
    assert state(store, cid).status == CommandStatus.CONFIRMED


def test_transient_failures_back_off_then_die(setup: tuple[Store, Book, str, str]) -> None:
    store, _, acme, inv = setup
    cid = add(store, acme, inv, "k1")
    adapter = Scripted()
    adapter.script["k1"] = [TransientError("quickbooks", "503") for _ in range(5)]
    settings = PushSettings(max_attempts=3, backoff_seconds=60)
    now = utcnow()
    push(store, {"quickbooks": adapter}, settings=settings, now=now)
    first = state(store, cid)
    assert first.status == CommandStatus.FAILED and "503" in (first.last_error or "")
    push(store, {"quickbooks": adapter}, settings=settings, now=now + timedelta(seconds=30))
    assert adapter.sent == ["k1"]  # not due yet
    push(store, {"quickbooks": adapter}, settings=settings, now=now + timedelta(seconds=61))
    push(store, {"quickbooks": adapter}, settings=settings, now=now + timedelta(hours=1))
    assert adapter.sent == ["k1"] * 3
    assert state(store, cid).status == CommandStatus.DEAD
    assert retry(store, "default", cid) == 1
    adapter.script["k1"] = []
    push(store, {"quickbooks": adapter}, settings=settings, now=now + timedelta(hours=2))
    assert state(store, cid).status == CommandStatus.CONFIRMED


def test_a_refused_write_is_dead_with_the_reason(setup: tuple[Store, Book, str, str]) -> None:
    store, _, acme, inv = setup
    cid = add(store, acme, inv, "k1")
    adapter = Scripted()
    adapter.script["k1"] = [DataError("quickbooks", "Invoice 12: amount is more than the balance")]
    summary = push(store, {"quickbooks": adapter})
    assert summary.systems["quickbooks"].dead == 1
    assert "more than the balance" in (state(store, cid).last_error or "")


def test_an_invoice_paid_elsewhere_parks_the_command_as_a_conflict(
    setup: tuple[Store, Book, str, str],
) -> None:
    store, _, acme, inv = setup
    cid = add(store, acme, inv, "k1", amount=15000)  # more than the 100.00 the system shows
    adapter = Scripted()
    summary = push(store, {"quickbooks": adapter})
    assert adapter.sent == []
    row = state(store, cid)
    assert row.status == CommandStatus.CONFLICT and summary.systems["quickbooks"].conflicts == 1
    assert "INV-1" in (row.last_error or "") and "owes 100.00" in (row.last_error or "")


def test_two_commands_on_one_invoice_are_checked_together(
    setup: tuple[Store, Book, str, str],
) -> None:
    store, _, acme, inv = setup
    a, b = add(store, acme, inv, "k1", 6000), add(store, acme, inv, "k2", 6000)
    push(store, {"quickbooks": Scripted()})
    assert state(store, a).status == CommandStatus.CONFIRMED
    assert state(store, b).status == CommandStatus.CONFLICT


def test_a_stale_version_rereads_and_resends_only_if_still_valid(
    setup: tuple[Store, Book, str, str],
) -> None:
    store, _, acme, inv = setup
    still, gone = add(store, acme, inv, "k1", 1000), add(store, acme, inv, "k2", 1000)
    adapter = Scripted()
    adapter.script["k1"] = [ConflictError("quickbooks", "5010 stale object")]
    adapter.script["k2"] = [ConflictError("quickbooks", "5010 stale object")]
    adapter.refreshed_balance = 5000
    push(store, {"quickbooks": adapter})
    assert state(store, still).status == CommandStatus.PENDING  # re-validated: send again
    assert state(store, gone).status == CommandStatus.PENDING
    adapter.refreshed_balance = 0
    adapter.script["k1"] = [ConflictError("quickbooks", "5010 stale object")]
    push(store, {"quickbooks": adapter})
    assert state(store, still).status == CommandStatus.CONFLICT  # paid meanwhile: parked
    assert state(store, gone).status == CommandStatus.CONFIRMED


def test_a_write_off_records_each_step_before_the_next(
    setup: tuple[Store, Book, str, str],
) -> None:
    store, _, acme, inv = setup
    cid = add(store, acme, inv, "wo", 500, op="write_off")
    adapter = Scripted()
    adapter.script["wo:1"] = [TransientError("quickbooks", "503")]
    push(store, {"quickbooks": adapter}, settings=PushSettings(backoff_seconds=0))
    row = state(store, cid)
    assert row.status == CommandStatus.FAILED and row.result["step"] == 1
    with store.session() as s:
        # the credit memo is the write-off's, used up by it, while its application waits
        memo = s.get(CreditMemo, "adj-wo")
        assert memo is not None and memo.adjustment_id == "adj-wo"
        assert (memo.total_minor, memo.balance_minor, memo.status) == (500, 0, "paid")
    push(store, {"quickbooks": adapter}, settings=PushSettings(backoff_seconds=0))
    assert adapter.sent == ["wo:0", "wo:1", "wo:1"]  # the credit memo was made once
    assert state(store, cid).status == CommandStatus.CONFIRMED


def test_a_write_off_credit_memo_a_pull_imported_before_its_reply_is_the_write_offs(
    setup: tuple[Store, Book, str, str],
) -> None:
    """The credit memo landed but its reply was lost, and a sync imported it as a record of
    its own before the next push found it: that record is marked the write-off's as well,
    so the reconciler never takes it for the customer's credit."""
    store, _, acme, inv = setup
    cid = add(store, acme, inv, "wo", 500, op="write_off")
    adapter = Scripted()
    adapter.script["wo:0"] = [UncertainWriteError("quickbooks", "timeout after sending")]
    push(store, {"quickbooks": adapter}, settings=PushSettings(backoff_seconds=0))
    assert state(store, cid).status == CommandStatus.SENT
    remote = adapter.remote["wo:0"]
    with store.session() as s:  # what the pull made of it: an open credit memo
        s.add(
            CreditMemo(
                id="pulled",
                customer_id=acme,
                number="190",
                currency="USD",
                total_minor=500,
                balance_minor=500,
            )
        )
        s.flush()
        s.add(
            ExternalRef(
                canonical_type="credit_memo",
                canonical_id="pulled",
                system="quickbooks",
                object_type="CreditMemo",
                remote_id=remote,
                link_rule="created",
            )
        )
    push(store, {"quickbooks": adapter}, settings=PushSettings(backoff_seconds=0))
    assert state(store, cid).status == CommandStatus.CONFIRMED
    assert adapter.sent == ["wo:0", "wo:1"]
    with store.session() as s:
        pulled = s.get(CreditMemo, "pulled")
        assert pulled is not None and pulled.adjustment_id == "adj-wo"
        refs = s.execute(
            select(col(ExternalRef.canonical_id)).where(col(ExternalRef.remote_id) == remote)
        ).scalars()
        assert list(refs) == ["pulled"]  # one record per remote id, as the pull linked it


def test_an_auth_failure_leaves_commands_as_they_were(
    setup: tuple[Store, Book, str, str],
) -> None:
    store, _, acme, inv = setup
    cid = add(store, acme, inv, "k1")
    adapter = Scripted()
    adapter.script["k1"] = [AuthError("quickbooks", "invalid_grant")]
    summary = push(store, {"quickbooks": adapter})
    assert "invalid_grant" in (summary.systems["quickbooks"].error or "")
    row = state(store, cid)
    assert row.status == CommandStatus.PENDING and row.attempts == 0


def test_an_auth_failure_midway_records_the_answers_before_it_and_unsends_the_rest(
    setup: tuple[Store, Book, str, str],
) -> None:
    store, _, acme, inv = setup
    done, lost, never = [add(store, acme, inv, k, amount=3000) for k in ("k1", "k2", "k3")]
    adapter = Scripted()
    adapter.script["k2"] = [UncertainWriteError("quickbooks", "no reply: outcome unknown")]
    adapter.script["k3"] = [AuthError("quickbooks", "invalid_grant")]
    summary = push(store, {"quickbooks": adapter})
    assert "invalid_grant" in (summary.systems["quickbooks"].error or "")
    assert summary.systems["quickbooks"].confirmed == 1
    row = state(store, done)  # answered before the failure: recorded with its remote id
    assert row.status == CommandStatus.CONFIRMED and row.remote_id == adapter.remote["k1"]
    assert state(store, lost).status == CommandStatus.SENT  # may have landed: looked for first
    row = state(store, never)  # refused by the auth failure: as it was
    assert row.status == CommandStatus.PENDING and row.attempts == 0
    assert push(store, {"quickbooks": adapter}).ok
    assert adapter.sent == ["k1", "k2", "k3", "k3"] and adapter.lookups == 1
    assert {state(store, c).status for c in (done, lost, never)} == {CommandStatus.CONFIRMED}


def test_answers_an_adapter_did_not_translate_leave_the_whole_round_uncertain(
    setup: tuple[Store, Book, str, str],
) -> None:
    store, _, acme, inv = setup
    commands = [add(store, acme, inv, k, amount=3000) for k in ("k1", "k2")]

    class Untranslated(Scripted):
        def send(self, steps: Sequence[Step]) -> list[StepResult]:
            self.sent.extend(s.key for s in steps)
            self.remote["k1"] = "R0"
            raise PartialAuthError(AuthError("quickbooks", "invalid_grant"), ["its own result"])

    adapter = Untranslated()
    assert not push(store, {"quickbooks": adapter}).ok
    for command in commands:  # which step the answer was is not known: none is resent blind
        row = state(store, command)
        assert row.status == CommandStatus.SENT and "outcome unknown" in (row.last_error or "")
    plain = Scripted()
    plain.remote = adapter.remote
    assert push(store, {"quickbooks": plain}).ok
    assert plain.lookups == 1 and plain.sent == ["k2"]
    assert state(store, commands[0]).remote_id == "R0"


def test_a_missing_record_is_dead_with_a_clear_reason(store: Store) -> None:
    book = Book(store)
    acme = book.customer("Acme Corp", ("quickbooks",))
    inv = book.invoice(acme, "INV-1", "100.00", ("invoiced",))
    cid = add(store, acme, inv, "k1")
    push(store, {"quickbooks": Scripted()})
    row = state(store, cid)
    assert row.status == CommandStatus.DEAD
    assert row.last_error == f"quickbooks: invoice {inv} has no record in quickbooks"


def test_dry_run_plans_and_changes_nothing(setup: tuple[Store, Book, str, str]) -> None:
    store, _, acme, inv = setup
    cid = add(store, acme, inv, "k1")
    adapter = Scripted()
    summary = push(store, {"quickbooks": adapter}, dry_run=True)
    planned = summary.systems["quickbooks"].planned
    assert [s.key for s in planned] == ["k1"]
    assert planned[0].diff == ["invoice INV-1 (qu-2): balance 100.00 -> 60.00"]
    assert adapter.sent == [] and state(store, cid).status == CommandStatus.PENDING


def test_cancel_and_retry_say_what_they_cannot_do(setup: tuple[Store, Book, str, str]) -> None:
    store, _, acme, inv = setup
    cid = add(store, acme, inv, "k1")
    with pytest.raises(OutboxError, match="only failed, dead, conflict"):
        retry(store, "default", cid)
    cancel(store, "default", cid)
    assert state(store, cid).status == CommandStatus.CANCELLED
    push(store, {"quickbooks": Scripted()})
    assert state(store, cid).status == CommandStatus.CANCELLED
    with pytest.raises(OutboxError, match="no outbox command"):
        cancel(store, "default", "nope")


class FailsWhole(Scripted):
    """An adapter whose call fails as a whole before any per-write answer."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    def send(self, steps: Sequence[Step]) -> list[StepResult]:
        self.sent.extend(step.key for step in steps)
        raise self.error


def test_a_call_failing_as_a_whole_settles_each_command_and_push_goes_on(
    setup: tuple[Store, Book, str, str],
) -> None:
    store, _, acme, inv = setup
    lost = add(store, acme, inv, "k1")
    refused = add(store, acme, inv, "k2")
    # no reply after the retries: the write may have landed, so it stays sent (looked for
    # before it is sent again), and the push returns instead of raising
    timeout = FailsWhole(TransientError("quickbooks", "503 after 5 attempts"))
    summary = push(store, {"quickbooks": timeout}, settings=PushSettings(chunk=1))
    assert summary.systems["quickbooks"].error is None
    assert state(store, lost).status == CommandStatus.SENT
    assert "outcome unknown" in (state(store, lost).last_error or "")
    # a refusal of the whole call wrote nothing: each command carries it
    invalid = FailsWhole(DataError("quickbooks", "400 invalid request"))
    push(store, {"quickbooks": invalid}, settings=PushSettings(chunk=5))
    assert state(store, refused).status == CommandStatus.DEAD
    assert "400 invalid request" in (state(store, refused).last_error or "")


# read-before-retry, and payments reversed while their write was uncertain ----------------------
def test_a_retried_command_that_was_sent_is_looked_for_before_it_is_resent(
    setup: tuple[Store, Book, str, str],
) -> None:
    """A command that died after attempts whose replies were lost (the system may no longer
    remember its idempotency key): `outbox retry` makes it due, and the push looks first."""
    store, _, acme, inv = setup
    cid = add(store, acme, inv, "k1")
    with store.session() as s:
        row = s.get(OutboxCommand, cid)
        assert row is not None
        row.status, row.attempts, row.sent_at = CommandStatus.DEAD, 2, utcnow()
    adapter = Scripted()
    adapter.remote["k1"] = "R7"  # the first attempt landed
    assert retry(store, "default", all_failed=True) == 1
    assert state(store, cid).status == CommandStatus.SENT
    summary = push(store, {"quickbooks": adapter})
    assert adapter.sent == [] and summary.systems["quickbooks"].landed_unseen == 1
    row = state(store, cid)
    assert row.status == CommandStatus.CONFIRMED and row.remote_id == "R7"


def reverse(store: Store, customer: str, invoice: str, original_decision: str) -> None:
    """A person reverses the original decision's payment (the bank took the cash back)."""
    plan_reversal(
        store,
        ["quickbooks"],
        customer=customer,
        invoice=invoice,
        amount_minor=4000,
        original_decision=original_decision,
    )


def void_of(store: Store) -> OutboxCommand:
    with store.session() as s:
        row = s.execute(
            select(OutboxCommand).where(col(OutboxCommand.operation) == "void_cash")
        ).scalar_one()
        s.expunge(row)
        return row


def test_a_payment_reversed_while_its_reply_was_lost_is_voided_once_found(
    setup: tuple[Store, Book, str, str],
) -> None:
    store, _, acme, inv = setup
    cid = add(store, acme, inv, "k1")
    adapter = Scripted()
    adapter.script["k1"] = [UncertainWriteError("quickbooks", "timeout after sending")]
    push(store, {"quickbooks": adapter})
    assert state(store, cid).status == CommandStatus.SENT
    reverse(store, acme, inv, "d-k1")
    void = void_of(store)
    assert void.status == CommandStatus.PENDING and void.payload["remote_id"] is None
    assert state(store, cid).status == CommandStatus.SENT  # looked for, not cancelled
    summary = push(store, {"quickbooks": adapter})
    assert state(store, cid).status == CommandStatus.CONFIRMED
    assert adapter.sent == ["k1", void.idempotency_key]  # the payment was not sent again
    assert adapter.voided == [state(store, cid).remote_id]
    assert void_of(store).status == CommandStatus.CONFIRMED
    assert summary.systems["quickbooks"].dead == 0


def test_a_reversed_payment_that_never_landed_is_cancelled_with_its_void(
    setup: tuple[Store, Book, str, str],
) -> None:
    store, _, acme, inv = setup
    cid = add(store, acme, inv, "k1")
    with store.session() as s:  # as left by a crash after marking, before sending
        row = s.get(OutboxCommand, cid)
        assert row is not None
        row.status, row.attempts, row.sent_at = CommandStatus.SENT, 1, utcnow()
    reverse(store, acme, inv, "d-k1")
    adapter = Scripted()
    summary = push(store, {"quickbooks": adapter})
    assert adapter.lookups == 1 and adapter.sent == []  # neither the payment nor a void
    assert state(store, cid).status == CommandStatus.CANCELLED
    assert "reversed by decision d-back" in (state(store, cid).last_error or "")
    void = void_of(store)
    assert void.status == CommandStatus.CANCELLED
    assert "never reached quickbooks: nothing to void" in (void.last_error or "")
    assert summary.systems["quickbooks"].dead == 0


def test_a_dead_original_that_landed_is_voided_not_cancelled(
    setup: tuple[Store, Book, str, str],
) -> None:
    """Dead after attempts (its replies lost): it may have landed, so a reversal looks for it
    instead of taking it for never sent."""
    store, _, acme, inv = setup
    cid = add(store, acme, inv, "k1")
    with store.session() as s:
        row = s.get(OutboxCommand, cid)
        assert row is not None
        row.status, row.attempts, row.sent_at = CommandStatus.DEAD, 3, utcnow()
    adapter = Scripted()
    adapter.remote["k1"] = "R7"
    reverse(store, acme, inv, "d-k1")
    assert state(store, cid).status == CommandStatus.SENT
    push(store, {"quickbooks": adapter})
    assert state(store, cid).status == CommandStatus.CONFIRMED
    assert adapter.voided == ["R7"] and void_of(store).status == CommandStatus.CONFIRMED


def test_a_never_sent_original_is_cancelled_and_gets_no_void(
    setup: tuple[Store, Book, str, str],
) -> None:
    store, _, acme, inv = setup
    cid = add(store, acme, inv, "k1")
    reverse(store, acme, inv, "d-k1")
    assert state(store, cid).status == CommandStatus.CANCELLED
    with store.session() as s:
        assert s.execute(select(OutboxCommand).where(col(OutboxCommand.id) != cid)).first() is None


class LookupFails(Scripted):
    """The read-before-retry lookup fails (the system answers 503 after the retries)."""

    def __init__(self, times: int) -> None:
        super().__init__()
        self.failures = times

    def landed(self, steps: Sequence[Step], since: datetime) -> dict[str, str]:
        if self.failures:
            self.failures -= 1
            raise TransientError("quickbooks", "Service unavailable (HTTP 503)")
        return super().landed(steps, since)


def test_a_failed_lookup_leaves_its_commands_waiting_and_the_push_goes_on(
    store: Store,
) -> None:
    book = Book(store)
    acme = book.customer("Acme Corp", ("quickbooks", "invoiced"))
    inv = book.invoice(acme, "INV-1", "100.00", ("quickbooks", "invoiced"))
    lost, fresh = add(store, acme, inv, "k1"), add(store, acme, inv, "k2")
    with store.session() as s:
        row = s.get(OutboxCommand, lost)
        assert row is not None
        row.status, row.attempts, row.sent_at = CommandStatus.SENT, 1, utcnow()
        other = OutboxCommand(
            system="invoiced",
            operation="apply_cash",
            canonical_type="remittance",
            canonical_id="rem-i",
            idempotency_key="i1",
            decision_id="d-i",
            payload={
                "customer_id": acme,
                "currency": "USD",
                "amount_minor": 1000,
                "lines": [{"invoice_id": inv, "amount_minor": 1000}],
            },
        )
        s.add(other)
    qbo, invoiced = LookupFails(times=1), Scripted()
    invoiced.system = "invoiced"
    summary = push(store, {"quickbooks": qbo, "invoiced": invoiced})  # returns, never raises
    result = summary.systems["quickbooks"]
    assert "Service unavailable" in (result.error or "") and result.waiting == 1
    row = state(store, lost)
    assert row.status == CommandStatus.SENT and row.attempts == 1  # as it was: not resent
    assert "looking for its write failed" in (row.last_error or "")
    assert qbo.sent == ["k2"] and state(store, fresh).status == CommandStatus.CONFIRMED
    assert summary.systems["invoiced"].confirmed == 1  # the other systems go on
    again = push(store, {"quickbooks": qbo, "invoiced": invoiced})
    assert again.ok and state(store, lost).status == CommandStatus.CONFIRMED
    assert qbo.sent == ["k2", "k1"]  # looked for, not found, sent again with its key


def test_a_void_waits_while_its_payment_cannot_be_looked_for(
    setup: tuple[Store, Book, str, str],
) -> None:
    store, _, acme, inv = setup
    cid = add(store, acme, inv, "k1")
    adapter = LookupFails(times=1)
    adapter.script["k1"] = [UncertainWriteError("quickbooks", "timeout after sending")]
    push(store, {"quickbooks": adapter})
    reverse(store, acme, inv, "d-k1")
    summary = push(store, {"quickbooks": adapter})
    assert summary.systems["quickbooks"].waiting == 2 and summary.systems["quickbooks"].error
    void = void_of(store)
    assert state(store, cid).status == CommandStatus.SENT
    assert void.status == CommandStatus.PENDING and void.attempts == 0  # waits, not dead
    assert f"waits for command {cid}" in (void.last_error or "")
    push(store, {"quickbooks": adapter})
    assert state(store, cid).status == CommandStatus.CONFIRMED
    assert void_of(store).status == CommandStatus.CONFIRMED
    assert adapter.voided == [state(store, cid).remote_id]


class ReadFails(Scripted):
    """Reading the payment to void fails (as QBO's Payment read before its void)."""

    def step(self, command: Command, refs: RefIndex, session: Session) -> Step:
        if command.operation == "void_cash":
            raise TransientError("quickbooks", "Service unavailable (HTTP 503)")
        return super().step(command, refs, session)


def test_a_failed_read_for_one_command_leaves_it_waiting_and_the_others_go_on(
    setup: tuple[Store, Book, str, str],
) -> None:
    store, _, acme, inv = setup
    first = add(store, acme, inv, "k1")
    push(store, {"quickbooks": Scripted()})
    reverse(store, acme, inv, "d-k1")
    later = add(store, acme, inv, "k2")
    adapter = ReadFails()
    summary = push(store, {"quickbooks": adapter})
    assert "reading for it failed" in (summary.systems["quickbooks"].error or "")
    void = void_of(store)
    assert void.status == CommandStatus.PENDING and "Service unavailable" in (void.last_error or "")
    assert state(store, first).status == CommandStatus.CONFIRMED
    assert state(store, later).status == CommandStatus.CONFIRMED and adapter.sent == ["k2"]


def test_dry_run_shows_a_reversed_uncertain_payment_as_looked_for_and_its_void_waiting(
    setup: tuple[Store, Book, str, str],
) -> None:
    store, _, acme, inv = setup
    cid = add(store, acme, inv, "k1")
    adapter = Scripted()
    adapter.script["k1"] = [UncertainWriteError("quickbooks", "timeout after sending")]
    push(store, {"quickbooks": adapter})
    reverse(store, acme, inv, "d-k1")
    summary = push(store, {"quickbooks": adapter}, dry_run=True)
    refused = {c.operation: reason for c, reason in summary.systems["quickbooks"].refused}
    assert refused["apply_cash"].startswith("only looked for, never sent again")
    assert refused["void_cash"].startswith(f"waits for command {cid}")
    assert summary.systems["quickbooks"].planned == []
