"""A person takes back an applied decision that put cash on the wrong invoices (a person's
confirmation, or a rule's automatic application): the applications are reversed, the invoices
open again, the writes are cancelled or voided in every system, and the remittance waits for a
person's decision again."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from sqlmodel import col

from canonical.enums import ApplicationStatus, CommandStatus
from canonical.models import Application, Decision, OutboxCommand, PayerAlias, Remittance
from canonical.store import Store
from canonical.types import utcnow
from reconciler import reconcile
from reconciler.confirm import ConfirmError, confirm
from reconciler.report import build_report
from reconciler.reverse import reverse, undo
from sync.outbox.adapter import REVERSED_BY
from sync.outbox.plan import OutboxPlanner
from tests.reconciler.test_reverse import ALL, commands, confirm_sent, returned
from tests.support.receivables import balance, decision
from tests.sync.outbox.books import Book

PAYMENT_SYSTEMS = {"quickbooks", "invoiced", "intacct"}


def planner() -> OutboxPlanner:
    return OutboxPlanner("default", list(ALL))


@pytest.fixture
def auto(store: Store) -> dict[str, str]:
    """Acme's payment named INV-1001 and the rules applied it there; it was for INV-1002."""
    book = Book(store)
    acme = book.customer("Acme Corp", ALL)
    i1 = book.invoice(acme, "INV-1001", "100.00", ALL)
    i2 = book.invoice(acme, "INV-1002", "100.00", ALL)
    cash = book.remittance("Acme Corp", "100.00", "INV-1001")
    reconcile(store, sink=planner())
    assert decision(store, cash).status == "auto_applied"
    assert balance(store, i1) == ("0.00", "paid")
    return {"acme": acme, "i1": i1, "i2": i2, "cash": cash}


@pytest.fixture
def confirmed(store: Store) -> dict[str, str]:
    """Acme paid 100.00 naming no invoice; a person confirmed INV-1001, the wrong one."""
    book = Book(store)
    acme = book.customer("Acme Corp", ALL)
    i1 = book.invoice(acme, "INV-1001", "100.00", ALL)
    i2 = book.invoice(acme, "INV-1002", "100.00", ALL)
    cash = book.remittance("Acme Corp", "100.00", "payment thank you")
    reconcile(store, sink=planner())
    asked = decision(store, cash)
    assert asked.status in ("suggested", "exception")
    made = confirm(store, asked.id, by="person:bo", invoice_numbers=["INV-1001"], sink=planner())
    assert balance(store, i1) == ("0.00", "paid")
    return {"acme": acme, "i1": i1, "i2": i2, "cash": cash, "asked": asked.id, "made": made.id}


def live_apply_cash(store: Store, cash: str) -> list[OutboxCommand]:
    """The apply_cash commands of the remittance still to be written or written."""
    return [
        c
        for c in commands(store, operation="apply_cash", canonical_id=cash)
        if c.status != CommandStatus.CANCELLED
    ]


def test_undoing_a_persons_confirmation_reopens_and_asks_again(
    store: Store, confirmed: dict[str, str]
) -> None:
    made = undo(
        store,
        confirmed["made"],
        by="person:ana",
        reason="the customer meant INV-1002",
        sink=planner(),
    )
    assert (made.status, made.exception_kind, made.decided_by) == (
        "exception",
        "decision_undone",
        "person:ana",
    )
    assert made.evidence["reason"] == "the customer meant INV-1002"
    assert made.evidence["undone"] == confirmed["made"]
    assert made.evidence["undone_by"] == "person:bo"
    assert [(a["invoice"], a["amount"]) for a in made.evidence["applications_reversed"]] == [
        ("INV-1001", "100.00")
    ]
    assert (made.source_id, made.applied_minor, made.unapplied_minor) == (
        confirmed["cash"],
        0,
        10000,
    )
    assert balance(store, confirmed["i1"]) == ("100.00", "open")
    assert balance(store, confirmed["i2"]) == ("100.00", "open")
    with store.session() as s:
        assert s.get(Decision, confirmed["made"]).superseded  # type: ignore[union-attr]
        assert s.get(Remittance, confirmed["cash"]).status == "exception"  # type: ignore[union-attr]
        statuses = {a.status for a in s.execute(select(Application)).scalars()}
        assert statuses == {ApplicationStatus.REVERSED}
    assert decision(store, confirmed["cash"]).id == made.id
    # nothing was sent yet: each system's write is cancelled, nothing to void
    assert live_apply_cash(store, confirmed["cash"]) == []
    assert commands(store, operation="void_cash") == []


def test_the_report_shows_the_undone_cash_as_an_exception_again(
    store: Store, confirmed: dict[str, str]
) -> None:
    made = undo(store, confirmed["made"], by="person:ana", reason="wrong", sink=planner())
    [row] = build_report(store)["exceptions"]["decision_undone"]
    assert row["decision_id"] == made.id and row["decided_by"] == "person:ana"
    assert row["applications"] == [] and row["unapplied"]["amount"] == "100.00"
    assert row["candidates"], "the person deciding again sees the candidates"
    assert row["resolve"].startswith(f"arsync resolve {made.id} --by person:NAME")


def test_the_wrong_invoice_is_not_offered_again_as_the_top_candidate(
    store: Store, confirmed: dict[str, str]
) -> None:
    made = undo(store, confirmed["made"], by="person:ana", reason="wrong", sink=planner())
    for candidate in made.candidates:
        assert {i["id"] for i in candidate.get("invoices", [])} != {confirmed["i1"]}


def test_undoing_an_auto_decision_whose_writes_were_sent_queues_voids(
    store: Store, auto: dict[str, str]
) -> None:
    applied = decision(store, auto["cash"])
    confirm_sent(store, "quickbooks", "77")
    confirm_sent(store, "invoiced", "3000004")
    made = undo(store, auto["cash"], by="person:ana", reason="paid INV-1002", sink=planner())
    assert made.evidence["undone"] == applied.id
    assert made.evidence["undone_by"] == "reconciler"
    assert made.evidence["undone_rule"] == applied.rule
    assert balance(store, auto["i1"]) == ("100.00", "open")
    [intacct] = commands(store, system="intacct", operation="apply_cash")
    assert intacct.status == CommandStatus.CANCELLED
    voids = {c.system: c for c in commands(store, operation="void_cash")}
    assert set(voids) == {"quickbooks", "invoiced"}
    assert all(
        v.status == CommandStatus.PENDING and v.decision_id == made.id for v in voids.values()
    )
    assert voids["quickbooks"].payload["remote_id"] == "77"
    assert voids["invoiced"].payload["remote_id"] == "3000004"
    crm = sorted(
        (c.operation, c.canonical_id)
        for c in commands(store, system="salesforce")
        if c.decision_id == made.id
    )
    assert crm == sorted([("invoice_state", auto["i1"]), ("account_summary", auto["acme"])])


def test_undoing_before_the_writes_were_sent_cancels_them(
    store: Store, auto: dict[str, str]
) -> None:
    before = live_apply_cash(store, auto["cash"])
    assert {c.system for c in before} == PAYMENT_SYSTEMS
    made = undo(store, auto["cash"], by="person:ana", reason="paid INV-1002", sink=planner())
    assert live_apply_cash(store, auto["cash"]) == []
    for c in commands(store, operation="apply_cash"):
        assert made.id in (c.last_error or "")
    assert commands(store, operation="void_cash") == []


def test_a_write_in_flight_is_only_looked_for_after_the_undo(
    store: Store, auto: dict[str, str]
) -> None:
    [lost] = commands(store, system="intacct", operation="apply_cash")
    with store.session() as s:
        s.execute(
            update(OutboxCommand)
            .where(col(OutboxCommand.id) == lost.id)
            .values(status=CommandStatus.SENT, attempts=1, sent_at=utcnow())
        )
    with pytest.raises(ConfirmError, match=rf"remittance {auto['cash']}: .*run `arsync push`"):
        undo(store, auto["cash"], by="person:ana", reason="wrong")  # no outbox: push first
    assert balance(store, auto["i1"]) == ("0.00", "paid")
    made = undo(store, auto["cash"], by="person:ana", reason="wrong", sink=planner())
    [after] = commands(store, id=lost.id)
    assert after.status == CommandStatus.SENT and after.result[REVERSED_BY] == made.id
    [void] = commands(store, system="intacct", operation="void_cash")
    assert void.payload["original_command"] == lost.id


def test_a_second_undo_is_refused_and_plans_nothing_more(
    store: Store, auto: dict[str, str]
) -> None:
    applied = decision(store, auto["cash"])
    made = undo(store, applied.id, by="person:ana", reason="wrong", sink=planner())
    before = len(commands(store))
    for ref in (applied.id, auto["cash"], made.id):
        with pytest.raises(ConfirmError) as refused:
            undo(store, ref, by="person:ana", reason="wrong", sink=planner())
        message = str(refused.value)
        assert f"remittance {auto['cash']}" in message and "\n" not in message
        assert f"already undone by person:ana (decision {made.id})" in message
    assert len(commands(store)) == before
    assert balance(store, auto["i1"]) == ("100.00", "open")
    assert decision(store, auto["cash"]).id == made.id


def test_resolving_again_with_the_right_invoice_writes_once(
    store: Store, auto: dict[str, str]
) -> None:
    confirm_sent(store, "quickbooks", "77")
    made = undo(store, auto["cash"], by="person:ana", reason="paid INV-1002", sink=planner())
    right = confirm(store, made.id, by="person:ana", invoice_numbers=["INV-1002"], sink=planner())
    assert right.status == "auto_applied" and right.evidence["replaces"] == made.id
    assert balance(store, auto["i1"]) == ("100.00", "open")
    assert balance(store, auto["i2"]) == ("0.00", "paid")
    live = [c for c in live_apply_cash(store, auto["cash"]) if c.status != CommandStatus.CONFIRMED]
    assert sorted(c.system for c in live) == sorted(PAYMENT_SYSTEMS)
    assert all(c.decision_id == right.id for c in live)
    assert all(
        c.payload["lines"] == [{"invoice_id": auto["i2"], "amount_minor": 10000}] for c in live
    )
    [void] = commands(store, operation="void_cash")  # the one payment written is voided once
    assert void.system == "quickbooks"
    # a replay of either command changes nothing
    with pytest.raises(ConfirmError):
        confirm(store, made.id, by="person:ana", invoice_numbers=["INV-1002"], sink=planner())
    with pytest.raises(ConfirmError, match="already undone"):
        undo(store, made.id, by="person:ana", reason="again", sink=planner())
    assert len(live_apply_cash(store, auto["cash"])) == len(live) + 1  # + the confirmed QBO one
    assert balance(store, auto["i2"]) == ("0.00", "paid")
    # and the right application can itself be undone
    again = undo(store, auto["cash"], by="person:ana", reason="no, INV-1001", sink=planner())
    assert again.evidence["undone"] == right.id
    assert balance(store, auto["i2"]) == ("100.00", "open")


def test_a_payer_learned_from_the_wrong_decision_is_forgotten(
    store: Store, confirmed: dict[str, str]
) -> None:
    with store.session() as s:
        learned = list(
            s.execute(
                select(PayerAlias).where(col(PayerAlias.learned_from) == confirmed["made"])
            ).scalars()
        )
    assert learned, "the confirmation taught the payer's name"
    made = undo(store, confirmed["made"], by="person:ana", reason="wrong", sink=planner())
    with store.session() as s:
        left = s.execute(
            select(PayerAlias).where(col(PayerAlias.learned_from) == confirmed["made"])
        ).first()
    assert left is None
    assert made.evidence["payer_forgotten"]


def test_refusals_name_the_remittance_and_why(store: Store, auto: dict[str, str]) -> None:
    book = Book(store)
    odd = book.remittance("Nobody Known Ltd", "12.34", "thanks")
    reconcile(store, sink=planner())
    waiting = decision(store, odd)
    with pytest.raises(ConfirmError, match=rf"remittance {odd}: no applied decision to undo"):
        undo(store, waiting.id, by="person:ana", reason="wrong")
    with pytest.raises(ConfirmError, match="say who undoes as person:NAME"):
        undo(store, auto["cash"], by="reconciler", reason="wrong")
    with pytest.raises(ConfirmError, match="say why"):
        undo(store, auto["cash"], by="person:ana", reason="  ")
    with pytest.raises(ConfirmError, match="no decision or remittance 'nope'"):
        undo(store, "nope", by="person:ana", reason="wrong")
    assert decision(store, auto["cash"]).status == "auto_applied"


def test_a_returned_payment_is_refused_pointing_at_reverse(
    store: Store, auto: dict[str, str]
) -> None:
    back = returned(store, auto["cash"], "100.00")
    reconcile(store, sink=planner())
    exception = decision(store, back)
    with pytest.raises(ConfirmError) as refused:
        undo(store, back, by="person:ana", reason="wrong")
    assert str(refused.value).startswith(f"remittance {back} is a returned payment")
    assert f"arsync resolve {exception.id} --by person:NAME --reverse" in str(refused.value)
    # the payment it takes back: its return waits for --reverse, not --undo
    with pytest.raises(ConfirmError, match=rf"remittance {auto['cash']} was taken back"):
        undo(store, auto["cash"], by="person:ana", reason="wrong")
    reverse(store, exception.id, by="person:ana", sink=planner())
    with pytest.raises(ConfirmError, match=rf"remittance {auto['cash']} .*reversed"):
        undo(store, auto["cash"], by="person:ana", reason="wrong")
