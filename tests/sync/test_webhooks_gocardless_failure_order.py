"""A GoCardless ``payments.failed`` is judged by when it happened (``created_at``), not by when
its delivery came: in every order and grouping of deliveries its payment's cash settles as in
time order. A late failure (after its ``confirmed``) delivered first waits and takes the cash
back once it comes; an early failure (before the collection counted: the payment failed, was
resubmitted and collected) delivered late takes nothing, noted as belonging to an earlier
collection. When nothing tells which happened first (a time unreadable, or both the same) the
order the deliveries came in decides, as before.

Payment actions ``confirmed``, ``failed``, ``resubmission_requested`` and ``charged_back``
(developer.gocardless.com, payment actions); the events, their signing and the payment read
are those of ``test_webhooks_delivery_order``. Our own values.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy import update

from canonical.models import Remittance, WebhookEvent
from sync.runtime import Runtime
from tests.sync import test_webhooks_delivery_order as order
from tests.sync.test_webhooks_delivery_order import (  # noqa: F401  (rt: a fixture)
    AMOUNT,
    GIVE,
    PAY,
    amounts,
    cases,
    deliver,
    rt,
    stored,
)

# the events besides the payment's ``confirmed`` (PAY, 2026-11-03T09:00), by name
LATE, EARLY, RESUB, AGAIN, LATE2, UNDATED, BACK = (
    "late",
    "early",
    "resub",
    "again",
    "late2",
    "undated",
    "back",
)
AFTER_BACK = "afterback"
EVENTS = {
    EARLY: ("failed", "2026-11-01T09:00:00.000Z"),  # before the collection counted
    RESUB: ("resubmission_requested", "2026-11-02T09:00:00.000Z"),
    LATE: ("failed", "2026-11-06T09:00:00.000Z"),  # a late failure of PAY's collection
    AGAIN: ("confirmed", "2026-11-10T09:00:00.000Z"),  # collected again after LATE
    LATE2: ("failed", "2026-11-08T09:00:00.000Z"),  # the resubmission failing too
    UNDATED: ("failed", "not a time"),
    BACK: ("charged_back", "2026-11-20T09:00:00.000Z"),
    "dup": ("confirmed", "2026-11-03T09:00:00.000Z"),  # PAY's collection announced again
    AFTER_BACK: ("confirmed", "2026-11-25T09:00:00.000Z"),  # collected again after BACK
}
# GIVE (``test_webhooks_delivery_order``): chargeback_cancelled 12-01, of BACK
EARLIER = "belonged to an earlier collection"


@pytest.fixture(autouse=True)
def gocardless_events(monkeypatch: pytest.MonkeyPatch) -> None:
    """The events above, sent by ``deliver`` as it sends the payment's (same payment)."""
    for name, (action, when) in EVENTS.items():
        monkeypatch.setitem(order.GC_ACTIONS, name, action)
        monkeypatch.setitem(order.GC_TIMES, name, when)


def events_by_name(rt: Runtime) -> dict[str, WebhookEvent]:  # noqa: F811
    return {e.event_id.removeprefix("EV00DO").lower(): e for e in stored(rt)[1]}


def deliver_all(rt: Runtime, deliveries: Sequence[Sequence[str]]) -> None:  # noqa: F811
    for names in deliveries:
        intake = deliver(rt, "gocardless", names)
        assert intake.failed == [], intake.failed


def replay(rt: Runtime, deliveries: Sequence[Sequence[str]]) -> None:  # noqa: F811
    """Every delivery again: all duplicates, nothing made."""
    for names in deliveries:
        again = deliver(rt, "gocardless", names)
        assert (again.events, again.duplicates, again.remittances) == (0, len(names), [])


# -- A: a late failure delivered before its confirmation ---------------------------------------


@pytest.mark.parametrize(("source", "deliveries"), cases("gocardless", [PAY, LATE]))
def test_a_late_failure_takes_the_cash_back_in_any_order(
    rt: Runtime,  # noqa: F811
    source: str,
    deliveries: list[list[str]],
) -> None:
    """confirmed 11-03, failed 11-06: the cash taken back once, whichever came first."""
    deliver_all(rt, deliveries)
    made, events = stored(rt)
    assert sorted(m.amount_minor for m in made) == [-AMOUNT, AMOUNT]
    [cash] = [m for m in made if m.amount_minor > 0]
    [back] = [m for m in made if m.amount_minor < 0]
    assert back.reverses == cash.source_key
    assert {e.status for e in events} == {"processed"}, [(e.event_id, e.note) for e in events]
    replay(rt, deliveries)
    assert amounts(rt) == [-AMOUNT, AMOUNT]


def test_a_late_failure_delivered_first_twice_takes_the_cash_back_once(
    rt: Runtime,  # noqa: F811
) -> None:
    deliver_all(rt, [[LATE], [LATE], [PAY], [LATE], [PAY, LATE]])
    assert amounts(rt) == [-AMOUNT, AMOUNT]


# -- B: an early failure delivered after the collection that followed it -----------------------


@pytest.mark.parametrize(("source", "deliveries"), cases("gocardless", [EARLY, RESUB, PAY]))
def test_an_early_failure_never_takes_a_later_collection_s_cash(
    rt: Runtime,  # noqa: F811
    source: str,
    deliveries: list[list[str]],
) -> None:
    """failed 11-01, resubmission_requested 11-02, confirmed 11-03: the cash stands, in any
    order; the failure kept as ignored, its note saying it was of an earlier collection and
    promising nothing."""
    deliver_all(rt, deliveries)
    assert amounts(rt) == [AMOUNT]
    early = events_by_name(rt)[EARLY]
    assert early.status == "ignored"
    assert early.note is not None and EARLIER in early.note, early.note
    assert "if that cash comes" not in early.note
    replay(rt, deliveries)
    assert amounts(rt) == [AMOUNT]


def test_an_early_failure_alone_waits_and_says_so(rt: Runtime) -> None:  # noqa: F811
    """Before any collection is counted, a failure cannot tell: it waits for the cash."""
    intake = deliver(rt, "gocardless", [EARLY])
    [line] = intake.ignored
    assert "takes it back if that cash comes" in line
    assert amounts(rt) == []


# -- a payment failing late, resubmitted, failing again, collected again -----------------------


@pytest.mark.parametrize(("source", "deliveries"), cases("gocardless", [PAY, LATE, LATE2]))
def test_a_resubmission_failing_again_takes_nothing_more(
    rt: Runtime,  # noqa: F811
    source: str,
    deliveries: list[list[str]],
) -> None:
    """confirmed, failed late, failed again after the resubmission: the cash taken back once."""
    deliver_all(rt, deliveries)
    assert amounts(rt) == [-AMOUNT, AMOUNT]
    statuses = sorted(events_by_name(rt)[n].status for n in (LATE, LATE2))
    assert statuses == ["ignored", "processed"]
    replay(rt, deliveries)
    assert amounts(rt) == [-AMOUNT, AMOUNT]


@pytest.mark.parametrize(("source", "deliveries"), cases("gocardless", [PAY, LATE, AGAIN]))
def test_a_late_failure_then_a_new_collection_counts_each_collection_once(
    rt: Runtime,  # noqa: F811
    source: str,
    deliveries: list[list[str]],
) -> None:
    """confirmed 11-03, failed 11-06, confirmed again 11-10: the first collection's cash taken
    back, the second's stands, in any order (a second confirmed come while the first's cash
    stands waits for it to be taken back)."""
    deliver_all(rt, deliveries)
    assert sum(amounts(rt)) == AMOUNT
    late = events_by_name(rt)[LATE]
    if late.status == "processed":  # it took the first collection's cash
        assert amounts(rt) == [-AMOUNT, AMOUNT, AMOUNT]
    else:  # the second collection was counted first: it is the payment's cash
        assert amounts(rt) == [AMOUNT]
        assert late.note is not None and EARLIER in late.note, late.note
    replay(rt, deliveries)
    assert sum(amounts(rt)) == AMOUNT


@pytest.mark.parametrize(("source", "deliveries"), cases("gocardless", [PAY, "dup", LATE]))
def test_a_collection_announced_again_is_no_new_cash_once_taken_back(
    rt: Runtime,  # noqa: F811
    source: str,
    deliveries: list[list[str]],
) -> None:
    """A second ``confirmed`` of the collection the late failure takes back (not after it)
    never becomes new cash when that failure takes the cash back."""
    deliver_all(rt, deliveries)
    assert amounts(rt) == [-AMOUNT, AMOUNT]
    replay(rt, deliveries)
    assert amounts(rt) == [-AMOUNT, AMOUNT]


# -- when nothing tells which came first, the order of delivery decides, as before -------------


def test_an_undated_failure_delivered_after_the_cash_takes_it_back(rt: Runtime) -> None:  # noqa: F811
    deliver_all(rt, [[PAY], [UNDATED]])
    assert amounts(rt) == [-AMOUNT, AMOUNT]


def test_an_undated_failure_delivered_before_the_cash_takes_nothing(rt: Runtime) -> None:  # noqa: F811
    """It may be an early failure of the collection that follows: never taken for a late one."""
    deliver_all(rt, [[UNDATED], [PAY]])
    assert amounts(rt) == [AMOUNT]
    undated = events_by_name(rt)[UNDATED]
    assert undated.status == "ignored" and undated.note is not None and EARLIER in undated.note
    replay(rt, [[UNDATED], [PAY]])
    assert amounts(rt) == [AMOUNT]


def test_an_undated_confirmation_is_taken_back_by_a_failure_delivered_after_it(
    rt: Runtime,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(order.GC_TIMES, PAY, "")
    deliver_all(rt, [[PAY], [LATE]])
    assert amounts(rt) == [-AMOUNT, AMOUNT]


@pytest.mark.parametrize(
    ("deliveries", "expected"),
    [([[PAY], [LATE]], [-AMOUNT, AMOUNT]), ([[LATE], [PAY]], [AMOUNT])],
    ids=["failure-after", "failure-before"],
)
def test_a_failure_at_the_same_moment_as_its_confirmation_follows_delivery_order(
    rt: Runtime,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    deliveries: list[list[str]],
    expected: list[int],
) -> None:
    monkeypatch.setitem(order.GC_TIMES, LATE, order.GC_TIMES[PAY])
    deliver_all(rt, deliveries)
    assert amounts(rt) == expected


# -- a failure of cash already decided by the reconciler, as a chargeback --------------------


@pytest.mark.parametrize("taking", [LATE, BACK])
def test_a_failure_of_decided_cash_is_a_reversal_as_a_chargeback_is(
    rt: Runtime,  # noqa: F811
    taking: str,
) -> None:
    """The cash decided (applied) before the failure or chargeback comes: either becomes the
    reversal of that cash, for the reconciler to report with what it paid."""
    deliver_all(rt, [[PAY]])
    with rt.store.session() as s:
        s.execute(update(Remittance).values(status="auto_applied"))
    deliver_all(rt, [[taking]])
    made, _ = stored(rt)
    [cash] = [m for m in made if m.amount_minor > 0]
    [back] = [m for m in made if m.amount_minor < 0]
    assert (back.amount_minor, back.reverses, back.status) == (-AMOUNT, cash.source_key, "new")
    assert cash.status == "auto_applied"


# -- a collection's cash is brought by its ``confirmed`` alone ---------------------------------
#
# Only a confirmation brings a collection's cash: cash a ``chargeback_cancelled`` gives back is
# that of the collection its chargeback took, and a confirmation is announced again only when
# cash brought before it was still there when it happened (a take-back after it may be of the
# collection it brings).


@pytest.mark.parametrize(
    "deliveries",
    [
        [[PAY], [LATE], [AGAIN], [BACK], [GIVE]],
        [[PAY], [LATE], [BACK], [GIVE], [AGAIN]],
        [[PAY, LATE, BACK, GIVE], [AGAIN]],
    ],
    ids=["time-order", "second-confirmation-last", "second-confirmation-alone-last"],
)
def test_a_second_collection_charged_back_and_reinstated_stands(
    rt: Runtime,  # noqa: F811
    deliveries: list[list[str]],
) -> None:
    """confirmed 11-03, failed 11-06, confirmed again 11-10, charged_back 11-20,
    chargeback_cancelled 12-01: the second collection's 25.99 stands. The chargeback is of the
    second collection, after its confirmation: that confirmation is new cash, not the first
    collection announced again, however late it is delivered."""
    deliver_all(rt, deliveries)
    assert sum(amounts(rt)) == AMOUNT, amounts(rt)
    replay(rt, deliveries)
    assert sum(amounts(rt)) == AMOUNT


@pytest.mark.parametrize(("source", "deliveries"), cases("gocardless", [PAY, BACK, AFTER_BACK]))
def test_a_collection_after_a_chargeback_is_new_cash_in_any_order(
    rt: Runtime,  # noqa: F811
    source: str,
    deliveries: list[list[str]],
) -> None:
    """confirmed 11-03, charged_back 11-20, confirmed again 11-25: the first collection's cash
    taken back, the second's stands, whichever came first (delivered as charged_back, the
    second confirmation, then the first, the first is not the second announced again: it
    happened before any cash was there)."""
    deliver_all(rt, deliveries)
    assert sum(amounts(rt)) == AMOUNT, amounts(rt)
    replay(rt, deliveries)
    assert sum(amounts(rt)) == AMOUNT


@pytest.mark.parametrize(
    "deliveries",
    [
        [[PAY], [LATE], [BACK], [GIVE]],
        [[PAY], [BACK], [GIVE], [LATE]],
        [[PAY, BACK, GIVE], [LATE]],
    ],
    ids=["time-order", "failure-last", "failure-alone-last"],
)
def test_a_late_failure_after_a_cancelled_chargeback_takes_the_cash_back(
    rt: Runtime,  # noqa: F811
    deliveries: list[list[str]],
) -> None:
    """confirmed 11-03, failed 11-06, charged_back 11-20, chargeback_cancelled 12-01: nothing
    stands. The cash the cancellation gave back is the 11-03 collection's, which the 11-06
    failure is of: the failure, delivered last, takes it back (it is no failure of an earlier
    collection than the cancellation)."""
    deliver_all(rt, deliveries)
    assert sum(amounts(rt)) == 0, amounts(rt)
    late = events_by_name(rt)[LATE]
    assert late.note is None or EARLIER not in late.note, late.note
    replay(rt, deliveries)
    assert sum(amounts(rt)) == 0
