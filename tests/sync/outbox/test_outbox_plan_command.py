"""`arsync outbox plan`: cash applied while no system was configured to write to gets its
writes planned once a person asks, with the keys the planner would have given them at
decision time; planning again plans nothing, and `push` writes them once."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlmodel import Session, col
from typer.testing import CliRunner

from canonical.enums import CommandStatus
from canonical.lease import lease
from canonical.models import Customer, Invoice, OutboxCommand, Remittance
from canonical.money import Money
from canonical.store import Store
from connectors.invoiced import InvoicedSandbox
from connectors.sandbox.world import World
from reconciler.apply import FlushedBatch
from reconciler.engine import RECONCILE_LEASE
from reconciler.report import build_report, render_html
from reconciler.rules import DEFAULT_RULES
from sync.cli import LEASE_HELD_EXIT, app
from sync.outbox.plan import OutboxPlanner, command_key
from sync.runtime import Runtime
from tests.reconciler.test_reverse import returned
from tests.support.receivables import decision
from tests.sync.outbox.books import Book, link_sandbox_invoice

pytestmark = pytest.mark.timeout(180)
QBO = ("quickbooks",)
QBO_SF = ("quickbooks", "salesforce")
QUICKBOOKS = '[quickbooks]\nrealm_id = "1"\n'
SALESFORCE = '[salesforce]\nclient_id = "x"\n'


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    for name in ("ARSYNC_CONFIG", "ARSYNC_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return f"sqlite:///{tmp_path}/a.db"


def _config(tmp_path: Path, db: str, sections: str = "", name: str = "arsync.toml") -> str:
    path = tmp_path / name
    path.write_text(f'database_url = "{db}"\n{sections}')
    return str(path)


def _cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), terminal_width=300)


def _ok(*args: str) -> Any:
    answer = _cli(*args)
    assert answer.exit_code == 0, answer.output
    return answer


def _outbox(store: Store) -> list[OutboxCommand]:
    with store.session() as s:
        rows = list(
            s.execute(
                select(OutboxCommand).order_by(
                    col(OutboxCommand.system), col(OutboxCommand.operation)
                )
            ).scalars()
        )
        for row in rows:
            s.expunge(row)
        return rows


def _shape(row: OutboxCommand | dict[str, Any]) -> tuple[Any, ...]:
    """What a command writes, and with which key (its lines in the order written)."""
    values = row if isinstance(row, dict) else row.model_dump()
    payload = dict(values["payload"])
    return (
        values["system"],
        values["operation"],
        values["canonical_type"],
        values["canonical_id"],
        values["idempotency_key"],
        repr(sorted(payload.items())),
        str(values["status"]),
    )


class Capture:
    """The runtime's planner, keeping each batch of decisions it was given."""

    def __init__(self, planner: OutboxPlanner, batches: list[FlushedBatch]) -> None:
        self.planner, self.batches = planner, batches

    def __call__(self, session: Session, batch: FlushedBatch) -> None:
        self.batches.append(copy.deepcopy(batch))
        self.planner(session, batch)


@pytest.fixture
def batches(monkeypatch: pytest.MonkeyPatch) -> list[FlushedBatch]:
    seen: list[FlushedBatch] = []
    planner = Runtime.planner.fget  # type: ignore[attr-defined]
    monkeypatch.setattr(
        Runtime, "planner", property(lambda runtime: Capture(planner(runtime), seen))
    )
    return seen


def _would_have_planned(store: Store, systems: list[str], batch: FlushedBatch) -> list[Any]:
    """The rows reconcile's planner plans for ``batch`` with ``systems`` configured, read back
    and rolled back."""
    with Session(store.engine) as s:
        OutboxPlanner("default", systems)(s, batch)
        rows = [dict(r._mapping) for r in s.execute(select(OutboxCommand.__table__))]  # type: ignore[attr-defined]
        s.rollback()
    return sorted(_shape(row) for row in rows)


def test_applied_with_no_system_then_configured_plans_what_reconcile_would_have(
    tmp_path: Path, db: str, batches: list[FlushedBatch]
) -> None:
    """Acme (in QuickBooks and Salesforce) pays INV-1001 while the config names no system;
    both are configured later."""
    store = Store.open(db)
    book = Book(store)
    acme = book.customer("Acme Corp", QBO_SF)
    invoice = book.invoice(acme, "INV-1001", "100.00", QBO_SF)
    book.invoice(acme, "INV-1002", "40.00", QBO_SF)
    rem = book.remittance("Acme Corp", "100.00", "INV-1001")
    decided = _ok("reconcile", "-c", _config(tmp_path, db))
    assert "nothing will be written until a system is configured" in decided.stderr
    assert "`arsync outbox plan --all`" in decided.stderr
    applied = decision(store, rem)
    assert applied.status == "auto_applied" and _outbox(store) == []
    [batch] = batches
    config = _config(tmp_path, db, QUICKBOOKS + SALESFORCE, "later.toml")

    dry = _ok("outbox", "plan", applied.id, "--dry-run", "-c", config)
    assert _outbox(store) == []  # the dry run wrote nothing
    assert (
        f"decision {applied.id} (remittance {rem}, 100.00 USD applied): would plan "
        "quickbooks apply_cash; salesforce invoice_state, account_summary"
    ) in dry.stdout
    assert "dry run: 3 writes for 1 decision would be planned; nothing written" in dry.stdout

    expected = _would_have_planned(store, ["quickbooks", "salesforce"], batch)
    assert len(expected) == 3
    planned = _ok("outbox", "plan", applied.id, "-c", config)
    assert "3 writes planned for 1 decision: `arsync push` sends them" in planned.stdout
    rows = _outbox(store)
    assert sorted(_shape(r) for r in rows) == expected
    cash = next(r for r in rows if r.operation == "apply_cash")
    assert cash.idempotency_key == command_key(
        "default", "quickbooks", "apply_cash", rem, applied.id
    )
    assert cash.payload["amount_minor"] == 10000 and cash.payload["currency"] == "USD"
    assert cash.payload["lines"] == [{"invoice_id": invoice, "amount_minor": 10000}]
    assert {r.status for r in rows} == {CommandStatus.PENDING}

    again = _cli("outbox", "plan", applied.id, "-c", config)
    assert again.exit_code == 1, again.output
    assert (
        f"decision {applied.id}: its writes are planned already in quickbooks, salesforce: "
        "nothing more to plan"
    ) in " ".join(again.stderr.split())
    assert sorted(_shape(r) for r in _outbox(store)) == expected  # nothing more
    report = build_report(store)
    assert report["outbox"]["not_planned"] == 0
    store.dispose()


def test_a_system_added_later_gets_the_decisions_writes_the_others_had(
    tmp_path: Path, db: str
) -> None:
    """Planned for QuickBooks at decision time; Salesforce configured later gets its state
    writes, QuickBooks nothing more; --all leaves it (it was planned somewhere)."""
    store = Store.open(db)
    book = Book(store)
    acme = book.customer("Acme Corp", QBO_SF)
    invoice = book.invoice(acme, "INV-1001", "100.00", QBO_SF)
    rem = book.remittance("Acme Corp", "100.00", "INV-1001")
    _ok("reconcile", "-c", _config(tmp_path, db, QUICKBOOKS))
    applied = decision(store, rem)
    [before] = _outbox(store)
    assert (before.system, before.operation) == ("quickbooks", "apply_cash")
    config = _config(tmp_path, db, QUICKBOOKS + SALESFORCE, "later.toml")

    nothing = _ok("outbox", "plan", "--all", "-c", config)
    assert "no applied decision is waiting for its writes to be planned" in nothing.stdout
    planned = _ok("outbox", "plan", applied.id, "-c", config)
    assert (
        "planned salesforce invoice_state, account_summary; planned before in quickbooks "
        "(nothing more there)"
    ) in planned.stdout
    rows = _outbox(store)
    assert [(r.system, r.operation) for r in rows] == [
        ("quickbooks", "apply_cash"),
        ("salesforce", "account_summary"),
        ("salesforce", "invoice_state"),
    ]
    keys = {(r.system, r.operation): r.idempotency_key for r in rows}
    assert keys[("salesforce", "invoice_state")] == command_key(
        "default", "salesforce", "invoice_state", invoice, applied.id
    )
    assert keys[("salesforce", "account_summary")] == command_key(
        "default", "salesforce", "account_summary", acme, applied.id
    )
    assert rows[0].idempotency_key == before.idempotency_key
    store.dispose()


def test_all_plans_every_decision_counted_as_not_planned(tmp_path: Path, db: str) -> None:
    """Two payments applied with no config: Acme's customer is in QuickBooks, Beta's only in
    Invoiced; QuickBooks alone is configured later."""
    store = Store.open(db)
    book = Book(store)
    acme = book.customer("Acme Corp", QBO)
    book.invoice(acme, "INV-1001", "100.00", QBO)
    beta = book.customer("Beta Tools", ("invoiced",))
    book.invoice(beta, "INV-2001", "250.00", ("invoiced",))
    paid_acme = book.remittance("Acme Corp", "100.00", "INV-1001")
    paid_beta = book.remittance("Beta Tools", "250.00", "INV-2001")
    _ok("reconcile", "-c", _config(tmp_path, db))
    acme_decision, beta_decision = decision(store, paid_acme), decision(store, paid_beta)
    assert build_report(store)["outbox"]["not_planned"] == 2
    config = _config(tmp_path, db, QUICKBOOKS, "later.toml")

    dry = _ok("outbox", "plan", "--all", "--dry-run", "-c", config)
    assert f"decision {acme_decision.id} (remittance {paid_acme}" in dry.stdout
    assert _outbox(store) == []
    planned = _ok("outbox", "plan", "--all", "-c", config)
    assert (
        f"decision {acme_decision.id} (remittance {paid_acme}, 100.00 USD applied): planned "
        "quickbooks apply_cash"
    ) in planned.stdout
    said = " ".join(planned.stderr.split())
    assert (
        f"not planned: decision {beta_decision.id}: its customer is in none of the systems "
        "written to (quickbooks)"
    ) in said
    [row] = _outbox(store)
    assert (row.system, row.operation, row.decision_id) == (
        "quickbooks",
        "apply_cash",
        acme_decision.id,
    )
    report = build_report(store)
    assert report["outbox"]["not_planned_decisions"] == [beta_decision.id]
    html = render_html(report)
    writes = html[html.index("<h2>Writes to the systems</h2>") : html.index("<h2>Drift")]
    assert "<code>arsync outbox plan --all</code>" in writes
    assert "now or later" not in writes
    again = _ok("outbox", "plan", "--all", "-c", config)  # Beta's is still not planned
    assert [r.id for r in _outbox(store)] == [row.id]
    assert "nothing planned" in again.stdout
    store.dispose()


def test_decisions_that_have_no_writes_to_plan_are_refused_by_name(tmp_path: Path, db: str) -> None:
    store = Store.open(db)
    book = Book(store)
    acme = book.customer("Acme Corp", QBO)
    book.invoice(acme, "INV-1001", "100.00", QBO)
    book.invoice(acme, "INV-1002", "40.00", QBO)
    book.invoice(acme, "INV-1003", "75.00", QBO)
    undone_rem = book.remittance("Acme Corp", "100.00", "INV-1001")
    kept_rem = book.remittance("Acme Corp", "40.00", "INV-1002")
    nothing = _config(tmp_path, db)
    _ok("reconcile", "-c", nothing)
    undone = decision(store, undone_rem)
    kept = decision(store, kept_rem)
    _ok("resolve", undone.id, "--by", "person:ana", "--undo", "wrong invoice", "-c", nothing)
    undo = decision(store, undone_rem)  # the person's exception that replaced it
    rules = Path(tmp_path / "rules.toml")
    rules.write_text(DEFAULT_RULES.read_text().replace("auto = true", "auto = false"))
    suggested_rem = book.remittance("Acme Corp", "75.00", "INV-1003")
    _ok("reconcile", "-c", nothing, "--rules", str(rules))
    suggested = decision(store, suggested_rem)
    assert suggested.status == "suggested"
    config = _config(tmp_path, db, QUICKBOOKS, "later.toml")

    for named, why in (
        ("nope", "decision nope: no such decision"),
        (suggested.id, f"decision {suggested.id}: it is suggested, not applied cash"),
        (undo.id, f"decision {undo.id}: it is exception, not applied cash"),
        (undone.id, f"decision {undone.id}: it is superseded (undone, reversed or decided"),
    ):
        answer = _cli("outbox", "plan", named, "-c", config)
        assert answer.exit_code == 1, answer.output
        said = answer.stderr.strip()
        assert "\n" not in said and why in said, said
        assert _outbox(store) == []

    # a decision that can be planned still is, beside one that cannot
    mixed = _cli("outbox", "plan", "nope", kept.id, "-c", config)
    assert mixed.exit_code == 1
    assert "decision nope: no such decision" in mixed.stderr
    assert f"decision {kept.id} (remittance {kept_rem}, 40.00 USD applied): planned" in (
        mixed.stdout
    )
    [row] = _outbox(store)
    assert (row.decision_id, row.operation) == (kept.id, "apply_cash")

    none_given = _cli("outbox", "plan", "-c", config)
    assert none_given.exit_code == 2 and "or say --all" in none_given.stderr
    both = _cli("outbox", "plan", kept.id, "--all", "-c", config)
    assert both.exit_code == 2 and "--all takes no decision id" in both.stderr
    unconfigured = _cli("outbox", "plan", "--all", "-c", nothing)
    assert unconfigured.exit_code == 2
    assert "config error: no system is configured to write to" in unconfigured.stderr
    store.dispose()


def test_a_plan_waits_for_a_reconcile_under_way(tmp_path: Path, db: str) -> None:
    store = Store.open(db)
    book = Book(store)
    acme = book.customer("Acme Corp", QBO)
    book.invoice(acme, "INV-1001", "100.00", QBO)
    rem = book.remittance("Acme Corp", "100.00", "INV-1001")
    _ok("reconcile", "-c", _config(tmp_path, db))
    config = _config(tmp_path, db, QUICKBOOKS, "later.toml")
    with lease(store, "default", RECONCILE_LEASE):
        held = _cli("outbox", "plan", decision(store, rem).id, "-c", config)
    assert held.exit_code == LEASE_HELD_EXIT, held.output
    assert "outbox plan not run: another reconcile is running" in held.stderr
    assert _outbox(store) == []
    store.dispose()


@pytest.fixture
def sandbox() -> Iterator[InvoicedSandbox]:
    server = InvoicedSandbox(world=World.generate(seed=3, customers=10, invoices=80))
    server.start()
    yield server
    server.stop()


def test_planned_later_is_pushed_to_invoiced_once(
    tmp_path: Path, db: str, sandbox: InvoicedSandbox
) -> None:
    """A payment of an open Invoiced invoice is applied while no system is configured; Invoiced
    is configured, the decision planned, pushed, planned and pushed again: one payment."""
    store = Store.open(db)
    invoice = next(
        record
        for record in (sandbox.record("invoices", i) for i in sandbox.remote_ids("invoices"))
        if not record["voided"] and record["balance"] >= Decimal("20")
    )
    currency = invoice["currency"].upper()
    _, invoice_id = link_sandbox_invoice(store, invoice, "Plan Later Co")
    with store.session() as s:
        rem = Remittance(
            source="camt.054",
            source_key="late-1",
            currency=currency,
            amount_minor=Money(invoice["balance"], currency).minor,
            value_date=date(2026, 11, 2),
            payer_name="Plan Later Co",
            free_text=str(invoice["number"]),
            bank_reference="BANK-LATE-1",
        )
        s.add(rem)
    _ok("reconcile", "-c", _config(tmp_path, db))
    applied = decision(store, rem.id)
    assert applied.status == "auto_applied", applied.evidence
    key = sandbox.config().api_key.get_secret_value()
    config = _config(
        tmp_path,
        db,
        f'[invoiced]\napi_key = "{key}"\nbase_url = "{sandbox.base_url}"\n',
        "later.toml",
    )
    _ok("outbox", "plan", "--all", "--dry-run", "-c", config)
    assert _outbox(store) == []
    _ok("outbox", "plan", "--all", "-c", config)
    [row] = _outbox(store)
    assert (row.system, row.operation, row.idempotency_key) == (
        "invoiced",
        "apply_cash",
        command_key("default", "invoiced", "apply_cash", rem.id, applied.id),
    )
    assert _cli("outbox", "plan", applied.id, "-c", config).exit_code == 1

    pushed = _ok("push", "-c", config)
    assert "invoiced" in pushed.stdout
    assert sandbox.payments_created == 1
    [row] = _outbox(store)
    assert row.status == CommandStatus.CONFIRMED, row.last_error
    after = sandbox.record("invoices", str(invoice["id"]))
    assert after["balance"] == 0
    # planned again and pushed again: nothing more is written
    _ok("outbox", "plan", "--all", "-c", config)
    _ok("push", "-c", config)
    assert sandbox.payments_created == 1 and len(_outbox(store)) == 1
    with store.session() as s:
        canonical = s.get(Invoice, invoice_id)
        assert canonical is not None and canonical.balance_minor == 0
        assert s.get(Customer, applied.customer_id) is not None
    store.dispose()


# after review: cash the bank took back is never planned, a payment written before is voided
# where it landed even when undone where nothing is written, lines in reconcile's order
INVOICED = '[invoiced]\napi_key = "k"\n'


def test_cash_the_bank_took_back_is_not_planned(tmp_path: Path, db: str) -> None:
    store = Store.open(db)
    book = Book(store)
    acme = book.customer("Acme Corp", QBO_SF)
    book.invoice(acme, "INV-1001", "100.00", QBO_SF)
    cash = book.remittance("Acme Corp", "100.00", "INV-1001")
    nowhere = _config(tmp_path, db)
    _ok("reconcile", "-c", nowhere)
    applied = decision(store, cash)
    taken = returned(store, cash, "100.00")
    _ok("reconcile", "-c", nowhere)
    back = decision(store, taken)
    assert back.exception_kind == "returned_payment"
    assert build_report(store)["outbox"]["not_planned_decisions"] == [applied.id]

    later = _config(tmp_path, db, QUICKBOOKS + SALESFORCE, "later.toml")
    named = _cli("outbox", "plan", applied.id, "-c", later)
    assert named.exit_code == 1
    assert f"decision {applied.id}: the cash it applied was taken back" in named.stderr
    assert f"arsync resolve {back.id} --by person:NAME --reverse" in named.stderr
    everything = _cli("outbox", "plan", "--all", "-c", later)
    assert everything.exit_code == 0 and "taken back" in everything.stderr
    assert _outbox(store) == []


def test_an_undo_where_nothing_is_written_still_voids_the_payment_written_before(
    tmp_path: Path, db: str
) -> None:
    store = Store.open(db)
    book = Book(store)
    acme = book.customer("Acme Corp", ("quickbooks",))
    book.invoice(acme, "INV-1001", "100.00", ("quickbooks",))
    cash = book.remittance("Acme Corp", "100.00", "INV-1001")
    nowhere = _config(tmp_path, db)
    _ok("reconcile", "-c", nowhere)
    applied = decision(store, cash)
    _ok("outbox", "plan", applied.id, "-c", _config(tmp_path, db, QUICKBOOKS, "later.toml"))
    with store.session() as s:  # pushed and confirmed in QuickBooks
        s.execute(
            update(OutboxCommand)
            .where(col(OutboxCommand.decision_id) == applied.id)
            .values(status=CommandStatus.CONFIRMED, remote_id="qb-pay-9")
        )
    undone = _cli("resolve", applied.id, "--by", "person:ana", "--undo", "wrong", "-c", nowhere)
    assert undone.exit_code == 0, undone.output
    assert "voided there once that system is written to again" in undone.stderr
    voids = [c for c in _outbox(store) if c.operation == "void_cash"]
    assert [(c.system, c.status, c.payload["remote_id"]) for c in voids] == [
        ("quickbooks", CommandStatus.PENDING, "qb-pay-9")
    ]
    refused = _cli("outbox", "cancel", voids[0].id, "-c", nowhere)
    assert refused.exit_code != 0
    assert "void_cash in quickbooks) cannot be cancelled" in refused.output + refused.stderr
    assert [c.status for c in _outbox(store) if c.operation == "void_cash"] == [
        CommandStatus.PENDING
    ]


def _written(store: Store) -> list[tuple[str, str, str, str, object]]:
    with store.session() as s:
        rows = s.execute(select(OutboxCommand)).scalars().all()
        return sorted(
            (r.system, r.operation, r.canonical_id, r.idempotency_key, r.payload) for r in rows
        )


def test_lines_planned_late_are_in_the_order_reconcile_writes_them(
    tmp_path: Path, db: str, batches: list[FlushedBatch]
) -> None:
    store = Store.open(db)
    book = Book(store)
    systems = ("quickbooks", "invoiced", "salesforce")
    acme = book.customer("Acme Corp", systems)
    for n in range(1, 9):
        book.invoice(acme, f"INV-10{n:02d}", "100.00", systems)
    book.credit(acme, "CM-9", "30.00", systems)
    text = " ".join(f"INV-10{n:02d}" for n in range(1, 9)) + " less CM-9"
    cash = book.remittance("Acme Corp", "770.00", text)
    _ok("reconcile", "-c", _config(tmp_path, db))
    applied = decision(store, cash)
    assert applied.status == "auto_applied"
    [batch] = batches
    with Session(store.engine) as s:
        OutboxPlanner("default", list(systems))(s, batch)
        rows = s.execute(select(OutboxCommand)).scalars().all()
        expected = sorted(
            (r.system, r.operation, r.canonical_id, r.idempotency_key, r.payload) for r in rows
        )
        s.rollback()
    assert any(len(p.get("lines") or []) == 8 for *_, p in expected)
    later = _config(tmp_path, db, QUICKBOOKS + INVOICED + SALESFORCE, "later.toml")
    _ok("outbox", "plan", applied.id, "-c", later)
    assert _written(store) == expected
