"""What a controller walking through month-end reads from `arsync push` and `arsync resolve`:
a dry run counts a write the system would refuse as the real push does (a conflict is not
called dead), commands left for a system no longer written to are said and make push exit 1
(its dry run too), and the line of cash a person applied names whose invoices they are."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col
from typer.testing import CliRunner

from canonical.enums import CommandStatus
from canonical.models import OutboxCommand
from canonical.store import Store
from connectors.errors import UncertainWriteError
from reconciler import reconcile
from sync.cli import app
from sync.outbox.worker import push
from tests.support.receivables import Book as Receivables
from tests.support.receivables import applied, decision
from tests.sync.outbox.books import Book, apply_cash_command
from tests.sync.outbox.test_worker import Scripted, add, reverse

INVOICED = ("invoiced",)
# a section the push can build a connector from; no command here reaches the network
INVOICED_SECTION = '[invoiced]\napi_key = "test-key"\nbase_url = "http://127.0.0.1:9"\n'


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    for name in ("ARSYNC_CONFIG", "ARSYNC_DATABASE_URL", "ARSYNC_INVOICED__API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return f"sqlite:///{tmp_path}/a.db"


def _config(tmp_path: Path, db: str, sections: str = "", name: str = "arsync.toml") -> str:
    path = tmp_path / name
    path.write_text(f'database_url = "{db}"\n{sections}')
    return str(path)


def _arsync(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), terminal_width=300)


def _said(answer: Any) -> list[str]:
    """Its stderr lines, less the warning about the test config's inline secret."""
    lines = answer.stderr.strip().splitlines()
    return [line for line in lines if not line.startswith("config warning:")]


def _row(answer: Any, system: str) -> dict[str, int]:
    """The push table's row of ``system``, by column."""
    lines = answer.stdout.splitlines()
    header = next(line for line in lines if "│ system" in line or "┃ system" in line)
    columns = [c.strip() for c in header.strip("┃│ ").split("┃")]
    row = next(line for line in lines if line.startswith(f"│ {system} "))
    values = [v.strip() for v in row.strip("│ ").split("│")]
    return {c: int(v) for c, v in zip(columns[1:], values[1:], strict=True)}


def _apply_cash(store: Store, customer: str, invoice: str, key: str) -> str:
    with store.session() as s:
        command = apply_cash_command(
            customer, invoice, "USD", key=key, remittance_id=f"r-{key}", decision_id=f"d-{key}"
        )
        s.add(command)
    return command.id


def _status(store: Store, command_id: str) -> str:
    with store.session() as s:
        row = s.get(OutboxCommand, command_id)
        assert row is not None
        return str(row.status)


def test_dry_run_counts_a_refused_write_as_the_push_parks_it(tmp_path: Path, db: str) -> None:
    """INV-1001 was paid in Invoiced since the last pull (its balance there is 0.00): the
    apply_cash of 10.00 is a conflict for a person to check, in the dry run as in the push;
    INV-1002 has no record in Invoiced: its write is dead in both."""
    store = Store.open(db)
    book = Book(store)
    acme = book.customer("Acme Corp", INVOICED)
    paid = book.invoice(acme, "INV-1001", "100.00", INVOICED, balance_minor="0", status="paid")
    unknown = book.invoice(acme, "INV-1002", "40.00", ())
    conflict = _apply_cash(store, acme, paid, "k1")
    dead = _apply_cash(store, acme, unknown, "k2")
    config = _config(tmp_path, db, INVOICED_SECTION)

    dry = _arsync("push", "--dry-run", "-c", config)
    assert dry.exit_code == 0, dry.output
    assert _row(dry, "invoiced") == {
        "planned": 0,
        "landed unseen": 0,
        "failed": 0,
        "dead": 1,
        "conflicts": 1,
        "waiting": 0,
        "requests": 0,
    }
    out = dry.stdout
    assert (
        f"x apply_cash [{conflict}]: would be a conflict for a person to check: invoice "
        "INV-1001 (in-2) owes 0.00 in invoiced, the decision applies 10.00"
    ) in out
    assert (
        f"x apply_cash [{dead}]: would be dead (cannot be written as decided): invoice "
        f"{unknown} has no record in invoiced"
    ) in out
    assert _status(store, conflict) == _status(store, dead) == CommandStatus.PENDING

    real = _arsync("push", "-c", config)
    assert real.exit_code == 1, real.output
    assert _row(real, "invoiced") == {
        "confirmed": 0,
        "landed unseen": 0,
        "failed": 0,
        "dead": 1,
        "conflicts": 1,
        "waiting": 0,
        "requests": 0,
    }
    assert _status(store, conflict) == CommandStatus.CONFLICT
    assert _status(store, dead) == CommandStatus.DEAD
    store.dispose()


def test_push_says_commands_wait_for_a_system_no_longer_written_to(tmp_path: Path, db: str) -> None:
    """An apply_cash for Invoiced retried (`outbox retry`) after [invoiced] was taken out of
    the config: push and its dry run say so and exit 1 until it is cancelled."""
    store = Store.open(db)
    book = Book(store)
    acme = book.customer("Acme Corp", INVOICED)
    inv = book.invoice(acme, "INV-1001", "100.00", INVOICED)
    command = _apply_cash(store, acme, inv, "k1")
    second = _apply_cash(store, acme, inv, "k2")
    config = _config(tmp_path, db)
    line = (
        "push: 2 commands for invoiced wait: invoiced is not configured to write to "
        "(configure it and push; `arsync outbox --system invoiced` lists them, and `arsync "
        "outbox cancel ID` drops one that should not be written, a void never)"
    )
    for args in (("push",), ("push", "--dry-run")):
        answer = _arsync(*args, "-c", config)
        assert answer.exit_code == 1, (args, answer.output)
        assert _said(answer) == [line], args
    assert _status(store, command) == CommandStatus.PENDING

    # configured, but left out of [push] systems: the same
    left_out = _config(
        tmp_path, db, '[push]\nsystems = ["quickbooks"]\n' + INVOICED_SECTION, "left_out.toml"
    )
    answer = _arsync("push", "-c", left_out)
    assert answer.exit_code == 1, answer.output
    assert _said(answer) == [line]

    for cancelled in (command, second):
        assert _arsync("outbox", "cancel", cancelled, "-c", config).exit_code == 0
    for args in (("push",), ("push", "--dry-run")):
        answer = _arsync(*args, "-c", config)
        assert answer.exit_code == 0, (args, answer.output)
        assert _said(answer) == []
    with store.session() as s:
        statuses = s.execute(select(col(OutboxCommand.status))).scalars().all()
    assert sorted(statuses) == [CommandStatus.CANCELLED, CommandStatus.CANCELLED]
    store.dispose()


def test_the_resolve_line_names_whose_invoice_the_cash_went_on(tmp_path: Path, db: str) -> None:
    """Wonka pays 450.00 naming no invoice; the person types --invoice 4001, Slugworth's
    invoice (Wonka's is 3001): the line says whose it is."""
    store = Store.open(db)
    book = Receivables(store)
    wonka = book.customer("Wonka Industries")
    slugworth = book.customer("Slugworth Confectionery")
    book.invoice(wonka, "3001", "500.00")
    book.invoice(slugworth, "4001", "450.00")
    book.invoice(slugworth, "4002", "100.00")
    cash = book.pay("450.00", payer="WONKA INDUSTRIES")
    reconcile(store)
    open_one = decision(store, cash)
    assert open_one.status != "auto_applied"
    config = _config(tmp_path, db)

    answer = _arsync(
        "resolve", open_one.id, "--by", "person:ana", "--invoice", "4001", "-c", config
    )
    assert answer.exit_code == 0, answer.output
    made = decision(store, cash)
    assert applied(store, cash) == {"4001": "450.00"}
    assert answer.stdout.strip().splitlines() == [
        f"applied by person:ana: decision {made.id} applies 450.00 USD of remittance {cash} "
        "(450.00 USD) to invoice 4001 of Slugworth Confectionery; 0.00 USD left unapplied"
    ]
    store.dispose()


def test_the_resolve_line_names_the_customer_of_several_invoices(tmp_path: Path, db: str) -> None:
    """1300.00 over Wonka's 3001 (500.00) and 3002 (700.00): 100.00 left."""
    store = Store.open(db)
    book = Receivables(store)
    wonka = book.customer("Wonka Industries")
    book.invoice(wonka, "3001", "500.00")
    book.invoice(wonka, "3002", "700.00")
    cash = book.pay("1300.00", payer="WONKA INDUSTRIES")
    reconcile(store)
    open_one = decision(store, cash)
    config = _config(tmp_path, db)
    answer = _arsync(
        "resolve",
        open_one.id,
        "--by",
        "person:ana",
        "--invoice",
        "3001",
        "--invoice",
        "3002",
        "-c",
        config,
    )
    assert answer.exit_code == 0, answer.output
    made = decision(store, cash)
    assert answer.stdout.strip().splitlines() == [
        f"applied by person:ana: decision {made.id} applies 1200.00 USD of remittance {cash} "
        "(1300.00 USD) to invoices of Wonka Industries: 3001 (500.00 USD), 3002 (700.00 USD); "
        "100.00 USD left unapplied"
    ]
    store.dispose()


def test_dry_run_counts_a_void_waiting_for_its_payment_as_waiting(store: Store) -> None:
    """The payment's reply was lost, then the bank took the cash back: the dry run shows the
    payment only looked for (in no column) and its void waiting, as the push leaves it, and
    neither as dead."""
    book = Book(store)
    acme = book.customer("Acme Corp", ("quickbooks",))
    inv = book.invoice(acme, "INV-1", "100.00", ("quickbooks",))
    add(store, acme, inv, "k1")
    adapter = Scripted()
    adapter.script["k1"] = [UncertainWriteError("quickbooks", "timeout after sending")]
    push(store, {"quickbooks": adapter})
    reverse(store, acme, inv, "d-k1")
    result = push(store, {"quickbooks": adapter}, dry_run=True).systems["quickbooks"]
    assert [c.operation for c, _ in result.refused] == ["apply_cash", "void_cash"]
    assert (result.waiting, result.dead, result.conflicts) == (1, 0, 0)
