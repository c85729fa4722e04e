"""A person undoes a payment the bank took back: arsync's applications are reversed, the
invoices open again, and the writes to the other systems are cancelled or voided."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, update
from sqlmodel import col

from canonical.enums import ApplicationStatus, CommandStatus
from canonical.models import Application, Decision, OutboxCommand, Remittance
from canonical.money import Money
from canonical.store import Store
from canonical.types import utcnow
from reconciler import reconcile
from reconciler.confirm import ConfirmError
from reconciler.report import build_report
from reconciler.reverse import reverse
from sync.outbox.plan import OutboxPlanner, command_key
from sync.outbox.worker import push
from tests.support.receivables import balance, decision
from tests.sync.outbox.books import Book
from tests.sync.outbox.test_worker import Scripted

ALL = ("quickbooks", "invoiced", "salesforce", "intacct")


def returned(store: Store, original: str, amount: str) -> str:
    """The bank takes back the payment ``original`` (a remittance id, or a name nobody has)."""
    with store.session() as s:
        cash = s.get(Remittance, original)
        name = cash.source_key if cash is not None else original
        r = Remittance(
            source="nacha",
            source_key=f"ret-{original}",
            currency="USD",
            amount_minor=-Money(amount, "USD").minor,
            value_date=date(2026, 11, 9),
            payer_name="Acme Corp",
            free_text="R01 insufficient funds",
            reverses=name,
        )
        s.add(r)
    return r.id


def commands(store: Store, **where: str) -> list[OutboxCommand]:
    with store.session() as s:
        query = select(OutboxCommand).order_by(col(OutboxCommand.created_at))
        for name, value in where.items():
            query = query.where(getattr(OutboxCommand, name) == value)
        return list(s.execute(query).scalars())


def confirm_sent(store: Store, system: str, remote_id: str) -> None:
    """The push wrote the payment to ``system``: its command is confirmed with the id."""
    with store.session() as s:
        s.execute(
            update(OutboxCommand)
            .where(col(OutboxCommand.system) == system)
            .values(status=CommandStatus.CONFIRMED, remote_id=remote_id)
        )


@pytest.fixture
def paid(store: Store) -> dict[str, str]:
    """Acme paid INV-1001 and INV-1002 in full; then the bank took the payment back."""
    book = Book(store)
    acme = book.customer("Acme Corp", ALL)
    i1 = book.invoice(acme, "INV-1001", "100.00", ALL)
    i2 = book.invoice(acme, "INV-1002", "50.00", ALL)
    cash = book.remittance("Acme Corp", "150.00", "INV-1001 INV-1002")
    planner = OutboxPlanner("default", list(ALL))
    reconcile(store, sink=planner)
    assert balance(store, i1) == ("0.00", "paid")
    confirm_sent(store, "quickbooks", "77")
    confirm_sent(store, "invoiced", "3000004")
    back = returned(store, cash, "150.00")
    reconcile(store, sink=planner)
    return {"acme": acme, "i1": i1, "i2": i2, "cash": cash, "back": back}


def test_reversing_reopens_the_invoices_and_supersedes_the_exception(
    store: Store, paid: dict[str, str]
) -> None:
    exception = decision(store, paid["back"])
    original = decision(store, paid["cash"])
    made = reverse(
        store,
        exception.id,
        by="person:ana",
        sink=OutboxPlanner("default", list(ALL)),
    )
    assert (made.status, made.rule, made.decided_by) == (
        "reversed",
        "reverse_payment",
        "person:ana",
    )
    assert made.evidence["replaces"] == exception.id
    assert made.evidence["reverses_decision"] == original.id
    assert made.evidence["original_remittance"] == paid["cash"]
    assert made.evidence["original_rule"] == original.rule
    assert sorted((a["invoice"], a["amount"]) for a in made.evidence["applications_reversed"]) == [
        ("INV-1001", "100.00"),
        ("INV-1002", "50.00"),
    ]
    assert balance(store, paid["i1"]) == ("100.00", "open")
    assert balance(store, paid["i2"]) == ("50.00", "open")
    with store.session() as s:
        assert s.get(Decision, exception.id).superseded  # type: ignore[union-attr]
        statuses = {a.status for a in s.execute(select(Application)).scalars()}
        assert statuses == {ApplicationStatus.REVERSED}
        assert {s.get(Remittance, r).status for r in (paid["cash"], paid["back"])} == {  # type: ignore[union-attr]
            "reversed"
        }
    assert decision(store, paid["back"]).id == made.id
    # the open book sees the invoices again: a new payment of them is applied
    Book(store).remittance("Acme Corp", "100.00", "INV-1001")
    reconcile(store)
    assert balance(store, paid["i1"]) == ("0.00", "paid")


def test_writes_never_sent_are_cancelled_and_sent_ones_voided(
    store: Store, paid: dict[str, str]
) -> None:
    exception = decision(store, paid["back"])
    reverse(store, exception.id, by="person:ana", sink=OutboxPlanner("default", list(ALL)))
    [intacct] = commands(store, system="intacct", operation="apply_cash")
    assert intacct.status == CommandStatus.CANCELLED and "reversed" in (intacct.last_error or "")
    voids = {c.system: c for c in commands(store, operation="void_cash")}
    assert set(voids) == {"quickbooks", "invoiced"}
    [original] = commands(store, system="quickbooks", operation="apply_cash")
    qbo = voids["quickbooks"]
    assert qbo.status == CommandStatus.PENDING
    assert qbo.payload["remote_id"] == "77" and qbo.payload["original_command"] == original.id
    assert sorted(line["amount_minor"] for line in qbo.payload["lines"]) == [5000, 10000]
    assert qbo.idempotency_key == command_key(
        "default", "quickbooks", "void_cash", original.canonical_id, original.id
    )
    assert voids["invoiced"].payload["remote_id"] == "3000004"
    crm = sorted(
        (c.operation, c.canonical_id)
        for c in commands(store, system="salesforce")
        if c.decision_id == qbo.decision_id
    )
    assert crm == sorted(
        [
            ("invoice_state", paid["i1"]),
            ("invoice_state", paid["i2"]),
            ("account_summary", paid["acme"]),
        ]
    )


def test_reversing_twice_is_refused_and_plans_nothing_more(
    store: Store, paid: dict[str, str]
) -> None:
    exception = decision(store, paid["back"])
    planner = OutboxPlanner("default", list(ALL))
    reverse(store, exception.id, by="person:ana", sink=planner)
    before = len(commands(store))
    with pytest.raises(ConfirmError, match=f"decision {exception.id} is not an open reversal"):
        reverse(store, exception.id, by="person:ana", sink=planner)
    assert len(commands(store)) == before
    assert balance(store, paid["i1"]) == ("100.00", "open")


def test_a_decision_that_is_not_a_reversal_is_refused(store: Store, paid: dict[str, str]) -> None:
    applied = decision(store, paid["cash"])
    with pytest.raises(ConfirmError, match="not an open reversal exception"):
        reverse(store, applied.id, by="person:ana")
    with pytest.raises(ConfirmError, match="no decision"):
        reverse(store, "nope", by="person:ana")


def test_a_reversal_of_an_unknown_payment_is_refused(store: Store) -> None:
    back = returned(store, "never-seen", "20.00")
    reconcile(store)
    exception = decision(store, back)
    with pytest.raises(ConfirmError, match=f"decision {exception.id}: the payment .* not found"):
        reverse(store, exception.id, by="person:ana")


def test_a_payment_taken_back_before_it_was_applied_paid_nothing(store: Store) -> None:
    book = Book(store)
    acme = book.customer("Acme Corp", ALL)
    book.invoice(acme, "INV-1001", "100.00", ALL)
    cash = book.remittance("Acme Corp", "100.00", "INV-1001")
    returned(store, cash, "100.00")
    reconcile(store)  # both in one batch: the cash is never applied
    [back] = [r for r in _remittances(store) if r.amount_minor < 0]
    exception = decision(store, back.id)
    with pytest.raises(ConfirmError, match=r"applied nothing|paid nothing"):
        reverse(store, exception.id, by="person:ana")


def test_without_an_outbox_a_payment_whose_write_is_in_flight_waits_for_the_push(
    store: Store, paid: dict[str, str]
) -> None:
    """With no outbox sink nothing would mark the write to be only looked for: it could be
    sent again after the reversal, so the reversal waits for the push."""
    with store.session() as s:
        s.execute(
            update(OutboxCommand)
            .where(col(OutboxCommand.system) == "intacct")
            .values(status=CommandStatus.SENT)
        )
    exception = decision(store, paid["back"])
    with pytest.raises(ConfirmError, match="answer is not known yet: run `arsync push`"):
        reverse(store, exception.id, by="person:ana")
    assert balance(store, paid["i1"]) == ("0.00", "paid")  # nothing changed


def test_the_report_says_how_to_undo_a_reversal(store: Store, paid: dict[str, str]) -> None:
    exception = decision(store, paid["back"])
    [row] = build_report(store)["exceptions"]["returned_payment"]
    assert row["resolve"] == f"arsync resolve {exception.id} --by person:NAME --reverse"
    reverse(store, exception.id, by="person:ana")
    report = build_report(store)
    assert report["exceptions"]["returned_payment"] == []
    rows = {r["id"]: r for r in report["remittances"]}
    assert rows[paid["cash"]]["status"] == "reversed"
    assert rows[paid["cash"]]["applications"] == []


def _remittances(store: Store) -> list[Remittance]:
    with store.session() as s:
        return list(s.execute(select(Remittance)).scalars())


@pytest.mark.parametrize("landed", [True, False], ids=["it-had-landed", "it-never-landed"])
def test_a_payment_whose_write_is_in_flight_is_reversed_and_its_write_only_looked_for(
    store: Store, paid: dict[str, str], landed: bool
) -> None:
    """Intacct's payment was sent and its reply lost. The reversal goes ahead: the write is
    never sent again, and its void waits for the lookup, which decides whether there is a
    payment to void (it landed) or nothing at all (it did not): never cash applied twice in
    Intacct, nor left there while arsync shows the invoices open."""
    [lost] = commands(store, system="intacct", operation="apply_cash")
    with store.session() as s:
        s.execute(
            update(OutboxCommand)
            .where(col(OutboxCommand.id) == lost.id)
            .values(status=CommandStatus.SENT, attempts=1, sent_at=utcnow())
        )
    exception = decision(store, paid["back"])
    reverse(store, exception.id, by="person:ana", sink=OutboxPlanner("default", list(ALL)))
    assert balance(store, paid["i1"]) == ("100.00", "open")
    [waiting] = commands(store, system="intacct", operation="void_cash")
    assert waiting.payload["original_command"] == lost.id and waiting.payload["remote_id"] is None
    assert commands(store, id=lost.id)[0].status == CommandStatus.SENT  # looked for, not cancelled

    intacct = Scripted()
    intacct.system = "intacct"
    if landed:
        intacct.remote[lost.idempotency_key] = "ARPYMT-9"
    for _ in range(2):  # a second push changes nothing
        push(store, {"intacct": intacct})
    assert intacct.lookups == 1
    assert lost.idempotency_key not in intacct.sent  # never sent again
    [original] = commands(store, id=lost.id)
    [void] = commands(store, system="intacct", operation="void_cash")
    if landed:
        assert (original.status, original.remote_id) == (CommandStatus.CONFIRMED, "ARPYMT-9")
        assert void.status == CommandStatus.CONFIRMED and intacct.voided == ["ARPYMT-9"]
    else:
        assert original.status == void.status == CommandStatus.CANCELLED
        assert intacct.sent == [] and intacct.voided == []
    assert balance(store, paid["i1"]) == ("100.00", "open")
    assert balance(store, paid["i2"]) == ("50.00", "open")
