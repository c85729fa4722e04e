"""Which wire key each attempt of a command goes with, with a scripted adapter: a new one only
after the system refused the last attempt; the same one after anything that may have landed."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from canonical.enums import CommandStatus
from canonical.store import Store
from connectors.errors import DataError, RateLimitError, TransientError, UncertainWriteError
from sync.outbox.adapter import Step, StepResult
from sync.outbox.control import retry
from sync.outbox.worker import push
from sync.settings import PushSettings
from tests.sync.outbox.books import Book
from tests.sync.outbox.test_worker import Scripted, add, state

SETTINGS = PushSettings(max_attempts=3, backoff_seconds=0)
REFUSED = DataError("quickbooks", "Account Period Closed", status=400, code="6210")


class Wired(Scripted):
    """A Scripted adapter remembering the wire key of each step it sends; ``unsent`` step
    keys fail before they leave arsync."""

    def __init__(self) -> None:
        super().__init__()
        self.wire: list[str] = []
        self.unsent: set[str] = set()

    def send(self, steps: Sequence[Step]) -> list[StepResult]:
        out: list[StepResult] = []
        for step in steps:
            if step.key in self.unsent:
                self.unsent.discard(step.key)
                error = DataError("quickbooks", f"{step.key}: not sent: no exchange rate")
                out.append(StepResult(step, error=error, sent=False))
                continue
            self.wire.append(step.command.wire_key(step.key))
            out.extend(super().send([step]))
        return out


class Crash(Exception):
    pass


@pytest.fixture
def book(store: Store) -> tuple[Store, str, str]:
    b = Book(store)
    acme = b.customer("Acme Corp", ("quickbooks",))
    return store, acme, b.invoice(acme, "INV-1", "100.00", ("quickbooks",))


def test_a_refused_command_retried_goes_with_a_new_wire_key_each_refusal(
    book: tuple[Store, str, str],
) -> None:
    store, acme, inv = book
    cid = add(store, acme, inv, "k1")
    adapter = Wired()
    adapter.script["k1"] = [REFUSED, REFUSED]
    push(store, {"quickbooks": adapter}, settings=SETTINGS)
    assert state(store, cid).status == CommandStatus.DEAD
    for _ in range(2):
        assert retry(store, "default", cid) == 1
        push(store, {"quickbooks": adapter}, settings=SETTINGS)
    row = state(store, cid)
    assert row.status == CommandStatus.CONFIRMED and adapter.wire == ["k1", "k1-r1", "k1-r2"]
    assert row.idempotency_key == "k1" and adapter.remote == {"k1": row.remote_id}


def test_lost_replies_and_transient_failures_keep_the_wire_key(
    book: tuple[Store, str, str],
) -> None:
    """Refused once; then every attempt of the retry may have landed: each goes with the
    retry's key, looked for by the command's own key first."""
    store, acme, inv = book
    cid = add(store, acme, inv, "k1")
    adapter = Wired()
    adapter.script["k1"] = [
        REFUSED,
        TransientError("quickbooks", "503"),
        UncertainWriteError("quickbooks", "no reply: outcome unknown"),
    ]
    push(store, {"quickbooks": adapter}, settings=SETTINGS)
    retry(store, "default", cid)
    push(store, {"quickbooks": adapter}, settings=SETTINGS)  # 503: failed, due again
    push(store, {"quickbooks": adapter}, settings=SETTINGS)  # lost reply: sent
    assert state(store, cid).status == CommandStatus.SENT
    adapter.remote.clear()  # the lookup misses it: sent again
    push(store, {"quickbooks": adapter}, settings=SETTINGS)
    row = state(store, cid)
    assert row.status == CommandStatus.CONFIRMED
    assert adapter.wire == ["k1", "k1-r1", "k1-r1", "k1-r1"]
    assert (row.result or {}).get("refusals") == 1


def test_a_rate_limit_answer_counts_as_a_refusal(book: tuple[Store, str, str]) -> None:
    """Throttled: the system answered and wrote nothing; the next attempt may go with a key
    of its own (a system that stored the throttled reply would repeat it)."""
    store, acme, inv = book
    cid = add(store, acme, inv, "k1")
    adapter = Wired()
    adapter.script["k1"] = [RateLimitError("quickbooks", "throttled", status=429, code="3001")]
    push(store, {"quickbooks": adapter}, settings=SETTINGS)
    assert state(store, cid).status == CommandStatus.FAILED
    push(store, {"quickbooks": adapter}, settings=SETTINGS)
    assert state(store, cid).status == CommandStatus.CONFIRMED
    assert adapter.wire == ["k1", "k1-r1"]


def test_a_write_never_sent_keeps_its_wire_key(book: tuple[Store, str, str]) -> None:
    """Its earlier attempt's reply was lost and the lookup missed it; the resend fails before
    it leaves arsync: no refusal, so the next resend still carries the key the system may know
    the earlier attempt by."""
    store, acme, inv = book
    cid = add(store, acme, inv, "k1")
    adapter = Wired()
    adapter.script["k1"] = [UncertainWriteError("quickbooks", "no reply: outcome unknown")]
    push(store, {"quickbooks": adapter}, settings=SETTINGS)
    adapter.remote.clear()
    adapter.unsent.add("k1")
    push(store, {"quickbooks": adapter}, settings=SETTINGS)
    assert "refusals" not in (state(store, cid).result or {})
    retry(store, "default", cid)
    push(store, {"quickbooks": adapter}, settings=SETTINGS)
    assert state(store, cid).status == CommandStatus.CONFIRMED
    assert adapter.wire == ["k1", "k1"]


def test_a_crash_after_the_refusal_is_recorded_resends_with_one_key(
    book: tuple[Store, str, str],
) -> None:
    """The refusal and its count are one transaction; the retry crashes after it was marked
    sent and sent (its reply never recorded): the next push looks for it by the command's key
    and resends it with the retry's wire key, never a third one."""
    store, acme, inv = book
    cid = add(store, acme, inv, "k1")
    adapter = Wired()
    adapter.script["k1"] = [REFUSED]
    push(store, {"quickbooks": adapter}, settings=SETTINGS)
    retry(store, "default", cid)

    def crash(point: str) -> None:
        if point == "after_send":
            raise Crash(point)

    with pytest.raises(Crash):
        push(store, {"quickbooks": adapter}, settings=SETTINGS, crash=crash)
    assert state(store, cid).status == CommandStatus.SENT
    adapter.remote.clear()  # missed by the lookup
    push(store, {"quickbooks": adapter}, settings=SETTINGS)
    assert state(store, cid).status == CommandStatus.CONFIRMED
    assert adapter.wire == ["k1", "k1-r1", "k1-r1"]


def test_a_refused_write_off_step_keeps_the_first_step_and_rekeys_the_second(
    book: tuple[Store, str, str],
) -> None:
    store, acme, inv = book
    cid = add(store, acme, inv, "w1", amount=500, op="write_off")
    adapter = Wired()
    adapter.script["w1:1"] = [REFUSED]
    push(store, {"quickbooks": adapter}, settings=SETTINGS)
    assert state(store, cid).status == CommandStatus.DEAD
    retry(store, "default", cid)
    push(store, {"quickbooks": adapter}, settings=SETTINGS)
    row = state(store, cid)
    assert row.status == CommandStatus.CONFIRMED
    assert adapter.wire == ["w1:0", "w1:1", "w1:1-r1"]
    assert set((row.result or {})["remote_ids"]) == {"w1:0", "w1:1"}
